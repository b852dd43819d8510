"""The explorer page in Chromium against a live server: what the views hold equals what the API computed."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.app.wire import unpack
from tests.browser.canvas import (
    RDBU,
    VIRIDIS,
    WHITE,
    bar_centre,
    column,
    differs,
    drawn,
    heat_cells,
    heat_centre,
    heat_values,
    lookup_step,
    on_page,
    on_scale,
    over_white,
    painted,
    pixel,
    point_at,
    rgb,
    viridis,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUANTITIES = ["i", "f", "g", "o", "c", "h"]
SENTENCE = "The cat sat on the mat. Who is in (brackets)?"


def api_trace(gs, text: str, model: str = "english-char") -> tuple[dict, dict]:
    """The exact values (format=json) and the compact encoding's scales, for the same text."""
    exact = gs.api("/api/trace", {"model": model, "text": text, "format": "json"})
    compact = gs.api("/api/trace", {"model": model, "text": text})
    return exact, {q: compact[q]["scale"] for q in QUANTITIES}


def tolerance(scale: float) -> float:
    """Quantisation error at most scale/2, plus float32 rounding in the browser. Typed key by key, each position
    came in the delta answer of its keystroke (splice.js), quantised over that answer's values: a subset of the
    whole text's, so its scale is at most the whole answer's, or 1/65535 where they all lie in [0, 1]."""
    return max(scale, 1 / 65535) / 2 + 1e-6


def heatmap(gs, q: str) -> tuple[np.ndarray, list[str]]:
    """The values the heatmaps hold for q, (rows, T), and the rows' units as text (heatscene.js's `drawn`)."""
    return heat_values(gs.page, "heatmaps-plot", q)


