"""GET / (the page shell), /static/... and /vendor/plotly.min.js (from the installed plotly package)."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import plotly
import pytest

from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, save_model
from tests.conftest import ROOT

PLOTLY = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


SHELL = re.compile(r'<script type="application/json" id="gs-shell">(.*?)</script>', re.S)


def shell(html: str) -> tuple[str, dict]:
    """The page's markup without its data block, and the block's data (the API's first answers)."""
    m = SHELL.search(html)
    assert m is not None, "the shell has no gs-shell data block"
    return html[:m.start()] + html[m.end():], json.loads(m.group(1))


def test_page_is_a_shell_with_only_the_opening_text(api):
    r = api.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html, _ = shell(r.text)
    assert f"/vendor/plotly.min.js?v={plotly.__version__}" in html
    # The markup names no model but the one a first visit opens on (no flagship here: the first by id) and holds
    # its text, written into the text box so that it takes typing at the first paint; the API's first answers
    # travel in the data block (test_the_shell_embeds_what_the_api_answers).
    ids = [m["id"] for m in api.get("/api/models").json()["models"]]
    assert f'data-model="{ids[0]}"' in html
    for other in ids[1:]:
        assert f'"{other}"' not in html and f">{other}<" not in html
    for pasted in ("bdata", "Tiny char"):
        assert pasted not in html
    assert 'data-model="tiny-char"' in api.get("/?model=tiny-char").text  # the link's model
    assert f'data-model="{ids[0]}"' in api.get("/?model=nonesuch").text


def test_a_linked_text_is_written_as_text_never_as_html(api):
    html = api.get("/", params={"text": "</textarea><script>alert(1)</script>"}).text
    assert "<script>alert(1)" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html
    assert '<script src="/static/js/boot.js' in html  # a #text= link's text goes in before the paint


def test_the_shell_preloads_every_module_main_js_imports(api):
    html = api.get("/").text
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/js/([\w-]+\.js)">', html))
    on_disk = {f.name for f in (ROOT / "static" / "js").glob("*.js")} - {"main.js", "boot.js"}
    assert preloaded == on_disk  # every module is imported from main.js, directly or not


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


def test_the_opening_example_is_chosen_in_one_place_for_each_language():
    from app.service import openers

    assert openers(["First Citizen:", "我来自内蒙古", "北京"]) == {"en": "First Citizen:", "zh-CN": "我来自内蒙古"}
    assert openers(["the cat", "a dog"]) == {"en": "the cat", "zh-CN": "the cat"}  # none in Chinese: the first
    assert openers(["𠀀 ext-B"]) == {"en": "𠀀 ext-B", "zh-CN": "𠀀 ext-B"}  # a Han character outside the BMP
    assert openers([]) == {}



@pytest.mark.parametrize("query", ["", "?lang=zh-CN", "?model=words", "?model=vec&lang=en"])
def test_the_shell_embeds_what_the_api_answers(api, query):
    """The data block is what the page would ask first (static/js/api.js takes it instead), so it must never drift
    from the API: each part equals the answer of its own request, in the page's language, for the opening model."""
    html, data = shell(api.get("/" + query).text)
    lang = re.search(r'<html lang="([\w-]+)"', html).group(1)
    model = re.search(r'data-model="([\w-]*)"', html).group(1)
    assert data["catalog"] == {"lang": lang, "messages": api.get(f"/static/i18n/{lang}.json").json()}
    assert data["models"] == api.get("/api/models").json()
    assert data["lessons"] == api.get("/api/lessons").json()
    assert data["model"] == api.get(f"/api/models/{model}").json() and data["model"]["id"] == model


def test_the_shell_data_is_never_markup(tmp_path):
    """Model files name themselves: a name that would end the data block stays inside it, as JSON text."""
    from tests.app.conftest import app_client

    tok = Tokenizer.build("ab", "char", unk=True)
    hostile = "</script><script>alert(1)</script><!--"
    save_model(Model(LSTM.random(LSTMConfig(len(tok), 2, 1), seed=1), "onehot", tok, None, None, None,
                     {"name": hostile, "description": hostile}), tmp_path / "evil.safetensors")
    with app_client(tmp_path) as c:
        text = c.get("/").text
    html, data = shell(text)
    assert "<script>alert(1)" not in text and "<!--" not in html
    assert data["model"]["name"] == hostile and data["models"]["models"][0]["description"] == hostile


def test_a_large_model_description_is_left_for_the_page_to_fetch(client, monkeypatch):
    from app.routes import page

    monkeypatch.setattr(page, "SHELL_MODEL_BYTES", 100)  # every model's description is larger
    _, data = shell(client.get("/").text)
    assert "model" not in data and "models" in data
