"""A long text pasted, then typed at, edited and grown, in Chromium against a live server: the page's arrays are
the server's answers spliced bit for bit (the splice redone here in NumPy from the bytes the page received), equal
a fresh answer for the whole text, and come from the store written in place where the steps are new (arrays.js
Steps): while an answer some view may still hold keeps its values."""
from __future__ import annotations

import base64

import numpy as np
import pytest

from tests.app.wire import decode, unpack
from tests.browser.test_explorer import QUANTITIES, SENTENCE, api_trace, heatmap, tolerance

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Every /api/trace request the page makes, with the bytes of its answer, in the order they were sent.
CAPTURE = """window.__traces = []; const fetched = window.fetch;
window.fetch = async (url, init) => { const r = await fetched(url, init);
  if (String(url).endsWith('/api/trace') && r.ok) { const slot = { request: JSON.parse(init.body) };
    window.__traces.push(slot); slot.body = new Uint8Array(await r.clone().arrayBuffer()).toBase64(); }
  return r; };"""
# The answer on screen, kept by the page as window.__kept[name], and a copy of its values.
VALUES = "(tr) => Object.fromEntries(['i', 'f', 'g', 'o', 'c', 'h'].map((q) => [q, Array.from(tr[q].data)]))"
KEEP = f"""name => {{ const tr = window.gatescope.context().trace; window.__kept = window.__kept || {{}};
  window.__kept[name] = {{ tr, values: ({VALUES})(tr) }}; }}"""
UNCHANGED = f"""name => {{ const k = window.__kept[name], now = ({VALUES})(k.tr);
  return Object.keys(now).every((q) => now[q].every((v, j) => Object.is(v, k.values[q][j]))); }}"""
SAME_STORE = """name => { const a = window.gatescope.context().trace.i.buf;
  return a !== undefined && a === window.__kept[name].tr.i.buf; }"""
ARRAYS = f"""() => {{ const tr = window.gatescope.context().trace;
  return {{ shape: tr.i.shape, cap: tr.i.cap, tokens: tr.tokens, ids: tr.ids, spans: tr.spans,
    next_prob: tr.next_prob, ...({VALUES})(tr) }}; }}"""

def float32(x: dict) -> np.ndarray:
    """A wire array as the page decodes it: offset + q * scale in double precision, stored as float32."""
    return decode(x)[0].astype(np.float32)


def spliced(captured: list[dict]) -> dict[str, dict]:
    """Each text's whole answer, from the answers in the order asked: the held text's answer up to `start`, then
    the answer's own positions."""
    whole: dict[str, dict] = {}
    for slot in captured:
        answer = unpack(base64.b64decode(slot["body"]))
        held, start = slot["request"]["held"], answer["start"]
        base = whole[held] if start else None
        out = dict(answer)
        for q in QUANTITIES:
            x = float32(answer[q])
            out[q] = np.concatenate([base[q][:, :, :start], x], axis=2) if start else x
        for k in ("tokens", "ids", "spans", "next_prob"):
            out[k] = (base[k][:start] if start else []) + answer[k]
        whole[slot["request"]["text"]] = out
    return whole


