// Two runs side by side (the /api/compare answer in ctx.compare): run a's and run b's chosen quantity for the
// layer and direction shown, their difference b − a where the tokens align (the shared start and the shared
// end), how far apart each quantity is there with the threshold and the point where the runs part, and how
// much more or less likely run b found each actual token. A clamped run is run b, its clamped cells marked.

import { block } from './arrays.js';
import { colourRange, DIVERGING, fmt, LINE_COLOURS, plotLabel, QUANTITIES, quantityName, tokenTicks as ticks,
  visible, wrap } from './format.js';
import { t } from './i18n.js';
import { baseLayout, CONFIG, emit } from './plot.js';
import { any } from './view.js';

const MARGIN = { l: 64, r: 96, t: 40, b: 50 };
const GAP = 70; // between rows: the row above's tick labels and this row's title
const NARROW = 600; // px: a phone, where titles wrap onto a second line and need a wider gap

const maxAbs = (xs) => xs.reduce((m, v) => (Math.abs(v) > m ? Math.abs(v) : m), 0);

/** Rows [unit][t] of quantity q of a decoded trace at layer slot l, direction d. */
function rows(tr, q, l, d) {
  const [, , T, H] = tr[q].shape;
  const x = block(tr[q], l, d);
  return Array.from({ length: H }, (_, u) => Float32Array.from({ length: T }, (_, s) => x[s * H + u]));
}

/** Where layer slot `slot` and direction `d` fall in run b, which may have fewer layers or directions. */
const within = (tr, slot, d) => [Math.min(slot, tr.i.shape[0] - 1), Math.min(d, tr.i.shape[1] - 1)];

