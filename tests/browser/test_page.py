"""The explorer page as a whole: links restore a view, long text thins with a note, tokens are never HTML,
other models and directions work, and a tour of every control logs no console error."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse
from xml.etree import ElementTree

import numpy as np
import pytest

from tests.browser.test_explorer import hover_tip

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_link_restores_the_view_and_the_url_follows_changes(gs):
    gs.open("?model=english-char&text=the+dog+ran&layer=1&unit=4&t=2&quantity=f&order=mean")
    gs.wait_drawn("the dog ran")
    state = gs.page.evaluate("window.gatescope.state")
    assert {k: state[k] for k in ("layer", "unit", "t", "quantity", "order")} == {
        "layer": 1, "unit": 4, "t": 2, "quantity": "f", "order": "mean"}
    assert gs.page.input_value("#layer") == "1"
    assert gs.page.input_value("#order") == "mean"
    assert gs.page.input_value("#scrubber") == "2"
    assert gs.page.text_content("#unit-heading").startswith("Unit 4 · layer 1")
    gs.type("the dog sat")  # cleared first: t fell onto the newest token, so it follows the typing
    assert gs.page.evaluate("window.gatescope.state.t") == len("the dog sat") - 1
    # An old link (?text=) still opens; the new one carries the text in the fragment, which no server sees.
    gs.page.wait_for_function("new URLSearchParams(location.hash.slice(1)).get('text') === 'the dog sat'")
    q = parse_qs(urlparse(gs.page.url).query)
    assert q["model"] == ["english-char"] and q["unit"] == ["4"] and q["quantity"] == ["f"] and "text" not in q
    gs.shot("restored-link")


def test_tokens_are_never_rendered_as_html(gs):
    gs.open("?model=english-char")
    hostile = "<b>x</b> & <img src=x onerror=alert(1)>"
    gs.type(hostile)
    assert gs.page.locator("img").count() == 0
    assert gs.page.locator("main b:not(#pred-grid b)").count() == 0
    assert gs.page.text_content("#unit-text") == hostile
    labels = gs.page.evaluate("document.getElementById('heatmaps-plot').drawn.labels.map((l) => l.text)")
    assert "".join(labels) == hostile.replace(" ", "␣")  # drawn as text on the canvas, one label per character
    # The hover box over the cell of "<" says it as text; the saved SVG escapes it.
    lines = hover_tip(gs, 0, 0, 1)
    assert lines[0] == "token <" and lines[1] == "position 0", lines
    with gs.page.expect_download() as download:
        gs.page.click("#heatmaps .figure-saves button[data-format=svg]")
    svg = download.value.path().read_text(encoding="utf-8")
    assert ">&lt;<" in svg and "&amp;" in svg and "<img" not in svg
    ElementTree.fromstring(svg)  # well-formed: every label escaped
    gs.shot("hostile-text", "#sec-unit")


def test_long_text_thins_labels_and_says_so(gs):
    gs.open("?model=english-char")
    text = ("the quick brown fox jumps over the lazy dog. " * 45)[:2000]
    gs.page.fill("#text", text)  # one input event: typing 2000 keys would only test Playwright
    gs.wait_drawn(text)
    note = gs.page.text_content("#heatmaps .note")
    assert "every" in note and "token" in note
    labels = gs.page.evaluate("document.getElementById('heatmaps-plot').drawn.labels.length")
    assert 10 < labels < 200
    z = gs.page.evaluate("document.getElementById('heatmaps-plot').drawn.panels[4].z[0].length")
    assert z == 2000  # thinned labels, never thinned data
    assert "Showing positions" in gs.page.text_content("#predictions .note")
    gs.page.locator("#sec-bars h2").click()
    gs.page.keyboard.press("Home")
    gs.page.wait_for_function("window.gatescope.state.t === 0")
    gs.shot("long-text")


def test_bidirectional_word_model_backward_direction(gs):
    gs.open("?model=words-bi&text=the+lazy+dog+jumps+over+the+fox")
    gs.wait_drawn("the lazy dog jumps over the fox")
    gs.page.select_option("#direction", "1")
    gs.page.wait_for_function("document.getElementById('unit-heading').textContent.endsWith('backward')")
    exact = gs.api("/api/trace", {"model": "words-bi", "text": "the lazy dog jumps over the fox", "format": "json"})
    z = np.array(gs.page.evaluate(
        "Array.from(document.getElementById('heatmaps-plot').drawn.panels[5].z, r => Array.from(r))"))
    np.testing.assert_allclose(z, np.array(exact["h"][0][1]).T, atol=1e-4)
    gs.page.wait_for_function("document.getElementById('step-heading').textContent.includes('previous step is t+1')")
    labels = gs.page.evaluate("document.getElementById('heatmaps-plot').drawn.labels.map((l) => l.text)")
    assert labels == ["the", "lazy", "dog", "jumps", "over", "the", "fox"]
    gs.shot("words-backward")


def test_every_control_without_console_errors(gs):
    gs.open("?model=english-char")
    gs.type("hello there, gates (and cells)!\nnew line")
    for order in ("mean", "variance", "similarity", "index"):
        gs.page.select_option("#order", order)
    for q in ("i", "f", "g", "o", "h", "c"):
        gs.page.select_option("#quantity", q)
    gs.page.select_option("#layer", "1")
    gs.page.click("#play")
    gs.page.wait_for_function("window.gatescope.state.t >= 2")
    gs.page.click("#play")
    gs.page.locator("#unit-text span").nth(3).click()
    gs.page.wait_for_function("window.gatescope.state.t === 3")
    gs.page.locator("#pred-grid .pred-col").first.click()
    gs.page.select_option("#model", "words-bi")
    gs.page.wait_for_function("window.gatescope.rendered.model === 'words-bi'")
    gs.page.select_option("#direction", "1")
    gs.page.fill("#text", "")
    gs.page.wait_for_function("document.getElementById('status').textContent.includes('empty')")
    gs.type("a teacher types")
    gs.page.wait_for_timeout(400)
    gs.shot("tour", None)
    assert gs.errors == []


def test_over_the_limit_shows_the_servers_sentence_and_keeps_the_last_view(gs):
    gs.open("?model=english-char")
    gs.type("short and fine")
    gs.page.fill("#text", "a" * 2001)
    gs.page.wait_for_function("document.getElementById('status').classList.contains('error')")
    sentence = gs.page.text_content("#status")
    assert "2,000" in sentence and gs.page.get_attribute("#status", "role") == "alert"
    assert gs.page.evaluate("window.gatescope.rendered.text") == "short and fine"
    gs.type("fine again")
    assert "error" not in (gs.page.get_attribute("#status", "class") or "")
    # Chromium logs every 4xx answer itself; that one was expected, and the page handled it.
    gs.errors[:] = [e for e in gs.errors if "status of 413" not in e]
