"""The README's screenshots of the corpus views: `python -m tests.browser.corpus_screenshots`.

Needs python-char and its index (`python -m app index --shipped --census`). Goes the way a researcher
does: from the census to the inside-a-string unit, then a pattern search from a span of typed code, and
prints how long the census-to-unit step took in the page. Writes docs/screenshots/corpus-*.png (1200 px wide).
"""
from __future__ import annotations

import sys
import time
from urllib.parse import quote

from app.testing import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server
from tests.browser.screenshots import OUT
from tests.conftest import ROOT

MODEL = "python-char"
TEXT = 'def greet(name):\n    return "hello " + name\n'


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not (ROOT / "var" / "indexes" / MODEL / "zarr.json").is_file():
        raise SystemExit(f"no index of {MODEL}: run python -m app index --shipped --census first")
    OUT.mkdir(parents=True, exist_ok=True)
    base, proc = start_server(ROOT / "models")
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 980}, bypass_csp=True)  # wait_for_function evals
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(f"{base}/?model={MODEL}&text={quote(TEXT)}&layer=1")
            page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
            page.add_style_tag(content=".sticky { position: static !important; }")
            page.locator("#census").scroll_into_view_if_needed()
            chip = page.locator("#census .census-row[data-feature='double_quotes'] .unit-chip").first
            chip.wait_for()
            t0 = time.perf_counter()
            chip.click()
            unit = int(chip.get_attribute("data-unit"))
            page.wait_for_function("u => window.gatescope.corpusUnit && window.gatescope.corpusUnit.ref.unit === u",
                                   arg=unit)
            print(f"census chip {chip.text_content()} -> its contexts on screen in {time.perf_counter() - t0:.2f} s")
            page.evaluate("window.gatescope.idle()")
            # The unit first: a shot of the whole (taller than the screen) section resizes the window, and
            # Plotly redraws the histogram after it.
            page.locator("#corpus-unit").screenshot(path=str(OUT / "corpus-unit.png"))
            page.locator("#census .census-row").first.screenshot(path=str(OUT / "corpus-census.png"))
            page.locator("#patterns").scroll_into_view_if_needed()
            start = TEXT.index('"hello')
            page.fill("#pattern-start", str(start + 1))
            page.fill("#pattern-end", str(start + 3))
            page.select_option("#pattern-quantity", "c")
            page.select_option("#pattern-threshold", "0.3")
            page.click("#patterns button[type=submit]")
            page.wait_for_function("document.querySelectorAll('#patterns .matches li').length"
                                   " || /[.。]$/.test(document.querySelector('#patterns p[role=status]').textContent)")
            page.locator("#sec-patterns").screenshot(path=str(OUT / "corpus-patterns.png"))
            page.locator("#sec-saturation").scroll_into_view_if_needed()
            page.evaluate("window.gatescope.idle()")
            page.wait_for_function("document.getElementById('corpus-saturation-plot').drawn")
            page.locator("#sec-saturation").screenshot(path=str(OUT / "corpus-saturation.png"))
            browser.close()
    finally:
        stop_server(proc)
    if errors:
        print("console errors:", errors, file=sys.stderr)
        return 1
    print(f"wrote {OUT}/corpus-*.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
