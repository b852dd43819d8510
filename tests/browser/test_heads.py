"""The "what the model outputs" view in Chromium: next tokens for a language model, labels per position for a
tagger, bars for a classifier, a sentence for an LSTM with no head; nothing of one model left on screen when
another is chosen (checked on computed style and boxes, not the attribute); texts wrapped in <s> ... </s>."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lstm_core import LSTMConfig, Model, Tokenizer, save_model
from tests.browser.conftest import new_context, open_page, serve_models, strong

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARABIC = "كتب الطالب الدرس في المدرسة"
LETTERS = tuple(sorted(set(ARABIC) - {" "}))
MARKS = ("", "\u064e", "\u064b", "\u064f", "\u064c", "\u0650", "\u064d", "\u0652", "\u0651",
         "\u0651\u064e", "\u0651\u064b", "\u0651\u064f", "\u0651\u064c", "\u0651\u0650", "\u0651\u064d")
CLASSES = ("negative", "neutral", "positive", "<i>mixed</i>")  # a class name that looks like HTML is data
ENGLISH = tuple("abcdefghijklmnopqrstuvwxyz .,")

# Which parts of the view each kind of model shows; everything else must be gone from the screen.
PARTS = {"grid": "#pred-grid", "surprisal": "#surprisal-plot", "bars": "#classes-plot"}
SHOWN = {"lm": {"grid", "surprisal"}, "diacritizer": {"grid"}, "sentiment": {"bars"}, "vectors": set()}


def make_head_models(d: Path) -> None:
    """A language model with <s> and </s>, a diacritizer (a tagger of 15 marks), a classifier, a bare LSTM."""
    rng = np.random.default_rng(9)

    def lin(k: int, width: int):
        return rng.normal(0, 2.5, (k, width)).astype(np.float32), rng.normal(0, 0.5, k).astype(np.float32)

    lm_tok = Tokenizer("char", ("<s>", "</s>", "<unk>", *ENGLISH), "<unk>", bos="<s>", eos="</s>")
    V = len(lm_tok)
    save_model(Model(strong(LSTMConfig(V, 12, 1), seed=1), "onehot", lm_tok, None, *lin(V, 12),
                     {"name": "LM with <s> and </s>"}), d / "lm.safetensors")
    ar = Tokenizer("char", ("<PAD>", "<UNK>", " ", *LETTERS), "<UNK>", pad="<PAD>")
    emb = rng.normal(size=(len(ar), 6)).astype(np.float32)
    save_model(Model(strong(LSTMConfig(6, 8, 2, bidirectional=True), seed=2), "embedding", ar, emb, *lin(15, 16),
                     {"name": "Diacritizer"}, head_kind="tagger", labels=MARKS), d / "diacritizer.safetensors")
    save_model(Model(strong(LSTMConfig(V, 10, 1), seed=3), "onehot", lm_tok, None, *lin(4, 10), {"name": "Sentiment"},
                     head_kind="classifier", labels=CLASSES), d / "sentiment.safetensors")
    save_model(Model(strong(LSTMConfig(3, 5, 1), seed=4), "vector", meta={"name": "Vectors, no head"}),
               d / "vectors.safetensors")


@pytest.fixture(scope="module")
def heads_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server with the four models above."""
    yield from serve_models(tmp_path_factory, "head-models", make_head_models)


@pytest.fixture()
def hp(browser, heads_server) -> Iterator:
    yield from open_page(browser, heads_server)


SHOWN_JS = """sel => {
  const e = document.querySelector(sel);
  if (!e) return false;
  const r = e.getBoundingClientRect();
  let display = true;
  for (let n = e; n; n = n.parentElement) if (getComputedStyle(n).display === 'none') display = false;
  return display && r.width > 0 && r.height > 0;
}"""


def shown(hp, selector: str) -> bool:
    """Really on the page: no display:none on it or above it, and a box with an area."""
    return hp.page.evaluate(SHOWN_JS, selector)


