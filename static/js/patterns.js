// Pattern search as in LSTMVis, over the model's whole corpus index: select a span of the typed text (drag
// over its tokens, or type its first and last token) and a threshold. The units of the chosen layer that
// are above the threshold over the span and below it just around it form the pattern; every span of the
// corpus where they switch on is ranked by overlap, fewest extra units, then length. A match opens in the
// explorer.

import * as api from './api.js';
import { corpusIndex, noIndex, openInExplorer } from './corpusinfo.js';
import { visible } from './format.js';
import { t } from './i18n.js';
import { showHighlights, snippetLine } from './snippet.js';
import { any } from './view.js';

function labelled(key, control) {
  const label = document.createElement('label');
  const span = document.createElement('span');
  span.dataset.i18n = key;
  span.textContent = t(key);
  label.append(span, control);
  return label;
}

function numberInput(id) {
  const x = document.createElement('input');
  Object.assign(x, { id, type: 'number', min: 0, step: 1 });
  return x;
}

function matchItem(m, p, model, say) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'context';
  b.dataset.start = String(m.start);
  b.dataset.end = String(m.end);
  const score = document.createElement('span');
  score.className = 'value';
  score.textContent = t('patterns.score', { overlap: m.overlap, units: p, extra: m.extra, length: m.end - m.start });
  b.append(score, snippetLine(m.snippet, 'i', 1)); // values: fraction of the pattern's units on, 0..1
  b.addEventListener('click', () => openInExplorer(model, m.start, say));
  const li = document.createElement('li');
  li.appendChild(b);
  return li;
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data', 'layer']);

export function create(el) {
  const note = document.createElement('p');
  note.className = 'note';
  const strip = document.createElement('div');
  strip.className = 'coloured-text pattern-strip';
  const start = numberInput('pattern-start');
  const end = numberInput('pattern-end');
  const threshold = document.createElement('select');
  threshold.id = 'pattern-threshold';
  const quantity = document.createElement('select');
  quantity.id = 'pattern-quantity';
  const go = document.createElement('button');
  go.type = 'submit';
  go.dataset.i18n = 'patterns.go';
  const form = document.createElement('form');
  form.className = 'pattern-form';
  form.append(labelled('patterns.start', start), labelled('patterns.end', end),
    labelled('patterns.threshold', threshold), labelled('patterns.quantity', quantity), go);
  const said = document.createElement('p');
  said.className = 'note';
  said.setAttribute('role', 'status');
  const list = document.createElement('ol');
  list.className = 'matches';
  el.replaceChildren(note, strip, form, said, list);
  let ctx = null;
  let anchor = null; // the token a drag started on

  function mark() {
    const a = Number(start.value);
    const b = Number(end.value);
    for (const s of strip.children) {
      const k = Number(s.dataset.t);
      s.classList.toggle('picked', k >= a && k <= b);
    }
  }
  const pick = (a, b) => {
    start.value = String(Math.min(a, b));
    end.value = String(Math.max(a, b));
    mark();
  };
  strip.addEventListener('pointerdown', (ev) => {
    if (ev.target.dataset.t === undefined) return;
    ev.preventDefault();
    anchor = Number(ev.target.dataset.t);
    pick(anchor, anchor);
  });
  strip.addEventListener('pointerover', (ev) => {
    if (anchor !== null && ev.target.dataset.t !== undefined) pick(anchor, Number(ev.target.dataset.t));
  });
  document.addEventListener('pointerup', () => { anchor = null; });
  start.addEventListener('input', mark);
  end.addEventListener('input', mark);
  const say = (sentence) => { said.textContent = sentence; };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const { model, layer, direction } = ctx.state;
    said.textContent = t('corpus.loading');
    list.replaceChildren();
    try {
      const r = await api.corpusPatterns(model, { text: ctx.text, start: Number(start.value),
        end: Number(end.value) + 1, threshold: Number(threshold.value), quantity: quantity.value, layer,
        direction, limit: 20 });
      const p = r.pattern.units.length;
      said.textContent = t('patterns.summary', { count: p, units: r.pattern.units.join(', '),
        candidates: r.candidates.toLocaleString(), full: r.full.toLocaleString(), tokens: r.tokens.toLocaleString() });
      list.replaceChildren(...r.matches.map((m) => matchItem(m, p, model, say)));
      showHighlights(list);
      window.gatescope.patterns = r; // for tests and the console: what this view drew
    } catch (e) {
      said.textContent = e.message;
      if (!(e instanceof api.ApiError)) throw e;
    }
  });

  async function draw() {
    const info = await corpusIndex(ctx.state.model);
    form.hidden = !info.index;
    strip.hidden = !info.index;
    if (!info.index) {
      note.textContent = noIndex(info);
      return;
    }
    note.textContent = t('patterns.note', { tokens: info.index.tokens.toLocaleString(), layer: ctx.state.layer });
    const keep = threshold.value || '0.5';
    threshold.replaceChildren(...info.index.thresholds.map((x) => new Option(String(x), String(x))));
    threshold.value = info.index.thresholds.map(String).includes(keep) ? keep : String(info.index.thresholds[0]);
    const qs = info.index.masks.filter((q) => q === 'c' || q === 'h');
    const q = quantity.value || (qs.includes(ctx.state.quantity) ? ctx.state.quantity : qs[qs.length - 1]);
    quantity.replaceChildren(...qs.map((x) => new Option(x, x)));
    quantity.value = qs.includes(q) ? q : qs[0];
  }

  return {
    update(c, changed) {
      ctx = c;
      if (!any(changed, ...draws)) return undefined;
      go.textContent = t('patterns.go');
      const T = c.trace.tokens.length;
      strip.replaceChildren(...c.trace.tokens.map((tok, k) => {
        const s = document.createElement('span');
        s.dataset.t = String(k);
        s.textContent = visible(tok);
        return s;
      }));
      for (const x of [start, end]) x.max = String(T - 1);
      if (start.value === '' || Number(end.value) >= T) pick(Math.max(0, T - 3), T - 1);
      else mark();
      return draw();
    },
  };
}
