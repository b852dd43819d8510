"""Clamps and comparisons on models that are not plain language models: a classifier's answer and a tagger's
labels follow the clamp (the cached run before it, the loop after it, read as one run), a comparison of taggers
has no 'next token' to compare, and texts wrapped in <s> ... </s> are compared wrapped."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lstm_core import load_model
from lstm_core.interventions import Intervention, trace_with_interventions
from tests.app.test_heads_api import TAGS, client, head_dir  # noqa: F401 (the fixtures: its models and app)

TEXT = "abc de fgh"


def whole_run(directory: Path, name: str, iv: dict):
    """The clamped run computed in one go from t = 0 (not the server's cached head plus a clamped tail)."""
    model = load_model(directory / f"{name}.safetensors")
    x = model.inputs(model.encode(TEXT).ids)
    tr = trace_with_interventions(model.lstm, x, [Intervention(iv["layer"], 0, iv["unit"], iv["quantity"], iv["value"],
                                                               tuple(iv["positions"]))])
    return model, model.outputs(tr)


def test_a_classifiers_answer_follows_a_clamp(client, head_dir):  # noqa: F811
    iv = {"layer": 1, "unit": 2, "quantity": "h", "value": 3.0, "positions": [4, 5]}
    client.post("/api/trace", json={"model": "classifier", "text": TEXT})  # the unclamped run, now cached
    body = client.post("/api/trace", json={"model": "classifier", "text": TEXT, "interventions": [iv]}).json()
    plain = client.post("/api/trace", json={"model": "classifier", "text": TEXT}).json()
    _, want = whole_run(head_dir, "classifier", iv)
    assert body["head"] == "classifier" and body["cached_prefix"] == 4  # the steps before the clamp came cached
    np.testing.assert_allclose(body["classes"]["probs"], want, rtol=1e-5, atol=1e-7)
    assert body["classes"]["labels"] == ["neg", "neu", "pos"]
    assert not np.allclose(body["classes"]["probs"], plain["classes"]["probs"], atol=1e-4)  # the clamp mattered
    assert body["next_prob"] == [None] * len(TEXT)


def test_a_taggers_labels_follow_a_clamp(client, head_dir):  # noqa: F811
    iv = {"layer": 0, "unit": 1, "quantity": "c", "value": -2.0, "positions": [3]}
    body = client.post("/api/trace", json={"model": "tagger", "text": TEXT, "interventions": [iv], "top_k": 4}).json()
    _, want = whole_run(head_dir, "tagger", iv)  # (T, K): bidirectional, so every position may move
    got = np.zeros_like(want)
    for t, (ids, probs) in enumerate(zip(body["top_k"]["ids"], body["top_k"]["probs"], strict=True)):
        got[t, ids] = probs
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert {w for row in body["top_k"]["tokens"] for w in row} <= set(TAGS)


def test_comparing_taggers_has_no_next_token_to_compare(client):  # noqa: F811
    r = client.post("/api/compare", json={"a": {"model": "tagger", "text": TEXT}, "b": {"text": "abc xy fgh"},
                                          "format": "json"}).json()
    assert r["alignment"]["prefix"] == 4 and r["alignment"]["suffix"] == 4
    assert r["next_prob_delta"] == [None] * 8


def test_wrapped_texts_are_compared_wrapped(client, head_dir):  # noqa: F811
    r = client.post("/api/compare", json={"a": {"model": "wrapped", "text": "abc", "wrap": True},
                                          "b": {"text": "abd"}, "format": "json"}).json()
    assert r["a"]["tokens"] == ["<s>", "a", "b", "c", "</s>"] and r["b"]["tokens"] == ["<s>", "a", "b", "d", "</s>"]
    assert r["alignment"]["prefix"] == 3 and r["alignment"]["suffix"] == 1
    model = load_model(head_dir / "wrapped.safetensors")
    want = model.trace_text("abd", wrap=True).trace.c.astype(np.float64)
    np.testing.assert_array_equal(np.array(r["b"]["c"]), want)
    # a second model without begin/end tokens is compared unwrapped rather than refused; asked for, it is refused
    r = client.post("/api/compare", json={"a": {"model": "wrapped", "text": "abc", "wrap": True},
                                          "b": {"model": "tagger"}, "format": "json"})
    assert r.status_code == 200 and r.json()["b"]["tokens"] == ["a", "b", "c"]
    r = client.post("/api/compare", json={"a": {"model": "wrapped", "text": "abc", "wrap": True},
                                          "b": {"model": "tagger", "wrap": True}})
    assert r.status_code == 422 and r.json()["code"] == "cannot_wrap"
