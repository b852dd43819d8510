// "Train a tiny model": start a job on the server, watch its loss fall and the probe sentence's gates take
// shape at every snapshot (second instances of the heatmaps and unit views, under view.js's contract, fed a
// context this panel builds), stop or resume it, replay its snapshots with a slider, keep the model.
// The panel keeps its own small state (job, snapshots, unit, t); the page's state is never touched: a
// view's gs:select from inside the panel is answered here and goes no further.

import * as api from './api.js';
import { el, text } from './dom.js';
import { plotLabel } from './format.js';
import * as heatmaps from './heatmaps.js';
import { language, t } from './i18n.js';
import { loadPlotly } from './plot.js';
import * as curve from './traincurve.js';
import * as trainform from './trainform.js';
import * as trainkept from './trainkept.js';
import * as replay from './trainreplay.js';
import * as unit from './unit.js';
import { everything } from './view.js';

const STORE = 'gatescope.trainJob'; // this tab's job, so that a reload follows it again
const TERMINAL = ['done', 'stopped', 'failed'];
const remember = (id) => { try { sessionStorage.setItem(STORE, id); } catch { /* not remembered */ } };
const recalled = () => { try { return sessionStorage.getItem(STORE); } catch { return null; } };

export function create(root) {
  const form = trainform.create(root, start);
  const status = el('p', { className: 'status', id: 'train-status', role: 'status' });
  const bar = el('progress', { id: 'train-progress', max: 1, value: 0, hidden: true });
  const stopButton = text('button', 'train.stop', { type: 'button', id: 'train-stop', hidden: true });
  const resumeButton = text('button', 'train.resume', { type: 'button', id: 'train-resume', hidden: true });
  const name = el('input', { type: 'text', id: 'train-name', maxLength: 80 });
  name.dataset.i18nAttr = 'placeholder:train.name';
  name.placeholder = t('train.name');
  const keepButton = text('button', 'train.keep', { type: 'button', id: 'train-keep' });
  const keepRow = el('span', { className: 'keep', hidden: true }, name, keepButton);
  const kept = el('p', { className: 'note', id: 'train-kept' });
  const probe = el('p', { className: 'note', id: 'train-probe' });
  const [curveBox, unitBox, heatBox, replayBox] = ['curve', 'unit', 'heatmaps', 'replay']
    .map((k) => el('div', { className: `train-${k}` }));
  const board = el('div', { className: 'train-board', hidden: true },
    el('div', { className: 'train-left' }, curveBox, replayBox, probe, unitBox), heatBox);
  const command = el('code', { id: 'train-command' });
  const reproduce = el('details', { className: 'note', hidden: true }, text('summary', 'train.reproduce'), command);
  root.append(status, bar, el('div', { className: 'row train-actions' }, stopButton, resumeButton, keepRow), kept,
    board, reproduce);

  const losses = curve.create(curveBox);
  // A new width (a window turned or narrowed, a phone's tab shown) redraws the figures: Plotly's own responsive resize
  // (run at the resize tabs.js sends) measures a figure with no height of its own as 0 px tall and leaves it so, and
  // one drawn while the section was hidden keeps the width it had. A redraw sets both from the layout again.
  let width = 0;
  const collapsed = () => [...board.querySelectorAll('.js-plotly-plot')].some((gd) => gd.clientHeight === 0);
  new ResizeObserver(() => {
    if (board.hidden || !board.clientWidth || (board.clientWidth === width && !collapsed())) return;
    const redraw = width > 0;
    width = board.clientWidth;
    if (!redraw) return;
    losses.redraw();
    if (shown >= 0) show(shown, everything());
  }).observe(board);
  const slider = replay.create(replayBox, (k) => show(k));
  let views = null; // the heatmaps and unit views, made once the board shows (they measure its width)
  const view = { unit: 0, t: null, layer: 0 };
  let job = null; // the job's status from the server, updated by its events
  let frames = []; // [{step, metrics, probe}] one per snapshot
  let shown = -1;
  let source = null;
  let offset = 0;
  let clock = null; // {base: seconds, at: performance.now()} for the running time between events
  let line = null; // [key, params] of an error shown, said again on a language switch

  function say(textOrKey, params, error = false) {
    line = error && params ? [textOrKey, params] : null;
    status.textContent = params ? t(textOrKey, params) : textOrKey;
    status.classList.toggle('error', error);
  }

  function summary() {
    const seconds = clock ? clock.base + (job.state === 'running' ? (performance.now() - clock.at) / 1000 : 0) : 0;
    const parts = [t(`train.state.${job.state}`), t('train.at_step', { step: job.step, steps: job.steps })];
    if (job.loss !== null && job.loss !== undefined) parts.push(t('train.loss_is', { loss: job.loss.toFixed(3) }));
    if (typeof job.accuracy === 'number') parts.push(t('train.accuracy_is', { accuracy: (100 * job.accuracy).toFixed(1) }));
    if (job.tok_s) parts.push(t('train.speed', { rate: Math.round(job.tok_s).toLocaleString(language()) }));
    parts.push(t('train.seconds', { seconds: Math.round(seconds) }));
    if (job.state === 'failed' && job.detail) parts.push(job.detail);
    say(parts.join(' · '), null, job.state === 'failed');
    bar.value = job.steps ? job.step / job.steps : 0;
  }

  function layout() {
    const running = !TERMINAL.includes(job.state);
    board.hidden = false; // before anything draws in it: Plotly measures its width
    form.busy(running);
    bar.hidden = !running;
    stopButton.hidden = !running;
    resumeButton.hidden = job.state !== 'stopped';
    keepRow.hidden = !(job.state === 'done' || job.state === 'stopped');
    slider.playable(!running);
    reproduce.hidden = !job.command;
    command.textContent = job.command || '';
    summary();
  }

  function context(tr) {
    const [L, D, T, H] = tr.i.shape;
    view.unit = Math.min(view.unit, H - 1);
    const state = { model: '', text: job.probe, layer: tr.layers[0], direction: 0, unit: view.unit,
      t: view.t === null ? T - 1 : Math.min(view.t, T - 1), quantity: 'c', order: 'index' };
    return { trace: tr, text: job.probe, info: null, state, slot: 0, L, D, T, H, labels: tr.tokens.map(plotLabel),
      order: Array.from({ length: H }, (_, u) => u), wordTokens: false, step: null };
  }

  /** Draw snapshot k in the heatmaps and the unit's lines; `changed` as view.js's contract has it. */
  function show(k, changed = new Set(['data'])) {
    const frame = frames[k];
    if (!frame) return undefined;
    shown = k;
    losses.mark(frame.step);
    slider.at(k, frames.length, frame);
    if (typeof frame.probe !== 'object') {
      probe.textContent = frame.probe || '';
      return undefined;
    }
    probe.textContent = t('train.probe', { probe: job.probe, step: frame.step });
    const first = !views;
    if (first) {
      views = { heatmaps: heatmaps.create(heatBox), unit: unit.create(unitBox) };
      // Ids stay unique in the page: the explorer has its own heatmaps-plot, unit-heading...
      for (const e of board.querySelectorAll('.train-heatmaps [id], .train-unit [id]')) e.id = `train-${e.id}`;
    }
    const ctx = context(frame.probe);
    const all = first ? everything() : changed;
    return Promise.all([views.heatmaps.update(ctx, all), views.unit.update(ctx, all)]);
  }

  function onEvent(type, data, at) {
    offset = at;
    if (type === 'start' && data.step === 0) reset(false);
    if (type === 'start') Object.assign(job, { state: 'running', steps: data.steps });
    if (type === 'progress') {
      losses.progress(data.steps, data.loss);
      Object.assign(job, { state: 'running', step: data.steps[data.steps.length - 1],
        loss: data.loss[data.loss.length - 1], tok_s: data.tok_s });
    } else if (type === 'snapshot') {
      frames.push({ step: data.step, metrics: data.metrics, probe: data.probe });
      losses.score(data.step, data.metrics);
      if (typeof data.metrics.accuracy === 'number') job.accuracy = data.metrics.accuracy;
      if (slider.following() || shown < 0) show(frames.length - 1);
      else slider.at(shown, frames.length, frames[shown]);
    } else if (TERMINAL.includes(type)) {
      source.close();
      source = null;
      refresh();
      return;
    }
    summary();
  }

  /** Follow the job's events, once Plotly is there: the board's curve draws with it, loaded only now (plot.js). */
  async function follow() {
    try {
      await loadPlotly();
    } catch (e) {
      say(e.message, null, true);
      return;
    }
    if (source) source.close();
    source = api.trainEvents(job.id, offset, onEvent, (s) => {
      if (s.readyState === EventSource.CLOSED) refresh(); // the server said 204: nothing more will come
    });
  }

  async function refresh() {
    try {
      job = await api.trainStatus(job.id);
    } catch (e) {
      say(e.message, null, true);
      return;
    }
    clock = { base: job.elapsed, at: performance.now() };
    layout();
  }

  function reset(all = true) {
    frames = [];
    shown = -1;
    slider.at(-1, 0, null);
    if (all) { offset = 0; kept.replaceChildren(); }
    return losses.reset();
  }

  async function start(body) {
    try {
      job = await api.startTraining(body);
    } catch (e) {
      say(e.message, null, true);
      return;
    }
    remember(job.id);
    clock = { base: 0, at: performance.now() };
    layout();
    reset();
    follow();
  }

  async function act(call) {
    try {
      job = await call(job.id);
      layout();
      return true;
    } catch (e) {
      say(e.message, null, true);
      return false;
    }
  }

  stopButton.addEventListener('click', () => act(api.stopTraining).then(() => say('train.stopping', {})));
  resumeButton.addEventListener('click', async () => { if (await act(api.resumeTraining)) follow(); });
  keepButton.addEventListener('click', async () => {
    try {
      await trainkept.show(kept, job, await api.keepTraining(job.id, name.value.trim() || job.name));
    } catch (e) {
      say(e.message, null, true);
    }
  });
  root.addEventListener('gs:select', (ev) => {
    ev.stopPropagation(); // the panel's views ask the panel, not the page
    if (ev.detail.unit !== undefined) view.unit = ev.detail.unit;
    if (ev.detail.t !== undefined) view.t = ev.detail.t;
    if (shown >= 0) show(shown, new Set(['unit', 'time']));
  });
  setInterval(() => { if (job && job.state === 'running') summary(); }, 1000);

  return {
    /** Load what can be trained, and follow this tab's job again after a reload. */
    async init() {
      const options = await api.trainOptions();
      if (!options.enabled) {
        form.busy(true);
        say('train.off', {}, true);
        return;
      }
      form.setOptions(options);
      const id = recalled();
      if (!id) return;
      try {
        job = await api.trainStatus(id);
      } catch {
        return; // cleared from the server since
      }
      form.show(job);
      clock = { base: job.elapsed, at: performance.now() };
      layout();
      follow();
    },
    relabel() {
      form.relabel();
      if (line) say(line[0], line[1], true);
      else if (job) summary();
      losses.redraw();
      if (shown >= 0) show(shown, everything());
    },
  };
}