function figure(ctx, c, width) {
  const { quantity: q, direction: d } = ctx.state;
  const { a, b, alignment } = c;
  const pairs = alignment.pairs;
  const [lb, db] = within(b, ctx.slot, d);
  const za = rows(a, q, ctx.slot, d);
  const zb = rows(b, q, lb, db);
  const m = Math.max(...za.map(maxAbs), ...zb.map(maxAbs), 1e-6);
  const heatPx = Math.min(220, Math.max(110, 40 + za.length * 5));
  const heights = c.diff ? [heatPx, heatPx, heatPx, 190, 150] : [heatPx, heatPx, 150];
  const gap = width < NARROW ? GAP + 30 : GAP;
  const height = MARGIN.t + MARGIN.b + heights.reduce((s, h) => s + h, 0) + gap * (heights.length - 1);
  const inner = height - MARGIN.t - MARGIN.b;
  const layout = baseLayout({ height, margin: MARGIN, showlegend: Boolean(c.diff), shapes: [], annotations: [],
    legend: { x: 1.01, xanchor: 'left', y: 1, yanchor: 'top', font: { size: 14 } } });
  let top = 1;
  const titles = [];
  heights.forEach((h, k) => {
    const s = k ? k + 1 : '';
    layout[`yaxis${s}`] = { domain: [top - h / inner, top], anchor: `x${s}`, zeroline: false };
    layout[`xaxis${s}`] = { anchor: `y${s}`, zeroline: false };
    titles.push({ x: 0, y: top, yshift: 4 });
    top -= (h + gap) / inner;
  });
  const labels = (tr) => tr.tokens.map(plotLabel);
  const pairLabels = pairs.map(([s]) => plotLabel(a.tokens[s]));
  const [nameA, nameB] = c.titles;
  const bar = (s, span, title) => { // a colour bar beside row s, `span` rows tall
    const [lo] = layout[`yaxis${span > 1 ? Number(s || 1) + span - 1 : s}`].domain;
    const hi = layout[`yaxis${s}`].domain[1];
    return { title: { text: title, side: 'right' }, thickness: 14, len: hi - lo, y: (hi + lo) / 2, yanchor: 'middle' };
  };
  const heat = (z, s, name, scale) => ({ type: 'heatmap', z, xaxis: `x${s}`, yaxis: `y${s}`, name,
    showscale: Boolean(scale), ...(scale ? { colorbar: scale } : {}), ...colourRange(q, m),
    hovertemplate: `t=%{x}<br>${t('hover.unit')} %{y}<br>${q} = %{z:.4f}<extra>${name}</extra>` });
  const data = [heat(za, '', nameA, bar('', 2, q)), heat(zb, '2', nameB, null)];
  const text = [`${nameA}: ${quantityName(q)}`, `${nameB}: ${quantityName(q)}`];
  Object.assign(layout.xaxis, ticks(labels(a), width));
  Object.assign(layout.xaxis2, ticks(labels(b), width));
  for (const s of ['', '2', ...(c.diff ? ['3'] : [])]) Object.assign(layout[`yaxis${s}`], { autorange: 'reversed',
    title: { text: t('axis.unit') } });
  for (const iv of b.interventions || []) { // run b's clamped cells
    if (iv.layer !== ctx.state.layer || iv.direction !== d) continue;
    data.push({ type: 'scatter', mode: 'markers', x: iv.positions, y: iv.positions.map(() => iv.unit), xaxis: 'x2',
      yaxis: 'y2', showlegend: false, // an open symbol takes marker.color: black, on every colour of the scale
      marker: { symbol: 'x-thin-open', size: 12, color: '#000', line: { width: 3, color: '#000' } },
      hovertemplate: `${t('compare.clamped_hover', { quantity: iv.quantity, value: fmt(iv.value, 3) })}<extra></extra>` });
  }
  if (c.diff) {
    const dz = rows(c.diff, q, ctx.slot, d);
    const dm = Math.max(...dz.map(maxAbs), 1e-6);
    data.push({ type: 'heatmap', z: dz, xaxis: 'x3', yaxis: 'y3', name: 'diff', colorbar: bar('3', 1, `Δ${q}`),
      colorscale: DIVERGING, zmin: -dm, zmax: dm, zmid: 0,
      hovertemplate: `%{x}<br>${t('hover.unit')} %{y}<br>Δ${q} = %{z:.4f}<extra></extra>` });
    text.push(t('compare.diff_title', { a: nameA, b: nameB }), t('compare.peak_title'));
    for (const p of QUANTITIES) {
      data.push({ type: 'scatter', mode: 'lines+markers', y: c.peak[p][ctx.slot][d], xaxis: 'x4', yaxis: 'y4',
        name: p, legendgroup: 'peak', line: { color: LINE_COLOURS[p], width: p === q ? 4 : 2 }, marker: { size: 5 },
        hovertemplate: `max |Δ${p}| = %{y:.4f}<extra></extra>` });
    }
    layout.shapes.push({ type: 'line', xref: 'x4 domain', x0: 0, x1: 1, yref: 'y4', y0: c.threshold,
      y1: c.threshold, line: { color: '#888', width: 2, dash: 'dash' } });
    for (const s of ['3', '4', '5']) Object.assign(layout[`xaxis${s}`], ticks(pairLabels, width),
      { range: [-0.5, Math.max(1, pairs.length) - 0.5] });
    layout.yaxis4.rangemode = 'tozero';
    layout.legend.y = layout.yaxis4.domain[1]; // in the right margin beside the lines, where no colour bar is
  } else {
    Object.assign(layout.xaxis3, ticks(pairLabels, width), { range: [-0.5, Math.max(1, pairs.length) - 0.5] });
  }
  const barAxis = c.diff ? '5' : '3';
  const delta = c.next_prob_delta.map((v) => (v === null ? NaN : v));
  data.push({ type: 'bar', y: delta, xaxis: `x${barAxis}`, yaxis: `y${barAxis}`, showlegend: false,
    marker: { color: delta.map((v) => (v >= 0 ? '#0072B2' : '#D55E00')) }, text: pairLabels, textposition: 'none',
    hovertemplate: `“%{text}”: Δp = %{y:+.4f}<extra></extra>` });
  text.push(t('compare.delta_title', { b: nameB, a: nameA }));
  const size = width < NARROW ? 15 : 17;
  const chars = Math.max(16, Math.floor((width - MARGIN.l) / (size * 0.55)));
  layout.annotations = text.map((s, k) => ({ text: wrap(s, chars), xref: 'paper', yref: 'paper', ...titles[k],
    xanchor: 'left', yanchor: 'bottom', align: 'left', showarrow: false, font: { size } }));
  return { data, layout, pairAxes: c.diff ? ['3', '4', '5'] : ['3'] };
}

