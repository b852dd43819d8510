"""Vocabulary sidecar files and how a vocabulary is attached to an imported LSTM.

A sidecar is a JSON list of tokens, a JSON object token -> id (ids 0..V-1), a gatescope tokenizer
object {"kind", "vocab", "unk"}, or plain text with one token per line (use JSON for tokens that
are whitespace or newlines). Token k is row k of the embedding, input k of a one-hot model and
row k of the decoder; the lengths must agree.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ModelError
from ..tokenizers import UNK, Tokenizer

MAX_VOCAB_BYTES = 64 << 20


def read_vocab(path: str | os.PathLike, kind: str | None = None) -> Tokenizer:
    """A Tokenizer from a sidecar file; `kind` ("char"/"word") overrides the guess."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_VOCAB_BYTES:
            raise ModelError(f"{path.name} is larger than {MAX_VOCAB_BYTES >> 20} MiB; that is not a vocabulary")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"{path.name} is not UTF-8 text; a vocabulary is a JSON list or one token per line") from None
    except OSError as e:
        raise ModelError(f"cannot read the vocabulary {path.name}: {e.strerror}") from None
    return parse_vocab(text, kind, path.name)


def parse_vocab(text: str, kind: str | None = None, label: str = "vocabulary") -> Tokenizer:
    unk, lower = None, False
    stripped = text.lstrip("\ufeff").strip()
    if stripped[:1] in ("[", "{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise ModelError(f"{label} looks like JSON but does not parse: {e.msg} at line {e.lineno}") from None
        if isinstance(data, dict) and isinstance(data.get("vocab"), list):
            kind, unk, lower = kind or data.get("kind"), data.get("unk"), bool(data.get("lower", False))
            data = data["vocab"]
        if isinstance(data, dict):
            data = _from_index(data, label)
        if not isinstance(data, list) or not all(isinstance(t, str) for t in data):
            raise ModelError(f"{label} must be a JSON list of strings (or an object token -> id)")
        tokens = data
    else:
        tokens = [t for t in text.lstrip("\ufeff").split("\n")]
        if tokens and tokens[-1] == "":
            tokens.pop()  # the final newline ends the last line, it is not a token
        tokens = [t.removesuffix("\r") for t in tokens]
    if not tokens:
        raise ModelError(f"{label} is empty")
    if kind is None:
        kind = "char" if all(len(t) == 1 for t in tokens if t != UNK) else "word"
    if unk is None and UNK in tokens:
        unk = UNK
    dup = _first_duplicate(tokens)
    if dup is not None:
        raise ModelError(f"{label} lists the token {dup!r} twice; each row of the model needs its own token")
    return Tokenizer(kind, tuple(tokens), unk, lower)


def _from_index(d: dict, label: str) -> list[str]:
    if not all(isinstance(v, int) for v in d.values()):
        raise ModelError(f"{label}: a token -> id object must map every token to an integer id")
    ids = sorted(d.values())
    if ids != list(range(len(ids))):
        raise ModelError(f"{label}: token ids must be exactly 0..{len(ids) - 1}, each once")
    out = [""] * len(ids)
    for t, k in d.items():
        out[k] = t
    return out


def _first_duplicate(tokens: list[str]) -> str | None:
    seen: set[str] = set()
    for t in tokens:
        if t in seen:
            return t
        seen.add(t)
    return None


def id_tokenizer(size: int) -> Tokenizer:
    """Token k is the string "k": an embedding model without a vocabulary is traced on typed ids."""
    return Tokenizer("word", tuple(str(k) for k in range(size)))


def check_length(tok: Tokenizer, rows: int, what: str) -> None:
    if len(tok) != rows:
        raise ModelError(f"the vocabulary has {len(tok)} tokens but the model's {what} has {rows} rows; "
                         "give the vocabulary the model was trained with", "core.vocab_length", tokens=len(tok),
                         what=what, rows=rows)
