// A classifier's answer for the whole text: one horizontal bar per class, its probability, the likeliest
// in the dark colour. Used by predictions.js (the "what the model outputs" view) for classifier heads.

import { labelText, plotLabel } from './format.js';
import { t as tr } from './i18n.js';
import { baseLayout, CONFIG, loadPlotly } from './plot.js';

const MAX_BARS = 30; // beyond this many classes, the likeliest are shown (and the note says so)

/** The classes to draw, in label order when they all fit, else the likeliest MAX_BARS by probability. */
export function shownClasses(classes) {
  const all = classes.labels.map((label, k) => ({ label, p: classes.probs[k], k }));
  if (all.length <= MAX_BARS) return all;
  return all.sort((a, b) => b.p - a.p || a.k - b.k).slice(0, MAX_BARS);
}

/** Draw the bars into Plotly div `gd` (Plotly is loaded for it if need be); resolves when Plotly has drawn them. */
export async function drawClasses(gd, classes) {
  await loadPlotly();
  const rows = shownClasses(classes);
  const best = Math.max(...classes.probs);
  // Rows by position with the names as tick text (escaped: labels are data), so equal names stay apart.
  const names = rows.map((r) => plotLabel(labelText(r.label)));
  const y = rows.map((_, j) => j);
  const data = [{
    type: 'bar', orientation: 'h', x: rows.map((r) => r.p), y, customdata: names,
    text: rows.map((r) => `${(r.p * 100).toFixed(1)}%`), textposition: 'outside', cliponaxis: false,
    marker: { color: rows.map((r) => (r.p === best ? '#0072B2' : '#9ECAE1')), line: { color: '#000', width: 1 } },
    hovertemplate: `${tr('predictions.class_hover')}<extra></extra>`,
  }];
  const layout = baseLayout({
    height: 90 + 36 * rows.length, margin: { l: 20, r: 70, t: 48, b: 50 }, showlegend: false, bargap: 0.25,
    title: { text: tr('predictions.classes_title'), x: 0.01, xanchor: 'left', font: { size: 18 } },
    xaxis: { range: [0, 1], title: { text: tr('axis.probability') }, fixedrange: true },
    yaxis: { tickvals: y, ticktext: names, autorange: 'reversed', automargin: true, tickfont: { size: 17 },
      fixedrange: true },
  });
  return Plotly.react(gd, data, layout, CONFIG);
}
