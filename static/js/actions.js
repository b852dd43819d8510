// What the person asks for, and what it changes in the page state (pagestate.js): a view's request (gs:select),
// a picker in the header, the comparison panel, a lesson, a model, the language. Traces and redraws go
// through tracing.js.

import * as api from './api.js';
import * as classroom from './classroom.js';
import { controls } from './controls.js';
import { context, page } from './pagestate.js';
import { localisePlotly } from './plot.js';
import * as statusline from './statusline.js';
import * as tabs from './tabs.js';
import { forget, onInput, redraw, setText, want } from './tracing.js';
import { writeUrl } from './url.js';
import { everything } from './view.js';
import { showExamples, swapNote } from './welcome.js';

const $ = (id) => document.getElementById(id);

/** A corpus view asked to show a text in the explorer with t on one token: it becomes the typed text. */
function openText(text, t) {
  $('text').value = text;
  page.state.text = text;
  page.state.t = t;
  page.followEnd = false;
  $('sec-input').scrollIntoView({ block: 'start' });
  onInput();
}

/** A view asked for a change (click on a heatmap cell, a bar, a point; the scrubber; a corpus view). */
export function select({ detail }) {
  const { state, info } = page;
  if (detail.tab !== undefined && tabs.valid(detail.tab) !== tabs.valid(state.tab)) { // a phone's view: no redraw
    state.tab = tabs.valid(detail.tab);
    tabs.show(state.tab);
    writeUrl(state);
  }
  if (!page.current) return;
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
    page.followEnd = detail.t >= T - 1;
  }
  if (detail.step !== undefined && classroom.go(state, detail.step)) changed.add('lesson');
  if (detail.lesson === null && state.lesson) {
    classroom.close(state);
    changed.add('lesson');
  }
  if (changed.size) {
    page.panels.contrast.moved();
    redraw(changed);
  }
}

/** The comparison panel asks for a change (mode, second text or model, threshold, clamps). */
export function onPanel(patch) {
  Object.assign(page.state, patch);
  writeUrl(page.state);
  page.panels.contrast.sync(page.models, page.info);
  page.panels.contrast.refresh();
}

/** The lesson picker: open lesson `id` from its first step, on its model and sentence (or close it). */
async function openLesson(id) {
  const { state } = page;
  if (!id) {
    classroom.close(state);
    if (page.current) await redraw(new Set(['lesson']));
    return;
  }
  state.step = 0;
  if (!(await classroom.open(state, id))) return;
  const { model, text } = classroom.lesson();
  state.text = text;
  $('text').value = text;
  page.followEnd = true;
  if (model !== state.model) {
    forget();
    await loadModel(model);
  }
  want();
}

/** Make model `id` the page's: its info, the pickers and panels that depend on it, the room its views take. */
export async function loadModel(id) {
  const info = await api.getModel(id);
  page.info = info;
  page.state.model = info.id;
  controls.sync(page.state, info);
  page.panels.upload.showModel(info);
  page.panels.vectors.show(info);
  await page.panels.contrast.sync(page.models, info);
  $('text').hidden = info.input === 'vector';
  for (const { id: view, module } of page.registry) if (module.reserve) $(view).style.minHeight = `${module.reserve(info)}px`;
  showExamples(info, (text) => {
    swapNote(null);
    setText(text);
  });
  controls.about(info);
}

/** The language changed (i18n.js has translated the shell): say everything else again in it. */
export function onLanguage() {
  const { state, info, panels, current } = page;
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
export async function onControl(name, value) {
  const { state } = page;
  if (name === 'lesson') {
    await openLesson(value);
  } else if (name === 'model') {
    forget();
    if (classroom.lesson() && value !== classroom.lesson().model) classroom.close(state); // its unit is its model's
    await loadModel(value);
    page.switched = page.info.id;
    want();
  } else if (name === 'wrap') {
    state.wrap = value; // the tokens change, so this is a new trace
    want();
  } else {
    state[name] = ['layer', 'direction', 'top'].includes(name) ? Number(value) : value;
    const kind = { direction: 'layer', top: 'order' }[name] || name; // how many units shown is part of the order
    if (page.current) await redraw(new Set([kind]));
  }
  writeUrl(state);
}
