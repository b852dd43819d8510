// The heatmaps' figure as a canvaschart.js scene: six subplots (i, f, g, o, c, h) stacked on one time axis, the
// cells stretched from cells.js's canvases (one pixel per cell) onto the plot areas, the tokens along the top and
// the bottom, unit numbers down the side, a colour bar beside each subplot, and the chosen unit and t marked. One
// routine paints the page and the saved PNG / SVG (painter.js), cells included. Time can be narrowed to a window of
// columns (heatmaps.js zooms): the cells, the labels and the pointer all follow it.

import { ramp } from './cells.js';
import { fmt, isGate, quantityName, visible } from './format.js';
import { t } from './i18n.js';
import { px } from './plot.js';
import { GAP, labelStride, spaced, withChosen } from './tokenlabels.js';

/** Room around the plot areas; a phone (under 600 px) drops the unit axis's title and the colour bars'. */
export const narrowAt = (w) => w < 600;
const margins = (w) => (narrowAt(w) ? { l: px(40), r: px(60), t: px(92), b: px(44) }
  : { l: px(64), r: px(110), t: px(92), b: px(44) });
const gap = () => px(44); // between subplots: room for each one's title

/** Height of one subplot for `rows` units, and of the whole figure; both grow with the type when presenting, so a
 * projector shows as many unit numbers and colour-bar values as a laptop. */
const rowHeight = (rows) => px(Math.min(240, Math.max(120, 60 + rows * 4)));
export const figureHeight = (rows, n = 6) => px(92) + px(44) + n * rowHeight(rows) + (n - 1) * gap();

/** The plot areas {x, y, w, h} of `n` subplots of `rows` units in a figure `w` px wide. */
function areas(w, rows, n) {
  const m = margins(w);
  const h = rowHeight(rows);
  return Array.from({ length: n }, (_, k) => ({ x: m.l, y: m.t + k * (h + gap()), w: w - m.l - m.r, h }));
}

/** A rectangle outlined black under white, so that it shows on every colour of every scale; its edges on whole
 * pixels, so that each line is a sharp 1 px of black, 2 of white, 1 of black. */
function outlined(p, x, y, w, h) {
  const [x0, y0, x1, y1] = [x, y, x + w, y + h].map(Math.round);
  p.rect(x0, y0, x1 - x0, y1 - y0, null, { colour: '#000', width: 4 });
  p.rect(x0, y0, x1 - x0, y1 - y0, null, { colour: '#fff', width: 2 });
}

/** The two bands the token labels take [y0, y1]: over the first subplot and under the last. */
function bands(boxes, size) {
  const [first, last] = [boxes[0], boxes[boxes.length - 1]];
  const tall = Math.ceil(size * 1.3);
  return [[first.y - px(6) - tall, first.y - px(6)], [last.y + last.h + px(6), last.y + last.h + px(6) + tall]];
}

/** `labels` {x, text} in both bands: bottom-aligned over the plots, top-aligned under them. */
function paintLabels(p, labels, [[, top], [bottom]], size) {
  for (const { x, text } of labels) {
    p.text(text, x, top, { size, align: 'center', base: 'bottom' });
    p.text(text, x, bottom, { size, align: 'center', base: 'top' });
  }
}

/**
 * The scene of subplots `data` [{name, z (rows of T values), y (unit names), colorscale, zmin, zmax}] whose cells
 * `canvases` hold, for `tokens` (T of them), showing columns `window` [t0, t1]; `chosen` {t, unit} is marked;
 * `key` names the base (canvaschart.js); `wordTokens` gives each token label more room; `stride(k)` hears how
 * many tokens each label stands for.
 */
