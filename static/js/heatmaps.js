// Heatmaps of i, f, g, o, c and h: time across (typed tokens as labels), units down. One Plotly figure with
// six stacked subplots sharing the time axis draws the axes and markers and handles zooming (one zooms all);
// the cells are painted here, one canvas pixel per cell stretched by CSS. Why: Plotly's heatmap path (a
// d3 colour per cell, then a PNG per trace) and its colour bars were most of a keystroke's redraw, while
// a 256-colour lookup into ImageData takes a few ms. The traces stay in the figure, hidden, holding the
// values: the PNG export shows them (with Plotly's colour bars), and so does `gd.data` for tests.
// Token labels (strip.js), colour bars and the hover box are HTML beside the figure.

import { block } from './api.js';
import { colourRange, fmt, NAMES, QUANTITIES, isGate, thinNote, visible } from './format.js';
import { baseLayout, emit, rowMarker, timeMarker } from './plot.js';
import { exportConfig, followZoom, hosted, placeLabels } from './strip.js';

const MARGIN = { l: 64, r: 110, t: 92, b: 44 };
const GAP = 44; // px between subplots, room for each one's title
let note = null;
let fig = null;
let plot = null;
let labelling = null; // how to re-place the token labels: {tokens, margin, height, px}
let layer = null; // {cells, scales, tip}: the HTML under and beside the Plotly figure
let shown = null; // what the canvases show: {data, T, H, order, tokens}

export function render(el, ctx) {
  el.replaceChildren();
  note = document.createElement('p');
  note.className = 'note';
  note.hidden = true;
  fig = hosted('heatmaps-plot', ['top', 'bottom']);
  plot = fig.gd;
  const cells = document.createElement('div');
  cells.className = 'heat-cells';
  const scales = document.createElement('div');
  scales.className = 'colour-scales';
  scales.setAttribute('aria-hidden', 'true'); // hover gives each value; the colour bars only summarise
  const tip = document.createElement('div');
  tip.className = 'heat-tip';
  tip.hidden = true;
  fig.host.prepend(cells); // before the figure, so the figure's transparent plot areas show the cells
  fig.host.append(scales, tip);
  layer = { cells, scales, tip };
  // The exported PNG carries no HTML: it gets Plotly's own cells and colour bars back.
  fig.exportData = (data) => data.map((d) => ({ ...d, visible: true, showscale: true }));
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

/** Unit names every k-th row, k such that about 14 fit; the rows are positions 0..H-1 on a linear axis. */
function unitTicks(order) {
  const k = Math.max(1, Math.ceil(order.length / 14));
  const tickvals = [];
  for (let r = 0; r < order.length; r += k) tickvals.push(r);
  return { tickmode: 'array', tickvals, ticktext: tickvals.map((r) => String(order[r])) };
}

function figure(ctx) {
  const rowPx = Math.min(240, Math.max(120, 60 + ctx.H * 4));
  const height = MARGIN.t + MARGIN.b + QUANTITIES.length * rowPx + (QUANTITIES.length - 1) * GAP;
  const inner = height - MARGIN.t - MARGIN.b;
  const layout = baseLayout({ height, margin: MARGIN, annotations: [], plot_bgcolor: 'rgba(0,0,0,0)' });
  const data = QUANTITIES.map((q, k) => {
    const top = 1 - (k * (rowPx + GAP)) / inner;
    const bottom = top - rowPx / inner;
    const { z, maxAbs, order } = rows(ctx.trace[q], ctx);
    layout[axis(k, 'xaxis')] = {
      range: [-0.5, ctx.T - 0.5], anchor: axis(k, 'y'), showticklabels: false, ticks: '', showgrid: false,
      zeroline: false, ...(k ? { matches: 'x' } : {}),
    };
    layout[axis(k, 'yaxis')] = {
      domain: [bottom, top], range: [order.length - 0.5, -0.5], showgrid: false, zeroline: false,
      title: { text: 'unit' }, tickfont: { size: 13 }, anchor: axis(k, 'x'), ...unitTicks(order),
      ticklabeloverflow: 'allow', // else Plotly measures every label against every other on each redraw
    };
    layout.annotations.push({
      text: NAMES[q], xref: 'paper', yref: 'paper', x: 0, y: top, xanchor: 'left', yanchor: 'bottom',
      yshift: k === 0 ? 36 : 2, showarrow: false, font: { size: 19 },
    });
    return {
      type: 'heatmap', name: q, z, y: order.map(String), xaxis: axis(k, 'x'), yaxis: axis(k, 'y'),
      visible: false, // painted by paint(); shown by Plotly only in the PNG export
      text: z.map(() => ctx.labels), // one shared array: hover names the token without T*H copies
      ...colourRange(q, maxAbs),
      hovertemplate: `token %{text}<br>position %{x}<br>unit %{y}<br>${q} = %{z:.4f}<extra></extra>`,
      showscale: false,
      colorbar: { title: { text: isGate(q) ? `${q} (0 to 1)` : `${q} (0 = white)`, side: 'right' }, thickness: 16,
        len: rowPx / inner, y: (top + bottom) / 2, yanchor: 'middle' },
    };
  });
  layout.shapes = shapes(ctx);
  return [data, layout, rowPx];
}

const hex = (c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16));

