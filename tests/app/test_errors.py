"""Every error path: its status, its code and its sentence; and the server keeps serving after each."""
from __future__ import annotations

import pytest

from app.settings import Settings
from tests.app.conftest import MAX_TOKENS

T = {"content-type": "application/json"}

CASES = [
    # (name, method, path, request kwargs, status, code, words the sentence must contain)
    ("unknown model", "post", "/api/trace", {"json": {"model": "nope", "text": "hi"}}, 404, "unknown_model",
     ["No model 'nope'", "Models available: bi-proj, tiny-char, vec, words."]),
    ("unknown model card", "get", "/api/models/nope", {}, 404, "unknown_model", ["Models available: bi-proj"]),
    ("empty text", "post", "/api/trace", {"json": {"model": "tiny-char", "text": ""}}, 422, "empty_text",
     ["The text is empty: type at least one character."]),
    ("no words", "post", "/api/trace", {"json": {"model": "words", "text": "   "}}, 422, "empty_text",
     ["no tokens"]),
    ("too long", "post", "/api/trace", {"json": {"model": "tiny-char", "text": "a" * (MAX_TOKENS + 1)}}, 413,
     "too_long", [f"{MAX_TOKENS + 1} tokens", f"at most {MAX_TOKENS}", "--max-tokens"]),
    ("malformed json", "post", "/api/trace", {"content": b'{"model": "tiny-char", "text": ', "headers": T}, 400,
     "malformed_json", ["not valid JSON", "character"]),
    ("not an object", "post", "/api/trace", {"json": ["tiny-char", "hi"]}, 422, "invalid_request",
     ["must be a JSON object"]),
    ("no body", "post", "/api/trace", {}, 422, "missing_body", ["needs a JSON body"]),
    ("wrong types", "post", "/api/trace", {"json": {"model": "tiny-char", "text": 12, "top_k": "five"}}, 422,
     "invalid_request", ["'text': Input should be a valid string (got 12)", "'top_k'", "(got 'five')"]),
    ("top_k too big", "post", "/api/trace", {"json": {"model": "tiny-char", "text": "a", "top_k": 99}}, 422,
     "invalid_request", ["'top_k'", "less than or equal to 50"]),
    ("missing model", "post", "/api/trace", {"json": {"text": "a"}}, 422, "invalid_request",
     ["'model' is required"]),
    ("unknown format", "post", "/api/trace", {"json": {"model": "tiny-char", "text": "a", "format": "xml"}}, 422,
     "invalid_request", ["'format'", "'compact', 'json' or 'binary'"]),
    ("bad layer", "post", "/api/trace", {"json": {"model": "tiny-char", "text": "a", "layers": [2]}}, 422,
     "bad_layers", ["from 0 to 1", "2 layers", "got [2]"]),
    ("text to a vector model", "post", "/api/trace", {"json": {"model": "vec", "text": "abc"}}, 422,
     "vectors_required", ["takes vectors", "rows of 3 numbers"]),
    ("vectors to a text model", "post", "/api/trace", {"json": {"model": "tiny-char", "vectors": [[1, 2, 3]]}}, 422,
     "text_required", ["reads text"]),
    ("vectors of the wrong width", "post", "/api/trace", {"json": {"model": "vec", "vectors": [[1.0, 2.0]]}}, 422,
     "model_error", ["Vectors must be (T, 3)"]),
    ("step out of range", "post", "/api/step", {"json": {"model": "tiny-char", "text": "ab", "t": 2}}, 422,
     "model_error", ["Timestep 2 does not exist", "2 timesteps (0 to 1)"]),
    ("step unit out of range", "post", "/api/step", {"json": {"model": "tiny-char", "text": "ab", "unit": 8}}, 422,
     "model_error", ["Unit 8 does not exist", "8 units"]),
    ("no such endpoint", "get", "/api/nothing", {}, 404, "http_404", ["No such page or endpoint: /api/nothing"]),
    ("wrong method", "get", "/api/trace", {}, 405, "http_405", ["GET is not allowed on /api/trace"]),
]


@pytest.mark.parametrize("name, method, path, kw, status, code, words", CASES, ids=[c[0] for c in CASES])
def test_error_has_status_code_and_sentence(api, name, method, path, kw, status, code, words):
    r = getattr(api, method)(path, **kw)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"detail", "code"} and body["code"] == code
    for w in words:
        assert w in body["detail"], (w, body["detail"])
    assert body["detail"][0].isupper() and body["detail"].endswith("."), "a sentence"
    after = api.post("/api/trace", json={"model": "tiny-char", "text": "still here"})
    assert after.status_code == 200 and after.json()["steps"] == 10


def test_a_body_over_the_limit_is_refused_before_it_is_read(http):
    limit = Settings().max_body_bytes
    big = b'{"model": "tiny-char", "text": "' + b"a" * limit + b'"}'
    r = http.post("/api/trace", content=big, headers=T)
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert f"{limit:,} bytes" in r.json()["detail"]
    assert http.get("/api/health").json()["status"] == "ok"


def test_a_chunked_body_over_the_limit_is_refused(http):
    def chunks():
        yield b'{"model": "tiny-char", "text": "'
        for _ in range(Settings().max_body_bytes // 65536 + 1):
            yield b"a" * 65536
        yield b'"}'

    r = http.post("/api/trace", content=chunks(), headers=T)
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert http.get("/api/health").json()["status"] == "ok"


def test_an_unexpected_error_is_a_500_sentence_and_the_server_goes_on(model_dir, monkeypatch):
    import warnings

    from app.main import create_app
    from app.routes import trace as trace_route
    from app.settings import get_settings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(model_dir=model_dir)
    real = trace_route.trace_body

    def broken(*a, **k):
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as c:
        monkeypatch.setattr(trace_route, "trace_body", broken)
        r = c.post("/api/trace", json={"model": "tiny-char", "text": "boom"})
        assert r.status_code == 500 and r.json()["code"] == "internal_error"
        detail = r.json()["detail"]
        assert "unexpectedly" in detail and "(RuntimeError)" in detail and "Reporting a problem" in detail
        assert "secret internals" not in detail and "Traceback" not in detail
        monkeypatch.setattr(trace_route, "trace_body", real)
        assert c.post("/api/trace", json={"model": "tiny-char", "text": "boom"}).status_code == 200
