// The page state <-> the address bar, so that a link reproduces the view exactly. The query string holds the
// short settings (model, layer, direction, unit, t, quantity, order, `top`, `wrap`, the comparison's mode `view`,
// second model `b`, threshold `thr`, clamps `iv`, language `lang`, the guided `lesson`, its `step`, `present`
// mode, the view a phone shows `tab`); the texts go in the fragment (#text=...&text2=...), which browsers never
// send to a server, so a typed sentence never reaches a server log. Links from before (?text=...) still open.

import { QUANTITIES } from './format.js';
import { explicit, language } from './i18n.js';
import { ORDERS } from './order.js';

/** The text of a model whose card declares no examples (main.js opens on the card's first example). */
export const DEFAULT_TEXT = 'the cat sat on the mat';
const INTS = ['layer', 'direction', 'unit', 't', 'top', 'step'];
export const VIEWS = ['texts', 'models', 'clamp']; // what the comparison panel shows ('' for nothing)
const MAX_CLAMPS = 64;

/** Clamps to text: f.0.0.3=0@5,7-9 is f of layer 0, direction 0, unit 3 held at 0 at steps 5, 7, 8, 9; @* every step. */
export function encodeClamps(clamps) {
  const runs = (ps) => {
    const out = [];
    for (let k = 0; k < ps.length; k++) {
      let j = k;
      while (j + 1 < ps.length && ps[j + 1] === ps[j] + 1) j++;
      out.push(j > k ? `${ps[k]}-${ps[j]}` : `${ps[k]}`);
      k = j;
    }
    return out.join(',');
  };
  return clamps.map((c) => `${c.quantity}.${c.layer}.${c.direction}.${c.unit}=${c.value}@`
    + `${c.positions === null ? '*' : runs([...c.positions].sort((x, y) => x - y))}`).join(';');
}

/** The clamps of an `iv` parameter; malformed items are dropped, never guessed at. */
export function decodeClamps(text) {
  const out = [];
  for (const item of (text || '').split(';').slice(0, MAX_CLAMPS)) {
    const m = /^([ifgoch])\.(\d+)\.([01])\.(\d+)=(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)@(\*|\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)$/i
      .exec(item);
    if (!m) continue;
    let positions = null;
    if (m[6] !== '*') {
      positions = [];
      for (const part of m[6].split(',')) {
        const [a, b = a] = part.split('-').map(Number);
        for (let t = a; t <= b && positions.length < 100000; t++) positions.push(t);
      }
    }
    out.push({ quantity: m[1], layer: +m[2], direction: +m[3], unit: +m[4], value: Number(m[5]), positions });
  }
  return out;
}

/** The state a link describes; anything missing or malformed falls back to a default. */
export function readUrl() {
  const p = new URLSearchParams(location.search);
  const h = new URLSearchParams(location.hash.slice(1));
  const text = h.has('text') ? h.get('text') : p.get('text'); // the fragment, or a link from before it
  const state = { model: p.get('model') || '', text, layer: 0, direction: 0, unit: 0, t: null, // text null: an example
    quantity: 'c', order: 'index', top: 0, view: '', text2: h.get('text2') ?? '', model2: p.get('b') || '',
    threshold: 0.05, clamps: decodeClamps(p.get('iv')), wrap: p.get('wrap') === '1',
    lesson: p.get('lesson') || '', step: 0, present: p.get('present') === '1', tab: p.get('tab') || '' };
  for (const k of INTS) {
    const v = Number.parseInt(p.get(k), 10);
    if (Number.isFinite(v) && v >= 0) state[k] = v;
  }
  if (QUANTITIES.includes(p.get('quantity'))) state.quantity = p.get('quantity');
  if (ORDERS.includes(p.get('order'))) state.order = p.get('order');
  if (VIEWS.includes(p.get('view'))) state.view = p.get('view');
  const thr = Number(p.get('thr'));
  if (p.has('thr') && Number.isFinite(thr) && thr >= 0) state.threshold = thr;
  return state;
}

let urlTimer = null;

/** Mirror `state` in the address bar; batched, because browsers throttle rapid history updates. */
export function writeUrl(state) {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => history.replaceState(null, '', link(state)), 300);
}

/** The link (path, query and fragment) that reopens `state`. */
export function link(state) {
  const p = new URLSearchParams();
  for (const k of ['model', 'layer', 'direction', 'unit', 't', 'quantity', 'order', 'view', 'lesson', 'tab']) {
    if (state[k] !== null && state[k] !== '') p.set(k, String(state[k]));
  }
  if (state.top) p.set('top', String(state.top)); // how many units the heatmaps show; 0 (all) is the default
  if (state.view === 'models' && state.model2) p.set('b', state.model2);
  if (state.view && state.threshold !== 0.05) p.set('thr', String(state.threshold));
  if (state.view === 'clamp' && state.clamps.length) p.set('iv', encodeClamps(state.clamps));
  if (state.wrap) p.set('wrap', '1');
  if (state.lesson) p.set('step', String(state.step));
  if (state.present) p.set('present', '1');
  if (explicit()) p.set('lang', language()); // a chosen language travels with the link
  const h = new URLSearchParams({ text: state.text });
  if (state.view === 'texts') h.set('text2', state.text2);
  return `${location.pathname}?${p}#${h}`;
}
