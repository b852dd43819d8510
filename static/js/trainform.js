// The training panel's form: the task, its configuration with the server's defaults and limits, Start.

import { el, text } from './dom.js';
import { t } from './i18n.js';

const FIELDS = [ // [name, catalog key, input attributes]
  ['layers', 'train.layers', { min: 1, step: 1 }],
  ['hidden', 'train.hidden', { min: 1, step: 1 }],
  ['steps', 'train.steps', { min: 1, step: 1 }],
  ['lr', 'train.lr', { min: 0.0001, max: 1, step: 'any' }],
  ['seed', 'train.seed', { min: 0, step: 1 }],
];
const LIMITED = { layers: 'layers', hidden: 'hidden', steps: 'steps' }; // field -> the server's limit

/** The form inside `root`; onStart(body) is called with the request for POST /api/train. */
export function create(root, onStart) {
  const task = el('select', { id: 'train-task' });
  const inputs = Object.fromEntries(FIELDS.map(([name, , attrs]) => [name,
    el('input', { type: 'number', id: `train-${name}`, required: true, ...attrs })]));
  const corpus = el('textarea', { id: 'train-text', rows: 4, spellcheck: false, hidden: true });
  corpus.dataset.i18nAttr = 'placeholder:train.text_placeholder';
  corpus.placeholder = t('train.text_placeholder');
  const go = text('button', 'train.start', { type: 'submit', id: 'train-start', className: 'primary' });
  const about = el('p', { className: 'note', id: 'train-about' });
  const form = el('form', { className: 'train-form' },
    el('div', { className: 'row' }, el('label', {}, text('span', 'train.task'), ' ', task),
      ...FIELDS.map(([name, key]) => el('label', {}, text('span', key), ' ', inputs[name])), go),
    corpus, about);
  root.append(form);
  let options = null;

  const preset = () => options.tasks.find((x) => x.name === task.value);

  function describe() {
    const l = options.limits;
    about.textContent = `${t(`train.about.${task.value}`)} ${t('train.limits', { layers: l.layers, hidden: l.hidden,
      steps: l.steps, minutes: Math.round(l.seconds / 60) })}`;
  }

  function choose() {
    const p = preset();
    for (const [name] of FIELDS) inputs[name].value = p.defaults[name];
    corpus.hidden = p.name !== 'text';
    describe();
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { task: task.value };
    for (const [name] of FIELDS) body[name] = Number(inputs[name].value);
    if (task.value === 'text') body.text = corpus.value;
    onStart(body);
  });
  task.addEventListener('change', choose);

  return {
    /** Fill the form from GET /api/train (tasks, defaults, limits). */
    setOptions(o) {
      options = o;
      task.replaceChildren(...o.tasks.map((x) => el('option', { value: x.name, textContent: t(`train.task.${x.name}`) })));
      for (const [name, limit] of Object.entries(LIMITED)) inputs[name].max = o.limits[limit];
      choose();
    },
    /** Show the task and configuration of a job followed again after a reload, not the defaults. */
    show(job) {
      if (!options || !options.tasks.some((x) => x.name === job.task)) return;
      task.value = job.task;
      choose();
      for (const [name] of FIELDS) if (job.config[name] !== undefined) inputs[name].value = job.config[name];
    },
    /** While a job runs, the form waits. */
    busy(on) {
      go.disabled = on;
      for (const e of form.querySelectorAll('input, select, textarea')) e.disabled = on;
    },
    relabel() {
      if (!options) return;
      for (const o of task.options) o.textContent = t(`train.task.${o.value}`);
      describe();
    },
  };
}
