// A figure drawn on a canvas of our own (bars.js, saturation.js, corpussat.js, corpusunit.js) instead of Plotly.
// Why: their first Plotly drawing was about half of the page's cold first render (V8 compiling Plotly), and their
// Plotly redraws (1,536 SVG markers; a full react of every bar) the costliest of each keystroke. Like cells.js, but
// whole.
//
// A view hands chart.draw() a scene:
//   key            what `base` depends on (data, layer, hidden layers, language, size of type...): while it is the
//                  same, the base is not painted again but copied from a bitmap (a new unit or t repaints `over`)
//   height(w)      the figure's height in px at width w
//   base(p, w, h)  paints the figure through painter p (painter.js) and returns {hits, drawn}: hits are the
//                  regions that answer the pointer [{x, y, hw, hh, tip() -> text, pick() -> change | null, grid?}],
//                  (x, y) the centre and hw, hh the half sizes (tip and pick are given a point: the pointer's, or the
//                  focused place's centre from the keyboard); one hit can answer for a grid of cells, as each
//                  heatmap's plot area does (`grid`, chartkeys.js); `drawn` is what was drawn, for tests
//   over(p, w, h, drawn)  paints the marks of the chosen unit and t over the base (`drawn`: what base returned,
//                  also when the base was copied); returns more of `drawn`, which may replace some of the base's
//   start()        optional: where the keyboard's focus starts, {k (a hit), c, r (a cell of its grid)}
//   label          optional: what the figure shows, in a sentence from the catalogs (a screen reader says it)
//   keys           optional: the catalog key of the sentence saying how its keys work (default chart.keys)
// Sharp on high-DPI screens, redrawn at its container's width, hover tips set as text, clicks and taps emitted as
// plot.js changes, and saved as PNG or SVG (the same routine through the SVG painter) without leaving the machine.
// For the keyboard and screen readers the figure is an image (role="img", named by `label`) that takes the focus;
// chartkeys.js moves a focus over its hits (or a grid hit's cells), outlined here.

import { chartKeys } from './chartkeys.js';
import { el, text } from './dom.js';
import { t } from './i18n.js';
import { canvasPainter, svgPainter } from './painter.js';
import { emit } from './plot.js';
import { hand } from './svgsave.js';

/** The hit of `hits` under (x, y): the one whose centre is nearest among those whose box holds the point. */
function hitAt(hits, x, y) {
  let best = null;
  let d = Infinity;
  for (const h of hits) {
    if (Math.abs(x - h.x) > h.hw || Math.abs(y - h.y) > h.hh) continue;
    const dd = (x - h.x) ** 2 + (y - h.y) ** 2;
    if (dd < d) { d = dd; best = h; }
  }
  return best;
}

