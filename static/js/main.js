// Owns the page state (model, text, layer, direction, unit, t, quantity, order), mirrors it in the URL,
// asks the server for traces and steps, and tells the views what changed. The layering: state (here) ->
// views, each called only through the contract of view.js (by scheduler.js); views ask for state changes
// with `gs:select` events and never change it themselves.

import * as api from './api.js';
import { block } from './arrays.js';
import { plotLabel } from './format.js';
import * as i18n from './i18n.js';
import { t } from './i18n.js';
import { localisePlotly } from './plot.js';
import { unitOrder } from './order.js';
import * as bars from './bars.js';
import * as heatmaps from './heatmaps.js';
import * as oov from './oov.js';
import * as predictions from './predictions.js';
import * as saturation from './saturation.js';
import * as step from './step.js';
import * as timeline from './timeline.js';
import * as unit from './unit.js';
import { controls, readUrl, writeUrl } from './controls.js';
import { scheduler } from './scheduler.js';
import * as upload from './upload.js';
import * as vectors from './vectors.js';
import { CHANGES, any, everything } from './view.js';

// The views: the id of each one's container in templates/index.html and its module (view.js's contract).
// A new view is one more entry. `always`: drawn at once wherever it is (cheap, or in the fixed header);
// the others at once when on screen, else when the browser is idle.
const VIEWS = [
  { id: 'timeline', module: timeline, always: true },
  { id: 'oov', module: oov, always: true },
  { id: 'heatmaps', module: heatmaps },
  { id: 'bars', module: bars },
  { id: 'step', module: step },
  { id: 'unit', module: unit },
  { id: 'predictions', module: predictions },
  { id: 'saturation', module: saturation },
];
const $ = (id) => document.getElementById(id);

const state = readUrl();
let views = null; // the scheduler, made at the first draw (the views' containers show from then on)
let panels = null; // {upload, vectors}: the input panels
let info = null; // ModelInfo (+ vocab, unk) of state.model
let current = null; // {trace, text} last drawn
let followEnd = state.t === null; // while typing, t stays on the newest token unless the user moved it
let stepResult = null;
let statusLine = null; // [key, params] of the status shown, so a language switch can say it again

// Request sequencing: at most one trace request in flight; keystrokes meanwhile coalesce into one
// follow-up with the latest text, and a response older than what is on screen is never drawn.
let sent = 0;
let shown = 0;
let inflight = false;
let dirty = false;
let version = 0; // text version, one per input event, for the gs:repaint performance measures
const waiting = []; // versions typed but not yet on screen
let stepSeq = 0;
let stepTimer = null;

/** Show `text` in the status line; `line` ([key, params]) lets a language switch say it again. */
function status(text, error = false, line = null) {
  const el = $('status');
  el.textContent = text;
  statusLine = line;
  el.classList.toggle('error', error);
  el.setAttribute('role', error ? 'alert' : 'status');
}

/** The status line for trace `tr`: tokens, layers, directions, units, unknown tokens. */
function shapeLine(tr) {
  const [, D, , H] = tr.i.shape;
  const parts = [t('status.tokens', { count: tr.steps }), `${t('status.layers', { count: info.layers })} × `
    + `${t('status.directions', { count: D })} × ${t('status.units', { count: H })}`];
  if (tr.oov.length) parts.push(t('status.unknown', { count: tr.oov.length }));
  return parts.join(' · ');
}

function context() {
  const tr = current.trace;
  const [L, D, T, H] = tr.i.shape;
  const slot = tr.layers.indexOf(state.layer);
  const order = unitOrder(block(tr[state.quantity], slot, state.direction), T, tr[state.quantity].shape[3],
    state.order);
  return {
    trace: tr, text: current.text, info, state: { ...state }, slot, L, D, T, H,
    order: order.length === H ? order : Array.from({ length: H }, (_, u) => u),
    labels: tr.tokens.map(plotLabel), wordTokens: info.tokenizer === 'word', step: stepResult,
  };
}

