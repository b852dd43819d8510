"""An index on disk: one zarr v3 group (a directory) and the manifest in its attributes.

    zarr.json            group; attributes["gatescope_index"] is the manifest (Manifest.to_json)
    text      (C,)       uint32 code points of the corpus
    ids       (N,)       int32 token ids (-1: unknown token and no <unk> in the vocabulary)
    spans     (N, 2)     int64 [start, end) of each token in the text, in code points
    values/q  (N, U_q)   float16, q in i f g o c h; column (l * D + d) * H_q + u is unit u of layer l,
                         direction d. Shards of (tokens_chunk, U_q), one per build task; inner chunks
                         of (tokens_chunk, units_chunk), so reading one unit decodes units_chunk columns.
    masks/q   (K, L*D, N, B) uint8: bit u of row t is "unit u >= thresholds[k]" (np.packbits order),
                         B = 8 * ceil(H_q / 64) so rows can be read as uint64 words
    stats/q   (tasks, 2, U_q) int64: per build task, values below and above SATURATION[q]
    progress/<k>.done    build task k is written (not a zarr node; zarr ignores it)

Inside a chunk the bytes are token-major (the order the tracer produces): a transpose to unit-major
cost 6-11 ns per value here, more than the trace itself. Units are still blocked, which is what
makes a one-unit query read 1/(U_q / units_chunk) of the data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from .settings import IndexSettings

MANIFEST_KEY = "gatescope_index"
FORMAT_VERSION = 1
TEXT_CHUNK = 1 << 18  # text, ids and offsets: small chunks, because queries read a few snippets at a time


@dataclass(frozen=True)
class Manifest:
    model: dict  # id, file, sha256, layers, directions, hidden_size, output_size, tokenizer, causal, dtype
    corpus: dict  # name, sha256, bytes, chars, tokens (CorpusInfo)
    settings: IndexSettings
    stage: str  # "tokens": text and tokens being written; "values": tasks running; "complete"
    created: dict  # when, gatescope and library versions, command
    format_version: int = FORMAT_VERSION

    def units(self, q: str) -> int:
        """U_q: columns of values/q."""
        m = self.model
        return m["layers"] * m["directions"] * self.per_direction(q)

    def per_direction(self, q: str) -> int:
        return self.model["output_size"] if q == "h" else self.model["hidden_size"]

    def mask_bytes(self, q: str) -> int:
        return 8 * -(-self.per_direction(q) // 64)

    def to_json(self) -> dict:
        return {"format_version": self.format_version, "model": self.model, "corpus": self.corpus,
                "settings": self.settings.to_json(), "stage": self.stage, "created": self.created,
                "contexts": contexts_note(self.settings, self.model["causal"])}

    @classmethod
    def from_json(cls, d: dict) -> Manifest:
        if d.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"this index has format version {d.get('format_version')}; this gatescope reads "
                             f"version {FORMAT_VERSION}: rebuild the index")
        return cls(d["model"], d["corpus"], IndexSettings.from_json(d["settings"]), d["stage"], d["created"])


def contexts_note(s: IndexSettings, causal: bool) -> dict:
    """The manifest's plain statement of what a stored value means (see settings.py)."""
    after = "" if causal else f" and ending {s.warmup} tokens after it"
    return {"kind": "independent windows", "window": s.window, "warmup": s.warmup,
            "lookahead": 0 if causal else s.warmup,
            "definition": f"the corpus is cut into windows of {s.window} tokens; each is traced from a zero state "
                          f"starting {s.warmup} tokens before it{after} (fewer at the text's ends); only the "
                          "window's own tokens are stored; state is not carried from one window to the next"}


def open_group(path: str | os.PathLike, mode: str = "r"):
    import zarr

    try:
        return zarr.open_group(str(path), mode=mode)
    except (FileNotFoundError, ValueError, KeyError) as e:
        raise ModelError(f"{path} is not a gatescope index ({type(e).__name__}); build one with "
                         "`python -m app index MODEL CORPUS --out DIR`") from None


def read_manifest(group) -> Manifest | None:
    raw = group.attrs.get(MANIFEST_KEY)
    return None if raw is None else Manifest.from_json(raw)


def write_manifest(group, manifest: Manifest) -> None:
    group.attrs[MANIFEST_KEY] = manifest.to_json()


def _blosc(typesize: int, shuffle: str):
    from zarr.codecs import BloscCodec

    return BloscCodec(cname="lz4", clevel=5, shuffle=shuffle, typesize=typesize)


def create_token_arrays(group) -> None:
    """Empty, growable text, ids and spans arrays (overwriting any half-written ones)."""
    for name, dtype, shape, chunks in (("text", "uint32", (0,), (TEXT_CHUNK,)), ("ids", "int32", (0,), (TEXT_CHUNK,)),
                                       ("spans", "int64", (0, 2), (TEXT_CHUNK // 2, 2))):
        group.create_array(name, shape=shape, dtype=dtype, chunks=chunks, compressors=[_blosc(4, "shuffle")],
                           overwrite=True)


def create_value_arrays(group, m: Manifest, tasks: int) -> None:
    """values/q, masks/q and stats/q for every quantity the settings record (kept if they exist)."""
    s, N = m.settings, m.corpus["tokens"]
    ld = m.model["layers"] * m.model["directions"]
    for q in s.quantities:
        U = m.units(q)
        if f"values/{q}" not in group:
            # A shard holds whole inner chunks, so its width is U rounded up to units_chunk (12 units in
            # chunks of 8 make a 16-wide shard, its last 4 columns outside the array).
            wide = -(-U // s.units_chunk) * s.units_chunk
            group.create_array(f"values/{q}", shape=(N, U), dtype="float16", chunks=(s.tokens_chunk, s.units_chunk),
                               shards=(s.tokens_chunk, wide), compressors=[_blosc(2, "bitshuffle")], fill_value=0)
        if f"stats/{q}" not in group:
            group.create_array(f"stats/{q}", shape=(tasks, 2, U), dtype="int64", chunks=(1, 2, U), fill_value=0)
    for q in s.mask_quantities:
        if f"masks/{q}" not in group:
            K, B = len(s.thresholds), m.mask_bytes(q)
            group.create_array(f"masks/{q}", shape=(K, ld, N, B), dtype="uint8", chunks=(1, 1, s.tokens_chunk, B),
                               shards=(K, ld, s.tokens_chunk, B), compressors=[_blosc(1, "noshuffle")], fill_value=0)


def marker(path: str | os.PathLike, k: int) -> Path:
    return Path(path) / "progress" / f"{k:07d}.done"


def mark_done(path: str | os.PathLike, k: int) -> None:
    p = marker(path, k)
    p.parent.mkdir(exist_ok=True)
    p.touch()


def done_tasks(path: str | os.PathLike, tasks: int) -> set[int]:
    return {k for k in range(tasks) if marker(path, k).exists()}
