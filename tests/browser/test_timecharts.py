"""The two views drawn over time on our own canvas (static/js/timescene.js): "one unit over time" (unit.js) and the
surprisal line of "what the model expects next" (predictions.js), in Chromium against the shipped models.

What they drew is read twice: the chart's `drawn` (values, plot area) is checked against /api/trace's own numbers
(format=json, computed here, never by the page's code), and the canvas's pixels are checked where those numbers
say the lines lie, so a drawing that is wrong while its numbers are right fails too."""
from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tests.browser.canvas import column, differs, drawn, on_page, painted, pixel, rgb
from tests.browser.test_explorer import api_trace
from tests.browser.test_first import close, new_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MODEL = "shakespeare-char"
SHORT = "First Citizen:\nBefore we proceed any further, hear me speak."
LONG = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 30)[:2000]
NAMES = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o", "c": "cell state c",
         "h": "hidden state h", "gates": "gates' mean (i + f + o) / 3"}
COLOURS = {"i": "#0072B2", "f": "#D55E00", "g": "#009E73", "o": "#CC79A7", "c": "#000000", "h": "#E69F00",
           "gates": "#56B4E9"}


def visible(tok: str) -> str:
    """format.js's visible(): whitespace and control characters as marks."""
    tok = tok.replace(" ", "␣").replace("\n", "⏎").replace("\t", "⇥").replace("\r", "␍")
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "·", tok)


def unit_values(exact: dict, unit: int) -> dict[str, np.ndarray]:
    """Every quantity the unit view can draw, from the API's answer: the six of layer 0 and the gates' mean."""
    out = {q: np.array(exact[q][0][0], dtype=float)[:, unit] for q in ("i", "f", "g", "o", "c", "h")}
    out["gates"] = (out["i"] + out["f"] + out["o"]) / 3
    return out


def surprisal(exact: dict) -> np.ndarray:
    return np.array([np.nan if p is None or p <= 0 else -np.log2(p) for p in exact["next_prob"]])


def where(d: dict, t: float, v: float | None = None) -> tuple[float, float | None]:
    """Chart coordinates of step t (and value v) in the chart's `drawn`: x spans [-0.5, T - 0.5] over the box."""
    box, (lo, hi) = d["box"], d["range"]
    x = box["x"] + (t + 0.5) / d["T"] * box["w"]
    return x, None if v is None else box["y"] + box["h"] - (v - lo) / (hi - lo) * box["h"]


def clear_above(gs, plot_id: str, d: dict, x: float, y: float) -> bool:
    """Nothing painted in the chart's column at x from the plot's top down to y, but the zero line."""
    _, zero = where(d, 0, 0.0)
    top = d["box"]["y"] + 2
    return all(not painted(p) or abs(top + k - zero) <= 1.5 for k, p in enumerate(column(gs.page, plot_id, x, top, y)))


def open_text(gs, text: str, query: str = f"?model={MODEL}&unit=5") -> None:
    gs.open(query)
    gs.page.fill("#text", text)
    gs.wait_drawn(text)


def show(gs, plot_id: str) -> None:
    gs.page.evaluate("id => window.scrollTo(0, document.getElementById(id).getBoundingClientRect().top"
                     " + scrollY - 200)", plot_id)
    gs.settle()


def hover_tip(gs, plot_id: str, x: float, y: float) -> str:
    gs.page.mouse.move(*on_page(gs.page, plot_id, x, y))
    gs.wait("id => !document.querySelector(`#${id} .chart-tip`).hidden", plot_id, timeout=5)
    return gs.page.text_content(f"#{plot_id} .chart-tip")


