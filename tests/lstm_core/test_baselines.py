"""The n-gram baselines against brute-force counting, and the trigram is a proper distribution."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from lstm_core.train.baselines import BUCKETS, Trigram, bigram_loss, fit_weights, scored_positions, trigram_loss


@pytest.fixture
def ids() -> tuple[np.ndarray, np.ndarray, int]:
    """A train and a validation id sequence from a second-order Markov chain over 7 symbols."""
    rng = np.random.default_rng(0)
    V = 7
    P = rng.dirichlet(np.full(V, 0.3), size=(V, V))  # (V, V, V): next symbol given the two before
    seq = [0, 1]
    for _ in range(3998):
        seq.append(int(rng.choice(V, p=P[seq[-2], seq[-1]])))
    seq = np.array(seq)
    return seq[:3500], seq[3500:], V


def test_scored_positions_skip_each_chunks_first_id() -> None:
    pos, start = scored_positions(25, chunk=10)
    assert list(pos) == [*range(1, 10), *range(11, 20), *range(21, 25)]
    assert list(start) == [0] * 9 + [10] * 9 + [20] * 4


def test_bigram_equals_counting_by_hand(ids) -> None:
    train, val, V = ids
    pairs = Counter(zip(train[:-1].tolist(), train[1:].tolist(), strict=True))
    first = Counter(train[:-1].tolist())
    nll = [-math.log((pairs[(int(val[t - 1]), int(val[t]))] + 0.1) / (first[int(val[t - 1])] + 0.1 * V))
           for t in range(len(val)) if t % 100]
    assert bigram_loss(train, val, V, chunk=100) == pytest.approx(sum(nll) / len(nll), rel=1e-12)


def test_trigram_is_a_distribution_and_its_loss_is_counted_by_hand(ids) -> None:
    train, val, V = ids
    loss, lam = trigram_loss(train, val, V, chunk=100)
    np.testing.assert_allclose(lam.sum(axis=1), 1, atol=1e-12)
    model = Trigram(train, V)
    for a, b in [(0, 1), (3, 3), (6, 2)]:  # every next symbol's probability after a context sums to 1
        E, bucket = model.estimates(np.full(V, a), np.full(V, b), np.arange(V), np.ones(V, bool))
        assert (lam[bucket] * E).sum() == pytest.approx(1, abs=1e-12)
    tri = Counter(zip(train[:-2].tolist(), train[1:-1].tolist(), train[2:].tolist(), strict=True))
    bi = Counter(zip(train[:-1].tolist(), train[1:].tolist(), strict=True))
    ctx2 = Counter(zip(train[:-2].tolist(), train[1:-1].tolist(), strict=True))
    ctx1, uni = Counter(train[:-1].tolist()), Counter(train.tolist())
    nll = []
    for t in range(len(val)):
        if t % 100 == 0:
            continue
        b, c = int(val[t - 1]), int(val[t])
        a = int(val[t - 2]) if t % 100 >= 2 else None
        n_ab = ctx2[(a, b)] if a is not None else 0
        q = 0 if n_ab == 0 else min(BUCKETS - 1, 1 + int(math.floor(math.log2(n_ab))))
        p = (lam[q, 0] * (tri[(a, b, c)] / n_ab if n_ab else 0) + lam[q, 1] * bi[(b, c)] / max(ctx1[b], 1)
             + lam[q, 2] * uni[c] / len(train) + lam[q, 3] / V)
        nll.append(-math.log(p))
    assert loss == pytest.approx(sum(nll) / len(nll), rel=1e-9)
    assert loss < bigram_loss(train, val, V, chunk=100)  # the chain has order 2: the second character helps


def test_em_does_not_lower_the_tuning_likelihood() -> None:
    rng = np.random.default_rng(1)
    E = rng.random((500, 4))
    bucket = rng.integers(BUCKETS, size=500)

    def loglik(lam):
        return float(np.log((lam[bucket] * E).sum(axis=1)).sum())

    start = np.full((BUCKETS, 4), 0.25)
    assert loglik(fit_weights(E, bucket, iterations=30)) >= loglik(start)
