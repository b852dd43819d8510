// Karpathy's gate saturation plot over the model's whole corpus index, beside the one for the current text
// (saturation.js draws both): per unit, the fraction of the corpus's tokens with the gate above 0.9 and
// below 0.1, counted while the index was built.

import * as api from './api.js';
import { corpusIndex, noIndex, shownKey } from './corpusinfo.js';
import { language, t } from './i18n.js';
import { CONFIG, onPointClick } from './plot.js';
import { figure } from './saturation.js';
import { any } from './view.js';

export function create(el) {
  const note = document.createElement('p');
  note.className = 'note';
  const plot = document.createElement('div');
  plot.id = 'corpus-saturation-plot';
  plot.className = 'plot';
  el.replaceChildren(note, plot);
  let shown = '';
  let answer = null; // {model, gates}: the corpus's fractions, fetched once per model

  async function draw(ctx) {
    const { model, direction } = ctx.state;
    const info = await corpusIndex(model);
    if (!info.index || !['f', 'i', 'o'].every((q) => info.index.quantities.includes(q))) {
      note.textContent = info.index ? t('corpus.not_recorded', { q: 'i, f, o', have: info.index.quantities.join(', ') })
        : noIndex(info);
      Plotly.purge(plot);
      return undefined;
    }
    if (!answer || answer.model !== model) answer = { model, ...(await api.corpusSaturation(model)) };
    note.textContent = t('corpus.saturation_note', { tokens: answer.tokens.toLocaleString(),
      corpus: info.index.corpus });
    const layers = Array.from({ length: info.index.layers }, (_, l) => l);
    const frac = (q, l) => ({ hi: answer.gates[q].high[l][direction], lo: answer.gates[q].low[l][direction] });
    const first = !plot.data;
    const drawn = await Plotly.react(plot, ...figure(ctx, frac, layers), CONFIG);
    if (first) {
      onPointClick(plot, (pt) => pt.customdata !== undefined
        && { unit: Number(pt.customdata), layer: Number(pt.data.meta) });
    }
    return drawn;
  }

  return {
    update(ctx, changed) {
      if (!any(changed, 'data', 'layer', 'unit')) return undefined;
      const { model, layer, direction, unit } = ctx.state;
      const key = shownKey(model, layer, direction, unit, language());
      if (key === shown) return undefined;
      shown = key;
      return draw(ctx).catch((e) => {
        note.textContent = e.message;
        if (!(e instanceof api.ApiError)) throw e;
      });
    },
  };
}
