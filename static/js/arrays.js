// The trace's arrays in the page: decoding the wire forms into {data: Float32Array, shape}, and reading them.
// Quantity arrays have shape [L', D, T, H]: layer slot (index into trace.layers), direction, time, unit.

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

/** {dtype:"u2", bdata, shape, offset, scale} (value = offset + q*scale) or nested lists -> {data, shape}. */
export function decodeArray(x) {
  if (Array.isArray(x)) {
    const shape = shapeOf(x);
    const flat = [];
    flatten(x, flat, shape.length);
    return { data: Float32Array.from(flat), shape };
  }
  if (x.dtype !== 'u2') throw new Error(t('api.dtype', { dtype: x.dtype }));
  const bytes = base64Bytes(x.bdata);
  // The wire is little-endian, as is every platform browsers run on, so the bytes are viewed in place.
  const q = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const data = new Float32Array(q.length);
  const { offset, scale } = x;
  for (let k = 0; k < q.length; k++) data[k] = offset + q[k] * scale;
  return { data, shape: x.shape };
}

/** Value of quantity array `a` ({data, shape [L, D, T, H]}) at layer slot l, direction d, time t, unit u. */
export function at(a, l, d, t, u) {
  const [, D, T, H] = a.shape;
  return a.data[((l * D + d) * T + t) * H + u];
}

/** The (T, H) block of layer slot l, direction d, as a subarray view (no copy). */
export function block(a, l, d) {
  const [, D, T, H] = a.shape;
  const start = (l * D + d) * T * H;
  return a.data.subarray(start, start + T * H);
}
