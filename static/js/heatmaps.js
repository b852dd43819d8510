// Heatmaps of i, f, g, o, c and h: time across (typed tokens as labels), units down. One Plotly figure with
// six stacked subplots sharing the time axis draws the axes and the markers and handles zooming (zooming one
// zooms all). Its heatmap traces hold the values but stay hidden: cells.js paints the cells on canvases under
// the figure and the colour bars beside it, far quicker than Plotly (the PNG export shows Plotly's own).
// Token labels (strip.js), colour bars and the hover box are HTML beside the figure.

import { block } from './arrays.js';
import { axis, cellAt, colourBars, paint, place } from './cells.js';
import { colourRange, QUANTITIES, isGate, quantityName, thinNote, visible } from './format.js';
import { t } from './i18n.js';
import { baseLayout, emit, px, rowMarker, timeMarker } from './plot.js';
import { exportConfig, followZoom, hosted, placeLabels } from './strip.js';
import { any } from './view.js';

const MARGIN = { l: 64, r: 110, t: 92, b: 44 };
// A phone: the unit axis without its title and the colour scales without theirs, so the cells get the width.
const NARROW = { ...MARGIN, l: 40, r: 60 };
const GAP = 44; // px between subplots, room for each one's title

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

function shapes(ctx) {
  const r = shownUnits(ctx.order, ctx.state.top).indexOf(ctx.state.unit); // -1: the unit is not among those shown
  return [...timeMarker(ctx.state.t, ctx.T), ...(r < 0 ? [] : QUANTITIES.flatMap((_, k) => rowMarker(r, axis(k, 'y'))))];
}

/** Unit names every k-th row, k such that about 14 fit; the rows are positions 0..H-1 on a linear axis. */
function unitTicks(order) {
  const k = Math.max(1, Math.ceil(order.length / 14));
  const tickvals = [];
  for (let r = 0; r < order.length; r += k) tickvals.push(r);
  return { tickmode: 'array', tickvals, ticktext: tickvals.map((r) => String(order[r])) };
}

/** Height of one subplot for H units, and of the whole figure. */
const rowHeight = (H) => Math.min(240, Math.max(120, 60 + H * 4));
const figureHeight = (rowPx) => MARGIN.t + MARGIN.b + QUANTITIES.length * rowPx + (QUANTITIES.length - 1) * GAP;

/** The room the figure (and the two notes above it) will take for model `info` (view.js). */
export function reserve(info) {
  return figureHeight(rowHeight(info.hidden_size)) + 80;
}

function figure(ctx, margin) {
  const rowPx = rowHeight(shownUnits(ctx.order, ctx.state.top).length);
  const height = figureHeight(rowPx);
  const inner = height - MARGIN.t - MARGIN.b;
  const layout = baseLayout({ height, margin, annotations: [], plot_bgcolor: 'rgba(0,0,0,0)' });
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
      title: { text: margin === NARROW ? '' : t('axis.unit') }, tickfont: { size: px(13) }, anchor: axis(k, 'x'),
      ...unitTicks(order),
      ticklabeloverflow: 'allow', // else Plotly measures every label against every other on each redraw
    };
    layout.annotations.push({
      text: quantityName(q), xref: 'paper', yref: 'paper', x: 0, y: top, xanchor: 'left', yanchor: 'bottom',
      yshift: k === 0 ? 36 : 2, showarrow: false, font: { size: px(19) },
    });
    return {
      type: 'heatmap', name: q, z, y: order.map(String), xaxis: axis(k, 'x'), yaxis: axis(k, 'y'),
      visible: false, // cells.js paints the cells; Plotly draws them only in the PNG export
      text: z.map(() => ctx.labels), // one shared array: hover names the token without T*H copies
      ...colourRange(q, maxAbs),
      hovertemplate: `${t('heatmaps.hover', { q })}<extra></extra>`,
      showscale: false,
      colorbar: { title: { text: t(isGate(q) ? 'heatmaps.scale_gate' : 'heatmaps.scale_signed', { q }), side: 'right' },
        thickness: 16,
        len: rowPx / inner, y: (top + bottom) / 2, yanchor: 'middle' },
    };
  });
  layout.shapes = shapes(ctx);
  return [data, layout, rowPx];
}

