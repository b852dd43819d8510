"""The training panel in Chromium: start a counting job, watch the curve and the probe's heatmaps follow the
run (checked against the snapshot files themselves), stop it, keep the model and open it in the explorer;
then the finished panel at phone, laptop and projector sizes; and a short run kept and opened in its lesson."""
from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.testing import start_server, stop_server
from lstm_core import load_model
from tests.browser.conftest import make_models, new_context, open_page
from tests.browser.lessonwalk import walk

pytestmark = [pytest.mark.browser, pytest.mark.slow]
JOB_MS = 600_000  # a job runs at a lower priority on a shared machine: wait generously, assert nothing on time


@pytest.fixture(scope="module")
def train_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, var directory) of a server with the browser tests' models and a private jobs directory."""
    d = tmp_path_factory.mktemp("train-browser")
    (d / "models").mkdir()
    make_models(d / "models")
    base, proc = start_server(d / "models", env={"GATESCOPE_VAR_DIR": str(d / "var")})
    yield base, d
    stop_server(proc)


@pytest.fixture()
def tp(browser, train_server) -> Iterator:
    """A fresh page on the training server."""
    yield from open_page(browser, train_server[0])


SHOWN_STEP = "Number(document.getElementById('train-slider-label').textContent.match(/step (\\d+)/)[1])"
# The forget gate the panel's heatmaps hold, and the step of the snapshot they show, read at one moment.
HEATMAP_F = f"""() => {{ const d = document.getElementById('train-heatmaps-plot').drawn;
  const f = d.panels.find((p) => p.q === 'f'); return {{z: f.z.map((r) => Array.from(r)), step: {SHOWN_STEP}}}; }}"""
# Elements of the training section whose right edge is past the window's (the explorer above has its own tests).
# What shows past the screen's right edge: an element's right edge, cut by every ancestor that clips its overflow.
PAST_THE_EDGE = """() => { const w = document.documentElement.clientWidth;
  const shown = (e) => { let right = e.getBoundingClientRect().right;
    for (let a = e.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') right = Math.min(right, a.getBoundingClientRect().right);
    }
    return right; };
  return [...document.querySelectorAll('#sec-train *')].filter((e) => shown(e) > w + 1)
    .map((e) => `${e.tagName}#${e.id}.${e.getAttribute('class')}`); }"""
CURVE_POINTS = "() => { const gd = document.getElementById('train-curve'); return gd.data ? gd.data[0].x.length : 0; }"