function clamp(tr) {
  const [, D, T, H] = tr.i.shape;
  if (!tr.layers.includes(state.layer)) state.layer = tr.layers[0];
  state.direction = Math.min(state.direction, D - 1);
  state.unit = Math.min(Math.max(0, state.unit), H - 1);
  // Once t reaches the newest token (the text shrank under it, or the user went there), it follows the typing.
  if (followEnd || state.t === null || state.t >= T - 1) followEnd = true;
  state.t = followEnd ? T - 1 : Math.max(0, state.t);
}

const frame = () => new Promise((r) => requestAnimationFrame(() => r()));

/**
 * Tell the views that `changed` (a Set of view.js's CHANGES) happened; resolves once those on screen have
 * drawn. A change of the step's inputs also clears the step shown and asks the server for the new one.
 */
function redraw(changed) {
  if (!views) {
    document.body.classList.add('ready'); // before the first draw, so the plots measure their real width
    views = scheduler(VIEWS, context);
    window.gatescope.views = views.views;
  }
  if (any(changed, 'data', 'layer', 'unit', 'time')) {
    requestStep();
    changed.add('step');
  }
  writeUrl(state);
  return views.draw(changed);
}

async function show(tr, text, v) {
  const t0 = performance.now();
  current = { trace: tr, text };
  clamp(tr);
  await redraw(new Set(['data']));
  await frame();
  performance.measure('gs:draw', { start: t0, end: performance.now() });
  const typed = [];
  while (waiting.length && waiting[0] <= v) typed.push(waiting.shift());
  for (const u of typed) performance.measure('gs:repaint', `gs:input:${u}`);
  views.whenSettled(() => {
    for (const u of typed) {
      performance.measure('gs:repaint-all', `gs:input:${u}`);
      performance.clearMarks(`gs:input:${u}`);
    }
  });
  window.gatescope.rendered = { text, model: tr.model, steps: tr.steps, version: v };
  status(shapeLine(tr));
}

async function send() {
  if (!info) return;
  const seq = ++sent;
  const { model } = state;
  // Models without a vocabulary are traced on the rows of the vector panel instead of the text.
  const rows = info.input === 'vector' ? panels.vectors.rows() : null;
  const text = rows ? '' : state.text;
  const v = version;
  dirty = false;
  if (info.input === 'vector' && !rows) return; // the vector panel says why
  if (!text && !rows) {
    status(t('error.empty_text'), true, ['error.empty_text']);
    return;
  }
  inflight = true;
  const t0 = performance.now();
  try {
    const wrap = state.wrap && info.can_wrap; // begin/end tokens around the text, when the vocabulary has them
    const tr = await api.trace({ model, text, vectors: rows, wrap });
    tr.vectors = rows;
    tr.wrap = wrap;
    performance.measure('gs:api', { start: t0, end: performance.now() });
    inflight = false;
    if (dirty) send(); // the newest text goes out before this one is drawn, so both overlap
    if (seq > shown && model === state.model) {
      shown = seq;
      await show(tr, text, v);
    }
  } catch (e) {
    inflight = false;
    if (dirty) send();
    else if (seq > shown) status(e.message, true);
    if (!(e instanceof api.ApiError)) throw e;
  }
}

function want() {
  if (inflight) dirty = true;
  else send();
}

function requestStep() {
  clearTimeout(stepTimer);
  stepResult = null;
  // While scrubbing, ask only once the slider rests for a moment; the server need not explain every step.
  stepTimer = setTimeout(fetchStep, 80);
}

async function fetchStep() {
  const seq = ++stepSeq;
  const t0 = performance.now();
  const { layer, direction, unit: u } = state;
  try {
    stepResult = await api.step({ model: state.model, text: current.text, vectors: current.trace.vectors,
      wrap: current.trace.wrap, layer, direction, t: state.t, unit: u });
  } catch (e) {
    if (!(e instanceof api.ApiError)) throw e;
    stepResult = e.message;
  }
  if (seq !== stepSeq || !current) return;
  await views.draw(new Set(['step']));
  performance.measure('gs:step', { start: t0, end: performance.now() });
}

