// Where a lesson looks, computed from the current trace: which timestep each step of the lesson puts in
// front of the class, and the numbers it quotes. Pure functions of the view context; no DOM.
//
// The lesson's unit comes from the server (/api/lessons/{id}: measured on the model's task, or named by its
// model card). The timesteps come from the trace of whatever sentence is in the box now:
//   write   where the memory is written: the first token ("first", remember), the step before the last
//           where the unit's |i_t * g_t| is largest ("largest": an a in counter...), or that step among the
//           tokens of the place ("place", hometown: the text between one language's opening and separator,
//           "我来自" … "，"; "largest" when the sentence has no such place)
//   place   [first, last] token of the place, or null
//   hold    the steps after the write (after the place) up to the last one, where the forget gate must keep
//           the memory
//   end     the last step, where the answer is predicted (the blank)

import { at } from './arrays.js';

/** The seven steps: the example, the notes' five parts, the prediction. */
export const STEPS = ['example', 'cell', 'forget', 'input', 'update', 'output', 'prediction'];

/** The section each step shows in the page, and the element in it the step talks about (outlined). */
export const SECTIONS = {
  example: 'sec-input', cell: 'sec-unit', forget: 'sec-step', input: 'sec-step', update: 'sec-step',
  output: 'sec-step', prediction: 'sec-predictions',
};
export const TARGETS = {
  example: '#sec-input', cell: '#sec-unit', forget: '#step-forget', input: '#step-input', update: '#step-update',
  output: '#step-output', prediction: '#sec-predictions',
};

const LAYER = 0; // lesson units are units of the first layer, forward direction

/** The place in the current text: {span: [first, last] token, lang}, for the first [lang, opening, separator]
 * of `triples` whose opening is followed by its separator (the place is the text between them); null if there
 * is none, or it reaches the last token. */
export function findPlace(ctx, triples) {
  const { text } = ctx;
  const spans = ctx.trace.spans || [];
  for (const [lang, opening, separator] of triples || []) {
    const start = text.indexOf(opening);
    if (start < 0) continue;
    const from = start + opening.length;
    const to = text.indexOf(separator, from);
    if (to <= from) continue;
    const inside = [];
    spans.forEach(([a, b], t) => { if (b > a && a >= from && b <= to) inside.push(t); });
    if (inside.length && inside[inside.length - 1] < ctx.T - 1) {
      return { span: [inside[0], inside[inside.length - 1]], lang };
    }
  }
  return null;
}

/** The lesson as it applies to the current text: when its card ranks units per language (hometown), the unit
 * and evidence of the language whose place the text holds. */
export function forText(ctx, info) {
  const found = info.write === 'place' ? findPlace(ctx, info.place) : null;
  const own = found && info.by_language && info.by_language[found.lang];
  return own ? { ...info, ...own } : info;
}

/** {value(q, t), write, place, end, hold: [from, to] or null, low (argmin f over hold), focus: {step: t}} */
export function plan(ctx, lesson) {
  const slot = ctx.trace.layers.indexOf(LAYER);
  const value = (q, t) => at(ctx.trace[q], slot, 0, t, lesson.unit);
  const end = ctx.T - 1;
  const place = lesson.write === 'place' ? findPlace(ctx, lesson.place)?.span ?? null : null;
  let write = 0;
  if (lesson.write !== 'first') {
    const [from, to] = place || [0, Math.max(1, end) - 1];
    let most = -1;
    for (let t = from; t <= to; t++) {
      const w = Math.abs(value('i', t) * value('g', t));
      if (w > most) [most, write] = [w, t];
    }
  }
  const after = place ? place[1] + 1 : write + 1;
  const hold = after <= end - 1 ? [after, end - 1] : null;
  let low = hold ? hold[0] : end; // where the memory is closest to being forgotten
  if (hold) for (let t = hold[0]; t <= hold[1]; t++) if (value('f', t) < value('f', low)) low = t;
  return { value, write, place, end, hold, low,
    focus: { example: end, cell: end, forget: low, input: write, update: write, output: end, prediction: end } };
}

/** min, max and mean of quantity q over timesteps [from, to] (inclusive). */
export function stats(p, q, from, to) {
  let [min, max, sum] = [Infinity, -Infinity, 0];
  for (let t = from; t <= to; t++) {
    const v = p.value(q, t);
    [min, max, sum] = [Math.min(min, v), Math.max(max, v), sum + v];
  }
  return { min, max, mean: sum / (to - from + 1) };
}

/** Mean of quantity q over every timestep outside [from, to] (null when there is no other step). */
export function meanElsewhere(p, q, from, to = from) {
  let [sum, n] = [0, 0];
  for (let t = 0; t <= p.end; t++) {
    if (t < from || t > to) [sum, n] = [sum + p.value(q, t), n + 1];
  }
  return n ? sum / n : null;
}

/** The k likeliest next tokens after position t: [{token, p}]. */
export function top(ctx, t, k = 3) {
  const { tokens, probs } = ctx.trace.top_k || { tokens: [], probs: [] };
  return (tokens[t] || []).slice(0, k).map((token, r) => ({ token, p: probs[t][r], rank: r }));
}
