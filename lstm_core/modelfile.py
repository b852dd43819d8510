"""gatescope's native model file: one `.safetensors` file, tensors plus JSON metadata.

Tensors: `lstm.<torch nn.LSTM name>`, optional `embedding.weight` (V, E), `decoder.weight` (K, D*H_out)
and `decoder.bias` (K,): the linear head, whatever it is. Metadata key `gatescope` holds JSON:
format_version, architecture (LSTM config, input kind, and `head`: {kind, labels, pool, activation},
see head.py; a file with decoder tensors and no `head` is a next-token decoder, as every file was before
heads had kinds), tokenizer (kind, vocab, unk, pad, bos, eos), and free-form name, description,
provenance, metrics, card (markdown). The header is checked by hand before safetensors reads anything, so a file that
lies about its sizes is refused without allocating what it claims.

Tensors may be stored as F16 to halve a large model's file (`save_model(..., float16=True)`); they are
read back as float32, the precision the core computes in, so a model's numbers depend only on the
stored values.
"""
from __future__ import annotations

import json
import os
import secrets
import struct
from pathlib import Path

import numpy as np

from .errors import ModelError
from .jsonsafe import loads
from .lstm import LSTM, LSTMConfig
from .model import Model
from .tokenizers import Tokenizer

FORMAT_VERSION = 1
MAX_HEADER = 64 * 1024 * 1024  # a vocabulary of a million words fits well inside this
MAX_RANK = 8  # dimensions of a tensor; NumPy stops at 64, an LSTM's weights have 1 or 2
_DTYPES = {"F16": 2, "F32": 4, "F64": 8}
# "units": what a model's units were found to do (hometown's place units: meta["units"]["place_units"]), which
# its lesson reads.
_META_KEYS = ("name", "description", "provenance", "metrics", "card", "verification", "units")


def save_model(model: Model, path: str | os.PathLike, float16: bool = False) -> None:
    """Write `model` to `path` atomically (a temporary `.<name>.<random>.tmp` beside it, then a rename); float16
    stores every tensor as F16 (half the bytes of float32; refused if a value does not fit)."""
    from safetensors.numpy import save_file

    tensors = {f"lstm.{k}": v for k, v in model.lstm.params.items()}
    for key, a in (("embedding.weight", model.embedding), ("decoder.weight", model.decoder_weight),
                   ("decoder.bias", model.decoder_bias)):
        if a is not None:
            tensors[key] = a
    if float16:
        big = [k for k, a in tensors.items() if np.abs(a).max(initial=0) > np.finfo(np.float16).max]
        if big:
            raise ModelError(f"{', '.join(big)} holds values beyond float16's range; save it as float32")
        tensors = {k: a.astype(np.float16) for k, a in tensors.items()}
    tensors = {k: np.ascontiguousarray(a) for k, a in tensors.items()}
    meta = {
        "format_version": FORMAT_VERSION,
        "architecture": {"lstm": model.lstm.config.to_json(), "input": model.input_kind,
                         "decoder": model.decoder_weight is not None, "head": _head_json(model)},
        "tokenizer": model.tokenizer.to_json() if model.tokenizer is not None else None,
        **{k: model.meta[k] for k in _META_KEYS if k in model.meta},
    }
    path = Path(path)
    # Unique, so that two writers of the same file never share (or rename away) each other's temporary file.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        save_file(tensors, str(tmp), metadata={"gatescope": json.dumps(meta, ensure_ascii=False)})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _head_json(model: Model) -> dict | None:
    h = model.head
    if h is None:
        return None
    return {"kind": h.kind, "labels": None if h.kind == "next_token" else list(h.labels), "pool": h.pool,
            "activation": h.activation}


def _head_fields(head, label: str) -> dict:
    """Model keyword arguments from architecture.head (absent or null: a next-token decoder)."""
    if head is None:
        return {}
    if not isinstance(head, dict) or not isinstance(head.get("kind"), str):
        raise ModelError(f"{label}: architecture.head must be an object with a 'kind'")
    labels = head.get("labels")
    if labels is not None and (not isinstance(labels, list) or not all(isinstance(s, str) for s in labels)):
        raise ModelError(f"{label}: the head's labels must be a list of strings")
    return {"head_kind": head["kind"], "labels": None if labels is None else tuple(labels),
            "pool": head.get("pool", "final"), "head_activation": head.get("activation", "softmax")}


