// Karpathy's gate saturation plot over the model's whole corpus index, beside the one for the current text
// (saturation.js draws both): per unit, the fraction of the corpus's tokens with the gate above 0.9 and
// below 0.1, counted while the index was built.

import * as api from './api.js';
import { corpusIndex, noIndex, shownKey } from './corpusinfo.js';
import { quantityName } from './format.js';
import { language, t } from './i18n.js';
import { figure, GATES } from './saturation.js';
import { any } from './view.js';

const PHONE = matchMedia('(max-width: 700px)'); // corpus.css shows the gate picker at the same width

/** The phone's gate picker: one button per gate, the shown one pressed; hidden while there is no figure to pick
 * for (no corpus index: three empty buttons on a phone, issue 15). */
function picker(onPick) {
  const div = document.createElement('div');
  div.className = 'sat-gates';
  div.setAttribute('role', 'group');
  div.hidden = true;
  const buttons = GATES.map((q) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.gate = q;
    b.addEventListener('click', () => onPick(q));
    return b;
  });
  div.append(...buttons);
  return {
    div,
    show(gate) {
      div.hidden = false;
      div.setAttribute('aria-label', t('corpus.sat_gate'));
      for (const b of buttons) {
        b.textContent = quantityName(b.dataset.gate);
        b.setAttribute('aria-pressed', String(b.dataset.gate === gate));
      }
    },
    hide() { div.hidden = true; },
  };
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data', 'layer', 'unit']);

export function create(el) {
  const note = document.createElement('p');
  note.className = 'note';
  const fig = figure('corpus-saturation-plot');
  let shown = '';
  let answer = null; // {model, gates}: the corpus's fractions, fetched once per model
  let gate = 'f';
  let last = null; // the last context drawn, to redraw for another gate or width
  let drawnSets = ''; // the model, direction and panels last drawn: the points change only with them
  const failed = (e) => {
    note.textContent = e.message;
    if (!(e instanceof api.ApiError)) throw e;
  };
  const redraw = () => { if (last) draw(last).catch(failed); };
  const gates = picker((q) => { gate = q; redraw(); });
  PHONE.addEventListener('change', redraw);
  el.replaceChildren(note, gates.div, fig.box, fig.saves);

  /** Draw the corpus's figure for `ctx`, or say why there is none. */
  async function draw(ctx) {
    last = ctx;
    const { model, direction } = ctx.state;
    const info = await corpusIndex(model);
    if (!info.index || !['f', 'i', 'o'].every((q) => info.index.quantities.includes(q))) {
      note.textContent = info.index ? t('corpus.not_recorded', { q: 'i, f, o', have: info.index.quantities.join(', ') })
        : noIndex(info);
      fig.clear();
      gates.hide();
      drawnSets = '';
      return;
    }
    if (!answer || answer.model !== model) answer = { model, ...(await api.corpusSaturation(model)) };
    note.textContent = t('corpus.saturation_note', { tokens: answer.tokens.toLocaleString(),
      corpus: info.index.corpus });
    const layers = Array.from({ length: info.index.layers }, (_, l) => l);
    const sets = GATES.map((q) => layers.map((layer) => ({ layer, hi: answer.gates[q].high[layer][direction],
      lo: answer.gates[q].low[layer][direction] })));
    gates.show(gate);
    const phone = PHONE.matches;
    const k = GATES.indexOf(gate);
    const which = `${model} ${direction} ${phone && gate} ${answer.tokens}`;
    fig.draw(ctx, phone ? [sets[k]] : sets, { gates: phone ? [gate] : GATES, stacked: phone, fresh: which !== drawnSets,
      label: t('corpus.saturation_label', { tokens: answer.tokens.toLocaleString(), corpus: info.index.corpus }) });
    drawnSets = which;
  }

  return {
    update(ctx, changed) {
      if (!any(changed, ...draws)) return undefined;
      const { model, layer, direction, unit } = ctx.state;
      const key = shownKey(model, layer, direction, unit, language());
      if (key === shown) return undefined;
      shown = key;
      return draw(ctx).catch(failed);
    },
  };
}
