"""Character and word tokenizers that keep every typed character visible.

A character that is not in the vocabulary is never dropped: it becomes its own token, flagged as
out of vocabulary, and maps to the vocabulary's unknown token if it has one (else id -1, which the
model feeds as a zero input vector). So tokens always line up with what the user typed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .errors import ModelError

UNK = "<unk>"


@dataclass(frozen=True)
class Tokens:
    tokens: list[str]  # the strings the user sees, one per timestep
    ids: NDArray  # (T,) int64; -1 where out of vocabulary and the vocabulary has no unknown token
    oov: list[int]  # positions whose token is not in the vocabulary
    spans: list[tuple[int, int]]  # [start, end) offsets of each token in the text, in code points


@dataclass(frozen=True)
class Tokenizer:
    kind: str  # "char" or "word"
    vocab: tuple[str, ...]
    unk: str | None = None  # the vocabulary's unknown token, if it has one
    lower: bool = False  # lowercase before lookup (the tokens shown keep what was typed)
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ("char", "word"):
            raise ModelError(f"unknown tokenizer kind {self.kind!r}; expected 'char' or 'word'")
        if not self.vocab:
            raise ModelError("the vocabulary is empty")
        if len(set(self.vocab)) != len(self.vocab):
            raise ModelError("the vocabulary lists a token twice")
        if self.unk is not None and self.unk not in self.vocab:
            raise ModelError(f"the unknown token {self.unk!r} is not in the vocabulary")
        object.__setattr__(self, "index", {t: k for k, t in enumerate(self.vocab)})

    def __len__(self) -> int:
        return len(self.vocab)

    def split(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        if self.kind == "char":
            return list(text), [(k, k + 1) for k in range(len(text))]
        ms = list(_WORD.finditer(text))
        return [m.group() for m in ms], [m.span() for m in ms]

    def encode(self, text: str) -> Tokens:
        tokens, spans = self.split(text)
        unk_id = self.index[self.unk] if self.unk is not None else -1
        ids = np.empty(len(tokens), np.int64)
        oov = []
        for k, t in enumerate(tokens):
            j = self.index.get(t.lower() if self.lower else t)
            if j is None or t == self.unk:
                oov.append(k)
                j = unk_id
            ids[k] = j
        return Tokens(tokens, ids, oov, spans)

    def decode(self, ids) -> str:
        sep = "" if self.kind == "char" else " "
        ids = [int(j) for j in ids]
        bad = [j for j in ids if not 0 <= j < len(self.vocab)]
        if bad:  # -1 would silently index the last token
            raise ModelError(f"token id {bad[0]} is outside the vocabulary (0 to {len(self.vocab) - 1})")
        return sep.join(self.vocab[j] for j in ids)

    def to_json(self) -> dict:
        return {"kind": self.kind, "vocab": list(self.vocab), "unk": self.unk, "lower": self.lower}

    @classmethod
    def from_json(cls, d: dict) -> Tokenizer:
        if not isinstance(d, dict) or not isinstance(d.get("vocab"), list):
            raise ModelError("tokenizer metadata must be an object with a 'vocab' list")
        if not all(isinstance(t, str) for t in d["vocab"]):
            raise ModelError("every vocabulary entry must be a string")
        return cls(d.get("kind", "char"), tuple(d["vocab"]), d.get("unk"), bool(d.get("lower", False)))

    @classmethod
    def build(cls, text: str, kind: str = "char", unk: bool = True, lower: bool = False,
              max_size: int | None = None) -> Tokenizer:
        """A vocabulary from a corpus, most frequent first when capped; sorted otherwise."""
        text = text.lower() if lower else text  # encode looks tokens up lowercased
        tokens = list(text) if kind == "char" else [m.group() for m in _WORD.finditer(text)]
        counts: dict[str, int] = {}
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
        vocab = sorted(counts)
        if max_size is not None and len(vocab) > max_size - int(unk):
            vocab = sorted(sorted(counts, key=lambda t: -counts[t])[: max_size - int(unk)])
        if unk:
            vocab = [UNK, *vocab]
        return cls(kind, tuple(vocab), UNK if unk else None, lower)


# Words, numbers and single punctuation marks; whitespace separates and is not a token.
_WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]", re.UNICODE)
