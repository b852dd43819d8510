"""Keystroke-to-repaint latency of the explorer page in headless Chromium (issue 17's typing goals).

Serves the page by a real `python -m app serve` and types into it, in three modes, or opens it (a fourth):
  typing   one key every 80 ms into a 200-character text, without a pause (goals: visible repaint p50 <= 60 ms,
           p95 <= 150 ms; views below the fold at most 1 s stale)
  paste    a 2,000-token text pasted at once (goal: every view drawn in <= 1.5 s), then typing at its end
           every 80 ms (goal: visible repaint p50 <= 100 ms)
  pauses   the earlier mode: one key every 120 ms, for comparison with older figures
  start    issue 15's goals: 10 cold and 10 warm loads of the page (bench/first_paint.py, which prints every mark),
           first paint and the first full render p50 (goals: the text box usable in 500 ms, every view drawn in
           1.5 s)
Figures, read in the page:
  repaint     input event -> every view on screen has drawn a text with that keystroke (main.js gs:repaint)
  api         the /api/trace round trip alone (gs:api);  draw: answer in hand -> views on screen drawn (gs:draw)
  stale       for each keystroke and each view below the fold: input event -> that view has drawn a text with
              that keystroke (scheduler.js marks gs:drawn; a checkout without those marks shows n/a)
  step        the /api/step round trip plus drawing the step view (after the repaint, not part of either)
  repaint-all input event -> every view settled at once (main.js gs:repaint-all): only at a pause in typing
`--root OTHER_CHECKOUT` measures another checkout the same way first (e.g. `git worktree add /tmp/gs-main main`),
with the same models, so a change is compared with what it replaces in one run. Uses models/shakespeare-char.

    python bench/ui_latency.py [--modes typing,paste,pauses,start] [--root OTHER] [--rounds 1] [--loads 10]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.testing import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

MODEL = "shakespeare-char"
SHAKESPEARE = ("First Citizen: Before we proceed any further, hear me speak. You are all resolved rather to die "
               "than to famish? Resolved. First, you know Caius Marcius is chief enemy to the people. "
               "We know't, we know't. Let us kill him, and we'll have corn at our own price. Is't a verdict? ")
SENTENCE = SHAKESPEARE[:200]
LONG = (SHAKESPEARE * 12)[:2000]  # a char model: 2,000 tokens
TAIL = " No more talking on't; let it be done: away, away!"[:40]
# Keystroke times and text lengths, recorded before the page's own listener sees the input event.
RECORD = ("window.__typed = []; document.addEventListener('input', (e) => "
          "window.__typed.push([performance.now(), e.target.value.length]), true);")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def measures(page, name: str) -> list[float]:
    return page.evaluate("n => performance.getEntriesByName(n).map(e => e.duration)", name)


def staleness(page, since: float) -> list[float] | None:
    """Per keystroke after `since` and per view below the fold: ms until that view drew a text that long."""
    typed = [(t, n) for t, n in page.evaluate("window.__typed") if t >= since]
    drawn = page.evaluate("""() => performance.getEntriesByName('gs:drawn').map(e => [e.startTime + e.duration,
        e.detail.id, e.detail.chars])""")
    if not drawn:
        return None
    below = page.evaluate("""() => window.gatescope.registry.map(v => v.id).filter(id => {
        const el = document.getElementById(id); return el && el.getBoundingClientRect().top > innerHeight + 150; })""")
    out = []
    for view in below:
        draws = [(t, n) for t, v, n in drawn if v == view]
        for t, n in typed:
            done = next((d for d, m in draws if d >= t and m >= n), None)
            if done is not None:
                out.append(done - t)
    return out


def settle(page, text: str) -> float:
    """performance.now() once `text` is drawn in the views on screen and then in every view."""
    page.wait_for_function("t => window.gatescope.rendered && window.gatescope.rendered.text === t", arg=text,
                           timeout=120000)
    return page.evaluate("async () => { await window.gatescope.idle(); return performance.now(); }")


def type_keys(page, keys: str, delay: float) -> dict[str, list[float]]:
    page.evaluate("performance.clearMeasures()")
    since = page.evaluate("performance.now()")
    page.locator("#text").press_sequentially(keys, delay=delay, timeout=0)
    settle(page, page.input_value("#text"))
    typed = [t for t, _ in page.evaluate("window.__typed") if t >= since]
    out = {n: measures(page, f"gs:{n}") for n in ("repaint", "api", "draw", "step", "repaint-all")}
    out["interval"] = [b - a for a, b in zip(typed, typed[1:], strict=False)]
    stale = staleness(page, since)
    if stale is not None:
        out["stale"] = stale
    for view, ms in page.evaluate("performance.getEntriesByName('gs:drawn').map(e => [e.detail.id, e.duration])"):
        out.setdefault(f"view {view}", []).append(ms)  # what each view's update costs (the profile)
    return out


def run(base: str, modes: list[str], rounds: int) -> dict[str, dict[str, list[float]]]:
    from playwright.sync_api import sync_playwright

    got: dict[str, dict[str, list[float]]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)  # wait_for_function evals
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.add_init_script(RECORD)
        page.goto(f"{base}/?model={MODEL}#text=F")
        settle(page, "F")
        for mode in modes:
            into = got.setdefault(mode, {})
            for _ in range(rounds):
                if mode == "paste":
                    page.fill("#text", "F")
                    settle(page, "F")
                    t0 = page.evaluate("performance.now()")
                    page.fill("#text", LONG)
                    typed = [t for t, n in page.evaluate("window.__typed") if t >= t0 and n == len(LONG)]
                    into.setdefault("pasted", []).append(settle(page, LONG) - typed[0])
                    page.fill("#text", LONG[: -len(TAIL)])  # room for the keys typed at its end (2,000 at most)
                    settle(page, LONG[: -len(TAIL)])
                    parts = type_keys(page, TAIL, 80.0)
                else:
                    page.fill("#text", "")
                    parts = type_keys(page, SENTENCE, 80.0 if mode == "typing" else 120.0)
                for k, xs in parts.items():
                    into.setdefault(k, []).extend(xs)
        browser.close()
    if errors:
        raise SystemExit(f"console errors during the run: {errors[:3]}")
    return got


GOALS = {("typing", "repaint"): (60, 150), ("typing", "stale"): (None, 1000), ("paste", "pasted"): (1500, None),
         ("paste", "repaint"): (100, None)}


def report(label: str, got: dict[str, dict[str, list[float]]]) -> None:
    print(f"\n{label}   (load average now {os.getloadavg()[0]:.2f})")
    for mode, parts in got.items():
        gaps = parts.pop("interval", [])
        print(f"  {mode}: {len(parts.get('repaint', []))} keystrokes drawn, {len(parts.get('api', []))} trace "
              f"requests, keys every {pct(gaps, 0.5):.0f} ms (p50)")
        for name in ("repaint", "stale", "pasted", "api", "draw", "step", "repaint-all"):
            xs = parts.get(name)
            if name == "stale" and xs is None:
                print(f"    {name:11s} n/a (the page marks no gs:drawn)")
            if not xs:
                continue
            g50, g95 = GOALS.get((mode, name), (None, None))
            goal = (f" p50 <= {g50}" if g50 else "") + (f" p95 <= {g95}" if g95 else "")
            print(f"    {name:11s} p50 {pct(xs, 0.5):7.0f} ms   p95 {pct(xs, 0.95):7.0f} ms   max {max(xs):7.0f} ms   "
                  f"n {len(xs):4d}" + (f"   goal{goal}" if goal else ""))
        views = sorted(((pct(xs, 0.5), k[5:], len(xs)) for k, xs in parts.items() if k.startswith("view ")),
                       reverse=True)
        if views:
            print("    each view's update, p50 (times drawn): "
                  + ", ".join(f"{v} {ms:.0f} ms ({n})" for ms, v, n in views if ms >= 1))


START_GOALS = {"text filled": 500, "every view": 1500}  # the text box usable; every view drawn


def report_start(marks: dict[str, dict[str, list[float | None]]]) -> None:
    """bench/first_paint.py's marks of one checkout: p50 and p95 of each, cold and warm, against issue 15's goals."""
    from bench.first_paint import pct as first_pct

    for kind, got in marks.items():
        parts = []
        for name in ("first paint", "text filled", "every view"):
            xs = [x for x in got[name] if x is not None]
            goal = START_GOALS.get(name)
            parts.append(f"{name} p50 {first_pct(xs, 0.5):5.0f} ms (p95 {first_pct(xs, 0.95):5.0f}"
                         + (f", goal {goal})" if goal else ")"))
        print(f"  start, {kind} ({len(got['every view'])} loads): " + "   ".join(parts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", default="typing,paste", help="comma-separated: typing, paste, pauses, start")
    ap.add_argument("--loads", type=int, default=10, help="loads of each kind for the start mode")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--root", type=Path, help="another checkout to measure the same way, before this one")
    args = ap.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit("/usr/bin/chromium is not installed")
    modes = args.modes.split(",")
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} cores; model {MODEL}, 1280x800, "
          f"{args.rounds} rounds of {', '.join(modes)}")
    for label, root in ([("other", args.root)] if args.root else []) + [("this", ROOT)]:
        base, proc = start_server(ROOT / "models", root=root)
        try:
            typed = [m for m in modes if m != "start"]
            got = run(base, typed, args.rounds) if typed else {}
            if "start" in modes:
                from bench.first_paint import run as loads
                start = loads([base], args.loads)[0]
        finally:
            stop_server(proc)
        report(f"{label} checkout ({root})", got)
        if "start" in modes:
            report_start(start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
