// Delta trace answers. A page that holds the answer for one text sends that text with the next request
// (`held`); for a causal model the server then answers only positions `start`..T-1 (app/service.py
// unchanged_prefix), and splice() puts the held answer's first `start` positions in front of them, so that
// the rest of the page sees a whole answer as ever. Typing one character at the end of a 2,000-token text
// then moves a few kB instead of megabytes, and the page decodes only those: the new steps are written in place
// after the held ones (arrays.js Steps), where no answer holds values yet; otherwise into a new store.

import { allocSteps, roomFor, Steps, wireValues, writeSteps } from './arrays.js';
import { QUANTITIES } from './format.js';

// The fields that hold one entry per position.
const PER_POSITION = ['tokens', 'ids', 'spans', 'next_prob'];

/** Steps `held` (or null) up to `start`, then the wire array `x`'s steps, decoded into place. */
function place(held, x, start) {
  const w = wireValues(x);
  const [L, D, Tw, H] = w.shape;
  const T = start + Tw;
  const shape = [L, D, T, H];
  let out;
  if (held && T <= held.cap && (Tw === 0 || start >= held.room.high)) {
    out = new Steps(held.buf, shape, held.cap, held.room); // nobody sees steps start.. of this buffer yet
    out.room.high = Math.max(out.room.high, T);
  } else {
    out = allocSteps(shape, roomFor(T));
    for (let ld = 0; held && ld < L * D; ld++) {
      out.buf.set(held.buf.subarray(ld * held.cap * H, (ld * held.cap + start) * H), ld * out.cap * H);
    }
  }
  writeSteps(out, start, w);
  return out;
}

const joinList = (a, b, start) => a.slice(0, start).concat(b);

let answers = 0;
// How many earlier answers each answer remembers sharing its first positions with: a view off screen draws about
// once a second (scheduler.js), a dozen answers later while someone types, and can still update by the new ones.
const SHARES = 32;

/** How many first positions `answer` holds bit for bit from the answer numbered `serial` (0: none known; answers
 * that did not come through splice(), a training snapshot's probe, have no serial and share nothing). */
export function shared(answer, serial) {
  if (!serial) return 0;
  if (answer.serial === serial) return answer.i.shape[2];
  const found = answer.shares && answer.shares.find(([s]) => s === serial);
  return found ? found[1] : 0;
}

/** The whole answer: `held` (a whole answer, from splice) up to `delta.start`, then `delta` (as it came from the
 * server, arrays still in their wire form; made whole in place). Each whole answer gets a `serial`, and `prefix`:
 * {of: the held answer's serial, start}, saying that its positions 0..start-1 hold that answer's values, so a view
 * may redraw only what follows (heatmaps.js); and `shares`: [[serial, n]] the same for the answers before the held
 * one (the first n positions of each), read by shared(). */
export function splice(held, delta) {
  const start = delta.start || 0;
  const from = start ? held : null;
  for (const q of QUANTITIES) delta[q] = place(from && from[q], delta[q], start);
  delta.serial = ++answers;
  delta.prefix = start ? { of: held.serial, start } : null;
  delta.shares = start ? [[held.serial, start],
    ...held.shares.slice(0, SHARES - 1).map(([s, n]) => [s, Math.min(n, start)])] : [];
  if (!start) return delta;
  for (const k of PER_POSITION) delta[k] = joinList(held[k], delta[k], start);
  if (delta.top_k) {
    for (const k of ['ids', 'tokens', 'probs']) delta.top_k[k] = joinList(held.top_k[k], delta.top_k[k], start);
  }
  delta.start = 0; // whole now
  return delta;
}
