// The trace's arrays in the page: decoding the wire forms, storing them with room to grow in time, and reading them.
// Quantity arrays have shape [L', D, T, H]: layer slot (index into trace.layers), direction, time, unit. Each is a
// Steps: block (l, d) holds `cap` >= T steps, so that the steps a keystroke adds are written in place (splice.js)
// instead of every value being copied into a new array of one step more.

import { t } from './i18n.js';

function base64Bytes(b64) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(b64);
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let k = 0; k < s.length; k++) bytes[k] = s.charCodeAt(k);
  return bytes;
}

function flatten(nested, out, depth) {
  if (depth === 0) { out.push(nested); return; }
  for (const x of nested) flatten(x, out, depth - 1);
}

function shapeOf(nested) {
  const shape = [];
  for (let x = nested; Array.isArray(x); x = x[0]) shape.push(x.length);
  return shape;
}

/** Steps to hold T: a quarter more (at least 64), so that a text growing at its end is copied once in a while. */
export const roomFor = (T) => T + Math.max(64, T >> 2);

/** A quantity's values [L, D, T, H] in `buf`, block (l, d) at (l * D + d) * cap * H. Steps sharing a buffer share
 * `room`: {high}, the steps written so far; a step at or after `high` is seen by nobody, and only there may a
 * later answer write in place (every answer's values stay as they came, whoever still holds it). */
export class Steps {
  constructor(buf, shape, cap, room) {
    this.buf = buf;
    this.shape = shape;
    this.cap = cap;
    this.room = room;
  }

  /** The values as one dense [L, D, T, H] array: a view when the blocks are full, else a copy (for tests and
   * exports; the views read block() and at()). */
  get data() {
    const [L, D, T, H] = this.shape;
    if (T === this.cap || L * D === 1) return this.buf.subarray(0, L * D * T * H);
    const out = new Float32Array(L * D * T * H);
    for (let ld = 0; ld < L * D; ld++) out.set(this.buf.subarray(ld * this.cap * H, (ld * this.cap + T) * H), ld * T * H);
    return out;
  }
}

/** The wire form of one array (compact {dtype: "u2", bdata | q, shape, offset, scale}, value = offset + q * scale,
 * or json nested lists) as {src, offset, scale, shape}: its values are offset + src[k] * scale. */
export function wireValues(x) {
  if (Array.isArray(x)) {
    const shape = shapeOf(x);
    const flat = [];
    flatten(x, flat, shape.length);
    return { src: Float32Array.from(flat), offset: 0, scale: 1, shape };
  }
  if (x.dtype !== 'u2') throw new Error(t('api.dtype', { dtype: x.dtype }));
  let { q } = x; // the binary answer's values, a Uint16Array already
  if (!q) {
    const bytes = base64Bytes(x.bdata);
    // The wire is little-endian, as is every platform browsers run on, so the bytes are viewed in place.
    q = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  }
  return { src: q, offset: x.offset, scale: x.scale, shape: x.shape };
}

/** Write wire values `w` ([L, D, Tw, H], from wireValues) into `into` at steps t0..t0+Tw-1. */
export function writeSteps(into, t0, w) {
  const [L, D, Tw, H] = w.shape;
  const { src, offset, scale } = w;
  const n = Tw * H;
  for (let ld = 0; ld < L * D; ld++) {
    const to = (ld * into.cap + t0) * H;
    const from = ld * n;
    for (let k = 0; k < n; k++) into.buf[to + k] = offset + src[from + k] * scale;
  }
}

/** A fresh Steps of `shape` with room for `cap` steps. */
export function allocSteps(shape, cap) {
  const [L, D, T, H] = shape;
  return new Steps(new Float32Array(L * D * cap * H), shape, cap, { high: T });
}

/** A format="binary" answer's bytes (app/serialize.py) -> the answer, each array {dtype, shape, offset, scale, q}
 * with q its values viewed in place (a Uint16Array). */
export function unpack(buffer) {
  const n = new DataView(buffer).getUint32(0, true);
  const answer = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  const values = Math.ceil((4 + n) / 8) * 8;
  for (const x of Object.values(answer)) {
    if (x && x.byteOffset !== undefined) x.q = new Uint16Array(buffer, values + x.byteOffset, x.shape.reduce((a, b) => a * b, 1));
  }
  return answer;
}

/** Compact or json wire array -> Steps with no room to spare (a comparison's or a training snapshot's arrays). */
export function decodeArray(x) {
  const w = wireValues(x);
  const out = allocSteps(w.shape, w.shape[2]);
  writeSteps(out, 0, w);
  return out;
}

/** Value of quantity array `a` (Steps [L, D, T, H]) at layer slot l, direction d, time t, unit u. */
export function at(a, l, d, t, u) {
  const [, D, , H] = a.shape;
  return a.buf[((l * D + d) * a.cap + t) * H + u];
}

/** The (T, H) block of layer slot l, direction d, as a subarray view (no copy). */
export function block(a, l, d) {
  const [, D, T, H] = a.shape;
  const start = (l * D + d) * a.cap * H;
  return a.buf.subarray(start, start + T * H);
}
