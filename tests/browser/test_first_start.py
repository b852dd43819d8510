"""A cold first load in Chromium (issue 15, a faster start): the shell carries the API's first answers (the catalog,
the model list, the lessons, the opening model's description) and boot.js asks for the first trace while the modules
load, so the page asks the server for none of them again; a shell without that data, or whose data answers another
question, still works by asking. And a Plotly.js that did not load says why: not installed, or the fetch failed."""
from __future__ import annotations

import contextlib
import json
import re
from urllib.parse import urlparse

import pytest

from app.i18n import translate
from tests.browser.conftest import Page, new_context

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST = re.compile(r"/(static/i18n/[\w-]+\.json|api/models(/[\w-]+)?|api/lessons|api/trace)")  # the chain's requests
SEED = "我来自内蒙古，我能讲一口流利的"
BLOCK = re.compile(r'(<script type="application/json" id="gs-shell">)(.*?)(</script>)', re.S)


def first_load(browser, base: str, query: str = "", shell=None, init: str | None = None) -> tuple[Page, list, object]:
    """A fresh context's page on `base/query`, drawn everywhere. `shell(open_tag, data, close_tag)` returns what
    replaces the shell's data block on the way. Returns the page, the paths of its start-up requests, the context."""
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    if shell is not None:
        def rewrite(route):
            r = route.fetch()
            route.fulfill(response=r, body=BLOCK.sub(lambda m: shell(m.group(1), m.group(2), m.group(3)), r.text()))
        context.route(re.compile(r"^[^?#]*/(\?[^#]*)?$"), rewrite)  # the page itself, nothing else
    if init:
        context.add_init_script(init)
    asked: list[str] = []
    context.on("request", lambda r: FIRST.fullmatch(urlparse(r.url).path) and asked.append(urlparse(r.url).path))
    gs = Page(context.new_page(), base)
    gs.open(query)
    return gs, asked, context


def close(context, gs: Page) -> None:
    context.close()
    assert gs.errors == [], f"console errors: {gs.errors}"


def test_a_first_load_asks_nothing_the_shell_holds_and_traces_once(browser, shipped):
    gs, asked, context = first_load(browser, shipped)
    assert gs.page.evaluate("window.gatescope.rendered.model") == "hometown"
    assert gs.page.locator("#model option").count() > 1 and gs.page.locator("#lesson option").count() > 1
    assert gs.page.text_content("#sec-heatmaps h2") == translate("en", "heatmaps.title")
    # boot.js's request, adopted: the page's own first trace asked exactly the same
    assert asked == ["/api/trace"], asked
    close(context, gs)


@pytest.mark.parametrize("kind", ["missing", "not JSON", "another model"])
def test_a_shell_without_its_data_still_opens_by_asking_the_server(browser, shipped, kind):
    def other(data: str) -> str:
        got = json.loads(data)
        return json.dumps({**got, "model": {**got["model"], "id": "other"}}).replace("<", "\\u003c")

    rewrite = {"missing": lambda a, data, b: "", "not JSON": lambda a, data, b: a + "{broken" + b,
               "another model": lambda a, data, b: a + other(data) + b}[kind]
    gs, asked, context = first_load(browser, shipped, shell=rewrite)
    assert gs.page.evaluate("window.gatescope.rendered.model") == "hometown"
    assert gs.page.evaluate("window.gatescope.state.model") == "hometown"
    assert gs.page.text_content("#examples .chip") != ""  # the model's examples, from its description
    assert "/api/models/hometown" in asked
    if kind != "another model":
        assert {"/static/i18n/en.json", "/api/models", "/api/lessons"} <= set(asked), asked
    close(context, gs)


def test_a_language_chosen_before_is_fetched_and_the_first_trace_asked_again(browser, shipped):
    """The server wrote an English shell (its catalog, its example); this browser chose Chinese before, so the page
    asks for the Chinese catalog and traces the Chinese example, never drawing boot.js's English one."""
    gs, asked, context = first_load(browser, shipped, init="localStorage.setItem('gatescope.lang', 'zh-CN')")
    assert gs.page.evaluate("window.gatescope.rendered.text") == SEED
    assert gs.page.text_content("#sec-heatmaps h2") == translate("zh-CN", "heatmaps.title")
    assert "/static/i18n/zh-CN.json" in asked and asked.count("/api/trace") == 2, asked
    close(context, gs)


