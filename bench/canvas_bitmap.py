"""canvaschart.js's bitmap step at each keystroke, A/B in headless Chromium at the heatmaps' figure size.

When a scene's key changes (every keystroke, for the heatmaps and the lines over time) the base is painted again.
main made a new full-size bitmap canvas for it; since the phone branch the bitmap there is is cleared and painted
again when its size is unchanged. Both are timed here around the same work: clear, white ground, the figure copied
in (standing for the base's painting), the copy onto the screen canvas, and a one-pixel read so that the
rasterisation is inside the timing. Warmed-up blocks of 40 keystrokes, alternating which comes first; prints each
block, the medians and their ratio. A microbenchmark of this step only, not of a whole keystroke.

    python bench/canvas_bitmap.py [WIDTH HEIGHT]    (device pixels; default 1558 x 1100, the heatmaps at 1600 px)
"""
from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.testing import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

STEP = """([W, H, mode, n]) => {
  if (!window.__src) {
    window.__src = Object.assign(document.createElement('canvas'), { width: W, height: H });
    const g = window.__src.getContext('2d');
    for (let k = 0; k < 2000; k++) {
      g.fillStyle = `hsl(${k % 360},60%,50%)`;
      g.fillRect((k * 37) % W, (k * 11) % H, 20, 8);
    }
    window.__screen = Object.assign(document.createElement('canvas'), { width: W, height: H });
    document.body.append(window.__screen);
  }
  let kept = window.__kept || null;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const bitmap = mode === 'reuse' && kept ? kept
      : Object.assign(document.createElement('canvas'), { width: W, height: H });
    const g = bitmap.getContext('2d');
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, W, H);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, W, H);
    g.drawImage(window.__src, 0, 0);
    kept = bitmap;
    const s = window.__screen.getContext('2d');
    s.clearRect(0, 0, W, H);
    s.drawImage(bitmap, 0, 0);
    s.getImageData(0, 0, 1, 1);
  }
  window.__kept = kept;
  return (performance.now() - t0) / n;
}"""


def main(argv: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    W, H = (int(argv[0]), int(argv[1])) if len(argv) >= 2 else (1558, 1100)
    blocks: dict[str, list[float]] = {"new": [], "reuse": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content("<body></body>")
        for mode in blocks:  # warm-up
            page.evaluate(STEP, [W, H, mode, 20])
        for rep in range(6):
            for mode in ("new", "reuse") if rep % 2 == 0 else ("reuse", "new"):
                blocks[mode].append(page.evaluate(STEP, [W, H, mode, 40]))
        browser.close()
    med = {k: statistics.median(v) for k, v in blocks.items()}
    print(json.dumps({k: [round(x, 2) for x in v] for k, v in blocks.items()}))
    print(f"{W}x{H}: a new bitmap {med['new']:.2f} ms, the one there is {med['reuse']:.2f} ms a keystroke "
          f"(median of 6 blocks of 40); new / reused = {med['new'] / med['reuse']:.2f}x; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