def _get(base: str, path: str) -> tuple[int, dict]:
    """(status, JSON body) of a GET, refusals included."""
    try:
        with urllib.request.urlopen(base + path, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _snapshot_f(var: Path, step: int, probe: str) -> np.ndarray:
    """f (T, H) of the probe, traced by the core from the job's own snapshot file of `step`."""
    [path] = (var / "jobs").glob(f"*/counting-*/step-{step:06d}.safetensors")
    return load_model(path).trace_text(probe).trace.gate("f")[0, 0]  # (T, H)


def test_train_watch_stop_keep_and_open_in_the_explorer(tp, train_server):
    var = train_server[1] / "var"
    page = tp.page
    page.set_default_timeout(JOB_MS)
    tp.open("?model=english-char")
    page.locator("#sec-train").scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('train-task').options.length > 0")
    assert page.input_value("#train-task") == "counting" and page.input_value("#train-hidden") == "4"
    tp.shot("train-1-form", "#sec-train")
    page.fill("#train-lr", "0.001")  # slow enough to be stopped on the way (at 0.01 it is done in ~220 steps)
    page.click("#train-start")
    page.wait_for_function("document.getElementById('train-slider-label').textContent.startsWith('step')")
    first = page.evaluate(HEATMAP_F)
    points = page.evaluate(CURVE_POINTS)
    probe = page.text_content("#train-probe")
    assert "aaaaaaXbbbbbb." in probe and points >= first["step"]
    want = _snapshot_f(var, first["step"], "aaaaaaXbbbbbb.")  # (T, H); the figure: units down, time across
    np.testing.assert_allclose(np.array(first["z"]), want.T, atol=1 / 65535)
    tp.shot("train-2-running", "#sec-train")
    page.wait_for_function(f"s => {SHOWN_STEP} > s", arg=first["step"])
    later = page.evaluate(HEATMAP_F)
    assert later["step"] > first["step"] and later["z"] != first["z"]  # redrawn as the run goes on
    assert page.evaluate(CURVE_POINTS) > points
    np.testing.assert_allclose(np.array(later["z"]), _snapshot_f(var, later["step"], "aaaaaaXbbbbbb.").T,
                               atol=1 / 65535)
    page.click("#train-stop")
    page.wait_for_function("document.getElementById('train-status').textContent.startsWith('stopped')")
    assert page.is_visible("#train-resume") and page.is_visible("#train-keep") and not page.is_visible("#train-stop")
    page.locator("#train-slider").fill("0")  # the replay: back to the first snapshot
    page.wait_for_function("document.getElementById('train-slider-label').textContent.startsWith('step 20')")
    np.testing.assert_allclose(np.array(page.evaluate(HEATMAP_F)["z"]), _snapshot_f(var, 20, "aaaaaaXbbbbbb.").T,
                               atol=1 / 65535)
    page.fill("#train-name", "Anna's counter <b>")
    page.click("#train-keep")
    page.wait_for_selector("#train-open")
    assert "Anna's counter <b>" in page.text_content("#train-kept")  # a label shown as text, never HTML
    tp.shot("train-3-kept", "#sec-train")
    href = page.get_attribute("#train-open", "href")
    page.click("#train-open")
    page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
    tp.settle()
    model = page.evaluate("window.gatescope.state.model")
    assert model.startswith("train-") and model in href and page.input_value("#model") == model
    assert page.evaluate("window.gatescope.rendered.text") == "aaaaaaXbbbbbb."
    assert page.evaluate("document.getElementById('heatmaps-plot').drawn.panels.length") == 6
    tp.shot("train-4-explorer")


def _short_run(page, url: str) -> None:
    """Open `url` and train the counter for 60 steps from the panel, until it can be kept."""
    page.goto(url)
    # The panel is made once the catalog has loaded, which may be after the load event.
    page.wait_for_function("(document.getElementById('train-task') || {options: []}).options.length > 0")
    page.select_option("#train-task", "counting")
    page.fill("#train-steps", "60")
    page.click("#train-start")
    page.wait_for_function("!document.getElementById('train-keep').parentElement.hidden")


@pytest.mark.parametrize(("width", "height", "name"), [(390, 844, "phone"), (1280, 800, "laptop"),
                                                       (1920, 1080, "projector")])
def test_the_panel_after_a_run_fits_phone_laptop_and_projector(browser, train_server, width, height, name):
    """The run of the test above, followed again after a reload in this tab (sessionStorage), at each size."""
    context = new_context(browser, viewport={"width": width, "height": height})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.set_default_timeout(JOB_MS)
    try:
        # tab=train: a phone shows one view at a time (tabs.js); wider screens show them all and ignore it.
        lang = 'zh-CN' if name == 'projector' else 'en'
        _short_run(page, f"{train_server[0]}/?model=english-char&tab=train&lang={lang}")
        page.reload()  # the tab's job is followed again, its whole run replayed from the log
        page.wait_for_function("(document.getElementById('train-slider') || {}).max === '2'")  # once the page made it
        assert page.input_value("#train-steps") == "60"  # the form shows the job's configuration, not the defaults
        wide = page.evaluate(PAST_THE_EDGE)
        assert wide == [], f"{name}: the training panel runs past the screen's edge: {wide}"
        page.add_style_tag(content=".sticky { position: static !important; }")
        page.locator("#sec-train").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.locator("#sec-train").screenshot(path=str(Path(__file__).parents[1] / "artifacts" / f"train-{name}.png"))
    finally:
        context.close()
    assert errors == []


def test_a_kept_counter_opens_in_its_lesson_on_the_kept_model(tp, train_server):
    """Train a short counting run to the end, keep it, and follow "Open it in the lesson": the counter lesson runs
    on the kept model (this server has no shipped counter at all), and every number it quotes is the kept
    model's, checked against /api/trace, /api/step and /api/lessons?model= as the lesson tests check them."""
    page = tp.page
    page.set_default_timeout(JOB_MS)
    own = _get(tp.base, "/api/lessons/counter")
    assert own[0] == 404 and own[1]["code"] == "lesson_model_missing"  # only a kept model can run it here
    page.set_viewport_size({"width": 1280, "height": 800})
    tp.open("?model=english-char")
    page.locator("#sec-train").scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('train-task').options.length > 0")
    assert page.input_value("#train-task") == "counting"
    page.fill("#train-steps", "60")
    page.click("#train-start")
    page.wait_for_function("document.getElementById('train-status').textContent.startsWith('done')")
    page.fill("#train-name", "counter for the lesson")
    page.click("#train-keep")
    page.wait_for_selector("#train-open-lesson")
    query = parse_qs(urlparse(page.get_attribute("#train-open-lesson", "href")).query)
    kept = query["model"][0]
    assert kept.startswith("train-") and kept.endswith("-60") and query["lesson"] == ["counter"]
    assert page.text_content("#train-open-lesson") == "Open it in the lesson" and page.is_visible("#train-open")
    tp.shot("train-kept-lesson-laptop", "#sec-train")
    page.set_viewport_size({"width": 390, "height": 844})
    page.click('#tabs [data-tab="train"]')  # a phone shows one view at a time
    tp.shot("train-kept-lesson-phone", "#sec-train")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.click("#train-open-lesson")
    page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
    assert page.evaluate("window.gatescope.state.model") == kept and page.input_value("#lesson") == "counter"
    assert walk(tp, "counter", "en", model=kept, opened=True) >= 20
    page.click("#lesson-panel .lesson-prev")  # back to the first steps, for the pictures
    page.wait_for_function("window.gatescope.state.step === 4")
    tp.settle()
    tp.shot("train-kept-lesson-open-laptop")
    page.set_viewport_size({"width": 390, "height": 844})
    tp.settle()
    tp.shot("train-kept-lesson-open-phone")


def test_the_panels_figures_follow_a_resize_to_a_phone(browser, train_server):
    """A run drawn at a laptop's width, then the window narrowed to a phone's and the training tab opened: each
    figure takes the phone's width and keeps its height (Plotly's own resize left them 0 px tall, drawn over the
    panel's other rows)."""
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(JOB_MS)
    try:
        _short_run(page, f"{train_server[0]}/?model=english-char")
        page.set_viewport_size({"width": 390, "height": 844})
        page.click("#tabs [data-tab=train]")
        # The resize tabs.js sends at the next frame, and the redraws after it: waited for, then said what is wrong.
        with contextlib.suppress(PlaywrightTimeout):  # the assertions below name the figure
            page.wait_for_function("""() => [...document.querySelectorAll('#sec-train .js-plotly-plot')].every((gd) => {
              const r = gd.getBoundingClientRect(); return r.width <= 390 && r.height === gd._fullLayout.height
                && gd._fullLayout.width <= r.width + 1; })""",
                                   timeout=20000)
        sizes = page.evaluate("""() => [...document.querySelectorAll('#sec-train .js-plotly-plot')].map((gd) =>
          [gd.id, gd.getBoundingClientRect().width, gd.getBoundingClientRect().height, gd._fullLayout.height,
           gd._fullLayout.width])""")
        assert len(sizes) == 1, sizes  # the curve (the heatmaps and the unit's lines are canvas charts: below)
        # Plotly redrew at the new width: its box narrowed before its drawing did (seen at load: the svg 1280 wide).
        assert all(plotted <= w + 1 for _, w, _, _, plotted in sizes), sizes
        sizes = [s[:4] for s in sizes]
        # The heatmaps, a canvas chart: redrawn at the phone's width (canvaschart.js follows its box's size).
        page.wait_for_function("() => { const e = document.getElementById('train-heatmaps-plot');"
                               " return e.drawn && e.drawn.width === e.clientWidth && e.clientWidth <= 390; }")
        heat = page.evaluate("""() => { const e = document.getElementById('train-heatmaps-plot');
          const r = e.querySelector('canvas').getBoundingClientRect(); return ['heatmaps', r.width, r.height,
          e.drawn.height]; }""")
        for gd, w, h, drawn in [*sizes, heat]:
            assert 300 < w <= 390 and h == drawn > 0, f"{gd} is {w} x {h} px after the resize (drawn {drawn} tall)"
        # The unit's lines, a canvas chart (canvaschart.js): redrawn at the new width, as tall as it says it drew.
        charts = page.evaluate("""() => [...document.querySelectorAll('#sec-train .canvas-chart')]
          .filter((b) => b.id !== 'train-heatmaps-plot').map((b) => b.querySelector(':scope > canvas')).map((c) =>
          [c.getBoundingClientRect().width, c.getBoundingClientRect().height, (c.parentElement.drawn || {}).width,
           (c.parentElement.drawn || {}).height])""")
        assert len(charts) == 1, charts
        for w, h, drawn_w, drawn_h in charts:
            assert 300 < w <= 390 and abs(drawn_w - w) < 1 and abs(h - drawn_h) < 1 and drawn_h > 0, charts
        assert page.evaluate(PAST_THE_EDGE) == []
        page.add_style_tag(content=".sticky { position: static !important; }")
        page.locator("#sec-train").screenshot(path=str(Path(__file__).parents[1] / "artifacts" / "train-resized.png"))
    finally:
        context.close()
