"""The page under its Content-Security-Policy, a page on another origin attacking the server, hostile strings
from every source (typed text, a model's vocabulary and name, an upload, an error sentence), and the
messages of an empty or public server; all in Chromium against real servers."""
from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.testing import free_port, start_server, stop_server
from tests import hostile
from tests.browser.conftest import make_models, open_page

pytestmark = pytest.mark.browser

# What any of hostile.XSS would leave if it ran (Plotly draws svg elements of its own, never with onload). The one
# inline script element the page has is the shell's data block (app/routes/page.py shell_data), which never runs.
INJECTED = "img[src='x'], #injected, svg[onload], script:not([src]):not(#gs-shell[type='application/json'])"


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A live server with the test models plus hostile.py's model whose name and vocabulary are XSS strings."""
    d = tmp_path_factory.mktemp("xss-models")
    make_models(d)
    (d / "xss.safetensors").write_bytes(hostile.corpus()["xss.safetensors"][0])
    base, proc = start_server(d)
    yield base, d
    stop_server(proc)


@pytest.fixture()
def page(browser, xss_server):
    """A page on the XSS server that records dialogs and CSP violations (the fixture fails on console errors)."""
    for p in open_page(browser, xss_server[0], enforce_csp=True):
        p.dialogs = []
        p.page.on("dialog", functools.partial(_dismiss, p.dialogs))
        p.page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                               "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
        yield p


def _dismiss(seen: list[str], dialog) -> None:
    seen.append(dialog.message)
    dialog.dismiss()


def _clean(p) -> None:
    assert p.dialogs == [], p.dialogs
    assert p.page.locator(INJECTED).count() == 0
    assert p.page.evaluate("window.__csp") == []


def test_every_control_runs_under_the_content_security_policy(page):
    """The page needs no inline script and no eval: a tour of its controls raises no CSP violation."""
    p = page
    p.open("?model=english-char")
    p.type("hello there, gates (and cells)!")
    for order in ("mean", "variance", "similarity", "index"):
        p.page.select_option("#order", order)
    p.page.select_option("#quantity", "c")
    p.page.select_option("#layer", "1")
    p.page.click("#play")
    p.wait("() => window.gatescope.state.t >= 2")
    p.page.click("#play")
    p.page.locator("#unit-text span").nth(3).click()
    p.wait("() => window.gatescope.state.t === 3")
    p.page.locator("#sec-bars h2").click()
    p.page.keyboard.press("ArrowRight")
    p.wait("() => window.gatescope.state.t === 4")
    with p.page.expect_download() as download:  # the heatmaps' PNG: canvases, data: and blob: URLs
        p.page.click("#heatmaps .figure-saves button[data-format=png]")
    assert download.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    p.page.select_option("#model", "words-bi")
    p.wait("() => window.gatescope.rendered.model === 'words-bi'")
    p.page.select_option("#direction", "1")
    p.settle()
    _clean(p)


def test_hostile_strings_from_every_source_stay_text(page, tmp_path):
    p = page
    p.open("?model=xss")
    name = hostile.XSS[0]
    assert p.page.eval_on_selector("#model", "s => s.selectedOptions[0].textContent") == f"{name} (xss)"
    text = " ".join(hostile.XSS)
    p.type(text)
    # The model reads words: its tokens, one coloured box each, are the text without its whitespace, as text.
    assert p.page.text_content("#unit-text") == "".join(text.split())
    grid = p.page.text_content("#predictions")
    assert any(x in grid for x in hostile.XSS)  # the vocabulary's tokens, shown as predictions, as text
    p.shot("xss-vocabulary", "#sec-predictions")
    _clean(p)
    # An upload whose file name and display name are hostile: the error sentence and the result are text.
    bad = tmp_path / f"{hostile.XSS[0]}.onnx"  # XSS[0]: no "/", so it can be a file name
    bad.write_bytes(b"\x08\x07not an onnx graph")
    p.page.locator("#upload-name").fill(hostile.XSS[2])
    p.page.locator("#upload-file").set_input_files(str(bad))
    p.page.locator("form.upload button[type=submit]").click()
    p.wait("() => /onnx|ONNX/.test(document.querySelector('.upload .result').textContent)", timeout=60)
    assert "<img src=x onerror=" in p.page.text_content(".upload .result")  # Chromium sends " as %22
    p.shot("xss-upload-error", "#sec-upload")
    _clean(p)
    p.errors.clear()  # Chromium logs the refused upload's 422 as a console error; the page handled it


def test_a_page_on_another_origin_cannot_upload_or_trace(page, xss_server, tmp_path):
    """Defect 16.3: a page on localhost:8799 posted a no-cors FormData upload and the model was added."""
    base, models = xss_server
    # A file the upload imports when it comes from the page itself (a gatescope file would be refused for what it
    # is, 422 "already a gatescope model", and the test would pass without the origin check).
    (tmp_path / "lm.safetensors").write_bytes(hostile.pytorch_lm_bytes())
    (tmp_path / "attack.html").write_text(f"""<!doctype html><meta charset="utf-8"><title>elsewhere</title>
<link rel="icon" href="data:,">
<form id="f" method="POST" action="{base}/api/trace" enctype="text/plain">
<input name='{{"model": "english-char", "text": "' value='x"}}'></form>
<script>
(async () => {{
  const fd = new FormData();
  fd.append('file', await (await fetch('lm.safetensors')).blob(), 'lm.safetensors');
  fd.append('vocab', '["a", "b", "c", " "]');
  fd.append('name', 'planted');
  for (const [path, body] of [['/api/models/upload', fd], ['/api/trace', '{{"model": "english-char", "text": "hi"}}']])
    await fetch('{base}' + path, {{ method: 'POST', mode: 'no-cors', body }}).catch(() => {{}});
  document.title = 'sent';
}})();
</script>""")
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    elsewhere = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
    try:
        before = sorted(x.name for x in models.iterdir())
        page.page.goto(f"http://localhost:{port}/attack.html")
        page.wait("() => document.title === 'sent'")
        assert sorted(x.name for x in models.iterdir()) == before
        page.page.evaluate("document.getElementById('f').submit()")  # a classic cross-site form post
        page.page.wait_for_load_state()
        answer = json.loads(page.page.text_content("body"))
        assert answer["code"] == "cross_site"
    finally:
        elsewhere.shutdown()
    page.page.goto("about:blank")  # before Chromium asks the JSON answer's origin for a favicon (a 404)
    page.errors.clear()  # the refused requests are console errors of the attacking page, as they should be


@pytest.mark.parametrize("public", [False, True])
def test_an_empty_server_says_which_directory_to_fill(browser, tmp_path, public):
    """Defect 16.10: the message named models/ whatever directory the server read; public mode names none and
    hides the upload form."""
    empty = tmp_path / "no-models-here"
    empty.mkdir()
    base, proc = start_server(empty, env={"GATESCOPE_PUBLIC": "1", "GATESCOPE_HOST": "127.0.0.1"} if public else {})
    try:
        for p in open_page(browser, base, enforce_csp=True):
            p.page.goto(base + "/")
            p.wait("() => document.getElementById('status').textContent.includes('No models')")
            status = p.page.text_content("#status")
            if public:
                assert "the server's model directory" in status and str(empty) not in status
                assert p.page.locator("#sec-upload").is_hidden()
            else:
                assert str(empty) in status and "import one below" in status
                assert p.page.locator("#sec-upload").is_visible()
            p.errors.clear()
    finally:
        stop_server(proc)
