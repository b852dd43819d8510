// Bar charts of every unit's f, i, o and c at the current timestep: scrub or play to watch the gates move.

import { at } from './arrays.js';
import { colourOf, plotLabel, quantityName } from './format.js';
import { t as tr } from './i18n.js';
import { baseLayout, CONFIG, onPointClick, px } from './plot.js';
import { any } from './view.js';

const ROWS = ['f', 'i', 'o', 'c'];

/** c's axis is fixed over the whole text so the bars move against a still frame as t changes. */
function cRange(ctx) {
  let m = 1e-6;
  for (let t = 0; t < ctx.T; t++) {
    for (const u of ctx.order) m = Math.max(m, Math.abs(at(ctx.trace.c, ctx.slot, ctx.state.direction, t, u)));
  }
  return m;
}

/** Bars and axes at ctx.state.t; c's axis spans +-cMax. */
function figure(ctx, cMax) {
  const { t, direction, unit } = ctx.state;
  const x = ctx.order.map(String);
  const chosen = ctx.order.map((u) => (u === unit ? 3 : 0));
  const data = ROWS.map((q, k) => {
    const y = ctx.order.map((u) => at(ctx.trace[q], ctx.slot, direction, t, u));
    // Colours computed here: Plotly 4 warns when a bar's numeric colour is resolved after it is drawn.
    const color = y.map((v) => colourOf(q, v, cMax).bg);
    return {
      type: 'bar', x, y, xaxis: 'x', yaxis: k ? `y${k + 1}` : 'y', name: q,
      marker: { color, line: { color: '#000', width: chosen } },
      hovertemplate: `${tr('bars.hover', { q })}<extra></extra>`,
    };
  });
  const gap = 0.06;
  const h = (1 - gap * 3) / 4;
  const layout = baseLayout({
    height: px(640), margin: { l: px(70), r: 20, t: px(48), b: px(50) }, showlegend: false, bargap: 0.1,
    title: { text: tr('bars.plot_title', { t, token: plotLabel(ctx.trace.tokens[t] ?? '') }),
      x: 0.01, xanchor: 'left', font: { size: px(20) } },
    xaxis: { type: 'category', title: { text: tr('axis.unit') }, tickfont: { size: px(12) }, anchor: 'y4' },
  });
  ROWS.forEach((q, k) => {
    const top = 1 - k * (h + gap);
    layout[k ? `yaxis${k + 1}` : 'yaxis'] = {
      domain: [top - h, top], title: { text: q, font: { size: px(20) } }, fixedrange: true,
      range: q === 'c' ? [-cMax, cMax] : [0, 1], tickfont: { size: px(13) },
    };
  });
  layout.annotations = ROWS.map((q, k) => ({
    text: quantityName(q), xref: 'paper', yref: 'paper', x: 1, y: 1 - k * (h + gap), xanchor: 'right',
    yanchor: 'bottom',
    showarrow: false, font: { size: px(14), color: '#333' },
  }));
  return [data, layout];
}

export function create(el) {
  const plot = document.createElement('div');
  plot.id = 'bars-plot';
  plot.className = 'plot';
  el.replaceChildren(plot);
  let cMax = 1;

  return {
    update(ctx, changed) {
      // c's axis is fixed per trace and layer, so moving t or the unit changes only the bars against it.
      if (any(changed, 'data', 'layer', 'quantity', 'order')) cMax = cRange(ctx);
      else if (!any(changed, 'unit', 'time')) return undefined;
      const first = !plot.data;
      const drawn = Plotly.react(plot, ...figure(ctx, cMax), CONFIG);
      if (first) onPointClick(plot, (pt) => ({ unit: Number(pt.x) }));
      return drawn;
    },
  };
}
