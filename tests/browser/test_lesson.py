"""The guided lessons in Chromium on the shipped teaching models, in both languages: every step's timestep and
unit, recomputed here from /api/trace, and every number the lesson quotes, checked against /api/trace,
/api/step and /api/lessons fetched independently; navigation by the buttons and the URL."""
from __future__ import annotations

import numpy as np
import pytest

from tests.browser.conftest import MODELS, need_model
from tests.browser.lessonwalk import NUMBERS, call, walk

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SEED = "我来自内蒙古，我能讲一口流利的"


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
