// Owns the page state (model, text, layer, direction, unit, t, quantity, order, lesson, step), mirrors it in the URL,
// asks the server for traces and steps, and tells the views what changed. The layering: state (here) ->
// views, each called only through the contract of view.js (by scheduler.js); views ask for state changes
// with `gs:select` events and never change it themselves.

import * as api from './api.js';
import { block } from './arrays.js';
import * as classroom from './classroom.js';
import { plotLabel } from './format.js';
import * as i18n from './i18n.js';
import { loadPlotly, localisePlotly } from './plot.js';
import { unitOrder } from './order.js';
import * as bars from './bars.js';
import * as compare from './compare.js';
import * as contrast from './contrast.js';
import * as exporter from './exporter.js';
import { progressive } from './firstdraw.js';
import * as census from './census.js';
import * as corpusSaturation from './corpussat.js';
import * as corpusUnit from './corpusunit.js';
import * as heatmaps from './heatmaps.js';
import * as lesson from './lesson.js';
import * as oov from './oov.js';
import * as present from './present.js';
import * as patterns from './patterns.js';
import * as predictions from './predictions.js';
import * as saturation from './saturation.js';
import * as step from './step.js';
import * as tabs from './tabs.js';
import * as timeline from './timeline.js';
import * as unit from './unit.js';
import { controls } from './controls.js';
import { scheduler } from './scheduler.js';
import { DEFAULT_TEXT, readUrl, writeUrl } from './url.js';
import * as statusline from './statusline.js';
import { status } from './statusline.js';
import * as train from './train.js';
import * as upload from './upload.js';
import * as vectors from './vectors.js';
import { CHANGES, any, everything } from './view.js';
import { firstExample, initIntro, openCard, showExamples, swapNote } from './welcome.js';

// The views: the id of each one's container in templates/index.html and its module (view.js's contract).
// A new view is one more entry. `always`: drawn at once wherever it is (cheap, or in the fixed header);
// the others at once when on screen, else when the browser is idle. `plotly`: draws with Plotly, so its first
// drawing waits for it (firstdraw.js); the others draw as soon as the first trace is there.
const VIEWS = [
  { id: 'timeline', module: timeline, always: true },
  { id: 'oov', module: oov, always: true },
  { id: 'heatmaps', plotly: true, module: heatmaps },
  { id: 'bars', plotly: true, module: bars },
  { id: 'step', module: step },
  { id: 'unit', plotly: true, module: unit },
  { id: 'predictions', plotly: true, module: predictions },
  { id: 'saturation', plotly: true, module: saturation },
  { id: 'compare', plotly: true, module: compare },
  // Over the model's corpus index (python -m app index): the census, the unit's contexts, pattern search.
  { id: 'census', module: census },
  { id: 'corpus-unit', plotly: true, module: corpusUnit },
  { id: 'patterns', module: patterns },
  { id: 'corpus-saturation', plotly: true, module: corpusSaturation },
  // Last, after the figures: it scrolls to the view a lesson step talks about, once those above it have their size.
  { id: 'lesson-panel', module: lesson, always: true, plotly: true },
];
const $ = (id) => document.getElementById(id);

const state = readUrl();
// Read now: the URL is rewritten as the page runs. The text travels in the fragment (url.js), or in the query in old
// links; null without one. The text box holds it already (boot.js, or the server for ?text=).
const linked = state.text;
let views = null; // the scheduler, made at the first draw
let panels = null; // {upload, vectors, contrast, exporter, train}: the input, comparison, export and training panels
let models = []; // every model the server offers
let info = null; // ModelInfo (+ vocab, unk) of state.model
let current = null; // {trace, text} last drawn
let followEnd = state.t === null; // while typing, t stays on the newest token unless the user moved it
let stepResult = null;
let plotlyArrived = null;
// Plotly, once loadPlotly() (called once the text box is ready) has run it: the figures' first drawing waits for it.
const plotly = new Promise((resolve) => { plotlyArrived = resolve; });
let switched = null; // the model just switched to: its first trace checks the text is not mostly unknown

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

