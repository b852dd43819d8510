// Lines over time as a canvaschart.js scene, shared by unit.js (one unit's quantities) and predictions.js (the
// surprisal): the tokens under the time axis, thinned so they do not collide; a text longer than the plot has
// pixel columns drawn as each line's min-max band per column (a 2,000-token text stays readable), while the
// hover still reads the exact value of whichever step is under the pointer; a click or a tap selects that step.
// The chosen t is marked over the base, so scrubbing repaints only the marker.

import { decimals, frame, scale, ticks } from './axes.js';
import { measure } from './painter.js';
import { px } from './plot.js';
import { labelStride, spaced } from './tokenlabels.js';

/** Min and max of y over `n` equal runs of time, at each run's middle step; NaN over a run of gaps. */
function band(y, n) {
  const x = new Float64Array(n);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const size = y.length / n;
  for (let b = 0; b < n; b++) {
    const from = Math.floor(b * size);
    const to = Math.max(from + 1, Math.floor((b + 1) * size));
    let a = Infinity;
    let z = -Infinity;
    for (let t = from; t < to; t++) {
      if (y[t] < a) a = y[t];
      if (y[t] > z) z = y[t];
    }
    x[b] = (from + to - 1) / 2;
    lo[b] = a <= z ? a : NaN;
    hi[b] = a <= z ? z : NaN;
  }
  return { x, lo, hi };
}

