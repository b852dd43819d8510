// One LSTM step explained for the chosen unit and timestep: a cell diagram and five equations with the
// real numbers from POST /api/step, in PyTorch's notation. Built from DOM nodes: no HTML strings.

import { fmt, isBackward, visible } from './format.js';
import { t as tr } from './i18n.js';
import { drawCell } from './stepdiagram.js';
import { save } from './svgsave.js';
import { any } from './view.js';

/** el('span', {class: 'x'}, 'text', child, ...) with text always set as text nodes. */
function el(tag, attrs, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const kid of kids) node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return node;
}

const sym = (base, sub) => el('span', { class: 'sym' }, base, el('sub', {}, sub));
const num = (x, q) => el('span', q ? { class: 'num', 'data-q': q } : { class: 'num' }, fmt(x));
const ACT = { sigmoid: 'σ', tanh: 'tanh', hard_sigmoid: 'hard σ' };
const act = (name) => ACT[name] || name;

/** "g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg) = tanh(a + b + c + d) = tanh(pre) = value" */
function gateLine(q, term, fn, prev) {
  const parts = [
    sym(q, 't'), ' = ', `${fn}(`, sym('W', `i${q}`), ' ', sym('x', 't'), ' + ', sym('b', `i${q}`), ' + ',
    sym('W', `h${q}`), ' ', sym('h', prev), ' + ', sym('b', `h${q}`),
  ];
  const nums = [num(term.W_x), ' + ', num(term.b_ih), ' + ', num(term.W_h), ' + ', num(term.b_hh)];
  if (term.peephole !== null && term.peephole !== undefined) {
    parts.push(' + ', sym('p', q), ' ⊙ ', sym('c', prev));
    nums.push(' + ', num(term.peephole));
  }
  return el('div', { class: 'eq' }, ...parts, ')', el('br', {}), ' = ', `${fn}(`, ...nums, ')',
    ' = ', `${fn}(`, num(term.pre), ') = ', el('strong', {}, num(term.value)));
}

function card(n, title, ...body) {
  return el('li', { class: 'step-card', id: `step-${n}` }, el('h4', {}, title), ...body);
}

function explain(s, prev, info) {
  const sig = act(s.activations.recurrent);
  const tanh = act(s.activations.cell);
  const outAct = act(s.activations.hidden);
  const T = s.terms;
  const fc = T.f.value * s.c_prev;
  const ig = T.i.value * T.g.value;
  return [
    card('cell', tr('step.card.cell'),
      el('div', { class: 'eq' }, sym('c', prev), ' = ', num(s.c_prev, 'c_prev'), el('br', {}), sym('h', prev),
        ` ${tr('step.this_unit')} = `, num(s.h_prev_unit)),
      el('p', {}, prev === 't−1' && s.t === 0 ? tr('step.first_step') : tr('step.cell_line'))),
    card('forget', tr('step.card.forget'), gateLine('f', T.f, sig, prev)),
    card('input', tr('step.card.input'), gateLine('i', T.i, sig, prev), gateLine('g', T.g, tanh, prev)),
    card('update', tr('step.card.update'),
      el('div', { class: 'eq', id: 'step-update-eq' },
        sym('c', 't'), ' = ', sym('f', 't'), ' · ', sym('c', prev), ' + ', sym('i', 't'), ' · ', sym('g', 't'),
        el('br', {}), ' = ', num(T.f.value, 'f'), ' × ', num(s.c_prev, 'c_prev'), ' + ', num(T.i.value, 'i'),
        ' × ', num(T.g.value, 'g'), el('br', {}), ' = ', num(fc), ' + ', num(ig), ' = ',
        el('strong', {}, num(s.c, 'c')))),
    card('output', tr('step.card.output'),
      gateLine('o', T.o, sig, prev),
      el('div', { class: 'eq', id: 'step-output-eq' }, sym('h', 't'), ' = ', sym('o', 't'), ` · ${outAct}(`,
        sym('c', 't'), ') = ', num(T.o.value, 'o'), ` × ${outAct}(`, num(s.c), ') = ', num(T.o.value), ' × ',
        num(s.tanh_c, 'tanh_c'), ' = ', el('strong', {}, num(s.h, 'h'))),
      s.projected ? el('p', { class: 'note' }, tr('step.projected', { size: info.proj_size })) : ''),
  ];
}

/** The kinds of change this view draws (view.js): the scheduler tells it of no other. */
export const draws = Object.freeze(['data', 'layer', 'unit', 'time', 'step']);

export function create(root) {
  const heading = el('h3', { id: 'step-heading' });
  const status = el('p', { class: 'note', id: 'step-status' });
  const svgBox = el('div', { class: 'step-diagram', id: 'step-diagram' });
  const cards = el('ol', { class: 'step-cards', id: 'step-cards' });
  const saves = el('div', { class: 'figure-saves' }, ...['png', 'svg'].map((format) => {
    const b = el('button', { type: 'button', 'data-i18n': `step.save_${format}` }, tr(`step.save_${format}`));
    b.addEventListener('click', () => {
      const svg = svgBox.querySelector('svg');
      if (svg) save(svg, 'step-diagram', format);
    });
    return b;
  }));
  root.replaceChildren(heading, status, el('div', { class: 'step-grid' }, el('div', {}, svgBox, saves), cards));

  return {
    /** ctx.step is the /api/step answer for ctx.state (null while it is on its way, or an error sentence). */
    update(ctx, changed) {
      if (!any(changed, ...draws)) return;
      const { unit, t, layer } = ctx.state;
      const back = isBackward(ctx);
      const prev = back ? 't+1' : 't−1';
      heading.textContent = tr('step.heading', { unit, t, layer, token: visible(ctx.trace.tokens[t] ?? ''),
        direction: back ? tr('step.backward') : tr('direction.forward') });
      const s = ctx.step;
      const ready = s && typeof s !== 'string';
      root.classList.toggle('stale', !ready); // the numbers shown belong to another step until the answer comes
      if (!ready) {
        status.textContent = s || tr('step.computing');
        return;
      }
      status.textContent = '';
      cards.replaceChildren(...explain(s, prev, ctx.info));
      svgBox.replaceChildren(drawCell(s, prev));
    },
  };
}