function context() {
  const tr = current.trace;
  const [L, D, T, H] = tr.i.shape;
  const slot = tr.layers.indexOf(state.layer);
  const order = unitOrder(block(tr[state.quantity], slot, state.direction), T, tr[state.quantity].shape[3],
    state.order, state.t ?? T - 1);
  return {
    trace: tr, text: current.text, info, state: { ...state }, slot, L, D, T, H,
    order: order.length === H ? order : Array.from({ length: H }, (_, u) => u),
    labels: tr.tokens.map(plotLabel), wordTokens: info.tokenizer === 'word', step: stepResult,
    compare: panels.contrast.current(),
    lesson: classroom.context(state),
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
    views = scheduler(progressive(VIEWS, plotly), context);
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
  statusline.shape(tr, info);
  panels.contrast.refresh(); // run a changed
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
    statusline.fail('error.empty_text');
    return;
  }
  inflight = true;
  const t0 = performance.now();
  try {
    const wrap = state.wrap && info.can_wrap; // begin/end tokens around the text, when the vocabulary has them
    const tr = await api.trace({ model, text, vectors: rows, wrap });
    tr.vectors = rows;
    tr.wrap = wrap;
    if (switched === model) {
      switched = null;
      if (mostlyUnknown(tr)) {
        inflight = false;
        offerExample(text);
        return;
      }
    }
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

/** More than half the tokens unknown, and the model has examples it knows instead. */
const mostlyUnknown = (tr) => tr.oov.length * 2 > tr.steps && info.examples && info.examples.length > 0;

/** Replace a text the model just switched to mostly does not know by its example, and say so. */
function offerExample(mine) {
  setText(firstExample(info));
  swapNote(info.name, () => setText(mine));
}

/** Put `text` in the text box and trace it, as if typed. */
function setText(text) {
  $('text').value = text;
  onInput();
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

/** A corpus view asked to show a text in the explorer with t on one token: it becomes the typed text. */
function openText(text, t) {
  $('text').value = text;
  state.text = text;
  state.t = t;
  followEnd = false;
  $('sec-input').scrollIntoView({ block: 'start' });
  onInput();
}

/** A view asked for a change (click on a heatmap cell, a bar, a point; the scrubber; a corpus view). */
function select({ detail }) {
  if (detail.tab !== undefined && tabs.valid(detail.tab) !== tabs.valid(state.tab)) { // a phone's view: no redraw
    state.tab = tabs.valid(detail.tab);
    tabs.show(state.tab);
    writeUrl(state);
  }
  if (!current) return;
  if (detail.text !== undefined) {
    openText(detail.text, detail.t);
    return;
  }
  const { T, H } = context();
  const changed = new Set();
  for (const name of ['quantity', 'direction']) {
    if (detail[name] !== undefined && detail[name] !== state[name]) {
      state[name] = detail[name];
      controls.sync(state, info);
      changed.add(name === 'direction' ? 'layer' : name);
    }
  }
  if (detail.layer !== undefined && detail.layer !== state.layer) {
    state.layer = detail.layer;
    controls.sync(state, info);
    changed.add('layer');
  }
  if (detail.unit !== undefined && Math.max(0, Math.min(H - 1, detail.unit)) !== state.unit) {
    state.unit = Math.max(0, Math.min(H - 1, detail.unit));
    changed.add('unit');
  }
  if (detail.t !== undefined) {
    if (detail.t !== state.t) changed.add('time');
    if (detail.t !== state.t && state.order === 'change') changed.add('order'); // that order follows t
    state.t = detail.t;
    followEnd = detail.t >= T - 1;
  }
  if (detail.step !== undefined && classroom.go(state, detail.step)) changed.add('lesson');
  if (detail.lesson === null && state.lesson) {
    classroom.close(state);
    changed.add('lesson');
  }
  if (changed.size) {
    panels.contrast.moved();
    redraw(changed);
  }
}

/** The comparison panel asks for a change (mode, second text or model, threshold, clamps). */
function onPanel(patch) {
  Object.assign(state, patch);
  writeUrl(state);
  panels.contrast.sync(models, info);
  panels.contrast.refresh();
}

/** The lesson picker: open lesson `id` from its first step, on its model and sentence (or close it). */
async function openLesson(id) {
  if (!id) {
    classroom.close(state);
    if (current) await redraw(new Set(['lesson']));
    return;
  }
  state.step = 0;
  if (!(await classroom.open(state, id))) return;
  const { model, text } = classroom.lesson();
  state.text = text;
  $('text').value = text;
  followEnd = true;
  if (model !== state.model) {
    shown = sent; // whatever is in flight belongs to the old model
    await loadModel(model);
  }
  want();
}

function onInput(ev) {
  if (ev) swapNote(null); // the reader typed: their text now
  version += 1;
  performance.mark(`gs:input:${version}`);
  waiting.push(version);
  state.text = $('text').value;
  want();
}

async function loadModel(id) {
  info = await api.getModel(id);
  state.model = info.id;
  controls.sync(state, info);
  panels.upload.showModel(info);
  panels.vectors.show(info);
  await panels.contrast.sync(models, info);
  $('text').hidden = info.input === 'vector';
  for (const { id, module } of VIEWS) if (module.reserve) $(id).style.minHeight = `${module.reserve(info)}px`;
  showExamples(info, (text) => {
    swapNote(null);
    setText(text);
  });
  controls.about(info);
}

/** The language changed (i18n.js has translated the shell): say everything else again in it. */
function onLanguage() {
  localisePlotly();
  controls.relabel(state, info);
  panels.train.relabel();
  if (info) {
    panels.upload.showModel(info);
    panels.contrast.relabel();
    controls.about(info);
  }
  const line = statusline.again();
  if (line === 'error') want(); // the server's sentence: ask again, and it answers in the new language
  else if (line === 'other' && current) statusline.shape(current.trace, info);
  writeUrl(state);
  if (current) redraw(everything());
}

/** A picker changed: model refetches; layer, direction, quantity and order only redraw. */
async function onControl(name, value) {
  if (name === 'lesson') {
    await openLesson(value);
  } else if (name === 'model') {
    shown = sent; // whatever is in flight belongs to the old model
    if (classroom.lesson() && value !== classroom.lesson().model) classroom.close(state); // its unit is its model's
    await loadModel(value);
    switched = info.id;
    want();
  } else if (name === 'wrap') {
    state.wrap = value; // the tokens change, so this is a new trace
    want();
  } else {
    state[name] = ['layer', 'direction', 'top'].includes(name) ? Number(value) : value;
    const kind = { direction: 'layer', top: 'order' }[name] || name; // how many units shown is part of the order
    if (current) await redraw(new Set([kind]));
  }
  writeUrl(state);
}

async function start() {
  // For tests and the console: the state, the last text drawn, the view registry and, from the first draw,
  // the view objects (`views`) and `idle()`, which resolves once every view has caught up.
  window.gatescope = { state, rendered: null, context: () => context(), registry: VIEWS, changes: CHANGES,
    views: null, idle: () => (views ? views.idle() : Promise.resolve()), i18n };
  // The text box waits for the catalogs, the models, the lessons and then the model's description; the first three
  // are asked for together (in the page's language, which init() chooses at once). Plotly runs after it.
  const catalogs = i18n.init(api.getCatalog);
  const asked = [api.listModels(), api.listLessons()];
  for (const a of asked) a.catch(() => {}); // a failure is reported where it is awaited, below
  await catalogs;
  initIntro();
  $('lang').value = i18n.language();
  $('lang').addEventListener('change', (ev) => i18n.setLanguage(ev.target.value));
  document.addEventListener('gs:language', onLanguage);
  document.addEventListener('gs:relayout', () => { // presentation mode on or off: every figure's size changes
    state.present = present.presenting();
    writeUrl(state);
    if (current) redraw(everything());
  });
  present.init(state);
  const inputs = () => ({ model: state.model, text: current ? current.text : state.text,
    vectors: current ? current.trace.vectors : null, wrap: current ? current.trace.wrap : false });
  panels = { upload: upload.create($('upload')), vectors: vectors.create($('vectors'), want),
    contrast: contrast.create($('compare-panel'), state, { inputs, onChange: onPanel,
      onResult: () => current && redraw(new Set(['compare'])) }) };
  panels.exporter = exporter.create($('export'), state, inputs);
  panels.train = train.create($('train'));
  // The explorer does not wait for the training panel, which may redraw a job's run at once: after Plotly.
  plotly.then(() => panels.train.init()).catch((e) => console.error(e));
  document.addEventListener('gs:model-added', ({ detail }) => {
    if (!info) location.assign(`?model=${encodeURIComponent(detail.id)}`); // the page started with no model
    else {
      controls.addModel(detail);
      models.push(detail);
      onControl('model', detail.id);
    }
  });
  const listing = await asked[0];
  models = listing.models;
  const { directory, uploads } = listing;
  $('sec-upload').hidden = !uploads;
  tabs.show(tabs.valid(state.tab)); // '' (the first view) stays out of the URL
  tabs.init(() => tabs.valid(state.tab));
  if (!models.length) {
    // The directory as the server shows it (null in public mode), and whether a model can be imported here.
    statusline.fail(`status.no_models${directory ? '_in' : ''}${uploads ? '_or_import' : ''}`, { directory });
    return;
  }
  controls.init(models, state, onControl);
  // A lesson link (?lesson=hometown&step=3) opens on the lesson's model, or on the link's model if it has one
  // (?lesson=counter&model=train-…: a model kept from the Train panel; the server refuses one of another task),
  // and on its sentence unless the link carries another one.
  if (state.lesson && (await classroom.open(state, state.lesson, state.model))) {
    state.model = classroom.lesson().model;
    if (linked === null) state.text = classroom.lesson().text;
  }
  controls.lessons(await asked[1], state);
  // The model the server chose to open on (app/routes/page.py: the lesson's model, hometown, where it is shipped)
  // and wrote its example for into the text box, which takes typing from the first paint: what was typed wins.
  const box = $('text');
  const ids = models.map((m) => m.id);
  await loadModel(ids.includes(state.model) ? state.model : ids.find((id) => id === box.dataset.model) || ids[0]);
  if (box.value !== (linked ?? box.defaultValue)) state.text = box.value;
  // The example in the page's language, which may differ from the server's pick (a language chosen before).
  else if (state.text === null) state.text = firstExample(info) ?? DEFAULT_TEXT;
  box.value = state.text;
  $('text').addEventListener('input', onInput);
  performance.mark('gs:textbox'); // the text box holds its text and listens (bench/first_paint.py)
  $('card-open').addEventListener('click', () => openCard(info, controls.about(info)));
  document.addEventListener('gs:select', select);
  send();
}

/** Run Plotly (downloaded meanwhile: the shell preloads it) once the text box is ready and the first trace asked. */
function runPlotly() {
  loadPlotly().then((p) => {
    localisePlotly();
    plotlyArrived(p);
  }, (e) => status(e.message, true));
}

start().catch((e) => status(e.message, true)).finally(runPlotly);