def choose(hp, model: str) -> None:
    hp.page.select_option("#model", model)
    hp.page.wait_for_function("m => window.gatescope.rendered && window.gatescope.rendered.model === m", arg=model)
    hp.settle()
    hp.page.locator("#sec-predictions").scroll_into_view_if_needed()
    hp.settle()


def test_each_head_shows_its_outputs_and_nothing_stale_stays(hp):
    hp.open("?model=lm&text=the+cat")
    for model in ("lm", "diacritizer", "sentiment", "vectors", "lm", "sentiment", "diacritizer", "vectors",
                  "diacritizer", "lm"):
        choose(hp, model)
        if model == "diacritizer":
            hp.type(ARABIC[:9])
        for part, selector in PARTS.items():
            assert shown(hp, selector) == (part in SHOWN[model]), (model, part)
        # The grid's own flex display must not bring a hidden grid back (the [hidden] rule).
        if "grid" not in SHOWN[model]:
            assert hp.page.evaluate("getComputedStyle(document.getElementById('pred-grid')).display") == "none"
        assert shown(hp, "#wrap-box") == (model in ("lm", "sentiment")), model
        note = hp.page.text_content("#predictions .note")
        expected = {"lm": "next-token", "diacritizer": "tagger", "sentiment": "whole text",
                    "vectors": "no output layer"}[model]
        assert expected in note, (model, note)
    assert hp.errors == []


def test_a_tagger_shows_its_top_labels_at_each_position(hp):
    hp.open("?model=diacritizer")
    hp.type(ARABIC[:11])
    hp.page.locator("#sec-predictions").scroll_into_view_if_needed()
    hp.settle()
    api = hp.api("/api/trace", {"model": "diacritizer", "text": ARABIC[:11]})
    assert api["head"] == "tagger"
    cols = hp.page.eval_on_selector_all(
        "#pred-grid .pred-col", "cs => cs.map(c => [Number(c.dataset.t), c.querySelector('.pred-tok').textContent,"
        " [...c.querySelectorAll('.pred-cell b')].map(b => b.textContent)])")
    assert len(cols) >= 5
    for t, token, labels in cols:
        assert token == api["tokens"][t].replace(" ", "␣")
        want = ["∅" if s == "" else "◌" + s for s in api["top_k"]["tokens"][t]]  # marks drawn on a dotted circle
        assert labels == want, t
    assert hp.page.locator("#pred-grid .pred-cell.hit").count() == 0  # no "what came next" for a tagger
    hp.shot("tagger-labels", "#sec-predictions")


def test_a_classifier_shows_one_bar_per_class(hp):
    hp.open("?model=sentiment")
    hp.type("what a lovely day.")
    hp.page.locator("#sec-predictions").scroll_into_view_if_needed()
    hp.settle()
    api = hp.api("/api/trace", {"model": "sentiment", "text": "what a lovely day."})
    assert api["head"] == "classifier" and api["classes"]["labels"] == list(CLASSES)
    drawn = hp.page.evaluate("(() => { const gd = document.getElementById('classes-plot');"
                             " return {x: gd.data[0].x, ticks: gd.layout.yaxis.ticktext}; })()")
    np.testing.assert_allclose(drawn["x"], api["classes"]["probs"], rtol=0, atol=1e-12)
    assert drawn["ticks"] == ["negative", "neutral", "positive", "&lt;i&gt;mixed&lt;/i&gt;"]  # escaped for Plotly
    assert hp.page.locator("#classes-plot i").count() == 0
    shown_text = hp.page.eval_on_selector_all("#classes-plot .ytick text", "ts => ts.map(t => t.textContent)")
    assert "<i>mixed</i>" in shown_text  # Plotly shows the name as written, not as markup
    hp.shot("classifier-bars", "#sec-predictions")


