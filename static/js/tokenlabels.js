// The tokens along a time axis (heatscene.js, timescene.js), placed so that no two labels overlap at any width and
// in any script. A stride picks the candidates (every k-th step, so labels stay put while the text grows); each is
// measured (painter.js) and cut to its room, and one that would still touch the label before it is left out (a
// wide letter among narrow ones, a Chinese character wider than the stride's room). The chosen step's label, when a
// figure marks one, is always shown: laid over the others, those it would touch are taken out.

import { tickStride, visible } from './format.js';
import { fitText, measure } from './painter.js';

export const GAP = 4; // px at least between two labels

/** The stride k for `n` steps on `width` px: the room a typical label needs (the median of up to 64 of `tokens`
 * spread over steps t0..t0+n-1, measured at `size` px), at least `least` px, for each. */
export function labelStride(tokens, t0, n, width, size, least) {
  const every = Math.max(1, Math.floor(n / 64));
  const widths = [];
  for (let s = t0; s < t0 + n && s < tokens.length; s += every) widths.push(measure(visible(tokens[s]), size));
  widths.sort((a, b) => a - b);
  const typical = widths.length ? widths[widths.length >> 1] : 0;
  return tickStride(n, width, Math.max(least, typical + GAP));
}

/** One label {t, x, text, w}: step s's token cut to `room` px, centred at x(s) but kept within [lo, hi]. */
function label(tokens, s, x, size, room, lo, hi) {
  const text = fitText(visible(tokens[s]), size, room);
  const w = measure(text, size);
  return { t: s, x: Math.min(Math.max(x(s), lo + w / 2), hi - w / 2), text, w };
}

const touch = (a, b) => Math.abs(a.x - b.x) < (a.w + b.w) / 2 + GAP;

/** Labels for `steps` (ascending) at x(s) in px, at `size` px, each cut to `room` px, none touching another. */
export function place(tokens, steps, x, { size, room, lo, hi }) {
  const out = [];
  for (const s of steps) {
    const next = label(tokens, s, x, size, room, lo, hi);
    if (!out.length || !touch(out[out.length - 1], next)) out.push(next);
  }
  return out;
}

/** `labels` (from place()) with step s's label put in: {labels, chosen, gone} (gone: those it displaced, for the
 * caller to erase; chosen: null when s had a label already or is off the axis). */
export function withChosen(labels, tokens, s, x, { size, room, lo, hi }) {
  if (s === null || labels.some((l) => l.t === s)) return { labels, chosen: null, gone: [] };
  const chosen = label(tokens, s, x, size, room, lo, hi);
  const gone = labels.filter((l) => touch(l, chosen));
  const kept = labels.filter((l) => !touch(l, chosen));
  const at = kept.findIndex((l) => l.x > chosen.x);
  kept.splice(at < 0 ? kept.length : at, 0, chosen);
  return { labels: kept, chosen, gone };
}
