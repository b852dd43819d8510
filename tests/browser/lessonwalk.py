"""Walking a guided lesson in Chromium: every step's timestep and unit recomputed from /api/trace, and every
number the lesson quotes checked against /api/trace, /api/step and /api/lessons fetched independently (used by
the lesson tests and by the Train panel's, which opens a lesson on a kept model)."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request

import numpy as np
import pytest

from tests.conftest import ROOT

STEPS = ["example", "cell", "forget", "input", "update", "output", "prediction"]
TARGETS = {"example": "#sec-input", "cell": "#sec-unit", "forget": "#step-forget", "input": "#step-input",
           "update": "#step-update", "output": "#step-output", "prediction": "#sec-predictions"}
CATALOG = {lang: json.loads((ROOT / "static" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
           for lang in ("en", "zh-CN")}


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


def walk(page, lesson: str, lang: str, model: str = "", opened: bool = False) -> int:
    """Open the lesson link (on `model` if given, as a kept model's link does; `opened`: the page is on it
    already), check every step, move on with Next; the number of quoted numbers checked."""
    base = page.base
    info = call(base, f"/api/lessons/{lesson}" + (f"?model={urllib.parse.quote(model)}" if model else ""))
    if not opened:
        page.open(f"?lesson={lesson}&lang={lang}" + (f"&model={urllib.parse.quote(model)}" if model else ""))
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
            page.shot(f"lesson-{lesson}{'-kept' if model else ''}-{lang}-{k}")
        if k < len(STEPS) - 1:
            page.page.click("#lesson-panel .lesson-next")
    page.page.wait_for_timeout(400)  # the URL is written a moment later
    assert f"lesson={lesson}" in page.page.url and "step=6" in page.page.url
    assert page.page.is_disabled("#lesson-panel .lesson-next")
    page.page.click("#lesson-panel .lesson-prev")
    page.page.wait_for_function("window.gatescope.state.step === 5")
    return checked