def test_the_lines_hold_the_api_values_and_are_painted_there(browser, shipped):
    context, gs = new_page(browser, shipped, (1280, 800))
    open_text(gs, SHORT)
    exact, scale = api_trace(gs, SHORT, MODEL)
    want = unit_values(exact, 5)
    for q in NAMES:  # every quantity drawn
        gs.page.check(f".unit-picks input[value='{q}']")
    gs.wait("() => document.getElementById('unit-plot').drawn.lines.length === 7")
    show(gs, "unit-plot")
    d = drawn(gs.page, "unit-plot")
    assert [line["name"] for line in d["lines"]] == list(NAMES.values()) and not d["banded"]
    for line, q in zip(d["lines"], NAMES, strict=True):
        tol = max(scale[q] if q != "gates" else max(scale[g] for g in "ifo"), 1 / 65535) / 2 + 1e-6
        np.testing.assert_allclose(line["y"], want[q], atol=tol, err_msg=q)
        assert line["colour"].lower() == COLOURS[q].lower()
    # The tokens under the axis are the API's tokens.
    assert [(lab["t"], lab["text"]) for lab in d["labels"]] == [(t, visible(exact["tokens"][t]))
                                                                 for t in range(0, len(SHORT), d["stride"])]
    # Pixels: c alone (its 4 px black line), at every step: black where the API's c lies, nothing far above it
    # but the other lines.
    gs.page.evaluate("""() => { for (const b of document.querySelectorAll('.unit-picks input'))
      if (b.checked !== (b.value === 'c')) b.click(); }""")
    gs.wait("() => document.getElementById('unit-plot').drawn.lines.length === 1")
    d = drawn(gs.page, "unit-plot")
    assert d["lines"][0]["name"] == NAMES["c"]
    for t in range(len(SHORT)):
        if t == d["t"]:
            continue  # under the time marker
        x, y = where(d, t, want["c"][t])
        assert max(pixel(gs.page, "unit-plot", x, y)) < 90, t  # the black line (anti-aliased)
        assert clear_above(gs, "unit-plot", d, x, y - 30), t  # a steep neighbour's stroke aside
        if t + 1 < len(SHORT) and t + 1 != d["t"]:  # halfway to the next step: the line, not a step's dot
            x, y = where(d, t + 0.5, (want["c"][t] + want["c"][t + 1]) / 2)
            assert max(pixel(gs.page, "unit-plot", x, y)) < 90, t
    # The surprisal line: -log2 of the probability the API gave each next token.
    show(gs, "surprisal-plot")
    s = drawn(gs.page, "surprisal-plot")
    bits = surprisal(exact)
    np.testing.assert_allclose(np.array([np.nan if v is None else v for v in s["lines"][0]["y"]], dtype=float), bits,
                               rtol=1e-6, atol=1e-6)
    assert s["range"][0] == 0  # the axis starts at 0 bits
    for t in range(len(SHORT)):
        if np.isnan(bits[t]) or t == s["t"]:
            continue
        x, y = where(s, t, bits[t])
        assert differs(pixel(gs.page, "surprisal-plot", x, y), rgb("#D55E00")) < 80, t
    gs.shot("unit-lines", "#sec-unit")
    close(context, gs)


def test_a_long_text_draws_bands_but_hovers_exact_values(browser, shipped):
    context, gs = new_page(browser, shipped, (1280, 800))
    open_text(gs, LONG)
    show(gs, "unit-plot")
    exact, scale = api_trace(gs, LONG, MODEL)
    want = unit_values(exact, 5)
    d = drawn(gs.page, "unit-plot")
    assert [line["name"] for line in d["lines"]] == [NAMES["c"], NAMES["gates"]]  # what it draws at first
    assert all(len(line["y"]) == 2000 for line in d["lines"])
    np.testing.assert_allclose(d["lines"][0]["y"], want["c"], atol=scale["c"] / 2 + 1e-6)
    # Drawn as bands: each of n runs of steps (2 px wide) spans the min and max of the API's values in it.
    n = d["columns"]
    assert d["banded"] and n <= d["box"]["w"] / 2 + 1 and len(d["bands"]) == 2
    edges = [int(np.floor(b * 2000 / n)) for b in range(n + 1)]
    for band, q in zip(d["bands"], ("c", "gates"), strict=True):
        lo = [want[q][a:max(a + 1, b)].min() for a, b in zip(edges, edges[1:], strict=False)]
        hi = [want[q][a:max(a + 1, b)].max() for a, b in zip(edges, edges[1:], strict=False)]
        np.testing.assert_allclose(band["lo"], lo, atol=0.01, err_msg=q)
        np.testing.assert_allclose(band["hi"], hi, atol=0.01, err_msg=q)
    # Pixels: inside c's band of a run, painted; above both bands' tops (of the run and its neighbours, which the
    # band's steep edges join), the white ground (or a grid line).
    box = d["box"]
    for b in range(5, n, 97):
        x = box["x"] + (d["bands"][0]["x"][b] + 0.5) / 2000 * box["w"]
        top = max(band["hi"][k] for band in d["bands"] for k in (b - 1, b, b + 1))
        _, y_top = where(d, 0, top)
        _, y_mid = where(d, 0, (d["bands"][0]["lo"][b] + d["bands"][0]["hi"][b]) / 2)
        assert painted(pixel(gs.page, "unit-plot", x, y_mid)), b
        assert clear_above(gs, "unit-plot", d, x, y_top - 4), b
    # A hover on any step gives that step's exact values, never a band's: two neighbours in one run differ.
    step = box["w"] / 2000
    picked = [t for t in range(1000, 1100) if abs(where(d, t)[0] % 1 - 0.5) > 0.5 - step / 2 + 0.02][:6]
    assert len(picked) >= 3
    seen = set()
    for t in picked:
        x, _ = where(d, t)
        tip = hover_tip(gs, "unit-plot", x, box["y"] + box["h"] / 2)
        assert f"(t={t})" in tip, (t, tip)
        shown = dict(re.findall(r"^(c|\(i\+f\+o\)/3) = (\S+)$", tip, re.M))
        for q, key in (("c", "c"), ("gates", "(i+f+o)/3")):
            value = float(shown[key].replace("−", "-"))
            tol = (scale["c"] if q == "c" else max(scale[g] for g in "ifo")) / 2 + 5e-5 + 1e-6
            assert value == pytest.approx(want[q][t], abs=tol), (t, q, tip)
        seen.add(shown["c"])
    assert len(seen) > 1
    gs.page.check(".unit-picks input[value='f']")
    gs.wait("() => document.getElementById('unit-plot').drawn.lines.some(l => l.name === 'forget gate f')")
    gs.shot("unit-2000-tokens", "#sec-unit")
    close(context, gs)


