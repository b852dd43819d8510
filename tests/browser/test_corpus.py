"""The corpus views in Chromium: a heatmap click opens the unit's top contexts, a census unit becomes the
chosen unit, a span selected by dragging finds its matches, and a match opens back in the explorer.

The index covers its corpus with one window and no warm-up, so each stored value is the float16 of one
plain trace of the whole corpus: every number the page shows is checked against NumPy on that trace.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np
import pytest

from app.testing import start_server, stop_server
from lstm_core import load_model
from lstm_core.corpus import CorpusIndex, IndexSettings, build_index, run_census
from tests.browser.canvas import differs, drawn, pixel, rgb
from tests.browser.conftest import ENGLISH, make_models, new_context, open_page
from tests.browser.test_explorer import click_heatmap_cell

MODEL = "english-char"


def corpus_text() -> str:
    """About 4,000 characters of the test model's own alphabet: its sentence's words, shuffled into lines."""
    rng = np.random.default_rng(1)
    words = ENGLISH.split()
    lines = [" ".join(rng.choice(words, size=rng.integers(4, 12))) + "\n" for _ in range(80)]
    return "".join(lines)[:4000]


@pytest.fixture(scope="module")
def corpus_server(tmp_path_factory) -> Iterator[dict]:
    """A live server whose english-char model has an index (and a census) of corpus_text()."""
    root = tmp_path_factory.mktemp("corpus-browser")
    models = root / "models"
    models.mkdir()
    make_models(models)
    text = corpus_text()
    s = IndexSettings(window=4096, warmup=0, tokens_chunk=4096, units_chunk=8, batch=1)
    build_index(models / f"{MODEL}.safetensors", None, root / "indexes" / MODEL, s, text=text, corpus_name="shuffled",
                workers=1, progress=False)
    census = run_census(CorpusIndex.open(root / "indexes" / MODEL)).to_json()
    (root / "indexes" / MODEL / "census.json").write_text(json.dumps(census), encoding="utf-8")
    model = load_model(models / f"{MODEL}.safetensors")
    trace, _ = model.trace_ids(model.encode(text).ids)
    # The explorer takes the whole one-window corpus, so every token opens with its stored values.
    env = {"GATESCOPE_INDEX_DIR": str(root / "indexes"), "GATESCOPE_MAX_TOKENS": "5000"}
    base, proc = start_server(models, env=env)
    yield {"base": base, "text": text, "model": model, "trace": trace}
    stop_server(proc)


@pytest.fixture()
def gs(browser, corpus_server):
    yield from open_page(browser, corpus_server["base"])


def stored(world, q: str, layer: int, unit: int) -> np.ndarray:
    """(N,) one unit's float16 values over the corpus, as float64: what the index holds, by NumPy alone."""
    return world["trace"].gate(q)[layer, 0, :, unit].astype(np.float16).astype(np.float64)


def test_heatmap_click_opens_the_units_top_contexts(gs, corpus_server):
    gs.open(f"?model={MODEL}&quantity=c&layer=1")
    gs.type("over the lazy dog")
    gs.page.locator("#heatmaps-plot").scroll_into_view_if_needed()
    click_heatmap_cell(gs, "c", 4, 9)
    gs.page.wait_for_function("window.gatescope.state.unit === 9")
    gs.page.locator("#corpus-unit").scroll_into_view_if_needed()
    gs.page.wait_for_function("window.gatescope.corpusUnit && window.gatescope.corpusUnit.ref.unit === 9")
    gs.settle()
    v = stored(corpus_server, "c", 1, 9)
    pos = np.arange(len(v))
    top, bottom = np.lexsort((pos, -v))[:8], np.lexsort((pos, v))[:8]
    lists = gs.page.locator("#corpus-unit .contexts")
    tokens = "bs => bs.map(b => Number(b.dataset.token))"
    shown_top = lists.nth(0).locator("button.context").evaluate_all(tokens)
    shown_bottom = lists.nth(1).locator("button.context").evaluate_all(tokens)
    assert shown_top == top.tolist() and shown_bottom == bottom.tolist()
    values = lists.nth(0).locator(".value").all_text_contents()
    assert [float(x.replace("−", "-")) for x in values] == pytest.approx(v[top], abs=5e-4)
    # The outlined character of each context is the corpus's character at that token.
    outlined = lists.nth(0).locator(".hl").all_text_contents()
    assert [o.replace("␣", " ").replace("⏎", "\n") for o in outlined] == [corpus_server["text"][k] for k in top]
    counts, _ = np.histogram(v, bins=40, range=(v.min(), v.max()))
    hist = drawn(gs.page, "corpus-hist")
    assert hist["counts"] == counts.tolist()
    # On the canvas: the fullest bin's bar is painted in the bars' blue halfway up, and the figure names itself.
    k = int(np.argmax(counts))
    (x0, x1), box = hist["edges"][k:k + 2], hist["box"]
    x = box["x"] + ((x0 + x1) / 2 - hist["edges"][0]) / (hist["edges"][-1] - hist["edges"][0]) * box["w"]
    assert differs(pixel(gs.page, "corpus-hist", x, box["y"] + box["h"] * 0.6), rgb("#0072B2")) <= 3
    assert gs.page.get_attribute("#corpus-hist", "role") == "img"
    assert gs.page.get_attribute("#corpus-hist", "aria-label").startswith("Histogram of unit 9's")
    assert "Unit 9, layer 1" in gs.page.text_content("#corpus-unit h3")
    gs.shot("corpus-unit", "#corpus-unit")


