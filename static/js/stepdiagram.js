// The LSTM cell as an SVG diagram (after Olah's "Understanding LSTM Networks"), labelled with the numbers
// of one step for one unit. Every label is set with textContent.

import { fmt } from './format.js';
import { t } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';

function node(tag, attrs, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

const wire = (d, cls = 'wire') => node('path', { d, class: cls, 'marker-end': 'url(#arrow)' });
const label = (x, y, text, cls = 'lbl', anchor = 'middle') => node('text', { x, y, class: cls, 'text-anchor': anchor },
  text);

function op(x, y, symbol) {
  const g = node('g', { class: 'op' });
  g.append(node('circle', { cx: x, cy: y, r: 16 }), label(x, y + 7, symbol, 'op-sym'));
  return g;
}

function gate(x, y, name, fn, value) {
  const g = node('g', { class: `gate gate-${name}` });
  g.append(node('rect', { x: x - 48, y: y - 32, width: 96, height: 64, rx: 8 }),
    label(x, y - 6, `${name}: ${fn}`, 'gate-fn'), label(x, y + 22, fmt(value, 3), 'val'));
  return g;
}

/** The diagram for step answer `s`; `prev` is 't−1' (forward) or 't+1' (backward). */
export function drawCell(s, prev) {
  const svg = node('svg', { viewBox: '0 0 900 380', role: 'img', class: 'cell-svg' });
  svg.append(node('title', {}, t('step.diagram', { unit: s.unit, t: s.t })));
  const defs = node('defs', {});
  const marker = node('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 12,
    markerHeight: 12, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' });
  marker.append(node('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
  defs.append(marker);
  svg.append(defs);
  const sig = s.activations.recurrent === 'sigmoid' ? 'σ' : s.activations.recurrent;
  const T = s.terms;
  const before = prev === 't+1' ? '(t+1)' : '(t−1)';
  svg.append(
    // The cell line along the top: c_{t-1} -> x f -> + i*g -> c_t.
    wire('M110,60 L212,60', 'wire cell'), wire('M248,60 L412,60', 'wire cell'), wire('M448,60 L780,60', 'wire cell'),
    label(20, 52, `c${before}`, 'lbl', 'start'), label(20, 84, fmt(s.c_prev, 3), 'val', 'start'),
    label(790, 52, 'c(t)', 'lbl', 'start'), label(790, 84, fmt(s.c, 3), 'val strong', 'start'),
    label(330, 46, `f·c = ${fmt(T.f.value * s.c_prev, 3)}`, 'val small'),
    // h_{t-1} and x_t along the bottom, branching up into the four gates.
    wire('M110,330 L610,330', 'wire in'), label(20, 365, `h${before}, x(t)`, 'lbl', 'start'),
    wire('M230,330 L230,264'), wire('M360,330 L360,264'), wire('M480,330 L480,264'), wire('M610,330 L610,264'),
    // Gates into the cell line: f multiplies it, i*g is added to it.
    wire('M230,198 L230,78'), wire('M360,198 L360,150 L412,150'), wire('M480,198 L480,150 L448,150'),
    wire('M430,132 L430,78'), label(446, 112, `i·g = ${fmt(T.i.value * T.g.value, 3)}`, 'val small', 'start'),
    // The output: tanh of the new cell, times o, is h.
    wire('M700,60 L700,126'), wire('M700,172 L700,212'), wire('M658,230 L682,230'), wire('M718,230 L780,230'),
    gate(230, 230, 'f', sig, T.f.value), gate(360, 230, 'i', sig, T.i.value),
    gate(480, 230, 'g', s.activations.cell, T.g.value), gate(610, 230, 'o', sig, T.o.value),
    op(230, 60, '×'), op(430, 60, '+'), op(430, 150, '×'), op(700, 230, '×'),
    node('ellipse', { cx: 700, cy: 150, rx: 36, ry: 22, class: 'tanh' }),
    label(700, 157, s.activations.hidden, 'gate-fn'), label(744, 157, fmt(s.tanh_c, 3), 'val', 'start'),
    label(790, 222, 'h(t)', 'lbl', 'start'), label(790, 254, fmt(s.h, 3), 'val strong', 'start'),
  );
  return svg;
}
