// Gate saturation (Karpathy, Johnson and Fei-Fei 2015, fig. 3): for f, i and o of every layer, one point per
// unit at (fraction of timesteps with the gate above 0.9, fraction below 0.1) over the current text. Drawn on a
// canvas (canvaschart.js; the scene is in satscene.js, which corpussat.js shares): a new unit or layer only
// moves the ring.

import { block } from './arrays.js';
import { chart } from './canvaschart.js';
import { language, t } from './i18n.js';
import { px } from './plot.js';
import { scene } from './satscene.js';
import { shared } from './splice.js';
import { any } from './view.js';

export const GATES = ['f', 'i', 'o'];
const NARROW = window.matchMedia('(max-width: 600px)'); // a phone: the gates stacked

/**
 * Per unit, how many of the steps [from, to) of a (T, H) block `x` have the gate above 0.9 and below 0.1, added to
 * `counts` {hi, lo} (sign 1) or taken from them (sign -1).
 */
function count(counts, x, H, from, to, sign) {
  const { hi, lo } = counts;
  for (let s = from; s < to; s++) {
    for (let u = 0; u < H; u++) {
      const v = x[s * H + u];
      if (v > 0.9) hi[u] += sign;
      else if (v < 0.1) lo[u] += sign;
    }
  }
}

/**
 * The counts behind the figure, kept from one trace to the next (issue 17: 19 ms an update while typing when
 * recounted over the whole text). A trace that shares its first `start` steps with the one counted (splice.js
 * shared(): values copied bit for bit from an earlier answer) changes only the counts of the steps after them: the
 * old trace's are taken away and the new one's added, also when the view missed the answers between the two (off
 * screen while someone types). Anything else (another model, direction, an edit at the start) is counted in full.
 */
export function counter() {
  let basis = null; // {trace, direction, counts: per gate of GATES, per layer slot {hi, lo}}
  let counted = 0; // how many steps were counted so far (for tests: the incremental path ran)

  function update(tr, direction) {
    const [, , T, H] = tr.i.shape;
    const start = basis && basis.direction === direction ? shared(tr, basis.trace.serial) : 0;
    if (!start) {
      basis = { direction, counts: GATES.map(() => tr.layers.map(() => ({ hi: new Int32Array(H), lo: new Int32Array(H) }))) };
    } else {
      const [, , Told] = basis.trace.i.shape;
      GATES.forEach((q, k) => tr.layers.forEach((_, slot) => count(basis.counts[k][slot],
        block(basis.trace[q], slot, direction), H, start, Told, -1)));
    }
    GATES.forEach((q, k) => tr.layers.forEach((_, slot) => count(basis.counts[k][slot], block(tr[q], slot, direction),
      H, start, T, 1)));
    counted += T - start;
    basis.trace = tr;
    // Each gate's sets: per layer, the fractions of the T steps (a count over T, as a float32 like the wire's values)
    return GATES.map((q, k) => tr.layers.map((layer, slot) => {
      const { hi, lo } = basis.counts[k][slot];
      return { layer, hi: Float32Array.from(hi, (n) => n / T), lo: Float32Array.from(lo, (n) => n / T) };
    }));
  }
  return { update, counted: () => counted };
}

/**
 * A saturation figure in `el`'s chart `id`: draw(ctx, sets, {gates, stacked, fresh, label}) shows `sets` (per gate
 * of `gates`, every layer's {layer, hi, lo}), ringing ctx.state's unit and layer; `fresh` says the sets are new,
 * `label` is what the figure shows, said to a screen reader. Clicking a layer in the legend hides or shows its
 * points; the legend says which are hidden, and another model shows every layer again (its layers are others).
 */
export function figure(id) {
  const fig = chart(id);
  const hidden = new Set();
  let version = 0;
  let model = null;
  let last = null;
  const draw = (ctx, sets, options) => {
    const { gates, stacked, fresh = true, label } = options;
    if (ctx.state.model !== model) hidden.clear();
    model = ctx.state.model;
    if (fresh) version += 1;
    last = [ctx, sets, options];
    fig.draw(scene(sets, { gates, stacked, hidden, chosen: ctx.state, label,
      key: `${version} ${[...hidden]} ${gates} ${stacked} ${language()} ${px(100)}`,
      toggle: (layer) => {
        if (!hidden.delete(layer)) hidden.add(layer);
        draw(last[0], last[1], { ...last[2], fresh: false });
      } }));
  };
  return { ...fig, draw };
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data', 'layer', 'unit']);

export function create(el) {
  const note = document.createElement('p');
  note.className = 'note';
  const fig = figure('saturation-plot');
  el.replaceChildren(note, fig.box, fig.saves);
  const counts = counter();
  let sets = null;
  let direction = null;
  fig.box.counted = counts.counted; // for tests: how many steps were counted (the incremental path ran)

  return {
    update(ctx, changed) {
      // Over the whole text, so time does not matter; the chosen unit and layer are ringed.
      if (!any(changed, ...draws)) return undefined;
      note.textContent = t(ctx.D === 2 ? 'saturation.note_direction' : 'saturation.note', { count: ctx.T });
      // The fractions depend on the trace and the direction, never on the unit or the layer chosen.
      const fresh = !sets || changed.has('data') || ctx.state.direction !== direction;
      direction = ctx.state.direction;
      if (fresh) sets = counts.update(ctx.trace, direction);
      fig.draw(ctx, sets, { gates: GATES, stacked: NARROW.matches, fresh,
        label: t('saturation.label', { count: ctx.T }) });
      return undefined;
    },
  };
}