def test_a_pasted_text_typed_at_edited_and_grown_is_the_answers_spliced_bit_for_bit(gs):
    gs.page.add_init_script(CAPTURE)
    gs.open("?model=english-char")
    box = gs.page.locator("#text")
    pasted = (SENTENCE + " ") * 7  # 322 tokens
    box.fill(pasted)
    gs.wait_drawn(pasted)
    gs.page.evaluate(KEEP, "pasted")
    box.press("End")
    box.press_sequentially("and the dog ran away", delay=30)  # 20 keys
    gs.wait_drawn(box.input_value())
    # The path under test ran: the keys' steps were written after the pasted ones, in the store they came in.
    assert gs.page.evaluate(SAME_STORE, "pasted")
    gs.page.evaluate(KEEP, "typed")
    for _ in range(5):
        box.press("Backspace")
    box.press_sequentially("swam", delay=30)
    gs.wait_drawn(box.input_value())
    # Those steps were seen by the answer kept as "typed": the new ones went into a store of their own, and the
    # answers before keep their values.
    assert not gs.page.evaluate(SAME_STORE, "typed")
    assert gs.page.evaluate(UNCHANGED, "typed") and gs.page.evaluate(UNCHANGED, "pasted")
    gs.page.evaluate(KEEP, "retyped")
    box.press("End")
    box.fill(box.input_value() + " The end." * 12)  # more than the store has room for: it grows
    gs.wait_drawn(box.input_value())
    assert not gs.page.evaluate(SAME_STORE, "retyped") and gs.page.evaluate(UNCHANGED, "retyped")
    box.press("Home")
    for _ in range(10):
        box.press("ArrowRight")
    box.press_sequentially("Z", delay=30)  # an edit near the start: nearly every step again
    final = box.input_value()
    gs.wait_drawn(final)

    got = gs.page.evaluate(ARRAYS)
    L, D, T, H = got["shape"]
    assert len(final) == T and got["cap"] >= T
    want = spliced(gs.page.evaluate("window.__traces"))[final]
    for q in QUANTITIES:
        page = np.array(got[q], dtype=np.float32).reshape(L, D, T, H)
        assert np.array_equal(page, want[q]), f"{q}: {np.argwhere(page != want[q])[:5]}"
    for k in ("tokens", "ids", "spans", "next_prob"):
        assert got[k] == want[k], k
    # And the whole text's answer, asked afresh: the same tokens, and every value within the quantisation.
    exact = gs.api("/api/trace", {"model": "english-char", "text": final, "format": "json"})
    scales = gs.api("/api/trace", {"model": "english-char", "text": final})
    assert got["tokens"] == exact["tokens"] and got["ids"] == exact["ids"]
    for q in QUANTITIES:
        page = np.array(got[q], dtype=np.float64).reshape(L, D, T, H)
        np.testing.assert_allclose(page, np.array(exact[q]), rtol=0, atol=tolerance(scales[q]["scale"]), err_msg=q)


# The buffer under the heatmaps' first row of each subplot (heatmaps.js rows), kept by the page to compare.
ROW_BUFFERS = """keep => { const bufs = document.getElementById('heatmaps-plot').drawn.panels.map((p) => p.z[0].buffer);
  if (keep) { window.__rows = bufs; return true; } return bufs.every((b, k) => b === window.__rows[k]); }"""


def test_the_heatmaps_read_only_the_new_columns_of_a_long_text(gs):
    gs.open("?model=english-char")
    box = gs.page.locator("#text")
    pasted = (SENTENCE + " ") * 7
    box.fill(pasted)
    gs.wait_drawn(pasted)
    gs.page.evaluate(ROW_BUFFERS, True)
    box.press("End")
    box.press_sequentially("and so on", delay=30)
    for _ in range(3):
        box.press("Backspace")
    box.press_sequentially("xyz", delay=30)
    final = box.input_value()
    gs.wait_drawn(final)
    # The path under test ran: the rows were extended where they were, not built again for every column.
    assert gs.page.evaluate(ROW_BUFFERS, False)
    exact, scale = api_trace(gs, final)
    for q in QUANTITIES:
        z, units = heatmap(gs, q)
        want = np.array(exact[q][0][0]).T[[int(u) for u in units]]  # (rows, T) in the rows' order
        np.testing.assert_allclose(z, want, rtol=0, atol=tolerance(scale[q]), err_msg=q)
    # Every view asks for the context at each draw; its token labels and unit order are worked out once a trace.
    same, labels = gs.page.evaluate("""() => { const a = window.gatescope.context(), b = window.gatescope.context();
      return [a.labels === b.labels && a.order === b.order, a.labels]; }""")
    assert same
    assert labels == [t.replace(" ", "\u2423").replace("&", "&amp;").replace("<", "&lt;") for t in exact["tokens"]]
