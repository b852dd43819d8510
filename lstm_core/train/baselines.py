"""Character n-gram baselines scored exactly where an LSTM is scored, for a model card's comparison.

Both models see the ids the LSTM sees (same vocabulary, rare characters as `<unk>`, which is predicted
like any other symbol) and are scored on the same positions: the validation ids cut into chunks of
`data.EVAL_CHUNK`, every id after a chunk's first one predicted from the ids before it in that
chunk only (the LSTM starts each chunk from a zero state).

- `bigram_loss`: add-k smoothing, P(b | a) = (n(a b) + k) / (n(a) + k V).
- `trigram_loss`: Jelinek-Mercer interpolation of trigram, bigram, unigram and uniform estimates.
  The four weights depend on how often the two-character context was seen (buckets 0, 1, 2-3, 4-7,
  ...), and are fitted by EM on the last tenth of the training ids with counts from the rest
  (held-out / deleted interpolation); the final counts then come from all training ids.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .data import EVAL_CHUNK

BUCKETS = 12  # context-count buckets: 0, 1, 2-3, ..., 2^10 and more


def scored_positions(n: int, chunk: int = EVAL_CHUNK) -> tuple[NDArray, NDArray]:
    """(position, first position of its chunk) of every scored id among n."""
    pos = np.arange(n)
    start = pos - pos % chunk
    keep = pos > start
    return pos[keep], start[keep]


class Counts:
    """n-gram counts of one id sequence, looked up by packed codes with a binary search."""

    def __init__(self, ids: NDArray, V: int, order: int) -> None:
        self.V = V
        code = np.zeros(len(ids) - order + 1, np.int64)
        for k in range(order):
            code = code * V + ids[k : len(ids) - order + 1 + k]
        self.codes, self.counts = np.unique(code, return_counts=True)

    def __call__(self, code: NDArray) -> NDArray:
        j = np.minimum(np.searchsorted(self.codes, code), len(self.codes) - 1)
        return np.where(self.codes[j] == code, self.counts[j], 0).astype(np.float64)


def bigram_loss(train: NDArray, val: NDArray, V: int, k: float = 0.1, chunk: int = EVAL_CHUNK) -> float:
    """Mean held-out cross-entropy (nats) of the add-k character bigram."""
    pair, first = Counts(train, V, 2), np.bincount(train[:-1], minlength=V).astype(np.float64)
    pos, _ = scored_positions(len(val), chunk)
    a, b = val[pos - 1], val[pos]
    return float(-np.mean(np.log((pair(a * V + b) + k) / (first[a] + k * V))))


class Trigram:
    """The three ML estimates and the count buckets of the interpolated trigram, from one id sequence."""

    def __init__(self, ids: NDArray, V: int) -> None:
        self.V, self.n = V, len(ids)
        self.uni = np.bincount(ids, minlength=V).astype(np.float64)
        self.bi, self.tri = Counts(ids, V, 2), Counts(ids, V, 3)
        self.ctx1 = np.bincount(ids[:-1], minlength=V).astype(np.float64)  # n(b .)
        self.ctx2 = Counts(ids[:-1], V, 2)  # n(a b .)

    def estimates(self, a: NDArray, b: NDArray, c: NDArray, has_a: NDArray) -> tuple[NDArray, NDArray]:
        """(E (N, 4): trigram, bigram, unigram, uniform estimates of c; bucket (N,) of the context count)."""
        V = self.V
        n_ab = np.where(has_a, self.ctx2(a * V + b), 0)
        p3 = np.where(n_ab > 0, self.tri(((a * V) + b) * V + c) / np.maximum(n_ab, 1), 0)
        p2 = np.where(self.ctx1[b] > 0, self.bi(b * V + c) / np.maximum(self.ctx1[b], 1), 0)
        E = np.stack([p3, p2, self.uni[c] / self.n, np.full(len(c), 1 / V)], axis=1)  # (N, 4)
        bucket = np.where(n_ab > 0, 1 + np.floor(np.log2(np.maximum(n_ab, 1))), 0)
        return E, np.minimum(bucket, BUCKETS - 1).astype(np.int64)


def _triples(ids: NDArray, chunk: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    pos, start = scored_positions(len(ids), chunk)
    has_a = pos - 2 >= start  # a two-character context inside the chunk
    return ids[np.maximum(pos - 2, 0)], ids[pos - 1], ids[pos], has_a


def fit_weights(E: NDArray, bucket: NDArray, iterations: int = 50) -> NDArray:
    """(BUCKETS, 4) interpolation weights maximising the likelihood of the tuning ids (EM)."""
    lam = np.full((BUCKETS, 4), 0.25)
    lam[0] = [0.0, 1 / 3, 1 / 3, 1 / 3]  # an unseen context has no trigram estimate
    for _ in range(iterations):
        w = lam[bucket] * E  # (N, 4)
        w /= w.sum(axis=1, keepdims=True)
        for q in range(BUCKETS):
            sel = bucket == q
            if sel.any():
                lam[q] = w[sel].sum(axis=0) / sel.sum()
    return lam


def trigram_loss(train: NDArray, val: NDArray, V: int, chunk: int = EVAL_CHUNK) -> tuple[float, NDArray]:
    """(mean held-out cross-entropy in nats, the fitted (BUCKETS, 4) weights) of the interpolated trigram."""
    cut = len(train) - len(train) // 10
    E, bucket = Trigram(train[:cut], V).estimates(*_triples(train[cut:], chunk))
    lam = fit_weights(E, bucket)
    E, bucket = Trigram(train, V).estimates(*_triples(val, chunk))
    return float(-np.mean(np.log((lam[bucket] * E).sum(axis=1)))), lam