def expected_colours(q: str, want: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """The colour of each value of `want` (rows, T) on q's scale, derived from the API's values alone: the gates on
    Viridis over 0..1; g and h (tanh-bounded) on RdBu over -1..1; c on RdBu over +-the 95th percentile of |c| over
    every unit and step (`whole`, (T, H)), the rank format.js's percentileAbs takes."""
    if q in ("i", "f", "o"):
        return on_scale(VIRIDIS, want)
    m = 1.0
    if q == "c":
        a = np.sort(np.abs(whole.astype(np.float32).ravel()))
        m = float(a[min(a.size - 1, int(0.95 * a.size))])
    return on_scale(RDBU, (want + m) / (2 * m))


def assert_cells_painted(gs, q: str, want: np.ndarray, whole: np.ndarray, chosen: tuple[int, int]) -> None:
    """The canvas shows each cell of subplot q in its value's colour, but where the chosen (row, t)'s outlines
    lie over the cells."""
    k = QUANTITIES.index(q)
    shown = heat_cells(gs.page, "heatmaps-plot", k)
    colour = expected_colours(q, want, whole)
    assert shown.shape == colour.shape, q
    keep = np.ones(want.shape, bool)
    row, t = chosen
    keep[max(0, row - 1):row + 2, :] = False
    keep[:, max(0, t - 1):t + 2] = False
    stops = VIRIDIS if q in ("i", "f", "o") else RDBU
    # One step of the 256-colour lookup either way, as the compact answer's quantisation can cross a step.
    np.testing.assert_allclose(shown[keep], colour[keep], rtol=0, atol=lookup_step(stops) + 1, err_msg=q)


def test_heatmaps_hold_the_api_values(gs):
    gs.open("?model=english-char")
    gs.type(SENTENCE)
    exact, scale = api_trace(gs, SENTENCE)
    for layer in (0, 1):
        if layer:
            gs.page.select_option("#layer", "1")
            gs.page.wait_for_function("window.gatescope.state.layer === 1")
            gs.settle()
            gs.page.wait_for_function("document.getElementById('unit-heading').textContent.includes('layer 1')")
        for q in QUANTITIES:
            z, y = heatmap(gs, q)
            want = np.array(exact[q][layer][0]).T  # (H, T): units down, time across
            assert y == [str(u) for u in range(want.shape[0])]
            assert z.shape == want.shape
            np.testing.assert_allclose(z, want, rtol=0, atol=tolerance(scale[q]), err_msg=f"{q} layer {layer}")
            state = gs.page.evaluate("window.gatescope.state")
            assert_cells_painted(gs, q, want, np.array(exact[q][layer][0]), (state["unit"], state["t"]))
    gs.shot("heatmaps", "#heatmaps")


def hover_tip(gs, k: int, t: int, row: int) -> list[str]:
    """The lines of the hover box over cell (t, row) of subplot k."""
    _, y = heat_centre(gs.page, "heatmaps-plot", k, t, row)
    gs.page.evaluate("y => window.scrollBy(0, y - innerHeight / 2)", y)
    gs.page.mouse.move(*heat_centre(gs.page, "heatmaps-plot", k, t, row))
    tip = gs.page.locator("#heatmaps .chart-tip")
    tip.wait_for(state="visible")
    assert tip.evaluate("e => e.childElementCount") == 0  # text, never markup
    return tip.text_content().split("\n")


def test_hover_names_the_cell_and_a_drag_narrows_time_to_a_window(gs):
    gs.open("?model=english-char")
    gs.type(SENTENCE)
    exact, scale = api_trace(gs, SENTENCE)
    T = len(SENTENCE)
    for q, t, row in (("g", 9, 5), ("c", 34, 12), ("h", 33, 15)):  # "a", "(", and a space shown as ␣
        lines = hover_tip(gs, QUANTITIES.index(q), t, row)
        assert lines[:3] == [f"token {SENTENCE[t].replace(' ', '␣')}", f"position {t}", f"unit {row}"], lines
        name, value = lines[3].split(" = ")
        assert name == q and abs(float(value) - exact[q][0][0][t][row]) <= tolerance(scale[q]) + 5e-5, lines
    # Dragging across the cells from column 10 to column 20 shows those columns alone, and chooses no cell.
    state = gs.page.evaluate("window.gatescope.state")
    k = QUANTITIES.index("f")
    gs.page.evaluate("y => window.scrollBy(0, y - innerHeight / 2)", heat_centre(gs.page, "heatmaps-plot", k, 10, 3)[1])
    a, b = heat_centre(gs.page, "heatmaps-plot", k, 10, 3), heat_centre(gs.page, "heatmaps-plot", k, 20, 3)
    gs.page.mouse.move(*a)
    gs.page.mouse.down()
    gs.page.mouse.move(a[0] + 12, a[1], steps=3)
    gs.page.mouse.move(*b, steps=5)
    gs.page.mouse.up()
    gs.page.wait_for_function("document.getElementById('heatmaps-plot').drawn.window[0] === 10")
    d = drawn(gs.page, "heatmaps-plot")
    assert d["window"] == [10, 20]
    assert [label["t"] for label in d["labels"]] == list(range(10, 21))  # every token of the window labelled
    assert gs.page.text_content("#heatmaps .heat-window span") == f"Showing tokens 10 to 20 of {T}."
    now = gs.page.evaluate("window.gatescope.state")
    assert (now["unit"], now["t"]) == (state["unit"], state["t"])
    f = np.array(exact["f"][0][0]).T  # (H, T)
    assert_cells_painted(gs, "f", f[:, 10:21], np.array(exact["f"][0][0]), (state["unit"], state["t"] - 10))
    lines = hover_tip(gs, k, 14, 2)
    assert lines[1] == "position 14" and lines[2] == "unit 2", lines
    gs.page.click("#heatmaps .heat-window button[data-i18n='heatmaps.later']")
    gs.page.wait_for_function("document.getElementById('heatmaps-plot').drawn.window[0] === 15")
    assert drawn(gs.page, "heatmaps-plot")["window"] == [15, 25]
    gs.shot("heatmaps-window", "#sec-heatmaps")
    gs.page.dblclick("#heatmaps-plot canvas")
    gs.page.wait_for_function(f"document.getElementById('heatmaps-plot').drawn.window[1] === {T - 1}")
    assert drawn(gs.page, "heatmaps-plot")["window"] == [0, T - 1]
    assert gs.page.is_hidden("#heatmaps .heat-window")


def test_unit_order_by_variance_reorders_rows(gs):
    gs.open("?model=english-char")
    gs.type(SENTENCE)
    gs.page.select_option("#order", "variance")
    gs.page.select_option("#quantity", "f")
    gs.page.wait_for_function("window.gatescope.state.order === 'variance' && window.gatescope.state.quantity === 'f'")
    gs.page.wait_for_function("document.getElementById('heatmaps-plot').drawn.panels[1].units[0] !== 0")
    exact, scale = api_trace(gs, SENTENCE)
    f = np.array(exact["f"][0][0])  # (T, H)
    z, y = heatmap(gs, "f")
    order = [int(u) for u in y]
    assert sorted(order) == list(range(f.shape[1]))
    var = f.var(axis=0)[order]
    assert np.all(np.diff(var) <= 1e-4), "rows are not in decreasing order of variance"
    np.testing.assert_allclose(z, f[:, order].T, rtol=0, atol=scale["f"] / 2 + 1e-6)
    gs.shot("heatmaps-by-variance", "#sec-heatmaps")


def test_fast_typing_ends_on_the_last_text(gs):
    gs.open("?model=english-char")
    text = "fast typing must end on exactly this text, not an older one!"
    gs.type(text, delay=0)
    gs.page.wait_for_timeout(600)  # any late response for older text would have arrived by now
    rendered = gs.page.evaluate("window.gatescope.rendered")
    assert rendered["text"] == text
    assert rendered["steps"] == len(text)
    shown = gs.page.evaluate("document.getElementById('unit-text').textContent")
    assert shown == text
    z, _ = heatmap(gs, "c")
    assert z.shape[1] == len(text)
    gs.shot("fast-typing")


def test_typing_edits_without_a_pause_end_on_the_whole_answers_values(gs):
    """Delta answers spliced keystroke after keystroke, with backspaces and an edit in the middle: what the page
    holds at the end equals one whole /api/trace answer for the final text (values, tokens, predictions)."""
    held, scales = [], {q: [] for q in QUANTITIES}

    def answered(r) -> None:
        if r.url.endswith("/api/trace") and r.ok:
            held.append(json.loads(r.request.post_data).get("held"))
            # The page asks for format="binary" (a JSON head, then raw values): read as the compact answer it is.
            binary = r.headers.get("content-type", "").startswith("application/vnd.gatescope.trace")
            answer = unpack(r.body()) if binary else r.json()
            for q in QUANTITIES:
                scales[q].append(answer[q]["scale"])

    gs.page.on("response", answered)
    gs.open("?model=english-char")
    gs.type(SENTENCE)
    box = gs.page.locator("#text")
    box.press("End")
    for _ in range(4):
        box.press("Backspace")
    box.press_sequentially("ets!")
    for _ in range(10):
        box.press("ArrowLeft")
    box.press_sequentially("XQ")  # in the middle: everything after it changes
    final = box.input_value()
    assert final == SENTENCE[:-4 - 6] + "XQ" + SENTENCE[-4 - 6:-4] + "ets!"
    gs.wait_drawn(final)
    assert any(h for h in held[1:]), "the page never sent the text it held"
    exact, scale = api_trace(gs, final)
    got = gs.page.evaluate("""() => { const tr = window.gatescope.context().trace; const out = {};
        for (const q of ['i', 'f', 'g', 'o', 'c', 'h']) out[q] = Array.from(tr[q].data);
        for (const k of ['tokens', 'ids', 'spans', 'next_prob', 'top_k', 'steps']) out[k] = tr[k];
        return out; }""")
    for q in QUANTITIES:
        # Each value came in the answer of some keystroke, quantised over that answer's values: before a backspace
        # or an edit those included positions the final text no longer has, so its scale may exceed the final one.
        step = max(scales[q] + [scale[q]])
        np.testing.assert_allclose(got[q], np.ravel(exact[q]), rtol=0, atol=tolerance(step), err_msg=q)
    for k in ("tokens", "ids", "spans", "next_prob", "top_k", "steps"):
        assert got[k] == exact[k], k


def test_arrow_keys_move_the_marker_and_the_bars(gs):
    gs.open("?model=english-char")
    gs.type(SENTENCE)
    exact, scale = api_trace(gs, SENTENCE)
    gs.page.locator("#sec-bars h2").click()  # focus leaves the text box, where arrows move the caret
    gs.page.keyboard.press("Home")
    for t in (0, 1, 2, 3):
        if t:
            gs.page.keyboard.press("ArrowRight")
        gs.page.wait_for_function("t => window.gatescope.state.t === t", arg=t)
        gs.settle()
        assert gs.page.input_value("#scrubber") == str(t)
        gs.page.wait_for_function("t => document.getElementById('heatmaps-plot').drawn.marker.t === t", arg=t)
        assert_time_marked(gs, t)
        gs.page.wait_for_function("t => document.getElementById('bars-plot').drawn.t === t", arg=t)
        bars = drawn(gs.page, "bars-plot")
        assert bars["units"] == list(range(16))
        for q in ("f", "i", "o", "c"):
            np.testing.assert_allclose(bars["values"][q], exact[q][0][0][t], atol=scale[q] / 2 + 1e-6, err_msg=q)
        assert_bars_painted(gs, bars, exact["f"][0][0][t])
        label = gs.page.text_content("#time-label")
        assert label.startswith(f"t = {t} of {len(SENTENCE) - 1}")
    gs.page.keyboard.press("ArrowLeft")
    gs.page.wait_for_function("window.gatescope.state.t === 2")
    gs.page.wait_for_function("new URLSearchParams(location.search).get('t') === '2'")
    gs.shot("scrubbed-bars", "#bars")


def assert_bars_painted(gs, bars: dict, f: list[float]) -> None:
    """The canvas holds the forget gate's bars: each unit's column is painted as high as its value (of the
    row's height) in its Viridis colour, whatever the view says it drew."""
    box = bars["boxes"][0]
    for k, v in enumerate(f):
        if bars["units"][k] == gs.page.evaluate("window.gatescope.state.unit"):
            continue  # outlined in black
        x = bar_centre(bars, 0, k)
        col = column(gs.page, "bars-plot", x, box["y"], box["y"] + box["h"] - 2)  # above the zero line
        height = sum(painted(c) for c in col)
        assert abs(height - v * box["h"]) <= 2.5, (k, v, height, box["h"])
        if v * box["h"] > 6:
            got = pixel(gs.page, "bars-plot", x, box["y"] + box["h"] * (1 - v / 2))
            assert differs(got, viridis(v)) <= 4, (k, v, got, viridis(v))


def test_saturation_holds_the_trace_and_a_click_selects_a_point(gs):
    gs.open("?model=english-char&unit=0")
    gs.type(SENTENCE)
    exact, _ = api_trace(gs, SENTENCE)
    gs.page.locator("#saturation-plot").scroll_into_view_if_needed()
    gs.settle()
    sat = drawn(gs.page, "saturation-plot")
    assert [p["q"] for p in sat["panels"]] == ["f", "i", "o"]
    points = []  # (panel, layer, unit, x, y): every point, where it is drawn
    for k, panel in enumerate(sat["panels"]):
        q = panel["q"]
        assert [lay["layer"] for lay in panel["layers"]] == [0, 1]
        for lay in panel["layers"]:
            x = np.array(exact[q][lay["layer"]][0])  # (T, H)
            # Fractions of steps above 0.9 and below 0.1, from the exact values; a value within the wire's
            # quantisation of a threshold may fall either side, hence the tolerance of one step.
            np.testing.assert_allclose(lay["hi"], (x > 0.9).mean(axis=0), atol=1.01 / len(x), err_msg=q)
            np.testing.assert_allclose(lay["lo"], (x < 0.1).mean(axis=0), atol=1.01 / len(x), err_msg=q)
            points += [(k, lay["layer"], u, *point_at(panel, hi, lo)) for u, (hi, lo) in
                       enumerate(zip(lay["hi"], lay["lo"], strict=True))]
    rings = sat["rings"]
    assert [r["q"] for r in rings] == ["f", "i", "o"]
    lines = [point_at(sat["panels"][0], v, v) for v in (0, 0.2, 0.4, 0.6, 0.8, 1)]  # grid lines of panel 0
    offsets = [(0, 0), (2.5, -2.5), (2.5, 2.5), (-2.5, -2.5), (-2.5, 2.5)]  # within a point's 4.5 px radius

    def free(p) -> tuple[float, float] | None:
        """A pixel of point p that no other point (4.5 px radius), ring (10 px, 3 px wide) or grid line covers."""
        k, _, _, x, y = p
        dx, dy = point_at(sat["panels"][k], 0, 0)[0] - lines[0][0], point_at(sat["panels"][k], 0, 0)[1] - lines[0][1]
        for ox, oy in offsets:
            sx, sy = x + ox, y + oy
            if (all(o is p or o[0] != k or np.hypot(o[3] - sx, o[4] - sy) > 5.5 for o in points)
                    and abs(np.hypot(rings[k]["x"] - sx, rings[k]["y"] - sy) - 10) > 2.5
                    and all(abs(sx - gx - dx) > 1.5 and abs(sy - gy - dy) > 1.5 for gx, gy in lines)):
                return sx, sy
        return None

    # Such a pixel holds the point's layer's colour at opacity 0.7 on white.
    alone = [(*p[:3], *free(p), *p[3:]) for p in points if free(p)]  # (panel, layer, unit, pixel, centre)
    assert alone, "every point overlaps another: pick a text that spreads them"
    colours = {0: "#0072B2", 1: "#D55E00"}  # format.js LAYER_COLOURS
    for k, layer, u, x, y, _, _ in alone:
        got = pixel(gs.page, "saturation-plot", x, y)
        assert differs(got, over_white(colours[layer], 0.7)) <= 6, (k, layer, u, got)
    # The ring is painted black around the chosen unit's point, in each panel.
    for ring in rings:
        assert sum(c == (0, 0, 0) for c in column(gs.page, "saturation-plot", ring["x"], ring["y"] - 12,
                                                  ring["y"] + 12)) >= 2
    # Hovering a point says its unit and fractions; clicking it chooses that unit and layer.
    k, layer, u, x, y, cx, cy = alone[-1]
    gs.page.mouse.move(*on_page(gs.page, "saturation-plot", x, y))
    tip = gs.page.text_content("#saturation .chart-tip")
    assert tip.startswith(f"{sat['panels'][k]['q']}, layer {layer}, unit {u}\nabove 0.9: "), tip
    gs.page.mouse.click(*on_page(gs.page, "saturation-plot", x, y))
    gs.page.wait_for_function("([u, l]) => window.gatescope.state.unit === u && window.gatescope.state.layer === l",
                              arg=[u, layer])
    gs.page.wait_for_function("([u, l]) => { const d = document.getElementById('saturation-plot').drawn;"
                              " return d.unit === u && d.layer === l; }", arg=[u, layer])
    ring = drawn(gs.page, "saturation-plot")["rings"][k]
    assert np.hypot(ring["x"] - cx, ring["y"] - cy) < 0.5  # the ring moved to it
    # The legend hides a layer, as Plotly's did: its points leave the canvas.
    entry = next(e for e in sat["legend"] if e["layer"] == layer)
    gs.page.mouse.click(*on_page(gs.page, "saturation-plot", entry["x"] + entry["w"] / 2, entry["y"]))
    gs.page.wait_for_function("l => document.getElementById('saturation-plot').drawn.hidden.includes(l)", arg=layer)
    others = [p for p in alone if p[1] == layer]
    assert others and all(not painted(pixel(gs.page, "saturation-plot", x, y)) for _, _, _, x, y, _, _ in others)
    gs.shot("saturation", "#sec-saturation")


def test_a_bar_says_its_value_and_a_click_chooses_its_unit(gs):
    gs.open("?model=english-char&unit=0")
    gs.type(SENTENCE)
    exact, _ = api_trace(gs, SENTENCE)
    gs.page.locator("#bars-plot").scroll_into_view_if_needed()
    bars = drawn(gs.page, "bars-plot")
    t = bars["t"]
    o = bars["boxes"][2]
    x, y = on_page(gs.page, "bars-plot", bar_centre(bars, 2, 9), o["y"] + o["h"] / 2)
    gs.page.mouse.move(x, y)
    unit, value = gs.page.text_content("#bars .chart-tip").split("\n")
    assert unit == "unit 9" and value.startswith("o = ")
    assert float(value[4:].replace("−", "-")) == pytest.approx(exact["o"][0][0][t][9], abs=1e-3)
    gs.page.mouse.click(x, y)
    gs.page.wait_for_function("window.gatescope.state.unit === 9")
    gs.page.wait_for_function("document.getElementById('bars-plot').drawn.unit === 9")
    # The chosen unit's gate bars are outlined in black (3 px, over the grey zero line): unit 9 now, not unit 0.
    bars = drawn(gs.page, "bars-plot")
    for row, box in enumerate(bars["boxes"][:3]):
        base = box["y"] + box["h"]
        for k, outlined in ((9, True), (0, False)):
            col = column(gs.page, "bars-plot", bar_centre(bars, row, k), base - 3, base + 3)
            assert (rgb("#000000") in col) == outlined, (row, k, col)


def assert_time_marked(gs, t: int) -> None:
    """Column t of every subplot is outlined on the canvas (its left edge, on a whole pixel: 1 px of black, then
    white), and column t + 2 is not: no colour of either scale is near black."""
    d = drawn(gs.page, "heatmaps-plot")
    t0, t1 = d["window"]
    for p in d["panels"]:
        box, cw = p["box"], p["box"]["w"] / (t1 - t0 + 1)
        y = box["y"] + box["h"] * 0.37  # clear of the chosen unit's row outline
        for s, marked in ((t, True), (t + 2, False)):
            edge = round(box["x"] + (s - t0) * cw)
            black, white = (pixel(gs.page, "heatmaps-plot", edge + dx, y) for dx in (-2, -1))
            assert (differs(black, (0, 0, 0)) < 40 and differs(white, WHITE) < 40) == marked, (p["q"], s, black, white)


def click_heatmap_cell(gs, q: str, t: int, row: int) -> None:
    k = QUANTITIES.index(q)
    _, y = heat_centre(gs.page, "heatmaps-plot", k, t, row)
    gs.page.evaluate("y => window.scrollBy(0, y - innerHeight / 2)", y)  # the cell mid-screen
    gs.page.mouse.click(*heat_centre(gs.page, "heatmaps-plot", k, t, row))


def test_click_a_unit_shows_that_unit(gs):
    gs.open("?model=english-char")
    gs.type(SENTENCE)
    gs.page.locator("#heatmaps-plot").scroll_into_view_if_needed()
    click_heatmap_cell(gs, "f", 5, 7)
    gs.page.wait_for_function("window.gatescope.state.unit === 7 && window.gatescope.state.t === 5")
    gs.settle()
    assert gs.page.text_content("#unit-heading").startswith("Unit 7 ·")
    exact, scale = api_trace(gs, SENTENCE)
    for box in gs.page.locator(".unit-picks input").all():  # draw every quantity (c and the gates' mean at first)
        box.check()
    gs.page.locator(".unit-picks input[value='gates']").uncheck()
    gs.page.wait_for_function("document.getElementById('unit-plot').drawn.lines.length === 6")
    lines = [d["y"] for d in drawn(gs.page, "unit-plot")["lines"]]
    for k, q in enumerate(QUANTITIES):
        want = np.array(exact[q][0][0])[:, 7]
        np.testing.assert_allclose(lines[k], want, atol=scale[q] / 2 + 1e-6, err_msg=q)
    assert gs.page.get_attribute("#unit-text span.now", "data-t") == "5"
    gs.shot("unit", "#sec-unit")


def shown_number(gs, selector: str) -> float:
    return float(gs.page.text_content(selector).replace("−", "-"))


def test_step_numbers_satisfy_the_cell_update(gs):
    gs.open("?model=english-char")
    gs.type(SENTENCE)
    exact, _ = api_trace(gs, SENTENCE)
    for t, unit in ((0, 3), (9, 11)):
        gs.page.evaluate("([t, u]) => document.dispatchEvent(new CustomEvent('gs:select', {detail: {t, unit: u}}))",
                         [t, unit])
        gs.page.wait_for_function("([t, u]) => { const h = document.getElementById('step-heading').textContent;"
                                  " return h.startsWith(`Unit ${u} at t = ${t} `) && "
                                  "!document.getElementById('step').classList.contains('stale'); }", arg=[t, unit])
        f, cp, i, g, c = (shown_number(gs, f"#step-update [data-q={q}]") for q in ("f", "c_prev", "i", "g", "c"))
        # Each shown number is rounded to 4 decimals (error <= 5e-5); bound the error of f*cp + i*g from that.
        e = 5e-5
        bound = e * (abs(cp) + abs(f) + abs(i) + abs(g)) + 2 * e * e + e
        assert abs(c - (f * cp + i * g)) <= bound
        o, tc, h = (shown_number(gs, f"#step-output [data-q={q}]") for q in ("o", "tanh_c", "h"))
        assert abs(h - o * tc) <= e * (abs(o) + abs(tc)) + e * e + e
        assert tc == pytest.approx(np.tanh(c), abs=2e-4)
        # and they are this unit's values at this step, as the trace computed them
        assert c == pytest.approx(exact["c"][0][0][t][unit], abs=e + 1e-6)
        assert f == pytest.approx(exact["f"][0][0][t][unit], abs=e + 1e-6)
        if t == 0:
            assert cp == 0
    gs.shot("step", "#sec-step")


def test_oov_notice_names_the_unknown_characters(gs):
    gs.open("?model=english-char")
    assert gs.page.locator("#oov").is_hidden()
    text = "我来自内蒙古"
    gs.type(text)
    sentence = gs.page.text_content("#oov-sentence")
    assert "does not know these 6 characters" in sentence
    for ch in text:
        assert f"“{ch}”" in sentence
    assert gs.page.locator("#oov mark").count() == 6
    gs.type("i am from 内蒙古.")
    assert "these 3 characters" in gs.page.text_content("#oov-sentence")
    assert gs.page.eval_on_selector_all("#oov mark", "ms => ms.map(m => m.textContent)") == ["内", "蒙", "古"]
    gs.shot("oov", "#sec-input")
    gs.type("all known")
    assert gs.page.locator("#oov").is_hidden()