/** The moving markers: t on every row (in b and on the aligned pairs where t has a partner), the unit row. */
function markers(ctx, c, pairAxes) {
  const { t: now, unit } = ctx.state;
  const line = (xref, x) => ({ type: 'line', xref, x0: x, x1: x, yref: `${xref.replace('x', 'y')} domain`, y0: 0, y1: 1,
    line: { color: '#000', width: 2, dash: 'dot' } });
  const shapes = [line('x', now)];
  const j = c.alignment.pairs.findIndex(([s]) => s === now);
  if (j >= 0) shapes.push(line('x2', c.alignment.pairs[j][1]), ...pairAxes.map((s) => line(`x${s}`, j)));
  const row = (s) => ({ type: 'rect', xref: `x${s} domain`, x0: 0, x1: 1, yref: `y${s}`, y0: unit - 0.5, y1: unit + 0.5,
    line: { color: '#000', width: 2 }, fillcolor: 'rgba(0,0,0,0)' });
  shapes.push(row(''), row('2'), ...(c.diff ? [row('3')] : []));
  const div = c.divergence && c.divergence.any[ctx.slot][ctx.state.direction];
  if (div !== null && div !== undefined) {
    shapes.push(...pairAxes.map((s) => ({ type: 'line', xref: `x${s}`, x0: div, x1: div, yref: `y${s} domain`, y0: 0,
      y1: 1, line: { color: '#000', width: 3 } })));
  }
  const p = c.alignment.prefix;
  if (p > 0 && p < c.alignment.pairs.length) { // where the unaligned middles were cut out
    shapes.push(...pairAxes.map((s) => ({ type: 'line', xref: `x${s}`, x0: p - 0.5, x1: p - 0.5, yref: `y${s} domain`,
      y0: 0, y1: 1, line: { color: '#888', width: 2, dash: 'dot' } })));
  }
  return shapes;
}

/** The sentence over the figure: where the runs part and agree again, and the largest change in p. */
function summary(ctx, c) {
  const { pairs, prefix, suffix } = c.alignment;
  const parts = [t('compare.aligned', { prefix, suffix, count: pairs.length })];
  if (!c.diff) parts.push(c.reason);
  else {
    const j = c.divergence.any[ctx.slot][ctx.state.direction];
    const last = c.last_divergent.any[ctx.slot][ctx.state.direction];
    if (j === null) parts.push(t('compare.never', { threshold: c.threshold }));
    else {
      parts.push(t('compare.parts', { threshold: c.threshold, ta: pairs[j][0], tb: pairs[j][1],
        token: visible(c.a.tokens[pairs[j][0]]) }));
      if (last < pairs.length - 1) parts.push(t('compare.agree_again', { t: pairs[last + 1][0] }));
    }
  }
  const deltas = c.next_prob_delta.map((v, k) => [v === null ? 0 : Math.abs(v), k]).sort((x, y) => y[0] - x[0]);
  if (deltas.length && deltas[0][0] > 0) {
    const k = deltas[0][1];
    parts.push(t('compare.biggest_change', { delta: fmt(c.next_prob_delta[k], 3), t: pairs[k][0],
      token: visible(c.a.tokens[pairs[k][0]]) }));
  }
  return parts.join(' ');
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['compare', 'data', 'layer', 'quantity', 'unit', 'time']);

export function create(el) {
  const note = document.createElement('p');
  note.className = 'note compare-summary';
  note.id = 'compare-summary';
  const plot = document.createElement('div');
  plot.id = `compare-plot-${Math.random().toString(36).slice(2, 8)}`;
  plot.className = 'plot compare-plot';
  let drawn = null; // {c, pairAxes}: what the figure shows

  function clicks() {
    plot.on('plotly_click', (ev) => {
      const pt = ev.points && ev.points[0];
      if (!pt || !drawn) return;
      const axis = pt.data.xaxis;
      if (axis === 'x' && pt.data.type === 'heatmap') emit({ unit: pt.y, t: pt.x });
      else if (drawn.pairAxes.includes(axis.slice(1))) emit({ t: drawn.c.alignment.pairs[pt.x][0] });
    });
  }

  return {
    update(ctx, changed) {
      if (!any(changed, ...draws)) return undefined;
      const r = ctx.compare;
      if (!r || !r.answer) { // off, waiting for input, or refused: a sentence and no figure
        drawn = null;
        note.textContent = !r ? t('compare.off') : r.error || t(r.note);
        note.classList.toggle('error', Boolean(r && r.error));
        el.replaceChildren(note);
        return undefined;
      }
      const c = { ...r.answer, titles: r.view === 'clamp' ? [t('compare.unmodified'), t('compare.clamped')]
        : r.view === 'models' ? [r.answer.a.model, r.answer.b.model] : ['a', 'b'] };
      note.classList.remove('error');
      note.textContent = summary(ctx, c);
      if (!plot.isConnected) el.replaceChildren(note, plot);
      if (drawn && drawn.c.answer === r.answer && !any(changed, 'compare', 'data', 'layer', 'quantity')) {
        return Plotly.relayout(plot, { shapes: [...drawn.base, ...markers(ctx, c, drawn.pairAxes)] });
      }
      const { data, layout, pairAxes } = figure(ctx, c, el.clientWidth || 900);
      drawn = { c: { ...c, answer: r.answer }, pairAxes, base: layout.shapes };
      layout.shapes = [...layout.shapes, ...markers(ctx, c, pairAxes)];
      const first = !plot.data;
      const done = Plotly.react(plot, data, layout, CONFIG);
      if (first) clicks();
      return done;
    },
  };
}