/** The value axis's range over every line's finite values, padded by 5% (from 0 when `fromZero`). */
function valueRange(lines, fromZero) {
  let lo = fromZero ? 0 : Infinity;
  let hi = -Infinity;
  for (const { y } of lines) {
    for (const v of y) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(lo <= hi)) return [0, 1]; // nothing finite to draw
  if (hi - lo < 1e-9) return [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.05;
  return [fromZero && lo === 0 ? 0 : lo - pad, hi + pad];
}

/** `s` broken at spaces (anywhere, for text without them) into lines no wider than `width` px at `size` px. */
function wrapped(s, width, size) {
  const out = [];
  let line = '';
  for (const piece of s.match(/\S+\s*|\s+/g) || []) {
    for (const ch of measure(piece, size) > width ? [...piece] : [piece]) {
      if (line && measure(line + ch, size) > width) { out.push(line.trimEnd()); line = ''; }
      line += ch;
    }
  }
  if (line) out.push(line.trimEnd());
  return out;
}

/** Every point of `xs`, `ys` (steps) as flat runs [x0, y0, x1, y1, ...] between gaps (NaN). */
function runs(xs, ys, sx, sy) {
  const out = [];
  let run = [];
  for (let k = 0; k < ys.length; k++) {
    if (Number.isNaN(ys[k])) {
      if (run.length) out.push(run);
      run = [];
    } else run.push(sx(xs ? xs[k] : k), sy(ys[k]));
  }
  if (run.length) out.push(run);
  return out;
}

/**
 * The scene of `lines` [{name, colour, width, dash, y: a number per step, NaN for a gap}] over `tokens`:
 *   key        names the base (canvaschart.js): everything drawn but the marker of t
 *   height     the figure's height in px, without its title;  title: a sentence above the plot, or null
 *   yTitle     the value axis's title;  fromZero: the value axis starts at 0;  markers: a dot on each step up to
 *              this many steps;  wordTokens: the labels need room for words
 *   t          the chosen step, marked over the base;  tip(t): the hover's text at step t
 *   label      what the figure shows, for a screen reader (canvaschart.js)
 */
export function scene({ key, tokens, lines, height, title = null, yTitle, fromZero = false, markers = 0, t, tip,
  wordTokens = false, label = null }) {
  const T = tokens.length;
  const range = valueRange(lines, fromZero);
  const size = px(15); // Plotly's base font of these figures, one and a half times as large when presenting
  const labelSize = px(16);
  let heads = null; // the title's lines at the last width
  const titled = (w) => {
    if (!title) return [];
    if (!heads || heads.w !== w) heads = { w, lines: wrapped(title, w - 16, px(18)) };
    return heads.lines;
  };
  const area = (w) => {
    const top = px(20) + Math.round(titled(w).length * px(18) * 1.3);
    const left = px(64);
    return { x: left, y: top, w: Math.max(20, w - left - 16), h: height - px(60) };
  };
  const axes = (box) => [scale([-0.5, T - 0.5], [box.x, box.x + box.w]), scale(range, [box.y + box.h, box.y])];
  return {
    key,
    label,
    height: (w) => area(w).y + height - px(20),
    base(p, w) {
      const box = area(w);
      const [sx, sy] = axes(box);
      titled(w).forEach((s, k) => p.text(s, 8, px(20) + (k + 0.5) * px(18) * 1.3 - px(6), { size: px(18) }));
      const yt = ticks(range[0], range[1], 5);
      frame(p, box, { y: { range, ticks: yt, label: decimals(yt), title: yTitle }, size, titleSize: size });
      // Steps closer than 2 px make a line a scribble: drawn instead as a band over runs of steps, 2 px each.
      const columns = Math.max(1, Math.floor(box.w / 2));
      const banded = T > columns;
      const bands = [];
      for (const line of lines) {
        const stroke = { colour: line.colour, width: line.width, dash: line.dash };
        if (!banded) {
          for (const run of runs(null, line.y, sx, sy)) p.path(run, stroke);
          if (T <= markers) line.y.forEach((v, s) => { if (!Number.isNaN(v)) p.circle(sx(s), sy(v), 3, line.colour); });
          continue;
        }
        const b = band(line.y, columns);
        const lows = runs(b.x, b.lo, sx, sy);
        const highs = runs(b.x, b.hi, sx, sy);
        lows.forEach((low, k) => {
          const high = highs[k];
          const back = [];
          for (let j = high.length - 2; j >= 0; j -= 2) back.push(high[j], high[j + 1]);
          p.path([...low, ...back], { fill: line.colour, alpha: 0.35 });
          p.path(low, { colour: line.colour, width: 1 });
          p.path(high, { colour: line.colour, width: 1 });
        });
        bands.push({ name: line.name, x: [...b.x], lo: [...b.lo].map(nul), hi: [...b.hi].map(nul) });
      }
      // The tokens under the axis, every k-th, each cut to the room it has, none touching another (tokenlabels.js).
      const step = box.w / T;
      const { k, labels } = spaced(tokens, 0, T - 1, sx, labelStride(tokens, 0, T, box.w, labelSize,
        px(wordTokens ? 64 : 16)), { size: labelSize, step, lo: 0, hi: w });
      for (const l of labels) p.text(l.text, l.x, box.y + box.h + 4, { size: labelSize, align: 'center', base: 'top' });
      // Every step answers the pointer over the plot and its label, a column as wide as the step.
      const reach = box.h + labelSize + 8;
      const hits = tokens.map((_, s) => ({ x: sx(s), y: box.y + reach / 2, hw: step / 2 + 0.01, hh: reach / 2,
        tip: () => tip(s), pick: () => ({ t: s }) }));
      return { hits, drawn: { T, box, range, yTicks: yt, banded, columns, stride: k, labels, bands, sizes: { tick: size,
        label: labelSize, title: title ? px(18) : null }, title: titled(w), lines: lines.map((l) => ({ name: l.name,
        colour: l.colour, y: Array.from(l.y, nul) })) } };
    },
    over(p, w) {
      const box = area(w);
      if (!(t >= 0 && t < T)) return { t: null, marks: [] };
      const [sx, sy] = axes(box);
      const x = sx(t);
      p.line(x, box.y, x, box.y + box.h, '#000', 2, [3, 3]);
      const marks = [];
      for (const line of lines) {
        const v = line.y[t];
        if (Number.isNaN(v)) continue;
        p.circle(x, sy(v), px(5), line.colour, 1, { colour: '#fff', width: 1.5 });
        marks.push({ name: line.name, x, y: sy(v), value: v });
      }
      return { t, marks };
    },
  };
}

const nul = (v) => (Number.isNaN(v) ? null : v);