def read_header(path: str | os.PathLike, dtypes: dict[str, int] = _DTYPES) -> tuple[dict, dict]:
    """Validate a safetensors header against the file size; return (tensor entries, metadata).

    `dtypes` maps the accepted safetensors dtype names to their item sizes (the native format: F16, F32, F64).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ModelError(f"{path.name} is too short to be a safetensors file ({size} bytes)")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER or n > size - 8:
                raise ModelError(f"{path.name}: the header claims {n} bytes but the file has {size - 8}; "
                                 "the file is truncated or not a safetensors file")
            raw = fh.read(n)
    except OSError as e:
        raise ModelError(f"cannot read {path.name}: {e.strerror}") from None
    header = loads(raw, f"{path.name}: the safetensors header")
    if not isinstance(header, dict):
        raise ModelError(f"{path.name}: the safetensors header must be a JSON object")
    meta = header.pop("__metadata__", None) or {}
    data_len = size - 8 - n
    for name, e in header.items():
        if not isinstance(e, dict) or not {"dtype", "shape", "data_offsets"} <= set(e):
            raise ModelError(f"{path.name}: tensor {name!r} has a malformed header entry")
        if not isinstance(e["dtype"], str) or e["dtype"] not in dtypes:
            names = list(dtypes)
            raise ModelError(f"{path.name}: tensor {name!r} is {e['dtype']}; expected "
                             f"{', '.join(names[:-1])} or {names[-1]}")
        shape, offsets = e["shape"], e["data_offsets"]
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise ModelError(f"{path.name}: tensor {name!r} has an invalid shape {str(shape)[:80]}")
        if len(shape) > MAX_RANK:
            raise ModelError(f"{path.name}: tensor {name!r} has {len(shape)} dimensions; model weights have at "
                             f"most {MAX_RANK}, so the file is not one gatescope can read")
        if not isinstance(offsets, list) or len(offsets) != 2:
            raise ModelError(f"{path.name}: tensor {name!r} has invalid data_offsets {offsets}; expected [start, end]")
        a, b = offsets
        want = int(np.prod(shape, dtype=object)) * dtypes[e["dtype"]]
        if not (isinstance(a, int) and isinstance(b, int) and 0 <= a <= b <= data_len and b - a == want):
            raise ModelError(f"{path.name}: tensor {name!r} claims {want} bytes at offsets {a}..{b} "
                             f"but the file holds {data_len} bytes of data; it is truncated or corrupt")
    return header, meta


def load_model(path: str | os.PathLike) -> Model:
    """Read and validate a native model file; raises ModelError with a reason for anything wrong."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    _, raw_meta = read_header(path)
    if not isinstance(raw_meta, dict) or not isinstance(raw_meta.get("gatescope"), str):
        raise ModelError(f"{path.name} is a safetensors file but not a gatescope model (no 'gatescope' metadata)")
    meta = loads(raw_meta["gatescope"], f"{path.name} is a safetensors file but not a gatescope model: its metadata")
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        version = meta.get("format_version") if isinstance(meta, dict) else None
        raise ModelError(f"{path.name}: unsupported gatescope format version {version!r}; expected {FORMAT_VERSION}")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelError(f"{path.name}: cannot read tensors ({e})") from None
    tensors = {k: v.astype(np.float32) if v.dtype == np.float16 else v for k, v in tensors.items()}
    return model_from_parts(tensors, meta, path.name)


def model_from_parts(tensors: dict, meta: dict, label: str = "model") -> Model:
    """Build a Model from the file's tensors and metadata, validating everything."""
    arch = meta.get("architecture")
    if not isinstance(arch, dict) or not isinstance(arch.get("lstm"), dict):
        raise ModelError(f"{label}: metadata has no architecture.lstm")
    try:
        cfg = LSTMConfig.from_json(arch["lstm"])
    except (TypeError, ValueError) as e:
        raise ModelError(f"{label}: invalid LSTM configuration ({e})") from None
    lstm_params = {k[5:]: v for k, v in tensors.items() if k.startswith("lstm.")}
    unknown = sorted(set(tensors) - {f"lstm.{k}" for k in lstm_params}
                     - {"embedding.weight", "decoder.weight", "decoder.bias"})
    if unknown:
        raise ModelError(f"{label}: unexpected tensors {', '.join(unknown[:5])}")
    lstm = LSTM(cfg, lstm_params)
    tok = Tokenizer.from_json(meta["tokenizer"]) if meta.get("tokenizer") is not None else None
    return Model(
        lstm=lstm,
        input_kind=arch.get("input", "onehot"),
        tokenizer=tok,
        embedding=tensors.get("embedding.weight"),
        decoder_weight=tensors.get("decoder.weight"),
        decoder_bias=tensors.get("decoder.bias"),
        meta={k: meta[k] for k in _META_KEYS if k in meta},
        **_head_fields(arch.get("head"), label),
    )
