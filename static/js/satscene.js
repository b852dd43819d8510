// The gate saturation figure as a canvaschart.js scene, shared by saturation.js (the current text) and
// corpussat.js (the corpus): square panels side by side (or stacked on a phone), one point per unit and layer,
// the chosen unit ringed, and a legend whose layers can be hidden with a click, as Plotly's could.

import { frame, percent, scale, ticks } from './axes.js';
import { LAYER_COLOURS, quantityName } from './format.js';
import { t } from './i18n.js';
import { px } from './plot.js';

const RANGE = [-0.03, 1.03]; // both axes: a fraction of the steps, with room for the points at 0 and 1
const TICKS = ticks(0, 1, 5);
const colour = (layer) => LAYER_COLOURS[layer % LAYER_COLOURS.length];

/** The panels' squares {x, y, w, h} and the legend's baseline for `n` panels in a figure `w` px wide. */
function layout(w, n, stacked) {
  if (stacked) {
    const left = px(80);
    const side = w - left - px(24); // room on the right for the last tick label, "100%"
    const block = px(36) + side + px(64);
    return { height: n * block + px(72), legend: n * block + px(24), legendX: 8, // the legend's whole width, two lines
      boxes: Array.from({ length: n }, (_, k) => ({ x: left, y: px(8) + k * block + px(36), w: side, h: side })) };
  }
  const [left, top, bottom] = [px(70), px(50), px(90)];
  const height = px(440);
  const plotW = w - left - 20;
  const plotH = height - top - bottom;
  const side = Math.max(40, Math.min(plotW / n - plotW * 0.06, plotH));
  return { height, legend: height - px(22), legendX: left,
    boxes: Array.from({ length: n }, (_, k) => ({ x: left + (plotW / n) * (k + 0.5) - side / 2,
      y: top + (plotH - side) / 2, w: side, h: side })) };
}

/** A layer's name in the legend: a hidden one says so. */
const named = (layer, hidden) => t(hidden.has(layer) ? 'saturation.layer_hidden' : 'saturation.layer', { layer });

/** The legend's entries: each layer's [x, width], then where the chosen unit's entry starts. */
function legendAt(p, layers, hidden, size, x0) {
  let x = x0;
  const entries = layers.map((layer) => {
    const w = size + 6 + p.measure(named(layer, hidden), size) + size;
    const e = { layer, x, w };
    x += w;
    return e;
  });
  return { entries, end: x };
}

/**
 * The scene of `sets` (per gate of `gates`, every layer's {layer, hi, lo}): `chosen` {unit, layer} is ringed,
 * the layers in `hidden` are left out, `toggle(layer)` is called when a legend entry is clicked, `key` names the
 * base (canvaschart.js).
 */
export function scene(sets, { gates, stacked, hidden, chosen, key, toggle, label }) {
  const size = px(15);
  const layers = sets[0].map((s) => s.layer);
  return {
    key,
    label,
    height: (w) => layout(w, gates.length, stacked).height,
    base(p, w) {
      const { boxes, legend, legendX } = layout(w, gates.length, stacked);
      const hits = [];
      const panels = gates.map((q, k) => {
        const box = boxes[k];
        p.text(quantityName(q), box.x + box.w / 2, box.y - px(10), { size: px(18), align: 'center', base: 'bottom' });
        frame(p, box, { size, titleSize: size,
          x: { range: RANGE, ticks: TICKS, label: percent, title: t('saturation.x_title', { q }) },
          y: { range: RANGE, ticks: TICKS, label: percent, title: t('saturation.y_title', { q }) } });
        const sx = scale(RANGE, [box.x, box.x + box.w]);
        const sy = scale(RANGE, [box.y + box.h, box.y]);
        for (const { layer, hi, lo } of sets[k]) {
          if (hidden.has(layer)) continue;
          hi.forEach((x, u) => {
            const [cx, cy] = [sx(x), sy(lo[u])];
            p.circle(cx, cy, 4.5, colour(layer), 0.7);
            hits.push({ x: cx, y: cy, hw: 7, hh: 7, pick: () => ({ unit: u, layer }),
              tip: () => t('saturation.tip', { q, layer, unit: u, hi: percent(x), lo: percent(lo[u]) }) });
          });
        }
        return { q, box, range: RANGE, layers: sets[k].map((s) => ({ layer: s.layer, hi: [...s.hi], lo: [...s.lo] })) };
      });
      // A hidden layer stays hidden from one text to the next: its entry says so (an open circle, "hidden").
      const { entries } = legendAt(p, layers, hidden, size, legendX);
      for (const { layer, x, w: ew } of entries) {
        const off = hidden.has(layer);
        if (off) p.circle(x + size / 2, legend, size / 3, null, 1, { colour: colour(layer), width: 2 });
        else p.circle(x + size / 2, legend, size / 3, colour(layer), 0.8);
        p.text(named(layer, hidden), x + size + 6, legend, { size, colour: off ? '#555' : '#000' });
        hits.push({ x: x + ew / 2, y: legend, hw: ew / 2, hh: size * 0.7, pick: () => { toggle(layer); return null; },
          tip: () => t(off ? 'saturation.legend_show' : 'saturation.legend_hide', { layer }) });
      }
      return { hits, drawn: { panels, hidden: [...hidden],
        legend: entries.map((e) => ({ ...e, y: legend, name: named(e.layer, hidden) })) } };
    },
    over(p, w) {
      const { unit, layer } = chosen;
      const { boxes, legend, legendX } = layout(w, gates.length, stacked);
      const rings = [];
      gates.forEach((q, k) => {
        const set = sets[k].find((s) => s.layer === layer);
        if (!set || hidden.has(layer)) return;
        const box = boxes[k];
        const [x, y] = [scale(RANGE, [box.x, box.x + box.w])(set.hi[unit]), scale(RANGE, [box.y + box.h, box.y])(set.lo[unit])];
        p.circle(x, y, 10, null, 1, { colour: '#000', width: 3 });
        rings.push({ q, x, y });
      });
      if (layers.includes(layer)) {
        const said = t('saturation.chosen', { unit, layer });
        let x = legendAt(p, layers, hidden, size, legendX).end;
        let y = legend;
        // On a phone the layers' entries can fill the line ("hidden" is long): the chosen unit's goes under them.
        if (x + size + 6 + p.measure(said, size) > w) [x, y] = [legendX, legend + size * 1.5];
        p.circle(x + size / 2, y, size / 2.5, null, 1, { colour: '#000', width: 2 });
        p.text(said, x + size + 6, y, { size });
      }
      return { unit, layer, rings };
    },
  };
}
