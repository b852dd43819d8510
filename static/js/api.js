// The only module that talks to the server (fetch, and XMLHttpRequest for upload progress), but for boot.js's early
// first trace, which it adopts (early()), and the answers the server wrote into the shell (fromShell()). Every refusal
// becomes an ApiError carrying the server's sentence, in the page's language (every request says it in
// Accept-Language); trace answers come back with i, f, g, o, c, h decoded by arrays.js.

import { decodeArray, unpack } from './arrays.js';
import { QUANTITIES } from './format.js';
import { language, t } from './i18n.js';
import { splice } from './splice.js';

/** A refused request, carrying the server's sentence (`detail`) for the person at the keyboard. */
export class ApiError extends Error {
  constructor(status, detail, code) {
    super(detail);
    this.status = status;
    this.code = code || null;
  }
}

/** The first trace request boot.js made while the modules loaded, when `body` asks exactly the same in the same
 * language (its fetch, which `signal` now cancels as it would the page's own), else null. Asked once, by the first
 * trace request; later ones never look. boot.js's body must be what trace() sends first: a difference costs only
 * the early request (tests/browser/test_first_start.py counts the traces of a first load). */
let early = (body, signal) => {
  early = () => null;
  const e = window.gatescopeEarly;
  window.gatescopeEarly = null;
  const same = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  if (!e) return null;
  if (e.lang !== language() || !same(e.body, body)) {
    e.stop.abort(); // an answer the page will not show (another language, another text): not left to run
    return null;
  }
  const stop = () => e.stop.abort(); // its fetch and the reading of its answer reject at once, as the page's would
  if (signal && signal.aborted) stop();
  else if (signal) signal.addEventListener('abort', stop, { once: true });
  return e.answer;
};

const BINARY = 'application/vnd.gatescope.trace'; // a format="binary" answer (app/serialize.py): arrays.js unpack()
const BUSY_RETRIES = 3; // a 503 says when to come back (Retry-After); the page does, this many times

/** What a request cancelled by its AbortSignal throws: the caller asked for something newer, nothing to report. */
export const isAborted = (e) => e instanceof ApiError && e.code === 'aborted';
const aborted = () => new ApiError(0, '', 'aborted');

async function request(path, body, signal = null) {
  const pending = path === '/api/trace' ? early(body, signal) : null; // boot.js's fetch of this request, if made
  const headers = { 'Accept-Language': language() };
  const raw = body instanceof Blob; // a file sent as it is (a label file), anything else as JSON
  const init = body === undefined ? { headers, signal } : {
    method: 'POST',
    headers: { ...headers, 'Content-Type': raw ? 'application/octet-stream' : 'application/json' },
    body: raw ? body : JSON.stringify(body),
    signal,
  };
  let r;
  for (let attempt = 0; ; attempt += 1) {
    try {
      r = await (attempt === 0 && pending ? pending : fetch(path, init));
    } catch {
      if (signal && signal.aborted) throw aborted();
      throw new ApiError(0, t('api.offline'), 'offline');
    }
    const wait = Number(r.headers.get('Retry-After'));
    if (r.status !== 503 || !(wait > 0) || attempt === BUSY_RETRIES) break;
    await new Promise((done) => { setTimeout(done, wait * 1000); });
  }
  const binary = r.ok && r.headers.get('Content-Type') === BINARY;
  const json = await (binary ? r.arrayBuffer().then(unpack) : r.json()).catch(() => null);
  if (signal && signal.aborted) throw aborted(); // cancelled while the answer was read
  if (binary && !json) throw new ApiError(0, t('api.unreadable'), 'undecodable');
  if (!r.ok) {
    const detail = json && typeof json.detail === 'string' ? json.detail : t('api.status', { status: r.status });
    throw new ApiError(r.status, detail, json && json.code);
  }
  return json;
}

// The first answers of the start-up chain, written into the page shell by the server (app/routes/page.py shell_data,
// made by the API's own functions): {catalog: {lang, messages}, models, lessons, model}. Each is taken once, for the
// question it answers; without the block, or for another question (a language or a model other than the server's
// pick, a second listing), the server is asked.
let shell = null;

