"""Typing without a pause (issue 17), in Chromium against a live server: the heatmap canvases painted column by
column equal a full repaint, the colours are the API's values on the colour scale, a cancelled request never
draws, and the server keeps answering after requests its clients gave up on."""
from __future__ import annotations

import base64
import contextlib
import json
import socket
import time
import urllib.request
from urllib.parse import urlparse

import numpy as np
import pytest

from tests.browser.canvas import heat_cells
from tests.browser.test_explorer import QUANTITIES, SENTENCE, api_trace, heatmap, tolerance

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Every canvas of the heatmaps, the first T columns of each as RGBA rows: [[H][T][4]] per quantity.
CANVASES = """() => { const T = window.gatescope.context().T;
  return [...document.querySelectorAll('#heatmaps .heat-cells canvas')].map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, T, c.height).data;
    return { H: c.height, T, rgba: Array.from(d) }; }); }"""

# Records, from the moment it is installed, the cell canvases' paintings (x offset and width of each
# putImageData): the test knows the incremental path ran, not only its result.
SPY = """() => { window.__spy = { puts: [] };
  const put = CanvasRenderingContext2D.prototype.putImageData;
  CanvasRenderingContext2D.prototype.putImageData = function (img, x, y) {
    if (this.canvas.closest('#heatmaps')) window.__spy.puts.push([x, img.width]); return put.apply(this, arguments); };
}"""

VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
           "#bddf26", "#fde725"]


def canvases(gs) -> list[np.ndarray]:
    """Each quantity's canvas as an (H, T, 4) array of RGBA bytes."""
    return [np.array(c["rgba"], dtype=np.uint8).reshape(c["H"], c["T"], 4) for c in gs.page.evaluate(CANVASES)]


def viridis(x: np.ndarray) -> np.ndarray:
    """The colour of x in [0, 1] on the gates' scale (format.js's stops, linear in RGB between them): (..., 3)."""
    stops = np.array([[int(c[k:k + 2], 16) for k in (1, 3, 5)] for c in VIRIDIS], dtype=float)
    pos = np.linspace(0, 1, len(VIRIDIS))
    return np.stack([np.interp(x, pos, stops[:, j]) for j in range(3)], axis=-1)


def assert_shown(gs, sources: list[np.ndarray]) -> None:
    """The figure on screen shows each cell canvas stretched, pixel for pixel at the cells' centres (but where the
    chosen unit's and t's outlines lie over them)."""
    state = gs.page.evaluate("window.gatescope.state")
    for k, src in enumerate(sources):
        shown = heat_cells(gs.page, "heatmaps-plot", k)
        keep = np.ones(src.shape[:2], bool)
        keep[max(0, state["unit"] - 1):state["unit"] + 2, :] = False
        keep[:, max(0, state["t"] - 1):state["t"] + 2] = False
        assert shown.shape[:2] == src.shape[:2], QUANTITIES[k]
        assert np.array_equal(shown[keep], src[..., :3][keep]), QUANTITIES[k]


def late(route) -> None:
    """Let a held request go on to the server; Playwright refuses one the page has aborted meanwhile."""
    from playwright.sync_api import Error

    with contextlib.suppress(Error):
        route.continue_()


def full_repaint(gs) -> None:
    """Make the heatmaps draw every column again: another quantity and back (the rows stay in index order)."""
    for q in ("f", "c"):
        gs.page.select_option("#quantity", q)
        gs.page.wait_for_function("q => window.gatescope.state.quantity === q", arg=q)
        gs.settle()


