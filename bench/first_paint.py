"""How soon the explorer page is usable and fully drawn after navigation, in headless Chromium.

Loads the page N times (p50 and p95 reported) in two ways: cold (a new browser context, nothing cached) and
warm (a reload in the same context: Plotly.js comes from the browser cache, as it is served immutable). Each
figure is read in the page itself, in ms since navigation start:
  first paint   first-contentful-paint (the header and the text box)
  text filled   the text box holds its text and takes typing (since issue 15 the server writes it into the shell,
                so this is the first paint; before, main.js filled it once the models had arrived)
  text box      main.js listens to the text box: typing is drawn from now on (its gs:textbox mark; a checkout from
                before the mark: when the box got its text, which main.js did in the same step)
  first trace   the first trace is drawn in the views on screen (window.gatescope.rendered)
  plotly ran    Plotly.js has run (window.Plotly set): its download, compile and execution end here; the updates
                that draw with it start after this (firstdraw.js). Since Plotly loads only for a figure that needs
                it, a load where no view did never runs it: counted apart ("never in k of n")
  every view    every view, on screen or not, has drawn it (window.gatescope.idle())
The anchor is the server alone: the /api/trace round trip of the same text, timed from Python in the same run.

    python bench/first_paint.py [--loads 10] [--root OTHER_CHECKOUT ...]

--root serves another checkout of gatescope (for example `git worktree add --detach /tmp/gs-main main`) with the
same models and URL, so a change can be measured against what it replaces in one run: each round loads both, one
after the other, so a change in the machine's load falls on both.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.testing import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak."
MODEL = "shakespeare-char"
MARKS = ("first paint", "text filled", "text box", "first trace", "plotly ran", "every view")
# From the document's start, each frame until the text box holds text: when it first does (window.__filled).
FILLED = """(() => { const tick = () => { const t = document.getElementById('text');
  if (t && t.value) window.__filled = performance.now(); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  let plotly; Object.defineProperty(window, 'Plotly', { configurable: true, get: () => plotly,
    set: (v) => { window.__plotly = performance.now(); plotly = v; } }); })()"""


def load(page, url: str) -> dict[str, float]:
    page.goto(url)
    filled = page.wait_for_function("window.__filled", timeout=120000)
    text = page.wait_for_function("(() => { const t = document.getElementById('text'); const m = "
                                  "performance.getEntriesByName('gs:textbox')[0]; "
                                  "return t && t.value.length > 0 && (m ? m.startTime : performance.now()); })()",
                                  timeout=120000)
    first = page.wait_for_function("window.gatescope && window.gatescope.rendered && performance.now()",
                                   timeout=120000)
    every = page.evaluate("async () => { await window.gatescope.idle(); return performance.now(); }")
    plotly = page.evaluate("window.__plotly || null")  # a checkout from before on-demand loading: it always ran
    paint = page.evaluate("performance.getEntriesByName('first-contentful-paint').map(e => e.startTime)[0]")
    got = (paint, filled.json_value(), text.json_value(), first.json_value(), plotly, every)
    return dict(zip(MARKS, got, strict=True))


def api_ms(base: str, n: int) -> list[float]:
    body = json.dumps({"model": MODEL, "text": TEXT, "top_k": 5, "format": "compact"}).encode()
    out = []
    for _ in range(n):
        req = urllib.request.Request(base + "/api/trace", body, {"Content-Type": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(bases: list[str], loads: int) -> list[dict[str, dict[str, list[float]]]]:
    """Each base's marks, cold and warm, over `loads` rounds; each round loads every base in turn, so that the
    machine's load (shared, changing) falls on all of them alike."""
    from playwright.sync_api import sync_playwright

    outs = [{"cold": {m: [] for m in MARKS}, "warm": {m: [] for m in MARKS}} for _ in bases]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        for k in range(loads + 1):  # the first load of each kind warms the server and is not counted
            for base, out in zip(bases, outs, strict=True):
                # bypass_csp: wait_for_function evaluates strings, which the page's CSP forbids
                context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
                page = context.new_page()
                page.add_init_script(FILLED)
                url = f"{base}/?model={MODEL}&text={quote(TEXT)}"
                cold = load(page, url)
                warm = load(page, url)
                context.close()
                if k:
                    for kind, got in (("cold", cold), ("warm", warm)):
                        for m in MARKS:
                            out[kind][m].append(got[m])
        browser.close()
    return outs


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def mark(name: str, xs: list[float | None], api: float) -> str:
    """One mark's p50 and p95 over the loads where it happened, as ms and as a multiple of the anchor."""
    seen = [x for x in xs if x is not None]
    if not seen:
        return f"{name} never"
    never = f", never in {len(xs) - len(seen)} of {len(xs)}" if len(seen) < len(xs) else ""
    return f"{name} p50 {pct(seen, 0.5):5.0f} ms (p95 {pct(seen, 0.95):5.0f}, {pct(seen, 0.5) / api:.1f}x api{never})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loads", type=int, default=10)
    ap.add_argument("--root", type=Path, action="append", default=[],
                    help="another checkout to measure the same way, before this one (repeat for more)")
    args = ap.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit("/usr/bin/chromium is not installed")
    print(f"load average before: {os.getloadavg()}; {args.loads} loads of each kind, 1280x800, model {MODEL}")
    checkouts = [(f"other {k + 1}", root) for k, root in enumerate(args.root)] + [("this", ROOT)]
    servers = [start_server(ROOT / "models", root=root) for _, root in checkouts]
    try:
        apis = [api_ms(base, 10) for base, _ in servers]
        got = run([base for base, _ in servers], args.loads)
    finally:
        for _, proc in servers:
            stop_server(proc)
    for (label, root), api, marks_of in zip(checkouts, apis, got, strict=True):
        print(f"\n{label} checkout ({root}); /api/trace round trip p50 {statistics.median(api):.0f} ms (the anchor)")
        for kind, marks in marks_of.items():
            print(f"  {kind}: " + "   ".join(mark(m, xs, statistics.median(api)) for m, xs in marks.items()))
    print(f"\nload average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