def test_a_census_unit_becomes_the_chosen_unit(gs):
    gs.open(f"?model={MODEL}")
    gs.page.locator("#census").scroll_into_view_if_needed()
    chip = gs.page.locator("#census .census-row[data-feature='word_start'] .unit-chip").first
    chip.wait_for()
    want = chip.evaluate("b => ({...b.dataset})")
    chip.click()
    gs.page.wait_for_function("([q, l, u]) => { const s = window.gatescope.state; return s.quantity === q "
                              "&& s.layer === l && s.unit === u; }", arg=[want["quantity"], int(want["layer"]),
                                                                          int(want["unit"])])
    gs.page.wait_for_function("u => window.gatescope.corpusUnit && window.gatescope.corpusUnit.ref.unit === u",
                              arg=int(want["unit"]))
    # The link follows (url.js writes it 300 ms after the last change: read at once it may still hold the old unit).
    gs.page.wait_for_function("u => new URLSearchParams(location.search).get('unit') === u", arg=want["unit"],
                              timeout=5000)
    gs.shot("census", "#sec-corpus")


def _auc(v: np.ndarray, y: np.ndarray) -> float:
    pos, neg = v[y], v[~y]
    return ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg))


def test_a_label_file_from_the_page_ranks_the_units_as_numpy_does(gs, corpus_server):
    text, cfg = corpus_server["text"], corpus_server["model"].lstm.config
    y = np.array([ch in "aeiou" for ch in text])  # my own per-token labels: a vowel (a char model: token = char)
    gs.open(f"?model={MODEL}")
    gs.page.locator("#census").scroll_into_view_if_needed()
    gs.page.locator("#probe-labels").wait_for(state="attached")
    gs.page.set_input_files("#probe-labels", files=[{"name": "vowels.txt", "mimeType": "text/plain",
                                                     "buffer": "\n".join(str(int(v)) for v in y).encode()}])
    row = gs.page.locator("#census .census-row[data-feature='vowels']")
    row.wait_for()
    chips = row.locator(".unit-chip").evaluate_all("bs => bs.map(b => [b.dataset.quantity, Number(b.dataset.layer), "
                                                   "Number(b.dataset.unit), b.textContent])")
    score = {(q, layer, u): abs(2 * _auc(stored(corpus_server, q, layer, u), y) - 1)
             for q in "ch" for layer in range(cfg.num_layers) for u in range(cfg.hidden_size)}
    assert [tuple(c[:3]) for c in chips] == sorted(score, key=lambda k: -score[k])[:len(chips)]
    q, layer, u, label = chips[0]
    assert f"AUC {_auc(stored(corpus_server, q, layer, u), y):.2f}" in label
    gs.shot("census-labels", "#census")
    # A file with the wrong number of values: the catalog's sentence, in the status line.
    gs.page.set_input_files("#probe-labels", files=[{"name": "short.txt", "mimeType": "text/plain",
                                                     "buffer": b"1 0 1"}])
    gs.page.wait_for_function("document.querySelector('#census [role=status]').textContent.includes('short.txt')")
    assert f"has {len(y)} tokens" in gs.page.text_content("#census [role=status]")
    assert [e for e in gs.errors if "422" not in e] == []
    gs.errors.clear()  # Chromium logs the refused file's 422 as a console error; the page said why


