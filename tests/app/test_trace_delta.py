"""Delta answers (`held`): the answer for a text, given the text whose answer the client holds, carries only the
positions from `start` on; the held answer's first `start` positions followed by it equal the whole answer.
The splice here is written independently of static/js/splice.js, on the json encoding (exact values)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.app.conftest import CORPUS, MAX_TOKENS

QUANTITIES = ["i", "f", "g", "o", "c", "h"]
PER_POSITION = ["tokens", "ids", "spans", "next_prob"]


def trace(api, model: str, text: str, held: str | None = None, **extra) -> dict:
    r = api.post("/api/trace", json={"model": model, "text": text, "format": "json", "held": held, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def spliced(whole_held: dict, delta: dict) -> dict:
    """The client's view: the held answer up to delta's start, then the delta."""
    s = delta["start"]
    out = dict(delta)
    for q in QUANTITIES:
        a, b = np.array(whole_held[q]), np.array(delta[q]).reshape(*np.shape(whole_held[q])[:2], -1,
                                                                    np.shape(whole_held[q])[3])
        out[q] = np.concatenate([a[:, :, :s], b], axis=2).tolist()
    for k in PER_POSITION:
        out[k] = whole_held[k][:s] + delta[k]
    if delta["top_k"] is not None:
        out["top_k"] = {k: whole_held["top_k"][k][:s] + delta["top_k"][k] for k in ("ids", "tokens", "probs")}
    return out


def assert_same(got: dict, whole: dict) -> None:
    for k in [*QUANTITIES, *PER_POSITION, "top_k", "oov", "oov_chars", "steps", "classes"]:
        assert got[k] == whole[k], k


def common(a: str, b: str) -> int:
    return len(os.path.commonprefix([a, b]))


EDITS = [  # (held, text): typing on, backspace, an edit in the middle, a new text, an unknown character, same text
    ("the lazy d", "the lazy do"), ("the lazy do", "the lazy d"), ("the lazy dog", "the hazy dog"),
    ("the lazy dog", "brown"), ("the lazy", "the lazy ☃ dog"), ("the lazy ☃", "the lazy ☄"), ("fox", "fox"),
]


@pytest.mark.parametrize(("held", "text"), EDITS)
def test_a_delta_spliced_on_the_held_answer_equals_the_whole_answer(api, held, text):
    whole = trace(api, "tiny-char", text)
    delta = trace(api, "tiny-char", text, held)
    # Characters: every position before the first edited character is unchanged. ☃ and ☄ share the unknown id,
    # but not their token, so the answer starts at the first of them.
    assert delta["start"] == common(held, text)
    assert len(delta["tokens"]) == len(text) - delta["start"]
    assert_same(spliced(trace(api, "tiny-char", held), delta), whole)


def test_words_start_at_the_word_being_typed(api):
    held, text = "the quick bro", "the quick brow"
    delta = trace(api, "words", text, held)
    assert delta["start"] == 2  # "the", "quick" kept; "bro" became "brow"
    assert_same(spliced(trace(api, "words", held), delta), trace(api, "words", text))


def test_models_that_read_both_ways_vectors_and_clamped_runs_answer_whole(api):
    assert trace(api, "bi-proj", "the quick", "the quic")["start"] == 0  # every position changes
    clamp = [{"layer": 0, "unit": 1, "quantity": "c", "value": 0.5, "positions": [6]}]
    got = trace(api, "tiny-char", "the quick", "the quic", interventions=clamp)
    assert got["start"] == 0 and len(got["tokens"]) == 9
    vec = api.post("/api/trace", json={"model": "vec", "vectors": [[0, 1, 0]] * 3, "held": "x", "format": "json"})
    assert vec.json()["start"] == 0 and len(vec.json()["tokens"]) == 3


def test_a_compact_delta_is_a_few_columns(api):
    """The point of it: one more character costs one column of each quantity, not the whole text."""
    text = "the quick brown fox jumps over the lazy dog"
    r = api.post("/api/trace", json={"model": "tiny-char", "text": text, "held": text[:-1]}).json()
    assert r["start"] == len(text) - 1 and r["i"]["shape"] == [2, 1, 1, 8] and r["steps"] == len(text)


def test_a_held_text_beyond_the_length_limit_is_ignored(api):
    got = trace(api, "tiny-char", "the", "the" + "x" * (64 * MAX_TOKENS))
    assert got["start"] == 0 and len(got["tokens"]) == 3


ALPHABET = sorted(set(CORPUS)) + ["☃", "é"]
texts = st.text(st.sampled_from(ALPHABET), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(held=texts, cut=st.integers(0, 20), tail=st.text(st.sampled_from(ALPHABET), max_size=5),
       model=st.sampled_from(["tiny-char", "words", "bi-proj"]))
def test_any_edit_spliced_equals_the_whole_answer(client, held, cut, tail, model):
    text = held[: max(0, len(held) - cut)] + tail or "x"
    if model == "words":  # a text of spaces has no word tokens: a 422 (tests/app/test_input_errors.py)
        assume(text.strip() and held.strip())
    whole = trace(client, model, text)
    delta = trace(client, model, text, held)
    assert_same(spliced(trace(client, model, held), delta), whole)
