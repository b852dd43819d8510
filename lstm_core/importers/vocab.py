"""Vocabulary sidecar files and how a vocabulary is attached to an imported LSTM.

A sidecar is a JSON list of tokens, a JSON object token -> id (ids 0..V-1), a gatescope tokenizer
object {"kind", "vocab", "unk"}, or plain text with one token per line (use JSON for tokens that
are whitespace or newlines). Token k is row k of the embedding, input k of a one-hot model and
row k of the decoder; the lengths must agree. Special tokens (unknown, padding, begin, end) are
recognised in any common spelling (tokenizers.special_tokens): `<UNK>` and `[UNK]` are the unknown
token as much as `<unk>` is, so unknown characters read the vocabulary's own unknown row.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..errors import ModelError
from ..jsonsafe import MAX_DEPTH, nesting
from ..tokenizers import Tokenizer, is_special

MAX_VOCAB_BYTES = 64 << 20
_BRACKETED = re.compile(r"^\[[^\[\]\"',\s]+\]$")  # [UNK], [PAD]: a token, not a JSON list


def read_vocab(path: str | os.PathLike, kind: str | None = None) -> Tokenizer:
    """A Tokenizer from a sidecar file; `kind` ("char"/"word") overrides the guess."""
    path = Path(path)
    return parse_vocab(_read_text(path, "vocabulary"), kind, path.name)


def _read_text(path: Path, what: str) -> str:
    try:
        if path.stat().st_size > MAX_VOCAB_BYTES:
            raise ModelError(f"{path.name} is larger than {MAX_VOCAB_BYTES >> 20} MiB; that is not a {what}")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"{path.name} is not UTF-8 text; a {what} is a JSON list or one entry per line") from None
    except OSError as e:
        raise ModelError(f"cannot read the {what} {path.name}: {e.strerror}") from None


def parse_vocab(text: str, kind: str | None = None, label: str = "vocabulary") -> Tokenizer:
    given, lower = {}, False
    data = _json_or_lines(text, label)
    if isinstance(data, dict) and isinstance(data.get("vocab"), list):
        kind, lower = kind or data.get("kind"), bool(data.get("lower", False))
        given = {r: data[r] for r in ("unk", "pad", "bos", "eos") if r in data}
        data = data["vocab"]
    return from_tokens(_strings(data, label), kind, label, lower, given)


def read_labels(source: str | os.PathLike | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """A head's class names, row k = label k: a JSON list, a JSON object name -> id, or one name per line.

    `source` is a file path, the file's text (starting with "[" or "{"), or the names themselves.
    """
    if isinstance(source, (list, tuple)):
        return tuple(_strings(list(source), "the labels"))
    label = "the labels"
    if isinstance(source, str) and not os.path.exists(source) and source.lstrip()[:1] in ("[", "{"):
        text = source
    else:
        path = Path(source)
        text, label = _read_text(path, "label list"), path.name
    names = _strings(_json_or_lines(text, label), label)
    dup = _first_duplicate(names)
    if dup is not None:
        raise ModelError(f"{label} names the label {dup!r} twice; each output row needs its own name")
    return tuple(names)


def _json_or_lines(text: str, label: str):
    """A JSON value when the text starts like one, else the lines (the final newline ends the last line)."""
    stripped = text.lstrip("\ufeff").strip()
    if stripped[:1] in ("[", "{"):
        if nesting(stripped.encode("utf-8", "surrogatepass")) > MAX_DEPTH:
            raise ModelError(f"{label} is JSON nested more than {MAX_DEPTH} levels deep; it should be a flat list")
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as e:
            # BERT-style vocab.txt files start with a bracketed token on its own line ([PAD], [UNK]...).
            if not _BRACKETED.match(stripped.split("\n", 1)[0].strip()):
                raise ModelError(f"{label} looks like JSON but does not parse: {e.msg} at line {e.lineno}") from None
    lines = text.lstrip("\ufeff").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [t.removesuffix("\r") for t in lines]


def _strings(data, label: str) -> list[str]:
    """A list of strings from a JSON list, or from an object string -> id with ids 0..N-1."""
    if isinstance(data, dict):
        data = _from_index(data, label)
    if not isinstance(data, list) or not all(isinstance(t, str) for t in data):
        raise ModelError(f"{label} must be a JSON list of strings (or an object string -> id)")
    if not data:
        raise ModelError(f"{label} is empty")
    return data


def from_tokens(tokens: list[str], kind: str | None = None, label: str = "vocabulary", lower: bool = False,
                given: dict | None = None) -> Tokenizer:
    """A Tokenizer for token k = row k: kind guessed (char when every token but the specials is one
    character), special roles recognised unless `given` names them (even as null)."""
    if not tokens:
        raise ModelError(f"{label} is empty")
    if kind is None:
        kind = "char" if all(len(t) == 1 for t in tokens if not is_special(t)) else "word"
    dup = _first_duplicate(tokens)
    if dup is not None:
        raise ModelError(f"{label} lists the token {dup!r} twice; each row of the model needs its own token")
    return Tokenizer.from_json({"kind": kind, "vocab": list(tokens), "lower": lower, **(given or {})})


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
