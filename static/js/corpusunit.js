// The unit over a whole corpus (the model's index, python -m app index): its top and bottom contexts, each a
// line of text coloured by the unit with the token outlined, the histogram of its values over every token,
// and how often it saturates (the histogram on a canvas of our own: histscene.js). Follows the chosen unit, layer, direction and quantity; a context opens in the
// explorer with the text that gives it the stored value.

import * as api from './api.js';
import { chart } from './canvaschart.js';
import { corpusIndex, noIndex, openInExplorer, shownKey } from './corpusinfo.js';
import { el } from './dom.js';
import { fmt, quantityName } from './format.js';
import { histogram } from './histscene.js';
import { language, t } from './i18n.js';
import { px } from './plot.js';
import { maxAbsOf, showHighlights, snippetLine } from './snippet.js';
import { link as pageLink } from './url.js';
import { any } from './view.js';

function contextList(title, contexts, q, model, say) {
  const box = document.createElement('div');
  box.className = 'contexts';
  const h = document.createElement('h4');
  h.textContent = title;
  const list = document.createElement('ol');
  const maxAbs = Math.max(...contexts.map((c) => maxAbsOf(c.snippet)), 0);
  for (const c of contexts) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'context';
    button.dataset.token = String(c.token);
    button.title = t('corpus.open_title', { token: c.token });
    const value = document.createElement('span');
    value.className = 'value';
    value.textContent = fmt(c.value, 3);
    button.append(value, snippetLine(c.snippet, q, maxAbs));
    button.addEventListener('click', () => openInExplorer(model, c.token, say));
    li.appendChild(button);
    list.appendChild(li);
  }
  box.append(h, list);
  return box;
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data', 'layer', 'unit', 'quantity']);

export function create(root) {
  const heading = el('h3');
  const note = el('p', { className: 'note' });
  const link = el('a', { className: 'unit-link' });
  const fig = chart('corpus-hist');
  fig.clear();
  const lists = el('div', { className: 'context-lists' });
  root.replaceChildren(heading, note, link, fig.box, fig.saves, lists);
  let seq = 0;
  let drawnFor = 0; // counts the answers drawn: the histogram's base changes with each
  let shown = '';
  const say = (sentence) => { note.textContent = sentence; };

  async function draw(ctx) {
    const { model, quantity, layer, direction, unit } = ctx.state;
    const mine = ++seq;
    const info = await corpusIndex(model);
    if (mine !== seq) return;
    root.classList.toggle('no-index', !info.index);
    if (!info.index) {
      heading.textContent = '';
      note.textContent = noIndex(info);
      lists.replaceChildren();
      fig.clear();
      return;
    }
    heading.textContent = t('corpus.unit_heading', { unit, layer, q: quantityName(quantity) });
    if (!info.index.quantities.includes(quantity)) {
      note.textContent = t('corpus.not_recorded', { q: quantity, have: info.index.quantities.join(', ') });
      lists.replaceChildren();
      fig.clear();
      return;
    }
    note.textContent = t('corpus.loading');
    let r;
    try {
      r = await api.corpusUnit({ model, quantity, layer, direction, unit });
    } catch (e) {
      if (mine === seq) note.textContent = e.message;
      if (!(e instanceof api.ApiError)) throw e;
      return;
    }
    if (mine !== seq) return;
    const [low, high] = r.saturation;
    note.textContent = t('corpus.unit_note', { tokens: r.tokens.toLocaleString(), corpus: info.index.corpus,
      mean: fmt(r.mean, 3), std: fmt(r.std, 3), low: (100 * low).toFixed(1), high: (100 * high).toFixed(1),
      lo: fmt(r.limits[0], 2), hi: fmt(r.limits[1], 2) });
    link.href = pageLink(ctx.state); // the page's state, this unit included, is its address
    lists.replaceChildren(contextList(t('corpus.top'), r.top, quantity, model, say),
      contextList(t('corpus.bottom'), r.bottom, quantity, model, say));
    showHighlights(lists);
    const q = quantityName(quantity);
    fig.draw(histogram({ ...r.histogram, limits: r.limits, title: q, key: `${++drawnFor} ${language()} ${px(100)}`,
      label: t('corpus.hist_label', { unit, layer, q, tokens: r.tokens.toLocaleString(), corpus: info.index.corpus }) }));
    window.gatescope.corpusUnit = r; // for tests and the console: what this view drew
  }

  return {
    update(ctx, changed) {
      if (!any(changed, ...draws)) return undefined;
      const { model, quantity, layer, direction, unit } = ctx.state;
      const key = shownKey(model, quantity, layer, direction, unit, language());
      if (key === shown) return undefined; // a new trace of the typed text: the corpus did not change
      shown = key;
      link.textContent = t('corpus.unit_link');
      return draw(ctx);
    },
  };
}