@pytest.mark.parametrize("touch", [False, True])
def test_a_click_and_a_tap_select_t(browser, shipped, touch):
    size, options = ((390, 844), {"has_touch": True, "is_mobile": True}) if touch else ((1280, 800), {})
    context, gs = new_page(browser, shipped, size, **options)
    open_text(gs, SHORT, f"?model={MODEL}&unit=5" + ("&tab=unit" if touch else ""))
    for plot_id, tab, t in (("unit-plot", "unit", 7), ("surprisal-plot", "predictions", 21)):
        if touch:
            gs.page.tap(f"#tabs [data-tab={tab}]")
        show(gs, plot_id)
        d = drawn(gs.page, plot_id)
        assert d["t"] != t
        x, _ = where(d, t)
        point = on_page(gs.page, plot_id, x, d["box"]["y"] + d["box"]["h"] * 0.7)
        if touch:
            gs.page.touchscreen.tap(*point)
        else:
            gs.page.mouse.click(*point)
        gs.wait("t => window.gatescope.state.t === t", t)
        gs.wait("([id, t]) => document.getElementById(id).drawn.t === t", [plot_id, t])
        # The marker moved there: the dotted black line (half of it dashes) at t's x, down the whole plot.
        marks = column(gs.page, plot_id, x, d["box"]["y"] + 2, d["box"]["y"] + d["box"]["h"] - 2)
        assert sum(max(p) < 130 for p in marks) > d["box"]["h"] * 0.4, plot_id
    close(context, gs)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_saves_are_a_png_and_an_svg_with_the_tokens(browser, shipped):
    text = "First <b>Citizen</b> & all:\nspeak."  # tokens that are markup characters: text in the SVG
    context, gs = new_page(browser, shipped, (1280, 800), accept_downloads=True)
    open_text(gs, text)
    exact, _ = api_trace(gs, text, MODEL)
    for section, plot_id in (("unit", "unit-plot"), ("predictions", "surprisal-plot")):
        show(gs, plot_id)
        d = drawn(gs.page, plot_id)
        with gs.page.expect_download() as download:
            gs.page.click(f"#{section} .figure-saves button[data-format=png]")
        assert download.value.suggested_filename == f"{plot_id}.png"
        w, h = png_size(download.value.path().read_bytes())
        assert (w, h) == (2 * d["width"], 2 * d["height"])  # drawn at twice the size
        with gs.page.expect_download() as download:
            gs.page.click(f"#{section} .figure-saves button[data-format=svg]")
        assert download.value.suggested_filename == f"{plot_id}.svg"
        svg = ET.fromstring(download.value.path().read_text())  # well-formed: the tokens were escaped
        ns = "{http://www.w3.org/2000/svg}"
        texts = [e.text for e in svg.iter(f"{ns}text")]
        labels = [visible(exact["tokens"][t]) for t in range(0, len(exact["tokens"]), d["stride"])]
        assert all(s in texts for s in labels), (labels, texts)
        assert "<" in labels and "&" in labels
        points = sum(len(e.get("points").split()) for e in svg.iter(f"{ns}polyline"))
        assert points == sum(v is not None for line in d["lines"] for v in line["y"])  # each step of each line
    close(context, gs)
