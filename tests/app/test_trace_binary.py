"""format="binary" (the page's): the compact answer's values as raw bytes after a JSON head. Read back by
tests/app/wire.py, written independently of app/serialize.py, it is the compact answer exactly."""
from __future__ import annotations

from app.schemas import BINARY_MEDIA
from tests.app.wire import unpack

QUANTITIES = ["i", "f", "g", "o", "c", "h"]


def ask(api, text: str, fmt: str, **extra):
    return api.post("/api/trace", json={"model": "tiny-char", "text": text, "format": fmt, **extra},
                    headers={"Accept-Encoding": "gzip"})


def test_a_binary_answer_is_the_compact_answer_without_base64_or_gzip(api):
    text = "hello world, the quick brown fox jumps over a dog"
    compact = ask(api, text, "compact")
    r = ask(api, text, "binary")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == BINARY_MEDIA
    assert "content-encoding" not in r.headers  # the values do not compress: never gzipped
    got = unpack(r.content)
    want = compact.json()
    assert got.pop("encoding") == "binary" and want.pop("encoding") == "compact"
    del got["cached_prefix"], want["cached_prefix"]  # the second request found the first in the cache
    assert got == want


def test_a_binary_delta_carries_only_the_new_positions(api):
    whole = unpack(ask(api, "abcabc", "binary").content)
    delta = unpack(ask(api, "abcabcab", "binary", held="abcabc").content)
    assert delta["start"] == 6 and delta["tokens"] == ["a", "b"]
    assert all(delta[q]["shape"][2] == 2 and whole[q]["shape"][2] == 6 for q in QUANTITIES)


def test_a_refusal_in_binary_is_json_with_a_sentence(api):
    r = ask(api, "", "binary")
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["detail"]
