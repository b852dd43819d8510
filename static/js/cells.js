// The cells of the heatmaps (heatmaps.js): one canvas per subplot holding one pixel per cell, which the figure
// (heatscene.js) stretches without smoothing onto its plot areas. Why: Plotly's heatmap path (a d3 colour per
// cell, then a PNG per trace) was most of each keystroke's redraw; a 256-colour lookup into ImageData takes a few
// ms, and a keystroke paints only its new column. The canvases are sources, never shown themselves.
// Every function takes the subplots' rows [{name, z (rows of length T), y, colorscale, zmin, zmax}].

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
    host.replaceChildren(...data.map(() => document.createElement('canvas')));
  }
  data.forEach((d, k) => {
    const canvas = host.children[k];
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

/** Colour scale `scale` as a 1 x 256 canvas, its top row the scale's top: a colour bar's ramp, stretched. */
export function ramp(scale) {
  if (!RAMPS.has(scale)) {
    const c = Object.assign(document.createElement('canvas'), { width: 1, height: 256 });
    const g = c.getContext('2d');
    const img = g.createImageData(1, 256);
    new Uint32Array(img.data.buffer).set(lutOf(scale).slice().reverse());
    g.putImageData(img, 0, 0);
    RAMPS.set(scale, c);
  }
  return RAMPS.get(scale);
}
const RAMPS = new Map();