export function scene({ data, canvases, tokens, window: [t0, t1], chosen, key, wordTokens, stride }) {
  const T = tokens.length;
  const n = t1 - t0 + 1;
  const rows = Math.max(...data.map((d) => d.z.length));
  /** The column under x and the row under y of plot area `box` showing `d`: null off the cells. */
  const cell = (box, d, x, y) => {
    const s = t0 + Math.floor(((x - box.x) / box.w) * n);
    const r = Math.floor(((y - box.y) / box.h) * d.z.length);
    return s >= t0 && s <= t1 && s < T && r >= 0 && r < d.z.length ? { s, r } : null;
  };
  /** Step s -> the x of its column's centre. */
  const column = (boxes) => (s) => boxes[0].x + (s - t0 + 0.5) * (boxes[0].w / n);
  /** The token axis at width w: its stride k (measured unless given), the labels placed, and their fit. */
  const tokenAxis = (boxes, w, given) => {
    const size = px(16);
    const step = boxes[0].w / n; // px a column takes
    if (given) return { k: given, fit: { size, room: step * given - GAP, lo: 0, hi: w } };
    const k = labelStride(tokens, t0, n, boxes[0].w, size, px(wordTokens ? 64 : 14));
    return spaced(tokens, t0, Math.min(t1, T - 1), column(boxes), k, { size, step, lo: 0, hi: w });
  };
  return {
    key,
    label: t('heatmaps.label', { from: t0, to: t1, unit: chosen.unit, t: chosen.t }),
    keys: 'heatmaps.keys',
    height: () => figureHeight(rows, data.length),
    /** Where the keyboard starts: the chosen cell of the first subplot. */
    start: () => ({ k: 0, c: Math.min(Math.max(chosen.t - t0, 0), n - 1),
      r: Math.max(0, data[0].y.indexOf(String(chosen.unit))) }),
    base(p, w) {
      const boxes = areas(w, rows, data.length);
      const narrow = narrowAt(w);
      const size = px(13);
      const hits = [];
      const panels = data.map((d, k) => {
        const box = boxes[k];
        const H = d.z.length;
        p.image(canvases[k], t0, 0, n, H, box.x, box.y, box.w, box.h);
        p.text(quantityName(d.name), box.x, box.y - (k === 0 ? px(34) : px(8)), { size: px(19), base: 'bottom' });
        // Unit numbers, every j-th row so that they do not collide.
        const j = Math.max(Math.ceil(H / 14), Math.ceil((H * (size + 3)) / box.h));
        for (let r = 0; r < H; r += j) {
          p.text(String(d.y[r]), box.x - 6, box.y + ((r + 0.5) * box.h) / H, { size, align: 'right' });
        }
        if (!narrow) p.text(t('axis.unit'), px(14), box.y + box.h / 2, { size: px(15), align: 'center', up: true });
        // The colour bar: its ramp, five values and (room allowing) its title.
        const bx = box.x + box.w + (narrow ? 4 : px(14));
        p.image(ramp(d.colorscale), 0, 0, 1, 256, bx, box.y, px(16), box.h);
        for (const f of box.h >= 8 * size ? [1, 0.75, 0.5, 0.25, 0] : [1, 0.5, 0]) { // presentation: fewer, larger
          p.text(fmt(d.zmin + f * (d.zmax - d.zmin), 2), bx + px(20), box.y + (1 - f) * box.h,
            { size: narrow ? px(11) : size });
        }
        if (!narrow) {
          p.text(t(isGate(d.name) ? 'heatmaps.scale_gate' : 'heatmaps.scale_signed', { q: d.name }), bx + px(80),
            box.y + box.h / 2, { size: px(15), align: 'center', up: true });
        }
        const at = (x, y) => (x === undefined ? null : cell(box, d, x, y));
        // One hit for the plot area, a grid of cells for the keyboard (chartkeys.js).
        hits.push({ x: box.x + box.w / 2, y: box.y + box.h / 2, hw: box.w / 2, hh: box.h / 2,
          grid: { cols: n, rows: H },
          tip: (x, y) => {
            const c = at(x, y);
            return c && [t('hover.token', { token: visible(tokens[c.s]) }), t('hover.position', { t: c.s }),
              t('hover.unit', { unit: d.y[c.r] }), `${d.name} = ${d.z[c.r][c.s].toFixed(4)}`].join('\n');
          },
          pick: (x, y) => {
            const c = at(x, y);
            return c && { unit: Number(d.y[c.r]), t: c.s };
          } });
        const panel = { q: d.name, box, units: d.y.map(Number), zmin: d.zmin, zmax: d.zmax };
        return Object.defineProperty(panel, 'z', { value: d.z }); // the values, for tests; not serialised
      });
      // The tokens over the first subplot and under the last, every k-th, none touching another (tokenlabels.js).
      const { k, labels, fit } = tokenAxis(boxes, w);
      const labelBands = bands(boxes, fit.size);
      paintLabels(p, labels, labelBands, fit.size);
      stride(k);
      return { hits, drawn: { T, window: [t0, t1], stride: k, labels, labelBands, panels,
        sizes: { tick: size, token: fit.size } } };
    },
    over(p, w, h, base) {
      const boxes = areas(w, rows, data.length);
      const cw = boxes[0].w / n;
      const shown = chosen.t >= t0 && chosen.t <= t1 && chosen.t < T;
      // The chosen t's token is always labelled: over the labels it would touch, which are erased (white).
      const { fit } = tokenAxis(boxes, w, base.stride);
      const put = withChosen(base.labels, tokens, shown ? chosen.t : null, column(boxes), fit);
      if (put.chosen) {
        for (const [y0, y1] of bands(boxes, fit.size)) {
          for (const l of [...put.gone, put.chosen]) p.rect(l.x - l.w / 2 - 1, y0, l.w + 2, y1 - y0, '#fff');
        }
        paintLabels(p, [put.chosen], bands(boxes, fit.size), fit.size);
      }
      const marked = data.map((d, k) => {
        const box = boxes[k];
        if (shown && cw >= 4) outlined(p, box.x + (chosen.t - t0) * cw, box.y, cw, box.h);
        else if (shown) {
          const x = box.x + (chosen.t - t0 + 0.5) * cw;
          p.line(x, box.y, x, box.y + box.h, '#000', 5);
          p.line(x, box.y, x, box.y + box.h, '#fff', 2);
        }
        const r = d.y.indexOf(String(chosen.unit));
        if (r >= 0) outlined(p, box.x, box.y + (r * box.h) / d.z.length, box.w, box.h / d.z.length);
        return r;
      });
      return { marker: { t: shown ? chosen.t : null, unit: chosen.unit, rows: marked }, labels: put.labels };
    },
  };
}