/** 256 colours of a Plotly colour scale [[x, '#rrggbb'], ...], as little-endian RGBA words for ImageData. */
function lookup(scale) {
  const lut = new Uint32Array(256);
  for (let j = 0; j < 256; j++) {
    const x = j / 255;
    let k = 0;
    while (k < scale.length - 2 && scale[k + 1][0] < x) k++;
    const [x0, c0] = scale[k];
    const [x1, c1] = scale[k + 1];
    const w = (x - x0) / (x1 - x0 || 1);
    const [r, g, b] = hex(c0).map((u, i) => Math.round(u + (hex(c1)[i] - u) * w));
    lut[j] = (255 << 24) | (b << 16) | (g << 8) | r;
  }
  return lut;
}
const LUTS = new Map();
const lutOf = (scale) => LUTS.get(scale) || LUTS.set(scale, lookup(scale)).get(scale);

/** Paint each trace's z (rows of length T) into a T x H canvas, one pixel per cell. */
function paint(data, T) {
  const canvases = data.map((d, k) => {
    const H = d.z.length;
    const canvas = layer.cells.children[k]?.firstChild || document.createElement('canvas');
    if (canvas.width !== T) canvas.width = T;
    if (canvas.height !== H) canvas.height = H;
    const g = canvas.getContext('2d');
    const img = g.createImageData(T, H);
    const px = new Uint32Array(img.data.buffer); // (H, T) RGBA words
    const lut = lutOf(d.colorscale);
    const lo = d.zmin;
    const s = 255 / (d.zmax - d.zmin);
    for (let r = 0; r < H; r++) {
      const row = d.z[r];
      for (let t = 0; t < T; t++) {
        const j = Math.round((row[t] - lo) * s);
        px[r * T + t] = Number.isNaN(j) ? 0xffdddddd : lut[j < 0 ? 0 : j > 255 ? 255 : j];
      }
    }
    g.putImageData(img, 0, 0);
    return canvas;
  });
  if (layer.cells.children.length !== data.length) {
    layer.cells.replaceChildren(...canvases.map((c) => {
      const clip = document.createElement('div');
      clip.append(c);
      return clip;
    }));
  }
}

/** Place each canvas over its subplot for the axes' current ranges (zooming only moves and stretches it). */
function place() {
  const L = plot._fullLayout;
  if (!L || !shown) return;
  [...layer.cells.children].forEach((clip, k) => {
    const xa = L[axis(k, 'xaxis')];
    const ya = L[axis(k, 'yaxis')];
    Object.assign(clip.style, { left: `${xa._offset}px`, top: `${ya._offset}px`, width: `${xa._length}px`,
      height: `${ya._length}px` });
    const x0 = xa.l2p(-0.5);
    const x1 = xa.l2p(shown.T - 0.5);
    const y0 = ya.l2p(-0.5);
    const y1 = ya.l2p(shown.data[k].z.length - 0.5);
    Object.assign(clip.firstChild.style, { left: `${Math.min(x0, x1)}px`, top: `${Math.min(y0, y1)}px`,
      width: `${Math.abs(x1 - x0)}px`, height: `${Math.abs(y1 - y0)}px` });
  });
}

