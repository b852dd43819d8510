"""The figures drawn on a canvas of our own (static/js/canvaschart.js), for the keyboard and screen readers: each is
an image (role="img") named from the catalogs by what it shows, in the page's language, and takes the focus; the
arrow keys move between its marks (the tip shown, the mark outlined), and Enter or Space picks the same change a
click emits. The page's own arrow keys (the timeline's) stay still while a figure has the focus."""
from __future__ import annotations

import pytest

from app.i18n import translate
from tests.browser.canvas import bar_centre, column, drawn, heat_centre, on_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEXT = "The cat sat on the mat and the dog sat on the log"  # ends on a letter: its token is itself
PICKS = "() => { window.__picks = []; document.addEventListener('gs:select', (e) => window.__picks.push(e.detail)); }"
TIP = "id => { const t = document.querySelector(`#${id}`).parentElement.querySelector('.chart-tip');" \
      " return t.hidden ? null : t.textContent; }"


def label(lang: str, key: str, keys: str = "chart.keys", **params) -> str:
    """A figure's aria-label: what it shows, then how its keys work, both from the catalogs."""
    return f"{translate(lang, key, **params)} {translate(lang, keys)}"


def black_above(gs, bars: dict, row: int, k: int) -> bool:
    """Whether the keyboard's outline (black under white) crosses the white above row `row`'s bar slot k."""
    top = bars["boxes"][row]["y"]
    return (0, 0, 0) in column(gs.page, "bars-plot", bar_centre(bars, row, k), top - 6, top - 1)


def test_the_keys_choose_a_bar_as_a_click_does(gs):
    gs.open("?model=english-char&unit=0")
    gs.type(TEXT)
    gs.page.evaluate(PICKS)
    gs.page.locator("#bars-plot").scroll_into_view_if_needed()
    bars = drawn(gs.page, "bars-plot")
    units, n, t = bars["units"], len(bars["units"]), bars["t"]
    assert not black_above(gs, bars, 0, 3)
    gs.page.focus("#bars-plot")
    for _ in range(4):  # from no mark to the fourth: unit 3's f bar
        gs.page.keyboard.press("ArrowRight")
    keyed = gs.page.evaluate(TIP, "bars-plot")
    assert keyed.startswith(f"unit {units[3]}\nf = "), keyed
    assert drawn(gs.page, "bars-plot")["focus"] == 3 and black_above(gs, bars, 0, 3)
    assert gs.page.evaluate("window.gatescope.state.t") == t  # the timeline did not take the arrows
    gs.page.keyboard.press("ArrowDown")  # the same unit's i bar, in the row below
    assert drawn(gs.page, "bars-plot")["focus"] == n + 3
    keyed = gs.page.evaluate(TIP, "bars-plot")
    assert keyed.startswith(f"unit {units[3]}\ni = "), keyed
    # The tip the keys show is the one the pointer shows over the same bar.
    box = bars["boxes"][1]
    gs.page.mouse.move(*on_page(gs.page, "bars-plot", bar_centre(bars, 1, 3), box["y"] + box["h"] / 2))
    assert gs.page.evaluate(TIP, "bars-plot") == keyed
    gs.page.focus("#bars-plot")
    gs.page.keyboard.press("Enter")
    gs.page.wait_for_function("u => window.gatescope.state.unit === u", arg=units[3])
    gs.page.wait_for_function("u => document.getElementById('bars-plot').drawn.unit === u", arg=units[3])
    # A click on another bar emits the same kind of change; Space picks as Enter does.
    box = bars["boxes"][2]
    gs.page.mouse.click(*on_page(gs.page, "bars-plot", bar_centre(bars, 2, 7), box["y"] + box["h"] / 2))
    gs.page.wait_for_function("u => window.gatescope.state.unit === u", arg=units[7])
    gs.page.keyboard.press("ArrowLeft")  # on from the bar clicked
    gs.page.keyboard.press(" ")
    gs.page.wait_for_function("u => window.gatescope.state.unit === u", arg=units[6])
    picks = gs.page.evaluate("window.__picks")
    assert picks == [{"unit": units[3]}, {"unit": units[7]}, {"unit": units[6]}], picks
    assert gs.page.evaluate("window.gatescope.state.t") == t
    gs.shot("bars-keyboard", "#sec-bars")


