"""Reading the figures the page draws on a canvas of its own (static/js/canvaschart.js: bars, gate saturation,
the heatmaps).

Two sources, checked against each other by the tests: what the view says it drew (the chart element's `drawn`:
values and plot areas, in CSS px) and the pixels the canvas really holds, so that a test fails when the drawing
is broken while the numbers are right."""
from __future__ import annotations

import numpy as np

# Plotly's Viridis, the stops static/js/format.js gives the gates' colour scale, interpolated linearly in RGB.
VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
           "#bddf26", "#fde725"]
# ColorBrewer RdBu reversed (format.js): g, c and h, blue below zero, red above.
RDBU = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b",
        "#67001f"]
WHITE = (255, 255, 255)
GRID = (232, 232, 232)


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))


def viridis(v: float) -> tuple[int, int, int]:
    """The colour of gate value v (0..1) on the Viridis scale."""
    pos = min(1.0, max(0.0, v)) * (len(VIRIDIS) - 1)
    k = min(len(VIRIDIS) - 2, int(pos))
    a, b = rgb(VIRIDIS[k]), rgb(VIRIDIS[k + 1])
    return tuple(round(x + (y - x) * (pos - k)) for x, y in zip(a, b, strict=True))


def over_white(colour: str, alpha: float) -> tuple[float, float, float]:
    """`colour` painted with opacity `alpha` on white."""
    return tuple(alpha * c + (1 - alpha) * 255 for c in rgb(colour))


def drawn(page, plot_id: str) -> dict:
    """What the chart `plot_id` says it drew (canvaschart.js's `drawn`), or None before it has drawn."""
    return page.evaluate("id => { const d = document.getElementById(id).drawn; return d ? JSON.parse("
                         "JSON.stringify(d)) : null; }", plot_id)


def column(page, plot_id: str, x: float, y0: float, y1: float) -> list[tuple[int, int, int]]:
    """The canvas's colours down the column at CSS x, one per CSS pixel from y0 to y1 (sampled at device pixels)."""
    return [tuple(p) for p in page.evaluate("""([id, x, y0, y1]) => {
        const c = document.querySelector(`#${id} canvas`), r = c.width / c.clientWidth;
        const g = c.getContext('2d'), out = [];
        for (let y = Math.round(y0); y <= Math.round(y1); y++) {
          const d = g.getImageData(Math.floor(x * r), Math.floor((y + 0.5) * r), 1, 1).data;
          out.push([d[0], d[1], d[2]]);
        }
        return out; }""", [plot_id, x, y0, y1])]


def pixel(page, plot_id: str, x: float, y: float) -> tuple[int, int, int]:
    return column(page, plot_id, x, y, y)[0]


def differs(a, b) -> float:
    """The largest difference of two colours' channels."""
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def painted(colour: tuple[int, int, int]) -> bool:
    """Neither the white ground nor a light grid line."""
    return all(differs(colour, ground) > 30 for ground in (WHITE, GRID))


def on_page(page, plot_id: str, x: float, y: float) -> tuple[float, float]:
    """Chart coordinates (CSS px) -> the page's client coordinates, for a mouse click or a tap."""
    box = page.evaluate("id => { const r = document.querySelector(`#${id} canvas`).getBoundingClientRect();"
                        " return [r.left, r.top]; }", plot_id)
    return box[0] + x, box[1] + y


def bar_centre(d: dict, row: int, k: int) -> float:
    """The x (CSS px) of the k-th unit's bar in row `row` of the bars' `drawn`."""
    box = d["boxes"][row]
    return box["x"] + (k + 0.5) * box["w"] / len(d["units"])


def point_at(panel: dict, x: float, y: float) -> tuple[float, float]:
    """Where the saturation point (x, y) (fractions of the steps) lies in `panel` of the figure's `drawn`."""
    (lo, hi), box = panel["range"], panel["box"]
    return (box["x"] + (x - lo) / (hi - lo) * box["w"], box["y"] + box["h"] - (y - lo) / (hi - lo) * box["h"])


def on_scale(stops: list[str], x: np.ndarray) -> np.ndarray:
    """The colours of x in [0, 1] on a scale of evenly spaced `stops`, linear in RGB between them: (..., 3)."""
    rgbs = np.array([rgb(c) for c in stops], dtype=float)
    pos = np.linspace(0, 1, len(stops))
    return np.stack([np.interp(np.clip(x, 0, 1), pos, rgbs[:, j]) for j in range(3)], axis=-1)


def lookup_step(stops: list[str]) -> float:
    """The largest channel step between neighbours of the page's 256-colour lookup (cells.js) on `stops`."""
    return float(np.abs(np.diff(on_scale(stops, np.linspace(0, 1, 256)), axis=0)).max())


# The colours the heatmaps' canvas shows at the centre of every cell of subplot k in the columns on screen:
# (H rows, columns, RGB), sampled at device pixels.
HEAT_CELLS = """([id, k]) => { const el = document.getElementById(id), d = el.drawn, p = d.panels[k];
  const c = el.querySelector('canvas'), r = c.width / c.clientWidth, [t0, t1] = d.window, n = t1 - t0 + 1;
  const H = p.units.length, x0 = Math.floor(p.box.x * r), y0 = Math.floor(p.box.y * r);
  const w = Math.ceil(p.box.w * r) + 1, h = Math.ceil(p.box.h * r) + 1;
  const img = c.getContext('2d').getImageData(x0, y0, w, h).data, out = [];
  for (let row = 0; row < H; row++) for (let s = 0; s < n; s++) {
    const x = Math.floor((p.box.x + (s + 0.5) * p.box.w / n) * r) - x0;
    const y = Math.floor((p.box.y + (row + 0.5) * p.box.h / H) * r) - y0;
    const i = (y * w + x) * 4; out.push(img[i], img[i + 1], img[i + 2]);
  }
  return [H, n, out]; }"""


def heat_cells(page, plot_id: str, k: int) -> np.ndarray:
    """What subplot k of the heatmaps (`plot_id`) shows at each cell's centre: (H, columns, 3) RGB."""
    H, n, flat = page.evaluate(HEAT_CELLS, [plot_id, k])
    return np.array(flat, dtype=float).reshape(H, n, 3)


def heat_centre(page, plot_id: str, k: int, t: int, row: int) -> tuple[float, float]:
    """The page's client coordinates of the centre of cell (t, row) of subplot k of the heatmaps."""
    d = page.evaluate("id => { const d = document.getElementById(id).drawn; return {window: d.window, "
                      "panels: d.panels}; }", plot_id)
    p, (t0, t1) = d["panels"][k], d["window"]
    x = p["box"]["x"] + (t - t0 + 0.5) * p["box"]["w"] / (t1 - t0 + 1)
    y = p["box"]["y"] + (row + 0.5) * p["box"]["h"] / len(p["units"])
    return on_page(page, plot_id, x, y)


def heat_values(page, plot_id: str, q: str) -> tuple[np.ndarray, list[str]]:
    """The values the heatmaps say subplot q holds, (rows, T), and its rows' unit numbers as text."""
    z, units = page.evaluate("([id, q]) => { const p = document.getElementById(id).drawn.panels.find((p) => p.q === q);"
                             " return [Array.from(p.z, (r) => Array.from(r)), p.units.map(String)]; }", [plot_id, q])
    return np.array(z), units
