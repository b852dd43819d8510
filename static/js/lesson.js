// The guided lesson: a panel that walks a class through the current sentence in seven steps, after the
// student's notes: the example, the cell state (a conveyor belt of memory), the forget gate, the input gate
// and the new candidate, the cell update, the output gate, and the prediction. Each step moves the page to
// its timestep and unit (lessonplan.js finds them in the trace), highlights the view it talks about, and
// quotes the real numbers: from the trace, and from /api/step for the equation in the notes' notation.
// Every number is a .lesson-num whose data-* say where it comes from, so a test can check it.

import { fmt, visible } from './format.js';
import { parts, t as tr } from './i18n.js';
import { forText, meanElsewhere, plan, SECTIONS, stats, STEPS, TARGETS, top } from './lessonplan.js';
import { emit } from './plot.js';
import { stage } from './present.js';
import { oneAtATime } from './tabs.js';
import { any } from './view.js';

function el(tag, cls, ...kids) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  node.append(...kids.filter((k) => k !== null && k !== undefined));
  return node;
}

/** A quoted number; `src` (data-*) names its source: trace, agg (min/max/mean over a range), step, lesson, top. */
function num(x, src) {
  const s = el('span', 'lesson-num', fmt(x, 3));
  for (const [k, v] of Object.entries(src)) s.dataset[k] = String(v);
  return s;
}

const sym = (base, sub) => el('span', 'sym', base, sub ? el('sub', null, sub) : null);
const W = (g) => [sym('W', g), '·[', sym('h', 't−1'), ', ', sym('x', 't'), '] + ', sym('b', g)];
const GATE = { f: ['f', 'σ', 'f'], i: ['i', 'σ', 'i'], g: ['c̃', 'tanh', 'c'], o: ['o', 'σ', 'o'] };

/** "f_t = σ(W_f·[h_{t−1}, x_t] + b_f) = σ(pre) = value", numbers from the /api/step answer s. */
function gateEq(q, s) {
  const [name, fn, w] = GATE[q];
  return el('div', 'eq', sym(name, 't'), ` = ${fn}(`, ...W(w), `) = ${fn}(`,
    num(s.terms[q].pre, { src: 'step', field: `${q}.pre` }), ') = ',
    el('strong', null, num(s.terms[q].value, { src: 'step', field: `${q}.value` })));
}

/** The equation lines of each step, in the notes' notation (σ, tanh, ⊙, W·[h, x] + b). */
const EQUATIONS = {
  forget: (s) => [gateEq('f', s)],
  input: (s) => [gateEq('i', s), gateEq('g', s)],
  update: (s) => [el('div', 'eq', sym('c', 't'), ' = ', sym('f', 't'), ' ⊙ ', sym('c', 't−1'), ' + ', sym('i', 't'),
    ' ⊙ ', sym('c̃', 't'), ' = ', num(s.terms.f.value, { src: 'step', field: 'f.value' }), ' × ',
    num(s.c_prev, { src: 'step', field: 'c_prev' }), ' + ', num(s.terms.i.value, { src: 'step', field: 'i.value' }),
    ' × ', num(s.terms.g.value, { src: 'step', field: 'g.value' }), ' = ',
    el('strong', null, num(s.c, { src: 'step', field: 'c' })))],
  output: (s) => [gateEq('o', s), el('div', 'eq', sym('h', 't'), ' = ', sym('o', 't'), ' ⊙ tanh(', sym('c', 't'),
    ') = ', num(s.terms.o.value, { src: 'step', field: 'o.value' }), ' × tanh(', num(s.c, { src: 'step', field: 'c' }),
    ') = ', el('strong', null, num(s.h, { src: 'step', field: 'h' })))],
};

