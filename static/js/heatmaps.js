// Heatmaps of i, f, g, o, c and h: time across (typed tokens as labels), units down. One Plotly figure with
// six stacked subplots sharing the time axis, so one layout pass draws all six and zooming one zooms all;
// the token labels run above and below it as HTML (strip.js).

import { block } from './api.js';
import { colourRange, NAMES, QUANTITIES, isGate, thinNote } from './format.js';
import { baseLayout, emit, rowMarker, timeMarker } from './plot.js';
import { exportConfig, followZoom, hosted, placeLabels } from './strip.js';

const MARGIN = { l: 64, r: 110, t: 92, b: 44 };
const GAP = 44; // px between subplots, room for each one's title
let note = null;
let fig = null;
let plot = null;
let labelling = null; // how to re-place the token labels: {tokens, margin, height, px}

export function render(el, ctx) {
  el.replaceChildren();
  note = document.createElement('p');
  note.className = 'note';
  note.hidden = true;
  fig = hosted('heatmaps-plot', ['top', 'bottom']);
  plot = fig.gd;
  el.append(note, fig.host);
  return update(ctx);
}

/** Rows of quantity q in display order: rows[r][t] = value of unit order[r] at time t; and the largest |value|. */
function rows(a, ctx) {
  const x = block(a, ctx.slot, ctx.state.direction); // (T, H_q)
  const Hq = a.shape[3];
  const order = Hq === ctx.H ? ctx.order : Array.from({ length: Hq }, (_, u) => u); // h is H_out wide with proj
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

/** The q-quantile of |x| (from at most ~50k evenly strided samples): c's colour scale ends there, so a
 * few cells with a large |c| do not wash the rest out to white. */
function percentileAbs(x, q) {
  const stride = Math.max(1, Math.floor(x.length / 50000));
  const s = new Float32Array(Math.ceil(x.length / stride));
  for (let k = 0, j = 0; k < x.length; k += stride, j++) s[j] = Math.abs(x[k]);
  s.sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] || 1e-6;
}

const axis = (k, name) => (k ? `${name}${k + 1}` : name);

function shapes(ctx) {
  const r = ctx.order.indexOf(ctx.state.unit);
  return [...timeMarker(ctx.state.t, ctx.T), ...QUANTITIES.flatMap((_, k) => rowMarker(r, axis(k, 'y')))];
}

function figure(ctx) {
  const rowPx = Math.min(240, Math.max(120, 60 + ctx.H * 4));
  const height = MARGIN.t + MARGIN.b + QUANTITIES.length * rowPx + (QUANTITIES.length - 1) * GAP;
  const inner = height - MARGIN.t - MARGIN.b;
  const layout = baseLayout({ height, margin: MARGIN, annotations: [] });
  const data = QUANTITIES.map((q, k) => {
    const top = 1 - (k * (rowPx + GAP)) / inner;
    const bottom = top - rowPx / inner;
    const { z, maxAbs, order } = rows(ctx.trace[q], ctx);
    layout[axis(k, 'xaxis')] = {
      range: [-0.5, ctx.T - 0.5], anchor: axis(k, 'y'), showticklabels: false, ticks: '', showgrid: false,
      zeroline: false, ...(k ? { matches: 'x' } : {}),
    };
    layout[axis(k, 'yaxis')] = {
      domain: [bottom, top], type: 'category', autorange: 'reversed', title: { text: 'unit' },
      tickfont: { size: 13 }, anchor: axis(k, 'x'),
    };
    layout.annotations.push({
      text: NAMES[q], xref: 'paper', yref: 'paper', x: 0, y: top, xanchor: 'left', yanchor: 'bottom',
      yshift: k === 0 ? 36 : 2, showarrow: false, font: { size: 19 },
    });
    return {
      type: 'heatmap', name: q, z, y: order.map(String), xaxis: axis(k, 'x'), yaxis: axis(k, 'y'),
      text: z.map(() => ctx.labels), // one shared array: hover names the token without T*H copies
      ...colourRange(q, maxAbs),
      hovertemplate: `token %{text}<br>position %{x}<br>unit %{y}<br>${q} = %{z:.4f}<extra></extra>`,
      colorbar: { title: { text: isGate(q) ? `${q} (0 to 1)` : `${q} (0 = white)`, side: 'right' }, thickness: 16,
        len: rowPx / inner, y: (top + bottom) / 2, yanchor: 'middle' },
    };
  });
  layout.shapes = shapes(ctx);
  return [data, layout];
}

/** Redraw for a new trace, layer, direction or unit order. */
function label() {
  const sentence = thinNote(placeLabels(fig, labelling.tokens, labelling));
  note.hidden = !sentence;
  note.textContent = sentence || '';
}

export async function update(ctx) {
  const [data, layout] = figure(ctx);
  const first = !plot.data;
  await Plotly.react(plot, data, layout, exportConfig(fig, 'xaxis6'));
  labelling = { tokens: ctx.trace.tokens, margin: MARGIN, height: layout.height, px: ctx.wordTokens ? 64 : 14 };
  label();
  if (first) {
    followZoom(fig, label);
    plot.on('plotly_click', (ev) => {
      const pt = ev.points && ev.points[0];
      if (pt) emit({ unit: Number(pt.y), t: Number(pt.x) });
    });
  }
}

/** Move the time and unit markers only: cheap, so scrubbing and playing stay smooth. */
export function setTime(ctx) {
  return Plotly.relayout(plot, { shapes: shapes(ctx) });
}

export const setUnit = setTime;
