// The page's requests: the text typed -> /api/trace -> the views, and the chosen step -> /api/step -> the step
// view. Request sequencing: at most one trace request in flight; keystrokes meanwhile coalesce into one follow-up
// with the latest text, and a response older than what is on screen is never drawn.

import * as api from './api.js';
import { progressive } from './firstdraw.js';
import { clamp, context, page } from './pagestate.js';
import { scheduler } from './scheduler.js';
import * as statusline from './statusline.js';
import { status } from './statusline.js';
import { writeUrl } from './url.js';
import { any } from './view.js';
import { firstExample, swapNote } from './welcome.js';

const $ = (id) => document.getElementById(id);
let sent = 0;
let shown = 0;
let inflight = false;
let dirty = false;
let version = 0; // text version, one per input event, for the gs:repaint performance measures
const waiting = []; // versions typed but not yet on screen
let stepSeq = 0;
let stepTimer = null;
let cancelTrace = null; // the AbortController of the trace request in flight
let cancelStep = null; // and of the step request

const frame = () => new Promise((r) => requestAnimationFrame(() => r()));

/**
 * Tell the views that `changed` (a Set of view.js's CHANGES) happened; resolves once those on screen have
 * drawn. A change of the step's inputs also clears the step shown and asks the server for the new one.
 */
export function redraw(changed) {
  if (!page.views) {
    page.views = scheduler(progressive(page.registry, page.plotly), context);
    window.gatescope.views = page.views.views;
  }
  if (any(changed, 'data', 'layer', 'unit', 'time')) {
    requestStep();
    changed.add('step');
  }
  writeUrl(page.state);
  return page.views.draw(changed);
}

async function show(tr, text, v) {
  const t0 = performance.now();
  page.current = { trace: tr, text };
  clamp(tr);
  await redraw(new Set(['data']));
  await frame();
  performance.measure('gs:draw', { start: t0, end: performance.now() });
  const typed = [];
  while (waiting.length && waiting[0] <= v) typed.push(waiting.shift());
  for (const u of typed) performance.measure('gs:repaint', `gs:input:${u}`);
  page.views.whenSettled(() => {
    for (const u of typed) {
      performance.measure('gs:repaint-all', `gs:input:${u}`);
      performance.clearMarks(`gs:input:${u}`);
    }
  });
  window.gatescope.rendered = { text, model: tr.model, steps: tr.steps, version: v };
  statusline.shape(tr, page.info);
  page.panels.contrast.refresh(); // run a changed
}

async function send() {
  const { info, state } = page;
  if (!info) return;
  const seq = ++sent;
  const { model } = state;
  // Models without a vocabulary are traced on the rows of the vector panel instead of the text.
  const rows = info.input === 'vector' ? page.panels.vectors.rows() : null;
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
  cancelTrace = new AbortController();
  try {
    const wrap = state.wrap && info.can_wrap; // begin/end tokens around the text, when the vocabulary has them
    const tr = await api.trace({ model, text, vectors: rows, wrap, signal: cancelTrace.signal });
    tr.vectors = rows;
    tr.wrap = wrap;
    if (page.switched === model) {
      page.switched = null;
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
    else if (seq > shown && !api.isAborted(e)) status(e.message, true);
    if (!(e instanceof api.ApiError)) throw e;
  }
}

/** More than half the tokens unknown, and the model has examples it knows instead. */
const mostlyUnknown = (tr) => tr.oov.length * 2 > tr.steps && page.info.examples && page.info.examples.length > 0;

/** Replace a text the model just switched to mostly does not know by its example, and say so. */
function offerExample(mine) {
  setText(firstExample(page.info));
  swapNote(page.info.name, () => setText(mine));
}

/** Put `text` in the text box and trace it, as if typed. */
export function setText(text) {
  $('text').value = text;
  onInput();
}

/** Trace the state's text: now, or once the request in flight has come back. */
export function want() {
  if (inflight) dirty = true;
  else send();
}

/** Whatever is in flight belongs to the old model (or lesson): it is cancelled, and never drawn. */
export function forget() {
  shown = sent;
  if (inflight) cancelTrace.abort();
}

function requestStep() {
  clearTimeout(stepTimer);
  if (cancelStep) cancelStep.abort(); // asked for the step shown before: not the one to show any more
  page.stepResult = null;
  // While scrubbing, ask only once the slider rests for a moment; the server need not explain every step.
  stepTimer = setTimeout(fetchStep, 80);
}

async function fetchStep() {
  const seq = ++stepSeq;
  const t0 = performance.now();
  const { state, current } = page;
  const { layer, direction, unit: u } = state;
  const cancel = new AbortController();
  cancelStep = cancel;
  try {
    page.stepResult = await api.step({ model: state.model, text: current.text, vectors: current.trace.vectors,
      wrap: current.trace.wrap, layer, direction, t: state.t, unit: u, signal: cancel.signal });
  } catch (e) {
    if (!(e instanceof api.ApiError)) throw e;
    if (api.isAborted(e)) return; // a newer step request took its place
    page.stepResult = e.message;
  } finally {
    if (cancelStep === cancel) cancelStep = null;
  }
  if (seq !== stepSeq || !page.current) return;
  await page.views.draw(new Set(['step']));
  performance.measure('gs:step', { start: t0, end: performance.now() });
}

/** The text box changed (typed, or set by setText): trace its text. */
export function onInput(ev) {
  if (ev) swapNote(null); // the reader typed: their text now
  version += 1;
  performance.mark(`gs:input:${version}`);
  waiting.push(version);
  page.state.text = $('text').value;
  want();
}