def test_an_early_trace_the_page_does_not_adopt_is_given_up(browser, shipped):
    """boot.js asked for the English example's trace; the page, in the Chinese chosen before, traces its own
    example instead, and gives the early request up rather than leaving it to run (held here, so it is in flight)."""
    held, failed = [], []

    def hold_first(route):
        if not held:
            held.append(route)  # boot.js's: answered only after the test, if at all
        else:
            route.continue_()

    context = new_context(browser, viewport={"width": 1280, "height": 800})
    context.add_init_script("localStorage.setItem('gatescope.lang', 'zh-CN')")
    context.route("**/api/trace", hold_first)
    context.on("requestfailed", lambda r: urlparse(r.url).path == "/api/trace" and failed.append(r.failure))
    gs = Page(context.new_page(), shipped)
    try:
        gs.open()
        assert gs.page.evaluate("window.gatescope.rendered.text") == SEED
        gs.wait("() => window.gatescopeEarly === null")
        gs.page.wait_for_timeout(200)  # the failure event may follow the drawing
        assert len(held) == 1 and failed, (held, failed)
    finally:
        for route in held:
            with contextlib.suppress(Exception):  # given up by the page already
                route.continue_()
    close(context, gs)


@pytest.mark.parametrize("failure", ["network", "not installed"])
def test_a_plotly_that_did_not_load_says_why(browser, server, failure):
    """The comparison's result draws with Plotly: its script fails at the network (no answer), or the server
    answers that the plotly package is missing; the status line says which, in the page's language."""
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    if failure == "network":
        context.route("**/vendor/plotly.min.js*", lambda route: route.abort("failed"))
    else:
        context.route("**/vendor/plotly.min.js*", lambda route: route.fulfill(
            status=500, content_type="application/json", body='{"detail": "no", "code": "no_plotly"}'))
    page = context.new_page()
    page.goto(f"{server}/?model=english-char&view=texts&lang=zh-CN#text=the%20cat&text2=the%20dog")
    key = "error.plotly_network" if failure == "network" else "error.no_plotly"
    page.wait_for_function("s => document.getElementById('status').textContent === s", arg=translate("zh-CN", key))
    context.close()


def test_a_model_switch_during_the_first_load_cancels_the_adopted_early_trace(browser, shipped):
    """The server holds back the answer to boot.js's early trace, which the page has adopted; the reader picks
    another model meanwhile. The adopted request is cancelled as the page's own fetch would be: the page draws the
    new model without waiting for the held answer, shows no error, and the held request is given up. The same
    adoption, asked again through a fresh copy of api.js, rejects with the error isAborted() recognises."""
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    held, failed = [], []
    holding = {"on": True}

    def hold(route):
        if holding["on"]:
            holding["on"] = False
            held.append(route)  # answered only after the test
        else:
            route.continue_()

    context.route("**/api/trace", hold)
    context.on("requestfailed", lambda r: urlparse(r.url).path == "/api/trace" and failed.append(r.failure))
    gs = Page(context.new_page(), shipped)
    try:
        gs.page.goto(f"{shipped}/")
        gs.wait("() => window.gatescopeEarly === null && window.gatescope && window.gatescope.state.model === "
                "'hometown' && document.querySelector('#model option[value=\"shakespeare-char\"]') !== null")
        assert held and gs.page.evaluate("window.gatescope.rendered") is None  # the early trace adopted, held
        gs.page.select_option("#model", "shakespeare-char")
        # A wait, not a speed check: without the cancellation the page waits for the held answer, never given.
        gs.wait("m => window.gatescope.rendered && window.gatescope.rendered.model === m", "shakespeare-char", 120)
        gs.settle()
        assert not gs.page.evaluate("document.getElementById('status').classList.contains('error')")
        gs.page.wait_for_timeout(200)  # the request's failure event may follow the drawing
        assert failed, "the held early trace was not cancelled"
        holding["on"] = True  # boot.js again, adopted by a fresh api.js whose caller aborts at once
        verdict = gs.page.evaluate("""async () => {
          await new Promise((done) => document.head.append(Object.assign(document.createElement('script'),
            { src: '/static/js/boot.js?again', onload: done })));
          const api = await import('/static/js/api.js?again');
          const box = document.getElementById('text');
          const cancel = new AbortController();
          const asked = api.trace({ model: box.dataset.model, text: box.value, signal: cancel.signal });
          cancel.abort();
          return asked.then(() => 'answered', (e) => (api.isAborted(e) ? 'aborted' : `${e.name} ${e.code}`));
        }""")
        assert verdict == "aborted" and len(held) == 2
    finally:
        for route in held:
            with contextlib.suppress(Exception):  # given up by the page already
                route.continue_()
    close(context, gs)


def test_only_the_first_trace_request_looks_for_the_early_one(browser, shipped):
    """boot.js's early trace is adopted by the page's first trace request; later ones never read it."""
    count = ("(() => { let v; window.earlyReads = 0; Object.defineProperty(window, 'gatescopeEarly', {"
             " configurable: true, get() { window.earlyReads += 1; return v; }, set(x) { v = x; } }); })()")
    gs, asked, context = first_load(browser, shipped, init=count)
    assert asked == ["/api/trace"] and gs.page.evaluate("window.earlyReads") == 1
    text = "I grew up in Paris."
    gs.page.fill("#text", text)
    gs.wait_drawn(text)
    assert asked == ["/api/trace", "/api/trace"] and gs.page.evaluate("window.earlyReads") == 1
    close(context, gs)
