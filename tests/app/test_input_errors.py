"""Inputs that used to give 500: every one is a 4xx with a sentence, and the connection carries on."""
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import hostile

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("path", ["/api/trace", "/api/step"])
@pytest.mark.parametrize("escaped, words", [("ab\\ud800", "lone surrogate U+D800 at character 3"),
                                            ("\\udfff", "lone surrogate U+DFFF at character 1"),
                                            ("a\\u0000b", "control character U+0000 at character 2"),
                                            ("a\\u007f", "control character U+007F")])
def test_text_that_is_not_text_is_a_422(api, path, escaped, words):
    """Defect 16.8: a lone surrogate in `text` gave 500 (and reset the keep-alive connection)."""
    r = api.post(path, content=f'{{"model": "tiny-char", "text": "{escaped}"}}'.encode(), headers=JSON)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "bad_text" and words in r.json()["detail"]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(text=st.text(st.one_of(st.characters(categories=["Cs"]), st.characters(categories=["Cc", "Cf", "Co", "Cn"]),
                              st.characters()), max_size=40))
def test_any_string_of_code_points_is_an_answer_not_a_failure(client, text):
    """Every kind of code point, lone surrogates and controls as often as the rest (sent as JSON escapes, as a
    browser's JSON.stringify does)."""
    for path in ("/api/trace", "/api/step"):
        r = client.post(path, content=json.dumps({"model": "tiny-char", "text": text}).encode(), headers=JSON)
        assert r.status_code in (200, 422), (path, repr(text), r.text)
        if r.status_code == 422:
            assert r.json()["detail"].endswith(".")


def test_tabs_and_newlines_are_text(api):
    r = api.post("/api/trace", json={"model": "tiny-char", "text": "a\tb\nc\r"})
    assert r.status_code == 200, r.text


def test_ragged_vectors_are_a_422(api):
    """Defect 16.8: [[1, 2, 3], [1]] gave 500 (NumPy's inhomogeneous-shape ValueError)."""
    r = api.post("/api/trace", json={"model": "vec", "vectors": [[1, 2, 3], [1]]})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "ragged_vectors" and "row 1 has 1" in r.json()["detail"]
    assert api.post("/api/step", json={"model": "vec", "vectors": [[1, 2, 3], [1, 2]]}).status_code == 422


def test_an_uploaded_tensor_of_65_dimensions_is_a_422(client):
    """Defect 16.8: NumPy's 'maximum supported dimension' ValueError reached the user as a 500."""
    data = hostile.corpus()["rank65.safetensors"][0]
    r = client.post("/api/models/upload", files={"file": ("w.safetensors", data)})
    assert r.status_code == 422, r.text
    assert "65 dimensions" in r.json()["detail"]


def _exchange(sock: socket.socket, method: str, path: str, body: bytes, host: str) -> tuple[int, bytes]:
    sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = int(head.split()[1])
    headers = dict(line.lower().split(b": ", 1) for line in head.split(b"\r\n")[1:])
    length = int(headers[b"content-length"])
    while len(rest) < length:
        rest += sock.recv(65536)
    return status, rest


def test_the_keep_alive_connection_survives_error_answers(live_server):
    """One connection: a lone surrogate, a ragged vector list, malformed JSON, an unknown model, then a trace."""
    u = urlsplit(live_server)
    bad = [b'{"model": "tiny-char", "text": "\\ud800"}', b'{"model": "vec", "vectors": [[1, 2, 3], [1]]}',
           b'{"model": ', b'{"model": "nope", "text": "a"}']
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        for body in bad:
            status, answer = _exchange(s, "POST", "/api/trace", body, u.netloc)
            assert 400 <= status < 500 and json.loads(answer)["detail"], (body, status, answer)
        status, answer = _exchange(s, "POST", "/api/trace", b'{"model": "tiny-char", "text": "ok"}', u.netloc)
        assert status == 200 and json.loads(answer)["steps"] == 2
