"""Bounded memory per request: the answer's cost is estimated before computing and refused above the budget,
and a large vocabulary's T x V probabilities are never held at once."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, save_model
from tests.app.conftest import app_client

V_BIG = 300_000


@pytest.fixture(scope="module")
def big_vocab_dir(tmp_path_factory):
    """The shape of defect 16.1's upload: embedding -> LSTM(2, 4) -> Linear(4, V) over a huge word vocabulary."""
    d = tmp_path_factory.mktemp("bigvocab")
    rng = np.random.default_rng(0)
    tok = Tokenizer("word", tuple(f"w{j}" for j in range(V_BIG)))
    model = Model(LSTM.random(LSTMConfig(2, 4, 1), seed=0), "embedding", tok,
                  rng.normal(size=(V_BIG, 2)).astype(np.float32), rng.normal(size=(V_BIG, 4)).astype(np.float32),
                  rng.normal(size=V_BIG).astype(np.float32))
    save_model(model, d / "big.safetensors")
    return d


def _peak_mb(fn) -> tuple[object, float]:
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_a_huge_vocabulary_never_holds_t_by_v_probabilities(big_vocab_dir):
    """Defect 16.1: 200 tokens x 300,000 words held (T, V) probabilities and their argsort (~1 GB here, 3 GB at
    1M words). Only the top-k and the actual next token's probability are sent, so only those may be kept."""
    text = " ".join(f"w{(j * 7919) % V_BIG}" for j in range(200))
    with app_client(big_vocab_dir, max_tokens=2000) as c:
        r, peak = _peak_mb(lambda: c.post("/api/trace", json={"model": "big", "text": text, "top_k": 50}))
        assert r.status_code == 200, r.text
        body = r.json()
    assert body["steps"] == 200 and len(body["top_k"]["ids"][0]) == 50
    # T x V float32 alone would be 229 MB; the values sent are 200 x 6 x 4 numbers.
    assert peak < 48, f"peak {peak:.0f} MB"


def test_an_answer_over_the_budget_is_refused_before_it_is_computed(big_vocab_dir):
    """The estimate (values x bytes each + T x V probabilities) is checked before any work; the sentence says
    what the trace would cost, what the server allows, and what to do."""
    text = " ".join(f"w{j}" for j in range(100))  # 100 x 300,000 x 4 bytes = 114 MB of probabilities
    with app_client(big_vocab_dir, max_trace_mb=64) as c:
        r, peak = _peak_mb(lambda: c.post("/api/trace", json={"model": "big", "text": text}))
        assert r.status_code == 413, r.text
        assert r.json()["code"] == "trace_too_large"
        detail = r.json()["detail"]
        for words in ("64 MB", "100 tokens", "300,000", "GATESCOPE_MAX_TRACE_MB"):
            assert words in detail
        assert peak < 16
        assert c.post("/api/trace", json={"model": "big", "text": "w1 w2 w3"}).status_code == 200
        r = c.post("/api/step", json={"model": "big", "text": text})
        assert r.status_code == 413 and r.json()["code"] == "trace_too_large"


NEW_PATHS = {  # issue 13's endpoints and clamped runs: each reads next-token predictions, none may hold T x V
    "compare": ("/api/compare", lambda text: {"a": {"model": "big", "text": text},
                                              "b": {"text": text.replace("w", "w1", 1)}, "top_k": 50}),
    "clamped trace": ("/api/trace", lambda text: {"model": "big", "text": text, "top_k": 50, "interventions": [
        {"unit": 1, "quantity": "c", "value": 0.0, "positions": [100]}]}),
    "clamped compare": ("/api/compare", lambda text: {"a": {"model": "big", "text": text}, "b": {"interventions": [
        {"unit": 0, "quantity": "h", "value": 1.0}]}}),
    "export json": ("/api/export/json", lambda text: {"model": "big", "text": text, "top_k": 50}),
    "export npz": ("/api/export/npz", lambda text: {"model": "big", "text": text, "top_k": 50}),
    "export csv": ("/api/export/csv", lambda text: {"model": "big", "text": text}),
    "snapshot": ("/api/export/html", lambda text: {"model": "big", "text": text, "compare": {"text": "w1 w2"}}),
}


@pytest.mark.slow
@pytest.mark.parametrize("what", NEW_PATHS)
def test_comparisons_clamps_and_exports_never_hold_t_by_v_probabilities(big_vocab_dir, what):
    """The same 200 tokens of the 300,000-word model through every other endpoint that predicts: T x V float32
    would be 229 MB, so a peak under 48 MB means the blocked predictions (top-k and the actual next token) are
    what they use."""
    path, body = NEW_PATHS[what]
    text = " ".join(f"w{(j * 7919) % V_BIG}" for j in range(200))
    # The budget counts T x V as if held (230 MB here), and a comparison's run gets a third of it.
    with app_client(big_vocab_dir, max_tokens=2000, max_trace_mb=1024) as c:
        r, peak = _peak_mb(lambda: c.post(path, json=body(text)))
        assert r.status_code == 200, r.text
    # The snapshot is an HTML page of seven figures with plotly.js inside (52 MB measured): well under T x V still.
    assert peak < (96 if what == "snapshot" else 48), f"{what}: peak {peak:.0f} MB"


@pytest.mark.parametrize("what", ["compare", "clamped trace", "clamped compare", "export json", "export npz",
                                  "export csv", "snapshot"])
def test_comparisons_clamps_and_exports_over_the_budget_are_refused(big_vocab_dir, what):
    """Each of them checks the budget before computing, with the trace's sentence (a comparison gives each run a
    third of it, as the answer holds both runs and their difference)."""
    path, body = NEW_PATHS[what]
    text = " ".join(f"w{j}" for j in range(100))  # 114 MB of probabilities: over 64 MB (and over a third of 192)
    with app_client(big_vocab_dir, max_trace_mb=64) as c:
        r, peak = _peak_mb(lambda: c.post(path, json=body(text)))
        assert r.status_code == 413, r.text
        assert r.json()["code"] == "trace_too_large" and "GATESCOPE_MAX_TRACE_MB" in r.json()["detail"]
        assert peak < 16
    if what.endswith("compare"):
        with app_client(big_vocab_dir, max_trace_mb=192) as c:  # enough for one trace, not for two and a difference
            assert c.post("/api/trace", json={"model": "big", "text": text}).status_code == 200
            r = c.post(path, json=body(text))
            assert r.status_code == 413 and r.json()["code"] == "trace_too_large", r.text
