"""The first five minutes in Chromium (issue 15): the page opens on the lesson's model (hometown) reading its card's
example in the page's language, with an introduction and the model card at hand; nothing leaves the machine (every
mode-bar button of every figure clicked, every request watched); [hidden] wins over any display; a phone gets one
compact row of header, one view at a time (tabs and swipes: tests/browser/test_phone.py), no sideways scroll and
cells a finger can pick; nothing jumps while the page fills in (layout shift measured by the browser); a projector's
header is one line and play has a speed."""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from urllib.parse import quote, urlparse

import pytest

from app.i18n import translate
from app.testing import start_server, stop_server
from tests.browser.canvas import bar_centre, drawn, heat_centre, on_page
from tests.browser.conftest import ARTIFACTS, Page, make_models, new_context, serve_models
from tests.browser.test_heads import make_head_models
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"laptop": (1280, 800), "phone": (390, 844), "projector": (1920, 1080), "old projector": (1024, 768)}
# Registers every layout shift not caused by input, before the page's own scripts run.
CLS = """window.__shifts = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shifts.push(e.value);
}).observe({ type: 'layout-shift', buffered: true });"""


@pytest.fixture(scope="module")
def shipped() -> Iterator[str]:
    """A live server on the shipped models/ (the lesson's hometown, shakespeare-char and the task models)."""
    for name in ("hometown", "shakespeare-char"):
        if not (ROOT / "models" / f"{name}.safetensors").exists():
            pytest.fail(f"models/{name}.safetensors is part of the repository and missing")
    base, proc = start_server(ROOT / "models")
    yield base
    stop_server(proc)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Models with and without each capability: decoder, vocabulary, backward direction, begin/end tokens."""
    def make(d):
        make_models(d)
        make_head_models(d)

    yield from serve_models(tmp_path_factory, "first-mixed", make)


def new_page(browser, base: str, size: tuple[int, int], **options) -> tuple[object, Page]:
    context = new_context(browser, viewport={"width": size[0], "height": size[1]}, **options)
    page = context.new_page()
    page.add_init_script(CLS)
    return context, Page(page, base)


def close(context, gs: Page) -> None:
    context.close()
    assert gs.errors == [], f"console errors: {gs.errors}"


def model_info(base: str, model: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/models/{model}", timeout=30) as r:
        return json.loads(r.read())


def drawn_everywhere(gs: Page) -> None:
    """Every view drawn for the text in the box: bring each on screen (its tab, on a phone) and let it catch up."""
    for sec in ("heatmaps", "bars", "step", "unit", "predictions", "saturation"):
        if gs.page.is_visible("#tabs"):
            gs.page.tap(f"#tabs [data-tab={sec}]")
        gs.page.locator(f"#sec-{sec}").scroll_into_view_if_needed()
        gs.settle()
    if gs.page.is_visible("#tabs"):
        gs.page.tap("#tabs [data-tab=heatmaps]")
    gs.page.wait_for_function("document.getElementById('step-cards').childElementCount > 0")
    gs.page.evaluate("window.scrollTo(0, 0)")


# What a first visit opens on, by the page's language: the seed's sentence of ../shared/seed/lstm-notes.md with its
# blank on a Chinese page, the card's English sentence on an English one.
SEED = "我来自内蒙古，我能讲一口流利的"
FRANCE = "I grew up in France, a small river ran past our house, I rode my bike to school, I speak fluent French."


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_first_load_reads_an_example_the_model_knows_in_every_view(browser, shipped, lang):
    examples = model_info(shipped, "hometown")["examples"]
    example = {"en": FRANCE, "zh-CN": SEED}[lang]
    assert example in examples  # the card declares it
    context, gs = new_page(browser, shipped, SIZES["laptop"], locale=lang)
    gs.open()
    assert gs.page.evaluate("document.documentElement.lang") == lang
    assert gs.page.input_value("#model") == "hometown"
    assert gs.page.input_value("#text") == example
    drawn_everywhere(gs)
    assert not gs.page.is_visible("#oov")  # no warning as the first screen
    assert "unknown" not in gs.page.text_content("#status")
    T = len(example)
    assert gs.page.evaluate("window.gatescope.rendered") == {"text": example, "model": "hometown",
                                                              "steps": T, "version": 0}
    # What each view drew, read back from the canvas charts' `drawn` and the DOM: every one holds T steps.
    assert gs.page.evaluate("document.getElementById('heatmaps-plot').drawn.panels.map(p => p.z[0].length)") == [T] * 6
    assert gs.page.evaluate("document.getElementById('unit-plot').drawn.lines.map(d => d.y.length)") == [T, T]
    assert gs.page.text_content("#unit-text") == example
    assert len(gs.page.evaluate("document.getElementById('bars-plot').drawn.values.f")) == 64  # hometown's units
    assert gs.page.locator("#pred-grid .pred-col").count() > 0
    assert gs.page.evaluate("document.getElementById('surprisal-plot').drawn.lines[0].y.length") == T
    assert gs.page.evaluate("document.getElementById('saturation-plot').drawn.panels.length") == 3
    # One sentence says what this is, with the lesson a click away; the card and the examples are one click away.
    assert gs.page.is_visible("#intro") and "LSTM" in gs.page.text_content("#intro")
    assert gs.page.get_attribute("#intro a[href='/?lesson=hometown']", "href") == "/?lesson=hometown"
    assert gs.page.locator("#examples .chip").count() == len(examples)
    assert "内蒙古" in gs.page.text_content("#model-about")
    if lang == "en":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        gs.page.screenshot(path=str(ARTIFACTS / "first-1280x800.png"))
    close(context, gs)


@pytest.mark.parametrize("name", ["phone", "projector", "old projector"])
def test_first_screen_at_each_size(browser, shipped, name):
    size = SIZES[name]
    phone = name == "phone"
    context, gs = new_page(browser, shipped, size, has_touch=phone, is_mobile=phone)
    gs.open()
    drawn_everywhere(gs)
    assert not gs.page.is_visible("#oov")
    width = gs.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways at {size}: {width}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    gs.page.screenshot(path=str(ARTIFACTS / f"first-{size[0]}x{size[1]}.png"))  # the first screen, header included
    close(context, gs)


def test_the_introduction_stays_dismissed(browser, shipped):
    context, gs = new_page(browser, shipped, SIZES["laptop"])
    gs.open()
    gs.page.click("#intro-close")
    assert not gs.page.is_visible("#intro")
    gs.open()
    assert gs.page.locator("#intro").count() == 0  # the server leaves it out: nothing to hide after paint
    close(context, gs)


def test_the_model_card_opens_from_the_picker(browser, shipped):
    info = model_info(shipped, "brackets")
    context, gs = new_page(browser, shipped, SIZES["laptop"])
    gs.open("?model=brackets")
    gs.page.click("#card-open")
    assert gs.page.is_visible("#card")
    assert gs.page.text_content("#card-title") == info["name"]
    headings = gs.page.eval_on_selector_all("#card-body h3", "hs => hs.map(h => h.textContent)")
    assert {"Data", "Metrics", "Examples", "Reproduce"} <= set(headings)
    assert "accuracy: 1.0" in gs.page.text_content("#card-body")
    assert info["examples"][0] in gs.page.eval_on_selector_all("#card-body pre", "ps => ps.map(p => p.textContent)")[0]
    gs.page.keyboard.press("Escape")
    assert not gs.page.is_visible("#card")
    close(context, gs)


def test_a_model_switch_never_silently_keeps_a_text_it_does_not_know(browser, shipped):
    first = FRANCE  # what the page opens on (English)
    brackets = model_info(shipped, "brackets")["examples"]
    context, gs = new_page(browser, shipped, SIZES["laptop"])
    gs.open()
    gs.page.select_option("#model", "brackets")
    gs.wait_drawn(brackets[0])
    assert gs.page.input_value("#text") == brackets[0]
    assert gs.page.is_visible("#swap-note") and "brackets" in gs.page.text_content("#swap-note")
    assert not gs.page.is_visible("#oov")
    gs.page.click("#swap-note button")  # the reader's text comes back, with the notice naming what is unknown
    gs.wait_drawn(first)
    assert gs.page.is_visible("#oov")
    assert not gs.page.is_visible("#swap-note")
    gs.page.locator("#examples .chip").nth(1).click()  # an example chip
    gs.wait_drawn(brackets[1])
    assert not gs.page.is_visible("#oov")
    gs.page.select_option("#model", "counter")  # a text of brackets is unknown to the counter too
    gs.wait_drawn(model_info(shipped, "counter")["examples"][0])
    close(context, gs)


def test_no_request_and_no_popup_leaves_the_page_origin(browser, shipped):
    """Every request the page makes is watched (and stopped if it goes elsewhere); every mode-bar button of
    every figure is clicked."""
    context, gs = new_page(browser, shipped, SIZES["laptop"], accept_downloads=True)
    origin = urlparse(shipped).netloc
    outside: list[str] = []

    def watch(route):
        if urlparse(route.request.url).netloc not in (origin, "") and not route.request.url.startswith(
                ("data:", "blob:")):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", watch)
    popups: list[str] = []
    context.on("page", lambda p: popups.append(p.url))
    gs.open("?model=shakespeare-char&view=texts#text=First%20Citizen&text2=Second%20Citizen")
    drawn_everywhere(gs)
    gs.page.locator("#sec-compare").scroll_into_view_if_needed()
    gs.page.wait_for_function("(() => { const p = document.querySelector('#compare .compare-plot');"
                              " return p && p.data !== undefined; })()")
    figures = gs.page.eval_on_selector_all(".js-plotly-plot", "gs => gs.map(g => g.id)")
    # Every explorer view draws on a canvas of its own since issue 15: the comparison is the page's Plotly figure.
    assert any(f.startswith("compare-plot") for f in figures), figures
    clicked = []
    for fid in figures:
        plot = gs.page.locator(f"#{fid}")
        plot.scroll_into_view_if_needed()
        config = gs.page.evaluate("id => { const c = document.getElementById(id)._context; return "
                                  "[c.showSendToCloud, c.plotlyServerURL, c.displaylogo]; }", fid)
        assert config == [False, "", False], fid
        buttons = plot.locator(".modebar-btn")
        titles = buttons.evaluate_all("bs => bs.map(b => b.getAttribute('data-title'))")
        assert titles and not any("Share" in t or "Cloud" in t or "Chart Studio" in t for t in titles), titles
        for k in range(buttons.count()):
            plot.hover()
            buttons.nth(k).click()
            gs.page.wait_for_timeout(150)
            clicked.append(titles[k])
    # The figures drawn on a canvas of our own save their files in the page: nothing leaves either.
    saves = gs.page.locator(".canvas-chart:not([hidden]) + .figure-saves button")
    assert saves.count() >= 10  # heatmaps, bars, saturation, the unit's lines, the surprisal: PNG and SVG each
    for k in range(saves.count()):
        with gs.page.expect_download():
            saves.nth(k).click()
    gs.page.wait_for_timeout(500)
    assert len(clicked) >= 5 * len(figures)
    assert outside == [] and popups == [], (outside, popups)
    close(context, gs)


STALE_JS = """() => {
  const shown = (e) => {
    for (let n = e; n; n = n.parentElement) if (getComputedStyle(n).display === 'none') return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  return {
    hiddenShown: [...document.querySelectorAll('[hidden]')].filter((e) => getComputedStyle(e).display !== 'none')
      .map((e) => e.id || e.className),
    directions: [...document.getElementById('direction').options].map((o) => o.textContent),
    heading: document.getElementById('unit-heading').textContent,
    grid: shown(document.getElementById('pred-grid')),
    wrap: shown(document.getElementById('wrap-box')),
    text: shown(document.getElementById('text')),
    examples: shown(document.getElementById('examples')),
    oov: shown(document.getElementById('oov')),
    heatRows: document.getElementById('heatmaps-plot').drawn.panels[0].z.length,
    H: window.gatescope.context().H,
  };
}"""


def test_hidden_wins_and_no_view_keeps_a_previous_models_content(browser, mixed):
    """Switch between models with and without a decoder, a vocabulary, a backward direction and begin/end
    tokens, in both orders: what a model lacks is off the screen, whatever display its class gives it."""
    context, gs = new_page(browser, mixed, (1600, 1000))
    gs.open("?model=words-bi&text=the+lazy+dog")
    expect = {  # model: (decoder grid, wrap box, text box, directions)
        "words-bi": (True, False, True, 2), "vectors": (False, False, False, 1), "lm": (True, True, True, 1),
        "diacritizer": (True, False, True, 2), "english-char": (True, False, True, 1),
    }
    for model in ("words-bi", "vectors", "diacritizer", "lm", "vectors", "english-char", "words-bi", "lm"):
        if model != gs.page.input_value("#model"):
            gs.page.select_option("#model", model)
            gs.page.wait_for_function("m => window.gatescope.rendered && window.gatescope.rendered.model === m",
                                      arg=model)
        if expect[model][3] == 2:
            gs.page.select_option("#direction", "1")
            gs.page.wait_for_function("document.getElementById('unit-heading').textContent.endsWith('backward')")
        drawn_everywhere(gs)
        s = gs.page.evaluate(STALE_JS)
        grid, wrap, text, directions = expect[model]
        assert s["hiddenShown"] == [], (model, s["hiddenShown"])
        assert (s["grid"], s["wrap"], s["text"], len(s["directions"])) == (grid, wrap, text, directions), (model, s)
        assert s["heading"].endswith("backward") == (directions == 2), (model, s["heading"])
        assert not s["examples"]  # these models' cards declare no examples: no empty row of chips
        assert s["heatRows"] == s["H"], model
    close(context, gs)


def test_a_phone_gets_one_row_of_header_and_cells_a_finger_can_pick(browser, shipped):
    context, gs = new_page(browser, shipped, SIZES["phone"], has_touch=True, is_mobile=True)
    gs.open()
    bar = gs.page.locator("header.bar").bounding_box()
    assert bar["height"] < 60, bar  # one row
    assert gs.page.locator(".sticky").bounding_box()["height"] < 0.15 * SIZES["phone"][1]
    assert not gs.page.is_visible("#layer")  # folded into the drawer
    gs.page.tap("#drawer-toggle")
    assert gs.page.is_visible("#layer") and gs.page.is_visible("#order")
    gs.page.tap("#drawer-toggle")
    assert gs.page.locator(".modebar").count() == 0  # nothing over the figures' titles
    plot = gs.page.locator("#heatmaps-plot")
    plot.scroll_into_view_if_needed()
    gs.settle()
    area = gs.page.evaluate("document.getElementById('heatmaps-plot').drawn.panels[0].box.w")
    assert area > 250, area  # the cells get most of the 390 px
    _, y = heat_centre(gs.page, "heatmaps-plot", 1, 7, 3)
    gs.page.evaluate(f"window.scrollBy(0, {y} - 420)")  # mid-screen, clear of the sticky header
    unit = gs.page.evaluate("document.getElementById('heatmaps-plot').drawn.panels[1].units[3]")
    gs.page.touchscreen.tap(*heat_centre(gs.page, "heatmaps-plot", 1, 7, 3))
    gs.page.wait_for_function("u => window.gatescope.state.unit === u && window.gatescope.state.t === 7", arg=unit)
    gs.page.tap("#tabs [data-tab=unit]")
    gs.page.locator("#unit-text").scroll_into_view_if_needed()
    gs.page.tap("#unit-text span[data-t='3']")  # the coloured text: a tap moves t
    gs.page.wait_for_function("window.gatescope.state.t === 3")
    width = gs.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], width
    gs.page.tap("#tabs [data-tab=heatmaps]")
    gs.settle()
    gs.shot("phone-heatmaps", "#sec-heatmaps")
    close(context, gs)


@pytest.mark.parametrize("name", ["laptop", "phone"])
def test_the_page_does_not_jump_while_it_fills_in(browser, shipped, name):
    """Cumulative layout shift (the browser's own layout-shift entries, none caused by input) stays under 0.05
    from navigation until every view and the step's numbers are drawn."""
    phone = name == "phone"
    context, gs = new_page(browser, shipped, SIZES[name], has_touch=phone, is_mobile=phone)
    gs.open()
    gs.page.wait_for_function("document.getElementById('step-cards').childElementCount > 0")
    gs.page.wait_for_timeout(500)
    shifts = gs.page.evaluate("window.__shifts")
    assert sum(shifts) < 0.05, shifts
    close(context, gs)


def test_a_projector_header_is_one_line_and_play_has_a_speed_and_a_loop(browser, shipped):
    context, gs = new_page(browser, shipped, SIZES["old projector"])
    gs.open("?model=counter&text=aaXbb.")
    bar = gs.page.locator("header.bar").bounding_box()
    assert bar["height"] < 60, bar  # one line: the other pickers are in the drawer
    assert gs.page.locator(".sticky").bounding_box()["height"] < 130
    gs.page.select_option("#play-speed", "4")
    gs.page.check("#play-loop")
    gs.page.click("#play")
    # 6 steps at 350/4 ms: looping, t comes back to 0 after the end, and play keeps going
    gs.page.wait_for_function("window.gatescope.state.t === 5")
    gs.page.wait_for_function("window.gatescope.state.t === 0")
    gs.page.wait_for_function("window.gatescope.state.t === 2")
    gs.page.click("#play")
    assert gs.page.get_attribute("#play", "aria-pressed") == "false"
    gs.page.uncheck("#play-loop")
    gs.page.click("#play")  # without the loop, play stops at the end
    gs.page.wait_for_function("document.getElementById('play').getAttribute('aria-pressed') === 'false'")
    assert gs.page.evaluate("window.gatescope.state.t") == 5
    close(context, gs)


def test_order_by_change_at_t_and_the_first_n_units(browser, shipped):
    """The rows are the units sorted by |c_t - c_(t-1)| at the chosen t, computed here from the API's trace."""
    import numpy as np

    text = model_info(shipped, "brackets")["examples"][1]
    context, gs = new_page(browser, shipped, (1600, 1000))
    gs.open(f"?model=brackets&text={quote(text)}&quantity=c&order=change&top=4&t=3")
    gs.settle()
    req = urllib.request.Request(f"{shipped}/api/trace", json.dumps(
        {"model": "brackets", "text": text, "format": "json"}).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        c = np.array(json.loads(r.read())["c"][0][0])  # (T, H)
    for t in (3, 7):
        if t != 3:
            gs.page.evaluate("t => document.dispatchEvent(new CustomEvent('gs:select', {detail: {t}}))", t)
            gs.page.wait_for_function("t => window.gatescope.state.t === t", arg=t)
            gs.settle()
        change = np.abs(c[t] - c[t - 1])
        want = [str(u) for u in sorted(range(c.shape[1]), key=lambda u: (-change[u], u))[:4]]
        rows = gs.page.evaluate("document.getElementById('heatmaps-plot').drawn.panels[4].units.map(String)")
        assert rows == want, (t, rows, want)
    about = gs.page.text_content("#heatmaps .order-note")
    assert "changed at the chosen step t" in about and "first 4 of 8" in about
    close(context, gs)


def test_a_tap_on_a_bar_selects_its_unit(browser, shipped):
    context, gs = new_page(browser, shipped, SIZES["phone"], has_touch=True, is_mobile=True)
    gs.open("?model=brackets&tab=bars")
    gs.page.evaluate("window.scrollTo(0, document.getElementById('bars-plot').getBoundingClientRect().top "
                     "+ scrollY - 150)")
    gs.settle()
    bars = drawn(gs.page, "bars-plot")
    top = bars["boxes"][0]
    gs.page.touchscreen.tap(*on_page(gs.page, "bars-plot", bar_centre(bars, 0, 5), top["y"] + top["h"] / 2))
    gs.page.wait_for_function("window.gatescope.state.unit === 5")
    close(context, gs)


def test_the_text_box_holds_its_text_and_takes_typing_before_the_scripts_run(browser, shipped):
    """The server writes the example into the text box (a link's #text= replaces it before the paint), so it is
    usable at the first paint; what is typed before main.js starts is what the page then draws."""
    context, gs = new_page(browser, shipped, SIZES["laptop"])
    held = []
    context.route("**/static/js/main.js*", lambda route: held.append(route))  # main.js waits until released

    def shell(query: str) -> None:  # the page as parsed, its modules held back (they would hold the load event)
        gs.page.goto(f"{shipped}/{query}", wait_until="commit")
        gs.page.wait_for_selector("footer", state="attached")

    shell("")
    assert gs.page.input_value("#text") == FRANCE  # before any module has run
    assert gs.page.evaluate("window.gatescope === undefined")
    shell(f"?model=brackets#text={quote('(()')}")
    assert gs.page.input_value("#text") == "(()"  # the link's own text, never the example first
    shell("?lang=zh-CN")
    assert gs.page.input_value("#text") == SEED
    gs.page.locator("#text").press("End")
    gs.page.keyboard.type("蒙")  # typed while the scripts are still on their way
    held[-1].continue_()  # this page's main.js; the others belonged to pages left
    gs.wait("t => window.gatescope && window.gatescope.rendered && window.gatescope.rendered.text === t", SEED + "蒙")
    assert gs.page.input_value("#text") == SEED + "蒙"
    close(context, gs)


def test_plotly_is_fetched_only_for_an_update_that_draws_with_it(browser, server):
    """Plotly's script is held back at the network: every view that draws without it (bars, the unit's lines,
    predictions, saturation, the comparison's sentence, the corpus views' notes) draws meanwhile; only the views
    whose entry says they draw with it wait, and Plotly is asked for at all only if there is one."""
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    held = []
    context.route("**/vendor/plotly.min.js*", lambda route: held.append(route))
    gs = Page(context.new_page(), server)
    gs.page.goto(f"{server}/?model=english-char")
    # Not `rendered`: the first trace counts as drawn once every view on screen has drawn, Plotly's too.
    gs.wait("() => window.gatescope && window.gatescope.views !== null", timeout=120)
    for view in ("bars", "unit", "predictions", "saturation", "compare", "corpus-unit", "corpus-saturation"):
        gs.wait("id => document.getElementById(id).hasAttribute('data-drawn')", view, timeout=120)
    assert gs.page.text_content("#compare-summary") == translate("en", "compare.off")
    waiting = gs.page.evaluate("window.gatescope.registry.filter((e) => e.plotly === true).map((e) => e.id)")
    assert gs.page.evaluate("typeof window.Plotly") == "undefined"
    drawn_ids = gs.page.evaluate("[...document.querySelectorAll('[data-drawn]')].map((e) => e.id)")
    assert not set(waiting) & set(drawn_ids), (waiting, drawn_ids)
    assert bool(held) == bool(waiting), (held, waiting)  # asked for by the first view that draws with it
    for route in held:
        route.continue_()
    gs.settle()
    drawn_ids = gs.page.evaluate("[...document.querySelectorAll('[data-drawn]')].map((e) => e.id)")
    assert set(waiting) <= set(drawn_ids), (waiting, drawn_ids)
    close(context, gs)
