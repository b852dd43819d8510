"""A busy server: traces wait in a bounded queue, the rest are told when to come back, health stays quick."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from app.testing import start_server, stop_server
from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, save_model


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """A server with one trace slot and two waiting places, over a model whose long traces take a while."""
    d = tmp_path_factory.mktemp("busy")
    tok = Tokenizer("char", tuple("abcdefghijklmnopqrstuvwxyz "))
    rng = np.random.default_rng(0)
    V = len(tok)
    save_model(Model(LSTM.random(LSTMConfig(V, 128, 3), seed=0), "onehot", tok, None,
                     rng.normal(size=(V, 128)).astype(np.float32)), d / "slow.safetensors")
    base, proc = start_server(d, env={"GATESCOPE_TRACE_SLOTS": "1", "GATESCOPE_TRACE_QUEUE": "2",
                                      "GATESCOPE_MAX_TOKENS": "2000"})
    yield base
    stop_server(proc)


@pytest.mark.slow
def test_beyond_the_queue_the_answer_is_503_with_retry_after_and_health_stays_quick(slow_server):
    """Defect 16.6: every request was taken at once (memory followed concurrency) and health waited up to
    10 s behind them. Now at most slots + queue traces are held; the others get 503 and Retry-After."""
    import httpx

    rng = np.random.default_rng(1)
    texts = ["".join(rng.choice(list("abcdefghij "), 1500)) for _ in range(12)]  # all different: no answer cache

    def post(text: str) -> httpx.Response:
        with httpx.Client(base_url=slow_server, timeout=120) as c:
            return c.post("/api/trace", json={"model": "slow", "text": text})

    health = []
    with ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(post, t) for t in texts]
        with httpx.Client(base_url=slow_server, timeout=1.0) as c:  # a timeout fails the test
            while not all(f.done() for f in futures):
                t0 = time.perf_counter()
                assert c.get("/api/health").status_code == 200
                health.append(time.perf_counter() - t0)
                time.sleep(0.05)
        answers = [f.result() for f in futures]
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {200, 503}, codes
    assert codes.count(200) >= 3 and codes.count(503) >= 1, codes
    for r in answers:
        if r.status_code == 503:
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["code"] == "busy" and "try again in" in r.json()["detail"]
    assert len(health) >= 3
