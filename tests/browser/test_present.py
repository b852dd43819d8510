"""Presentation mode in Chromium at 1920 x 1080, in both languages: one view on stage with the lesson docked
beside it, type large enough for the back of a room, nothing spilling off the screen; the presenter's keys,
fullscreen and the laser pointer. Screenshots go to tests/artifacts (present-*.png) for a person to read."""
from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, need_model, new_context

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VISIBLE = """() => [...document.querySelectorAll('main > section.view')]
  .filter((s) => getComputedStyle(s).display !== 'none').map((s) => s.id)"""
SIZE = "(sel) => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize)"


def projector(browser, shipped, query):
    """A 1920 x 1080 page on `query`, drawn and settled."""
    context = new_context(browser, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{shipped}/{query}")
    page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
    page.evaluate("window.gatescope.idle()")
    return context, page, errors


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize(("lesson", "step", "stage"), [
    ("counter", 2, "sec-step"), ("counter", 6, "sec-predictions"), ("counter", 1, "sec-unit"),
    ("hometown", 3, "sec-step"), ("hometown", 6, "sec-predictions"),
])
def test_one_view_large_type_and_the_lesson_beside_it(browser, shipped, lang, lesson, step, stage):
    need_model(lesson)
    context, page, errors = projector(browser, shipped, f"?lesson={lesson}&step={step}&present=1&lang={lang}")
    page.wait_for_function(f"document.body.dataset.stage === '{stage}'")
    page.wait_for_function("() => !document.querySelector('#lesson-panel .lesson-eqs .note')")
    page.wait_for_timeout(300)
    assert page.evaluate("document.body.classList.contains('present')")
    assert page.evaluate(VISIBLE) == [stage]
    panel = page.locator("#lesson-panel").bounding_box()
    assert panel["x"] + panel["width"] == pytest.approx(1920, abs=2) and panel["width"] > 600
    assert panel["y"] < 200 and panel["y"] + panel["height"] <= 1080
    # Type for the back of a room: body text at least 22 px, headings at least 36 px, numbers at least 22 px.
    assert page.evaluate(SIZE, "#lesson-panel .lesson-body p") >= 21
    assert page.evaluate(SIZE, "#lesson-panel .lesson-title") >= 30
    assert page.evaluate(SIZE, f"#{stage} h2") >= 36
    # High contrast: black text on white.
    colour = "getComputedStyle(document.querySelector('#lesson-panel .lesson-body')).color"
    assert page.evaluate(colour) == "rgb(0, 0, 0)"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    # The stage fits the screen beside the panel: nothing runs off to the right.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    box = page.locator(f"#{stage}").bounding_box()
    assert box["x"] + box["width"] <= panel["x"] + 2
    fonts = page.evaluate(f"[...document.querySelectorAll('#{stage} .js-plotly-plot')].map((p) => p.layout.font.size)")
    assert all(size >= 22 for size in fonts)
    # The canvas charts over time (timescene.js) say the size of the type they drew.
    sizes = page.evaluate(f"[...document.querySelectorAll('#{stage} .canvas-chart')].filter((c) => c.drawn"
                          " && c.drawn.sizes).map((c) => c.drawn.sizes.tick)")
    assert all(size >= 22 for size in sizes) and (sizes or stage != "sec-unit")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"present-{lesson}-{lang}-{step}.png"))
    context.close()
    assert errors == []


def test_the_presenters_keys_fullscreen_and_laser(browser, shipped):
    context, page, errors = projector(browser, shipped, "?lesson=counter&step=2&present=1")
    page.wait_for_function("document.body.dataset.lessonStep === 'forget'")
    press = page.keyboard.press
    for key, step in (("PageDown", 3), ("n", 4), ("PageUp", 3), ("b", 2)):
        press(key)
        page.wait_for_function(f"window.gatescope.state.step === {step}")
    t = page.evaluate("window.gatescope.state.t")
    press("ArrowRight")
    page.wait_for_function(f"window.gatescope.state.t === {t + 1}")
    press("ArrowDown")
    page.wait_for_function("window.gatescope.state.unit === 2")  # counter's lesson unit is 1
    for _ in range(5):
        press("ArrowDown")
    page.wait_for_function("window.gatescope.state.unit === 3")  # the last of 4 units: it stops there
    press("l")
    page.mouse.move(700, 500)
    dot = page.locator("#laser").bounding_box()
    centre = (dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2)
    assert centre == (pytest.approx(700, abs=2), pytest.approx(500, abs=2))
    assert page.evaluate("getComputedStyle(document.getElementById('laser')).pointerEvents") == "none"
    press("l")
    assert page.locator("#laser").is_hidden()
    press("f")
    page.wait_for_function("document.fullscreenElement === document.documentElement")
    press("f")
    page.wait_for_function("document.fullscreenElement === null")
    press("Escape")
    page.wait_for_function("!document.body.classList.contains('present')")
    page.wait_for_timeout(400)
    assert "present=1" not in page.url and len(page.evaluate(VISIBLE)) > 1
    context.close()
    assert errors == []


def test_without_a_lesson_v_changes_the_view_on_stage(browser, shipped):
    context, page, errors = projector(browser, shipped, "?model=counter&text=aaaXbbb")
    before = page.evaluate("(() => { const d = document.getElementById('heatmaps-plot').drawn;"
                           " return { h: d.panels.map((p) => p.box.h), sizes: d.sizes }; })()")
    page.click("#present-on")
    page.wait_for_function("document.body.classList.contains('present')")
    assert page.evaluate(VISIBLE) == ["sec-heatmaps"]
    # The heatmaps (a canvas chart) redrawn for the back of the room: unit numbers and tokens at 1.5 times their
    # size (13 and 16 px), and the figure within the stage.
    page.wait_for_function("document.getElementById('heatmaps-plot').drawn.sizes.token >= 24")
    heat = page.evaluate("(() => { const e = document.getElementById('heatmaps-plot'); return { sizes: e.drawn.sizes,"
                         " right: e.getBoundingClientRect().right, labels: e.drawn.labels.map((l) => l.text) }; })()")
    assert heat["sizes"] == {"tick": 20, "token": 24} and heat["right"] <= 1920
    assert before["sizes"] == {"tick": 13, "token": 16}
    # The subplots grow with the type (1.5 times), so as many unit numbers fit beside each as on a laptop.
    grown = page.evaluate("document.getElementById('heatmaps-plot').drawn.panels.map((p) => p.box.h)")
    assert grown == [round(h * 1.5) for h in before["h"]], (grown, before["h"])
    assert heat["labels"] == list("aaaXbbb")
    seen = []
    for _ in range(6):
        page.keyboard.press("v")
        page.wait_for_timeout(200)
        seen.append(page.evaluate(VISIBLE)[0])
    assert seen == ["sec-bars", "sec-step", "sec-unit", "sec-predictions", "sec-saturation", "sec-heatmaps"]
    page.wait_for_timeout(400)
    assert "present=1" in page.url
    page.screenshot(path=str(ARTIFACTS / "present-heatmaps.png"))
    page.click("#present-off")
    page.wait_for_function("!document.body.classList.contains('present')")
    context.close()
    assert errors == []