def test_columns_painted_one_keystroke_at_a_time_equal_a_full_repaint(gs):
    gs.open("?model=english-char")
    gs.type("Th")
    gs.page.evaluate(SPY)
    box = gs.page.locator("#text")
    box.press("End")
    box.press_sequentially(SENTENCE[2:], delay=60)
    gs.wait_drawn(SENTENCE)
    spy = gs.page.evaluate("window.__spy")
    T = len(SENTENCE)
    # The path under test ran: keystrokes painted only their new columns.
    assert any(x > 0 and w < T for x, w in spy["puts"]), spy["puts"][:20]
    typed = canvases(gs)
    assert_shown(gs, typed)
    full_repaint(gs)
    whole = canvases(gs)
    for q, a, b in zip(QUANTITIES, typed, whole, strict=True):
        assert a.shape == b.shape == (16, T, 4), q
        assert np.array_equal(a, b), f"{q}: {np.argwhere((a != b).any(axis=2))[:5]} differ"
    # An edit in the middle, then backspaces at the end: everything after the edit changes, and the text shrinks.
    for _ in range(8):
        box.press("ArrowLeft")
    box.press_sequentially("XQ", delay=60)
    box.press("End")
    for _ in range(3):
        box.press("Backspace")
    final = box.input_value()
    gs.wait_drawn(final)
    typed = canvases(gs)
    full_repaint(gs)
    for q, a, b in zip(QUANTITIES, typed, canvases(gs), strict=True):
        assert a.shape == b.shape == (16, len(final), 4), q
        assert np.array_equal(a, b), f"{q} after the edit: {np.argwhere((a != b).any(axis=2))[:5]} differ"


def test_typing_without_a_pause_ends_on_the_answers_colours_and_values(gs):
    gs.open("?model=english-char")
    gs.type(SENTENCE, delay=0)
    gs.page.wait_for_timeout(500)  # a late answer for an older text would have been drawn by now
    assert gs.page.evaluate("window.gatescope.rendered.text") == SENTENCE
    exact, scale = api_trace(gs, SENTENCE)
    drawn = canvases(gs)
    for k, q in enumerate(QUANTITIES):
        want = np.array(exact[q][0][0]).T  # (H, T)
        z, _ = heatmap(gs, q)
        np.testing.assert_allclose(z, want, rtol=0, atol=tolerance(scale[q]), err_msg=q)
        if q in ("i", "f", "o"):  # gates: a fixed 0..1 scale, so the colour of every cell follows from the API alone
            colour = viridis(np.clip(want, 0, 1))
            # One step of the 256-colour lookup either way, as quantisation can cross a step's boundary.
            step = np.abs(np.diff(viridis(np.linspace(0, 1, 256)), axis=0)).max()
            np.testing.assert_allclose(drawn[k][..., :3], colour, rtol=0, atol=step + 1, err_msg=q)
            assert (drawn[k][..., 3] == 255).all()


def test_a_cancelled_trace_is_never_drawn_and_the_server_answers_after(gs):
    """A model switch while a trace of the old model is in flight cancels it: the browser aborts the request, the
    page never draws it, and the next requests are answered as ever."""
    gs.open("?model=english-char")
    gs.type("hello")
    slow = "a slow answer for the old model"
    held, failed, drawn = [], [], []

    def hold(route) -> None:
        body = json.loads(route.request.post_data or "{}")
        if body.get("text") == slow and body.get("model") == "english-char":
            held.append(route)  # answered (too late) below
        else:
            route.continue_()

    gs.page.route("**/api/trace", hold)
    gs.page.on("requestfailed", lambda r: failed.append((urlparse(r.url).path, r.failure)))
    gs.page.evaluate("""() => { let r = window.gatescope.rendered; window.__drawn = [];
      Object.defineProperty(window.gatescope, 'rendered', { get: () => r,
        set: (v) => { r = v; window.__drawn.push(v); } }); }""")
    gs.page.fill("#text", slow)
    deadline = time.monotonic() + 60
    while not held and time.monotonic() < deadline:
        gs.page.wait_for_timeout(50)
    assert held, "the trace request never went out"
    gs.page.select_option("#model", "words-bi")
    gs.wait("() => window.gatescope.rendered && window.gatescope.rendered.model === 'words-bi'", timeout=60)
    late(held[0])  # the old model's answer, too late: nobody may draw it
    gs.page.wait_for_timeout(300)
    gs.settle()
    assert ("/api/trace", "net::ERR_ABORTED") in failed
    drawn = gs.page.evaluate("window.__drawn")
    assert drawn and all(d["model"] == "words-bi" for d in drawn), drawn
    assert gs.page.evaluate("window.gatescope.context().trace.model") == "words-bi"
    gs.page.unroute("**/api/trace")
    gs.type("the cat sat")
    assert gs.page.evaluate("window.gatescope.rendered") | {"version": 0} == {
        "text": "the cat sat", "model": "words-bi", "steps": 3, "version": 0}


