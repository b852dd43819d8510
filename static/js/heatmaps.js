// Heatmaps of i, f, g, o, c and h: time across (typed tokens as labels), units down, six subplots on one time
// axis, drawn on a canvas of our own (canvaschart.js; the figure is heatscene.js) without Plotly, so the view draws
// as soon as the first trace is there. cells.js paints one pixel per cell on a canvas per subplot, and a keystroke
// paints only its new columns; the figure stretches them onto its plot areas. Time can be narrowed to a window
// (heatzoom.js), the rows to the first N units of an ordering (the header's "top").

import { block } from './arrays.js';
import { chart } from './canvaschart.js';
import { paint } from './cells.js';
import { colourRange, QUANTITIES, thinNote } from './format.js';
import { figureHeight, scene } from './heatscene.js';
import { timeWindow } from './heatzoom.js';
import { language, t } from './i18n.js';
import { px } from './plot.js';
import { any } from './view.js';

/** The units shown, in display order: the first state.top of the order (all when top is 0). */
const shownUnits = (order, top) => (top > 0 ? order.slice(0, top) : order);

/** Rows of quantity q in display order: rows[r][t] = value of unit order[r] at time t; and the largest |value|. */
function rows(a, ctx) {
  const x = block(a, ctx.slot, ctx.state.direction); // (T, H_q)
  const Hq = a.shape[3];
  const all = Hq === ctx.H ? ctx.order : Array.from({ length: Hq }, (_, u) => u); // h is H_out wide with proj
  const order = shownUnits(all, ctx.state.top);
  const { T } = ctx;
  let maxAbs = 0;
  const z = order.map((u) => {
    const row = new Float32Array(T);
    for (let t = 0; t < T; t++) {
      const v = x[t * Hq + u];
      row[t] = v;
      if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
    }
    return row;
  });
  return { z, maxAbs: a === ctx.trace.c ? percentileAbs(x, 0.95) : maxAbs, order };
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

/** The subplots' rows for ctx: [{name, z, y, colorscale, zmin, zmax}], one per quantity. */
const subplots = (ctx) => QUANTITIES.map((q) => {
  const { z, maxAbs, order } = rows(ctx.trace[q], ctx);
  return { name: q, z, y: order.map(String), ...colourRange(q, maxAbs) };
});

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
  let shown = null; // what the canvases hold: {data, T, trace, rows (the rows' units, as text)}
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

  /** Paint the cells for a new trace, layer, direction or order. A new trace on the same rows (typing) paints only
   * the columns after what it shares with the one shown (splice.js prefix); cells.js repaints a canvas whose colour
   * scale moved. */
  function draw(ctx) {
    const data = subplots(ctx);
    const units = JSON.stringify(data.map((d) => d.y));
    let same = 0;
    if (shown && shown.rows === units) {
      const { prefix } = ctx.trace;
      same = ctx.trace === shown.trace ? ctx.T : prefix && prefix.of === shown.trace.serial ? prefix.start : 0;
      same = Math.min(same, shown.T);
    }
    paint(cells, data, ctx.T, same);
    shown = { data, T: ctx.T, trace: ctx.trace, rows: units };
    version += 1;
    const { order, top } = ctx.state;
    ordering.textContent = t(`order.about.${order}`, { q: ctx.state.quantity })
      + (top > 0 && top < ctx.H ? ` ${t('top.note', { n: top, H: ctx.H })}` : '');
    hint.textContent = t('heatmaps.zoom_hint');
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
