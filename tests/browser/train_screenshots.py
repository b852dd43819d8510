"""The README's screenshot sequence of training in the page, and the time it takes:
`python -m tests.browser.train_screenshots [--crowd 7]`.

Starts a server on a copy of the shipped counter with a private jobs directory, opens the page (1280 x 800),
chooses the counter task and presses Start; with --crowd N, N other counting jobs start through the API at
the same moment, each as its own client (a classroom). Writes docs/screenshots/train-1-start.png (the form),
-2-early.png (the first snapshots), -3-learned.png (the run at 100%), -4-replay.png (the slider back at an early
snapshot), -5-explorer.png (the kept model in the explorer), then the panel at a phone's width
(train-phone.png) and in Chinese on a projector (train-projector.png). Prints the seconds from the click on
Start to the page saying "done", and `uptime`.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from app.testing import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server
from tests.conftest import ROOT

OUT = ROOT / "docs" / "screenshots"
WAIT_MS = 900_000
LABEL_STEP = "Number((document.getElementById('train-slider-label').textContent.match(/(\\d+)/) || [0, 0])[1])"


def crowd(base: str, n: int) -> list[str]:
    ids = []
    for k in range(n):
        with httpx.Client(base_url=base, timeout=60) as c:
            r = c.post("/api/train", json={"task": "counting", "seed": 100 + k})
            ids.append(r.json()["id"])
    return ids


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crowd", type=int, default=0, help="other counting jobs started with the page's")
    args = ap.parse_args()
    var = Path(tempfile.mkdtemp(prefix="gatescope-train-shots-"))
    # A private model directory with a copy of the shipped counter: Keep writes the kept model there, not into
    # the repository's models/.
    (var / "models").mkdir()
    for f in ("counter.safetensors", "counter.md"):
        shutil.copy(ROOT / "models" / f, var / "models" / f)
    base, proc = start_server(var / "models", env={"GATESCOPE_VAR_DIR": str(var),
                                                    "GATESCOPE_TRAIN_JOBS": str(max(8, args.crowd + 1))})
    OUT.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)  # wait_for_function evals
            page.set_default_timeout(WAIT_MS)
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(f"{base}/?model=counter&text=aaaaXbbbb.")
            page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
            page.add_style_tag(content=".sticky { position: static !important; }")
            page.wait_for_function("document.getElementById('train-task').options.length > 0")
            section = page.locator("#sec-train")
            section.scroll_into_view_if_needed()
            page.screenshot(path=str(OUT / "train-1-start.png"))
            others = crowd(base, args.crowd) if args.crowd else []
            t0 = time.monotonic()
            page.click("#train-start")
            page.wait_for_function(f"{LABEL_STEP} >= 40")
            page.locator(".train-board").scroll_into_view_if_needed()
            page.screenshot(path=str(OUT / "train-2-early.png"))
            page.wait_for_function("document.getElementById('train-status').textContent.startsWith('done')")
            seconds = time.monotonic() - t0
            print(f"counter trained in the page: {seconds:.1f} s from Start to done", flush=True)
            page.wait_for_timeout(500)
            page.locator(".train-board").scroll_into_view_if_needed()
            page.screenshot(path=str(OUT / "train-3-learned.png"))
            page.locator("#train-slider").fill("2")
            page.wait_for_function(f"{LABEL_STEP} === 60")
            page.screenshot(path=str(OUT / "train-4-replay.png"))
            page.fill("#train-name", "My counter")
            page.click("#train-keep")
            page.click("#train-open")
            page.wait_for_function("window.gatescope && window.gatescope.rendered !== null")
            page.evaluate("window.gatescope.idle()")
            page.screenshot(path=str(OUT / "train-5-explorer.png"))
            for name, size, lang in (("phone", (390, 844), "en"), ("projector", (1920, 1080), "zh-CN")):
                page.set_viewport_size({"width": size[0], "height": size[1]})
                page.goto(f"{base}/?model=counter&lang={lang}")  # the tab's job is followed again from its log
                page.wait_for_function("(document.getElementById('train-status') || {}).textContent > ''")
                page.wait_for_timeout(1500)
                page.add_style_tag(content=".sticky { position: static !important; }")
                page.locator(".train-board").scroll_into_view_if_needed()
                page.screenshot(path=str(OUT / f"train-{name}.png"))
            browser.close()
        with httpx.Client(base_url=base, timeout=60) as c:
            ends = [c.get(f"/api/train/{j}").json() for j in others]
        walls = ", ".join(f"{e['elapsed']:.0f} s {e['state']}" for e in ends)
        print(f"  with {args.crowd} other jobs started at the same moment (their wall times: {walls})"
              if others else "  alone")
    finally:
        stop_server(proc)
        shutil.rmtree(var, ignore_errors=True)
        print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    if errors:
        print("console errors:", errors)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