def test_a_step_asked_for_again_cancels_the_one_in_flight(gs):
    gs.open("?model=english-char")
    gs.type(SENTENCE)
    failed: list[str] = []
    gs.page.on("requestfailed", lambda r: urlparse(r.url).path == "/api/step" and failed.append(r.failure))
    held: list = []
    gs.page.route("**/api/step", lambda route: held.append(route))  # every step waits until the keys are pressed
    gs.page.evaluate("document.activeElement.blur()")  # the arrow keys move t outside the text box
    for _ in range(6):
        gs.page.keyboard.press("ArrowLeft")
        gs.page.wait_for_timeout(150)  # longer than the page waits before it asks (tracing.js, 80 ms)
    for route in held:
        late(route)
    gs.page.unroute("**/api/step")
    t = len(SENTENCE) - 1 - 6
    gs.wait("t => window.gatescope.state.t === t", t)
    gs.wait("t => { const s = window.gatescope.context().step; return s && typeof s !== 'string' && s.t === t; }",
            t, timeout=60)
    gs.settle()
    assert failed, "no step request was cancelled"
    step = gs.page.evaluate("window.gatescope.context().step")
    assert step["t"] == t and step["unit"] == gs.page.evaluate("window.gatescope.state.unit")


def test_the_server_keeps_serving_after_clients_hang_up(server):
    """Requests whose client closes the connection before the answer (an aborted fetch) leave the server answering
    the next ones exactly as before."""
    text = SENTENCE * 8
    body = json.dumps({"model": "english-char", "text": text, "format": "json"}).encode()

    def ask() -> dict:
        req = urllib.request.Request(server + "/api/trace", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    before = ask()
    host, port = urlparse(server).hostname, urlparse(server).port
    for k in range(24):
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(b"POST /api/trace HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      + f"Content-Length: {len(body)}\r\n\r\n".encode() + (body if k % 2 else body[: len(body) // 2]))
            # Half of them hang up mid-body, half once the request is whole: both are what an abort looks like.
    after = ask()
    for q in QUANTITIES:
        assert after[q] == before[q], q
    with urllib.request.urlopen(server + "/api/health", timeout=30) as r:
        assert r.status == 200


# The page's decoded gates and its saturation figure's fractions, to count again in NumPy.
SATURATION = """() => { const tr = window.gatescope.context().trace;
  const d = document.getElementById('saturation-plot').drawn;
  return { shape: tr.f.shape, gates: Object.fromEntries(['f', 'i', 'o'].map((q) => [q, Array.from(tr[q].data)])),
    panels: d.panels.map((p) => ({ q: p.q, layers: p.layers })) }; }"""
# How many steps the saturation figure counted, and how many steps each of its drawings had (a full count's cost).
COUNTED = """() => [document.getElementById('saturation-plot').counted(), performance.getEntriesByName('gs:drawn')
  .filter((m) => m.detail.id === 'saturation').map((m) => m.detail.chars)]"""


def test_saturation_counts_only_the_new_steps_and_equals_a_full_count(gs):
    gs.open("?model=english-char")
    gs.page.locator("#saturation-plot").scroll_into_view_if_needed()  # on screen: drawn at every trace
    gs.type("Th")
    before, drawings = gs.page.evaluate(COUNTED)
    box = gs.page.locator("#text")
    box.press("End")
    box.press_sequentially(SENTENCE[2:], delay=60)
    for _ in range(3):  # backspaces take steps away; the same letters typed again add them back
        box.press("Backspace")
    box.press_sequentially(SENTENCE[-3:], delay=60)
    gs.wait_drawn(SENTENCE)
    counted, after = gs.page.evaluate(COUNTED)
    new = after[len(drawings):]
    # The path under test ran: the drawings while typing counted their new steps, not the whole text each time.
    assert len(new) >= 5, new
    assert counted - before < sum(new) / 3, (counted - before, sum(new))
    got = gs.page.evaluate(SATURATION)
    L, D, T, H = got["shape"]
    assert len(SENTENCE) == T
    for panel in got["panels"]:
        x = np.array(got["gates"][panel["q"]], dtype=np.float32).reshape(L, D, T, H)
        for slot, lay in enumerate(panel["layers"]):
            # A count over T rounded to float32, as a full count in the page makes it: equal, not close.
            hi = ((x[slot, 0] > 0.9).sum(axis=0) / T).astype(np.float32)
            lo = ((x[slot, 0] < 0.1).sum(axis=0) / T).astype(np.float32)
            assert lay["hi"] == hi.tolist() and lay["lo"] == lo.tolist(), (panel["q"], slot)


# Counts the canvases the page makes from the moment it is installed.
MADE = """() => { window.__made = 0; const make = Document.prototype.createElement;
  Document.prototype.createElement = function (name, ...rest) {
    if (String(name).toLowerCase() === 'canvas') window.__made += 1; return make.call(this, name, ...rest); }; }"""
FIGURE = """id => { const c = document.querySelector(`#${id} canvas`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let s = '';
  for (let k = 0; k < d.length; k += 8192) s += String.fromCharCode.apply(null, d.subarray(k, k + 8192));
  return [c.height, c.width, btoa(s)]; }"""


def figure(gs, plot_id: str) -> np.ndarray:
    """The chart's canvas as (H, W, 4) RGBA bytes."""
    h, w, data = gs.page.evaluate(FIGURE, plot_id)
    return np.frombuffer(base64.b64decode(data), dtype=np.uint8).reshape(h, w, 4)


def test_a_keystroke_repaints_each_figure_into_the_bitmap_it_has(gs):
    """canvaschart.js paints a changed base into the bitmap of the same size it already has (no new full-size canvas
    per keystroke per figure), and what it draws there equals the same drawing in a new bitmap, pixel for pixel."""
    figures = ["heatmaps-plot", "bars-plot", "unit-plot", "saturation-plot"]

    def everywhere() -> None:
        for f in figures:  # the views off screen draw when they come on screen
            gs.page.locator(f"#{f}").scroll_into_view_if_needed()
            gs.settle()

    gs.open("?model=english-char&unit=3")
    gs.type(SENTENCE[:20])
    everywhere()
    gs.page.evaluate(MADE)
    box = gs.page.locator("#text")
    box.press("End")
    box.press_sequentially(SENTENCE[20:30], delay=60)
    gs.wait_drawn(SENTENCE[:30])
    everywhere()
    said = [gs.page.evaluate("id => { const d = document.getElementById(id).drawn; return d.T ?? d.t; }", f)
            for f in figures[:3]]
    assert said == [30, 29, 30], said  # (saturation counts steps: its figure is compared below)
    assert gs.page.evaluate("window.__made") == 0
    typed = {f: figure(gs, f) for f in figures}
    for f in figures:  # the same drawing painted into new bitmaps: narrower (a new size), then as wide as before
        width = gs.page.evaluate("id => document.getElementById(id).drawn.width", f)
        gs.page.evaluate("id => { document.getElementById(id).style.width = '60%'; }", f)
        gs.wait("([id, w]) => document.getElementById(id).drawn.width < w", [f, width])
        gs.page.evaluate("id => { document.getElementById(id).style.width = ''; }", f)
        gs.wait("([id, w]) => document.getElementById(id).drawn.width === w", [f, width])
        assert np.array_equal(figure(gs, f), typed[f]), f
