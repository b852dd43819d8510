// "Bring your own model": drop a PyTorch, Keras or ONNX file (and its vocabulary, and its labels and head
// when it is a tagger or classifier), watch it upload, read how closely gatescope reproduces the framework,
// and find the model in the picker.

import * as api from './api.js';
import { el, text } from './dom.js';
import { filePicker } from './filepick.js';
import { t } from './i18n.js';

const ACCEPT = '.safetensors,.pt,.pth,.bin,.keras,.h5,.onnx';

/** One sentence for a verification record: the figure a researcher needs before trusting the traces. */
export function describe(v) {
  if (!v) return '';
  // The reason comes from the importer, in English; the Chinese frame says so.
  if (!v.verified) return t('upload.not_verified', { reason: v.reason.replace(/\.$/, '') });
  return t(v.passed ? 'upload.verified_within' : 'upload.verified_above', { framework: v.framework,
    max: v.max.toExponential(1), tolerance: v.tolerance.toExponential(0), batch: v.probe.batch, steps: v.probe.steps });
}

function table(v) {
  if (!v || !v.verified) return el('span');
  const rows = Object.entries(v.max_abs_diff).map(([k, d]) => el('tr', {}, el('th', { scope: 'row', textContent: k }),
    el('td', { textContent: d === null ? t('upload.shapes_differ') : d.toExponential(2) })));
  return el('table', { className: 'verify' }, el('thead', {}, el('tr', {}, text('th', 'upload.compared'),
    text('th', 'upload.max_difference'))), el('tbody', {}, ...rows));
}

/** Build the upload form inside `root`; emits `gs:model-added` (detail: ModelInfo) on success. Returns the
 * panel: {showModel(info)}. */
export function create(root) {
  const file = el('input', { type: 'file', accept: ACCEPT, id: 'upload-file' });
  const { label: vocabPick, input: vocab } = filePicker({ id: 'upload-vocab', accept: '.json,.txt,.vocab',
    promptKey: 'upload.vocabulary' });
  const tokenizer = el('select', { id: 'upload-tokenizer' }, text('option', 'upload.guess', { value: '' }),
    text('option', 'upload.characters', { value: 'char' }), text('option', 'upload.words', { value: 'word' }));
  // What the layer after the LSTM is, when the file cannot say (a torch state dict never can): the import
  // command's --labels, --head and --pool.
  const { label: labelsPick, input: labels } = filePicker({ id: 'upload-labels', accept: '.json,.txt',
    promptKey: 'upload.labels' });
  const head = el('select', { id: 'upload-head' }, text('option', 'upload.head_auto', { value: '' }),
    text('option', 'upload.head_next_token', { value: 'next_token' }),
    text('option', 'upload.head_tagger', { value: 'tagger' }),
    text('option', 'upload.head_classifier', { value: 'classifier' }));
  const pool = el('select', { id: 'upload-pool' }, text('option', 'upload.pool_final', { value: 'final' }),
    text('option', 'upload.pool_last', { value: 'last' }));
  const poolBox = el('label', { hidden: true }, text('span', 'upload.pool'), ' ', pool);
  head.addEventListener('change', () => { poolBox.hidden = head.value !== 'classifier'; });
  const name = el('input', { type: 'text', id: 'upload-name', maxLength: 80, placeholder: t('upload.name') });
  name.dataset.i18nAttr = 'placeholder:upload.name';
  const go = text('button', 'upload.import', { type: 'submit', disabled: true });
  const drop = el('label', { className: 'drop', htmlFor: 'upload-file' },
    text('strong', 'upload.drop'), ' ', text('span', 'upload.or_choose'), ' ',
    text('span', 'upload.formats', { className: 'hint' }));
  const chosen = el('p', { className: 'chosen' });
  const progress = el('progress', { max: 1, value: 0, hidden: true });
  const result = el('div', { className: 'result', role: 'status' });
  const badge = el('p', { className: 'current-verification' });
  const form = el('form', { className: 'upload' }, drop, file, chosen,
    el('div', { className: 'row' }, vocabPick,
      el('label', {}, text('span', 'upload.split'), ' ', tokenizer), name, go),
    el('div', { className: 'row' }, labelsPick, el('label', {}, text('span', 'upload.head'), ' ', head), poolBox),
    progress, result);
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
    if (labels.files[0]) body.append('labels', labels.files[0], labels.files[0].name);
    if (head.value) body.append('head', head.value);
    if (head.value === 'classifier') body.append('pool', pool.value);
    go.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    result.classList.remove('error');
    result.replaceChildren(text('p', 'upload.uploading'));
    try {
      const info = await api.uploadModel(body, (f) => {
        progress.value = f;
        if (f >= 1) result.replaceChildren(text('p', 'upload.importing'));
      });
      // Notes are the importer's own sentences, in English (the Chinese frame says so); a repeat upload
      // gets the page's own sentence instead of the server's note.
      const notes = info.created ? (info.notes || []).map((n) => t('upload.note', { note: n })) : [];
      result.replaceChildren(el('p', { textContent: `${t(info.created ? 'upload.added' : 'upload.before',
        { name: info.name })} ${describe(info.verification)}` }), table(info.verification),
      ...notes.map((n) => el('p', { className: 'note', textContent: n })));
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
