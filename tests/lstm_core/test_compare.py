"""Comparison of two runs (lstm_core.compare): token alignment on shared prefixes, suffixes and neither, the
difference on aligned positions, and where the runs part."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_core import LSTM, LSTMConfig, Model, Tokenizer
from lstm_core.compare import Alignment, align, difference, first_above, paired, same_shape

VOCAB = "abcdefghijklmnopqrstuvwxyz ,.我来自内蒙古广东"


@pytest.mark.parametrize("a, b, prefix, suffix, pairs", [
    # a shared prefix only
    ("I am happy", "I am sad", 5, 0, [(t, t) for t in range(5)]),
    # a shared suffix only
    ("cat sat", "dog sat", 0, 4, [(3, 3), (4, 4), (5, 5), (6, 6)]),
    # both, with middles of different lengths (the seed sentence's place swapped)
    ("我来自内蒙古，我能讲", "我来自广东，我能讲", 3, 4, [(0, 0), (1, 1), (2, 2), (6, 5), (7, 6), (8, 7), (9, 8)]),
    # neither
    ("abc", "xyz", 0, 0, []),
    # identical: every position, the suffix empty
    ("same", "same", 4, 0, [(0, 0), (1, 1), (2, 2), (3, 3)]),
    # one a prefix of the other: the suffix may not reuse the prefix's tokens
    ("ab", "abab", 2, 0, [(0, 0), (1, 1)]),
    ("abab", "ab", 2, 0, [(0, 0), (1, 1)]),
    # one a suffix of the other
    ("b", "ab", 0, 1, [(0, 1)]),
    # an insertion: "I am not happy" against "I am happy"
    ("I am happy", "I am not happy", 5, 5, [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 9), (6, 10), (7, 11),
                                          (8, 12), (9, 13)]),
    # empty
    ("", "abc", 0, 0, []),
])
def test_alignment(a: str, b: str, prefix: int, suffix: int, pairs: list[tuple[int, int]]) -> None:
    al = align(list(a), list(b))
    assert (al.prefix, al.suffix, al.len_a, al.len_b) == (prefix, suffix, len(a), len(b))
    assert al.pairs.tolist() == [list(p) for p in pairs]
    assert al.identical == (a == b)


@given(st.text("ab", max_size=8), st.text("ab", max_size=8))
def test_aligned_tokens_are_equal_and_each_is_used_once(a: str, b: str) -> None:
    al = align(list(a), list(b))
    pairs = al.pairs
    assert all(a[i] == b[j] for i, j in pairs)
    assert len(set(pairs[:, 0])) == len(pairs) == len(set(pairs[:, 1]))
    assert np.all(np.diff(pairs[:, 0]) > 0) and np.all(np.diff(pairs[:, 1]) > 0)  # in order on both sides
    # maximal: the prefix cannot grow, and the suffix cannot grow without overlapping the prefix
    n = min(len(a), len(b))
    assert al.prefix == n or a[al.prefix] != b[al.prefix]
    s = al.suffix
    assert al.prefix + s == n or a[len(a) - 1 - s] != b[len(b) - 1 - s]


def _model(seed: int = 0, bidirectional: bool = False) -> Model:
    tok = Tokenizer("char", tuple(VOCAB))
    rng = np.random.default_rng(seed)
    lstm = LSTM.random(LSTMConfig(len(VOCAB), 5, 2, bidirectional=bidirectional), seed=seed, dtype=np.float64)
    lstm = LSTM(lstm.config, {k: v * 3 for k, v in lstm.params.items()})
    D = 2 if bidirectional else 1
    return Model(lstm, "onehot", tok, None, rng.standard_normal((len(VOCAB), 5 * D)), None)


def test_the_difference_is_b_minus_a_on_aligned_positions() -> None:
    m = _model()
    ta, tb = m.trace_text("我来自内蒙古，我能讲"), m.trace_text("我来自广东，我能讲")
    al = align(ta.tokens, tb.tokens)
    d = difference(ta.trace, tb.trace, al)
    for q in ("i", "f", "g", "o", "c", "h"):
        assert d.diff[q].shape == (2, 1, 7, 5)
        for j, (s, t) in enumerate([(0, 0), (1, 1), (2, 2), (6, 5), (7, 6), (8, 7), (9, 8)]):
            want = tb.trace.gate(q)[:, :, t, :] - ta.trace.gate(q)[:, :, s, :]
            np.testing.assert_array_equal(d.diff[q][:, :, j, :], want)
            np.testing.assert_array_equal(d.peak[q][:, :, j], np.abs(want).max(axis=-1))
    # a causal model: the shared start is identical, and the memory of the place shows after the middle
    assert np.all(d.peak["c"][:, :, :3] == 0)
    assert d.peak["c"][0, 0, 3] > 0
    div = d.divergence(1e-9)
    assert div.shape == (2, 1) and (div == 3).all()


def test_divergence_and_where_the_runs_agree_again() -> None:
    peak = np.array([[[0.0, 0.2, 0.05, 0.3, 0.01], [0, 0, 0, 0, 0]]])  # (L=1, D=2, P=5)
    np.testing.assert_array_equal(first_above(peak, 0.1), [[1, -1]])
    np.testing.assert_array_equal(first_above(peak, 0.25), [[3, -1]])
    al = Alignment(5, 5, 5, 0)
    from lstm_core.compare import Difference
    d = Difference(al, {}, {q: peak for q in "ifgoch"})
    np.testing.assert_array_equal(d.divergence(0.1), [[1, -1]])
    np.testing.assert_array_equal(d.last_divergent(0.1), [[3, -1]])
    np.testing.assert_array_equal(d.last_divergent(0.5), [[-1, -1]])


def test_bidirectional_runs_differ_in_the_shared_start_too() -> None:
    m = _model(1, bidirectional=True)
    ta, tb = m.trace_text("cat sat"), m.trace_text("cat sit")
    d = difference(ta.trace, tb.trace, align(ta.tokens, tb.tokens))
    assert np.all(d.peak["h"][0, 0, :5] == 0)  # layer 0 forward: the first five tokens are the same
    assert np.all(d.peak["h"][0, 1, :5] > 0)  # backward: it read the different ending first
    assert np.all(d.peak["h"][1, 0, :5] > 0)  # and layer 1 forward reads layer 0's backward half


def test_traces_of_different_shapes_do_not_correspond() -> None:
    a = _model().trace_text("abc").trace
    b = Model(LSTM.random(LSTMConfig(len(VOCAB), 6, 2)), "onehot", Tokenizer("char", tuple(VOCAB))).trace_text("abc")
    assert not same_shape(a, b.trace)
    with pytest.raises(ValueError, match="do not correspond"):
        difference(a, b.trace, align("abc", "abc"))


def test_paired_series() -> None:
    al = align("xab", "yab")
    np.testing.assert_array_equal(paired([0.1, 0.25, 0.5], [0.5, 0.75, np.nan], al), [0.5, np.nan])
