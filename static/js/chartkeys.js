// The keyboard of a canvas chart (canvaschart.js): the figure takes the focus, and the keys move a focus over its
// hits, outlined, with the tip shown and said once through a live region. Enter or Space picks the focused place:
// the same change a click there emits.
//   A hit of marks (a bar, a point, a legend entry): the arrow keys move between hits, left and right through them
//   in order, up and down to the nearest one below or above; Home and End go to the first and the last.
//   A hit that is a grid of cells (`grid: {cols, rows}`, a heatmap's plot area): the arrow keys move one cell (one
//   step across, one unit down), Home and End to the row's first and last cell, PageUp and PageDown to the same
//   cell of the hit before or after (the subplot above or below). PageUp and PageDown pass through until the keys
//   are in the figure, so that a presenter who clicked a cell keeps the clicker's lesson steps (present.js).
// The first key shows where the scene's start() says ({k, c, r}: the heatmaps' chosen cell), else the first hit.

import { el } from './dom.js';

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

const clamp = (v, n) => Math.max(0, Math.min(n - 1, v));

/** Cell (c, r) of hit `h` as a box {x, y, hw, hh} (centre, half sizes); the hit itself when it is no grid. */
export function cellOf(h, c, r) {
  if (!h.grid) return h;
  const [w, v] = [(2 * h.hw) / h.grid.cols, (2 * h.hh) / h.grid.rows];
  return { x: h.x - h.hw + (c + 0.5) * w, y: h.y - h.hh + (r + 0.5) * v, hw: w / 2, hh: v / 2 };
}

/** The cell [c, r] of grid hit `h` under (x, y); [0, 0] for a hit that is no grid. */
function cellAt(h, x, y) {
  if (!h.grid) return [0, 0];
  return [clamp(Math.floor(((x - h.x + h.hw) / (2 * h.hw)) * h.grid.cols), h.grid.cols),
    clamp(Math.floor(((y - h.y + h.hh) / (2 * h.hh)) * h.grid.rows), h.grid.rows)];
}

/**
 * Keys for chart element `box`: `hits()` the hits drawn, `start()` where the first key goes ({k, c, r} or null),
 * `show(hit, x, y)` shows a tip and returns its text, `hide()` hides it, `pick(hit, x, y)` emits a hit's change, `render()` repaints (the outline).
 * Returns {spoken (the live region, to place in the page), focused() (the box to outline and {k, c, r}, or null),
 * clicked(hit, x, y) (the keys go on from there), pointed() (the pointer moved: no outline)}.
 */
export function chartKeys(box, { hits, start, show, hide, pick, render }) {
  const spoken = el('span', { className: 'visually-hidden' });
  spoken.setAttribute('aria-live', 'polite');
  let at = null; // {k, c, r}: the hit and, in a grid, the cell the keyboard is on
  let keyed = false; // the keyboard moved last (the focus is outlined), not the pointer

  /** `at` within the hits drawn now (a new text or window may have fewer). */
  const valid = (hs) => {
    if (!at) return null;
    const k = clamp(at.k, hs.length);
    const g = hs[k].grid;
    return g ? { k, c: clamp(at.c, g.cols), r: clamp(at.r, g.rows) } : { k, c: 0, r: 0 };
  };
  /** Where key `key` moves the focus from `a` (null: not a key of the figure). */
  function move(hs, a, key) {
    if (!a) {
      if (!/^(Arrow|Home|End)/.test(key)) return null;
      return start() || { k: key === 'End' ? hs.length - 1 : 0, c: 0, r: 0 };
    }
    const { k, c, r } = a;
    const g = hs[k].grid;
    const page = { PageUp: -1, PageDown: 1 }[key];
    if (page) return g && keyed ? { k: clamp(k + page, hs.length), c, r } : null;
    if (g) {
      const to = { ArrowRight: [c + 1, r], ArrowLeft: [c - 1, r], ArrowDown: [c, r + 1], ArrowUp: [c, r - 1],
        Home: [0, r], End: [g.cols - 1, r] }[key];
      return to && { k, c: clamp(to[0], g.cols), r: clamp(to[1], g.rows) };
    }
    const to = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: hs.length - 1, ArrowDown: vertical(hs, k, 1),
      ArrowUp: vertical(hs, k, -1) }[key];
    return to === undefined ? null : { k: clamp(to, hs.length), c: 0, r: 0 };
  }

  box.addEventListener('keydown', (ev) => {
    const hs = hits();
    if (!hs.length || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const a = valid(hs);
    if (ev.key === 'Enter' || ev.key === ' ') {
      if (a) {
        const cell = cellOf(hs[a.k], a.c, a.r);
        pick(hs[a.k], cell.x, cell.y);
      }
    } else if (ev.key === 'Escape') {
      hide();
      return; // not taken: presentation mode leaves on Escape
    } else {
      const next = move(hs, a, ev.key);
      if (!next) return;
      at = next;
      keyed = true;
      render();
      const cell = cellOf(hs[at.k], at.c, at.r);
      spoken.textContent = show(hs[at.k], cell.x, cell.y);
    }
    // The page's own keys (the timeline's arrows, presentation mode's) do not move while the figure has them.
    ev.preventDefault();
    ev.stopPropagation();
  });
  box.addEventListener('blur', () => {
    hide();
    if (keyed) render();
  });

  return {
    spoken,
    focused() {
      const hs = hits();
      const a = keyed && document.activeElement === box && hs.length ? valid(hs) : null;
      return a && { ...a, box: cellOf(hs[a.k], a.c, a.r) };
    },
    clicked(hit, x, y) {
      const k = hits().indexOf(hit);
      const [c, r] = cellAt(hit, x, y);
      if (k >= 0) at = { k, c, r };
    },
    pointed() {
      if (keyed) { keyed = false; render(); }
    },
  };
}
