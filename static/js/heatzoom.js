// A window of time on the heatmaps (heatmaps.js), what Plotly's zoom and pan gave: at 2,000 tokens a column is
// under a pixel wide, so a person narrows time to read a stretch. Drag sideways across the cells (mouse, pen or a
// finger: vertical finger moves still scroll the page) to choose the stretch; double-click for the whole text.
// While narrowed, a bar above the figure says which stretch shows and moves it earlier or later, as does a
// sideways wheel or trackpad swipe (or Shift and the wheel). Rows are never zoomed: the top-N units do that.

import { text } from './dom.js';
import { t as tr } from './i18n.js';

const MOVE = 8; // px a pointer travels before a press becomes a drag, not a click

/**
 * The time window of chart `fig` (canvaschart.js; its `drawn` says where the cells lie and which columns show).
 * `moved()` is called when the user changes it. Returns {bar, range(T, t)}: the bar to place above the figure,
 * and the columns [t0, t1] to show.
 */
export function timeWindow(fig, moved) {
  let span = null; // [a, b] the user chose, or null: the whole text
  let T = 0;
  let seen = null; // the chosen t of the last drawing: only a t that moved drags the window along
  const say = document.createElement('span');
  const button = (key, act) => {
    const b = text('button', key, { type: 'button' });
    b.addEventListener('click', act);
    return b;
  };
  const shift = (dir) => () => span && set([span[0] + dir * width(), span[1] + dir * width()].map(Math.round));
  const width = () => Math.max(1, Math.floor((span[1] - span[0] + 1) / 2));
  const bar = Object.assign(document.createElement('div'), { className: 'heat-window', hidden: true });
  bar.append(say, button('heatmaps.earlier', shift(-1)), button('heatmaps.later', shift(1)),
    button('heatmaps.whole', () => set(null)));
  const brush = Object.assign(document.createElement('div'), { className: 'heat-brush', hidden: true });
  fig.box.append(brush);

  /** `next` kept inside 0..T-1 at its width; the whole text when it would cover it. */
  function clamp(next) {
    if (!next || next[1] - next[0] + 1 >= T) return null;
    const w = next[1] - next[0];
    const a = Math.min(Math.max(0, next[0]), T - 1 - w);
    return [a, a + w];
  }
  function show() {
    bar.hidden = !span;
    if (span) say.textContent = tr('heatmaps.window', { from: span[0], to: span[1], T });
  }
  function set(next) {
    span = clamp(next);
    const tip = fig.box.querySelector('.chart-tip');
    if (tip) tip.hidden = true; // it named the cell under the pointer before the columns moved
    show();
    moved();
  }

  // Dragging: from the press to the release, a shaded stretch; a click that ends a drag chooses no cell.
  const canvas = fig.box.querySelector('canvas');
  let press = null; // {x, id} while a press may become a drag
  let dragging = false;
  let dragged = false;
  const geometry = () => {
    const d = fig.box.drawn;
    return d && d.panels && d.panels.length ? { box: d.panels[0].box, last: d.panels[d.panels.length - 1].box,
      window: d.window } : null;
  };
  const localX = (ev) => ev.clientX - canvas.getBoundingClientRect().left;
  const column = (g, x) => g.window[0] + Math.floor(((x - g.box.x) / g.box.w) * (g.window[1] - g.window[0] + 1));
  canvas.addEventListener('pointerdown', (ev) => {
    dragged = false;
    const g = geometry();
    const x = localX(ev);
    press = ev.button === 0 && g && x >= g.box.x && x <= g.box.x + g.box.w ? { x, id: ev.pointerId } : null;
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!press || ev.pointerId !== press.id) return;
    const g = geometry();
    const x = Math.min(Math.max(localX(ev), g.box.x), g.box.x + g.box.w);
    if (!dragging && Math.abs(x - press.x) < MOVE) return;
    if (!dragging) canvas.setPointerCapture(ev.pointerId);
    dragging = true;
    Object.assign(brush.style, { left: `${Math.min(x, press.x)}px`, width: `${Math.abs(x - press.x)}px`,
      top: `${g.box.y}px`, height: `${g.last.y + g.last.h - g.box.y}px` });
    brush.hidden = false;
    brush.dataset.x = String(x);
  });
  const release = (ev, done) => {
    if (dragging && done) {
      const g = geometry();
      const [a, b] = [press.x, Number(brush.dataset.x)].sort((u, v) => u - v).map((x) => column(g, x));
      dragged = true;
      if (b > a) set([a, Math.min(b, T - 1)]);
    }
    if (press && canvas.hasPointerCapture(ev.pointerId)) canvas.releasePointerCapture(ev.pointerId);
    press = null;
    dragging = false;
    brush.hidden = true;
  };
  canvas.addEventListener('pointerup', (ev) => release(ev, true));
  canvas.addEventListener('pointercancel', (ev) => release(ev, false)); // the page scrolled instead
  fig.box.addEventListener('click', (ev) => { if (dragged) { ev.stopPropagation(); dragged = false; } }, true);
  canvas.addEventListener('dblclick', () => set(null));
  canvas.addEventListener('wheel', (ev) => {
    const sideways = ev.shiftKey ? ev.deltaY || ev.deltaX : Math.abs(ev.deltaX) > Math.abs(ev.deltaY) ? ev.deltaX : 0;
    const g = geometry();
    if (!span || !sideways || !g) return; // a vertical wheel scrolls the page
    ev.preventDefault();
    const cols = Math.round((sideways / g.box.w) * (span[1] - span[0] + 1)) || Math.sign(sideways);
    set([span[0] + cols, span[1] + cols]);
  }, { passive: false });

  return {
    bar,
    /** The columns [t0, t1] to show for a text of n tokens; the window, if any, moved (keeping its width) so that
     * it shows column `s`, the chosen t, when playing, scrubbing or typing takes t past its edge. */
    range(n, s) {
      T = n;
      if (span && s !== seen && (s < span[0] || s > span[1])) {
        const w = span[1] - span[0];
        span = s < span[0] ? [s, s + w] : [s - w, s];
      }
      seen = s;
      span = clamp(span);
      show();
      return span || [0, n - 1];
    },
  };
}
