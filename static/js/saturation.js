// Gate saturation (Karpathy, Johnson and Fei-Fei 2015, fig. 3): for f, i and o of every layer, one point per
// unit at (fraction of timesteps with the gate above 0.9, fraction below 0.1) over the current text. Drawn on a
// canvas (canvaschart.js; the scene is in satscene.js, which corpussat.js shares): a new unit or layer only
// moves the ring.

import { block } from './arrays.js';
import { chart } from './canvaschart.js';
import { language, t } from './i18n.js';
import { px } from './plot.js';
import { scene } from './satscene.js';
import { any } from './view.js';

export const GATES = ['f', 'i', 'o'];
const NARROW = window.matchMedia('(max-width: 600px)'); // a phone: the gates stacked

/** Per unit, the fractions of timesteps above 0.9 and below 0.1 in a (T, H) block. */
function fractions(x, T, H) {
  const hi = new Float32Array(H);
  const lo = new Float32Array(H);
  for (let s = 0; s < T; s++) {
    for (let u = 0; u < H; u++) {
      const v = x[s * H + u];
      if (v > 0.9) hi[u] += 1;
      else if (v < 0.1) lo[u] += 1;
    }
  }
  for (let u = 0; u < H; u++) { hi[u] /= T; lo[u] /= T; }
  return { hi, lo };
}

/** For each gate of GATES, each layer's {layer, hi, lo} over the current text. */
const overText = (ctx) => GATES.map((q) => ctx.trace.layers.map((layer, slot) => ({ layer,
  ...fractions(block(ctx.trace[q], slot, ctx.state.direction), ctx.T, ctx.H) })));

/**
 * A saturation figure in `el`'s chart `id`: draw(ctx, sets, gates, stacked) shows `sets` (per gate of `gates`,
 * every layer's {layer, hi, lo}), ringing ctx.state's unit and layer; `fresh` says the sets are new. Clicking a
 * layer in the legend hides or shows its points.
 */
export function figure(id) {
  const fig = chart(id);
  const hidden = new Set();
  let version = 0;
  let last = null;
  const draw = (ctx, sets, gates, stacked, fresh = true) => {
    if (fresh) version += 1;
    last = [ctx, sets, gates, stacked];
    fig.draw(scene(sets, { gates, stacked, hidden, chosen: ctx.state, key: `${version} ${[...hidden]} ${gates} ${stacked} ${language()} ${px(100)}`,
      toggle: (layer) => {
        if (!hidden.delete(layer)) hidden.add(layer);
        draw(...last, false);
      } }));
  };
  return { ...fig, draw };
}

export function create(el) {
  const note = document.createElement('p');
  note.className = 'note';
  const fig = figure('saturation-plot');
  el.replaceChildren(note, fig.box, fig.saves);
  let sets = null;
  let direction = null;

  return {
    update(ctx, changed) {
      // Over the whole text, so time does not matter; the chosen unit and layer are ringed.
      if (!any(changed, 'data', 'layer', 'unit')) return undefined;
      note.textContent = t(ctx.D === 2 ? 'saturation.note_direction' : 'saturation.note', { count: ctx.T });
      // The fractions depend on the trace and the direction, never on the unit or the layer chosen.
      const fresh = !sets || changed.has('data') || ctx.state.direction !== direction;
      direction = ctx.state.direction;
      if (fresh) sets = overText(ctx);
      fig.draw(ctx, sets, GATES, NARROW.matches, fresh);
      return undefined;
    },
  };
}
