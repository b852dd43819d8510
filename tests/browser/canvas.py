"""Reading the figures the page draws on a canvas of its own (static/js/canvaschart.js: bars, gate saturation).

Two sources, checked against each other by the tests: what the view says it drew (the chart element's `drawn`:
values and plot areas, in CSS px) and the pixels the canvas really holds, so that a test fails when the drawing
is broken while the numbers are right."""
from __future__ import annotations

# Plotly's Viridis, the stops static/js/format.js gives the gates' colour scale, interpolated linearly in RGB.
VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
           "#bddf26", "#fde725"]
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
