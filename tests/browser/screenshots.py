"""Regenerate the README's screenshots of the explorer page: `python -m tests.browser.screenshots [MODEL_DIR]`.

Uses the shipped models in models/ when shakespeare-char is there, else the random test models (and says so).
Writes small PNGs to docs/screenshots/ (the page's first screen, then one view each, 1200 px wide).
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


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

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
                page.evaluate("window.gatescope.idle()")
                page.wait_for_timeout(800)  # the step view answers after the trace
                page.add_style_tag(content=".sticky { position: static !important; }")

            def shot(name: str, selector: str) -> None:
                page.locator(selector).screenshot(path=str(OUT / f"{name}.png"))

            open_(f"model={model}&text={quote(TEXT)}&t=20&unit=3&quantity=c")
            page.screenshot(path=str(OUT / "overview.png"))
            shot("bars", "#sec-bars")
            shot("step", "#sec-step")
            shot("unit", "#sec-unit")
            shot("predictions", "#sec-predictions")
            shot("saturation", "#sec-saturation")
            open_(f"model={model}&text={quote('I come from 我来自内蒙古.')}")
            shot("oov", "#sec-input")
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
