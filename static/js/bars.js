// Bar charts of every unit's f, i, o and c at the current timestep: scrub or play to watch the gates move.
// Drawn on a canvas (canvaschart.js): a new t repaints the bars, a new unit only its outlines.

import { at } from './arrays.js';
import { decimals, frame, scale, ticks } from './axes.js';
import { chart } from './canvaschart.js';
import { colourOf, fmt, quantityName, tickStride, visible } from './format.js';
import { t as tr } from './i18n.js';
import { px } from './plot.js';
import { any } from './view.js';

const ROWS = ['f', 'i', 'o', 'c'];
const GAP = 0.06; // between rows, a fraction of the plot's height
const GAPS = [0, 0.5, 1];

/** c's axis is fixed over the whole text so the bars move against a still frame as t changes. */
function cRange(ctx) {
  let m = 1e-6;
  for (let t = 0; t < ctx.T; t++) {
    for (const u of ctx.order) m = Math.max(m, Math.abs(at(ctx.trace.c, ctx.slot, ctx.state.direction, t, u)));
  }
  return m;
}

/** Where row k's plot area lies in a figure w x h, and its value range. */
function rows(w, h, cMax) {
  const top = px(48);
  const left = px(70);
  const plotH = h - top - px(50);
  const rowH = plotH * (1 - GAP * 3) / 4;
  return ROWS.map((q, k) => ({
    q, x: left, y: top + k * (rowH + GAP * plotH), w: w - left - 20, h: rowH,
    range: q === 'c' ? [-cMax, cMax] : [0, 1],
  }));
}

/** The scene (canvaschart.js) of the bars at ctx.state.t against c's axis +-cMax; `key` names its base. */
function scene(ctx, cMax, key) {
  const { t, direction } = ctx.state;
  const units = ctx.order;
  const values = Object.fromEntries(ROWS.map((q) => [q, units.map((u) => at(ctx.trace[q], ctx.slot, direction, t, u))]));
  const n = units.length;
  return {
    key,
    label: tr('bars.label', { count: n, t, token: visible(ctx.trace.tokens[t] ?? ''), unit: ctx.state.unit }),
    height: () => px(640),
    base(p, w, h) {
      const boxes = rows(w, h, cMax);
      const hits = [];
      p.text(tr('bars.plot_title', { t, token: visible(ctx.trace.tokens[t] ?? '') }), w * 0.01, px(24),
        { size: px(20) });
      for (const box of boxes) {
        const { q } = box;
        const yt = q === 'c' ? ticks(-cMax, cMax, 4) : GAPS;
        frame(p, box, { y: { range: box.range, ticks: yt, label: decimals(yt), title: q }, size: px(13),
          titleSize: px(20) });
        p.text(quantityName(q), box.x + box.w, box.y - 2, { size: px(14), align: 'right', base: 'bottom', colour: '#333' });
        const sy = scale(box.range, [box.y + box.h, box.y]);
        const slot = box.w / n;
        values[q].forEach((v, k) => {
          const x = box.x + k * slot;
          const y0 = sy(0);
          const y1 = sy(v);
          p.rect(x + slot * 0.05, Math.min(y0, y1), slot * 0.9, Math.abs(y1 - y0), colourOf(q, v, cMax).bg);
          hits.push({ x: x + slot / 2, y: box.y + box.h / 2, hw: slot / 2, hh: box.h / 2,
            tip: () => tr('bars.tip', { unit: units[k], q, value: fmt(v) }), pick: () => ({ unit: units[k] }) });
        });
      }
      // The units under the last row, thinned so their labels do not collide.
      const last = boxes[3];
      const stride = tickStride(n, last.w, p.measure(String(Math.max(...units)), px(12)) + 10);
      for (let k = 0; k < n; k += stride) {
        p.text(String(units[k]), last.x + (k + 0.5) * last.w / n, last.y + last.h + 4,
          { size: px(12), align: 'center', base: 'top' });
      }
      p.text(tr('axis.unit'), last.x + last.w / 2, h - 4, { size: px(15), align: 'center', base: 'bottom' });
      return { hits, drawn: { t, cMax, units, values, boxes } };
    },
    over(p, w, h) {
      const k = units.indexOf(ctx.state.unit);
      if (k < 0) return { unit: null };
      for (const box of rows(w, h, cMax)) {
        const sy = scale(box.range, [box.y + box.h, box.y]);
        const slot = box.w / n;
        const y0 = sy(0);
        const y1 = sy(values[box.q][k]);
        p.rect(box.x + (k + 0.05) * slot, Math.min(y0, y1), slot * 0.9, Math.abs(y1 - y0), null,
          { colour: '#000', width: 3 });
      }
      return { unit: ctx.state.unit };
    },
  };
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data', 'layer', 'quantity', 'order', 'unit', 'time']);

export function create(el) {
  const fig = chart('bars-plot');
  el.replaceChildren(fig.box, fig.saves);
  let cMax = 1;
  let version = 0; // counts the traces, layers and orders drawn: part of the base's key

  return {
    update(ctx, changed) {
      // c's axis is fixed per trace and layer, so moving t or the unit changes only the bars against it.
      if (any(changed, 'data', 'layer', 'quantity', 'order')) {
        cMax = cRange(ctx);
        version += 1;
      } else if (!any(changed, 'unit', 'time')) return undefined;
      fig.draw(scene(ctx, cMax, `${version} ${ctx.state.t}`));
      return undefined;
    },
  };
}