def test_the_keys_choose_a_saturation_point_and_hide_a_layer(gs):
    gs.open("?model=english-char&unit=0")
    gs.type(TEXT)
    gs.page.evaluate(PICKS)
    gs.page.locator("#saturation-plot").scroll_into_view_if_needed()
    gs.settle()
    sat = drawn(gs.page, "saturation-plot")
    gs.page.focus("#saturation-plot")
    gs.page.keyboard.press("End")  # the last mark: the legend's last layer
    assert gs.page.evaluate(TIP, "saturation-plot") == "Layer 1: click to hide its points"
    gs.page.keyboard.press("Enter")
    gs.page.wait_for_function("document.getElementById('saturation-plot').drawn.hidden.includes(1)")
    gs.page.keyboard.press("End")
    assert gs.page.evaluate(TIP, "saturation-plot") == "Layer 1 is hidden: click to show its points"
    # Hidden it stays from one text to the next, and the legend says so; another model shows every layer again.
    gs.type(TEXT + " again")
    legend = drawn(gs.page, "saturation-plot")["legend"]
    assert drawn(gs.page, "saturation-plot")["hidden"] == [1]
    assert [e["name"] for e in legend] == ["layer 0", "layer 1 (hidden)"]
    gs.shot("saturation-hidden-layer", "#sec-saturation")
    gs.page.select_option("#model", "words-bi")
    gs.page.wait_for_function("window.gatescope.rendered.model === 'words-bi'")
    gs.settle()
    assert drawn(gs.page, "saturation-plot")["hidden"] == []
    gs.page.select_option("#model", "english-char")
    gs.wait_drawn(TEXT + " again")
    gs.page.locator("#saturation-plot").scroll_into_view_if_needed()
    gs.settle()
    assert drawn(gs.page, "saturation-plot")["hidden"] == []
    gs.page.focus("#saturation-plot")
    gs.page.keyboard.press("Home")  # the first point: f, layer 0, unit 0
    assert gs.page.evaluate(TIP, "saturation-plot").startswith("f, layer 0, unit 0\n")
    for _ in range(5):
        gs.page.keyboard.press("ArrowRight")
    gs.page.keyboard.press("Enter")
    gs.page.wait_for_function("window.gatescope.state.unit === 5 && window.gatescope.state.layer === 0")
    assert gs.page.evaluate("window.__picks") == [{"unit": 5, "layer": 0}]
    assert [lay["layer"] for lay in sat["panels"][0]["layers"]] == [0, 1]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_canvas_figure_is_a_named_image_that_takes_the_focus(gs, lang):
    gs.open(f"?model=english-char&unit=2&lang={lang}")
    gs.type(TEXT)
    for sec in ("sec-bars", "sec-unit", "sec-predictions", "sec-saturation"):
        gs.page.locator(f"#{sec}").scroll_into_view_if_needed()
        gs.settle()
    figures = gs.page.evaluate("""() => [...document.querySelectorAll('.canvas-chart:not([hidden])')].map((e) => (
        { id: e.id, role: e.getAttribute('role'), tab: e.tabIndex, label: e.getAttribute('aria-label') }))""")
    T = len(TEXT)
    want = {"bars-plot": label(lang, "bars.label", count=16, t=T - 1, token=TEXT[-1], unit=2),
            "heatmaps-plot": label(lang, "heatmaps.label", "heatmaps.keys", **{"from": 0, "to": T - 1}, unit=2,
                                   t=T - 1),
            "saturation-plot": label(lang, "saturation.label", count=T),
            "unit-plot": label(lang, "unit.label", unit=2, count=T)}
    if any(f["id"] == "surprisal-plot" for f in figures):  # a model with a next-token head
        want["surprisal-plot"] = label(lang, "predictions.label", count=T)
    assert {f["id"]: f["label"] for f in figures} == want
    assert all(f["role"] == "img" and f["tab"] == 0 for f in figures), figures
    if lang == "zh-CN":  # the heatmaps' too
        assert all("神经元" in f["label"] or "饱和" in f["label"] or "意外度" in f["label"] for f in figures)
    # Another language on the same page: the names follow it.
    other = "en" if lang == "zh-CN" else "zh-CN"
    gs.page.select_option("#lang", other)
    gs.page.wait_for_function("l => document.documentElement.lang === l", arg=other)
    gs.settle()
    got = gs.page.evaluate("id => document.getElementById(id).getAttribute('aria-label')", "saturation-plot")
    assert got == label(other, "saturation.label", count=T)