function fromShell(key, answers = () => true) {
  if (shell === null) {
    try {
      shell = JSON.parse(document.getElementById('gs-shell').textContent) || {};
    } catch {
      shell = {}; // no block, or not JSON: every answer comes from the server
    }
  }
  const got = shell[key];
  delete shell[key];
  return got !== undefined && answers(got) ? got : null;
}

/** The message catalog of language `lang` (static/i18n/<lang>.json), for i18n.js. */
export async function getCatalog(lang) {
  const embedded = fromShell('catalog', (c) => c.lang === lang);
  if (embedded) return embedded.messages;
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

/** The HTTP status of a HEAD request for `url` (a script that did not load: why), 0 when no answer came. */
export async function headStatus(url) {
  try {
    return (await fetch(url, { method: 'HEAD' })).status;
  } catch {
    return 0;
  }
}

/** Every model the server offers: {models: [ModelInfo], directory, uploads}. */
export async function listModels() {
  return fromShell('models') ?? request('/api/models');
}

/** One model's info plus vocab, unk and model card. */
export async function getModel(id) {
  return fromShell('model', (m) => m.id === id) ?? request(`/api/models/${encodeURIComponent(id)}`);
}

/** Decode the quantity arrays of `obj` (a trace answer, or a training snapshot's probe) in place; an undecodable
 * answer is an ApiError like any refusal. */
function decoded(obj, decode = (o) => { for (const q of QUANTITIES) o[q] = decodeArray(o[q]); return o; }) {
  try {
    return decode(obj);
  } catch (e) {
    throw new ApiError(0, e.message, 'undecodable');
  }
}

// The last whole trace answer and what it was asked with: the next request of the same kind sends its text as
// `held`, and gets only the positions that differ (splice.js).
let last = null; // {kind, text, answer}

/** Trace `text` through `model`: the response with i, f, g, o, c, h decoded to arrays.js Steps (shape [L, D, T, H]).
 * `signal` (an AbortController's) cancels it: it then throws an ApiError that isAborted() recognises. */
export async function trace({ model, text, topK = 5, format = 'binary', vectors = null, wrap = false, signal = null }) {
  const kind = vectors ? null : JSON.stringify([model, topK, format, wrap]);
  const held = kind && last && last.kind === kind ? last : null; // what this answer is spliced onto
  const answer = await request('/api/trace', {
    model, text, top_k: topK, layers: null, format, vectors, wrap, held: held ? held.text : null }, signal);
  const r = decoded(answer, (a) => splice(held && held.answer, a));
  if (kind) last = { kind, text, answer: r };
  return r;
}

/** Compare run a ({model, text, vectors, interventions}) with run b (the same keys; missing ones are a's):
 * the answer with a's, b's and the difference's arrays decoded (diff is null when the models differ in shape). */
export async function compare({ a, b, threshold, format = 'compact' }) {
  const r = await request('/api/compare', { a, b, threshold, top_k: 0, layers: null, format });
  decoded(r.a);
  decoded(r.b);
  if (r.diff) decoded(r.diff);
  return r;
}

/** A model's training snapshots: {model, snapshots: [{id, step, metrics}]}. */
export function history(id) {
  return request(`/api/models/${encodeURIComponent(id)}/history`);
}

/** POST `body` to export endpoint `kind` (json, csv, npz, html) and hand the answer to the browser as a download. */
export async function download(kind, body) {
  let r;
  try {
    r = await fetch(`/api/export/${kind}`, { method: 'POST', body: JSON.stringify(body),
      headers: { 'Accept-Language': language(), 'Content-Type': 'application/json' } });
  } catch {
    throw new ApiError(0, t('api.offline'), 'offline');
  }
  if (!r.ok) {
    const json = await r.json().catch(() => null);
    throw new ApiError(r.status, json && typeof json.detail === 'string' ? json.detail
      : t('api.status', { status: r.status }), json && json.code);
  }
  const name = /filename="([^"]+)"/.exec(r.headers.get('Content-Disposition') || '');
  const url = URL.createObjectURL(await r.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: name ? name[1] : `gatescope.${kind}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Every guided lesson: [{id, model, task, text, write, place, available}]. */
export async function listLessons() {
  return (fromShell('lessons') ?? await request('/api/lessons')).lessons;
}

/** One lesson with the unit it watches on its model and the evidence; `model`: run it on that model instead
 * (one trained on the lesson's task, e.g. kept from the Train panel). */
export function getLesson(id, model = '') {
  const q = model ? `?model=${encodeURIComponent(model)}` : '';
  return request(`/api/lessons/${encodeURIComponent(id)}${q}`);
}

/** The numbers of one LSTM step for one unit (the "one step, explained" view); `signal` as for trace(). */
export function step({ model, text, layer, direction, t, unit, vectors = null, wrap = false, signal = null }) {
  return request('/api/step', { model, text, layer, direction, t, unit, vectors, wrap }, signal);
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

// Training in the page (/api/train): what can be trained, a job's life, and its event stream.

/** The tasks with their defaults, the limits, and whether training is on. */
export const trainOptions = () => request('/api/train');

/** Start a job: {task, text, layers, hidden, steps, lr, seed, name} -> its status. */
export const startTraining = (body) => request('/api/train', body);

export const trainStatus = (id) => request(`/api/train/${encodeURIComponent(id)}`);
export const stopTraining = (id) => request(`/api/train/${encodeURIComponent(id)}/stop`, {});
export const resumeTraining = (id) => request(`/api/train/${encodeURIComponent(id)}/resume`, {});
/** Keep the job's model under `name` -> ModelInfo. */
export const keepTraining = (id, name) => request(`/api/train/${encodeURIComponent(id)}/keep`, { name });

/**
 * Follow a job's events from byte offset `from`: onEvent(type, data, offset) for each (data parsed; a
 * snapshot's probe decoded). Returns the EventSource; close() it once a done, stopped or failed event came.
 */
export function trainEvents(id, from, onEvent, onError) {
  const source = new EventSource(`/api/train/${encodeURIComponent(id)}/events?from=${from}`);
  for (const type of ['start', 'progress', 'snapshot', 'done', 'stopped', 'failed']) {
    source.addEventListener(type, (ev) => {
      const data = JSON.parse(ev.data);
      if (type === 'snapshot' && data.probe && typeof data.probe === 'object') decoded(data.probe);
      onEvent(type, data, Number(ev.lastEventId));
    });
  }
  source.onerror = () => onError(source);
  return source;
}

// The corpus index of a model (python -m app index): /api/corpus/{model}/...
const corpusPath = (model, part = '') => `/api/corpus/${encodeURIComponent(model)}${part}`;

/** What the model's corpus index holds: {model, index: {...} | null, census}. */
export function corpusInfo(model) {
  return request(corpusPath(model));
}

/** One unit over the corpus: top and bottom contexts, histogram, saturation. */
export function corpusUnit({ model, quantity, layer, direction, unit, k = 8, bins = 40 }) {
  const q = new URLSearchParams({ quantity, layer, direction, unit, k, bins });
  return request(corpusPath(model, `/unit?${q}`));
}

/** The census: per feature, the units that track it best. */
export function corpusCensus(model) {
  return request(corpusPath(model, '/census'));
}

/** Every c and h unit ranked against tokens inside matches of `regex`. */
export function corpusProbe(model, regex) {
  return request(corpusPath(model, '/probe'), { regex });
}

/** Every c and h unit ranked against a per-token label file (a File: one number per token, or .npy). */
export function corpusProbeLabels(model, file) {
  return request(corpusPath(model, `/probe/labels?filename=${encodeURIComponent(file.name.slice(0, 200))}`), file);
}

/** LSTMVis pattern search: {text, start, end, threshold, quantity, layer, direction} -> ranked matches. */
export function corpusPatterns(model, query) {
  return request(corpusPath(model, '/patterns'), query);
}

/** The text to trace to see corpus token `token` as the index stored it: {text, t, tokens}. */
export function corpusOpen(model, token) {
  return request(corpusPath(model, `/open?token=${encodeURIComponent(token)}`));
}

/** Karpathy's saturation plot over the corpus: {tokens, gates: {f, i, o: {low, high}}}. */
export function corpusSaturation(model) {
  return request(corpusPath(model, '/saturation'));
}
