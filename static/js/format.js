// Shared helpers for the views: quantity names, safe token labels, colour scales, number formatting.
// Nothing here touches the DOM or the network.

import { t } from './i18n.js';

export const QUANTITIES = ['i', 'f', 'g', 'o', 'c', 'h'];

/** "forget gate f", in the page's language. */
export const quantityName = (q) => t(`quantity.${q}`);
export const isGate = (q) => q === 'i' || q === 'f' || q === 'o';

// Okabe-Ito: a palette that stays distinct for the common colour-vision deficiencies.
export const LINE_COLOURS = { i: '#0072B2', f: '#D55E00', g: '#009E73', o: '#CC79A7', c: '#000000', h: '#E69F00' };
export const LAYER_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

// Viridis (gates, 0..1) and ColorBrewer RdBu reversed so negative is blue, positive red (g, c, h).
// Both are colour-blind safe; the same stops feed Plotly and the char-by-char text colouring.
const VIRIDIS = ['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70',
  '#7ad151', '#bddf26', '#fde725'];
const RDBU = ['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d',
  '#b2182b', '#67001f'];
const toScale = (stops) => stops.map((c, k) => [k / (stops.length - 1), c]);
export const SEQUENTIAL = toScale(VIRIDIS);
export const DIVERGING = toScale(RDBU);

/** Plotly colour settings for quantity q: gates on a fixed 0..1 scale, the rest symmetric around 0. */
export function colourRange(q, maxAbs) {
  if (isGate(q)) return { colorscale: SEQUENTIAL, zmin: 0, zmax: 1 };
  // g and h are tanh-bounded, so a fixed +-1 keeps colours comparable between texts; c is unbounded.
  const m = q === 'c' || maxAbs > 1 ? Math.max(maxAbs, 1e-6) : 1;
  return { colorscale: DIVERGING, zmin: -m, zmax: m, zmid: 0 };
}

const hex = (c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16));

/** CSS colour of value v on quantity q's scale, and a readable text colour on top of it. */
export function colourOf(q, v, maxAbs) {
  if (!Number.isFinite(v)) return { bg: '#ddd', fg: '#000' };
  const { colorscale, zmin, zmax } = colourRange(q, maxAbs);
  const x = Math.min(1, Math.max(0, (v - zmin) / (zmax - zmin || 1)));
  const pos = x * (colorscale.length - 1);
  const k = Math.min(colorscale.length - 2, Math.floor(pos));
  const a = hex(colorscale[k][1]);
  const b = hex(colorscale[k + 1][1]);
  const rgb = a.map((u, j) => Math.round(u + (b[j] - u) * (pos - k)));
  const lum = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
  return { bg: `rgb(${rgb.join(',')})`, fg: lum > 0.5 ? '#000' : '#fff' };
}

/** The token as a person should see it: whitespace and control characters made visible. */
export function visible(tok) {
  return tok
    .replace(/ /g, '␣')
    .replace(/\n/g, '⏎')
    .replace(/\t/g, '⇥')
    .replace(/\r/g, '␍')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '·');
}

/** A head's label as a person should see it: an empty name (a diacritizer's "no mark") as ∅, a label that
 * starts with a combining mark (a diacritic) on a dotted circle, as type specimens show one. */
export function labelText(label) {
  if (label === '') return '∅';
  return /^\p{M}/u.test(label) ? `◌${label}` : visible(label);
}

/** Plotly renders a subset of HTML in labels and hovers, so tokens are escaped before they reach it. */
export function plotLabel(tok) {
  return visible(tok).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Numbers for people: 4 decimals, true minus sign, scientific only when tiny or huge. */
export function fmt(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  const a = Math.abs(x);
  const s = a !== 0 && (a < 10 ** -digits || a >= 1e5) ? x.toExponential(2) : x.toFixed(digits);
  return s.replace(/-/g, '−');
}

/** Every k-th tick so labels of about `px` pixels do not collide on a plot `width` pixels wide. */
export function tickStride(n, width, px) {
  return Math.max(1, Math.ceil(n / Math.max(1, Math.floor(width / px))));
}

/** The sentence a view shows when its time axis labels only every k-th token (null when k is 1). */
export function thinNote(k) {
  return k > 1 ? t('note.thin', { k }) : null;
}

/** True when the shown direction reads right to left: the backward half of a bidirectional layer, or a
 * reverse-only LSTM (ONNX direction="reverse"), whose one direction is index 0. */
export const isBackward = (ctx) => ctx.state.direction === 1 || Boolean(ctx.info && ctx.info.reverse);

/** Token ticks: every k-th of `labels` so that they do not collide on `width` px. */
export function tokenTicks(labels, width) {
  const k = tickStride(labels.length, width, 16);
  const tickvals = [];
  for (let s = 0; s < labels.length; s += k) tickvals.push(s);
  return { tickmode: 'array', tickvals, ticktext: tickvals.map((s) => labels[s]), tickangle: 0 };
}

/** `s` broken into lines of about `chars` characters (at spaces; text without spaces, such as Chinese, anywhere),
 * so that a row's title fits a phone's width; Plotly annotations do not wrap by themselves. */
export function wrap(s, chars) {
  const lines = [];
  let line = '';
  for (const word of s.includes(' ') ? s.split(' ') : Array.from(s)) {
    const next = line ? (s.includes(' ') ? `${line} ${word}` : line + word) : word;
    if (line && next.length > chars) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  return [...lines, line].join('<br>');
}
