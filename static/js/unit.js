// One unit: the quantities the reader ticks (c and the gates' mean at first) over time as lines, and the text
// coloured char by char by one quantity (as in Karpathy, Johnson and Fei-Fei 2015, "Visualizing and
// Understanding Recurrent Networks"). Drawn on a canvas (canvaschart.js, timescene.js): more steps than half the
// figure's pixel columns are drawn as min-max bands over two-pixel runs, while the hover gives each step's exact
// value; a new t repaints only its marker, and a keystroke that appends keeps the coloured text it had.

import { at } from './arrays.js';
import { colourOf, isBackward, LINE_COLOURS, QUANTITIES, fmt, quantityName, visible } from './format.js';
import { chart } from './canvaschart.js';
import { language, t as tr } from './i18n.js';
import { emit, px } from './plot.js';
import { scene } from './timescene.js';
import { any } from './view.js';

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

/** The lines of the quantities in `shown` of ctx's unit, for timescene.js. */
const linesOf = (ctx, shown) => CHOICES.filter((q) => shown.has(q)).map((q) => ({ q, name: nameOf(q),
  colour: COLOURS[q], width: q === 'c' ? 4 : 2.5, dash: q === 'g' ? [2, 4] : null, y: series(ctx, q) }));

/** The scene of `drawn` (linesOf) at ctx.state.t; `key` names its base. */
function lines(ctx, drawn, key) {
  const tip = (t) => [tr('unit.hover', { token: visible(ctx.trace.tokens[t]), t }),
    ...drawn.map((d) => tr('unit.hover_value', { q: d.q === GATES ? '(i+f+o)/3' : d.q, value: fmt(d.y[t]) }))].join('\n');
  return scene({ key, tokens: ctx.trace.tokens, lines: drawn, height: px(340), yTitle: tr('axis.value'), markers: 80,
    t: ctx.state.t, tip, wordTokens: ctx.wordTokens, label: tr('unit.label', { unit: ctx.state.unit, count: ctx.T }) });
}

/** One token's span, coloured by value v of quantity q (of at most |maxAbs|), at step t. */
function span(q, tok, t, v, maxAbs) {
  const s = document.createElement('span');
  const { bg, fg } = colourOf(q, v, maxAbs);
  s.style.background = bg;
  s.style.color = fg;
  s.dataset.t = String(t);
  // Newlines stay line breaks, with a visible mark; other whitespace is shown by its coloured box.
  s.textContent = tok === '\n' ? '⏎\n' : tok.replace(/[\u0000-\u0009\u000b-\u001f]/g, (c) => visible(c));
  s.title = tr('unit.char_title', { t, token: visible(tok), q, value: fmt(v) });
  return s;
}

/**
 * The text in `box` coloured token by token by quantity ctx.state.quantity of this unit: draw(ctx) returns the
 * spans. A span is made again only when something it shows changed: typing at the end of a long text (an LSTM's
 * forward values before the edit stay the same) adds the new tokens' spans and keeps the others.
 */
function colouredText(box) {
  let spans = [];
  let was = null; // what the spans show: {q, tokens, v, maxAbs, lang}
  return (ctx) => {
    const q = ctx.state.quantity;
    const v = series(ctx, q);
    let maxAbs = 0;
    for (const a of v) maxAbs = Math.max(maxAbs, Math.abs(a));
    const { tokens } = ctx.trace;
    let keep = 0;
    if (was && was.q === q && was.maxAbs === maxAbs && was.lang === language()) {
      const n = Math.min(was.tokens.length, tokens.length);
      while (keep < n && was.tokens[keep] === tokens[keep] && Object.is(was.v[keep], v[keep])) keep += 1;
    }
    for (const s of spans.splice(keep)) s.remove();
    const fresh = [];
    for (let t = keep; t < tokens.length; t++) fresh.push(span(q, tokens[t], t, v[t], maxAbs));
    box.append(...fresh);
    spans.push(...fresh);
    was = { q, tokens, v, maxAbs, lang: language() };
    return spans;
  };
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data', 'layer', 'quantity', 'unit', 'time']);

export function create(el) {
  const heading = document.createElement('h3');
  heading.id = 'unit-heading';
  const fig = chart('unit-plot');
  const shown = new Set(['c', GATES]);
  const picks = document.createElement('div'); // which quantities to draw: the legend, as checkboxes
  picks.className = 'unit-picks';
  let last = null; // the context last drawn, to redraw when the reader ticks a box
  let drawn = []; // its lines (linesOf)
  let version = 0; // counts the traces, layers, directions and units drawn: part of the base's key
  const redraw = (ctx) => fig.draw(lines(ctx, drawn, `${version} ${[...shown]} ${language()} ${px(100)}`));
  const boxes = CHOICES.map((q) => {
    const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: shown.has(q), value: q });
    box.addEventListener('change', () => {
      if (box.checked) shown.add(q); else shown.delete(q);
      if (!last) return;
      drawn = linesOf(last, shown);
      redraw(last);
    });
    const label = document.createElement('label');
    label.style.borderColor = COLOURS[q];
    label.append(box, document.createElement('span'));
    picks.append(label);
    return label;
  });
  const legend = document.createElement('p');
  legend.className = 'note';
  const textBox = document.createElement('div');
  textBox.id = 'unit-text';
  textBox.className = 'coloured-text';
  textBox.addEventListener('click', (ev) => {
    const t = ev.target.dataset && ev.target.dataset.t;
    if (t !== undefined) emit({ t: Number(t) }, el);
  });
  el.replaceChildren(heading, picks, fig.box, fig.saves, legend, textBox);
  const colour = colouredText(textBox);
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
        spans = colour(ctx);
        legend.textContent = tr('unit.legend', { quantity: quantityName(quantity) });
        boxes.forEach((label, k) => { label.lastChild.textContent = nameOf(CHOICES[k]); });
        if (any(changed, 'data', 'layer', 'unit')) {
          drawn = linesOf(ctx, shown);
          version += 1;
        }
      } else if (!changed.has('time')) return undefined;
      markTime(ctx.state.t);
      redraw(ctx);
      return undefined;
    },
  };
}
