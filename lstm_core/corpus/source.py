"""Reading a corpus in pieces: validation, hashing and tokenization without holding the whole file.

Memory stays bounded by the piece size however large the corpus: the text is decoded, hashed and
tokenized a megabyte at a time and each piece's tokens are handed on before the next is read.
"""
from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from ..tokenizers import Tokenizer

PIECE_BYTES = 1 << 20


@dataclass(frozen=True)
class CorpusInfo:
    name: str
    sha256: str
    bytes: int
    chars: int
    tokens: int

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Piece:
    """One piece of the corpus: its text, and the tokens that start in it (spans are corpus offsets)."""

    text: str
    ids: NDArray  # (n,) int64
    spans: NDArray  # (n, 2) int64, [start, end) in code points from the start of the corpus


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(PIECE_BYTES):
            h.update(block)
    return h.hexdigest()


def text_sha256(text: str) -> str:
    """The sha256 an index records for a corpus given as text: that of its UTF-8 bytes, as for a file."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_pieces(path: Path) -> Iterator[bytes]:
    try:
        fh = open(path, "rb")  # noqa: SIM115 -- closed below; a generator must not hold `with` across yields it may never resume
    except OSError as e:
        raise ModelError(f"cannot read the corpus {path}: {e.strerror}") from None
    try:
        while block := fh.read(PIECE_BYTES):
            yield block
    finally:
        fh.close()


def _text_pieces(text: str) -> Iterator[bytes]:
    raw = text.encode("utf-8")
    for k in range(0, len(raw), PIECE_BYTES):
        yield raw[k : k + PIECE_BYTES]


def scan_corpus(source: str | os.PathLike | None, name: str, tokenizer: Tokenizer,
                emit: Callable[[Piece], None], text: str | None = None) -> CorpusInfo:
    """Validate, hash and tokenize a UTF-8 file (or `text`), calling `emit` once per piece.

    A binary file (NUL bytes), bytes that are not UTF-8, or a corpus without a visible character
    is refused with a ModelError naming the problem and the offset.
    """
    blocks = _text_pieces(text) if text is not None else _file_pieces(Path(source))
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    digest, nbytes, chars, tokens, visible = hashlib.sha256(), 0, 0, 0, False
    carry = ""  # word tokenizers: the end of a piece may be the first half of a word
    for block in chain(blocks, [None]):
        final = block is None
        if not final:
            if b"\x00" in block:
                raise ModelError(f"the corpus {name} looks binary (a NUL byte at offset {nbytes + block.index(0)}); "
                                 "give a UTF-8 text file")
            digest.update(block)
        try:
            piece = decoder.decode(block or b"", final=final)
        except UnicodeDecodeError as e:
            at = nbytes + e.start if not final else nbytes
            raise ModelError(f"the corpus {name} is not UTF-8 text (bad byte at offset {at}); "
                             "give a UTF-8 text file") from None
        nbytes += len(block or b"")
        piece, carry = _cut(carry + piece, tokenizer, final)
        visible = visible or bool(piece.strip())
        ids, spans = encode(tokenizer, piece)
        emit(Piece(piece, ids, spans + chars))
        chars += len(piece)
        tokens += len(ids)
    if not visible or tokens == 0:
        raise ModelError(f"the corpus {name} is empty (no visible character): an index needs text to trace")
    return CorpusInfo(name, digest.hexdigest(), nbytes, chars, tokens)


def encode(tokenizer: Tokenizer, text: str) -> tuple[NDArray, NDArray]:
    """(ids (n,) int64, spans (n, 2) int64) of `text`, as tokenizer.encode gives them. A character tokenizer
    looks up each distinct character once and gathers: tokenizer.encode's Python loop over a megabyte took
    1.0 s of the parent's CPU for 1,000,000 characters while the workers waited for the tokens."""
    if tokenizer.kind != "char":
        tok = tokenizer.encode(text)
        return tok.ids, np.asarray(tok.spans, np.int64).reshape(-1, 2)
    points = np.frombuffer(text.encode("utf-32-le"), np.uint32)  # (n,) code points: one token each
    distinct, where = np.unique(points, return_inverse=True)
    ids = tokenizer.encode("".join(map(chr, distinct.tolist()))).ids[where]  # (n,) each character's own lookup
    at = np.arange(len(points), dtype=np.int64)
    return ids, np.stack([at, at + 1], axis=1)


def _cut(text: str, tokenizer: Tokenizer, final: bool) -> tuple[str, str]:
    """(what can be tokenized now, what waits for the next piece): words never straddle a cut."""
    if final or tokenizer.kind == "char":
        return text, ""
    k = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))
    return (text[: k + 1], text[k + 1 :]) if k >= 0 else ("", text)
