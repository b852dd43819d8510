"""Unit queries (contexts, histogram, saturation) against brute force on the reference trace."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_core import ModelError
from lstm_core.corpus import UnitRef, corpus_saturation, f16, histogram, top_contexts, unit_report

REFS = [UnitRef("h", 1, 0, 3), UnitRef("c", 0, 0, 5), UnitRef("f", 1, 0, 0), UnitRef("g", 0, 0, 2)]
LIMITS = {"i": (0.1, 0.9), "f": (0.1, 0.9), "o": (0.1, 0.9), "g": (-0.9, 0.9), "h": (-0.9, 0.9),
          "c": (-math.atanh(0.9), math.atanh(0.9))}


def _ref_column(b, ref: UnitRef) -> np.ndarray:
    D, H = 1, 6
    return b.ref[ref.quantity][:, (ref.layer * D + ref.direction) * H + ref.unit].astype(np.float64)


@pytest.mark.parametrize("ref", REFS, ids=str)
def test_top_and_bottom_contexts_equal_a_full_sort(small, ref):
    col = _ref_column(small, ref)
    order = sorted(range(len(col)), key=lambda t: (-col[t], t))  # highest first, ties by position
    low = sorted(range(len(col)), key=lambda t: (col[t], t))
    top = top_contexts(small.index, ref, k=7)
    bottom = top_contexts(small.index, ref, k=7, lowest=True)
    assert [c.token for c in top] == order[:7]
    assert [c.token for c in bottom] == low[:7]
    assert [c.value for c in top] == [float(np.float32(col[t])) for t in order[:7]]


def test_a_context_shows_its_text_values_and_how_to_reproduce_it(small):
    ref = UnitRef("c", 1, 0, 2)
    col = _ref_column(small, ref)
    c = top_contexts(small.index, ref, k=1, before=5, after=3)[0]
    t = c.token
    a, b = max(0, t - 5), min(3000, t + 4)
    assert c.snippet.tokens == (a, b) and c.snippet.text == small.text[a:b] and c.chars == (t, t + 1)
    assert c.snippet.text[c.snippet.highlight[0] : c.snippet.highlight[1]] == small.text[t]
    np.testing.assert_array_equal(c.snippet.values, col[a:b].astype(np.float32))
    ws = t - t % 64  # the explorer: trace the traced span from a zero state, read position t
    assert c.traced == (max(0, ws - 16), min(3000, ws + 64)) and c.traced_chars == c.traced
    tt = small.model.trace_text(small.text[c.traced[0] : c.traced[1]])
    assert np.float16(tt.trace.c[1, 0, t - c.traced[0], 2]) == np.float16(c.value)


@pytest.mark.parametrize("ref", REFS, ids=str)
def test_histogram_equals_numpy_on_the_reference(small, ref):
    col = _ref_column(small, ref)
    rng = (0, 1) if ref.quantity in "ifo" else (col.min(), col.max())
    want, edges = np.histogram(col.astype(np.float32), bins=20, range=rng)
    rep = unit_report(small.index, ref, k=3, bins=20)
    np.testing.assert_array_equal(rep.histogram.counts, want)
    np.testing.assert_allclose(rep.histogram.edges, edges, rtol=1e-6)
    assert rep.histogram.counts.sum() == 3000
    assert rep.mean == pytest.approx(col.mean(), rel=1e-6) and rep.std == pytest.approx(col.std(), rel=1e-5)


@pytest.mark.parametrize("ref", REFS, ids=str)
def test_unit_saturation_equals_counting_the_reference(small, ref):
    col = _ref_column(small, ref)
    lo, hi = LIMITS[ref.quantity]
    rep = unit_report(small.index, ref, k=1)
    assert rep.saturation == ((col < lo).mean(), (col > hi).mean())
    assert rep.limits == (lo, hi)


def test_corpus_saturation_maps_every_unit(small, small_bidi):
    for b, D in ((small, 1), (small_bidi, 2)):
        sat = corpus_saturation(b.index, ("i", "f", "o", "c"))
        for q, s in sat.items():
            vals = b.ref[q].astype(np.float64).reshape(-1, 2, D, 6)  # (N, L, D, H)
            lo, hi = LIMITS[q]
            np.testing.assert_array_equal(s.low, (vals < lo).mean(axis=0))
            np.testing.assert_array_equal(s.high, (vals > hi).mean(axis=0))
        assert sat["f"].high.shape == (2, D, 6)


def test_bad_unit_addresses_get_a_sentence(small):
    for ref, match in ((UnitRef("h", 2, 0, 0), "layer must be between 0 and 1"),
                       (UnitRef("h", 0, 1, 0), "direction must be between 0 and 0"),
                       (UnitRef("c", 0, 0, 6), "unit must be between 0 and 5"),
                       (UnitRef("x", 0, 0, 0), "not a quantity")):
        with pytest.raises(ModelError, match=match):
            top_contexts(small.index, ref)
    with pytest.raises(ModelError, match="bins must be"):
        histogram(np.zeros(3, np.float32), "h", bins=0)


def test_float16_comparisons_are_exact_for_every_pattern():
    a = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    a = a[np.isfinite(a)]
    a64 = a.astype(np.float64)
    for t in (0.1, 0.3, 0.9, math.atanh(0.9), 1e-7, 2.0):
        np.testing.assert_array_equal(f16.greater_equal(a, t), a64 >= t)
        np.testing.assert_array_equal(f16.greater(a, t), a64 > t)
        np.testing.assert_array_equal(f16.less(a, t), a64 < t)
        np.testing.assert_array_equal(f16.greater(a, -t), a64 > -t)
        np.testing.assert_array_equal(f16.less(a, -t), a64 < -t)


def test_every_answer_is_plain_json(small):
    import json

    from lstm_core.corpus import pattern_in_index, search

    rep = unit_report(small.index, UnitRef("h", 1, 0, 3), k=2).to_json()
    sat = {q: s.to_json() for q, s in corpus_saturation(small.index).items()}
    pat = pattern_in_index(small.index, *_first_pattern(small), 0.2, "h", 1)
    res = search(small.index, pat, limit=3).to_json()
    text = json.dumps({"report": rep, "saturation": sat, "search": res}, allow_nan=False)
    back = json.loads(text)
    assert back["report"]["top"][0]["snippet"]["text"] and len(back["search"]["matches"]) == 3
    assert back["report"]["histogram"]["counts"] == rep["histogram"]["counts"]


def _first_pattern(b) -> tuple[int, int]:
    on = b.ref["h"][:, 6:12].astype(np.float64) >= 0.2
    for t in range(1, len(on) - 4):
        keep = on[t : t + 3].all(axis=0) & ~on[t - 1] & ~on[t + 3]
        if keep.any():
            return t, t + 3
    raise AssertionError("no pattern in the reference")
