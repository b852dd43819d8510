// The only module that talks to the server. Decodes the compact wire arrays into Float32Array + shape.

import { QUANTITIES } from './format.js';

/** A refused request, carrying the server's sentence (`detail`) for the person at the keyboard. */
export class ApiError extends Error {
  constructor(status, detail, code) {
    super(detail);
    this.status = status;
    this.code = code || null;
  }
}

async function request(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  let r;
  try {
    r = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'The gatescope server does not answer: is `python -m app serve` still running?', 'offline');
  }
  const json = await r.json().catch(() => null);
  if (!r.ok) {
    const detail = json && typeof json.detail === 'string' ? json.detail : `The server answered ${r.status}.`;
    throw new ApiError(r.status, detail, json && json.code);
  }
  return json;
}

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
  if (x.dtype !== 'u2') throw new ApiError(0, `The page cannot read arrays of dtype ${x.dtype}.`, 'dtype');
  const bytes = base64Bytes(x.bdata);
  // The wire is little-endian, as is every platform browsers run on, so the bytes are viewed in place.
  const q = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const data = new Float32Array(q.length);
  const { offset, scale } = x;
  for (let k = 0; k < q.length; k++) data[k] = offset + q[k] * scale;
  return { data, shape: x.shape };
}

/** Every model the server offers: [ModelInfo]. */
export async function listModels() {
  return (await request('/api/models')).models;
}

/** One model's info plus vocab, unk and model card. */
export function getModel(id) {
  return request(`/api/models/${encodeURIComponent(id)}`);
}

/** Trace `text` through `model`: the response with i, f, g, o, c, h decoded to {data, shape [L, D, T, H]}. */
export async function trace({ model, text, topK = 5, format = 'compact', vectors = null }) {
  const r = await request('/api/trace', { model, text, top_k: topK, layers: null, format, vectors });
  for (const q of QUANTITIES) r[q] = decodeArray(r[q]);
  return r;
}

/** The numbers of one LSTM step for one unit (the "one step, explained" view). */
export function step({ model, text, layer, direction, t, unit, vectors = null }) {
  return request('/api/step', { model, text, layer, direction, t, unit, vectors });
}

/** Upload a model (FormData: file, vocab, tokenizer, name) -> ModelInfo + notes; onProgress(0..1) while sending.
 * XMLHttpRequest, because fetch cannot report upload progress. */
export function uploadModel(form, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/models/upload');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      const json = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) resolve(json);
      else {
        const detail = json && typeof json.detail === 'string' ? json.detail : `The server answered ${xhr.status}.`;
        reject(new ApiError(xhr.status, detail, json && json.code));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'The upload did not reach the server: is `python -m app serve` still '
      + 'running?', 'offline'));
    xhr.send(form);
  });
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
