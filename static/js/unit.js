// One unit: the quantities the reader ticks (c and the gates' mean at first) over time as lines, and the text
// coloured char by char by one quantity (as in Karpathy, Johnson and Fei-Fei 2015, "Visualizing and
// Understanding Recurrent Networks"). A text longer than the figure has pixels is drawn as a min-max band per
// pixel column, while an invisible full-resolution line answers the hover with every exact value.

import { at } from './arrays.js';
import { colourOf, isBackward, LINE_COLOURS, QUANTITIES, fmt, quantityName, visible } from './format.js';
import { t as tr } from './i18n.js';
import { baseLayout, emit, px, timeLine } from './plot.js';
import { hosted, reactWithTokens } from './strip.js';
import { any } from './view.js';

const margin = () => ({ l: px(60), r: 20, t: px(20), b: px(40) });
const GATES = 'gates'; // the mean of the three gates i, f, o: one line that says how open the unit is
const CHOICES = [...QUANTITIES, GATES];
const COLOURS = { ...LINE_COLOURS, [GATES]: '#56B4E9' };
const nameOf = (q) => (q === GATES ? tr('unit.gates_mean') : quantityName(q));

function series(ctx, q) {
  if (q === GATES) {
    const [i, f, o] = ['i', 'f', 'o'].map((g) => series(ctx, g));
    return i.map((v, t) => (v + f[t] + o[t]) / 3);
  }
  const { direction, unit } = ctx.state;
  const y = new Float32Array(ctx.T).fill(NaN); // stays NaN for h beyond a projection's H_out units
  if (unit >= ctx.trace[q].shape[3]) return y;
  for (let t = 0; t < ctx.T; t++) y[t] = at(ctx.trace[q], ctx.slot, direction, t, unit);
  return y;
}

/** Min and max of y over `n` equal runs of time, at each run's middle: a band one pixel column per run. */
function band(y, n) {
  const x = [];
  const lo = [];
  const hi = [];
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
    x.push((from + to - 1) / 2);
    lo.push(a <= z ? a : null); // a run of NaN (h beyond a projection's units) leaves a gap
    hi.push(a <= z ? z : null);
  }
  return { x, lo, hi };
}

/** The traces of quantity q: one line, or (more steps than `columns` pixel columns) a band plus the hover line. */
function traces(ctx, q, columns) {
  const y = series(ctx, q);
  const colour = COLOURS[q];
  const hover = { type: 'scatter', mode: ctx.T > 80 ? 'lines' : 'lines+markers', name: nameOf(q), y, text: ctx.labels,
    line: { color: colour, width: q === 'c' ? 4 : 2.5, dash: q === 'g' ? 'dot' : 'solid' }, marker: { size: 5 },
    hovertemplate: `${tr('unit.hover', { q: q === GATES ? '(i+f+o)/3' : q })}<extra></extra>` };
  if (ctx.T <= columns) return [hover];
  const { x, lo, hi } = band(y, columns);
  const edge = { type: 'scatter', mode: 'lines', x, hoverinfo: 'skip', line: { color: colour, width: 1 } };
  return [{ ...edge, y: lo }, { ...edge, y: hi, fill: 'tonexty', fillcolor: `${colour}55` },
    { ...hover, opacity: 0 }]; // drawn by the band, hovered on every exact value
}

function lines(ctx, shown, columns) {
  const data = CHOICES.filter((q) => shown.has(q)).flatMap((q) => traces(ctx, q, columns));
  const layout = baseLayout({
    height: px(340), margin: margin(), showlegend: false, hovermode: 'x',
    uirevision: ctx.T, // zoom survives a change of the quantities drawn
    xaxis: { showticklabels: false, range: [-0.5, ctx.T - 0.5] },
    yaxis: { zeroline: true, zerolinecolor: '#888', title: { text: tr('axis.value') } },
    shapes: [timeLine(ctx.state.t)],
  });
  return [data, layout];
}

/** Spans of the text coloured char by char by quantity ctx.state.quantity of this unit. */
function colourSpans(ctx) {
  const q = ctx.state.quantity;
  const v = series(ctx, q);
  let maxAbs = 0;
  for (const a of v) maxAbs = Math.max(maxAbs, Math.abs(a));
  return ctx.trace.tokens.map((tok, t) => {
    const s = document.createElement('span');
    const { bg, fg } = colourOf(q, v[t], maxAbs);
    s.style.background = bg;
    s.style.color = fg;
    s.dataset.t = String(t);
    // Newlines stay line breaks, with a visible mark; other whitespace is shown by its coloured box.
    s.textContent = tok === '\n' ? '⏎\n' : tok.replace(/[\u0000-\u0009\u000b-\u001f]/g, (c) => visible(c));
    s.title = tr('unit.char_title', { t, token: visible(tok), q, value: fmt(v[t]) });
    return s;
  });
}

export function create(el) {
  const heading = document.createElement('h3');
  heading.id = 'unit-heading';
  const fig = hosted('unit-plot');
  const shown = new Set(['c', GATES]);
  const picks = document.createElement('div'); // which quantities to draw: the legend, as checkboxes
  picks.className = 'unit-picks';
  let last = null; // the context last drawn, to redraw when the reader ticks a box
  const boxes = CHOICES.map((q) => {
    const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: shown.has(q), value: q });
    box.addEventListener('change', () => {
      if (box.checked) shown.add(q); else shown.delete(q);
      if (last) reactWithTokens(fig, ...lines(last, shown, plotPx()), last, margin());
    });
    const label = document.createElement('label');
    label.style.borderColor = COLOURS[q];
    label.append(box, document.createElement('span'));
    picks.append(label);
    return label;
  });
  const plotPx = () => Math.max(50, (fig.host.clientWidth || 600) - margin().l - margin().r);
  const legend = document.createElement('p');
  legend.className = 'note';
  const textBox = document.createElement('div');
  textBox.id = 'unit-text';
  textBox.className = 'coloured-text';
  textBox.addEventListener('click', (ev) => {
    const t = ev.target.dataset && ev.target.dataset.t;
    if (t !== undefined) emit({ t: Number(t) }, el);
  });
  el.replaceChildren(heading, picks, fig.host, legend, textBox);
  let spans = [];
  let marked = null;

  function markTime(t) {
    if (marked) marked.classList.remove('now');
    marked = spans[t] || null;
    if (marked) marked.classList.add('now');
  }

  return {
    update(ctx, changed) {
      last = ctx;
      if (any(changed, 'data', 'layer', 'quantity', 'unit')) {
        const { unit, layer, quantity } = ctx.state;
        heading.textContent = tr('unit.heading', { unit, layer,
          direction: tr(isBackward(ctx) ? 'direction.backward' : 'direction.forward') });
        spans = colourSpans(ctx);
        textBox.replaceChildren(...spans);
        legend.textContent = tr('unit.legend', { quantity: quantityName(quantity) });
        marked = null;
        markTime(ctx.state.t);
        boxes.forEach((label, k) => { label.lastChild.textContent = nameOf(CHOICES[k]); });
        const [data, layout] = lines(ctx, shown, plotPx());
        return reactWithTokens(fig, data, layout, ctx, layout.margin);
      }
      if (!changed.has('time')) return undefined;
      markTime(ctx.state.t);
      return Plotly.relayout(fig.gd, { shapes: [timeLine(ctx.state.t)] });
    },
  };
}