SPOKEN = "id => document.getElementById(id).closest('section').querySelector('.figure-saves [aria-live]').textContent"


def test_the_keys_move_cell_by_cell_on_the_heatmaps_and_pick_as_a_click_does(gs):
    gs.open("?model=english-char&unit=2")
    gs.type(TEXT)
    T = len(TEXT)
    gs.page.evaluate(PICKS)
    gs.page.focus("#heatmaps-plot")
    gs.page.keyboard.press("ArrowLeft")  # the first key shows the chosen cell: t = T - 1, unit 2, in subplot i
    d = drawn(gs.page, "heatmaps-plot")
    assert (d["focus"], d["cell"]) == (0, [T - 1, 2]), (d["focus"], d["cell"])
    units = [p["units"] for p in d["panels"]]
    # Two cells reached by the keys, one arrow a step or a unit, PageDown a subplot down, Home the row's start.
    walks = [(["ArrowLeft"] * 3 + ["ArrowDown", "PageDown"], 1, T - 4, 3),
             (["Home", "ArrowRight", "ArrowRight", "ArrowUp", "ArrowUp", "ArrowUp", "PageDown", "PageDown",
               "PageDown", "PageUp", "PageDown"], 4, 2, 0)]
    for keys, k, t, row in walks:
        before = gs.page.evaluate("window.gatescope.state.t")
        gs.page.focus("#heatmaps-plot")
        for key in keys:
            gs.page.keyboard.press(key)
        d = drawn(gs.page, "heatmaps-plot")
        assert (d["focus"], d["cell"]) == (k, [t, row]), (keys, d["focus"], d["cell"])
        said = gs.page.evaluate(TIP, "heatmaps-plot")
        assert said.startswith(f"token {TEXT[t].replace(' ', '␣')}\nposition {t}\nunit {units[k][row]}\n"), said
        assert gs.page.evaluate(SPOKEN, "heatmaps-plot") == said  # said once through the live region
        assert gs.page.evaluate("window.gatescope.state.t") == before  # the timeline did not take the arrows
        gs.page.keyboard.press("Enter")
        gs.wait("([u, t]) => window.gatescope.state.unit === u && window.gatescope.state.t === t", [units[k][row], t])
        # The pointer over the same cell says the same, and a click there picks the same.
        centre = heat_centre(gs.page, "heatmaps-plot", k, t, row)
        gs.page.evaluate("y => window.scrollBy(0, y - innerHeight / 2)", centre[1])
        centre = heat_centre(gs.page, "heatmaps-plot", k, t, row)
        gs.page.mouse.move(*centre)
        assert gs.page.evaluate(TIP, "heatmaps-plot") == said
        gs.page.mouse.click(*centre)
        picks = gs.page.evaluate("window.__picks")
        assert picks[-2:] == [{"unit": units[k][row], "t": t}] * 2, picks
    assert len(gs.page.evaluate("window.__picks")) == 4
    gs.shot("heatmaps-keyboard", "#sec-heatmaps")
