"""The page in Simplified Chinese and English, in Chromium: the switch, what the browser remembers, the URL,
Accept-Language, no English left on a Chinese page, the server's sentences in Chinese, and CJK glyphs that
really render with the fonts the machine has."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import new_context
from tests.conftest import ROOT

ZH = json.loads((ROOT / "static" / "i18n" / "zh-CN.json").read_text(encoding="utf-8"))
pytestmark = pytest.mark.browser

# Words allowed on a Chinese page: names of things, file formats, symbols, and the keys as printed on a keyboard
# (presentation mode's key line: PgDn, PgUp, Esc).
ALLOWED = {"gatescope", "LSTM", "PyTorch", "Keras", "ONNX", "JSON", "CDN", "safetensors", "pt", "keras", "h5", "onnx",
           "tanh", "UTF", "English", "npy", "csv", "NaN", "png", "PNG", "proj_size", "W_hr", "unk", "max",
           "CSV", "npz", "HTML", "SVG",  # the export bar's and the modebar's file formats
           "PgDn", "PgUp", "Esc",
           "LSTMVis", "AUC", "min_overlap", "def",  # a tool's name, a measure, an API field, a regex example
           "python", "app", "index", "shipped", "census", "MODEL", "CORPUS", "out", "var", "indexes"}  # commands
# Where the page shows the user's text, tokens or a model's own name, which are not the page's words.
USER_TEXT = ("textarea, .coloured-text, .pred-grid, .oov-text, #model, #model2, #lang, .file-name, "
             ".heat-tip, .snippet")  # .snippet: a corpus's text

# Every visible English word on the page: text nodes (HTML and Plotly's SVG) and the attributes people see.
ENGLISH = """(userText) => {
  const words = new Map();
  const note = (s, where) => { for (const w of s.match(/[A-Za-z][A-Za-z_]{2,}/g) || []) words.set(w, where); };
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(userText) || el.closest('[hidden]') || el.closest('script, style')) continue;
    note(n.textContent, el.className?.baseVal ?? el.className ?? el.tagName);
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [data-title]')) {
    if (el.closest(userText)) continue;
    for (const a of ['title', 'aria-label', 'placeholder', 'data-title']) {
      if (el.hasAttribute(a)) note(el.getAttribute(a), a);
    }
  }
  note(document.title, 'title');
  return Object.fromEntries(words);
}"""


def english_left(page) -> dict:
    """English words on the page, less the allowed ones and the model's own name and description (its file's)."""
    words = page.evaluate(ENGLISH, USER_TEXT)
    info = page.evaluate("window.gatescope.context().info")
    own = set(re.findall(r"[A-Za-z_]+", f"{info['name']} {info['description']} {info['id']}"))
    return {w: where for w, where in words.items() if w not in ALLOWED | own}


def test_the_switch_translates_the_whole_page_and_the_browser_remembers_it(gs):
    gs.open("?model=english-char&unit=1")
    gs.type("The cat (sat) 内.")  # an unknown character: the notice speaks too
    assert gs.page.evaluate("document.documentElement.lang") == "en"
    assert english_left(gs.page), "the check finds English on the English page"
    gs.page.select_option("#lang", "zh-CN")
    gs.page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    gs.page.wait_for_function("document.getElementById('step-cards').childElementCount > 0")
    gs.settle()
    gs.page.wait_for_timeout(400)  # the URL is written a moment later
    assert english_left(gs.page) == {}
    assert gs.page.locator("[data-title^='Share']").count() == 0  # no upload-to-Plotly-Cloud button
    assert gs.page.text_content("#sec-heatmaps h2") == ZH["heatmaps.title"]
    assert gs.page.text_content("#play") == ZH["timeline.play"]
    assert gs.page.text_content("#step-forget h4") == ZH["step.card.forget"]
    assert gs.page.get_attribute("#text", "placeholder") == ZH["input.placeholder"]
    assert "lang=zh-CN" in gs.page.url
    assert gs.page.evaluate("localStorage.getItem('gatescope.lang')") == "zh-CN"
    gs.shot("i18n-zh-switched")
    # A new visit without ?lang= keeps the reader's choice; ?lang=en overrides it for that link.
    gs.open("?model=english-char")
    assert gs.page.evaluate("document.documentElement.lang") == "zh-CN"
    assert gs.page.text_content("#sec-bars h2") == ZH["bars.title"]
    gs.open("?model=english-char&lang=en")
    assert gs.page.evaluate("document.documentElement.lang") == "en"
    assert gs.page.text_content("#sec-bars h2") == "The gates at this step"


def test_the_default_follows_accept_language(browser, server):
    context = new_context(browser, locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{server}/?model=english-char")
    page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.input_value("#lang") == "zh-CN"
    assert page.text_content("#status").endswith("个神经元")
    assert "lang=" not in page.url  # not chosen, so links do not force it on others
    context.close()


def test_the_servers_sentences_reach_the_chinese_page_in_chinese(gs):
    gs.open("?model=english-char&lang=zh-CN")
    gs.type("fine")
    gs.page.fill("#text", "a" * 2001)
    gs.page.wait_for_function("document.getElementById('status').classList.contains('error')")
    assert gs.page.text_content("#status") == ZH["error.too_long_tokens"].format(tokens="2,001", max="2,000")
    gs.page.fill("#text", "")
    gs.page.wait_for_function(f"document.getElementById('status').textContent === {json.dumps(ZH['error.empty_text'])}")
    gs.errors[:] = [e for e in gs.errors if "status of 413" not in e]


CANVAS = """(chars) => {
  const font = getComputedStyle(document.body).fontFamily;
  return chars.map((ch) => {
    const c = document.createElement('canvas');
    c.width = 48; c.height = 48;
    const g = c.getContext('2d');
    g.font = `40px ${font}`;
    g.fillText(ch, 2, 40);
    const d = g.getImageData(0, 0, 48, 48).data;
    let ink = 0;
    for (let k = 3; k < d.length; k += 4) ink += d[k] > 128;
    return { ink, hash: c.toDataURL() };
  });
}"""


def test_chinese_characters_render_as_glyphs_not_boxes(gs):
    """A missing CJK font draws every character as the same empty box; real glyphs differ from each other."""
    gs.open("?model=english-char&lang=zh-CN")
    drawn = gs.page.evaluate(CANVAS, list("记忆单元门蒙"))
    assert all(d["ink"] > 40 for d in drawn)
    assert len({d["hash"] for d in drawn}) == len(drawn)
    assert gs.page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')")
    heading = gs.page.locator("#sec-step h2")
    assert re.fullmatch(r"[\u4e00-\u9fff]+", heading.text_content())
    assert heading.bounding_box()["width"] > 16 * len(heading.text_content())
