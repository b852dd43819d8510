// Karpathy's gate saturation plot over the model's whole corpus index, beside the one for the current text
// (saturation.js draws both): per unit, the fraction of the corpus's tokens with the gate above 0.9 and
// below 0.1, counted while the index was built.

import * as api from './api.js';
import { corpusIndex, noIndex, shownKey } from './corpusinfo.js';
import { quantityName } from './format.js';
import { language, t } from './i18n.js';
import { CONFIG, onPointClick } from './plot.js';
import { figure } from './saturation.js';
import { any } from './view.js';

const GATES = ['f', 'i', 'o']; // saturation.js's panel order
const PHONE = matchMedia('(max-width: 700px)'); // corpus.css shows the gate picker at the same width

/** saturation.js's three-panel figure cut to gate panel k, full width: on a phone three panels are too small. */
function oneGate([data, layout], k) {
  const s = k ? k + 1 : '';
  const kept = data.filter((d) => d.xaxis === `x${s}`).map((d) => ({ ...d, xaxis: 'x', yaxis: 'y', showlegend: true }));
  const out = { ...layout, annotations: [{ ...layout.annotations[k], xref: 'x domain' }] };
  for (const n of ['', 2, 3]) { delete out[`xaxis${n}`]; delete out[`yaxis${n}`]; }
  out.xaxis = { ...layout[`xaxis${s}`], domain: [0, 1], anchor: 'y' };
  out.yaxis = { ...layout[`yaxis${s}`], anchor: 'x', scaleanchor: 'x' };
  return [kept, out];
}

/** The phone's gate picker: one button per gate, the shown one pressed. */
function picker(onPick) {
  const div = document.createElement('div');
  div.className = 'sat-gates';
  div.setAttribute('role', 'group');
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
      div.setAttribute('aria-label', t('corpus.sat_gate'));
      for (const b of buttons) {
        b.textContent = quantityName(b.dataset.gate);
        b.setAttribute('aria-pressed', String(b.dataset.gate === gate));
      }
    },
  };
}

export function create(el) {
  const note = document.createElement('p');
  note.className = 'note';
  const plot = document.createElement('div');
  plot.id = 'corpus-saturation-plot';
  plot.className = 'plot';
  let shown = '';
  let answer = null; // {model, gates}: the corpus's fractions, fetched once per model
  let gate = 'f';
  let last = null; // the last context drawn, to redraw for another gate or width
  const failed = (e) => {
    note.textContent = e.message;
    if (!(e instanceof api.ApiError)) throw e;
  };
  const redraw = () => { if (last) draw(last).catch(failed); };
  const gates = picker((q) => { gate = q; redraw(); });
  PHONE.addEventListener('change', redraw);
  el.replaceChildren(note, gates.div, plot);

  async function draw(ctx) {
    last = ctx;
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
    gates.show(gate);
    const fig = figure(ctx, frac, layers);
    const drawn = await Plotly.react(plot, ...(PHONE.matches ? oneGate(fig, GATES.indexOf(gate)) : fig), CONFIG);
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
      return draw(ctx).catch(failed);
    },
  };
}
