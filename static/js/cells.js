// The cells of the heatmaps (heatmaps.js), painted on one canvas per subplot under the Plotly figure, and
// their colour bars as HTML beside it. Why: Plotly's heatmap path (a d3 colour per cell, then a PNG per
// trace) and its colour bars were most of each keystroke's redraw; a 256-colour lookup into ImageData and
// a canvas stretched by CSS (one pixel per cell, `image-rendering: pixelated`) take a few ms.
// Every function takes the Plotly-shaped traces [{name, z (rows of length T), y, colorscale, zmin, zmax}].

import { fmt } from './format.js';

/** Plotly's axis names: axis(0, 'xaxis') = 'xaxis', axis(2, 'y') = 'y3'. */
export const axis = (k, name) => (k ? `${name}${k + 1}` : name);

const hex = (c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16));

/** 256 colours of a Plotly colour scale [[x, '#rrggbb'], ...], as little-endian RGBA words for ImageData.
 * Linear in RGB between stops, as Plotly interpolates. */
function lookup(scale) {
  const lut = new Uint32Array(256);
  for (let j = 0; j < 256; j++) {
    const x = j / 255;
    let k = 0;
    while (k < scale.length - 2 && scale[k + 1][0] < x) k++;
    const [x0, c0] = scale[k];
    const [x1, c1] = scale[k + 1];
    const w = (x - x0) / (x1 - x0 || 1);
    const b1 = hex(c1);
    const [r, g, b] = hex(c0).map((u, i) => Math.round(u + (b1[i] - u) * w));
    lut[j] = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  }
  return lut;
}
const LUTS = new Map();
const lutOf = (scale) => LUTS.get(scale) || LUTS.set(scale, lookup(scale)).get(scale);

// Canvases are this many columns wider than the text, so that a keystroke (one more timestep) paints only its
// new column into the canvas there is; resizing a canvas clears it, which would mean painting every column again.
const SPARE = 128;

/** Paint each trace into its canvas in `host` (made on first use), one pixel per cell: (H, T) pixels of a canvas
 * at least T wide. `kept`: columns 0..kept-1 of every trace hold the values the canvases were last painted with
 * (the caller knows: the text grew at its end); a canvas whose colour scale or size moved is painted whole. */
export function paint(host, data, T, kept = 0) {
  if (host.children.length !== data.length) {
    host.replaceChildren(...data.map(() => {
      const clip = document.createElement('div'); // the subplot's plot area: clips a zoomed canvas
      clip.append(document.createElement('canvas'));
      return clip;
    }));
  }
  data.forEach((d, k) => {
    const canvas = host.children[k].firstChild;
    const H = d.z.length;
    const lut = lutOf(d.colorscale);
    const lo = d.zmin;
    const s = 255 / (d.zmax - d.zmin);
    const painted = PAINTED.get(canvas); // {lut, lo, s, T} of the last painting
    let from = painted && painted.lut === lut && painted.lo === lo && painted.s === s ? Math.min(kept, painted.T) : 0;
    if (canvas.height !== H || canvas.width < T || canvas.width > T + 4 * SPARE) {
      canvas.width = T + SPARE; // clears it
      canvas.height = H;
      from = 0;
    }
    const g = canvas.getContext('2d');
    if (painted && painted.T > T) g.clearRect(T, 0, painted.T - T, H); // a shorter text: its old end goes
    PAINTED.set(canvas, { lut, lo, s, T });
    if (from >= T) return;
    const W = T - from;
    const img = g.createImageData(W, H);
    const px = new Uint32Array(img.data.buffer); // (H, W) RGBA words
    for (let r = 0, p = 0; r < H; r++) {
      const row = d.z[r];
      for (let t = from; t < T; t++, p++) {
        const j = ((row[t] - lo) * s + 0.5) | 0; // the API never sends NaN or infinities (a 422 says why)
        px[p] = lut[j < 0 ? 0 : j > 255 ? 255 : j];
      }
    }
    g.putImageData(img, from, 0);
  });
}
const PAINTED = new WeakMap();

/** Put each canvas over its subplot for the axes' current ranges: zooming only moves and stretches it. */
export function place(host, gd, data) {
  const L = gd._fullLayout;
  if (!L) return;
  [...host.children].forEach((clip, k) => {
    const xa = L[axis(k, 'xaxis')];
    const ya = L[axis(k, 'yaxis')];
    Object.assign(clip.style, { left: `${xa._offset}px`, top: `${ya._offset}px`, width: `${xa._length}px`,
      height: `${ya._length}px` });
    const x0 = xa.l2p(-0.5);
    const x1 = xa.l2p(clip.firstChild.width - 0.5); // the spare columns beyond T lie outside the plot area
    const y0 = ya.l2p(-0.5);
    const y1 = ya.l2p(data[k].z.length - 0.5);
    Object.assign(clip.firstChild.style, { left: `${Math.min(x0, x1)}px`, top: `${Math.min(y0, y1)}px`,
      width: `${Math.abs(x1 - x0)}px`, height: `${Math.abs(y1 - y0)}px` });
  });
}

/** The cell under mouse event `ev`: {k, t, r, x, y} (subplot, time, row, px in gd), or null off every plot area. */
export function cellAt(gd, ev, data, T) {
  const L = gd._fullLayout;
  if (!L) return null;
  const box = gd.getBoundingClientRect();
  const x = ev.clientX - box.left;
  const y = ev.clientY - box.top;
  for (let k = 0; k < data.length; k++) {
    const xa = L[axis(k, 'xaxis')];
    const ya = L[axis(k, 'yaxis')];
    if (x < xa._offset || x > xa._offset + xa._length || y < ya._offset || y > ya._offset + ya._length) continue;
    const t = Math.round(xa.p2l(x - xa._offset));
    const r = Math.round(ya.p2l(y - ya._offset));
    if (t >= 0 && t < T && r >= 0 && r < data[k].z.length) return { k, t, r, x, y };
  }
  return null;
}

const gradient = (scale) => `linear-gradient(to top, ${scale.map(([x, c]) => `${c} ${(x * 100).toFixed(1)}%`).join(', ')})`;

/** One colour bar per trace in `host`, `top(k)` px down and `height` px tall: the gradient, five values and
 * the trace's colorbar title. */
export function colourBars(host, data, top, height) {
  host.replaceChildren(...data.map((d, k) => {
    const bar = document.createElement('div');
    bar.className = 'colour-scale';
    bar.style.top = `${top(k)}px`;
    bar.style.height = `${height}px`;
    const ramp = document.createElement('div');
    ramp.className = 'ramp';
    ramp.style.background = gradient(d.colorscale);
    const ticks = [1, 0.75, 0.5, 0.25, 0].map((x) => {
      const tick = document.createElement('span');
      tick.style.top = `${(1 - x) * 100}%`;
      tick.textContent = fmt(d.zmin + x * (d.zmax - d.zmin), 2);
      return tick;
    });
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = d.colorbar.title.text;
    bar.append(ramp, ...ticks, title);
    return bar;
  }));
}
