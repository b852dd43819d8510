"""GET / (the page shell), /static/... and /vendor/plotly.min.js (from the installed plotly package)."""
from __future__ import annotations

import gzip
from pathlib import Path

import plotly

PLOTLY = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def test_page_is_a_shell_without_data(api):
    r = api.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert f"/vendor/plotly.min.js?v={plotly.__version__}" in html
    # Models and values reach the page through the API only.
    for pasted in ("tiny-char", "bi-proj", "bdata", "Tiny char"):
        assert pasted not in html


def test_the_introduction_is_left_out_once_dismissed(api):
    assert 'id="intro"' in api.get("/").text
    hidden = api.get("/", headers={"Cookie": "gatescope_intro=hidden"})
    assert 'id="intro"' not in hidden.text and 'id="text"' in hidden.text
    assert "Cookie" in hidden.headers["vary"]  # a cache must not hand one reader's choice to another
    assert 'id="intro"' in api.get("/", headers={"Cookie": "gatescope_intro=other"}).text


def test_plotly_is_the_installed_package_file_with_long_caching(api):
    want = PLOTLY.read_bytes()
    r = api.get("/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.content == want  # the client undoes the gzip
    assert r.headers["content-encoding"] == "gzip" and int(r.headers["content-length"]) < len(want) / 2
    assert "max-age=31536000" in r.headers["cache-control"]
    assert r.headers["content-type"].startswith("text/javascript")
    plain = api.get("/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.content == want and "content-encoding" not in plain.headers
    assert "max-age=31536000" in plain.headers["cache-control"]


def test_plotly_gzip_is_plain_gzip(client):
    """The precompressed bytes are a normal gzip stream, as a browser would decode them."""
    from app.routes.page import _plotly_gz

    assert gzip.decompress(_plotly_gz(PLOTLY)) == PLOTLY.read_bytes()


def test_static_files_are_served(api):
    r = api.get("/static/js/api.js")
    assert r.status_code == 200 and "fetch" in r.text
    assert api.get("/static/js/nothing.js").status_code == 404
