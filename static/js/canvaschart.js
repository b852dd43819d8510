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
//                  regions that answer the pointer [{x, y, hw, hh, tip() -> text, pick() -> change | null}],
//                  (x, y) the centre and hw, hh the half sizes (tip and pick are given a point: the pointer's, or the
//                  hit's centre from the keyboard; one hit can answer for many cells, as each heatmap's plot area
//                  does); `drawn` is what was drawn, for tests
//   over(p, w, h)  paints the marks of the chosen unit over the base; returns more of `drawn`
//   label          optional: what the figure shows, in a sentence from the catalogs (a screen reader says it)
// Sharp on high-DPI screens, redrawn at its container's width, hover tips set as text, clicks and taps emitted as
// plot.js changes, and saved as PNG or SVG (the same routine through the SVG painter) without leaving the machine.
// For the keyboard and screen readers the figure is an image (role="img", named by `label`) that takes the focus:
// the arrow keys move between its hits (left and right through them in order, up and down to the nearest one above
// or below), each outlined with its tip shown and said; Enter or Space picks it, the same change a click emits.

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

/** The index of the hit nearest to hits[k] strictly below it (dir 1) or above it (dir -1); k when there is none.
 * Sideways distance counts more, so the hit straight below (the same unit in the next row) comes first. */
function vertical(hits, k, dir) {
  const from = hits[k];
  let best = k;
  let d = Infinity;
  hits.forEach((h, j) => {
    const dy = (h.y - from.y) * dir;
    if (dy <= 0.5) return;
    const dd = dy + 4 * Math.abs(h.x - from.x);
    if (dd < d) { d = dd; best = j; }
  });
  return best;
}

/** A chart element `box` (id `id`, files named `id`.png / .svg) and its save buttons `saves`. */
export function chart(id) {
  const box = el('div', { id, className: 'plot canvas-chart', tabIndex: 0 });
  box.setAttribute('role', 'img');
  const canvas = document.createElement('canvas');
  const tip = el('div', { className: 'chart-tip', hidden: true });
  tip.setAttribute('aria-hidden', 'true'); // said through `spoken` below, once, when the keyboard moves to it
  box.append(canvas, tip);
  const spoken = el('span', { className: 'visually-hidden' });
  spoken.setAttribute('aria-live', 'polite');
  let scene = null;
  let cache = null; // {key, W, H, bitmap, hits, drawn}: the painted base
  let width = 0;
  let focus = -1; // the hit the keyboard is on (an index into cache.hits), -1 before the first arrow key
  let keyed = false; // the keyboard moved last (the focused hit is outlined), not the pointer

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
      const bitmap = Object.assign(document.createElement('canvas'), { width: W, height: H });
      const g = bitmap.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.fillStyle = '#fff'; // opaque, as the saved PNG is
      g.fillRect(0, 0, width, h);
      cache = { key: scene.key, W, H, bitmap, ...scene.base(canvasPainter(g), width, h) };
    }
    const g = canvas.getContext('2d');
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, W, H);
    g.drawImage(cache.bitmap, 0, 0);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    box.drawn = { ...cache.drawn, ...scene.over(canvasPainter(g), width, h), width, height: h, dpr, focus: null };
    const hit = keyed && document.activeElement === box && cache.hits[focus];
    if (hit) { // black under white, on whole pixels so both stay crisp: seen on every colour
      const p = canvasPainter(g);
      const [x0, y0] = [Math.round(hit.x - hit.hw) - 3, Math.round(hit.y - hit.hh) - 3];
      const [x1, y1] = [Math.round(hit.x + hit.hw) + 3, Math.round(hit.y + hit.hh) + 3];
      for (const [colour, lw] of [['#000', 4], ['#fff', 2]]) p.rect(x0, y0, x1 - x0, y1 - y0, null, { colour, width: lw });
      box.drawn.focus = focus;
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
  const pointed = () => {
    if (keyed) { keyed = false; render(); }
  };
  canvas.addEventListener('pointermove', (ev) => {
    pointed();
    const [x, y] = local(ev);
    const hit = cache && hitAt(cache.hits, x, y);
    canvas.style.cursor = hit && hit.pick ? 'pointer' : '';
    showTip(hit, x, y);
  });
  canvas.addEventListener('pointerleave', () => { tip.hidden = true; });
  // A tap on a touch screen arrives as a click too: no drag layer here swallows it.
  canvas.addEventListener('click', (ev) => {
    pointed();
    const [x, y] = local(ev);
    const hit = cache && hitAt(cache.hits, x, y);
    if (hit) focus = cache.hits.indexOf(hit); // the arrow keys go on from the hit clicked
    pick(hit, x, y);
  });
  box.addEventListener('keydown', (ev) => {
    if (!cache || !cache.hits.length || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const { hits } = cache;
    const k = Math.min(focus, hits.length - 1);
    const moves = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: hits.length - 1,
      ArrowDown: k < 0 ? 0 : vertical(hits, k, 1), ArrowUp: k < 0 ? 0 : vertical(hits, k, -1) };
    if (ev.key === 'Enter' || ev.key === ' ') {
      if (k >= 0) pick(hits[k], hits[k].x, hits[k].y);
    } else if (ev.key === 'Escape') {
      tip.hidden = true;
      return; // not taken: presentation mode leaves on Escape
    } else if (ev.key in moves) {
      focus = Math.max(0, Math.min(hits.length - 1, moves[ev.key]));
      keyed = true;
      render();
      const hit = hits[focus];
      spoken.textContent = showTip(hit, hit.x, hit.y);
    } else return;
    // The page's own keys (the timeline's arrows, presentation mode's) do not move while the figure has them.
    ev.preventDefault();
    ev.stopPropagation();
  });
  box.addEventListener('blur', () => {
    tip.hidden = true;
    if (keyed) render();
  });

  /** The whole figure at the chart's size through painter p. */
  const paintAll = (p, w, h) => { scene.base(p, w, h); scene.over(p, w, h); };
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
  }), spoken);

  return {
    box,
    saves,
    /** Draw `scene` (above); the base is painted again only when its key changed. */
    draw(next) {
      scene = next;
      box.setAttribute('aria-label', `${next.label || t('chart.label')} ${t('chart.keys')}`);
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
