"""POST /api/compare: two texts, two models, a run and its clamped copy; and GET /api/models/{id}/history with
snapshot ids that never become paths."""
from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, load_model, save_model
from tests.app.wire import decode

GATES = ("i", "f", "g", "o", "c", "h")


def compare(api, a: dict, b: dict, **extra) -> dict:
    r = api.post("/api/compare", json={"a": {"model": "tiny-char", **a}, "b": b, "format": "json", **extra})
    assert r.status_code == 200, r.text
    return r.json()


def test_two_texts_align_on_prefix_and_suffix_and_the_difference_is_b_minus_a(api, model_dir):
    body = compare(api, {"text": "the fox jumps."}, {"text": "the lazy dog jumps."}, threshold=0.01)
    assert body["alignment"]["prefix"] == 4 and body["alignment"]["suffix"] == 7  # "the " and " jumps."
    pairs = body["alignment"]["pairs"]
    assert pairs[:4] == [[t, t] for t in range(4)] and pairs[4] == [7, 12]
    model = load_model(model_dir / "tiny-char.safetensors")
    ta, tb = model.trace_text("the fox jumps."), model.trace_text("the lazy dog jumps.")
    for q in GATES:
        want = np.stack([tb.trace.gate(q)[:, :, j].astype(np.float64) - ta.trace.gate(q)[:, :, i] for i, j in pairs],
                        axis=2)  # (L, D, P, H)
        got = decode(body["diff"][q])[0]
        np.testing.assert_array_equal(got, want, err_msg=q)
        np.testing.assert_array_equal(np.array(body["peak"][q]), np.abs(want).max(axis=-1), err_msg=q)
        # and b - a of the two trace bodies sent with it
        np.testing.assert_array_equal(got, np.stack([decode(body["b"][q])[0][:, :, j] - decode(body["a"][q])[0][:, :, i]
                                                     for i, j in pairs], axis=2))
    # causal: the shared start is identical, the difference shows in the shared end
    assert body["divergence"]["any"] == [[4], [4]]
    assert np.all(np.array(body["peak"]["c"])[:, :, :4] == 0)
    pa, pb = body["a"]["next_prob"], body["b"]["next_prob"]
    assert body["next_prob_delta"][0] is None
    assert body["next_prob_delta"][5] == pytest.approx(pb[13] - pa[8], abs=0)


def test_texts_with_nothing_in_common(api):
    body = compare(api, {"text": "abc"}, {"text": "xyz"})
    assert body["alignment"] == {"prefix": 0, "suffix": 0, "pairs": []}
    assert body["divergence"]["any"] == [[None], [None]] and body["next_prob_delta"] == []
    assert body["diff"]["c"] == [[[]], [[]]]
    compact = api.post("/api/compare", json={"a": {"model": "tiny-char", "text": "abc"}, "b": {"text": "xyz"}}).json()
    assert decode(compact["diff"]["c"])[0].shape == (2, 1, 0, 8)


def test_a_run_beside_its_clamped_copy(api):
    iv = {"layer": 0, "unit": 3, "quantity": "f", "value": 0.0, "positions": [5]}
    body = compare(api, {"text": "the quick brown fox"}, {"interventions": [iv]}, threshold=1e-6)
    assert body["alignment"]["prefix"] == 19 and body["b"]["interventions"][0]["positions"] == [5]
    assert body["a"]["interventions"] == []
    d = {q: decode(body["diff"][q])[0] for q in GATES}
    for q in GATES:
        assert np.all(d[q][:, :, :5] == 0), q  # nothing before the clamp
    assert d["f"][0, 0, 5, 3] == -decode(body["a"]["f"])[0][0, 0, 5, 3]
    assert np.all(d["f"][0, 0, 5, np.arange(8) != 3] == 0)  # the other units' f at t are not touched
    # layer 1 reads layer 0's h at the same step, so it moves at t too
    assert body["divergence"]["f"] == [[5], [5]] and body["divergence"]["c"] == [[5], [5]]
    # the unclamped side is the run /api/trace answers: the same bits up to the clamp, and after it the same
    # values from the clamping loop (both sides switch to it at t = 5, so untouched cells differ by exactly 0)
    plain = api.post("/api/trace", json={"model": "tiny-char", "text": "the quick brown fox", "format": "json"}).json()
    for q in GATES:
        a, p = decode(body["a"][q])[0], decode(plain[q])[0]
        np.testing.assert_array_equal(a[:, :, :5], p[:, :, :5])
        np.testing.assert_allclose(a, p, atol=1e-6)


def test_two_models_of_different_shapes_are_shown_without_a_difference(api):
    body = compare(api, {"text": "the dog"}, {"model": "bi-proj"})
    assert body["comparable"] is False and "do not correspond" in body["reason"]
    assert body["diff"] is None and body["a"]["model"] == "tiny-char" and body["b"]["model"] == "bi-proj"
    assert body["alignment"]["prefix"] == 7


