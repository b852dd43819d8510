// Linear axes for canvaschart.js's scenes: a scale, round ticks, and a plot area's frame (grid, zero line, tick
// labels, titles), drawn through a painter (painter.js) so the page and the SVG file get the same axes.

/** Data value -> pixel, mapping [d0, d1] onto [p0, p1]. */
export function scale([d0, d1], [p0, p1]) {
  const k = (p1 - p0) / (d1 - d0 || 1);
  return (v) => p0 + (v - d0) * k;
}

/** About `n` round ticks (1, 2 or 5 times a power of ten apart) within [lo, hi]. */
export function ticks(lo, hi, n = 5) {
  const raw = (hi - lo) / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw * 0.999);
  const out = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(k * step);
  return out;
}

/** A tick's label: `v` as a percentage, or with as many decimals as the ticks' step needs. */
export const percent = (v) => `${Math.round(v * 100)}%`;
export function decimals(values) {
  const step = values.length > 1 ? Math.abs(values[1] - values[0]) : 1;
  const d = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return (v) => v.toFixed(d).replace(/-/g, '−');
}

/**
 * The frame of plot area `box` {x, y, w, h}: white ground, grid lines at the ticks (the zero line darker), tick
 * labels, and axis titles. `y` and, unless null (the caller labels its categories), `x` are
 * {range, ticks, label(v), title}; `size` is the tick labels' px, `titleSize` the titles'.
 */
export function frame(p, box, { x = null, y, size, titleSize }) {
  p.rect(box.x, box.y, box.w, box.h, '#fff');
  const sy = scale(y.range, [box.y + box.h, box.y]);
  let widest = 0;
  for (const v of y.ticks) {
    const py = sy(v);
    p.line(box.x, py, box.x + box.w, py, Math.abs(v) < 1e-12 ? '#444' : '#e8e8e8', 1);
    const s = y.label(v);
    widest = Math.max(widest, p.measure(s, size));
    p.text(s, box.x - 6, py, { size, align: 'right' });
  }
  if (y.title) {
    p.text(y.title, box.x - widest - 10 - titleSize * 0.6, box.y + box.h / 2, { size: titleSize, align: 'center', up: true });
  }
  if (!x) return;
  const sx = scale(x.range, [box.x, box.x + box.w]);
  for (const v of x.ticks) {
    const px = sx(v);
    p.line(px, box.y, px, box.y + box.h, Math.abs(v) < 1e-12 ? '#444' : '#e8e8e8', 1);
    p.text(x.label(v), px, box.y + box.h + 5, { size, align: 'center', base: 'top' });
  }
  if (x.title) p.text(x.title, box.x + box.w / 2, box.y + box.h + size + 12, { size: titleSize, align: 'center', base: 'top' });
}
