"""Two runs side by side: which positions correspond, how much each value differs, and where they part.

Alignment is defined on tokens. Two token sequences a (length Ta) and b (length Tb) share a prefix of p
tokens (a[t] == b[t] for t < p) and, after it, a suffix of s tokens (a[Ta-s+k] == b[Tb-s+k] for k < s),
where s is at most min(Ta, Tb) - p so that no token is counted twice. The aligned pairs are

    (t, t)                         for t in 0 .. p-1            the shared start
    (Ta - s + k, Tb - s + k)       for k in 0 .. s-1            the shared end

and the tokens between them (a[p:Ta-s], b[p:Tb-s]) have no partner. Identical sequences (two models on
one text, a run beside its clamped copy) align at every position.

The difference is defined on aligned pairs only: diff[q][l, d, j, u] = b.q[l, d, tb_j, u] - a.q[l, d, ta_j, u]
for each quantity q of i, f, g, o, c, h. The runs diverge at the first aligned pair j (in order) where
max over units |diff| exceeds a threshold. In a causal model the shared start is identical by
construction, so for two texts the marker lands in the shared end: it says whether the different middle
still shows there ("I grew up in France ... I speak fluent" against "... Germany ...").
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .trace import Trace

QUANTITIES = Trace.GATES


@dataclass(frozen=True)
class Alignment:
    """How two token sequences line up: a shared prefix and a shared suffix."""

    len_a: int
    len_b: int
    prefix: int  # tokens shared at the start
    suffix: int  # tokens shared at the end, never overlapping the prefix

    @property
    def pairs(self) -> NDArray:
        """(P, 2) int64: the aligned positions (t_a, t_b), the prefix then the suffix."""
        head = np.repeat(np.arange(self.prefix), 2).reshape(-1, 2)
        k = np.arange(self.suffix)
        tail = np.stack([self.len_a - self.suffix + k, self.len_b - self.suffix + k], axis=1)
        return np.concatenate([head, tail]).astype(np.int64).reshape(-1, 2)

    @property
    def identical(self) -> bool:
        return self.prefix == self.len_a == self.len_b


def align(a: Sequence[str], b: Sequence[str]) -> Alignment:
    """The alignment of token sequences a and b on their common prefix and common suffix."""
    n = min(len(a), len(b))
    p = 0
    while p < n and a[p] == b[p]:
        p += 1
    s = 0
    while s < n - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    return Alignment(len(a), len(b), p, s)


@dataclass(frozen=True)
class Difference:
    """b - a on the aligned positions of two traces of LSTMs of one shape."""

    alignment: Alignment
    diff: dict[str, NDArray]  # q -> (L, D, P, H_q): b - a at aligned pairs
    peak: dict[str, NDArray]  # q -> (L, D, P): max over units of |diff|

    def divergence(self, threshold: float, quantities: Sequence[str] = QUANTITIES) -> NDArray:
        """(L, D) int64: the first aligned index where any of `quantities` differs by more than `threshold`
        in some unit, -1 where the runs never do."""
        peak = np.max(np.stack([self.peak[q] for q in quantities]), axis=0)  # (L, D, P)
        return first_above(peak, threshold)

    def last_divergent(self, threshold: float, quantities: Sequence[str] = QUANTITIES) -> NDArray:
        """(L, D) int64: the last aligned index above `threshold` (-1 if none): after it the runs agree."""
        peak = np.max(np.stack([self.peak[q] for q in quantities]), axis=0)  # (L, D, P)
        rev = first_above(peak[..., ::-1], threshold)
        return np.where(rev < 0, -1, peak.shape[-1] - 1 - rev)


def first_above(peak: NDArray, threshold: float) -> NDArray:
    """(...,) int64: the first index along the last axis where peak > threshold, else -1."""
    above = peak > threshold  # (..., P)
    idx = np.argmax(above, axis=-1) if above.shape[-1] else np.zeros(above.shape[:-1], np.int64)
    return np.where(above.any(axis=-1), idx, -1).astype(np.int64)


def same_shape(a: Trace, b: Trace) -> bool:
    """True when the two traces' values correspond unit by unit (layers, directions, widths)."""
    return all(a.gate(q).shape[:2] == b.gate(q).shape[:2] and a.gate(q).shape[3] == b.gate(q).shape[3]
               for q in QUANTITIES)


def difference(a: Trace, b: Trace, alignment: Alignment) -> Difference:
    """The difference b - a of two unbatched traces on `alignment`'s pairs; the traces must be of one shape."""
    if not same_shape(a, b):
        raise ValueError("the two traces differ in layers, directions or units, so their values do not correspond")
    pairs = alignment.pairs  # (P, 2)
    diff, peak = {}, {}
    for q in QUANTITIES:
        d = b.gate(q)[:, :, pairs[:, 1]].astype(np.float64) - a.gate(q)[:, :, pairs[:, 0]]  # (L, D, P, H)
        diff[q] = d
        peak[q] = np.abs(d).max(axis=-1)  # (L, D, P)
    return Difference(alignment, diff, peak)


def paired(values_a: NDArray, values_b: NDArray, alignment: Alignment) -> NDArray:
    """(P,) b - a of two per-position series (e.g. the probability of each actual next token) on the pairs;
    NaN where either side is NaN."""
    pairs = alignment.pairs
    return (np.asarray(values_b, np.float64)[pairs[:, 1]] - np.asarray(values_a, np.float64)[pairs[:, 0]])
