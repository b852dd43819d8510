// One unit: its i, f, g, o, c and h over time as lines, and the text coloured char by char by one quantity
// (as in Karpathy, Johnson and Fei-Fei 2015, "Visualizing and Understanding Recurrent Networks").

import { at } from './arrays.js';
import { colourOf, isBackward, LINE_COLOURS, QUANTITIES, fmt, quantityName, visible } from './format.js';
import { t as tr } from './i18n.js';
import { baseLayout, emit, px, timeLine } from './plot.js';
import { hosted, reactWithTokens } from './strip.js';
import { any } from './view.js';

const margin = () => ({ l: px(60), r: 20, t: px(20), b: px(40) });

function series(ctx, q) {
  const { direction, unit } = ctx.state;
  const y = new Float32Array(ctx.T).fill(NaN); // stays NaN for h beyond a projection's H_out units
  if (unit >= ctx.trace[q].shape[3]) return y;
  for (let t = 0; t < ctx.T; t++) y[t] = at(ctx.trace[q], ctx.slot, direction, t, unit);
  return y;
}

function lines(ctx) {
  const data = QUANTITIES.map((q) => ({
    type: 'scatter', mode: ctx.T > 80 ? 'lines' : 'lines+markers', name: quantityName(q), y: series(ctx, q),
    text: ctx.labels, line: { color: LINE_COLOURS[q], width: q === 'c' ? 4 : 2.5, dash: q === 'g' ? 'dot' : 'solid' },
    marker: { size: 5 }, hovertemplate: `${tr('unit.hover', { q })}<extra></extra>`,
  }));
  const layout = baseLayout({
    height: px(340), margin: margin(),
    legend: { orientation: 'h', y: 1.12, font: { size: px(16) } },
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
  const legend = document.createElement('p');
  legend.className = 'note';
  const textBox = document.createElement('div');
  textBox.id = 'unit-text';
  textBox.className = 'coloured-text';
  textBox.addEventListener('click', (ev) => {
    const t = ev.target.dataset && ev.target.dataset.t;
    if (t !== undefined) emit({ t: Number(t) });
  });
  el.replaceChildren(heading, fig.host, legend, textBox);
  let spans = [];
  let marked = null;

  function markTime(t) {
    if (marked) marked.classList.remove('now');
    marked = spans[t] || null;
    if (marked) marked.classList.add('now');
  }

  return {
    update(ctx, changed) {
      if (any(changed, 'data', 'layer', 'quantity', 'unit')) {
        const { unit, layer, quantity } = ctx.state;
        heading.textContent = tr('unit.heading', { unit, layer,
          direction: tr(isBackward(ctx) ? 'direction.backward' : 'direction.forward') });
        spans = colourSpans(ctx);
        textBox.replaceChildren(...spans);
        legend.textContent = tr('unit.legend', { quantity: quantityName(quantity) });
        marked = null;
        markTime(ctx.state.t);
        const [data, layout] = lines(ctx);
        return reactWithTokens(fig, data, layout, ctx, layout.margin);
      }
      if (!changed.has('time')) return undefined;
      markTime(ctx.state.t);
      return Plotly.relayout(fig.gd, { shapes: [timeLine(ctx.state.t)] });
    },
  };
}
