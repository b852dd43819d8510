"""A per-position head's probabilities in blocks of positions: what is sent is kept, T x V never is.

A decoder over a large vocabulary makes T x V probabilities (200 tokens x 1M words: 800 MB in float32),
yet a client is sent only the k likeliest tokens after each position and the probability of the token that
actually came next. `predict` computes the softmax (or sigmoids) a block of positions at a time and keeps
just those. A tagger's labels go the same way, without an actual next token; a classifier answers once
per text (head.py) and needs no blocks.

Blocks are aligned to absolute positions (block j holds positions jB .. jB+B-1, zero rows where a run has no
position) and every block is one product of the same shape, so the numbers at a position do not depend on
where a run started or how long it was. BLAS picks its kernels by matrix shape, and rows of a 13-row product
came out rounded differently from the same rows of a 12-row one; a trace continued from a cached prefix
therefore differed from a whole run in the last bits. With aligned blocks it is the same bits.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .errors import overflowed

# Logits per block (256 KB in float32): few blocks for a small vocabulary, one position at a time from 64k
# tokens up; a trace continued from the cache computes one whole block for its first position, so small.
BLOCK_VALUES = 1 << 16


def block_rows(V: int) -> int:
    """Positions per block for a vocabulary of V: a fixed number per model, so blocks always align."""
    return max(1, BLOCK_VALUES // max(V, 1))


@dataclass(frozen=True)
class Predictions:
    """What a client is sent about a per-position head's distribution at each position t (the next token
    after t for a language model, t's label for a tagger)."""

    ids: NDArray  # (T, k) int64, likeliest first; ties: lower id first
    probs: NDArray  # (T, k)
    actual: NDArray  # (T,) probability at t of token t + 1; NaN where there is none (last t, unknown ids, tagger)

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.probs.nbytes + self.actual.nbytes

    def rows(self, n: int) -> Predictions:
        """The first n positions as they are (copies, so that they outlive this object's arrays)."""
        return Predictions(self.ids[:n].copy(), self.probs[:n].copy(), self.actual[:n].copy())

    def head(self, n: int) -> Predictions:
        """The first n positions as a text of just n tokens has them: the last has no next token."""
        p = self.rows(n)
        p.actual[n - 1 :] = np.nan
        return p

    def join(self, rest: Predictions) -> Predictions:
        """These positions followed by `rest`'s."""
        return Predictions(np.concatenate([self.ids, rest.ids]), np.concatenate([self.probs, rest.probs]),
                           np.concatenate([self.actual, rest.actual]))


def activate(z: NDArray, activation: str = "softmax") -> NDArray:
    """Logits (..., K) to probabilities in place: softmax over the last axis, or a sigmoid per output."""
    if activation == "sigmoid":
        np.tanh(np.multiply(z, 0.5, out=z), out=z)  # 0.5 tanh(z/2) + 0.5: a sigmoid that never overflows exp
        return np.add(np.multiply(z, 0.5, out=z), 0.5, out=z)
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def prob_blocks(output: NDArray, W: NDArray, b: NDArray | None, first: int = 0,
                activation: str = "softmax") -> Iterator[tuple[int, NDArray]]:
    """(row in `output`, probabilities (rows, K)) block by block, for output (T, D*H_out) at positions
    first .. first+T-1; each block is computed as the whole (B, K) block, zero rows included."""
    V, T = W.shape[0], len(output)
    B = block_rows(V)
    for start in range(first - first % B, first + T, B):
        lo, hi = max(start, first), min(start + B, first + T)
        x = np.zeros((B, output.shape[1]), output.dtype)  # (B, D*H_out)
        x[lo - start : hi - start] = output[lo - first : hi - first]
        with np.errstate(over="ignore", invalid="ignore"):  # checked below, with a sentence
            z = x @ W.T  # (B, K)
            if b is not None:
                z += b
        if not np.isfinite(z[lo - start : hi - start].max(axis=1)).all():
            raise overflowed()
        yield lo - first, activate(z, activation)[lo - start : hi - start]


def top_k(p: NDArray, k: int) -> NDArray:
    """(rows, k) ids of the k largest of each row of p, largest first, ties by lower id, as a stable argsort
    of -p would give, in O(V) per row."""
    V = p.shape[1]
    k = min(k, V)
    if k == V:
        return np.argsort(-p, axis=1, kind="stable")
    part = np.argpartition(-p, k - 1, axis=1)[:, :k]  # the k largest, unordered; ties broken arbitrarily
    kth = np.take_along_axis(p, part, axis=1).min(axis=1, keepdims=True)  # (rows, 1)
    for r in np.flatnonzero((p >= kth).sum(axis=1) > k):  # ties at the k-th value: take the lowest ids
        above = np.flatnonzero(p[r] > kth[r])
        part[r] = np.concatenate([above, np.flatnonzero(p[r] == kth[r])[: k - len(above)]])
    vals = np.take_along_axis(p, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)  # by probability, then by id
    return np.take_along_axis(part, order, axis=1)


def predict(output: NDArray, W: NDArray, b: NDArray | None, ids: NDArray | None, k: int, first: int = 0,
            activation: str = "softmax") -> Predictions:
    """Predictions at positions first .. first+T-1 of a text whose token ids are `ids` (the whole text; None
    for a head whose outputs are not the vocabulary, a tagger: then no position has an actual next token)."""
    T = len(output)
    k = min(k, W.shape[0])
    dt = np.result_type(output, W)
    top = np.empty((T, k), np.int64)
    top_p = np.empty((T, k), dt)
    actual = np.full(T, np.nan, dt)
    nxt = np.asarray(ids)[first + 1 : first + T + 1] if ids is not None else np.empty(0, np.int64)  # (<= T,)
    for row, p in prob_blocks(output, W, b, first, activation):
        n = len(p)
        top[row : row + n] = top_k(p, k)
        top_p[row : row + n] = np.take_along_axis(p, top[row : row + n], axis=1)
        j = nxt[row : row + n]
        known = np.flatnonzero(j >= 0)
        actual[row + known] = p[known, j[known]]
    return Predictions(top, top_p, actual)


def probabilities(output: NDArray, W: NDArray, b: NDArray | None, activation: str = "softmax") -> NDArray:
    """Every probability, (..., T, K) for output (..., T, D*H_out): for small texts and checks, the same
    numbers `predict` keeps."""
    lead, (T, Dh) = output.shape[:-2], output.shape[-2:]
    flat = output.reshape(-1, T, Dh)
    out = np.empty((len(flat), T, W.shape[0]), np.result_type(output, W))
    for s, seq in enumerate(flat):
        for row, p in prob_blocks(seq, W, b, 0, activation):
            out[s, row : row + len(p)] = p
    return out.reshape(*lead, T, W.shape[0])
