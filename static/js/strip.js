// Token labels along a time axis, as HTML text beside a Plotly figure instead of Plotly tick labels.
// Why: Plotly measures every tick label in the document (a forced layout each), which made the labels
// most of a redraw's cost; absolutely placed spans cost one layout for all of them. Zooming a figure
// re-places the labels for the visible range, down to one label per token.

import { plotLabel, tickStride, visible } from './format.js';
import { t } from './i18n.js';
import { CONFIG } from './plot.js';

/** A figure host: {host, gd, strips: {top, bottom}}; `host` takes the place of the Plotly div in the page. */
export function hosted(id, sides = ['bottom']) {
  const host = document.createElement('div');
  host.className = 'plot strip-host';
  const gd = document.createElement('div');
  gd.id = id;
  host.append(gd);
  const strips = {};
  for (const side of sides) {
    strips[side] = document.createElement('div');
    strips[side].className = `token-strip ${side}`;
    strips[side].setAttribute('aria-hidden', 'true'); // the text box and hover already give each token
    host.append(strips[side]);
  }
  return { host, gd, strips };
}

/**
 * Place every k-th token of `tokens` under (or over) the plot area of `gd`, whose layout has `margin` and
 * x range `range` (the initial one, or the zoomed one Plotly writes back to gd.layout). Returns the stride.
 */
export function placeLabels(fig, tokens, { margin, height, px }) {
  const { gd, strips } = fig;
  const width = gd.clientWidth - margin.l - margin.r;
  const range = (gd.layout && gd.layout.xaxis && gd.layout.xaxis.range) || [-0.5, tokens.length - 0.5];
  const [r0, r1] = range.map(Number);
  const first = Math.max(0, Math.ceil(r0));
  const last = Math.min(tokens.length - 1, Math.floor(r1));
  const k = tickStride(Math.max(1, last - first + 1), width, px);
  const spans = [];
  for (let t = Math.ceil(first / k) * k; t <= last; t += k) {
    const s = document.createElement('span');
    s.textContent = visible(tokens[t]);
    s.style.left = `${((t - r0) / (r1 - r0)) * 100}%`;
    s.style.maxWidth = `${Math.max(px, (width / (r1 - r0)) * k) - 2}px`;
    spans.push(s);
  }
  fig.stride = k;
  fig.tokens = tokens;
  for (const [side, strip] of Object.entries(strips)) {
    strip.style.left = `${margin.l}px`;
    strip.style.width = `${width}px`;
    strip.style.top = side === 'top' ? `${margin.t - 30}px` : `${height - margin.b + 4}px`;
    strip.replaceChildren(...(side === 'top' ? spans.map((s) => s.cloneNode(true)) : spans));
  }
  return k;
}

/**
 * Draw (or redraw) a figure whose x axis is time and label it with the typed tokens; the labels follow
 * zooming. `margin` is the figure's layout margin.
 */
export async function reactWithTokens(fig, data, layout, ctx, margin) {
  const first = !fig.gd.data;
  await Plotly.react(fig.gd, data, layout, exportConfig(fig));
  fig.labelling = { margin, height: layout.height, px: ctx.wordTokens ? 64 : 14 };
  placeLabels(fig, ctx.trace.tokens, fig.labelling);
  if (first) followZoom(fig, () => placeLabels(fig, fig.tokens, fig.labelling));
}

/** Re-place the labels whenever the user zooms or pans the figure. */
export function followZoom(fig, again) {
  fig.gd.on('plotly_relayout', (ev) => {
    if (Object.keys(ev).some((key) => key.startsWith('xaxis') || key === 'autosize')) again();
  });
}

/**
 * Plotly config whose two buttons export the figure as PNG and as SVG with the token labels drawn by Plotly
 * itself (an exported image carries no HTML), on x axis `axisKey`; `fig.exportData` may restore what the page
 * draws outside Plotly (the heatmap cells).
 */
export function exportConfig(fig, axisKey = 'xaxis') {
  // One object per figure: Plotly.react replots from scratch whenever the config changes.
  if (fig.config && fig.config.locale === CONFIG.locale) return fig.config;
  const save = (gd, format) => {
    const layout = JSON.parse(JSON.stringify(gd.layout));
    const k = fig.stride || 1;
    const tickvals = [];
    for (let t = 0; t < (fig.tokens || []).length; t += k) tickvals.push(t);
    layout[axisKey] = { ...layout[axisKey], showticklabels: true, tickmode: 'array', tickvals,
      ticktext: tickvals.map((t) => plotLabel(fig.tokens[t])), tickfont: { size: 14 } };
    layout.margin = { ...layout.margin, b: Math.max(layout.margin.b, 60) };
    const data = fig.exportData ? fig.exportData(gd.data) : gd.data;
    Plotly.downloadImage({ data, layout }, { format, scale: format === 'png' ? 2 : 1, filename: gd.id,
      width: gd.clientWidth, height: layout.height });
  };
  const buttons = [['png', 'plot.png_with_tokens', Plotly.Icons.camera], ['svg', 'plot.svg_with_tokens',
    Plotly.Icons.disk]].map(([format, key, icon]) => ({ name: `${format}-with-tokens`, title: t(key), icon,
    click: (gd) => save(gd, format) }));
  fig.config = { ...CONFIG, modeBarButtonsToRemove: [...CONFIG.modeBarButtonsToRemove, 'toImage'],
    modeBarButtonsToAdd: buttons };
  return fig.config;
}
