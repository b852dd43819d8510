// The training panel's curve: the loss at every step, the held-out score at every snapshot (accuracy for
// a task, validation loss for a text) on a second axis, and a line at the snapshot shown.

import { t } from './i18n.js';
import { baseLayout, CONFIG, loadPlotly, timeLine } from './plot.js';

const MARGIN = { l: 64, r: 64, t: 30, b: 50 };

export function create(el) {
  // The frame (.plot) is a host around the figure: on the figure's own div its border
  // made Plotly's responsive resize measure the div as empty and shrink the figure to nothing.
  const host = document.createElement('div');
  host.className = 'plot';
  const gd = document.createElement('div');
  gd.id = 'train-curve';
  host.append(gd);
  el.append(host);
  let steps = [];
  let loss = [];
  let scores = { x: [], y: [] };
  let scoreKey = 'accuracy';
  let marked = null;
  let pending = null;

  function figure() {
    const score = scoreKey === 'accuracy';
    const data = [
      { type: 'scatter', mode: 'lines', name: t('train.loss'), x: steps, y: loss, line: { color: '#0072B2', width: 2 },
        hovertemplate: `${t('train.loss_hover')}<extra></extra>` },
      { type: 'scatter', mode: 'lines+markers', name: t(score ? 'train.accuracy' : 'train.val_loss'), x: scores.x,
        y: scores.y, yaxis: 'y2', line: { color: '#D55E00', width: 2 }, marker: { size: 7 },
        hovertemplate: `${t(score ? 'train.accuracy_hover' : 'train.val_loss_hover')}<extra></extra>` },
    ];
    const layout = baseLayout({
      height: 300, margin: MARGIN, legend: { orientation: 'h', y: 1.15, font: { size: 15 } },
      xaxis: { title: { text: t('train.step') }, rangemode: 'tozero' },
      yaxis: { title: { text: t('train.loss') }, rangemode: 'tozero' },
      yaxis2: { overlaying: 'y', side: 'right', showgrid: false, rangemode: 'tozero',
        ...(score ? { range: [0, 1.02], tickformat: '.0%', tickvals: [0, 0.25, 0.5, 0.75, 1] } : {}),
        title: { text: t(score ? 'train.accuracy' : 'train.val_loss') } },
      shapes: marked === null ? [] : [timeLine(marked)],
    });
    return [data, layout];
  }

  /** Redraw at the next frame, once however many points arrived meanwhile; Plotly is loaded the first time. */
  function draw() {
    if (!pending) {
      pending = loadPlotly().then(() => new Promise((resolve) => requestAnimationFrame(resolve))).then(() => {
        pending = null;
        return Plotly.react(gd, ...figure(), CONFIG);
      }, (e) => {
        pending = null;
        throw e;
      });
    }
    return pending;
  }

  return {
    reset() {
      steps = [];
      loss = [];
      scores = { x: [], y: [] };
      marked = null;
      return draw();
    },
    /** A progress event: every step's training loss. A resumed run may send steps again: they replace. */
    progress(xs, ys) {
      while (steps.length && steps[steps.length - 1] >= xs[0]) { steps.pop(); loss.pop(); }
      steps = steps.concat(xs);
      loss = loss.concat(ys);
      return draw();
    },
    /** A snapshot's held-out metrics. */
    score(step, metrics) {
      scoreKey = 'accuracy' in metrics ? 'accuracy' : 'val_loss';
      if (typeof metrics[scoreKey] !== 'number') return undefined;
      const k = scores.x.indexOf(step);
      if (k >= 0) scores.y[k] = metrics[scoreKey];
      else { scores.x.push(step); scores.y.push(metrics[scoreKey]); }
      return draw();
    },
    mark(step) {
      marked = step;
      return draw();
    },
    /** Draw again (another language or width), once it has drawn: an unused panel never loads Plotly. */
    redraw: () => (gd.data ? draw() : undefined),
    gd,
  };
}
