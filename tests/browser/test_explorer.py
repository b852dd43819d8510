"""The explorer page in Chromium against a live server: what the views hold equals what the API computed."""
from __future__ import annotations

import json

import numpy as np
import pytest

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
    z, y = gs.page.evaluate(
        "q => { const d = document.getElementById('heatmaps-plot').data.find(d => d.name === q);"
        " return [Array.from(d.z, r => Array.from(r)), d.y]; }", q)
    return np.array(z), y


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
    gs.shot("heatmaps", "#heatmaps")


def test_unit_order_by_variance_reorders_rows(gs):
    gs.open("?model=english-char")
    gs.type(SENTENCE)
    gs.page.select_option("#order", "variance")
    gs.page.select_option("#quantity", "f")
    gs.page.wait_for_function("window.gatescope.state.order === 'variance' && window.gatescope.state.quantity === 'f'")
    gs.page.wait_for_function("document.getElementById('heatmaps-plot').data[1].y[0] !== '0'")
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
            for q in QUANTITIES:
                scales[q].append(r.json()[q]["scale"])

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
        x0 = gs.page.evaluate("document.getElementById('heatmaps-plot').layout.shapes[0].x0")
        assert x0 == pytest.approx(t - 0.5)
        bars = gs.page.evaluate("Array.from(document.getElementById('bars-plot').data[0].y)")
        np.testing.assert_allclose(bars, exact["f"][0][0][t], atol=scale["f"] / 2 + 1e-6)
        label = gs.page.text_content("#time-label")
        assert label.startswith(f"t = {t} of {len(SENTENCE) - 1}")
    gs.page.keyboard.press("ArrowLeft")
    gs.page.wait_for_function("window.gatescope.state.t === 2")
    gs.page.wait_for_function("new URLSearchParams(location.search).get('t') === '2'")
    gs.shot("scrubbed-bars", "#bars")


def click_heatmap_cell(gs, q: str, t: int, row: int) -> None:
    k = QUANTITIES.index(q)
    x, y = gs.page.evaluate("""([k, t, row]) => {
        const gd = document.getElementById('heatmaps-plot'), L = gd._fullLayout, box = gd.getBoundingClientRect();
        const xa = L[k ? `xaxis${k + 1}` : 'xaxis'], ya = L[k ? `yaxis${k + 1}` : 'yaxis'];
        return [box.left + xa._offset + xa.l2p(t), box.top + ya._offset + ya.l2p(row)];
    }""", [k, t, row])
    gs.page.mouse.click(x, y)


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
    gs.page.wait_for_function("document.getElementById('unit-plot').data.length === 6")
    lines = gs.page.evaluate("Array.from(document.getElementById('unit-plot').data, d => Array.from(d.y))")
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
