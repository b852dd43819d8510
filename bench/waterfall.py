"""The request waterfall of one cold load of the explorer page, in headless Chromium (issue 15: what bounds it).

A fresh browser context (nothing cached) opens the page as bench/first_paint.py does; once every view is drawn,
the page's own Resource Timing entries give each request's start, its first byte and its end in ms since
navigation start, beside the page's marks (first paint, the text box listening, the first trace drawn):

    python bench/waterfall.py [--root OTHER_CHECKOUT] [--loads 3]

Each line: start (queued), request sent, response start, end, duration, the path, and a bar on a 25 ms grid.
With --loads n > 1, the load shown is the median one by `every view`; the others only print their marks.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.testing import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402
from bench.first_paint import MODEL, TEXT, WATCH, load  # noqa: E402

GRID_MS = 25
ENTRIES = """() => performance.getEntriesByType('resource').map((e) => ({ name: e.name, start: e.startTime,
  sent: e.requestStart, response: e.responseStart, end: e.responseEnd, kind: e.initiatorType }))"""


def cold(browser, url: str) -> tuple[dict[str, float], list[dict]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.add_init_script(WATCH)
    marks = load(page, url)
    entries = page.evaluate(ENTRIES)
    context.close()
    return marks, entries


def bar(start: float, end: float) -> str:
    a, b = int(start // GRID_MS), max(int(start // GRID_MS) + 1, int(end // GRID_MS))
    return " " * a + "#" * (b - a)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    ap.add_argument("--loads", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"load average before: {os.getloadavg()}; {args.root}")
    base, proc = start_server(ROOT / "models", root=args.root)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            url = f"{base}/?model={MODEL}&text={quote(TEXT)}"
            cold(browser, url)  # warms the server
            runs = [cold(browser, url) for _ in range(args.loads)]
            browser.close()
    finally:
        stop_server(proc)
    for marks, _ in runs:
        print("  ".join(f"{k} {v:.0f}" for k, v in marks.items() if v is not None))
    median = statistics.median_low([m["every view"] for m, _ in runs])
    marks, entries = next(r for r in runs if r[0]["every view"] == median)
    print(f"\nthe median load ({len(entries)} requests; ms since navigation start):")
    print(f"{'start':>6} {'sent':>6} {'first':>6} {'end':>6} {'took':>5}  path")
    for e in sorted(entries, key=lambda e: e["start"]):
        u = urlsplit(e["name"])
        path = (u.path + ("?" + u.query if u.query and not u.query.startswith("v=") else ""))[:48]
        print(f"{e['start']:6.0f} {e['sent']:6.0f} {e['response']:6.0f} {e['end']:6.0f} {e['end'] - e['start']:5.0f}  "
              f"{path:<48} {bar(e['start'], e['end'])}")
    for k, v in marks.items():
        if v is not None:
            print(f"{v:6.0f}  {k:<63} {bar(v, v + 1)}")
    print(f"\nload average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
