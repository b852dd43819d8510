"""Host and origin checks and the security headers (app/guard.py), through the test client and over HTTP."""
from __future__ import annotations

import pytest

from app.settings import Settings
from tests.app.conftest import app_client

TRACE = {"model": "tiny-char", "text": "ab"}


@pytest.mark.parametrize("host, status", [("evil.example", 400), ("evil.example:8000", 400), ("localhost:8000", 200),
                                          ("127.0.0.1:9", 200), ("[::1]:8000", 200), ("10.1.2.3", 200),
                                          ("LOCALHOST", 200), ("localhost.evil.example", 400)])
def test_only_known_host_names_are_answered(http, host, status):
    """Defect 16.3: `Host: evil.example` was answered 200, which lets DNS rebinding read the API."""
    r = http.get("/api/health", headers={"Host": host})
    assert r.status_code == status, r.text
    if status == 400:
        assert r.json()["code"] == "bad_host" and "GATESCOPE_ALLOWED_HOSTS" in r.json()["detail"]


def test_configured_names_and_wildcards_are_answered(model_dir):
    with app_client(model_dir, allowed_hosts="gates.example.org, *.lab.example") as c:
        for host, status in [("gates.example.org", 200), ("a.lab.example:8000", 200), ("lab.example", 400),
                             ("other.example.org", 400)]:
            assert c.get("/api/health", headers={"Host": host}).status_code == status, host


@pytest.mark.parametrize("headers, status", [
    ({"Origin": "http://localhost:8799"}, 403),                                # a page on another port
    ({"Origin": "http://localhost:8799", "Sec-Fetch-Site": "same-site"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),                                    # no Origin, but a browser says so
    ({"Origin": "null"}, 403),                                                  # sandboxed frames, file:// pages
    ({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403),
    ({"Sec-Fetch-Site": "same-origin"}, 200),
    ({"Sec-Fetch-Site": "none"}, 200),                                          # typed by the user
    ({}, 200),                                                                  # curl, httpx, scripts
])
def test_requests_from_other_sites_are_refused(http, live_server, headers, status):
    """Defect 16.3: a page on localhost:8799 posted a no-cors FormData upload, and the model was added."""
    r = http.post("/api/trace", json=TRACE, headers=headers)
    assert r.status_code == status, r.text
    if status == 403:
        assert r.json()["code"] == "cross_site" and "own page" in r.json()["detail"]
    own = live_server.replace("http://", "")
    assert http.post("/api/trace", json=TRACE, headers={"Origin": f"http://{own}"}).status_code == 200


def test_a_cross_site_upload_stores_nothing(tmp_path):
    with app_client(tmp_path / "m") as c:
        r = c.post("/api/models/upload", files={"file": ("x.onnx", b"\x08\x07")},
                   headers={"Origin": "http://localhost:8799", "Sec-Fetch-Site": "same-site"})
        assert r.status_code == 403
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/models", "/static/js/api.js", "/api/nothing"])
def test_every_answer_carries_the_security_headers(api, path):
    h = api.get(path).headers
    csp = h["content-security-policy"]
    assert "script-src 'self';" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
    assert "access-control-allow-origin" not in h


def test_cors_is_answered_only_for_configured_origins(model_dir):
    with app_client(model_dir, cors_origins="http://notebook.example:8888") as c:
        pre = c.options("/api/trace", headers={"Origin": "http://notebook.example:8888",
                                               "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "http://notebook.example:8888"
        r = c.post("/api/trace", json=TRACE, headers={"Origin": "http://notebook.example:8888",
                                                      "Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://notebook.example:8888"
        assert c.post("/api/trace", json=TRACE, headers={"Origin": "http://other.example"}).status_code == 403


def test_public_mode_defaults_and_explicit_settings_win(monkeypatch):
    for k in ("GATESCOPE_UPLOADS", "GATESCOPE_TRAIN", "GATESCOPE_MAX_TOKENS", "GATESCOPE_HOST"):
        monkeypatch.delenv(k, raising=False)
    s = Settings(public=True)
    assert (s.host, s.uploads, s.train, s.max_tokens, s.max_trace_mb) == ("0.0.0.0", False, False, 500, 128)
    assert Settings(public=True, train=True).train and Settings().train
    assert Settings(public=True, max_tokens=800, host="127.0.0.1").max_tokens == 800
    monkeypatch.setenv("GATESCOPE_PUBLIC", "1")
    monkeypatch.setenv("GATESCOPE_MAX_TOKENS", "300")
    s = Settings()
    assert s.public and not s.uploads and s.max_tokens == 300
    assert Settings(public=False).uploads