/** The paragraphs of step `name` for lesson `L` on context `ctx`, plan `p`. */
function body(name, ctx, L, p) {
  const u = L.unit;
  const at = (q, t) => num(p.value(q, t), { src: 'trace', q, t, unit: u });
  const tok = (t) => visible(ctx.trace.tokens[t] ?? '');
  const para = (key, params) => el('p', null, ...parts(key, params));
  const t = ctx.state.t;
  if (name === 'example') {
    const evidence = { unit: u, value: num(L.value, { src: 'lesson', field: 'value' }),
      others: num(L.others, { src: 'lesson', field: 'others' }), examples: L.examples, units: L.units.join(', ') };
    return [para('lesson.step.example.body', { text: ctx.text, unit: u }), para(`lesson.${L.id}.story`, {}),
      para(`lesson.${L.id}.why`, evidence)];
  }
  if (name === 'cell') {
    return [para('lesson.step.cell.body', { unit: u, c_write: at('c', p.write), tok_write: tok(p.write),
      t_write: p.write, c_end: at('c', p.end), tok_end: tok(p.end), t_end: p.end })];
  }
  if (name === 'forget') {
    const hint = para(`lesson.${L.id}.hold`, {}); // how to make the memory travel further
    if (!p.hold) return [para('lesson.step.forget.short', { unit: u, tok: tok(t), t, f: at('f', t) }), hint];
    const f = stats(p, 'f', ...p.hold);
    const agg = (k) => num(f[k], { src: 'agg', agg: k, q: 'f', from: p.hold[0], to: p.hold[1], unit: u });
    return [para('lesson.step.forget.body', { unit: u, tok_from: tok(p.hold[0]), tok_to: tok(p.hold[1]),
      f_min: agg('min'), f_max: agg('max'), f_mean: agg('mean'), tok: tok(p.low), t: p.low }), hint];
  }
  if (name === 'input') {
    const [from, to] = p.place || [p.write, p.write];
    const elsewhere = (q, a, b) => num(meanElsewhere(p, q, a, b), { src: 'agg', agg: 'mean-except', q, from: a, to: b,
      unit: u });
    const params = { unit: u, tok: tok(p.write), t: p.write, i: at('i', p.write), g: at('g', p.write),
      i_mean: elsewhere('i', from, to) };
    if (p.place) {
      const gates = [];
      for (let k = from; k <= to; k++) gates.push(...(k > from ? [', '] : []), at('i', k));
      const place = ctx.trace.tokens.slice(from, to + 1).map(visible).join('');
      return [para('lesson.step.input.body_place', { ...params, place, i_place: el('span', null, ...gates) })];
    }
    return [para(L.write === 'first' ? 'lesson.step.input.body_first' : 'lesson.step.input.body', params)];
  }
  if (name === 'update') {
    return [para('lesson.step.update.body', { unit: u, tok: tok(p.write), t: p.write,
      c_prev: p.write > 0 ? at('c', p.write - 1) : num(0, { src: 'zero' }), c: at('c', p.write) })];
  }
  if (name === 'output') {
    const mean = meanElsewhere(p, 'o', p.end);
    return [para('lesson.step.output.body', { unit: u, tok: tok(p.end), t: p.end, o: at('o', p.end),
      o_mean: mean === null ? '–' : num(mean, { src: 'agg', agg: 'mean-except', q: 'o', from: p.end, to: p.end,
        unit: u }),
      h: at('h', p.end) })];
  }
  const best = top(ctx, p.end);
  if (!best.length) return [para('predictions.none', {})];
  const pick = (r) => ({ token: visible(best[r]?.token ?? ''), p: best[r] ? num(best[r].p, { src: 'top', t: p.end,
    rank: r }) : '–' });
  const [a, b, c] = [pick(0), pick(1), pick(2)];
  const out = [para('lesson.step.prediction.body', { tok: tok(p.end), top: a.token, p: a.p, second: b.token, p2: b.p,
    third: c.token, p3: c.p }), para(`lesson.${L.id}.answer`, { first: visible(ctx.text.slice(0, 1)) })];
  const e = L.effects;
  if (e && e.none && e.erase) {
    out.push(para('lesson.step.prediction.effects', { none: num(e.none.accuracy, { src: 'lesson', field: 'effects.none' }),
      erase: num(e.erase.accuracy, { src: 'lesson', field: 'effects.erase' }) }));
  }
  return out;
}

/** Scroll `target` to just under the sticky header (its height varies with the window's width). */
function scrollTo(target) {
  if (!target) return;
  const header = document.querySelector('.sticky');
  const below = header && getComputedStyle(header).position === 'sticky' ? header.offsetHeight : 0;
  window.scrollTo({ top: Math.max(0, target.getBoundingClientRect().top + window.scrollY - below - 12) });
}

