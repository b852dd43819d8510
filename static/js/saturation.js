// Gate saturation (Karpathy, Johnson and Fei-Fei 2015, fig. 3): for f, i and o of every layer, one point per
// unit at (fraction of timesteps with the gate above 0.9, fraction below 0.1) over the current text.

import { block } from './arrays.js';
import { LAYER_COLOURS, quantityName } from './format.js';
import { t } from './i18n.js';
import { baseLayout, CONFIG, onPointClick, px } from './plot.js';
import { any } from './view.js';

const GATES = ['f', 'i', 'o'];
const NARROW = window.matchMedia('(max-width: 600px)'); // a phone: the gates stacked
/** Per unit, the fractions of timesteps above 0.9 and below 0.1 in a (T, H) block. */
function fractions(x, T, H) {
  const hi = new Float32Array(H);
  const lo = new Float32Array(H);
  for (let t = 0; t < T; t++) {
    for (let u = 0; u < H; u++) {
      const v = x[t * H + u];
      if (v > 0.9) hi[u] += 1;
      else if (v < 0.1) lo[u] += 1;
    }
  }
  for (let u = 0; u < H; u++) { hi[u] /= T; lo[u] /= T; }
  return { hi, lo };
}

/** Each unit's fractions {hi, lo} of gate q in layer slot `slot`, over the current text. */
const overText = (ctx) => (q, slot) => fractions(block(ctx.trace[q], slot, ctx.state.direction), ctx.T, ctx.H);

/**
 * Karpathy's plot for `layers` (layer numbers); `frac(q, slot)` gives the fractions {hi, lo} (per unit) of gate
 * q in the slot-th of them: over the current text here, over a corpus in corpussat.js.
 */
export function figure(ctx, frac = overText(ctx), layers = ctx.trace.layers, stacked = false) {
  const { unit, layer } = ctx.state;
  const units = Array.from({ length: ctx.H }, (_, u) => u);
  const data = [];
  GATES.forEach((q, k) => {
    const xaxis = `x${k ? k + 1 : ''}`;
    const yaxis = `y${k ? k + 1 : ''}`;
    let ring = null;
    layers.forEach((l, slot) => {
      const { hi, lo } = frac(q, slot);
      data.push({
        type: 'scatter', mode: 'markers', x: hi, y: lo, customdata: units, name: t('saturation.layer', { layer: l }),
        meta: l, legendgroup: `layer ${l}`, showlegend: k === 0, xaxis, yaxis,
        marker: { color: LAYER_COLOURS[l % LAYER_COLOURS.length], size: 9, opacity: 0.7 },
        hovertemplate: `${t('saturation.hover', { q, layer: l })}<extra></extra>`,
      });
      if (l === layer) ring = [hi[unit], lo[unit]];
    });
    if (!ring) return;
    // The chosen unit, ringed after every layer's points so it is never hidden under them.
    data.push({
      type: 'scatter', mode: 'markers', x: [ring[0]], y: [ring[1]], xaxis, yaxis, showlegend: k === 0,
      name: t('saturation.chosen', { unit, layer }), legendgroup: 'chosen', hoverinfo: 'skip',
      marker: { size: 20, color: 'rgba(0,0,0,0)', line: { color: '#000', width: 3 } },
    });
  });
  // Side by side, or `stacked` one above the other, each as wide as the screen (this view on a phone, where three
  // would be 100 px each; corpussat.js shows one at a time there instead). Each square: y is scaled to x.
  const slot = (k, gap) => (stacked ? [(2 - k) / 3 + gap, (3 - k) / 3 - gap] : [k / 3 + gap, (k + 1) / 3 - gap]);
  const layout = baseLayout({
    height: stacked ? px(1320) : px(440),
    margin: stacked ? { l: px(64), r: 12, t: px(36), b: px(60) } : { l: px(70), r: 20, t: px(50), b: px(90) },
    legend: { orientation: 'h', y: stacked ? -0.05 : -0.3, font: { size: px(16) } },
    annotations: GATES.map((q, k) => ({
      text: quantityName(q), xref: `x${k ? k + 1 : ''} domain`, yref: stacked ? `y${k ? k + 1 : ''} domain` : 'paper',
      x: 0.5, y: stacked ? 1.02 : 1.1, yanchor: stacked ? 'bottom' : 'auto', showarrow: false, font: { size: px(18) },
    })),
  });
  GATES.forEach((q, k) => {
    const s = k ? k + 1 : '';
    layout[`xaxis${s}`] = { domain: stacked ? [0, 1] : slot(k, 0.03), range: [-0.03, 1.03], tickformat: '.0%',
      title: { text: t('saturation.x_title', { q }) }, anchor: `y${s}`,
      constrain: 'domain' };
    layout[`yaxis${s}`] = { domain: stacked ? slot(k, 0.05) : [0, 1], range: [-0.03, 1.03], tickformat: '.0%',
      title: { text: t('saturation.y_title', { q }) }, anchor: `x${s}`, scaleanchor: `x${s}`, constrain: 'domain' };
  });
  return [data, layout];
}

export function create(el) {
  const note = document.createElement('p');
  note.className = 'note';
  const plot = document.createElement('div');
  plot.id = 'saturation-plot';
  plot.className = 'plot';
  el.replaceChildren(note, plot);

  return {
    update(ctx, changed) {
      // Over the whole text, so time does not matter; the chosen unit and layer are ringed.
      if (!any(changed, 'data', 'layer', 'unit')) return undefined;
      note.textContent = t(ctx.D === 2 ? 'saturation.note_direction' : 'saturation.note', { count: ctx.T });
      const first = !plot.data;
      const drawn = Plotly.react(plot, ...figure(ctx, undefined, undefined, NARROW.matches), CONFIG);
      if (first) {
        onPointClick(plot, (pt) => pt.customdata !== undefined
          && { unit: Number(pt.customdata), layer: Number(pt.data.meta) });
      }
      return drawn;
    },
  };
}
