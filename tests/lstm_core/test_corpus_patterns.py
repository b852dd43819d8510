"""Pattern search against a plain-Python re-implementation of its definition on the reference values."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_core import ModelError
from lstm_core.corpus import pattern_in_index, pattern_in_text, pattern_of, search


def _on(b, q: str, layer: int, threshold: float) -> np.ndarray:
    """(N, H) bool from the reference values compared in float64: value >= threshold."""
    return b.ref[q][:, layer * 6 : (layer + 1) * 6].astype(np.float64) >= threshold


def _brute_pattern(on: np.ndarray, t0: int, t1: int) -> list[int]:
    N, H = on.shape
    return [u for u in range(H) if on[t0:t1, u].all() and (t0 == 0 or not on[t0 - 1, u])
            and (t1 == N or not on[t1, u])]


def _brute_search(on: np.ndarray, units: list[int], length: int, min_overlap: float) -> list[tuple]:
    N, H = on.shape
    P = set(units)
    count = [sum(bool(on[t, u]) for u in P) for t in range(N)]
    runs = set()
    for n in range(len(P), max(1, math.ceil(min_overlap * len(P))) - 1, -1):
        t = 0
        while t < N:
            if count[t] >= n:
                s = t
                while t < N and count[t] >= n:
                    t += 1
                runs.add((s, t))
            else:
                t += 1
    out = []
    for a, b in runs:
        S = {u for u in range(H) if on[a:b, u].all() and (a == 0 or not on[a - 1, u]) and (b == N or not on[b, u])}
        out.append((a, b, len(S & P), len(S - P), abs(b - a - length)))
    return sorted(out, key=lambda r: (-r[2], r[3], r[4], r[0]))


def _spans_with_patterns(on: np.ndarray, want: int = 3):
    """A few (t0, t1) spans whose brute-force pattern has at least one unit, for lengths 1 to 4."""
    found = []
    for t1_len in (3, 1, 2, 4):
        for t0 in range(100, len(on) - 5, 37):
            if _brute_pattern(on, t0, t0 + t1_len):
                found.append((t0, t0 + t1_len))
                break
    assert len(found) >= want, "the reference has too few patterns for a meaningful test"
    return found


@pytest.mark.parametrize("q, layer, threshold, min_overlap", [
    ("h", 1, 0.2, 0.5), ("c", 0, 0.3, 1.0), ("h", 0, 0.1, 0.34),
    ("c", 1, 0.25, 0.5),  # no stored mask at 0.25: computed from the stored values
])
def test_search_equals_brute_force(small, q, layer, threshold, min_overlap):
    on = _on(small, q, layer, threshold)
    for t0, t1 in _spans_with_patterns(on):
        pat = pattern_in_index(small.index, t0, t1, threshold, q, layer)
        assert pat.units.tolist() == _brute_pattern(on, t0, t1)
        want = _brute_search(on, pat.units.tolist(), t1 - t0, min_overlap)
        res = search(small.index, pat, limit=10_000, min_overlap=min_overlap)
        got = [(m.start, m.end, m.overlap, m.extra, m.length_diff) for m in res.matches]
        assert got == want
        assert res.candidates == len(want) and res.full == sum(w[2] == len(pat.units) for w in want)
        best = (len(pat.units), 0, 0)  # the query span is a best match (earlier identical ones come first)
        assert got[0][2:] == best and (t0, t1, *best) in got


def test_a_match_carries_its_text_and_the_share_of_pattern_units_on(small):
    on = _on(small, "h", 1, 0.2)
    t0, t1 = _spans_with_patterns(on)[0]
    pat = pattern_in_index(small.index, t0, t1, 0.2, "h", 1)
    m = search(small.index, pat, limit=3, context=4).matches[1]
    s = m.snippet
    assert s.text == small.text[s.chars[0] : s.chars[1]] and s.tokens == (max(0, m.start - 4), min(3000, m.end + 4))
    assert s.text[s.highlight[0] : s.highlight[1]] == small.text[m.start : m.end]
    share = on[s.tokens[0] : s.tokens[1]][:, pat.units].mean(axis=1)
    np.testing.assert_allclose(s.values, share, rtol=1e-6)


def test_a_pattern_from_freshly_traced_text_equals_the_index_pattern(small):
    """The explorer's trace of a window's traced span gives the same pattern as the index."""
    on = _on(small, "h", 1, 0.2)
    t0, t1 = _spans_with_patterns(on)[0]
    a = small.index.geometry.traced_span(t0)[0]
    end = small.index.geometry.window_of(t0)[1]
    if t1 >= end:
        pytest.skip("the span reaches the window's end")
    fresh = pattern_in_text(small.index, small.model, small.text[a:end], t0 - a, t1 - a, 0.2, "h", 1)
    assert fresh.units.tolist() == pattern_in_index(small.index, t0, t1, 0.2, "h", 1).units.tolist()


def test_pattern_errors_are_sentences(small):
    vals = np.zeros((5, 4), np.float32)
    with pytest.raises(ModelError, match="no unit of h"):
        pattern_of(vals, 1, 3, 0.5, "h")
    with pytest.raises(ModelError, match="threshold must be positive"):
        pattern_of(vals, 1, 3, 0.0, "h")
    with pytest.raises(ModelError, match="span must satisfy"):
        pattern_in_index(small.index, 10, 10, 0.2)
    with pytest.raises(ModelError, match="layer must be between"):
        pattern_in_index(small.index, 10, 12, 0.2, "h", 5)