@pytest.mark.parametrize("size", [(1280, 800), (390, 844), (1920, 1080)])
def test_outputs_view_at_each_screen_size(browser, heads_server, size):
    context = new_context(browser, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    from tests.browser.conftest import Page

    gs = Page(page, heads_server)
    gs.open("?model=sentiment&text=a+fine+day&tab=predictions")  # a phone shows that one view; others all
    for model in ("sentiment", "diacritizer"):
        if model != "sentiment":
            choose(gs, model)
            gs.type(ARABIC[:14])
        gs.page.locator("#sec-predictions").scroll_into_view_if_needed()
        gs.settle()
        box = gs.page.locator("#sec-predictions").bounding_box()
        assert box["width"] <= size[0]  # nothing wider than the screen
        gs.shot(f"outputs-{model}-{size[0]}x{size[1]}", "#sec-predictions")
    context.close()
    assert errors == []


def test_wrap_puts_the_begin_and_end_tokens_on_the_page(hp):
    hp.open("?model=lm&text=abc")
    hp.wait_drawn("abc")
    assert shown(hp, "#wrap-box") and hp.page.text_content("#wrap-tokens") == "<s> … </s>"
    assert hp.page.evaluate("window.gatescope.context().trace.tokens") == ["a", "b", "c"]
    hp.page.check("#wrap")
    hp.page.wait_for_function("window.gatescope.context().trace.tokens.length === 5")
    hp.settle()
    ctx = hp.page.evaluate("(() => { const c = window.gatescope.context();"
                           " return {tokens: c.trace.tokens, T: c.T}; })()")
    assert ctx == {"tokens": ["<s>", "a", "b", "c", "</s>"], "T": 5}
    api = hp.api("/api/trace", {"model": "lm", "text": "abc", "wrap": True})
    assert api["tokens"] == ctx["tokens"]
    # The wrapped tokens are tokens of every view: the heatmap strip, the grid, the step view at t = 0.
    strip = hp.page.evaluate("document.getElementById('heatmaps-plot').drawn.labels.map((l) => l.text)")
    assert strip[0] == "<s>" and strip[-1] == "</s>"
    heads = hp.page.eval_on_selector_all("#pred-grid .pred-tok", "ps => ps.map(p => p.textContent)")
    assert heads[0] == "<s>" and heads[-1] == "</s>"
    hp.page.locator("#sec-bars h2").click()
    hp.page.keyboard.press("Home")
    hp.page.wait_for_function("window.gatescope.state.t === 0")
    hp.page.wait_for_function("document.getElementById('step-heading').textContent.includes('<s>')")
    hp.page.wait_for_function("new URLSearchParams(location.search).get('wrap') === '1'")
    assert hp.page.locator("main s").count() == 0  # <s> is text, never an element
    hp.shot("wrapped", "#sec-predictions")
    # A link with wrap=1 restores it; a model without begin/end tokens hides the box and sends no wrap.
    hp.open("?model=lm&text=abc&wrap=1")
    hp.wait_drawn("abc")
    assert hp.page.is_checked("#wrap")
    assert hp.page.evaluate("window.gatescope.context().trace.tokens")[0] == "<s>"
    choose(hp, "diacritizer")
    assert not shown(hp, "#wrap-box")
    assert hp.page.evaluate("window.gatescope.context().trace.tokens")[0] != "<PAD>"


def test_the_outputs_view_speaks_chinese(hp):
    from tests.browser.test_i18n import ALLOWED, ENGLISH, USER_TEXT, ZH

    for model, text in (("sentiment", "a fine day"), ("diacritizer", ARABIC[:6]), ("lm", "abc"), ("vectors", None)):
        hp.open(f"?model={model}&lang=zh-CN" + (f"&text={text}" if text else ""))
        hp.page.locator("#sec-predictions").scroll_into_view_if_needed()
        hp.settle()
        assert hp.page.text_content("#sec-predictions h2") == ZH["predictions.title"]
        # Class names and the begin/end tokens are the model's own words, like its tokens.
        words = hp.page.evaluate(ENGLISH, f"{USER_TEXT}, #classes-plot .ytick, #wrap-tokens")
        name = hp.page.evaluate("window.gatescope.context().info.name")
        # The model's name and its id (the corpus section's index command names the file) are its own words.
        assert set(words) - ALLOWED <= set(name.split()) | {model}, (model, set(words) - ALLOWED)
    hp.shot("outputs-zh", "#sec-predictions")
