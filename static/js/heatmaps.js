// Heatmaps of i, f, g, o, c and h: time across (typed tokens as labels), units down, six subplots on one time
// axis, drawn on a canvas of our own (canvaschart.js; the figure is heatscene.js) without Plotly, so the view draws
// as soon as the first trace is there. cells.js paints one pixel per cell on a canvas per subplot, and a keystroke
// paints only its new columns; the figure stretches them onto its plot areas. Time can be narrowed to a window
// (heatzoom.js), the rows to the first N units of an ordering (the header's "top").

import { block, roomFor } from './arrays.js';
import { chart } from './canvaschart.js';
import { paint } from './cells.js';
import { colourRange, QUANTITIES, thinNote } from './format.js';
import { figureHeight, scene } from './heatscene.js';
import { timeWindow } from './heatzoom.js';
import { language, t } from './i18n.js';
import { px } from './plot.js';
import { shared } from './splice.js';
import { any } from './view.js';

const TOUCH = window.matchMedia('(pointer: coarse)'); // a phone or a tablet: its hint says tap, not click

/** The units shown, in display order: the first state.top of the order (all when top is 0). */
const shownUnits = (order, top) => (top > 0 ? order.slice(0, top) : order);

/** The units of quantity array `a` shown, in display order (h is H_out wide with a projection). */
function unitsOf(a, ctx) {
  const Hq = a.shape[3];
  return shownUnits(Hq === ctx.H ? ctx.order : Array.from({ length: Hq }, (_, u) => u), ctx.state.top);
}

/** A (T,) Float32Array over `old`'s buffer when it has room (its first `from` values kept), else over a new one with
 * room to grow and those values copied. */
function extend(old, T, from) {
  if (old && old.buffer.byteLength >= 4 * T) return new Float32Array(old.buffer, 0, T);
  const row = new Float32Array(roomFor(T));
  if (old) row.set(old.subarray(0, from));
  return row.subarray(0, T);
}

/** Rows of quantity array `a` for `order`: rows[r][t] = value of unit order[r] at time t; and the largest |value|.
 * `kept` (the same units' rows drawn last, {z, peak}) holds columns 0..same-1 already: only the columns after are
 * read, into its buffers while they have room (a keystroke reads one column, not T). */
function rows(a, ctx, order, kept, same) {
  const x = block(a, ctx.slot, ctx.state.direction); // (T, H_q)
  const Hq = a.shape[3];
  const { T } = ctx;
  const from = kept ? same : 0;
  const peak = extend(kept && kept.peak, T, from); // (T,) the largest |value| of the rows at each t
  peak.fill(0, from);
  const z = order.map((u, r) => {
    const row = extend(kept && kept.z[r], T, from);
    for (let t = from; t < T; t++) {
      const v = x[t * Hq + u];
      row[t] = v;
      if (Math.abs(v) > peak[t]) peak[t] = Math.abs(v);
    }
    return row;
  });
  const maxAbs = a === ctx.trace.c ? percentileAbs(x, 0.95) : peak.reduce((m, v) => (v > m ? v : m), 0);
  return { z, maxAbs, peak };
}

/** The q-quantile of |x| (from at most ~10k evenly strided samples): c's colour scale ends there, so a
 * few cells with a large |c| do not wash the rest out to white. */
function percentileAbs(x, q) {
  const stride = Math.max(1, Math.floor(x.length / 10000));
  const s = new Float32Array(Math.ceil(x.length / stride));
  for (let k = 0, j = 0; k < x.length; k += stride, j++) s[j] = Math.abs(x[k]);
  s.sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] || 1e-6;
}

/** The room the figure (and the notes and buttons around it) will take for model `info` (view.js). */
export function reserve(info) {
  return figureHeight(info.hidden_size) + 120;
}

/** The subplots' rows for ctx: [{name, z, y, colorscale, zmin, zmax, peak}], one per quantity, the units of each
 * `units[k]`; `kept` the subplots drawn last for the same units, holding the first `same` columns. */
const subplots = (ctx, units, kept, same) => QUANTITIES.map((q, k) => {
  const { z, maxAbs, peak } = rows(ctx.trace[q], ctx, units[k], kept && kept[k], same);
  return { name: q, z, y: units[k].map(String), peak, ...colourRange(q, maxAbs) };
});

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data', 'layer', 'quantity', 'order', 'unit', 'time']);

export function create(el) {
  const ordering = document.createElement('p'); // what the order means, in one line
  ordering.className = 'note order-note';
  const note = document.createElement('p'); // labels thinned: one token in every k
  note.className = 'note';
  note.hidden = true;
  const fig = chart('heatmaps-plot');
  fig.box.classList.add('heat-chart');
  const hint = Object.assign(document.createElement('p'), { className: 'note heat-hint' });
  const cells = Object.assign(document.createElement('div'), { className: 'heat-cells', hidden: true });
  let shown = null; // what the canvases hold: {data, T, trace, rows (layer slot, direction and units, as text)}
  let last = null; // the context drawn last
  let version = 0; // counts the paintings of the cells: part of the figure's key
  const zoom = timeWindow(fig, () => last && show(last));
  el.replaceChildren(note, ordering, hint, zoom.bar, fig.box, fig.saves, cells);

  const thinned = (k) => {
    const sentence = thinNote(k);
    note.hidden = !sentence;
    note.textContent = sentence || '';
  };

  /** The figure for ctx over the cells as painted, in the window's columns. */
  function show(ctx) {
    last = ctx;
    const cols = zoom.range(ctx.T, ctx.state.t);
    fig.draw(scene({ data: shown.data, canvases: [...cells.children], tokens: ctx.trace.tokens, window: cols,
      chosen: ctx.state, wordTokens: ctx.wordTokens, stride: thinned,
      key: `${version} ${cols} ${language()} ${px(100)}` }));
  }

  /** Paint the cells for a new trace, layer, direction or order. A new trace on the same rows (typing) reads and
   * paints only the columns after what it shares with the one shown (splice.js shared()); cells.js repaints a
   * canvas whose colour scale moved. */
  function draw(ctx) {
    const units = QUANTITIES.map((q) => unitsOf(ctx.trace[q], ctx));
    const key = JSON.stringify([ctx.slot, ctx.state.direction, units]);
    let same = 0;
    if (shown && shown.rows === key) {
      same = ctx.trace === shown.trace ? ctx.T : shared(ctx.trace, shown.trace.serial);
      same = Math.min(same, shown.T, ctx.T);
    }
    const data = subplots(ctx, units, shown && shown.rows === key ? shown.data : null, same);
    paint(cells, data, ctx.T, same);
    shown = { data, T: ctx.T, trace: ctx.trace, rows: key };
    version += 1;
    const { order, top } = ctx.state;
    ordering.textContent = t(`order.about.${order}`, { q: ctx.state.quantity })
      + (top > 0 && top < ctx.H ? ` ${t('top.note', { n: top, H: ctx.H })}` : '');
    hint.textContent = t(TOUCH.matches ? 'heatmaps.zoom_hint_touch' : 'heatmaps.zoom_hint'); // a finger taps
    show(ctx);
  }

  return {
    update(ctx, changed) {
      if (any(changed, 'layer', 'quantity', 'order')) shown = null; // new rows: every column again
      if (any(changed, 'data', 'layer', 'quantity', 'order') || !shown) return draw(ctx);
      // Only the time and unit markers move: the figure's base is kept, so scrubbing and playing stay smooth.
      if (any(changed, 'unit', 'time')) show(ctx);
      return undefined;
    },
  };
}
