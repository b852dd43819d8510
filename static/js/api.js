// The only module that talks to the server (fetch, and XMLHttpRequest for upload progress). Every refusal
// becomes an ApiError carrying the server's sentence, in the page's language (every request says it in
// Accept-Language); trace answers come back with i, f, g, o, c, h decoded by arrays.js.

import { decodeArray } from './arrays.js';
import { QUANTITIES } from './format.js';
import { language, t } from './i18n.js';

/** A refused request, carrying the server's sentence (`detail`) for the person at the keyboard. */
export class ApiError extends Error {
  constructor(status, detail, code) {
    super(detail);
    this.status = status;
    this.code = code || null;
  }
}

const BUSY_RETRIES = 3; // a 503 says when to come back (Retry-After); the page does, this many times

async function request(path, body) {
  const headers = { 'Accept-Language': language() };
  const init = body === undefined ? { headers } : {
    method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  let r;
  for (let attempt = 0; ; attempt += 1) {
    try {
      r = await fetch(path, init);
    } catch {
      throw new ApiError(0, t('api.offline'), 'offline');
    }
    const wait = Number(r.headers.get('Retry-After'));
    if (r.status !== 503 || !(wait > 0) || attempt === BUSY_RETRIES) break;
    await new Promise((done) => { setTimeout(done, wait * 1000); });
  }
  const json = await r.json().catch(() => null);
  if (!r.ok) {
    const detail = json && typeof json.detail === 'string' ? json.detail : t('api.status', { status: r.status });
    throw new ApiError(r.status, detail, json && json.code);
  }
  return json;
}

/** The message catalog of language `lang` (static/i18n/<lang>.json), for i18n.js. */
export async function getCatalog(lang) {
  let r;
  try {
    r = await fetch(`/static/i18n/${encodeURIComponent(lang)}.json`);
  } catch {
    r = null;
  }
  // The catalogs are not loaded yet, so this one sentence cannot come from them.
  if (!r || !r.ok) throw new ApiError(r ? r.status : 0, `The message catalog ${lang} did not load.`, 'no_catalog');
  return r.json();
}

/** Every model the server offers: {models: [ModelInfo], directory, uploads}. */
export function listModels() {
  return request('/api/models');
}

/** One model's info plus vocab, unk and model card. */
export function getModel(id) {
  return request(`/api/models/${encodeURIComponent(id)}`);
}

/** Trace `text` through `model`: the response with i, f, g, o, c, h decoded to {data, shape [L, D, T, H]}. */
export async function trace({ model, text, topK = 5, format = 'compact', vectors = null, wrap = false }) {
  const r = await request('/api/trace', { model, text, top_k: topK, layers: null, format, vectors, wrap });
  try {
    for (const q of QUANTITIES) r[q] = decodeArray(r[q]);
  } catch (e) {
    throw new ApiError(0, e.message, 'undecodable');
  }
  return r;
}

/** The numbers of one LSTM step for one unit (the "one step, explained" view). */
export function step({ model, text, layer, direction, t, unit, vectors = null, wrap = false }) {
  return request('/api/step', { model, text, layer, direction, t, unit, vectors, wrap });
}

/** Upload a model (FormData: file, vocab, tokenizer, name) -> ModelInfo + notes; onProgress(0..1) while sending.
 * XMLHttpRequest, because fetch cannot report upload progress. */
export function uploadModel(form, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/models/upload');
    xhr.setRequestHeader('Accept-Language', language());
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      const json = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) resolve(json);
      else {
        const detail = json && typeof json.detail === 'string' ? json.detail : t('api.status', { status: xhr.status });
        reject(new ApiError(xhr.status, detail, json && json.code));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, t('api.upload_offline'), 'offline'));
    xhr.send(form);
  });
}
