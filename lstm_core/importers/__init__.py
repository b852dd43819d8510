"""Bring your own model: PyTorch state dicts, Keras files and ONNX graphs, verified on import.

`import_model(path)` sniffs the file's bytes (the extension is only a tie-breaker), hands it to
the reader for its format, attaches a vocabulary, runs the model in its framework and in gatescope
on a probe input (verify.py) and returns the `Model` with the verification record in its meta and
card. Every problem is a `ModelError` with a sentence; nothing is written anywhere.
"""
from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..model import Model
from ..tokenizers import Tokenizer
from . import heads
from .card import card as _card
from .parts import KerasOptions, Parts, check_size
from .vocab import check_length, from_tokens, id_tokenizer, parse_vocab, read_labels, read_vocab

__all__ = ["ImportResult", "KerasOptions", "import_model", "sniff"]

_HDF5 = b"\x89HDF\r\n\x1a\n"


@dataclass(frozen=True)
class ImportResult:
    model: Model
    verification: dict
    notes: tuple[str, ...] = ()  # what the importer left out or assumed, in sentences


def sniff(path: str | os.PathLike) -> str:
    """The file's format from its first bytes: safetensors, torch, keras, hdf5 or onnx."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(16)
    ext = path.suffix.lower()
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            raise ModelError(f"{path.name} starts like a zip archive but cannot be opened as one; "
                             "it is truncated or corrupt") from None
        if "config.json" in names and "model.weights.h5" in names:
            return "keras"
        if any(n.endswith("/data.pkl") or n == "data.pkl" for n in names):
            return "torch"
        raise ModelError(f"{path.name} is a zip archive but neither a .keras model nor a torch.save file")
    if head.startswith(_HDF5):
        return "hdf5"
    pickled = ext in (".pt", ".pth", ".bin", ".ckpt")
    if len(head) >= 9 and head[8:9] == b"{" and not pickled:
        return "safetensors"
    if head[:1] == b"\x80" or pickled:
        return "torch"  # a legacy torch.save pickle; only torch's weights-only loader will open it
    if ext == ".onnx" or head[:1] == b"\x08":  # protobuf field 1 (ir_version), varint
        return "onnx"
    raise ModelError(f"{path.name} is not a format gatescope imports: expected a PyTorch state dict "
                     "(.safetensors, .pt), a Keras model (.keras, .h5) or an ONNX graph (.onnx)", "core.unknown_format",
                     file=path.name)


def import_model(path: str | os.PathLike, *, vocab: str | os.PathLike | Tokenizer | list[str] | None = None,
                 tokenizer: str | None = None, mapping: dict[str, str] | None = None, name: str | None = None,
                 verify: bool = True, onnx_inputs: dict[str, np.ndarray | str | os.PathLike] | None = None,
                 keras: KerasOptions | None = None, labels: str | os.PathLike | list[str] | None = None,
                 head: str | None = None, pool: str | None = None) -> ImportResult:
    """Read `path`, attach the vocabulary, verify against the framework; raises ModelError.

    `onnx_inputs` gives values (arrays or .npy paths) for an ONNX graph's inputs that hold weights or
    initial states; `keras` overrides what a Keras weights-only file cannot say (activations, layers).
    `labels` names the head's outputs (a file, its JSON text, or a list); `head` ("next_token", "tagger",
    "classifier") and `pool` ("final", "last") say what the head is when the file cannot (heads.py).
    """
    path = Path(path)
    check_size(path)
    fmt = sniff(path)
    if mapping and fmt not in ("safetensors", "torch"):
        raise ModelError("--map applies to PyTorch state dicts; Keras and ONNX layers are found from the file itself")
    if onnx_inputs and fmt != "onnx":
        raise ModelError("--onnx-input applies to ONNX graphs only")
    if keras and keras.given() and fmt != "hdf5":
        raise ModelError("--activation, --recurrent-activation and --layers apply to Keras weights-only .h5 files, "
                         "whose layers and activations are not recorded in the file")
    source = {"file": path.name, "sha256": _sha256(path), "bytes": path.stat().st_size}
    parts = _read(path, fmt, mapping, source, _arrays(onnx_inputs), keras or KerasOptions())
    tok = _tokenizer(vocab, tokenizer)
    names = read_labels(labels) if labels is not None else None
    model, notes = _assemble(parts, tok, name or path.stem, {"kind": head, "labels": names, "pool": pool})
    if verify:
        from .verify import verify as run_verify

        record = run_verify(parts, model)
    else:
        record = {"verified": False, "framework": None, "reason": "verification was switched off"}
    meta = dict(model.meta, verification=record)
    meta["card"] = _card(meta, model, record, notes)
    model = replace(model, meta=meta)
    return ImportResult(model, record, tuple(notes))


def _arrays(values: dict | None) -> dict[str, np.ndarray]:
    """User-supplied graph input values: arrays as given, paths read with np.load (never unpickled)."""
    out = {}
    for key, v in (values or {}).items():
        if isinstance(v, (str, os.PathLike)):
            try:
                v = np.load(v, allow_pickle=False)
            except (OSError, ValueError) as e:
                raise ModelError(f"the value for graph input {key!r} ({Path(v).name}) is not a readable .npy "
                                 f"file ({type(e).__name__})") from None
        out[key] = np.asarray(v)
    return out


def _read(path: Path, fmt: str, mapping, source: dict, onnx_inputs: dict, keras_opts: KerasOptions) -> Parts:
    if fmt in ("safetensors", "torch"):
        from . import torch_state

        if fmt == "safetensors":
            tensors, meta = torch_state.read_safetensors(path)
            if "gatescope" in meta:
                raise ModelError(f"{path.name} is already a gatescope model: load it directly, no import needed")
        else:
            tensors = torch_state.read_pt(path)
        return torch_state.from_state_dict(tensors, mapping, {**source, "container": fmt})
    if fmt in ("keras", "hdf5"):
        from . import keras

        return keras.read(path, source, keras_opts)
    from . import onnx_import

    return onnx_import.read(path, source, onnx_inputs)


def _tokenizer(vocab, kind: str | None) -> Tokenizer | None:
    if kind not in (None, "char", "word"):
        raise ModelError(f"tokenizer must be 'char' or 'word', not {kind!r}")
    if vocab is None and kind is not None:
        raise ModelError("a tokenizer kind needs a vocabulary (--vocab) listing token k for row k of the model")
    if vocab is None or isinstance(vocab, Tokenizer):
        return vocab
    if isinstance(vocab, (list, tuple)):
        return from_tokens(list(vocab), kind)
    if isinstance(vocab, str) and not os.path.exists(vocab) and vocab.lstrip()[:1] == "[":
        return parse_vocab(vocab, kind)
    return read_vocab(vocab, kind)


def _assemble(parts: Parts, tok: Tokenizer | None, name: str, wanted: dict) -> tuple[Model, list[str]]:
    """Choose the input kind and the head from what the file holds and what the user said (`wanted`:
    kind, labels, pool), and check the vocabulary against them."""
    lstm, dt, notes = parts.lstm, parts.lstm.dtype, list(parts.notes)
    emb, dec_w, dec_b = parts.embedding, parts.decoder_weight, parts.decoder_bias
    if emb is not None:
        if tok is None:
            tok = id_tokenizer(emb.shape[0])
            notes.append(f"No vocabulary was given: tokens are the embedding's row numbers 0..{emb.shape[0] - 1}, "
                         "typed separated by spaces.")
        check_length(tok, emb.shape[0], "embedding")
        kind = "embedding"
    elif tok is not None:
        check_length(tok, lstm.config.input_size, "one-hot input (input_size)")
        kind = "onehot"
    else:
        kind = "vector"
        notes.append("No embedding and no vocabulary: the model is traced on vectors (CSV or .npy).")
    choice, head_notes = heads.choose(None if dec_w is None else dec_w.shape[0], tok, hint=parts.head_hint,
                                      **wanted)
    notes += head_notes
    if parts.ignored:
        notes.append(f"Not used by gatescope: {', '.join(parts.ignored[:12])}"
                     + (f" and {len(parts.ignored) - 12} more." if len(parts.ignored) > 12 else "."))

    def cast(a):
        return None if a is None else a.astype(dt)

    meta = {"name": name, "description": f"Imported from {parts.source.get('file', 'a file')} "
            f"({parts.source.get('framework', parts.fmt)}).", "provenance": {"import": parts.source}}
    how = {} if choice is None else {"head_kind": choice.kind, "labels": choice.labels, "pool": choice.pool,
                                     "head_activation": choice.activation}
    return Model(lstm, kind, tok, cast(emb), cast(dec_w), cast(dec_b), meta, **how), notes


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
