// The tokens along a time axis (heatscene.js, timescene.js), placed so that no two labels overlap at any width and
// in any script. A stride k picks them: exactly every k-th step (the multiples of k, so labels stay put while the text
// grows). Each is measured (painter.js) and cut to its room; when one would still touch the label before it (a wide
// letter among narrow ones, a Chinese character wider than the stride's room), k grows until none does, so the axis
// says the truth: "one token in every k". The chosen step's label, when a figure marks one, is always shown: laid
// over the others, those it would touch are taken out.

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

/** The labels of exactly every k-th step of t0..t1 at x(s) in px, at `size` px, each cut to its room (k columns of
 * `step` px, less GAP), none touching another: the smallest k from `k` up at which every one fits (at k = n, the
 * window's length, there is one). {k, labels, fit}; fit ({size, room, lo, hi}) is the k's, for withChosen(). */
export function spaced(tokens, t0, t1, x, k, { size, step, lo, hi }) {
  for (let every = k; ; every += 1) {
    const fit = { size, room: step * every - GAP, lo, hi };
    const labels = [];
    let s = Math.ceil(t0 / every) * every;
    for (; s <= t1; s += every) {
      const next = label(tokens, s, x, size, fit.room, lo, hi);
      if (labels.length && touch(labels[labels.length - 1], next)) break;
      labels.push(next);
    }
    if (s > t1 || every > t1 - t0) return { k: every, labels, fit };
  }
}

/** `labels` (from spaced()) with step s's label put in: {labels, chosen, gone} (gone: those it displaced, for the
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
