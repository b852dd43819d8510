"""`python -m app serve`: flags and GATESCOPE_* variables reach the settings, and --workers N serves."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.commands import build_parser
from app.settings import Settings, get_settings
from app.testing import start_server, stop_server
from lstm_core import load_model
from tests.app.conftest import CORPUS


@pytest.fixture()
def clean_env(monkeypatch):
    """A private copy of os.environ without GATESCOPE_* variables, and a fresh get_settings cache."""
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("GATESCOPE_")})
    get_settings.cache_clear()
    yield os.environ
    get_settings.cache_clear()


def test_settings_read_prefixed_environment_variables(clean_env, tmp_path):
    assert Settings().host == "127.0.0.1" and Settings().port == 8000 and Settings().max_tokens == 2000
    clean_env.update(GATESCOPE_MAX_TOKENS="7", GATESCOPE_MODEL_DIR=str(tmp_path), GATESCOPE_PORT="9001")
    s = get_settings()
    assert (s.max_tokens, s.model_dir, s.port) == (7, tmp_path, 9001)


def test_flags_override_environment_and_reach_uvicorn(clean_env, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.append((app, kw)))
    clean_env["GATESCOPE_PORT"] = "9001"
    args = build_parser().parse_args(["serve", "--models", str(tmp_path), "--workers", "3", "--max-tokens", "12"])
    assert args._run(args) == 0
    app, kw = calls[0]
    assert app == "app.main:create_app" and kw["factory"] is True
    assert (kw["host"], kw["port"], kw["workers"]) == ("127.0.0.1", 9001, 3)  # loopback unless told otherwise
    s = get_settings()
    assert (s.model_dir, s.max_tokens, s.workers) == (tmp_path, 12, 3)
    # Worker processes read the same settings from the environment.
    assert clean_env["GATESCOPE_MAX_TOKENS"] == "12" and clean_env["GATESCOPE_MODEL_DIR"] == str(tmp_path)


def test_invalid_setting_is_a_message_not_a_traceback(clean_env, monkeypatch, capsys):
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not start"))
    args = build_parser().parse_args(["serve", "--port", "70000"])
    assert args._run(args) == 2
    assert "invalid setting: port" in capsys.readouterr().out


@pytest.mark.slow
def test_two_workers_serve_concurrent_requests(model_dir):
    import httpx

    base, proc = start_server(model_dir, workers=2, args=["--max-tokens", "7"])
    try:
        texts = [CORPUS[k:k + 7] for k in range(24)]
        model = load_model(model_dir / "tiny-char.safetensors")

        def go(text: str) -> dict:
            return httpx.post(base + "/api/trace", json={"model": "tiny-char", "text": text, "format": "json"},
                              timeout=30).json()

        with ThreadPoolExecutor(8) as pool:
            bodies = list(pool.map(go, texts))
        for body, text in zip(bodies, texts, strict=True):
            assert body["c"] == model.trace_text(text).trace.c.tolist()  # whichever process answered
        r = httpx.post(base + "/api/trace", json={"model": "tiny-char", "text": "12345678"})
        assert r.status_code == 413 and "at most 7" in r.json()["detail"]
    finally:
        stop_server(proc)


@pytest.mark.slow
def test_public_mode_over_real_http(model_dir, tmp_path):
    """`serve --public`: no uploads and no training (403, and the page is told), 500 tokens at most,
    the directory's path kept to itself, a Host name it was not told about refused; a trace still answers."""
    import httpx

    base, proc = start_server(model_dir, args=["--public"])  # start_server's --host 127.0.0.1 wins
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            listed = c.get("/api/models").json()
            assert listed["uploads"] is False and listed["directory"] is None and listed["models"]
            r = c.post("/api/models/upload", files={"file": ("m.pt", b"\x80\x02junk")})
            assert r.status_code == 403 and r.json()["code"] == "uploads_off"
            assert c.get("/api/train").json()["enabled"] is False
            r = c.post("/api/train", json={"task": "counter"})
            assert r.status_code == 403 and r.json()["code"] == "training_off"
            r = c.post("/api/trace", json={"model": "tiny-char", "text": "ab " * 200})  # 600 tokens
            assert r.status_code == 413 and "500" in r.json()["detail"]
            assert c.post("/api/trace", json={"model": "tiny-char", "text": "ab " * 100}).status_code == 200
            assert c.get("/api/health", headers={"Host": "evil.example"}).status_code == 400
    finally:
        stop_server(proc)
    assert not list(model_dir.glob("import-*"))
