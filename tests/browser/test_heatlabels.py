"""The heatmaps' token labels (static/js/tokenlabels.js) on a phone, a laptop and a projector, for Latin and Chinese
tokens: no two labels overlap, none leaves the figure, the chosen t's token is always labelled, the labelled steps
are exactly every k-th (what the note says), and the canvas is white between neighbouring labels (so a label taken
out from under the chosen one is really erased). And on a phone: a finger dragged sideways across the cells shows
the columns it crossed, and the view says to drag only once."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from app.i18n import translate
from tests.browser.canvas import WHITE, column, differs, drawn, heat_centre
from tests.browser.conftest import Page, new_context
from tests.browser.test_first import close
from tests.browser.test_first import shipped as shipped  # noqa: F401  (the module's server on models/)
from tests.browser.test_phone import PHONE
from tests.browser.test_timecharts import visible
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LATIN = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak. " * 2
CHINESE = "我来自内蒙古，我的父亲是一名老师，冬天常常下很大的雪，我能讲一口流利的蒙古语。" * 3
# Mostly narrow Latin letters, so the typical label is narrow and the stride's room too small for a Chinese character.
MIXED = "我来自内蒙古 (Inner Mongolia), so I speak fluent Mongolian: 我能讲一口流利的蒙古语. " * 3
SIZES = {390: {**PHONE}, 1280: {"viewport": {"width": 1280, "height": 800}},
         1920: {"viewport": {"width": 1920, "height": 1080}}}
FONT = re.search(r"export const FONT = '([^']+)'", (ROOT / "static/js/plot.js").read_text()).group(1)
# The width of each text at `size` px in the figures' font, measured here (not by the page's painter).
WIDTHS = "([texts, size, font]) => { const g = document.createElement('canvas').getContext('2d');" \
         " g.font = `${size}px ${font}`; return texts.map((s) => g.measureText(s).width); }"
LABELS = "id => { const d = document.getElementById(id).drawn; return d && {labels: d.labels, bands: d.labelBands, " \
         "stride: d.stride, width: d.width, t: d.marker.t, size: d.sizes.token}; }"


def page_at(browser, base: str, width: int, query: str):
    context = new_context(browser, **SIZES[width])
    gs = Page(context.new_page(), base)
    gs.open(query)
    gs.page.locator("#heatmaps-plot").scroll_into_view_if_needed()
    gs.settle()
    return context, gs


def choose(gs: Page, t: int) -> dict:
    """Choose step t as a view does (gs:select) and read the heatmaps' labels once they mark it."""
    gs.page.evaluate("t => document.dispatchEvent(new CustomEvent('gs:select', {detail: {t}, bubbles: true}))", t)
    gs.wait("t => document.getElementById('heatmaps-plot').drawn.marker.t === t", t)
    return gs.page.evaluate(LABELS, "heatmaps-plot")