const GRADIENT = (scale) => `linear-gradient(to top, ${scale.map(([x, c]) => `${c} ${(x * 100).toFixed(1)}%`).join(', ')})`;

/** One colour bar per subplot beside its right edge: the gradient, five values and the scale's name. */
function legend(data, rowPx) {
  const bars = data.map((d, k) => {
    const bar = document.createElement('div');
    bar.className = 'colour-scale';
    bar.style.top = `${MARGIN.t + k * (rowPx + GAP)}px`;
    bar.style.height = `${rowPx}px`;
    const ramp = document.createElement('div');
    ramp.className = 'ramp';
    ramp.style.background = GRADIENT(d.colorscale);
    const ticks = [1, 0.75, 0.5, 0.25, 0].map((x) => {
      const tick = document.createElement('span');
      tick.style.top = `${(1 - x) * 100}%`;
      tick.textContent = fmt(d.zmin + x * (d.zmax - d.zmin), 2);
      return tick;
    });
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = d.colorbar.title.text;
    bar.append(ramp, ...ticks, title);
    return bar;
  });
  layer.scales.replaceChildren(...bars);
}

/** The cell under a mouse event: {k, t, r} (subplot, time, row), or null outside every plot area. */
function cellAt(ev) {
  const L = plot._fullLayout;
  if (!L || !shown) return null;
  const box = plot.getBoundingClientRect();
  const x = ev.clientX - box.left;
  const y = ev.clientY - box.top;
  for (let k = 0; k < shown.data.length; k++) {
    const xa = L[axis(k, 'xaxis')];
    const ya = L[axis(k, 'yaxis')];
    if (x < xa._offset || x > xa._offset + xa._length || y < ya._offset || y > ya._offset + ya._length) continue;
    const t = Math.round(xa.p2l(x - xa._offset));
    const r = Math.round(ya.p2l(y - ya._offset));
    if (t >= 0 && t < shown.T && r >= 0 && r < shown.data[k].z.length) return { k, t, r, x, y };
  }
  return null;
}

function hover(ev) {
  const cell = cellAt(ev);
  const { tip } = layer;
  if (!cell) { tip.hidden = true; return; }
  const d = shown.data[cell.k];
  const lines = [`token ${visible(shown.tokens[cell.t])}`, `position ${cell.t}`, `unit ${d.y[cell.r]}`,
    `${d.name} = ${d.z[cell.r][cell.t].toFixed(4)}`];
  tip.replaceChildren(...lines.map((s) => Object.assign(document.createElement('div'), { textContent: s })));
  tip.hidden = false;
  const right = cell.x > plot.clientWidth / 2; // keep the box inside the figure
  tip.style.left = right ? '' : `${cell.x + 14}px`;
  tip.style.right = right ? `${plot.clientWidth - cell.x + 14}px` : '';
  tip.style.top = `${cell.y + 14}px`;
}

function label() {
  const sentence = thinNote(placeLabels(fig, labelling.tokens, labelling));
  note.hidden = !sentence;
  note.textContent = sentence || '';
}

/** Redraw for a new trace, layer, direction or unit order. */
export async function update(ctx) {
  const [data, layout, rowPx] = figure(ctx);
  const first = !plot.data;
  shown = { data, T: ctx.T, tokens: ctx.trace.tokens };
  paint(data, ctx.T);
  await Plotly.react(plot, data, layout, exportConfig(fig, 'xaxis6'));
  place();
  legend(data, rowPx);
  labelling = { tokens: ctx.trace.tokens, margin: MARGIN, height: layout.height, px: ctx.wordTokens ? 64 : 14 };
  label();
  if (first) {
    followZoom(fig, () => { place(); label(); });
    plot.on('plotly_relayout', place); // a zoom of the unit axis too
    plot.addEventListener('mousemove', hover);
    plot.addEventListener('mouseleave', () => { layer.tip.hidden = true; });
    plot.addEventListener('click', (ev) => {
      const cell = cellAt(ev);
      if (cell) emit({ unit: Number(shown.data[cell.k].y[cell.r]), t: cell.t });
    });
  }
}

/** Move the time and unit markers only: cheap, so scrubbing and playing stay smooth. */
export function setTime(ctx) {
  return Plotly.relayout(plot, { shapes: shapes(ctx) });
}

export const setUnit = setTime;
