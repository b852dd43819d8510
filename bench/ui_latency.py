"""Keystroke-to-repaint latency of the explorer page in headless Chromium.

Types a 200-character sentence key by key into the page served by a real `python -m app serve`, and reads
the page's own performance measures (static/js/main.js):
  gs:repaint      input event -> every view on screen has finished Plotly.react for a text with that keystroke
  gs:repaint-all  the same until every view, on screen or not (those off screen are drawn when idle)
  gs:api      the /api/trace round trip alone, measured in the same page and run: the anchor
  gs:draw     the page's own share: trace answer in hand -> the views on screen redrawn
  gs:step     the /api/step round trip plus drawing the step view (after the repaint, not part of either)
and prints p50/p95 of each and repaint/api ratios. Uses models/shakespeare-char.safetensors when present,
else the largest model in models/, else a random stand-in of the same shape (and says which).

    python bench/ui_latency.py [--models DIR] [--model ID] [--delay-ms 120] [--rounds 2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.testing import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

SENTENCE = ("First Citizen: Before we proceed any further, hear me speak. You are all resolved rather to die "
            "than to famish? Resolved. First, you know Caius Marcius is chief enemy to the people. "
            "We know't, we know't.")[:200]


def pick_model(models: Path, wanted: str | None) -> tuple[Path, str, str]:
    """(model dir, model id, a sentence saying which model this is)."""
    files = sorted(models.glob("*.safetensors"), key=lambda p: p.stat().st_size, reverse=True)
    ids = [p.stem for p in files]
    if wanted:
        if wanted not in ids:
            raise SystemExit(f"no model {wanted!r} in {models}; found: {', '.join(ids) or 'none'}")
        return models, wanted, f"model {wanted} from {models}"
    if "shakespeare-char" in ids:
        return models, "shakespeare-char", f"shipped model shakespeare-char ({models})"
    if ids:
        return models, ids[0], f"shakespeare-char is not in {models}: using the largest model there, {ids[0]}"
    import numpy as np

    from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, save_model

    corpus = "".join(sorted(set(SENTENCE + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?'-&\n $3")))
    tok = Tokenizer.build(corpus, "char")
    V, H = len(tok), 256
    rng = np.random.default_rng(0)
    model = Model(LSTM.random(LSTMConfig(V, H, 2), seed=0), "onehot", tok, None,
                  rng.normal(0, 0.1, (V, H)).astype(np.float32), np.zeros(V, np.float32), {"name": "stand-in"})
    tmp = Path(tempfile.mkdtemp(prefix="gatescope-bench-"))
    save_model(model, tmp / "standin-char.safetensors")
    return tmp, "standin-char", (f"no models in {models}: a random stand-in, {V} chars, 2 layers x {H} units "
                                 "(the size of a small char-rnn)")


def measures(page, name: str) -> list[float]:
    return page.evaluate("n => performance.getEntriesByName(n).map(e => e.duration)", name)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def run(base: str, model: str, delay_ms: float, rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {"gs:repaint": [], "gs:repaint-all": [], "gs:api": [], "gs:draw": [], "gs:step": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1600, "height": 1000}, bypass_csp=True)  # wait_for_function evals
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(f"{base}/?model={model}&text=F")
        page.wait_for_function("window.gatescope && window.gatescope.rendered !== null", timeout=60000)
        for _ in range(rounds):
            page.fill("#text", "")
            page.evaluate("performance.clearMeasures()")
            page.locator("#text").press_sequentially(SENTENCE, delay=delay_ms, timeout=0)
            page.wait_for_function("t => window.gatescope.rendered.text === t", arg=SENTENCE, timeout=60000)
            page.wait_for_timeout(300)
            for name in out:
                out[name] += measures(page, name)
        browser.close()
        if errors:
            raise SystemExit(f"console errors during the run: {errors[:3]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--model")
    ap.add_argument("--delay-ms", type=float, default=120.0, help="pause between keystrokes (120 ms = 100 wpm)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit("/usr/bin/chromium is not installed")
    model_dir, model, which = pick_model(args.models, args.model)
    base, proc = start_server(model_dir)
    try:
        print(f"{which}; {len(SENTENCE)}-character sentence, {args.rounds} rounds")
        for delay in (args.delay_ms, 0.0):
            m = run(base, model, delay, args.rounds)
            rep, api = m["gs:repaint"], m["gs:api"]
            label = f"typing every {delay:.0f} ms" if delay else "typing as fast as Playwright can"
            print(f"\n{label}: {len(rep)} keystrokes, {len(api)} trace requests (the rest coalesced)")
            for name, xs in m.items():
                if xs:
                    print(f"  {name:14s} p50 {pct(xs, 0.5):7.1f} ms   p95 {pct(xs, 0.95):7.1f} ms   "
                          f"mean {statistics.fmean(xs):7.1f} ms")
            if rep and api:
                print(f"  repaint / api round trip: p50 {pct(rep, 0.5) / pct(api, 0.5):.2f}x, "
                      f"p95 {pct(rep, 0.95) / pct(api, 0.95):.2f}x")
    finally:
        stop_server(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
