// A figure drawn on a canvas of our own (bars.js, saturation.js, corpussat.js) instead of Plotly. Why: their first
// Plotly drawing was about half of the page's cold first render (V8 compiling Plotly), and their Plotly redraws
// (1,536 SVG markers; a full react of every bar) the costliest of each keystroke. Like cells.js, but whole.
//
// A view hands chart.draw() a scene:
//   key            what `base` depends on (data, layer, hidden layers, language, size of type...): while it is the
//                  same, the base is not painted again but copied from a bitmap (a new unit or t repaints `over`)
//   height(w)      the figure's height in px at width w
//   base(p, w, h)  paints the figure through painter p (painter.js) and returns {hits, drawn}: hits are the
//                  regions that answer the pointer [{x, y, hw, hh, tip() -> text, pick() -> change | null}],
//                  (x, y) the centre and hw, hh the half sizes; `drawn` is what was drawn, for tests
//   over(p, w, h)  paints the marks of the chosen unit over the base; returns more of `drawn`
// Sharp on high-DPI screens, redrawn at its container's width, hover tips set as text, clicks and taps emitted as
// plot.js changes, and saved as PNG or SVG (the same routine through the SVG painter) without leaving the machine.

import { text } from './dom.js';
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
  const box = Object.assign(document.createElement('div'), { id, className: 'plot canvas-chart' });
  const canvas = document.createElement('canvas');
  const tip = Object.assign(document.createElement('div'), { className: 'chart-tip', hidden: true });
  tip.setAttribute('role', 'tooltip');
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
    box.drawn = { ...cache.drawn, ...scene.over(canvasPainter(g), width, h), width, height: h, dpr };
  }
  new ResizeObserver(() => { if (box.clientWidth !== width) render(); }).observe(box);

  const local = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  };
  canvas.addEventListener('pointermove', (ev) => {
    const [x, y] = local(ev);
    const hit = cache && hitAt(cache.hits, x, y);
    const said = hit && hit.tip && hit.tip();
    tip.hidden = !said;
    canvas.style.cursor = hit && hit.pick ? 'pointer' : '';
    if (!said) return;
    tip.textContent = said;
    tip.style.left = `${Math.min(x + 14, Math.max(0, width - tip.offsetWidth))}px`;
    tip.style.top = `${y + 14}px`;
  });
  canvas.addEventListener('pointerleave', () => { tip.hidden = true; });
  // A tap on a touch screen arrives as a click too: no drag layer here swallows it.
  canvas.addEventListener('click', (ev) => {
    const hit = cache && hitAt(cache.hits, ...local(ev));
    const change = hit && hit.pick && hit.pick();
    if (change) emit(change, box);
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
  }));

  return {
    box,
    saves,
    /** Draw `scene` (above); the base is painted again only when its key changed. */
    draw(next) {
      scene = next;
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
