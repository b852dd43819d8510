// The pickers in the header (model, layer, direction, quantity, order, lesson), the model's summary and the
// "wrap in begin/end tokens" box under the text (shown only for vocabularies that have such tokens); url.js
// mirrors the state in links.

import { QUANTITIES, quantityName } from './format.js';
import { has, t } from './i18n.js';
import { ORDERS } from './order.js';

const $ = (id) => document.getElementById(id);
const TOPS = [0, 8, 16, 32, 64]; // units the heatmaps show, first in the order; 0: all

function options(select, pairs, value) {
  select.replaceChildren(...pairs.map(([v, text]) => {
    const o = document.createElement('option');
    o.value = String(v);
    o.textContent = text;
    return o;
  }));
  select.value = String(value);
}

/** The quantity and order pickers, labelled in the page's language. */
function labelled(state) {
  options($('quantity'), QUANTITIES.map((q) => [q, quantityName(q)]), state.quantity);
  options($('order'), ORDERS.map((o) => [o, t(`order.${o}`)]), state.order);
  options($('top'), TOPS.map((n) => [n, n ? t('top.n', { n }) : t('top.all')]), state.top);
}

let lessons = null; // the lesson list, kept for relabelling

export const controls = {
  init(models, state, onChange) {
    options($('model'), models.map((m) => [m.id, m.name === m.id ? m.id : `${m.name} (${m.id})`]), models[0].id);
    labelled(state);
    for (const name of ['model', 'layer', 'direction', 'quantity', 'order', 'lesson', 'top']) {
      $(name).addEventListener('change', (ev) => onChange(name, ev.target.value));
    }
    $('wrap').addEventListener('change', (ev) => onChange('wrap', ev.target.checked));
    // The drawer (a phone or a short screen: page.css folds the pickers into it) opens and closes here.
    const toggle = $('drawer-toggle');
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      $('drawer').classList.toggle('open', open);
    });
  },

  /** Relabel the pickers after a language switch. */
  relabel(state, info) {
    labelled(state);
    if (info) this.sync(state, info);
    if (lessons) this.lessons(lessons, state);
  },

  /** What model `info` is, under the text box: its summary from the catalogs for a shipped model, else the
   * description in its file (returned, for the card). */
  about(info) {
    const key = `model.${info.id}.summary`;
    const summary = has(key) ? t(key) : info.description;
    $('model-about').textContent = summary;
    $('model-about').hidden = !summary;
    return summary;
  },

  /** The lesson picker: no lesson, or one of `list` whose model is installed, or the one running (it may run
   * on another model of its task, e.g. one kept from the Train panel, where its own is not installed). */
  lessons(list, state) {
    lessons = list;
    const there = list.filter((l) => l.available || l.id === state.lesson);
    options($('lesson'), [['', t('lesson.none')], ...there.map((l) => [l.id, t(`lesson.${l.id}.name`)])],
      there.some((l) => l.id === state.lesson) ? state.lesson : '');
  },

  /** Add a model (just uploaded) to the model picker, once. */
  addModel(m) {
    const select = $('model');
    if ([...select.options].some((o) => o.value === m.id)) return;
    const o = document.createElement('option');
    o.value = m.id;
    o.textContent = m.name === m.id ? m.id : `${m.name} (${m.id})`;
    select.append(o);
  },

  /** Make the pickers show `state` for model `info` (the layer and direction lists depend on the model). */
  sync(state, info) {
    state.layer = Math.min(state.layer, info.layers - 1);
    state.direction = Math.min(state.direction, info.directions - 1);
    $('model').value = info.id;
    options($('layer'), Array.from({ length: info.layers }, (_, l) => [l, `${l}`]), state.layer);
    const [forward, backward] = [t('direction.forward'), t('direction.backward')];
    options($('direction'), info.directions === 2 ? [[0, forward], [1, backward]]
      : [[0, info.reverse ? backward : forward]],
      state.direction);
    $('layer').disabled = info.layers === 1;
    $('direction').disabled = info.directions === 1;
    $('quantity').value = state.quantity;
    $('order').value = state.order;
    $('top').value = String(state.top);
    $('wrap-box').hidden = !info.can_wrap;
    $('wrap').checked = state.wrap && info.can_wrap;
    const ends = info.specials ? [info.specials.bos, info.specials.eos].filter((s) => s !== null) : [];
    $('wrap-tokens').textContent = ends.join(' … ');
  },
};
