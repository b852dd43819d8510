"""Character and word tokenizers that keep every typed character visible.

A character that is not in the vocabulary is never dropped: it becomes its own token, flagged as
out of vocabulary, and maps to the vocabulary's unknown token if it has one (else id -1, which the
model feeds as a zero input vector). So tokens always line up with what the user typed.

Special tokens are recognised in the spellings vocabularies really use (`special_tokens`): unknown
(`<unk>`, `<UNK>`, `[UNK]`...), padding (`<pad>`, `[PAD]`...), begin (`<s>`, `<bos>`, `[CLS]`...) and
end (`</s>`, `<eos>`, `[SEP]`...). `encode(text, wrap=True)` puts the begin and end tokens around the
text as tokens of their own, so positions in the trace count them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .errors import ModelError

UNK = "<unk>"

# Spellings of each special role, compared lowercased; the first role a token matches wins. BERT's
# [CLS]/[SEP] count as begin/end only when no other begin/end token is present (checked in order).
SPECIALS = {
    "unk": ("<unk>", "[unk]", "<oov>", "[oov]", "<unknown>", "<|unk|>"),
    "pad": ("<pad>", "[pad]", "<|pad|>", "<padding>"),
    "bos": ("<s>", "<bos>", "[bos]", "<sos>", "<start>", "[start]", "<|startoftext|>", "<|bos|>", "<go>", "[cls]"),
    "eos": ("</s>", "<eos>", "[eos]", "<end>", "[end]", "<|endoftext|>", "<|eos|>", "<stop>", "[sep]"),
}


def special_tokens(vocab) -> dict[str, str | None]:
    """{"unk", "pad", "bos", "eos"} -> the vocabulary's token for that role (None when it has none).

    When several tokens fit a role, the spelling listed first in SPECIALS wins (`<s>` before `[CLS]`).
    """
    found: dict[str, str | None] = {}
    lowered = {}
    for t in vocab:
        lowered.setdefault(t.strip().lower(), t)
    for role, spellings in SPECIALS.items():
        found[role] = next((lowered[s] for s in spellings if s in lowered), None)
    return found


def is_special(token: str) -> bool:
    """True when `token` is spelled like an unknown, padding, begin or end token."""
    low = token.strip().lower()
    return any(low in spellings for spellings in SPECIALS.values())


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
    pad: str | None = None  # the padding token (never fed by gatescope; named so it is not mistaken for text)
    bos: str | None = None  # begin and end tokens, put around the text by encode(wrap=True)
    eos: str | None = None
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ("char", "word"):
            raise ModelError(f"unknown tokenizer kind {self.kind!r}; expected 'char' or 'word'")
        if not self.vocab:
            raise ModelError("the vocabulary is empty")
        if len(set(self.vocab)) != len(self.vocab):
            raise ModelError("the vocabulary lists a token twice")
        for role in ("unk", "pad", "bos", "eos"):
            t = getattr(self, role)
            if t is not None and t not in self.vocab:
                raise ModelError(f"the {_ROLE[role]} token {t!r} is not in the vocabulary")
        object.__setattr__(self, "index", {t: k for k, t in enumerate(self.vocab)})

    def __len__(self) -> int:
        return len(self.vocab)

    def split(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        if self.kind == "char":
            return list(text), [(k, k + 1) for k in range(len(text))]
        ms = list(_WORD.finditer(text))
        return [m.group() for m in ms], [m.span() for m in ms]

    @property
    def can_wrap(self) -> bool:
        """True when the vocabulary has a begin or an end token to put around a text."""
        return self.bos is not None or self.eos is not None

    def encode(self, text: str, wrap: bool = False) -> Tokens:
        """Tokens, ids, out-of-vocabulary positions and spans; `wrap` adds the begin/end tokens around the text.

        A wrapped begin token's span is (0, 0) and an end token's (n, n): they cover no typed character.
        """
        if wrap and not self.can_wrap:
            raise ModelError("this vocabulary has no begin or end token (such as <s>, </s>, <bos>, <eos>) to wrap "
                             "the text in; trace it without wrapping")
        tokens, spans = self.split(text)
        special: set[int] = set()  # positions holding a begin or end token, looked up as they are
        if wrap:
            n = len(text)
            if self.bos is not None:
                tokens, spans = [self.bos, *tokens], [(0, 0), *spans]
                special.add(0)
            if self.eos is not None:
                tokens, spans = [*tokens, self.eos], [*spans, (n, n)]
                special.add(len(tokens) - 1)
        unk_id = self.index[self.unk] if self.unk is not None else -1
        ids = np.empty(len(tokens), np.int64)
        oov = []
        for k, t in enumerate(tokens):
            if k in special:
                ids[k] = self.index[t]
                continue
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
        return {"kind": self.kind, "vocab": list(self.vocab), "unk": self.unk, "lower": self.lower,
                "pad": self.pad, "bos": self.bos, "eos": self.eos}

    @classmethod
    def from_json(cls, d: dict) -> Tokenizer:
        """From to_json's object. A role the object does not mention (files written before gatescope knew
        pad, bos and eos) is recognised from the vocabulary; one it sets, even to null, is kept as it is."""
        if not isinstance(d, dict) or not isinstance(d.get("vocab"), list):
            raise ModelError("tokenizer metadata must be an object with a 'vocab' list")
        if not all(isinstance(t, str) for t in d["vocab"]):
            raise ModelError("every vocabulary entry must be a string")
        try:  # JSON can spell lone surrogates (\ud800), which no text ever holds and UTF-8 cannot carry
            "".join(d["vocab"]).encode("utf-8")
        except UnicodeEncodeError:
            raise ModelError("the vocabulary holds a lone surrogate (\\ud800-\\udfff), which is not text") from None
        found = special_tokens(d["vocab"])
        roles = {r: d[r] if r in d else found[r] for r in ("unk", "pad", "bos", "eos")}
        if not all(v is None or isinstance(v, str) for v in roles.values()):
            raise ModelError("the tokenizer's unk, pad, bos and eos must be tokens (strings) or null")
        return cls(d.get("kind", "char"), tuple(d["vocab"]), roles["unk"], bool(d.get("lower", False)),
                   roles["pad"], roles["bos"], roles["eos"])

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


_ROLE = {"unk": "unknown", "pad": "padding", "bos": "begin", "eos": "end"}

# Words, numbers and single punctuation marks; whitespace separates and is not a token.
_WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]", re.UNICODE)
