"""Fixtures for the backend tests: small model files made here, a test client, and a live server."""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from app.testing import start_server, stop_server
from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, save_model

CORPUS = "the quick brown fox jumps over the lazy dog. (a [b] {c})\n"
MAX_TOKENS = 60  # small, so that the 413 path is cheap to reach


def make_models(directory: Path) -> dict[str, Path]:
    """Write a few small random models covering every input kind and shape the API handles."""
    rng = np.random.default_rng(7)
    char = Tokenizer.build(CORPUS, "char", unk=True)
    word = Tokenizer.build(CORPUS, "word", unk=True)
    V, W = len(char), len(word)

    def dec(v: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.normal(0, 1.5, (v, width)).astype(np.float32), rng.normal(0, 0.5, v).astype(np.float32)

    specs = {
        # causal, two layers: the prefix cache and the wavefront path
        "tiny-char": Model(LSTM.random(LSTMConfig(V, 8, 2), seed=1), "onehot", char, None, *dec(V, 8),
                           {"name": "Tiny char", "description": "random weights", "card": "# Tiny\n",
                            "provenance": {"trained_on": "nothing"}, "metrics": {"loss": 1.0}}),
        # bidirectional with a projection and an embedding
        "bi-proj": Model(LSTM.random(LSTMConfig(5, 6, 2, bidirectional=True, proj_size=3), seed=2), "embedding",
                         char, rng.normal(size=(V, 5)).astype(np.float32), *dec(V, 6)),
        # word level, float64 weights
        "words": Model(LSTM.random(LSTMConfig(W, 4, 1), seed=3, dtype=np.float64), "onehot", word, None,
                       *(a.astype(np.float64) for a in dec(W, 4))),
        # no vocabulary: traced on vectors
        "vec": Model(LSTM.random(LSTMConfig(3, 4, 1), seed=4), "vector"),
    }
    paths = {}
    for id, model in specs.items():
        paths[id] = directory / f"{id}.safetensors"
        save_model(model, paths[id])
    (directory / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json")
    return paths


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory with tiny-char, bi-proj, words, vec and one broken file."""
    d = tmp_path_factory.mktemp("models")
    make_models(d)
    return d


@contextmanager
def app_client(model_dir: Path, **settings) -> Iterator:
    """A TestClient on a fresh app whose settings (through dependency_overrides) read models from `model_dir`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette suggests httpx2, which is not installed
        from fastapi.testclient import TestClient
    from app.main import create_app
    from app.settings import Settings

    with TestClient(create_app(Settings(model_dir=model_dir, **settings))) as c:
        yield c


@pytest.fixture()
def client(model_dir: Path) -> Iterator:
    """A TestClient on a fresh app whose settings point at `model_dir` (through dependency_overrides)."""
    with app_client(model_dir, max_tokens=MAX_TOKENS) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(model_dir: Path) -> Iterator[str]:
    """Base URL of a real uvicorn server (a subprocess on a free 127.0.0.1 port) serving `model_dir`."""
    base, proc = start_server(model_dir, env={"GATESCOPE_MAX_TOKENS": str(MAX_TOKENS)})
    yield base
    stop_server(proc)


@pytest.fixture(scope="session")
def http(live_server: str) -> Iterator:
    """An httpx client bound to the live server."""
    import httpx

    with httpx.Client(base_url=live_server, timeout=30) as c:
        yield c


@pytest.fixture(params=["testclient", "http"])
def api(request: pytest.FixtureRequest):
    """The same tests through the in-process TestClient and over real HTTP."""
    return request.getfixturevalue("client" if request.param == "testclient" else "http")
