"""A built index opened for queries: unit columns, bit masks, text and token offsets, read lazily.

Nothing here loads a whole array. A one-unit query reads one column (2 bytes a token), a pattern
search one bit mask (H/8 bytes a token), text and offsets come a chunk at a time through a small
cache, and `values(q)` hands the whole (N, U_q) array to dask.array for reductions over every unit.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from . import shards, store
from .settings import QUANTITIES, Geometry
from .source import file_sha256

CACHED_CHUNKS = 16


@dataclass(frozen=True)
class UnitRef:
    """One unit of one recorded quantity: the address of every unit query."""

    quantity: str  # i, f, g, o, c or h
    layer: int
    direction: int
    unit: int

    def to_json(self) -> dict:
        return dict(self.__dict__)


class CorpusIndex:
    """Open with `CorpusIndex.open(path)`; raises ModelError for anything that is not a complete index."""

    def __init__(self, path: Path, group, manifest: store.Manifest) -> None:
        self.path, self.group, self.manifest = path, group, manifest
        self.geometry = Geometry(manifest.corpus["tokens"], manifest.settings, manifest.model["causal"])
        self._chunks: OrderedDict[tuple[str, int], NDArray] = OrderedDict()
        self._arrays: dict[str, object] = {}  # zarr reads an array's metadata from disk on every lookup
        self._lock = threading.Lock()  # a server asks from several threads; the caches are plain dicts

    @classmethod
    def open(cls, path: str | os.PathLike) -> CorpusIndex:
        path = Path(path)
        if not (path / "zarr.json").is_file():
            raise ModelError(f"{path} is not a gatescope index (no zarr.json); build one with "
                             "`python -m app index MODEL CORPUS --out DIR`")
        group = store.open_group(path, "r")
        m = store.read_manifest(group)
        if m is None:
            raise ModelError(f"{path} is a zarr store but not a gatescope index (no manifest)")
        if m.stage != "complete":
            raise ModelError(f"the index at {path} is not finished (stage {m.stage!r}); rerun the same "
                             "`python -m app index` command to complete it")
        return cls(path, group, m)

    @property
    def num_tokens(self) -> int:
        return self.geometry.tokens

    @property
    def num_chars(self) -> int:
        return self.manifest.corpus["chars"]

    def column(self, ref: UnitRef) -> int:
        """The column of values/q that holds `ref`; a ModelError names what is out of range."""
        m = self.manifest.model
        if ref.quantity not in self.manifest.settings.quantities:
            have = ", ".join(self.manifest.settings.quantities)
            raise ModelError(f"this index records {have}, not {ref.quantity!r}"
                             + ("" if ref.quantity in QUANTITIES else " (not a quantity)"),
                             "core.index_quantity", have=have, q=repr(ref.quantity))
        H = self.manifest.per_direction(ref.quantity)
        for name, v, n in (("layer", ref.layer, m["layers"]), ("direction", ref.direction, m["directions"]),
                           ("unit", ref.unit, H)):
            if not isinstance(v, (int, np.integer)) or not 0 <= v < n:
                raise ModelError(f"{name} must be between 0 and {n - 1}, got {v!r}", f"core.index_{name}",
                                 last=n - 1, value=repr(v))
        return (ref.layer * m["directions"] + ref.direction) * H + ref.unit

    def unit_values(self, ref: UnitRef) -> NDArray:
        """(N,) float32: the unit's stored value at every token."""
        col = self.column(ref)
        fast = shards.read_column(self.path / "values" / ref.quantity, col)
        stored = self.array(f"values/{ref.quantity}")[:, col] if fast is None else fast
        return stored.astype(np.float32)

    def block(self, q: str, start: int, end: int) -> NDArray:
        """(end - start, U_q) float16: every unit of q over tokens [start, end)."""
        return self.array(f"values/{q}")[start:end]

    def values(self, q: str):
        """The whole (N, U_q) float16 array of q as a lazy dask array (chunked as stored)."""
        import dask.array as da

        return da.from_zarr(self.array(f"values/{q}"))

    def mask(self, q: str, layer: int, direction: int, k: int) -> NDArray:
        """(N, W) uint64: row t's bits are the units of (layer, direction) with q >= thresholds[k]."""
        g = layer * self.manifest.model["directions"] + direction
        return np.ascontiguousarray(self.array(f"masks/{q}")[k, g]).view(np.uint64)

    def stats(self, q: str) -> NDArray:
        """(2, U_q) int64: how many tokens each unit spends below and above SATURATION[q]."""
        return self.array(f"stats/{q}")[:].sum(axis=0)

    def spans(self, start: int, end: int) -> NDArray:
        """(end - start, 2) int64: [first, last) code points of tokens [start, end) in the corpus."""
        return self._slice("spans", start, end)

    def ids(self, start: int, end: int) -> NDArray:
        return self._slice("ids", start, end)

    def text(self, start: int, end: int) -> str:
        """The corpus text between code points start and end."""
        return self._slice("text", start, end).astype("<u4").tobytes().decode("utf-32-le")

    def array(self, name: str):
        """The zarr array `name` of the index (values/h, masks/c, text...), looked up once."""
        with self._lock:
            if name not in self._arrays:
                self._arrays[name] = self.group[name]
            return self._arrays[name]

    def check_model(self, model_path: str | os.PathLike) -> None:
        """ModelError unless the model file at `model_path` is the one this index was built by."""
        sha = file_sha256(model_path)
        m = self.manifest.model
        if sha != m["sha256"]:
            raise ModelError(f"this index was built by {m['id']} (sha256 {m['sha256'][:12]}...), not by "
                             f"{Path(model_path).name} (sha256 {sha[:12]}...): its values would not match; "
                             "build an index with this model")

    def _slice(self, name: str, start: int, end: int) -> NDArray:
        """Rows [start, end) of a token or text array, through an LRU cache of decoded chunks."""
        arr = self.array(name)
        size = arr.chunks[0]
        parts = [self._chunk(name, k)[max(start - k * size, 0) : end - k * size]
                 for k in range(start // size, (max(end, start + 1) - 1) // size + 1)]
        return np.concatenate(parts) if parts else arr[start:end]

    def _chunk(self, name: str, k: int) -> NDArray:
        key = (name, k)
        with self._lock:
            if key in self._chunks:
                self._chunks.move_to_end(key)
                return self._chunks[key]
        arr = self.array(name)
        data = arr[k * arr.chunks[0] : (k + 1) * arr.chunks[0]]
        with self._lock:
            self._chunks[key] = data
            if len(self._chunks) > CACHED_CHUNKS:
                self._chunks.popitem(last=False)
        return data
