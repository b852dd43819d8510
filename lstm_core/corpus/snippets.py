"""A piece of corpus text around some tokens, with per-character values for colouring it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .index import CorpusIndex


@dataclass(frozen=True)
class Snippet:
    """Tokens [tokens[0], tokens[1]) of the corpus: their text and where the highlighted part is.

    `values[k]` is the value of the token that character k of `text` belongs to (NaN between
    tokens, e.g. the spaces a word tokenizer skips), so a page can colour the text by it.
    """

    tokens: tuple[int, int]
    chars: tuple[int, int]  # [start, end) in code points of the corpus
    text: str
    highlight: tuple[int, int]  # [start, end) within `text`
    values: NDArray | None  # (len(text),) float32

    def to_json(self) -> dict:
        vals = None if self.values is None else [None if np.isnan(v) else float(v) for v in self.values]
        return {"tokens": list(self.tokens), "chars": list(self.chars), "text": self.text,
                "highlight": list(self.highlight), "values": vals}


def snippet(index: CorpusIndex, start: int, end: int, token_values: NDArray | None, *,
            before: int = 40, after: int = 20) -> Snippet:
    """Tokens [start, end) highlighted, with `before` tokens of text before and `after` after.

    `token_values` holds a value for every token of the corpus (a unit's column) or is None.
    """
    a, b = max(0, start - before), min(index.num_tokens, end + after)
    spans = index.spans(a, b)  # (b - a, 2)
    c0, c1 = int(spans[0, 0]), int(spans[-1, 1])
    text = index.text(c0, c1)
    hl = (int(spans[start - a, 0]) - c0, int(spans[end - 1 - a, 1]) - c0)
    snip = Snippet((a, b), (c0, c1), text, hl, None)
    if token_values is None:
        return snip
    return Snippet((a, b), (c0, c1), text, hl, per_char(index, snip, token_values))


def per_char(index: CorpusIndex, snip: Snippet, token_values: NDArray) -> NDArray:
    """(len(snip.text),) float32: each character gets its token's value from the corpus-wide
    `token_values`, NaN where no token covers it."""
    a, b = snip.tokens
    out = np.full(len(snip.text), np.nan, np.float32)
    spans = index.spans(a, b) - snip.chars[0]  # (n, 2) within the text
    lens = spans[:, 1] - spans[:, 0]  # (n,)
    tok = np.repeat(np.arange(b - a), lens)  # (chars covered,) the token of each covered character
    out[spans[tok, 0] + np.arange(len(tok)) - np.repeat(np.cumsum(lens) - lens, lens)] = token_values[a:b][tok]
    return out
