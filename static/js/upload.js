// "Bring your own model": drop a PyTorch, Keras or ONNX file (and its vocabulary), watch it upload,
// read how closely gatescope reproduces the framework, and find the model in the picker.

import * as api from './api.js';

const ACCEPT = '.safetensors,.pt,.pth,.bin,.keras,.h5,.onnx';

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

/** One sentence for a verification record: the figure a researcher needs before trusting the traces. */
export function describe(v) {
  if (!v) return '';
  if (!v.verified) return `Not verified: ${v.reason.replace(/\.$/, '')}.`;
  const verdict = v.passed ? 'within' : 'ABOVE';
  return `Checked against ${v.framework}: the largest difference in outputs and final states is `
    + `${v.max.toExponential(1)} (${verdict} the tolerance ${v.tolerance.toExponential(0)}), `
    + `on a random probe of ${v.probe.batch} × ${v.probe.steps} steps.`;
}

function table(v) {
  if (!v || !v.verified) return el('span');
  const rows = Object.entries(v.max_abs_diff).map(([k, d]) => el('tr', {}, el('th', { scope: 'row', textContent: k }),
    el('td', { textContent: d === null ? 'shapes differ' : d.toExponential(2) })));
  return el('table', { className: 'verify' }, el('thead', {}, el('tr', {}, el('th', { textContent: 'compared' }),
    el('th', { textContent: 'max |difference|' }))), el('tbody', {}, ...rows));
}

/** Build the upload form inside `root`; emits `gs:model-added` (detail: ModelInfo) on success. Returns the
 * panel: {showModel(info)}. */
export function create(root) {
  const file = el('input', { type: 'file', accept: ACCEPT, id: 'upload-file' });
  const vocab = el('input', { type: 'file', accept: '.json,.txt,.vocab', id: 'upload-vocab' });
  const tokenizer = el('select', { id: 'upload-tokenizer' }, el('option', { value: '', textContent: 'guess' }),
    el('option', { value: 'char', textContent: 'characters' }), el('option', { value: 'word', textContent: 'words' }));
  const name = el('input', { type: 'text', id: 'upload-name', maxLength: 80, placeholder: 'name (optional)' });
  const go = el('button', { type: 'submit', textContent: 'Import', disabled: true });
  const drop = el('label', { className: 'drop', htmlFor: 'upload-file' },
    el('strong', { textContent: 'Drop a model file here' }), ' or click to choose one: ',
    el('span', { className: 'hint', textContent: 'PyTorch state dict (.safetensors, .pt), Keras (.keras, .h5), ONNX (.onnx)' }));
  const chosen = el('p', { className: 'chosen' });
  const progress = el('progress', { max: 1, value: 0, hidden: true });
  const result = el('div', { className: 'result', role: 'status' });
  const badge = el('p', { className: 'current-verification' });
  const form = el('form', { className: 'upload' }, drop, file, chosen,
    el('div', { className: 'row' }, el('label', {}, 'Vocabulary (JSON list or one token per line) ', vocab),
      el('label', {}, 'Split text into ', tokenizer), name, go), progress, result);
  root.replaceChildren(badge, form);

  let picked = null;
  const pick = (f) => {
    picked = f || null;
    const size = picked && (picked.size < 1048576 ? `${Math.ceil(picked.size / 1024)} KB`
      : `${(picked.size / 1048576).toFixed(1)} MB`);
    chosen.textContent = picked ? `${picked.name} · ${size}` : '';
    go.disabled = !picked;
  };
  file.addEventListener('change', () => pick(file.files[0]));
  for (const ev of ['dragenter', 'dragover']) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    pick(e.dataTransfer.files[0]);
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!picked) return;
    const body = new FormData();
    body.append('file', picked, picked.name);
    if (vocab.files[0]) body.append('vocab', vocab.files[0], vocab.files[0].name);
    if (tokenizer.value) body.append('tokenizer', tokenizer.value);
    if (name.value.trim()) body.append('name', name.value.trim());
    go.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    result.classList.remove('error');
    result.replaceChildren(el('p', { textContent: 'Uploading…' }));
    try {
      const info = await api.uploadModel(body, (f) => {
        progress.value = f;
        if (f >= 1) result.replaceChildren(el('p', { textContent: 'Importing and checking against the framework…' }));
      });
      result.replaceChildren(el('p', { textContent: `${info.name} is now in the model picker. ${describe(info.verification)}` }),
        table(info.verification), ...(info.notes || []).map((n) => el('p', { className: 'note', textContent: n })));
      document.dispatchEvent(new CustomEvent('gs:model-added', { detail: info }));
    } catch (err) {
      if (!(err instanceof api.ApiError)) throw err;
      result.classList.add('error');
      result.replaceChildren(el('p', { textContent: err.message }));
    } finally {
      progress.hidden = true;
      go.disabled = !picked;
    }
  });

  return {
    /** Show the verification figure of the model being traced (imported models carry one). */
    showModel(info) {
      badge.textContent = info.verification ? `${info.name}: ${describe(info.verification)}` : '';
      badge.hidden = !info.verification;
    },
  };
}
