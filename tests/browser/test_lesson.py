"""The guided lessons in Chromium on the shipped teaching models, in both languages: every step's timestep and
unit, recomputed here from /api/trace, and every number the lesson quotes, checked against /api/trace,
/api/step and /api/lessons fetched independently; navigation by the buttons and the URL."""
from __future__ import annotations

import json
import urllib.request

import numpy as np
import pytest

from tests.browser.conftest import MODELS, need_model
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
STEPS = ["example", "cell", "forget", "input", "update", "output", "prediction"]
TARGETS = {"example": "#sec-input", "cell": "#sec-unit", "forget": "#step-forget", "input": "#step-input",
           "update": "#step-update", "output": "#step-output", "prediction": "#sec-predictions"}
CATALOG = {lang: json.loads((ROOT / "static" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
           for lang in ("en", "zh-CN")}
SEED = "我来自内蒙古，我能讲一口流利的"


def call(base: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def place(text: str, trace: dict, triples: list[list[str]]) -> tuple[tuple[int, int], str] | None:
    """First and last token of the place (the text between an opening and the separator after it), and its language."""
    for lang, opening, separator in triples:
        start = text.find(opening)
        if start < 0:
            continue
        a = start + len(opening)
        b = text.find(separator, a)
        inside = [t for t, (x, y) in enumerate(trace["spans"]) if y > x and x >= a and y <= b] if b > a else []
        if inside and inside[-1] < trace["steps"] - 1:
            return (inside[0], inside[-1]), lang
    return None


def for_text(text: str, trace: dict, info: dict) -> dict:
    """The lesson on this text: with units ranked per language, those of the language of the place found."""
    found = place(text, trace, info["place"]) if info["write"] == "place" else None
    own = found and (info.get("by_language") or {}).get(found[1])
    return {**info, **own} if own else info


def focus(text: str, trace: dict, info: dict) -> dict[str, int]:
    """Each step's timestep, by the lesson's rules (lessonplan.js), from the exact float32 values."""
    u = info["unit"]
    q = {k: np.array(trace[k][0][0])[:, u] for k in "ifgoch"}  # layer 0, forward: (T,)
    end = trace["steps"] - 1
    found = place(text, trace, info["place"]) if info["write"] == "place" else None
    span = found[0] if found else None
    written = np.abs(q["i"] * q["g"])
    if info["write"] == "first":
        write = 0
    elif span:
        write = span[0] + int(np.argmax(written[span[0]: span[1] + 1]))
    else:
        write = int(np.argmax(written[: max(1, end)]))
    after = span[1] + 1 if span else write + 1
    low = end
    if after <= end - 1:
        low = after + int(np.argmin(q["f"][after:end]))
    return {"example": end, "cell": end, "forget": low, "input": write, "update": write, "output": end,
            "prediction": end}


def expected(n: dict, trace: dict, step: dict, info: dict) -> float:
    """What a quoted number must be, from the independently fetched answers."""
    src = n["src"]
    if src == "trace":
        return trace[n["q"]][0][0][int(n["t"])][int(n["unit"])]
    if src == "agg":
        col = np.array(trace[n["q"]][0][0])[:, int(n["unit"])]
        if n["agg"] == "mean-except":
            return float(np.delete(col, range(int(n["from"]), int(n["to"]) + 1)).mean())
        return float(getattr(np, n["agg"])(col[int(n["from"]): int(n["to"]) + 1]))
    if src == "step":
        head, _, tail = n["field"].partition(".")
        return step["terms"][head][tail] if tail else step[head]
    if src == "lesson":
        head, _, tail = n["field"].partition(".")
        return info[head][tail]["accuracy"] if tail else info[head]
    if src == "top":
        return trace["top_k"]["probs"][int(n["t"])][int(n["rank"])]
    assert src == "zero", n
    return 0.0


NUMBERS = """() => [...document.querySelectorAll('#lesson-panel .lesson-num')]
  .map((e) => ({ ...e.dataset, shown: e.textContent }))"""


def walk(page, lesson: str, lang: str) -> int:
    """Open the lesson link, check every step, move on with Next; the number of quoted numbers checked."""
    base = page.base
    info = call(base, f"/api/lessons/{lesson}")
    page.open(f"?lesson={lesson}&lang={lang}")
    cat = CATALOG[lang]
    checked = 0
    for k, name in enumerate(STEPS):
        count = cat["lesson.count"].format(n=k + 1, total=len(STEPS))
        page.page.wait_for_function("c => document.querySelector('#lesson-panel .lesson-count').textContent === c",
                                    arg=count)
        page.page.wait_for_function("() => !document.querySelector('#lesson-panel .lesson-eqs .note')")
        page.settle()
        state = page.page.evaluate("window.gatescope.state")
        assert state["text"] == info["text"] and state["model"] == info["model"]
        trace = call(base, "/api/trace", {"model": info["model"], "text": state["text"], "format": "json"})
        own = for_text(state["text"], trace, info)
        assert (state["unit"], state["t"], state["layer"]) == (own["unit"], focus(state["text"], trace, own)[name],
                                                               0), name
        step = call(base, "/api/step", {"model": info["model"], "text": state["text"], "layer": 0, "direction": 0,
                                        "t": state["t"], "unit": state["unit"]})
        numbers = page.page.evaluate(NUMBERS)
        assert numbers or name == "example", name
        for n in numbers:
            shown = float(n["shown"].replace("−", "-"))
            assert shown == pytest.approx(expected(n, trace, step, own), abs=1.5e-3), (lesson, name, n)
        checked += len(numbers)
        assert page.page.text_content("#lesson-panel .lesson-title") == cat[f"lesson.step.{name}.title"]
        assert page.page.evaluate("document.body.dataset.lessonStep") == name
        outline = page.page.evaluate(f"getComputedStyle(document.querySelector('{TARGETS[name]}')).outlineStyle")
        assert outline == "solid", (name, outline)
        if name in ("forget", "update", "prediction"):
            page.shot(f"lesson-{lesson}-{lang}-{k}")
        if k < len(STEPS) - 1:
            page.page.click("#lesson-panel .lesson-next")
    page.page.wait_for_timeout(400)  # the URL is written a moment later
    assert f"lesson={lesson}" in page.page.url and "step=6" in page.page.url
    assert page.page.is_disabled("#lesson-panel .lesson-next")
    page.page.click("#lesson-panel .lesson-prev")
    page.page.wait_for_function("window.gatescope.state.step === 5")
    return checked


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("lesson", ["counter", "brackets", "remember", "hometown"])
def test_every_step_of_the_lesson_quotes_the_traces_numbers(shipped_page, lesson, lang):
    need_model(lesson)
    assert walk(shipped_page, lesson, lang) >= 20


def test_a_lesson_link_opens_at_its_step_and_the_lesson_can_be_closed(shipped_page):
    page = shipped_page
    page.open("?lesson=counter&step=4")
    page.page.wait_for_function("document.body.dataset.lessonStep === 'update'")
    assert page.page.is_visible("#lesson-panel") and page.page.input_value("#lesson") == "counter"
    page.page.click("#lesson-panel .lesson-close")
    page.page.wait_for_function("!document.body.dataset.lessonStep")
    assert page.page.is_hidden("#lesson-panel") and page.page.input_value("#lesson") == ""
    page.page.select_option("#lesson", "remember")
    page.page.wait_for_function("window.gatescope.rendered.model === 'remember'")
    page.page.wait_for_function("document.body.dataset.lessonStep === 'example'")
    info = call(page.base, "/api/lessons/remember")
    assert page.page.input_value("#text") == info["text"]
    # Typing another sentence keeps the lesson, on the new sentence's numbers.
    page.type("Dabcabcabcabcabcabcabcabcddd?")
    page.page.click("#lesson-panel .lesson-next")
    page.page.wait_for_function("document.body.dataset.lessonStep === 'cell'")
    assert "“D”" in page.page.text_content("#lesson-panel .lesson-body")


# Two distractor clauses between the place and the blank, from the hometown task's pool; and Olah's English.
LONG = "我来自内蒙古，我每天骑自行车去上学，后来我考上了大学，我能讲一口流利的"
OLAH = "I grew up in France, I have a little cat, I speak fluent "
STORIES = [(SEED, "zh", "内蒙古", "蒙"), (LONG, "zh", "内蒙古", "蒙"), (OLAH, "en", "France", "F")]


@pytest.mark.parametrize(("text", "lang", "place", "first"), STORIES)
def test_the_default_lesson_tells_the_seed_sentences_story(text, lang, place, first):
    """On the shipped hometown, the first place unit its card names for the sentence's language: input gate open
    at the place, forget gate near 1 from there to the blank, output gate open at the blank, and the language's
    first character the likeliest there."""
    need_model("hometown")
    from lstm_core import load_model

    model = load_model(MODELS / "hometown.safetensors")
    found = model.meta["units"]
    unit = found.get("by_language", {}).get(lang, found)["place_units"][0]
    tt = model.trace_text(text)
    i, f, o = (getattr(tt.trace, q)[0, 0, :, unit] for q in "ifo")
    a, b, end = text.index(place), text.index(place) + len(place), len(text) - 1
    assert i[a:b].max() > 0.8 and i[a:b].mean() > np.delete(i, range(a, b)).mean(), (unit, i.round(2))
    assert f[b:end].min() > 0.8 and f[b:end].mean() > 0.95, (unit, f.round(3))
    assert o[end] > 0.5 and o[end] > o[:end].mean(), (unit, o.round(2))
    assert model.tokenizer.vocab[int(np.argmax(tt.probs[end]))] == first


def test_the_hometown_lesson_writes_at_the_place_whatever_comes_after(shipped_page):
    """The input step of the default lesson stands on the place, on the seed, with clauses typed in, and in
    English, where it watches the English place unit."""
    need_model("hometown")
    page = shipped_page
    info = call(page.base, "/api/lessons/hometown")
    page.open("?lesson=hometown&step=3")
    for text, lang, place, _ in STORIES:
        if text != SEED:
            page.type(text)
        page.page.wait_for_function("() => !document.querySelector('#lesson-panel .lesson-eqs .note')")
        state = page.page.evaluate("window.gatescope.state")
        assert state["unit"] == (info["by_language"] or {}).get(lang, info)["unit"]
        assert text[state["t"]] in place and f"“{place}”" in page.page.text_content("#lesson-panel .lesson-body")
        page.page.click("#lesson-panel .lesson-prev")  # the forget step: from the separator to the blank
        page.page.wait_for_function("document.body.dataset.lessonStep === 'forget'")
        page.page.wait_for_function("() => !document.querySelector('#lesson-panel .lesson-eqs .note')")
        nums = page.page.evaluate(NUMBERS)
        held = [n for n in nums if n.get("agg") in ("min", "max", "mean")]
        assert {int(n["from"]) for n in held} == {text.index(place) + len(place)}
        assert {int(n["to"]) for n in held} == {len(text) - 2}
        page.page.click("#lesson-panel .lesson-next")
        page.page.wait_for_function("document.body.dataset.lessonStep === 'input'")
        page.shot(f"lesson-hometown-{lang}-{len(text)}-input")


@pytest.mark.parametrize(("text", "first"), [(SEED, "蒙"), ("I grew up in France, I speak fluent ", "F")])
def test_the_seed_sentence_typed_on_hometown_predicts_its_language(shipped_page, text, first):
    """Typed key by key into the page, the top prediction at the blank is the language's first character."""
    need_model("hometown")
    shipped_page.open("?model=hometown&text=%E6%88%91")
    shipped_page.type(text)
    blank = shipped_page.page.locator(".pred-col.now .pred-cell b").first
    assert shipped_page.page.text_content(".pred-col.now .pred-tok") == text[-1].replace(" ", "␣")
    assert blank.text_content() == first
