// Delta trace answers. A page that holds the answer for one text sends that text with the next request
// (`held`); for a causal model the server then answers only positions `start`..T-1 (app/service.py
// unchanged_prefix), and splice() puts the held answer's first `start` positions in front of them, so that
// the rest of the page sees a whole answer as ever. Typing one character at the end of a 2,000-token text
// then moves a few kB instead of megabytes.

import { QUANTITIES } from './format.js';

// The fields that hold one entry per position.
const PER_POSITION = ['tokens', 'ids', 'spans', 'next_prob'];

/** Positions [0, start) of array a ({data, shape [L, D, Ta, H]}) followed by every position of b ([L, D, Tb, H]). */
function joinTime(a, b, start) {
  const [L, D, Ta, H] = a.shape;
  const Tb = b.shape[2];
  const T = start + Tb;
  const data = new Float32Array(L * D * T * H);
  for (let ld = 0; ld < L * D; ld++) {
    data.set(a.data.subarray(ld * Ta * H, (ld * Ta + start) * H), ld * T * H);
    data.set(b.data.subarray(ld * Tb * H, (ld + 1) * Tb * H), (ld * T + start) * H);
  }
  return { data, shape: [L, D, T, H] };
}

const joinList = (a, b, start) => a.slice(0, start).concat(b);

let answers = 0;
// How many earlier answers each answer remembers sharing its first positions with: a view off screen draws about
// once a second (scheduler.js), a dozen answers later while someone types, and can still update by the new ones.
const SHARES = 32;

/** How many first positions `answer` holds bit for bit from the answer numbered `serial` (0: none known). */
export function shared(answer, serial) {
  if (answer.serial === serial) return answer.i.shape[2];
  const found = answer.shares && answer.shares.find(([s]) => s === serial);
  return found ? found[1] : 0;
}

/** The whole answer: `held` (a whole decoded answer) up to `delta.start`, then `delta` (decoded, in place). Each
 * whole answer gets a `serial`, and `prefix`: {of: the held answer's serial, start}, saying that its positions
 * 0..start-1 hold that answer's values, so a view may redraw only what follows (heatmaps.js); and `shares`:
 * [[serial, n]] the same for the answers before the held one (the first n positions of each), read by shared(). */
export function splice(held, delta) {
  const { start } = delta;
  delta.serial = ++answers;
  delta.prefix = start ? { of: held.serial, start } : null;
  delta.shares = start ? [[held.serial, start],
    ...held.shares.slice(0, SHARES - 1).map(([s, n]) => [s, Math.min(n, start)])] : [];
  if (!start) return delta;
  for (const q of QUANTITIES) delta[q] = joinTime(held[q], delta[q], start);
  for (const k of PER_POSITION) delta[k] = joinList(held[k], delta[k], start);
  if (delta.top_k) {
    for (const k of ['ids', 'tokens', 'probs']) delta.top_k[k] = joinList(held.top_k[k], delta.top_k[k], start);
  }
  delta.start = 0; // whole now
  return delta;
}
