// Plotly settings every view shares: big readable type, offline PNG/SVG export, markers for t and unit,
// and Plotly's own words (modebar tooltips, notices) in the page's language.

import { headStatus } from './api.js';
import { language, t } from './i18n.js';

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", sans-serif';

// Nothing leaves this machine. plotly.js 4 turned its "Share chart..." button (sendChartToCloud, which opens
// plotlyServerURL with the page's origin and uploads the figure) on by default: it is switched off, removed by
// name, and has no server to go to; the logo links to plotly.com. Every figure's config starts from this one
// (tests/browser/test_first.py clicks every button of every figure and watches the network).
export const CONFIG = {
  displaylogo: false,
  showSendToCloud: false,
  plotlyServerURL: '',
  responsive: true,
  modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d', 'sendChartToCloud'],
  toImageButtonOptions: { format: 'png', scale: 2 },
  // On a phone the mode bar would sit over the figures' titles, and touch zooms nothing with it: left out.
  displayModeBar: window.matchMedia('(max-width: 700px)').matches ? false : 'hover',
  locale: 'en',
};

// Plotly's English strings that can show in our figures -> the catalog key of their translation.
const PLOTLY_WORDS = {
  Zoom: 'plotly.zoom', Pan: 'plotly.pan', 'Zoom in': 'plotly.zoom_in', 'Zoom out': 'plotly.zoom_out',
  'Reset axes': 'plotly.reset_axes', Autoscale: 'plotly.autoscale', 'Download plot as a PNG': 'plotly.download_png',
  'Download plot': 'plotly.download', 'Toggle Spike Lines': 'plotly.spikes',
  'Show closest data on hover': 'plotly.hover_closest', 'Compare data on hover': 'plotly.hover_compare',
  'Toggle show closest data on hover': 'plotly.hover_toggle', 'Double-click to zoom back out': 'plotly.zoom_back',
  'Double-click on legend to isolate one trace': 'plotly.legend_isolate',
  'Sorry, there was a problem downloading your image!': 'plotly.download_failed',
};

let loading = null;

/**
 * Plotly, loaded the first time a figure asks for it (firstdraw.js, the training curve, a classifier's bars) and
 * given the page's language: no view of a first load needs it, so its 4.8 MB are not parsed unless a figure that
 * draws with it is shown. The script runs after a frame, so the page paints what it has first. Resolves to
 * window.Plotly; a failure rejects with a sentence, and the next call tries again.
 */
export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      requestAnimationFrame(() => setTimeout(() => {
        const script = document.createElement('script');
        script.src = document.getElementById('plotly-js').content; // the shell's <meta>: versioned, cached a year
        script.onload = () => {
          localisePlotly();
          resolve(window.Plotly);
        };
        // A script's error says nothing of why: the server is asked again. It answers 404 or 500 (error.no_plotly)
        // when the plotly package is missing; no answer, or a file it does have, means the fetch failed on the way.
        script.onerror = () => {
          loading = null;
          headStatus(script.src).then((status) => {
            reject(new Error(t(status === 404 || status === 500 ? 'error.no_plotly' : 'error.plotly_network')));
          });
        };
        document.head.append(script);
      }));
    });
  }
  return loading;
}

/** Give Plotly the page's language; figures drawn (or redrawn) from now on use it. */
export function localisePlotly() {
  if (!window.Plotly) return; // loadPlotly's caller localises once it arrives
  const lang = language();
  if (lang !== 'en') {
    const dictionary = Object.fromEntries(Object.entries(PLOTLY_WORDS).map(([en, key]) => [en, t(key)]));
    Plotly.register({ moduleType: 'locale', name: lang, dictionary });
  }
  CONFIG.locale = lang;
  // Plotly's camera button saves a PNG; this one saves the same figure as SVG, for papers and slides.
  CONFIG.modeBarButtonsToAdd = [{ name: 'svg', title: t('plot.download_svg'), icon: Plotly.Icons.disk,
    click: (gd) => Plotly.downloadImage(gd, { format: 'svg', filename: gd.id, width: gd.clientWidth,
      height: gd.clientHeight }) }];
}

/** `n` pixels of type or height, one and a half times larger in presentation mode (present.js), where the
 * figure is read from the back of a room. Views redraw when the mode changes. */
export const px = (n) => Math.round(n * (document.body.classList.contains('present') ? 1.5 : 1));

/** A base layout with projector-sized type; `extra` is merged on top. */
export function baseLayout(extra) {
  return {
    font: { family: FONT, size: px(15), color: '#000' },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: '#fff',
    hoverlabel: { font: { family: FONT, size: px(16) } },
    ...extra,
  };
}

/** Two outlines, black under white, so the marker stays visible on every colour of every scale. */
function outlined(shape) {
  return [
    { ...shape, type: 'rect', fillcolor: 'rgba(0,0,0,0)', line: { color: '#000', width: 4 }, layer: 'above' },
    { ...shape, type: 'rect', fillcolor: 'rgba(0,0,0,0)', line: { color: '#fff', width: 1.5 }, layer: 'above' },
  ];
}

/** The current-timestep column marker: an outlined column, or a line once columns are thinner than it. */
export function timeMarker(t, T) {
  if (T <= 150) return outlined({ xref: 'x', yref: 'paper', x0: t - 0.5, x1: t + 0.5, y0: 0, y1: 1 });
  const line = { type: 'line', xref: 'x', yref: 'paper', x0: t, x1: t, y0: 0, y1: 1, layer: 'above' };
  return [{ ...line, line: { color: '#000', width: 5 } }, { ...line, line: { color: '#fff', width: 2 } }];
}

/** The chosen-unit row marker at category row r of y axis `yref`. */
export function rowMarker(r, yref = 'y') {
  return outlined({ xref: 'paper', yref, x0: 0, x1: 1, y0: r - 0.5, y1: r + 0.5 });
}

/** A thin vertical line at t for line charts. */
export function timeLine(t, xref = 'x') {
  return {
    type: 'line', xref, yref: 'paper', x0: t, x1: t, y0: 0, y1: 1, layer: 'above',
    line: { color: '#000', width: 2, dash: 'dot' },
  };
}

/**
 * Notify whoever owns the state (main.js, listening on document) that a view asks for a change: {unit, t,
 * layer, ...}. From `source` (an element of the view) the request bubbles up to document, so a panel that
 * holds its own copy of a view (the training panel) can answer it first and stop it there.
 */
export function emit(change, source = document) {
  source.dispatchEvent(new CustomEvent('gs:select', { detail: change, bubbles: true }));
}

/** Emit `pick(point)` (a change such as {unit}) when a point of figure `plot` is clicked. */
export function onPointClick(plot, pick) {
  plot.on('plotly_click', (ev) => {
    const pt = ev.points && ev.points[0];
    const change = pt && pick(pt);
    if (change) emit(change);
  });
}
