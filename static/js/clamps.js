// The clamp editor of the comparison panel: hold the chosen unit's i, f, g, o, c or h at a value, at this step,
// at listed steps or at every step, and list the clamps in force. It edits a copy of state.clamps and hands the
// new list to `onChange`; main.js owns the state.

import { QUANTITIES, quantityName } from './format.js';
import { el, text } from './dom.js';
import { t } from './i18n.js';

/** "3, 5-7" -> [3, 5, 6, 7]; null when the text is not a list of steps. */
export function parseSteps(s) {
  const out = new Set();
  for (const part of s.split(/[\s,，]+/).filter(Boolean)) {
    const m = /^(\d+)(?:[-–](\d+))?$/.exec(part);
    if (!m || (m[2] !== undefined && +m[2] < +m[1]) || (m[2] ?? m[1]) - m[1] > 100000) return null;
    for (let k = +m[1]; k <= +(m[2] ?? m[1]); k++) out.add(k);
  }
  return out.size ? [...out].sort((a, b) => a - b) : null;
}

/** One clamp in words: "f of unit 3 (layer 0, forward) = 0 at t = 5". */
export function describe(c) {
  const where = c.positions === null ? t('clamp.everywhere')
    : t('clamp.at_steps', { steps: c.positions.length > 6 ? `${c.positions.slice(0, 6).join(', ')}, …`
      : c.positions.join(', '), count: c.positions.length });
  return t('clamp.item', { quantity: c.quantity, unit: c.unit, layer: c.layer,
    direction: t(c.direction ? 'direction.backward' : 'direction.forward'), value: String(+c.value.toPrecision(4)),
    where });
}

/** Build the editor in `root`. state: main.js's state (read); onChange(clamps) with the new list. */
export function create(root, state, onChange) {
  const quantity = el('select', { id: 'clamp-quantity' });
  const value = el('input', { id: 'clamp-value', type: 'number', step: 'any', value: '0' });
  const where = el('select', { id: 'clamp-where' });
  const steps = el('input', { id: 'clamp-steps', type: 'text', inputMode: 'numeric', hidden: true,
    placeholder: '3, 5-7' });
  const add = text('button', 'clamp.add', { type: 'button', id: 'clamp-add' });
  const target = el('span', { className: 'clamp-target' });
  const problem = el('p', { className: 'note error', hidden: true, role: 'alert' });
  const list = el('ul', { className: 'clamp-list', id: 'clamp-list' });
  const forget = text('button', 'clamp.preset_forget', { type: 'button', className: 'preset' });
  const silence = text('button', 'clamp.preset_silence', { type: 'button', className: 'preset' });

  function labels() { // relabelled on every show (language, step): the choices made stay
    const [q, w] = [quantity.value || 'f', where.value || 'here'];
    quantity.replaceChildren(...QUANTITIES.map((x) => el('option', { value: x, textContent: quantityName(x) })));
    where.replaceChildren(...['here', 'steps', 'all'].map((x) => el('option', { value: x,
      textContent: t(`clamp.where_${x}`, { t: state.t ?? 0 }) })));
    quantity.value = q;
    where.value = w;
  }
  labels();

  function push(c) {
    problem.hidden = true;
    onChange([...state.clamps.filter((d) => JSON.stringify({ ...d, value: 0 }) !== JSON.stringify({ ...c, value: 0 })),
      c]);
  }

  function fail(key) {
    problem.textContent = t(key);
    problem.hidden = false;
  }

  const here = () => ({ layer: state.layer, direction: state.direction, unit: state.unit });
  add.addEventListener('click', () => {
    const v = Number(value.value);
    if (value.value.trim() === '' || !Number.isFinite(v)) { fail('clamp.bad_value'); return; }
    let positions = [state.t ?? 0];
    if (where.value === 'all') positions = null;
    else if (where.value === 'steps') positions = parseSteps(steps.value);
    if (!positions && where.value === 'steps') { fail('clamp.bad_steps'); return; }
    push({ ...here(), quantity: quantity.value, value: v, positions });
  });
  forget.addEventListener('click', () => push({ ...here(), quantity: 'f', value: 0, positions: [state.t ?? 0] }));
  silence.addEventListener('click', () => push({ ...here(), quantity: 'h', value: 0, positions: null }));
  where.addEventListener('change', () => { steps.hidden = where.value !== 'steps'; });
  list.addEventListener('click', (ev) => {
    const k = ev.target.dataset && ev.target.dataset.remove;
    if (k !== undefined) onChange(state.clamps.filter((_, j) => j !== Number(k)));
  });

  root.replaceChildren(
    el('div', { className: 'clamp-row' }, text('span', 'clamp.hold'), quantity, target, text('span', 'clamp.to'), value,
      where, steps, add),
    el('div', { className: 'clamp-row' }, text('span', 'clamp.presets'), forget, silence),
    problem, list);

  return {
    /** Show the unit the next clamp applies to, and the clamps in force. */
    show() {
      labels();
      target.textContent = t('clamp.target', { unit: state.unit, layer: state.layer,
        direction: t(state.direction ? 'direction.backward' : 'direction.forward') });
      list.replaceChildren(...state.clamps.map((c, k) => {
        const remove = el('button', { type: 'button', className: 'remove', textContent: '×', title: t('clamp.remove') });
        remove.setAttribute('aria-label', t('clamp.remove'));
        remove.dataset.remove = String(k);
        return el('li', {}, el('span', { textContent: describe(c) }), remove);
      }));
      if (!state.clamps.length) list.append(text('li', 'clamp.none', { className: 'note' }));
    },
  };
}