export function create(el) {
  const ordering = document.createElement('p'); // what the order means, in one line
  ordering.className = 'note order-note';
  const note = document.createElement('p');
  note.className = 'note';
  note.hidden = true;
  const fig = hosted('heatmaps-plot', ['top', 'bottom']);
  const plot = fig.gd;
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
  // The exported PNG carries no HTML: it gets Plotly's own cells and colour bars back.
  fig.exportData = (data) => data.map((d) => ({ ...d, visible: true, showscale: true }));
  el.replaceChildren(note, ordering, fig.host);
  let labelling = null; // how to re-place the token labels: {tokens, margin, height, px}
  let shown = null; // what the canvases show: {data, T, tokens, trace, key}

  const placeCells = () => shown && place(cells, plot, shown.data);

  /** The hover box: token, position, unit and value of the cell under the mouse. */
  function hover(ev) {
    const cell = shown && cellAt(plot, ev, shown.data, shown.T);
    if (!cell) { tip.hidden = true; return; }
    const d = shown.data[cell.k];
    const lines = [t('hover.token', { token: visible(shown.tokens[cell.t]) }), t('hover.position', { t: cell.t }),
      t('hover.unit', { unit: d.y[cell.r] }), `${d.name} = ${d.z[cell.r][cell.t].toFixed(4)}`];
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

  /** A new trace drawn on the same axes (same rows, layer, quantity, size): while typing. The figure keeps its
   * axes, so Plotly only moves the x range and the markers instead of replotting six subplots, and the canvases
   * paint only the columns after what the new trace shares with the one shown (splice.js prefix). */
  async function extend(ctx, data, layout, rowPx, key) {
    const before = shown;
    const { prefix } = ctx.trace;
    const same = ctx.trace === before.trace ? ctx.T : prefix && prefix.of === before.trace.serial ? prefix.start : 0;
    shown = { data, T: ctx.T, tokens: ctx.trace.tokens, trace: ctx.trace, key };
    paint(cells, data, ctx.T, Math.min(same, before.T));
    // The hidden traces' values, for the PNG export (and hover's names); Plotly draws nothing from them here.
    plot.data.forEach((d, k) => Object.assign(d, { z: data[k].z, text: data[k].text, zmin: data[k].zmin,
      zmax: data[k].zmax }));
    colourBars(scales, data, (k) => MARGIN.t + k * (rowPx + GAP), rowPx);
    labelling = { ...labelling, tokens: ctx.trace.tokens };
    const edit = { shapes: layout.shapes };
    for (let k = 0; k < data.length; k++) edit[`${axis(k, 'xaxis')}.range`] = [-0.5, ctx.T - 0.5];
    await Plotly.relayout(plot, edit); // its plotly_relayout event places the canvases and the labels
  }

  /** Every figure, cell and label for a new trace, layer, direction or unit order. */
  async function draw(ctx) {
    const narrow = fig.host.clientWidth < 600;
    fig.host.classList.toggle('narrow', narrow);
    const margin = narrow ? NARROW : MARGIN;
    const [data, layout, rowPx] = figure(ctx, margin);
    // What the axes depend on besides the text's length: unchanged, a new trace only extends the figure.
    const key = JSON.stringify([margin.l, layout.height, layout.font.size, ctx.wordTokens, data.map((d) => d.y)]);
    if (shown && shown.key === key && plot.data) return extend(ctx, data, layout, rowPx, key);
    const { order, top } = ctx.state;
    ordering.textContent = t(`order.about.${order}`, { q: ctx.state.quantity })
      + (top > 0 && top < ctx.H ? ` ${t('top.note', { n: top, H: ctx.H })}` : '');
    const first = !plot.data;
    shown = { data, T: ctx.T, tokens: ctx.trace.tokens, trace: ctx.trace, key };
    labelling = { tokens: ctx.trace.tokens, margin, height: layout.height, px: ctx.wordTokens ? 64 : 14 };
    paint(cells, data, ctx.T);
    await Plotly.react(plot, data, layout, exportConfig(fig, 'xaxis6'));
    placeCells();
    colourBars(scales, data, (k) => MARGIN.t + k * (rowPx + GAP), rowPx);
    label();
    if (first) {
      followZoom(fig, label);
      plot.on('plotly_relayout', placeCells); // a zoom of either axis
      plot.addEventListener('mousemove', hover);
      plot.addEventListener('mouseleave', () => { tip.hidden = true; });
      const choose = (ev) => {
        const cell = shown && cellAt(plot, ev, shown.data, shown.T);
        if (cell) emit({ unit: Number(shown.data[cell.k].y[cell.r]), t: cell.t }, el);
      };
      plot.addEventListener('click', choose);
      // Plotly's drag layer takes a finger's touches, so no click follows a tap: a tap that did not move is one.
      let down = null;
      plot.addEventListener('pointerdown', (ev) => { down = ev.pointerType === 'touch' ? ev : null; });
      plot.addEventListener('pointerup', (ev) => {
        if (down && Math.hypot(ev.clientX - down.clientX, ev.clientY - down.clientY) < 10) {
          choose(ev);
          hover(ev);
        }
        down = null;
      });
    }
  }

  return {
    update(ctx, changed) {
      if (any(changed, 'layer', 'quantity', 'order')) shown = null; // new rows: the whole figure again
      if (any(changed, 'data', 'layer', 'quantity', 'order')) return draw(ctx);
      // Only the time and unit markers move: cheap, so scrubbing and playing stay smooth.
      if (any(changed, 'unit', 'time')) return Plotly.relayout(plot, { shapes: shapes(ctx) });
      return undefined;
    },
  };
}