def test_a_phone_shows_one_unit_per_feature_and_one_gate_at_a_time(browser, corpus_server):
    context = new_context(browser, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{corpus_server['base']}/?model={MODEL}&tab=corpus")  # a phone shows one view: the corpus's
        row = page.locator("#census .census-row").first
        row.wait_for()
        visible = "r => Array.from(r.querySelectorAll('.unit-chip')).filter(b => b.offsetParent !== null).length"
        assert row.evaluate(visible) == 1 and row.locator(".unit-chip").count() > 1
        row.locator(".census-more").click()
        assert row.evaluate(visible) == row.locator(".unit-chip").count()
        assert row.locator(".census-more").get_attribute("aria-expanded") == "true"
        page.click("#tabs [data-tab=saturation]")
        page.locator("#sec-saturation").scroll_into_view_if_needed()
        page.evaluate("window.gatescope.idle()")
        page.wait_for_function("document.getElementById('corpus-saturation-plot').drawn")
        sat = json.loads(page.evaluate(f"fetch('/api/corpus/{MODEL}/saturation').then(r => r.text())"))
        for gate in ("f", "i", "o"):
            page.click(f"#corpus-saturation .sat-gates button[data-gate='{gate}']")
            page.wait_for_function("q => { const d = document.getElementById('corpus-saturation-plot').drawn;"
                                   " return d.panels.length === 1 && d.panels[0].q === q; }", arg=gate)
            panel = drawn(page, "corpus-saturation-plot")["panels"][0]
            assert panel["box"]["w"] > 250  # one panel, the whole width
            np.testing.assert_allclose(panel["layers"][0]["hi"], np.array(sat["gates"][gate]["high"])[0, 0], atol=1e-6)
            np.testing.assert_allclose(panel["layers"][0]["lo"], np.array(sat["gates"][gate]["low"])[0, 0], atol=1e-6)
    finally:
        context.close()


def test_a_phone_without_a_corpus_index_shows_no_gate_picker(browser, server):
    """The corpus's gate picker is for a figure: with no index there is none, and no empty buttons either."""
    context = new_context(browser, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{server}/?model={MODEL}&tab=saturation")
        page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
        page.evaluate("window.gatescope.idle()")
        page.wait_for_function("document.querySelector('#corpus-saturation .note').textContent.length > 0")
        assert page.locator("#corpus-saturation .note").is_visible()
        assert not page.locator("#corpus-saturation .sat-gates").is_visible()
        assert page.locator("#corpus-saturation .sat-gates button:visible").count() == 0
        assert not page.locator("#corpus-saturation-plot").is_visible()
        page.locator("#sec-saturation").screenshot(path=str(_artifact("phone-saturation-no-index")))
    finally:
        context.close()


def _drag(gs, a: int, b: int) -> None:
    """Press on token a of the pattern strip, move over to token b and let go, as a person selects."""
    strip = gs.page.locator("#patterns .pattern-strip")
    first = strip.locator(f"span[data-t='{a}']").bounding_box()
    last = strip.locator(f"span[data-t='{b}']").bounding_box()
    gs.page.mouse.move(first["x"] + 3, first["y"] + first["height"] / 2)
    gs.page.mouse.down()
    gs.page.mouse.move(last["x"] + last["width"] - 3, last["y"] + last["height"] / 2, steps=5)
    gs.page.mouse.up()


def test_select_a_span_get_matches_and_follow_one_to_the_explorer(gs, corpus_server):
    text = corpus_server["text"][:120]
    on_text = (corpus_server["model"].trace_text(text).trace.gate("h")[1, 0]  # (T, H)
               .astype(np.float16).astype(np.float64) >= 0.5)
    spans = [(s, s + n) for n in (2, 3, 1) for s in range(1, 110)]
    t0, t1 = max(spans, key=lambda se: (on_text[se[0]:se[1]].all(0) & ~on_text[se[0] - 1] & ~on_text[se[1]]).sum())
    units = np.flatnonzero(on_text[t0:t1].all(0) & ~on_text[t0 - 1] & ~on_text[t1])
    assert len(units), "the test text has no pattern at this threshold"
    gs.open(f"?model={MODEL}&layer=1")
    gs.page.fill("#text", text)  # pasted: typing 120 characters one by one only slows the test
    gs.wait_drawn(text)
    gs.page.locator("#patterns").scroll_into_view_if_needed()
    _drag(gs, t0, t1 - 1)
    assert gs.page.input_value("#pattern-start") == str(t0) and gs.page.input_value("#pattern-end") == str(t1 - 1)
    gs.page.select_option("#pattern-quantity", "h")
    gs.page.select_option("#pattern-threshold", "0.5")
    gs.page.click("#patterns button[type=submit]")
    gs.page.wait_for_function("window.gatescope.patterns && document.querySelectorAll('#patterns .matches li').length")
    drawn = gs.page.evaluate("window.gatescope.patterns")
    assert drawn["pattern"]["units"] == units.tolist()
    api = gs.api(f"/api/corpus/{MODEL}/patterns", {"text": text, "start": t0, "end": t1, "threshold": 0.5,
                                                   "quantity": "h", "layer": 1, "direction": 0, "limit": 20})
    shown = gs.page.locator("#patterns .matches button.context").evaluate_all(
        "bs => bs.map(b => [Number(b.dataset.start), Number(b.dataset.end)])")
    assert shown == [[m["start"], m["end"]] for m in api["matches"]]
    on = corpus_server["trace"].gate("h")[1, 0].astype(np.float16).astype(np.float64) >= 0.5  # (N, H), by NumPy
    N = len(on)
    for m in api["matches"]:
        a, b = m["start"], m["end"]
        around = on[a:b].all(0) & ~(on[a - 1] if a > 0 else False) & ~(on[b] if b < N else False)
        assert m["overlap"] == around[units].sum() and m["extra"] == around.sum() - m["overlap"]
        assert on[a:b][:, units].sum(1).min() >= math.ceil(0.5 * len(units))
    assert [t0, t1] in shown  # the selected span is in the corpus: it is a match
    gs.shot("patterns", "#sec-patterns")
    first = api["matches"][0]
    gs.page.locator("#patterns .matches button.context").first.click()
    opened = gs.page.evaluate(f"fetch('/api/corpus/{MODEL}/open?token={first['start']}').then(r => r.json())")
    gs.wait_drawn(opened["text"])
    assert gs.page.input_value("#text") == opened["text"]
    assert gs.page.evaluate("window.gatescope.state.t") == opened["t"]
    assert opened["exact"] and corpus_server["text"][first["start"]] == opened["text"][opened["t"]]
    # The explorer's heatmap now holds the corpus's own h at that token (as the index stored it, float16).
    want = corpus_server["trace"].gate("h")[1, 0, first["start"]]  # (H,)
    got = gs.page.evaluate("""t => { const h = window.gatescope.context().trace.h, [, , T, H] = h.shape;
        const slot = window.gatescope.context().slot;
        return Array.from(h.data.slice(((slot * 1 + 0) * T + t) * H, ((slot * 1 + 0) * T + t + 1) * H)); }""",
                           opened["t"])
    np.testing.assert_allclose(got, want, atol=2e-3)


@pytest.mark.parametrize(("w", "h"), [(1280, 800), (390, 844), (1920, 1080)])
def test_corpus_views_fit_each_screen(browser, corpus_server, w, h):
    context = new_context(browser, viewport={"width": w, "height": h})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        page.goto(f"{corpus_server['base']}/?model={MODEL}&quantity=c&layer=1&unit=3")
        page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
        page.add_style_tag(content=".sticky { position: static !important; }")
        for sec in ("sec-corpus", "sec-patterns", "sec-saturation"):
            if page.is_visible("#tabs"):  # a phone shows one view at a time
                page.click(f"#tabs [data-tab={sec[4:]}]")
            page.locator(f"#{sec}").scroll_into_view_if_needed()
            page.evaluate("window.gatescope.idle()")
            # The corpus's saturation figure (a canvas) draws once it is shown: on a phone, on its own tab.
            page.wait_for_function("window.gatescope.corpusUnit && (document.getElementById('corpus-saturation-plot')"
                                   ".drawn || !document.getElementById('corpus-saturation-plot').offsetParent)")
            page.locator(f"#{sec}").screenshot(path=str(_artifact(f"corpus-{sec}-{w}x{h}")))
        # Nothing of the new views is wider than the screen (long snippets scroll in their box, with the
        # outlined token scrolled into view).
        wide = page.evaluate(f"""() => Array.from(document.querySelectorAll('#census *, #corpus-unit *, #patterns *'))
            .filter(e => !e.closest('.census-example, button.context, .coloured-text, .plot'))
            .filter(e => e.getBoundingClientRect().right > {w} + 1).map(e => e.outerHTML.slice(0, 80))""")
        assert wide == []
        hidden = page.evaluate(f"""() => Array.from(document.querySelectorAll('#corpus-unit .hl'))
            .filter(e => e.getBoundingClientRect().right > {w} || e.getBoundingClientRect().left < 0).length""")
        assert hidden == 0
    finally:
        context.close()
    assert errors == []


def _artifact(name: str):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