def test_compare_refusals(api):
    r = api.post("/api/compare", json={"a": {"model": "tiny-char", "text": "abc"}, "b": {"model": "nope"}})
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    r = api.post("/api/compare", json={"a": {"model": "tiny-char", "text": "abc"}, "b": {}, "threshold": -1})
    assert r.status_code == 422 and "threshold" in r.json()["detail"]


# --- training history ---------------------------------------------------------------------------------------

CORPUS = "abcab cab"


@pytest.fixture(scope="module")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory with `toy` and three training snapshots in models/history/toy, as the trainer writes
    them (lstm_core.train.history: step-NNNNNN.safetensors files and a history.json manifest)."""
    d = tmp_path_factory.mktemp("history-models")
    tok = Tokenizer.build(CORPUS, "char")
    V = len(tok)
    hist = d / "history" / "toy"
    hist.mkdir(parents=True)
    rows = []
    for k, step in enumerate((10, 20, 30)):
        m = Model(LSTM.random(LSTMConfig(V, 3, 1), seed=k), "onehot", tok, None,
                  np.random.default_rng(k).normal(size=(V, 3)).astype(np.float32), None, {"name": f"toy (step {step})"})
        save_model(m, hist / f"step-{step:06d}.safetensors")
        rows.append({"step": step, "file": f"step-{step:06d}.safetensors", "metrics": {"train_loss": 1.0 / step}})
        if step == 30:
            save_model(m, d / "toy.safetensors")
    (hist / "history.json").write_text(json.dumps({"name": "toy", "config": {}, "snapshots": rows}))
    (d / "history" / "evil").mkdir()  # a history for a model that does not exist
    save_model(m, d / "secret.safetensors")  # a model the snapshot ids must never reach by a path
    (d / "plain.safetensors").write_bytes((d / "secret.safetensors").read_bytes())
    return d


@pytest.fixture()
def hclient(history_dir: Path) -> Iterator:
    """A TestClient serving `history_dir`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from app.main import create_app
    from app.settings import Settings, get_settings

    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(model_dir=history_dir)
    with TestClient(app) as c:
        yield c


def test_history_lists_snapshots_that_trace_as_models(hclient, history_dir):
    h = hclient.get("/api/models/toy/history").json()
    assert h["model"] == "toy"
    assert [s["id"] for s in h["snapshots"]] == ["toy~step-000010", "toy~step-000020", "toy~step-000030"]
    assert h["snapshots"][1]["metrics"] == {"train_loss": 0.05}
    assert hclient.get("/api/models").json()["models"][[m["id"] for m in hclient.get("/api/models").json()["models"]]
                                                       .index("toy")]["history"] == 3
    assert hclient.get("/api/models/plain/history").json()["snapshots"] == []
    info = hclient.get("/api/models/toy~step-000010").json()
    assert info["name"] == "toy (step 10)" and info["history"] == 0
    r = hclient.post("/api/trace", json={"model": "toy~step-000010", "text": "abc", "format": "json"}).json()
    want = load_model(history_dir / "history" / "toy" / "step-000010.safetensors").trace_text("abc")
    np.testing.assert_array_equal(decode(r["c"])[0], want.trace.c)
    body = hclient.post("/api/compare", json={"a": {"model": "toy", "text": "abcab"},
                                              "b": {"model": "toy~step-000010"}, "format": "json"}).json()
    assert body["comparable"] and body["b"]["model"] == "toy~step-000010"


@pytest.mark.parametrize("bad", [
    "toy~step-000011", "toy~step-1x", "toy~../secret", "toy~..%2Fsecret", "toy~step-000010~x", "evil~step-000010",
    "~step-000010", "toy~", "../toy~step-000010", "toy~history", "toy~/etc/passwd", "secret~step-000010",
])
def test_snapshot_ids_never_become_paths(hclient, bad):
    r = hclient.post("/api/trace", json={"model": bad, "text": "abc"})
    assert r.status_code == 404, bad
    assert "snapshot" in r.json()["detail"] or "No model" in r.json()["detail"]
    assert hclient.get(f"/api/models/{bad}/history").status_code == 404


def test_a_manifest_naming_files_outside_its_directory_is_ignored(tmp_path, hclient, history_dir):
    from app import history

    d = tmp_path / "history" / "toy"
    d.mkdir(parents=True)
    (d / "history.json").write_text(json.dumps({"snapshots": [{"step": 1, "file": "../../secret.safetensors"}]}))
    assert history.snapshots(tmp_path, "toy") == []
    (d / "history.json").write_text("{not json")
    assert history.snapshots(tmp_path, "toy") == []
