// The unit census over the model's corpus index: for each feature (inside quotes, bracket depth,
// indentation...) the units that track it best, by AUC or correlation, with the best unit's coloured text
// (the feature underlined). A unit button makes it the chosen unit; a regex of your own ranks the units too.

import * as api from './api.js';
import { corpusIndex, noIndex, shownKey } from './corpusinfo.js';
import { el } from './dom.js';
import { fmt } from './format.js';
import * as i18n from './i18n.js';
import { t } from './i18n.js';
import { emit } from './plot.js';
import { maxAbsOf, showHighlights, snippetLine } from './snippet.js';
import { any } from './view.js';

const unitName = (u, D) => `${u.quantity} L${u.layer}${D > 1 ? (u.direction ? ' ←' : ' →') : ''} #${u.unit}`;

function featureName(f) {
  const key = `census.feature.${f.feature}`;
  return i18n.has(key) ? t(key) : f.description;
}

/** One feature: its name, how many units track it, its best units as buttons, the best unit's text. */
function row(f, D) {
  const div = document.createElement('div');
  div.className = 'census-row';
  div.dataset.feature = f.feature;
  const name = document.createElement('div');
  name.className = 'census-name';
  const strong = document.createElement('strong');
  strong.textContent = featureName(f);
  const count = document.createElement('span');
  count.className = 'note';
  count.textContent = t('census.tracking', { count: f.tracking });
  name.append(strong, count);
  const units = document.createElement('div');
  units.className = 'census-units';
  f.best.forEach((u, k) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = k ? 'unit-chip runner-up' : 'unit-chip';
    Object.assign(b.dataset, { quantity: u.quantity, layer: u.layer, direction: u.direction, unit: u.unit });
    const score = u.auc === null ? t('census.r', { r: fmt(u.r, 2) }) : t('census.auc', { auc: fmt(u.auc, 2) });
    b.textContent = `${unitName(u, D)} · ${score}`;
    b.addEventListener('click', () => emit({ quantity: u.quantity, layer: u.layer, direction: u.direction,
      unit: u.unit }));
    units.appendChild(b);
  });
  if (f.best.length > 1) units.appendChild(expander(div, f.best.length - 1));
  div.append(name, units);
  if (f.example) {
    const ex = document.createElement('div');
    ex.className = 'census-example';
    ex.appendChild(snippetLine(f.example, f.best[0].quantity, maxAbsOf(f.example), f.example_feature));
    div.appendChild(ex);
  }
  return div;
}

/** On a phone a row shows its best unit only (CSS hides .runner-up); this button shows the others. */
function expander(div, more) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'census-more';
  const label = () => {
    const open = div.classList.contains('open');
    b.setAttribute('aria-expanded', String(open));
    b.textContent = open ? t('census.fewer') : t('census.more', { count: more });
  };
  b.addEventListener('click', () => { div.classList.toggle('open'); label(); });
  label();
  return b;
}

/** A label file of one's own (one number per token, or .npy): every c and h unit ranked against it. */
function labelForm(said, show, model) {
  const label = document.createElement('label');
  label.className = 'probe-labels';
  const caption = document.createElement('span');
  const input = document.createElement('input');
  input.type = 'file';
  input.id = 'probe-labels';
  input.accept = '.txt,.csv,.tsv,.npy,text/plain';
  label.append(caption, input);
  input.addEventListener('change', async () => {
    const file = input.files[0];
    if (!file) return;
    said.textContent = t('census.probing');
    try {
      show(await api.corpusProbeLabels(model(), file));
      said.textContent = '';
    } catch (e) {
      said.textContent = e.message;
      if (!(e instanceof api.ApiError)) throw e;
    } finally {
      input.value = '';
    }
  });
  return { label, caption };
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data']);

export function create(root) {
  const summary = el('p', { className: 'note' });
  const rows = el('div', { className: 'census' });
  const form = el('form', { className: 'probe' });
  const caption = el('span');
  const input = el('input', { id: 'probe-regex', spellcheck: false, placeholder: 'def \\w+' });
  const label = el('label', {}, caption, input);
  const go = el('button', { type: 'submit' });
  const said = el('p', { className: 'note' });
  said.setAttribute('role', 'status');
  const mine = el('div', { className: 'census' });
  let model = null;
  let directions = 1;
  let shown = '';
  const mineShow = (f) => {
    mine.prepend(row(f, directions));
    showHighlights(mine);
  };
  const labels = labelForm(said, mineShow, () => model);
  form.append(label, go, labels.label);
  root.replaceChildren(summary, rows, form, said, mine);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!input.value) return;
    said.textContent = t('census.probing');
    try {
      mineShow(await api.corpusProbe(model, input.value));
      said.textContent = '';
    } catch (e) {
      said.textContent = e.message;
      if (!(e instanceof api.ApiError)) throw e;
    }
  });

  async function draw(ctx) {
    model = ctx.state.model;
    caption.textContent = t('census.probe_label');
    go.textContent = t('census.probe_go');
    labels.caption.textContent = t('census.labels_label');
    mine.replaceChildren();
    const info = await corpusIndex(model);
    form.hidden = !info.index;
    if (!info.index || !info.census) {
      summary.textContent = info.index ? t('census.none', { model }) : noIndex(info);
      rows.replaceChildren();
      return;
    }
    directions = info.index.directions;
    const c = await api.corpusCensus(model);
    const total = Object.values(c.units).reduce((a, b) => a + b, 0);
    const found = Object.values(c.tracking).reduce((a, b) => a + b, 0);
    summary.textContent = t('census.summary', { found, total, pct: (100 * found / total).toFixed(1),
      tokens: c.tokens.toLocaleString(), corpus: c.corpus });
    rows.replaceChildren(...c.features.map((f) => row(f, directions)));
    showHighlights(rows);
  }

  return {
    update(ctx, changed) {
      if (!any(changed, ...draws)) return undefined;
      const key = shownKey(ctx.state.model, i18n.language());
      if (key === shown) return undefined;
      shown = key;
      return draw(ctx).catch((e) => {
        summary.textContent = e.message;
        if (!(e instanceof api.ApiError)) throw e;
      });
    },
  };
}
