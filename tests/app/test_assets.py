"""/static/... answered from memory (app/assets.py): the files as on disk, gzip, ETag, a change on disk, nothing
outside the directory."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from app.assets import Assets
from tests.conftest import ROOT


@pytest.fixture()
def files(tmp_path: Path):
    """A TestClient on Assets mounted at /static over a small directory (a module, a tiny file, a secret beside)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    d = tmp_path / "static"
    d.mkdir()
    (d / "big.js").write_text("export const x = 1;\n" * 200)
    (d / "small.css").write_text("p { color: red; }\n")
    (tmp_path / "secret.txt").write_text("not for the web")
    with TestClient(Starlette(routes=[Mount("/static", Assets(d))])) as c:
        yield c, d


def test_every_page_file_is_served_as_on_disk(api):
    for path in sorted((ROOT / "static").rglob("*")):
        if path.is_file():
            r = api.get(f"/static/{path.relative_to(ROOT / 'static').as_posix()}", headers={"Accept-Encoding": "gzip"})
            assert r.status_code == 200 and r.content == path.read_bytes(), path  # the client undoes the gzip
    assert api.get("/static/js/main.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert api.get("/static/css/page.css").headers["content-type"] == "text/css; charset=utf-8"


def test_gzip_when_asked_and_large_enough(files):
    c, d = files
    r = c.get("/static/big.js", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and int(r.headers["content-length"]) < (d / "big.js").stat().st_size
    plain = c.get("/static/big.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == (d / "big.js").read_bytes()
    assert "content-encoding" not in c.get("/static/small.css", headers={"Accept-Encoding": "gzip"}).headers


def test_an_unchanged_file_is_not_sent_again(files):
    c, _ = files
    etag = c.get("/static/big.js").headers["etag"]
    r = c.get("/static/big.js", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert c.get("/static/big.js", headers={"If-None-Match": '"other"'}).status_code == 200
    modified = c.get("/static/big.js").headers["last-modified"]  # a reload's heuristic freshness needs it
    assert c.get("/static/big.js", headers={"If-Modified-Since": modified}).status_code == 304
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}  # the ETag decides
    assert c.get("/static/big.js", headers=both).status_code == 200
    head = c.head("/static/big.js")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0


def test_a_file_changed_on_disk_is_read_again(files):
    c, d = files
    before = c.get("/static/small.css")
    (d / "small.css").write_text("p { color: blue; }\n")
    os.utime(d / "small.css", ns=(1, 1))  # a different stamp even within the file system's time resolution
    after = c.get("/static/small.css")
    assert after.text == "p { color: blue; }\n" and after.headers["etag"] != before.headers["etag"]


def test_nothing_outside_the_directory_and_only_reads(files):
    c, _ = files
    for path in ("/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/nothing.js", "/static/", "/static"):
        r = c.get(path)
        assert r.status_code == 404 and "not for the web" not in r.text, path
    assert c.post("/static/big.js").status_code == 405
    assets = c.app.routes[0].app
    assert assets._file("/../secret.txt") is None and assets._file("/big.js") is not None  # whatever the client sends
