"""Regenerate the README's screenshots: `python -m tests.browser.screenshots [MODEL_DIR] [--only NAME,NAME]
[--lessons]` (--only: just those files, e.g. --only compare,clamp,history; --lessons: the lesson's only).

Uses the shipped models in models/ when shakespeare-char is there, else the random test models (and says so).
Writes small PNGs to docs/screenshots/ (the page's first screen, then one view each, 1200 px wide; the
comparison, the clamp and the training-history slider on the shipped counter model; then a 390x844 phone with
touch: its first screen, its heatmaps and saturation tabs, and a lesson step), and the guided lesson in English
and Chinese: lesson-<lang>.png (a 1280 x 800 laptop, the input gate step) and present-<lang>.png (presentation
mode on a 1920 x 1080 projector, the prediction step, saved at 0.6 scale), on hometown, the default lesson, once
models/hometown.safetensors is shipped, else on counter.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from app.testing import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server
from tests.browser.conftest import make_models
from tests.conftest import ROOT

OUT = ROOT / "docs" / "screenshots"
TEXT = "First Citizen:\nBefore we proceed any further, hear me speak."


def lesson_shots(browser, base: str, models: Path, lang: str) -> list[str]:
    """lesson-<lang>.png and present-<lang>.png (see the module docstring); the console errors seen."""
    lesson = "hometown" if (models / "hometown.safetensors").exists() else "counter"
    if not (models / f"{lesson}.safetensors").exists():
        return []
    errors: list[str] = []
    for name, size, scale, query in (("lesson", (1280, 800), 1, "step=3"),
                                     ("present", (1920, 1080), 0.6, "step=6&present=1")):
        page = browser.new_page(viewport={"width": size[0], "height": size[1]}, device_scale_factor=scale,
                                bypass_csp=True)  # wait_for_function evaluates strings, which the CSP forbids
        page.set_default_timeout(180_000)
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(f"{base}/?lesson={lesson}&{query}&lang={lang}")
        page.wait_for_function("() => document.querySelector('#lesson-panel .lesson-num')")
        page.wait_for_function("() => !document.querySelector('#lesson-panel .lesson-eqs .note')")
        page.evaluate("window.gatescope.idle()")
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / f"{name}-{lang}.png"))
        page.close()
    return errors


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    only = None
    if "--only" in argv:
        k = argv.index("--only")
        only, argv = set(argv[k + 1].split(",")), argv[:k] + argv[k + 2:]
    if "--lessons" in argv:  # the lesson screenshots only
        only, argv = {"lessons"}, [x for x in argv if x != "--lessons"]
    models = Path(argv[0]) if argv else ROOT / "models"
    if (models / "shakespeare-char.safetensors").exists():
        model, which = "shakespeare-char", f"shakespeare-char from {models}"
    else:
        models = Path(tempfile.mkdtemp(prefix="gatescope-shots-"))
        make_models(models)
        model, which = "english-char", "random test models (no models/shakespeare-char.safetensors)"
    OUT.mkdir(parents=True, exist_ok=True)
    base, proc = start_server(models)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 980}, bypass_csp=True)  # wait_for_function evals
            errors: list[str] = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))

            def open_(query: str) -> None:
                page.goto(f"{base}/?{query}")
                page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
                if "view=" in query:
                    page.wait_for_function("document.querySelector('#compare .compare-plot')?.data !== undefined")
                page.evaluate("window.gatescope.idle()")
                page.wait_for_timeout(800)  # the step view answers after the trace
                page.add_style_tag(content=".sticky { position: static !important; }")

            def shot(name: str, selector: str | None) -> None:
                (page.locator(selector) if selector else page).screenshot(path=str(OUT / f"{name}.png"))

            # name -> (page to open, what to photograph); each opened only when one of its shots is wanted
            plan = [(f"model={model}&text={quote(TEXT)}&t=20&unit=3&quantity=c",
                     [("overview", None), ("bars", "#sec-bars"), ("step", "#sec-step"), ("unit", "#sec-unit"),
                      ("predictions", "#sec-predictions"), ("saturation", "#sec-saturation")]),
                    (f"model={model}&text={quote('I come from 我来自内蒙古.')}", [("oov", "#sec-input")])]
            if (models / "counter.safetensors").exists():  # the comparison, on the model that counts
                plan += [("model=counter&view=texts&unit=1#text=aaaXbbb.&text2=aaaaaXbbbbb.",
                          [("compare", "#sec-compare")]),
                         ("model=counter&view=clamp&unit=1&t=4&iv=c.0.0.1%3D0%404#text=aaaaXbbbb.",
                          [("clamp", "#sec-compare")])]
            if (models / "history" / "counter" / "history.json").exists():
                plan += [("model=counter&view=models&unit=1&b=counter~step-000180#text=aaaaXbbbb.",
                          [("history", "#sec-compare")])]
            for query, shots in plan:
                shots = [(n, sel) for n, sel in shots if only is None or n in only]
                if shots:
                    open_(query)
                    for n, sel in shots:
                        shot(n, sel)
            phones = {"phone", "phone-heatmaps", "phone-saturation", "phone-lesson"}
            if only is None or phones & only:
                phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                            bypass_csp=True)  # wait_for_function evals
                page = phone.new_page()
                page.on("console", lambda m: m.type == "error" and errors.append(m.text))

                def phone_at(query: str, tab: str | None) -> None:
                    """Open `query`, choose `tab` with a tap, and put that view under the header."""
                    page.goto(f"{base}/?{query}")
                    page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
                    if tab:
                        page.tap(f"#tabs [data-tab={tab}]")
                        page.evaluate("t => window.scrollTo(0, document.getElementById(`sec-${t}`)"
                                      ".getBoundingClientRect().top + scrollY - 110)", tab)
                    page.evaluate("window.gatescope.idle()")
                    page.wait_for_timeout(800)

                # the first screen (the default model and example), the heatmaps and saturation tabs, the lesson
                phone_at("", None)
                page.screenshot(path=str(OUT / "phone.png"))
                phone_at("", "heatmaps")
                page.screenshot(path=str(OUT / "phone-heatmaps.png"))
                phone_at("", "saturation")
                page.screenshot(path=str(OUT / "phone-saturation.png"))
                if (models / "hometown.safetensors").exists():
                    phone_at("lesson=hometown&step=3", None)
                    page.wait_for_function("() => !document.querySelector('#lesson-panel .lesson-eqs .note')")
                    page.screenshot(path=str(OUT / "phone-lesson.png"))
            if only is None or "lessons" in only:
                for lang in ("en", "zh-CN"):
                    errors += lesson_shots(browser, base, models, lang)
            browser.close()
            if errors:
                print("console errors:", errors, file=sys.stderr)
                return 1
    finally:
        stop_server(proc)
    total = sum(f.stat().st_size for f in OUT.glob("*.png"))
    print(f"wrote {len(list(OUT.glob('*.png')))} screenshots of {which} to {OUT} ({total / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    if not CHROMIUM.exists():
        raise SystemExit("/usr/bin/chromium is not installed")
    raise SystemExit(main(sys.argv[1:]))
