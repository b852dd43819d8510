"""The unit view's data: one unit's top and bottom contexts, activation histogram and saturation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from .f16 import SATURATION
from .index import CorpusIndex, UnitRef
from .snippets import Snippet, snippet

GATES = ("i", "f", "o")  # in [0, 1]: histograms over fixed bins there


@dataclass(frozen=True)
class Context:
    """One token where the unit is extreme, in its text."""

    token: int
    value: float
    chars: tuple[int, int]  # the token's [start, end) in the corpus, code points
    traced: tuple[int, int]  # tokens traced from a zero state to produce this value (what to open in the explorer)
    traced_chars: tuple[int, int]
    snippet: Snippet  # coloured by the unit; highlight = the token

    def to_json(self) -> dict:
        d = dict(self.__dict__)
        d["snippet"] = self.snippet.to_json()
        return d


@dataclass(frozen=True)
class Histogram:
    edges: NDArray  # (bins + 1,)
    counts: NDArray  # (bins,) int64

    def to_json(self) -> dict:
        return {"edges": self.edges.tolist(), "counts": self.counts.tolist()}


@dataclass(frozen=True)
class UnitReport:
    ref: UnitRef
    top: list[Context]  # highest values first
    bottom: list[Context]  # lowest values first
    histogram: Histogram
    saturation: tuple[float, float]  # fraction of tokens below and above SATURATION[q]
    limits: tuple[float, float]  # those two limits
    mean: float
    std: float

    def to_json(self) -> dict:
        return {"ref": self.ref.to_json(), "top": [c.to_json() for c in self.top],
                "bottom": [c.to_json() for c in self.bottom], "histogram": self.histogram.to_json(),
                "saturation": list(self.saturation), "limits": list(self.limits), "mean": self.mean, "std": self.std}


def unit_report(index: CorpusIndex, ref: UnitRef, k: int = 10, bins: int = 50,
                before: int = 40, after: int = 20) -> UnitReport:
    """Everything the unit view shows, from one read of the unit's column."""
    col = index.unit_values(ref)  # (N,)
    return UnitReport(ref, contexts(index, col, extreme(col, k), before, after),
                      contexts(index, col, extreme(col, k, lowest=True), before, after),
                      histogram(col, ref.quantity, bins), unit_saturation(index, ref), SATURATION[ref.quantity],
                      float(col.mean(dtype=np.float64)), float(col.std(dtype=np.float64)))


def top_contexts(index: CorpusIndex, ref: UnitRef, k: int = 10, *, lowest: bool = False,
                 before: int = 40, after: int = 20) -> list[Context]:
    """The k tokens with the unit's highest (or lowest) values, best first, ties by position."""
    col = index.unit_values(ref)
    return contexts(index, col, extreme(col, k, lowest), before, after)


def extreme(col: NDArray, k: int, lowest: bool = False) -> NDArray:
    """Positions of the k largest (smallest) values, in order, ties broken by position: exactly
    what a full stable sort would give, for the price of one partition."""
    if k < 1:
        raise ModelError(f"k must be a positive number of contexts, got {k}")
    v = -col if lowest else col
    k = min(k, len(v))
    kth = np.partition(v, len(v) - k)[len(v) - k]  # the k-th largest
    above = np.flatnonzero(v > kth)
    ties = np.flatnonzero(v == kth)[: k - len(above)]
    pick = np.concatenate([above, ties])
    return pick[np.lexsort((pick, -v[pick]))]


def contexts(index: CorpusIndex, col: NDArray, tokens: NDArray, before: int, after: int) -> list[Context]:
    geo, out = index.geometry, []
    for t in map(int, tokens):
        a, b = geo.traced_span(t)
        span, traced = index.spans(t, t + 1)[0], index.spans(a, b)
        out.append(Context(t, float(col[t]), (int(span[0]), int(span[1])), (a, b),
                           (int(traced[0, 0]), int(traced[-1, 1])), snippet(index, t, t + 1, col, before=before,
                                                                              after=after)))
    return out


def histogram(col: NDArray, quantity: str, bins: int = 50) -> Histogram:
    """Gates over fixed bins on [0, 1]; g, c and h over their range in the corpus."""
    if not 1 <= bins <= 10_000:
        raise ModelError(f"bins must be between 1 and 10000, got {bins}")
    rng = (0.0, 1.0) if quantity in GATES else (float(col.min()), float(col.max()))
    counts, edges = np.histogram(col, bins=bins, range=rng)
    return Histogram(edges, counts)


def unit_saturation(index: CorpusIndex, ref: UnitRef) -> tuple[float, float]:
    """Fractions of the corpus's tokens where the unit is below / above SATURATION[q] (Karpathy 2015)."""
    low, high = index.stats(ref.quantity)[:, index.column(ref)]
    return float(low / index.num_tokens), float(high / index.num_tokens)
