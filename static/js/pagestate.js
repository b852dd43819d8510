// The page's shared state, one object that main.js, tracing.js and actions.js read and write (nothing else
// does): the state mirrored in the URL, the model shown, the trace drawn, the panels and the view scheduler.
// It sits in a module of its own so that those three split the work without importing each other in a cycle.
// The view context (view.js) is built from it here, for the scheduler and for tests.

import { block } from './arrays.js';
import * as classroom from './classroom.js';
import { plotLabel } from './format.js';
import { unitOrder } from './order.js';
import { readUrl } from './url.js';

const state = readUrl();

export const page = {
  state,
  // Read now: the URL is rewritten as the page runs. The text travels in the fragment (url.js), or in the query in
  // old links; null without one. The text box holds it already (boot.js, or the server for ?text=).
  linked: state.text,
  registry: [], // main.js's VIEWS
  views: null, // the scheduler, made at the first draw
  panels: null, // {upload, vectors, contrast, exporter, train}: the input, comparison, export and training panels
  models: [], // every model the server offers
  info: null, // ModelInfo (+ vocab, unk) of state.model
  current: null, // {trace, text} last drawn
  followEnd: state.t === null, // while typing, t stays on the newest token unless the user moved it
  stepResult: null,
  switched: null, // the model just switched to: its first trace checks the text is not mostly unknown
  // () => a Promise of Plotly, loaded the first time a view's update draws with it (firstdraw.js); set by main.js.
  plotly: null,
};

// Every view asks for the context at every draw: what depends on the trace alone is worked out once per trace, the
// token labels once per distinct token (2,000 tokens took 25 ms a trace, several times over, before).
const LABELS = new Map(); // token -> plotLabel(token)
const perTrace = new WeakMap(); // trace -> {labels, order: {key, order}}

function labelOf(token) {
  let label = LABELS.get(token);
  if (label === undefined) {
    if (LABELS.size > 50000) LABELS.clear(); // a bound: tokens come from what people type
    label = plotLabel(token);
    LABELS.set(token, label);
  }
  return label;
}

function known(tr) {
  let k = perTrace.get(tr);
  if (!k) perTrace.set(tr, (k = { labels: tr.tokens.map(labelOf), order: null }));
  return k;
}

/** The view context (view.js) of what is drawn now. */
export function context() {
  const { state: s, info, current } = page;
  const tr = current.trace;
  const [L, D, T, H] = tr.i.shape;
  const slot = tr.layers.indexOf(s.layer);
  const k = known(tr);
  const t = s.t ?? T - 1;
  const key = `${s.quantity} ${slot} ${s.direction} ${s.order} ${t}`;
  if (!k.order || k.order.key !== key) {
    k.order = { key, order: unitOrder(block(tr[s.quantity], slot, s.direction), T, tr[s.quantity].shape[3], s.order, t) };
  }
  const { order } = k.order;
  return {
    trace: tr, text: current.text, info, state: { ...s }, slot, L, D, T, H,
    order: order.length === H ? order : Array.from({ length: H }, (_, u) => u),
    labels: k.labels, wordTokens: info.tokenizer === 'word', step: page.stepResult,
    compare: page.panels.contrast.current(),
    lesson: classroom.context(s),
  };
}

/** Keep the state within trace `tr`: its layers, directions, units and timesteps. */
export function clamp(tr) {
  const { state: s } = page;
  const [, D, T, H] = tr.i.shape;
  if (!tr.layers.includes(s.layer)) s.layer = tr.layers[0];
  s.direction = Math.min(s.direction, D - 1);
  s.unit = Math.min(Math.max(0, s.unit), H - 1);
  // Once t reaches the newest token (the text shrank under it, or the user went there), it follows the typing.
  if (page.followEnd || s.t === null || s.t >= T - 1) page.followEnd = true;
  s.t = page.followEnd ? T - 1 : Math.max(0, s.t);
}
