"""The hostile-file corpus: files made to break a model server, written by code, never committed as binaries.

    python -m tests.hostile DIR        # writes every file into DIR and says what each one attacks

`corpus()` returns {file name: (bytes, what it attacks)}. Some are gatescope model files (dropped into the
model directory), some are uploads (PyTorch, Keras); the tests put every one in both places. Each is built
here byte by byte where a library would refuse to write it (lying zip headers, nesting 200,000 deep).
"""
from __future__ import annotations

import functools
import io
import json
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, save_model

XSS = ['<img src=x onerror="alert(1)">', "<script>alert(2)</script>", '"><svg onload=alert(3)>',
       "javascript:alert(4)", "{{7*7}}", "&lt;b&gt;", "</textarea><b id=injected>x</b>"]
_DT = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict | None = None) -> bytes:
    """A safetensors file written by hand (JSON with ASCII escapes, so lone surrogates survive as \\udXXX)."""
    entries, data, offset = {}, [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a).tobytes()
        entries[name] = {"dtype": _DT[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        data.append(b)
        offset += len(b)
    if metadata is not None:
        entries["__metadata__"] = metadata
    return _raw_safetensors(entries, b"".join(data))


def _raw_safetensors(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def tiny_model(vocab: tuple[str, ...] = tuple("abc "), meta: dict | None = None) -> Model:
    rng = np.random.default_rng(0)
    tok = Tokenizer("char" if all(len(t) == 1 for t in vocab) else "word", vocab)
    V = len(vocab)
    return Model(LSTM.random(LSTMConfig(V, 3, 1), seed=0), "onehot", tok, None,
                 rng.normal(size=(V, 3)).astype(np.float32), None, meta or {"name": "tiny"})


def overflowing() -> Model:
    """The tiny model with a decoder made so that after reading 'a', every logit is above float32's maximum."""
    m = tiny_model()
    h = m.run(m.encode("a").ids).output[0]  # (3,)
    W = np.tile(np.where(h >= 0, 3e38, -3e38).astype(np.float32), (len(m.tokenizer), 1))  # (V, 3)
    return Model(m.lstm, "onehot", m.tokenizer, None, W, np.full(len(m.tokenizer), 3e38, np.float32), m.meta)


def pytorch_lm_bytes() -> bytes:
    """A PyTorch-layout LSTM language model (embedding, rnn.*, fc.*) over the vocabulary "abc ", as safetensors
    written without torch: what POST /api/models/upload imports (with vocab ["a", "b", "c", " "])."""
    rng = np.random.default_rng(0)
    V, E, H = 4, 3, 4
    shapes = {"embedding.weight": (V, E), "rnn.weight_ih_l0": (4 * H, E), "rnn.weight_hh_l0": (4 * H, H),
              "rnn.bias_ih_l0": (4 * H,), "rnn.bias_hh_l0": (4 * H,), "fc.weight": (V, H), "fc.bias": (V,)}
    return safetensors_bytes({k: rng.normal(0, 0.5, shape).astype(np.float32) for k, shape in shapes.items()})


def gatescope_bytes(model: Model, **meta_changes) -> bytes:
    """A gatescope model file whose metadata JSON is changed after the fact (anything JSON can hold)."""
    with tempfile.TemporaryDirectory() as d:
        save_model(model, Path(d) / "m.safetensors")
        from safetensors.numpy import load_file

        from lstm_core.modelfile import read_header

        _, raw = read_header(Path(d) / "m.safetensors")
        tensors = load_file(str(Path(d) / "m.safetensors"))
    meta = {**json.loads(raw["gatescope"]), **meta_changes}
    return safetensors_bytes(tensors, {"gatescope": json.dumps(meta)})


def zip_bytes(members: list[tuple[str, bytes, int | None]]) -> bytes:
    """A zip written by hand: (name, deflated or stored data, declared size or None for the true size).

    A declared size differing from the data is what a zip bomb that lies about itself looks like."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, declared in members:
        method, payload, true_size, crc = 0, data, len(data), zlib.crc32(data)
        if isinstance(data, _Deflated):
            method, payload, true_size, crc = 8, data.stream, data.size, data.crc
        size = true_size if declared is None else declared
        off = out.tell()
        n = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload), size, len(n), 0))
        out.write(n + payload)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(payload),
                                  size, len(n), 0, 0, 0, 0, 0, off) + n)
    cd, at = central.getvalue(), out.tell()
    count = len(members)
    out.write(cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(cd), at, 0))
    return out.getvalue()


class _Deflated(bytes):
    """Raw deflate of `size` zero bytes, made a MiB at a time (never held expanded)."""

    @functools.cache  # noqa: B019 (a few instances, for the life of a test run)
    def __new__(cls, size: int):
        z, parts, crc, chunk = zlib.compressobj(9, zlib.DEFLATED, -15), [], 0, bytes(1 << 20)
        for k in range(0, size, len(chunk)):
            piece = chunk[: min(len(chunk), size - k)]
            crc = zlib.crc32(piece, crc)
            parts.append(z.compress(piece))
        parts.append(z.flush())
        obj = super().__new__(cls, b"")
        obj.stream, obj.size, obj.crc = b"".join(parts), size, crc
        return obj


BOMB_BYTES = 128 << 20  # what the lying members really expand to


def keras_lying_bomb() -> bytes:
    """Defect 16.2: a .keras whose headers say model.weights.h5 is 1,000 bytes; it inflates to 128 MiB."""
    config = json.dumps({"class_name": "Sequential", "config": {"layers": []}}).encode()
    return zip_bytes([("config.json", config, None), ("metadata.json", b'{"keras_version": "3.5.0"}', None),
                      ("model.weights.h5", _Deflated(BOMB_BYTES), 1000)])


def torch_lying_bomb() -> bytes | None:
    """The same lie inside a torch.save zip: one tensor's storage claims its true size, inflates to 128 MiB."""
    try:
        import torch
    except ImportError:
        return None
    buf = io.BytesIO()
    torch.save({"lstm.weight_ih_l0": torch.zeros(8, 2)}, buf)
    members = []
    with zipfile.ZipFile(buf) as z:
        for info in z.infolist():
            data = z.read(info)
            lie = info.filename.split("/")[-2:-1] == ["data"]
            members.append((info.filename, _Deflated(BOMB_BYTES) if lie else data, len(data) if lie else None))
    return zip_bytes(members)


def torch_as_safetensors() -> bytes | None:
    """Defect 16.10: a valid torch.save state dict that happens to be named *.safetensors."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save(torch.nn.LSTM(3, 4).state_dict(), buf)
    return buf.getvalue()


def corpus() -> dict[str, tuple[bytes, str]]:
    """Every hostile file: name -> (bytes, what it attacks)."""
    deep = 200_000
    files = {
        "deep-header.safetensors": (struct.pack("<Q", 2 * deep + 6) + b'{"a":' + b"[" * deep + b"]" * deep + b"}",
                                    "a safetensors header nested 200,000 deep (RecursionError at startup)"),
        "deep-metadata.safetensors": (safetensors_bytes({}, {"gatescope": "[" * deep + "]" * deep}),
                                      "gatescope metadata JSON nested 200,000 deep"),
        "meta-types.safetensors": (gatescope_bytes(tiny_model(), name=123, description=["a", "list"], card=7,
                                                   metrics="fast", provenance=[1, 2], verification="yes"),
                                   "metadata whose name, description and card are not strings"),
        "surrogates.safetensors": (gatescope_bytes(tiny_model(), name="bad \udfff name", card="# \udc00",
                                                   description="\ud83d half an emoji",
                                                   tokenizer={"kind": "char", "vocab": ["a", "\ud800", "c", " "]}),
                                   "lone surrogates in the vocabulary and the text fields (not encodable as UTF-8)"),
        "surrogate-text.safetensors": (gatescope_bytes(tiny_model(), name="bad \udfff name", card="# \udc00",
                                                       description="\ud83d half an emoji",
                                                       metrics={"loss\udc80": "\ud800"}),
                                       "lone surrogates in the name, description, card and metrics"),
        "rank65.safetensors": (_raw_safetensors({"rnn.weight_ih_l0": {"dtype": "F32", "shape": [1] * 65,
                                                                      "data_offsets": [0, 4]}}, bytes(4)),
                               "a tensor with 65 dimensions (NumPy allows 64)"),
        "overflow.safetensors": (gatescope_bytes(overflowing()), "a decoder whose logits overflow to infinity on 'a'"),
        "xss.safetensors": (gatescope_bytes(tiny_model(tuple(XSS)), name=XSS[0], description=XSS[1],
                                            card="# " + XSS[2] + "\n\n" + XSS[6]),
                            "HTML and script in the name, description, card and every vocabulary token"),
        "header-lies.safetensors": (struct.pack("<Q", 1 << 62) + b"{}", "a header length of 2^62 bytes"),
        "bomb-lies.keras": (keras_lying_bomb(), "a .keras member that claims 1,000 bytes and inflates to 128 MiB"),
    }
    for name, make, what in (("bomb-lies.pt", torch_lying_bomb, "a torch.save zip member that lies likewise"),
                             ("torch-zip.safetensors", torch_as_safetensors,
                              "a valid torch .pt named *.safetensors (must import)")):
        data = make()
        if data is not None:
            files[name] = (data, what)
    return files


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    out.mkdir(parents=True, exist_ok=True)
    for name, (data, what) in corpus().items():
        (out / name).write_bytes(data)
        print(f"{name:28} {len(data):>9,} bytes  {what}")
