// The comparison panel: what run b is (a second text, a second model or a training snapshot of this one, or this
// run with units clamped) and the threshold, plus the /api/compare requests, sequenced as main.js sequences
// traces (one in flight; changes meanwhile coalesce; an older answer never replaces a newer one). The compare
// view (compare.js) draws the answer from ctx.compare. main.js owns the state: the panel asks it for changes.

import * as api from './api.js';
import * as clamps from './clamps.js';
import { el, text } from './dom.js';
import { t } from './i18n.js';
import { VIEWS } from './url.js';

/**
 * Build the panel in `root`. state: main.js's state (read only here); inputs(): {model, text, vectors} of run a;
 * onChange(patch): ask main.js to change the state; onResult(): the answer (or its absence) changed.
 */
export function create(root, state, { inputs, onChange, onResult }) {
  const modes = el('div', { className: 'modes', role: 'radiogroup' });
  const text2 = el('textarea', { id: 'text2', rows: 2, spellcheck: false, autocomplete: 'off' });
  text2.dataset.i18nAttr = 'placeholder:compare.text2_placeholder;aria-label:compare.text2_label';
  const model2 = el('select', { id: 'model2' });
  const slider = el('input', { id: 'history', type: 'range', min: 0, max: 0, step: 1, value: 0 });
  const stepLabel = el('output', { id: 'history-step' });
  const historyRow = el('label', { className: 'history', hidden: true }, text('span', 'compare.history'), slider,
    stepLabel);
  const threshold = el('input', { id: 'threshold', type: 'number', min: 0, step: 0.01, value: state.threshold });
  const clampBox = el('div', { id: 'clamps' });
  const editor = clamps.create(clampBox, state, (list) => onChange({ clamps: list }));
  const parts = {
    texts: el('div', { className: 'part' }, text2),
    models: el('div', { className: 'part' }, el('label', {}, text('span', 'compare.model2'), model2), historyRow),
    clamp: el('div', { className: 'part' }, clampBox),
  };
  root.replaceChildren(modes, ...Object.values(parts),
    el('label', { className: 'threshold' }, text('span', 'compare.threshold'), threshold));
  let snapshots = []; // the training history of run a's model: [{id, step, metrics}]
  let historyOf = null; // the model those snapshots belong to
  let result = null; // {view, answer} | {view, error} | {view, note}
  let seq = 0;
  let shown = 0;
  let inflight = false;
  let dirty = false;

  function drawModes() {
    modes.replaceChildren(...['', ...VIEWS].map((v) => {
      const input = el('input', { type: 'radio', name: 'compare-view', value: v, checked: state.view === v });
      return el('label', { className: 'mode' }, input, text('span', `compare.view_${v || 'none'}`));
    }));
  }
  drawModes();
  modes.addEventListener('change', (ev) => onChange({ view: ev.target.value }));
  text2.addEventListener('input', () => onChange({ text2: text2.value }));
  model2.addEventListener('change', () => onChange({ model2: model2.value }));
  slider.addEventListener('input', () => {
    const s = snapshots[Number(slider.value)];
    if (s) onChange({ model2: s.id });
  });
  threshold.addEventListener('change', () => {
    const v = Number(threshold.value);
    if (Number.isFinite(v) && v >= 0) onChange({ threshold: v });
  });

  /** What run b is, or the note that says what is missing. */
  function second() {
    if (state.view === 'texts') return state.text2 ? { b: { text: state.text2 } } : { note: 'compare.need_text2' };
    if (state.view === 'models') return { b: { model: state.model2 || state.model } };
    return state.clamps.length ? { b: { interventions: state.clamps } } : { note: 'compare.need_clamp' };
  }

  async function send() {
    const id = ++seq;
    dirty = false;
    const view = state.view;
    const { b, note } = view ? second() : { note: null };
    if (!b) {
      shown = id;
      const was = result;
      result = view ? { view, note } : null;
      // Off before and off now (every trace while the panel is off), or the same note again: nothing to draw.
      const same = was === result || (was && result && was.view === view && was.note === note && !was.answer);
      if (!same) onResult();
      return;
    }
    inflight = true;
    let next;
    try {
      next = { view, answer: await api.compare({ a: inputs(), b, threshold: state.threshold }) };
    } catch (e) {
      if (!(e instanceof api.ApiError)) throw e;
      next = { view, error: e.message };
    } finally {
      inflight = false;
    }
    if (dirty) send();
    if (id > shown) {
      shown = id;
      result = next;
      onResult();
    }
  }

  return {
    /** Ask again: run a, run b or the threshold changed. */
    refresh() {
      if (inflight) dirty = true;
      else send();
    },

    /** The answer the compare view draws (null when the panel is off). */
    current: () => result,

    /** Show the state: the mode, the second text, the model pickers and the history of run a's model. */
    async sync(models, info) {
      for (const [v, part] of Object.entries(parts)) part.hidden = state.view !== v;
      if (text2.value !== state.text2) text2.value = state.text2;
      threshold.value = String(state.threshold);
      const known = new Set(models.map((m) => m.id));
      model2.replaceChildren(...models.map((m) => el('option', { value: m.id, textContent: m.id })));
      if (state.model2 && !known.has(state.model2)) model2.append(el('option', { value: state.model2,
        textContent: state.model2 }));
      model2.value = state.model2 || state.model;
      if (historyOf !== info.id) {
        historyOf = info.id;
        snapshots = info.history ? (await api.history(info.id)).snapshots : [];
      }
      historyRow.hidden = !snapshots.length;
      slider.max = String(Math.max(0, snapshots.length - 1));
      const k = snapshots.findIndex((s) => s.id === state.model2);
      slider.value = String(k < 0 ? snapshots.length - 1 : k);
      const s = snapshots[Number(slider.value)];
      stepLabel.textContent = s ? t('compare.history_step', { step: s.step, last: snapshots.at(-1).step }) : '';
      editor.show();
    },

    /** Say everything again after a language switch. */
    relabel() {
      drawModes();
      editor.show();
    },

    /** The chosen unit, layer or step moved: the clamp editor names them. */
    moved: () => editor.show(),
  };
}
