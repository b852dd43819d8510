"""How soon the explorer page is usable and fully drawn after navigation, in headless Chromium.

Loads the page N times (p50 and p95 reported) in two ways: cold (a new browser context, nothing cached) and
warm (a reload in the same context: Plotly.js comes from the browser cache, as it is served immutable). Each
figure is taken by the page itself (an init script; nothing of Playwright's runs in the page while it loads: see
WATCH), in ms since navigation start, under the page's own Content-Security-Policy:
  first paint   first-contentful-paint (the header and the text box)
  text filled   the text box holds its text and takes typing (since issue 15 the server writes it into the shell,
                so this is the first paint; before, main.js filled it once the models had arrived)
  text box      main.js listens to the text box: typing is drawn from now on (its gs:textbox mark)
  first trace   the first trace is drawn in the views on screen (main.js sets window.gatescope.rendered)
  plotly ran    Plotly.js has run (window.Plotly set): its download, compile and execution end here; the updates
                that draw with it start after this (firstdraw.js). Since Plotly loads only for a figure that needs
                it, a load where no view did never runs it: counted apart ("never in k of n")
  every view    every view, on screen or not, has drawn it (window.gatescope.idle())
The anchor is the server alone: the /api/trace round trip of the same text, timed from Python in the same run.

    python bench/first_paint.py [--loads 10] [--size 1280x800] [--root OTHER_CHECKOUT ...]

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
# Run in the page before its own scripts: every mark is taken by the page itself, so that nothing of Playwright's runs
# on the page's main thread while it loads (its wait_for_function compiles a large injected script in the page, which
# cost about 40-70 ms of the page's main thread during a cold load, on the path to the first trace). The text box's
# text: each frame until it holds some (window.__filled); Plotly's arrival: when window.Plotly is set; the first
# trace: when main.js sets window.gatescope.rendered; every view: when window.gatescope.idle() then resolves.
WATCH = """(() => { const tick = () => { const t = document.getElementById('text');
  if (t && t.value) window.__filled = performance.now(); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const hook = (obj, name, seen) => { let v = obj[name]; Object.defineProperty(obj, name, { configurable: true,
    enumerable: true, get: () => v, set: (x) => { v = x; seen(x); } }); };
  hook(window, 'Plotly', () => { window.__plotly = window.__plotly || performance.now(); });
  hook(window, 'gatescope', (g) => g && hook(g, 'rendered', (r) => {
    if (!r || window.__first) return;
    window.__first = performance.now();
    g.idle().then(() => { window.__every = performance.now(); });
  })); })()"""
# Read through the DevTools protocol (Runtime.evaluate), which runs no script of Playwright's in the page.
READ = """JSON.stringify([performance.getEntriesByName('first-contentful-paint').map((e) => e.startTime)[0],
  window.__filled, (performance.getEntriesByName('gs:textbox')[0] || {}).startTime, window.__first,
  window.__plotly || null, window.__every])"""


def load(page, url: str, timeout: float = 120.0) -> dict[str, float]:
    """Open `url` in `page` (WATCH added as its init script) and return the page's marks, in ms since navigation."""
    cdp = page.context.new_cdp_session(page)
    page.goto(url)
    deadline = time.monotonic() + timeout
    while True:
        got = json.loads(cdp.send("Runtime.evaluate", {"expression": READ, "returnByValue": True})["result"]["value"])
        if got[-1] is not None:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page at {url} had not drawn every view after {timeout:g} s: {got}")
        time.sleep(0.025)
    cdp.detach()
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


def run(bases: list[str], loads: int, size: tuple[int, int] = (1280, 800)) -> list[dict[str, dict[str, list[float]]]]:
    """Each base's marks, cold and warm, over `loads` rounds; each round loads every base in turn, so that the
    machine's load (shared, changing) falls on all of them alike."""
    from playwright.sync_api import sync_playwright

    outs = [{"cold": {m: [] for m in MARKS}, "warm": {m: [] for m in MARKS}} for _ in bases]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        for k in range(loads + 1):  # the first load of each kind warms the server and is not counted
            for base, out in zip(bases, outs, strict=True):
                phone = size[0] < 600  # a phone: touch, and the page's one-view-at-a-time layout
                context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=phone,
                                              is_mobile=phone)  # and the page's own CSP
                page = context.new_page()
                page.add_init_script(WATCH)
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
    ap.add_argument("--size", default="1280x800", help="the window, WxH: 390x844 is a phone (touch), 1920x1080 a "
                    "projector")
    ap.add_argument("--root", type=Path, action="append", default=[],
                    help="another checkout to measure the same way, before this one (repeat for more)")
    args = ap.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit("/usr/bin/chromium is not installed")
    size = tuple(int(x) for x in args.size.split("x"))
    print(f"load average before: {os.getloadavg()}; {args.loads} loads of each kind, {args.size}, model {MODEL}")
    checkouts = [(f"other {k + 1}", root) for k, root in enumerate(args.root)] + [("this", ROOT)]
    servers = [start_server(ROOT / "models", root=root) for _, root in checkouts]
    try:
        apis = [api_ms(base, 10) for base, _ in servers]
        got = run([base for base, _ in servers], args.loads, size)
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