/** A view asked for a change (click on a heatmap cell, a bar, a point; the scrubber). */
function select({ detail }) {
  if (!current) return;
  const { T } = context();
  const changed = new Set();
  if (detail.layer !== undefined && detail.layer !== state.layer) {
    state.layer = detail.layer;
    controls.sync(state, info);
    changed.add('layer');
  }
  if (detail.unit !== undefined && detail.unit !== state.unit) {
    state.unit = detail.unit;
    changed.add('unit');
  }
  if (detail.t !== undefined) {
    if (detail.t !== state.t) changed.add('time');
    state.t = detail.t;
    followEnd = detail.t >= T - 1;
  }
  if (changed.size) redraw(changed);
}

function onInput() {
  version += 1;
  performance.mark(`gs:input:${version}`);
  waiting.push(version);
  state.text = $('text').value;
  want();
}

/** What the chosen model is: its summary from the catalogs for the shipped models, else its file's description. */
function about() {
  const key = `model.${info.id}.summary`;
  const summary = i18n.has(key) ? t(key) : info.description;
  $('model-about').textContent = summary;
  $('model-about').hidden = !summary;
}

async function loadModel(id) {
  info = await api.getModel(id);
  state.model = info.id;
  controls.sync(state, info);
  panels.upload.showModel(info);
  panels.vectors.show(info);
  $('text').hidden = info.input === 'vector';
  about();
}

/** The language changed (i18n.js has translated the shell): say everything else again in it. */
function onLanguage() {
  localisePlotly();
  controls.relabel(state, info);
  if (info) {
    panels.upload.showModel(info);
    about();
  }
  const failed = $('status').classList.contains('error');
  if (statusLine) status(t(...statusLine), failed, statusLine);
  else if (failed) want(); // the server's sentence: ask again, and it answers in the new language
  else if (current) status(shapeLine(current.trace));
  writeUrl(state);
  if (current) redraw(everything());
}

/** A picker changed: model refetches; layer, direction, quantity and order only redraw. */
async function onControl(name, value) {
  if (name === 'model') {
    shown = sent; // whatever is in flight belongs to the old model
    await loadModel(value);
    want();
  } else if (name === 'wrap') {
    state.wrap = value; // the tokens change, so this is a new trace
    want();
  } else {
    state[name] = name === 'layer' || name === 'direction' ? Number(value) : value;
    if (current) await redraw(new Set([name === 'direction' ? 'layer' : name]));
  }
  writeUrl(state);
}

async function start() {
  // For tests and the console: the state, the last text drawn, the view registry and, from the first draw,
  // the view objects (`views`) and `idle()`, which resolves once every view has caught up.
  window.gatescope = { state, rendered: null, context: () => context(), registry: VIEWS, changes: CHANGES,
    views: null, idle: () => (views ? views.idle() : Promise.resolve()), i18n };
  await i18n.init(api.getCatalog);
  localisePlotly();
  $('lang').value = i18n.language();
  $('lang').addEventListener('change', (ev) => i18n.setLanguage(ev.target.value));
  document.addEventListener('gs:language', onLanguage);
  panels = { upload: upload.create($('upload')), vectors: vectors.create($('vectors'), want) };
  document.addEventListener('gs:model-added', ({ detail }) => {
    if (!info) location.assign(`?model=${encodeURIComponent(detail.id)}`); // the page started with no model
    else {
      controls.addModel(detail);
      onControl('model', detail.id);
    }
  });
  const { models, directory, uploads } = await api.listModels();
  $('sec-upload').hidden = !uploads;
  if (!models.length) {
    // The directory as the server shows it (null in public mode), and whether a model can be imported here.
    const key = `status.no_models${directory ? '_in' : ''}${uploads ? '_or_import' : ''}`;
    status(t(key, { directory }), true, [key, { directory }]);
    return;
  }
  controls.init(models, state, onControl);
  await loadModel(models.some((m) => m.id === state.model) ? state.model : models[0].id);
  $('text').value = state.text;
  $('text').addEventListener('input', onInput);
  document.addEventListener('gs:select', select);
  send();
}

start().catch((e) => status(e.message, true));