/** A chart element `box` (id `id`, files named `id`.png / .svg) and its save buttons `saves`. */
export function chart(id) {
  const box = el('div', { id, className: 'plot canvas-chart', tabIndex: 0 });
  box.setAttribute('role', 'img');
  const canvas = document.createElement('canvas');
  const tip = el('div', { className: 'chart-tip', hidden: true });
  tip.setAttribute('aria-hidden', 'true'); // said once through chartkeys.js's live region when the keys move to it
  box.append(canvas, tip);
  let scene = null;
  let cache = null; // {key, W, H, bitmap, hits, drawn}: the painted base
  let width = 0;

  function render() {
    width = box.clientWidth;
    if (!scene || !width) return;
    const h = scene.height(width);
    const dpr = window.devicePixelRatio || 1;
    const W = Math.round(width * dpr);
    const H = Math.round(h * dpr);
    if (canvas.width !== W || canvas.height !== H) Object.assign(canvas, { width: W, height: H });
    canvas.style.height = `${h}px`;
    if (!cache || cache.key !== scene.key || cache.W !== W || cache.H !== H) {
      // A new key (every keystroke, for the heatmaps and the lines over time) repaints the bitmap already there when
      // its size is the same: a new full-size canvas each time was the costlier step and garbage for the collector.
      const bitmap = cache && cache.W === W && cache.H === H ? cache.bitmap
        : Object.assign(document.createElement('canvas'), { width: W, height: H });
      // Opaque (alpha: false), as the saved PNG is: white over every pixel, so nothing is cleared first, and the
      // copy below needs no blending. At a cold load each full-size pass was 2-5 ms of the main thread.
      const g = bitmap.getContext('2d', { alpha: false });
      g.setTransform(1, 0, 0, 1, 0, 0);
      g.fillStyle = '#fff';
      g.fillRect(0, 0, W, H);
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      cache = { key: scene.key, W, H, bitmap, ...scene.base(canvasPainter(g), width, h) };
    }
    const g = canvas.getContext('2d', { alpha: false });
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(cache.bitmap, 0, 0); // opaque and the canvas's size: it covers every pixel drawn before
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    box.drawn = { ...cache.drawn, ...scene.over(canvasPainter(g), width, h, cache.drawn), width, height: h, dpr,
      focus: null, cell: null };
    const on = keys.focused();
    if (on) { // black under white, on whole pixels so both stay crisp: seen on every colour
      const p = canvasPainter(g);
      const { x, y, hw, hh } = on.box;
      const [x0, y0] = [Math.round(x - hw) - 3, Math.round(y - hh) - 3];
      const [x1, y1] = [Math.round(x + hw) + 3, Math.round(y + hh) + 3];
      for (const [colour, lw] of [['#000', 4], ['#fff', 2]]) p.rect(x0, y0, x1 - x0, y1 - y0, null, { colour, width: lw });
      box.drawn.focus = on.k;
      if (cache.hits[on.k].grid) box.drawn.cell = [on.c, on.r];
    }
  }
  new ResizeObserver(() => { if (box.clientWidth !== width) render(); }).observe(box);

  const local = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  };
  /** Show `hit`'s tip beside (x, y); returns what it says. */
  function showTip(hit, x, y) {
    const said = hit && hit.tip && hit.tip(x, y);
    tip.hidden = !said;
    if (!said) return '';
    tip.textContent = said;
    tip.style.left = `${Math.min(x + 14, Math.max(0, width - tip.offsetWidth))}px`;
    tip.style.top = `${y + 14}px`;
    return said;
  }
  /** A click, a tap, Enter or Space on `hit` at (x, y): its change goes to whoever owns the state. */
  function pick(hit, x, y) {
    const change = hit && hit.pick && hit.pick(x, y);
    if (change) emit(change, box);
  }
  const keys = chartKeys(box, { hits: () => (cache ? cache.hits : []), start: () => scene && scene.start?.(),
    show: showTip, hide: () => { tip.hidden = true; }, pick, render });
  canvas.addEventListener('pointermove', (ev) => {
    keys.pointed();
    const [x, y] = local(ev);
    const hit = cache && hitAt(cache.hits, x, y);
    canvas.style.cursor = hit && hit.pick ? 'pointer' : '';
    showTip(hit, x, y);
  });
  canvas.addEventListener('pointerleave', () => { tip.hidden = true; });
  // A tap on a touch screen arrives as a click too: no drag layer here swallows it.
  canvas.addEventListener('click', (ev) => {
    keys.pointed();
    const [x, y] = local(ev);
    const hit = cache && hitAt(cache.hits, x, y);
    if (hit) keys.clicked(hit, x, y); // the keys go on from the place clicked
    pick(hit, x, y);
  });

  /** The whole figure at the chart's size through painter p. */
  const paintAll = (p, w, h) => scene.over(p, w, h, scene.base(p, w, h).drawn);
  async function save(format) {
    const w = width || 800;
    const h = scene.height(w);
    if (format === 'svg') {
      const p = svgPainter(w, h);
      paintAll(p, w, h);
      hand(new Blob([p.done()], { type: 'image/svg+xml' }), `${id}.svg`);
      return;
    }
    const c = Object.assign(document.createElement('canvas'), { width: w * 2, height: h * 2 });
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, c.width, c.height);
    g.scale(2, 2);
    paintAll(canvasPainter(g), w, h);
    hand(await new Promise((resolve) => c.toBlob(resolve, 'image/png')), `${id}.png`);
  }
  const saves = document.createElement('div');
  saves.className = 'figure-saves';
  saves.append(...['png', 'svg'].map((format) => {
    const b = text('button', `chart.save_${format}`, { type: 'button' });
    b.dataset.format = format;
    b.addEventListener('click', () => { if (scene) save(format); });
    return b;
  }), keys.spoken);

  return {
    box,
    saves,
    /** Draw `scene` (above); the base is painted again only when its key changed. */
    draw(next) {
      scene = next;
      box.setAttribute('aria-label', `${next.label || t('chart.label')} ${t(next.keys || 'chart.keys')}`);
      box.hidden = false;
      saves.hidden = false;
      render();
    },
    /** Forget the figure: nothing drawn, nothing to save. */
    clear() {
      scene = null;
      cache = null;
      box.hidden = true;
      saves.hidden = true;
      box.drawn = null;
    },
  };
}