/** Bring `find()` (the element a step talks about) into view, and keep it there while the views are still drawn
 * (the ones off screen draw when the browser is idle: the page grows above it, and the element itself may not
 * exist yet) for up to `ms`, until the reader scrolls by hand. Returns a function that stops following. */
function bringIntoView(find, ms = 4000) {
  scrollTo(find());
  const follow = new ResizeObserver(() => scrollTo(find()));
  const hands = ['wheel', 'touchstart', 'keydown', 'mousedown'];
  const stop = () => {
    follow.disconnect();
    clearTimeout(timer);
    for (const ev of hands) window.removeEventListener(ev, stop, true);
  };
  const timer = setTimeout(stop, ms);
  follow.observe(document.querySelector('main') || document.body);
  for (const ev of hands) window.addEventListener(ev, stop, true);
  return stop;
}

export function create(root) {
  const name = el('span', 'lesson-name');
  const count = el('span', 'lesson-count');
  const close = el('button', 'lesson-close', '×');
  close.type = 'button';
  const title = el('h2', 'lesson-title');
  const text = el('div', 'lesson-body');
  const eqs = el('div', 'lesson-eqs');
  const prev = el('button', 'lesson-prev', tr('lesson.prev'));
  const next = el('button', 'lesson-next', tr('lesson.next'));
  for (const b of [prev, next]) b.type = 'button';
  root.replaceChildren(el('header', 'lesson-head', name, count, close), title, text, eqs,
    el('nav', 'lesson-nav', prev, next));
  let shownStep = null; // the step last scrolled to, so only a new step moves the page
  let unfollow = () => {}; // stops keeping the last step's view in sight
  let current = null;
  prev.addEventListener('click', () => current && emit({ step: current.step - 1 }));
  next.addEventListener('click', () => current && emit({ step: current.step + 1 }));
  close.addEventListener('click', () => emit({ lesson: null }));

  return {
    update(ctx, changed) {
      current = ctx.lesson;
      root.hidden = !current;
      document.body.classList.toggle('in-lesson', Boolean(current));
      if (!current) {
        delete document.body.dataset.lessonStep;
        shownStep = null;
        unfollow();
        return;
      }
      const L = forText(ctx, current.info);
      const step = STEPS[current.step];
      const p = plan(ctx, L);
      const where = { unit: L.unit, t: p.focus[step], layer: 0 };
      if (any(changed, 'lesson', 'data') && (ctx.state.unit !== where.unit || ctx.state.t !== where.t
        || ctx.state.layer !== 0 || ctx.state.direction !== 0)) {
        emit(where); // the page moves there; this view is called again with the new time and unit
        return;
      }
      document.body.dataset.lessonStep = step;
      stage(SECTIONS[step]); // in presentation mode, the one view shown
      name.textContent = tr(`lesson.${L.id}.name`);
      count.textContent = tr('lesson.count', { n: current.step + 1, total: STEPS.length });
      title.textContent = tr(`lesson.step.${step}.title`);
      prev.textContent = tr('lesson.prev');
      next.textContent = tr('lesson.next');
      close.title = tr('lesson.close');
      close.setAttribute('aria-label', tr('lesson.close'));
      prev.disabled = current.step === 0;
      next.disabled = current.step === STEPS.length - 1;
      text.replaceChildren(...body(step, ctx, L, p));
      const s = ctx.step;
      const ready = s && typeof s !== 'string' && s.t === ctx.state.t && s.unit === ctx.state.unit;
      eqs.replaceChildren(...(EQUATIONS[step] ? (ready ? EQUATIONS[step](s) : [el('p', 'note', tr('step.computing'))])
        : []));
      if (shownStep !== `${L.id}:${step}`) {
        shownStep = `${L.id}:${step}`;
        // On a phone, the tab of the view the step talks about (the example's text box is always there).
        if (oneAtATime() && SECTIONS[step] !== 'sec-input') emit({ tab: SECTIONS[step].slice(4) });
        unfollow();
        const sought = () => document.querySelector(TARGETS[step]) || document.getElementById(SECTIONS[step]);
        unfollow = bringIntoView(sought);
      }
    },
  };
}
