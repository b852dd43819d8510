// Heatmaps of i, f, g, o, c and h: time across (typed tokens as labels), units down, one plot each.

import { block } from './api.js';
import { colourRange, NAMES, QUANTITIES, isGate, timeTicks } from './format.js';
import { baseLayout, CONFIG, emit, rowMarker, timeMarker } from './plot.js';

let root = null;
let note = null;
const plots = {};
const MARGIN = { l: 64, r: 24, t: 40, b: 56 };

export function render(el, ctx) {
  root = el;
  el.replaceChildren();
  note = document.createElement('p');
  note.className = 'note';
  note.hidden = true;
  el.append(note);
  for (const q of QUANTITIES) {
    const div = document.createElement('div');
    div.id = `heat-${q}`;
    div.className = 'plot heatmap';
    el.append(div);
    plots[q] = div;
  }
  return update(ctx);
}

/** The (H, T) rows of quantity q in display order: rows[r][t] = value of unit order[r] at time t. */
function rows(a, ctx) {
  const x = block(a, ctx.slot, ctx.state.direction); // (T, H)
  const { T, H } = ctx;
  let maxAbs = 0;
  const z = ctx.order.map((u) => {
    const row = new Float32Array(T);
    for (let t = 0; t < T; t++) {
      const v = x[t * H + u];
      row[t] = v;
      const av = Math.abs(v);
      if (av > maxAbs) maxAbs = av;
    }
    return row;
  });
  return { z, maxAbs };
}

function shapes(ctx) {
  return [...timeMarker(ctx.state.t), ...rowMarker(ctx.order.indexOf(ctx.state.unit))];
}

function figure(q, ctx, ticks) {
  const { z, maxAbs } = rows(ctx.trace[q], ctx);
  const text = z.map(() => ctx.labels); // one shared array: hover names the token without copying T*H strings
  const trace = {
    type: 'heatmap', z, text, y: ctx.order.map(String), ...colourRange(q, maxAbs),
    hovertemplate: `token %{text}<br>position %{x}<br>unit %{y}<br>${q} = %{z:.4f}<extra></extra>`,
    colorbar: { title: { text: isGate(q) ? `${q} (0 to 1)` : `${q} (0 = white)`, side: 'right' }, thickness: 16 },
  };
  const layout = baseLayout({
    height: Math.min(360, Math.max(220, 90 + ctx.H * 4)),
    margin: MARGIN,
    title: { text: NAMES[q], x: 0.01, xanchor: 'left', font: { size: 20 } },
    xaxis: { ...ticks, tickmode: 'array', tickangle: 'auto', automargin: true, tickfont: { size: 16 },
      range: [-0.5, ctx.T - 0.5], title: { text: '' } },
    yaxis: { type: 'category', autorange: 'reversed', title: { text: 'unit' }, tickfont: { size: 13 } },
    shapes: shapes(ctx),
  });
  return [[trace], layout];
}

/** Redraw every heatmap for a new trace, layer, direction or unit order. */
export function update(ctx) {
  const width = (root.clientWidth || 900) - MARGIN.l - MARGIN.r - 90;
  const { tickvals, ticktext, note: sentence } = timeTicks(ctx.labels, width, ctx.wordTokens ? 28 : 18);
  note.hidden = !sentence;
  note.textContent = sentence || '';
  return Promise.all(QUANTITIES.map((q) => {
    const [data, layout] = figure(q, ctx, { tickvals, ticktext });
    const first = !plots[q].data;
    const p = Plotly.react(plots[q], data, layout, CONFIG);
    if (first) {
      plots[q].on('plotly_click', (ev) => {
        const pt = ev.points && ev.points[0];
        if (pt) emit({ unit: Number(pt.y), t: Number(pt.x) });
      });
    }
    return p;
  }));
}

/** Move the time and unit markers only: cheap, so scrubbing and playing stay smooth. */
export function setTime(ctx) {
  return Promise.all(QUANTITIES.map((q) => Plotly.relayout(plots[q], { shapes: shapes(ctx) })));
}

export const setUnit = setTime;