def check_labels(gs: Page, d: dict, text: str, width: int, t: int) -> None:
    """The labels `d` (LABELS, step t chosen) are apart, inside the figure and the boxes the page says it drew, each
    its token (or its start and an ellipsis), exactly every k-th step but for t's, which takes out only the
    neighbours it touches; and the canvas is white between each two neighbours, across both bands."""
    labels = sorted(d["labels"], key=lambda lab: lab["x"])
    widths = gs.page.evaluate(WIDTHS, [[lab["text"] for lab in labels], d["size"], FONT])
    for (a, wa), (b, wb) in zip(zip(labels, widths, strict=True), zip(labels[1:], widths[1:], strict=True),
                                strict=False):
        assert a["x"] + wa / 2 < b["x"] - wb / 2, (width, t, a, b)  # apart
    assert [lab.get("w") for lab in labels] == pytest.approx(widths, abs=0.5)  # the boxes the page says it drew
    assert t in [lab["t"] for lab in labels], (t, labels)
    assert labels[0]["x"] - labels[0]["w"] / 2 >= 0 and labels[-1]["x"] + labels[-1]["w"] / 2 <= d["width"]
    for lab in labels:
        token = visible(text[lab["t"]])
        assert lab["text"] == token or (lab["text"].endswith("…") and token.startswith(lab["text"][:-1])), lab
    k = d["stride"]
    steps, every = {lab["t"] for lab in labels}, set(range(0, len(text), k))
    assert steps - {t} <= every, (width, t, k, sorted(steps - every))
    assert every - steps <= {t // k * k, -(-t // k) * k} - {t}, (width, t, k, sorted(every - steps))  # t's neighbours
    for y0, y1 in d["bands"]:
        for a, b in zip(labels, labels[1:], strict=False):
            gap = (a["x"] + a["w"] / 2 + b["x"] - b["w"] / 2) / 2
            ink = [p for p in column(gs.page, "heatmaps-plot", gap, y0 + 1, y1 - 1) if differs(p, WHITE) > 60]
            assert not ink, (width, t, a, b, ink[:3])


@pytest.mark.parametrize("width", [390, 1280, 1920])
@pytest.mark.parametrize(("model", "text"), [("shakespeare-char", LATIN), ("hometown", CHINESE)])
def test_token_labels_never_overlap_and_the_chosen_token_is_labelled(browser, shipped, width, model, text):  # noqa: F811
    context, gs = page_at(browser, shipped, width, f"?model={model}#text={quote(text)}")
    T = len(text)
    first = gs.page.evaluate(LABELS, "heatmaps-plot")
    assert first["stride"] > 1, first["stride"]  # thinned at every width: the test reads a crowded axis
    for t in (0, 1, 3, 7, T // 2 + 1, T - 2, T - 1):
        check_labels(gs, choose(gs, t), text, width, t)
    gs.shot(f"heatlabels-{model}-{width}", "#heatmaps-plot")
    close(context, gs)


@pytest.mark.parametrize("width", [390, 1280, 1920])
def test_the_labelled_steps_are_exactly_every_k(browser, shipped, width):  # noqa: F811
    """Chinese characters among narrow Latin letters, wider than the room the typical label leaves: k grows until
    every k-th token fits (before, such a label was left out, so the gaps were uneven and "one token in every k"
    approximate), and the note names that k."""
    context, gs = page_at(browser, shipped, width, f"?model=hometown#text={quote(MIXED)}")
    for t in (0, 1, 7, len(MIXED) // 2 + 1, len(MIXED) - 1):
        d = choose(gs, t)
        check_labels(gs, d, MIXED, width, t)
    assert translate("en", "note.thin", k=d["stride"]) in gs.page.inner_text("#sec-heatmaps")
    close(context, gs)


@pytest.mark.parametrize(("lang", "drag"), [("en", "drag"), ("zh-CN", "拖动")])
def test_the_phone_heatmaps_say_drag_once(browser, shipped, lang, drag):  # noqa: F811
    """The labels are thinned (its note shows) and a finger can narrow time: one sentence tells to drag, not two."""
    context, gs = page_at(browser, shipped, 390, f"?model=shakespeare-char&lang={lang}#text={quote(LATIN)}")
    said = gs.page.inner_text("#sec-heatmaps")  # what is rendered, hidden elements left out
    k = gs.page.evaluate(LABELS, "heatmaps-plot")["stride"]
    assert translate(lang, "note.thin", k=k) in said and translate(lang, "heatmaps.zoom_hint_touch") in said, said
    assert said.lower().count(drag) == 1, said
    close(context, gs)


def test_a_finger_dragged_sideways_shows_the_columns_it_crossed(browser, shipped):  # noqa: F811
    context, gs = page_at(browser, shipped, 390, f"?model=shakespeare-char#text={quote(LATIN)}")
    state = gs.page.evaluate("window.gatescope.state")
    gs.page.evaluate("y => window.scrollBy(0, y - innerHeight / 2)", heat_centre(gs.page, "heatmaps-plot", 1, 20, 3)[1])
    a = heat_centre(gs.page, "heatmaps-plot", 1, 20, 3)
    b = heat_centre(gs.page, "heatmaps-plot", 1, 100, 3)
    cdp = gs.page.context.new_cdp_session(gs.page)  # Chromium's own touch input: touch, then pointer events
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": a[0], "y": a[1]}]})
    for k in range(1, 9):
        x = a[0] + (b[0] - a[0]) * k / 8
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": a[1]}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    gs.wait("() => document.getElementById('heatmaps-plot').drawn.window[0] === 20")
    d = drawn(gs.page, "heatmaps-plot")
    assert d["window"] == [20, 100], d["window"]
    assert gs.page.is_visible("#heatmaps .heat-window")
    starts = [lab["t"] for lab in d["labels"]]
    assert all(20 <= t <= 100 for t in starts) and starts[0] - 20 < d["stride"], (starts, d["stride"])
    now = gs.page.evaluate("window.gatescope.state")
    assert (now["unit"], now["t"], now["tab"]) == (state["unit"], state["t"], state["tab"])  # no cell, no new tab
    gs.shot("heat-touch-window", "#sec-heatmaps")
    # The hint's other half on a phone: a double tap shows the whole text again.
    gs.page.evaluate("y => window.scrollBy(0, y - innerHeight / 2)", heat_centre(gs.page, "heatmaps-plot", 1, 50, 3)[1])
    for _ in range(2):
        gs.page.touchscreen.tap(*heat_centre(gs.page, "heatmaps-plot", 1, 50, 3))
    gs.wait("() => document.getElementById('heatmaps-plot').drawn.window[0] === 0")
    assert drawn(gs.page, "heatmaps-plot")["window"] == [0, len(LATIN) - 1]
    assert not gs.page.is_visible("#heatmaps .heat-window")
    close(context, gs)
