// What the model outputs, whatever its head (trace.head):
// - next_token: the top-k next tokens under each position, shaded by probability, for a window around t,
//   and the surprisal (-log2 p) the model had for each token that actually came next, over the whole text;
// - tagger: the top-k labels at each position, in the same grid;
// - classifier: one bar per class for the whole text (classes.js);
// - none: a sentence. Whatever a head does not use is hidden, so nothing of the previous model stays.

import { chart } from './canvaschart.js';
import { drawClasses, shownClasses } from './classes.js';
import { fmt, labelText, visible } from './format.js';
import { language, t as tr } from './i18n.js';
import { emit, px } from './plot.js';
import { scene } from './timescene.js';
import { any } from './view.js';

function column(ctx, p) {
  const col = document.createElement('div');
  col.className = p === ctx.state.t ? 'pred-col now' : 'pred-col';
  col.dataset.t = String(p);
  const head = document.createElement('div');
  head.className = 'pred-tok';
  head.textContent = visible(ctx.trace.tokens[p]);
  col.append(head);
  const lm = ctx.trace.head === 'next_token';
  const next = lm ? ctx.trace.tokens[p + 1] : undefined; // a tagger's labels have no "what came next"
  const { tokens, probs } = ctx.trace.top_k;
  tokens[p].forEach((tok, k) => {
    const cell = document.createElement('div');
    const pr = probs[p][k];
    cell.className = tok === next ? 'pred-cell hit' : 'pred-cell';
    cell.style.background = `rgba(0, 114, 178, ${pr.toFixed(3)})`;
    cell.style.color = pr > 0.45 ? '#fff' : '#111';
    const name = document.createElement('b');
    name.textContent = lm ? visible(tok) : labelText(tok);
    cell.append(name, ` ${Math.round(pr * 100)}%`);
    cell.title = tr(lm ? 'predictions.cell_title' : 'predictions.label_title', { after: visible(ctx.trace.tokens[p]),
      t: p, token: name.textContent, p: fmt(pr) });
    col.append(cell);
  });
  return col;
}

/** The columns of top-k predictions for a window around t, as wide as `width` px allows. */
function drawGrid(grid, note, ctx, width) {
  const n = Math.max(1, Math.min(ctx.T, Math.floor(width / (ctx.wordTokens ? 130 : 86))));
  const start = Math.max(0, Math.min(ctx.T - n, ctx.state.t - Math.floor(n / 2)));
  const cols = [];
  for (let p = start; p < start + n; p++) cols.push(column(ctx, p));
  grid.replaceChildren(...cols);
  const k = ctx.trace.top_k.tokens[0]?.length ?? 0;
  note.textContent = tr(ctx.trace.head === 'next_token' ? 'predictions.note' : 'predictions.tagger_note', { k })
    + (n < ctx.T ? ` ${tr('predictions.window', { from: start, to: start + n - 1, T: ctx.T })}` : '');
}

/** Each token's surprisal (bits): -log2 of the probability the model gave it a step before (API next_prob);
 * NaN at t = 0 and for a token out of the vocabulary. */
const surprisal = (ctx) => Float64Array.from(ctx.trace.next_prob, (p) => (p === null || p <= 0 ? NaN : -Math.log2(p)));

/** The scene (timescene.js) of the surprisal line `y` over the whole text, t marked; `key` names its base. */
function surprisalScene(ctx, y, key) {
  const tip = (t) => tr(Number.isNaN(y[t]) ? 'predictions.hover_none' : 'predictions.hover',
    { token: visible(ctx.trace.tokens[t]), t, bits: fmt(y[t], 2) });
  return scene({ key, tokens: ctx.trace.tokens, height: px(270) - px(24), title: tr('predictions.surprisal_title'),
    lines: [{ name: 'surprisal', colour: '#D55E00', width: 2.5, y }], yTitle: tr('axis.bits'), fromZero: true,
    markers: 400, t: ctx.state.t, tip, wordTokens: ctx.wordTokens, label: tr('predictions.label', { count: ctx.T }) });
}

/** The sentence above a classifier's bars: what it reads, and how to read its probabilities. */
function classifierNote(ctx) {
  const head = ctx.info.head || {};
  const { labels } = ctx.trace.classes;
  const parts = [tr(head.pool === 'last' ? 'predictions.classifier_last' : 'predictions.classifier_final')];
  if (head.activation === 'sigmoid') parts.push(tr('predictions.sigmoid'));
  const n = shownClasses(ctx.trace.classes).length;
  if (n < labels.length) parts.push(tr('predictions.classes_top', { n, K: labels.length }));
  return parts.join(' ');
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data', 'time']);

export function create(el) {
  const note = document.createElement('p');
  note.className = 'note';
  const grid = document.createElement('div');
  grid.id = 'pred-grid';
  grid.className = 'pred-grid';
  grid.addEventListener('click', (ev) => {
    const col = ev.target.closest('[data-t]');
    if (col) emit({ t: Number(col.dataset.t) });
  });
  const fig = chart('surprisal-plot');
  const bars = document.createElement('div');
  bars.id = 'classes-plot';
  bars.className = 'plot';
  el.replaceChildren(note, grid, fig.box, fig.saves, bars);
  let y = null; // the surprisal line drawn
  let version = 0; // counts the traces drawn: part of the base's key

  return {
    update(ctx, changed) {
      const kind = ctx.trace.head; // next_token, tagger, classifier, or null without a head
      const perPosition = Boolean(ctx.trace.top_k);
      if (changed.has('data')) {
        grid.hidden = !perPosition;
        if (!perPosition || kind !== 'next_token') fig.clear();
        bars.hidden = kind !== 'classifier';
        if (!kind) note.textContent = tr('predictions.none');
      }
      if (kind === 'classifier') {
        if (!changed.has('data')) return undefined; // one answer for the whole text: t changes nothing
        note.textContent = classifierNote(ctx);
        return drawClasses(bars, ctx.trace.classes);
      }
      if (!perPosition || !any(changed, 'data', 'time')) return undefined;
      drawGrid(grid, note, ctx, el.clientWidth || 900);
      if (kind !== 'next_token') return undefined;
      if (changed.has('data')) {
        y = surprisal(ctx);
        version += 1;
      }
      fig.draw(surprisalScene(ctx, y, `${version} ${language()} ${px(100)}`));
      return undefined;
    },
  };
}
