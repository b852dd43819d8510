// The export bar: a link that reopens this view, the trace as JSON, CSV (long format) or NumPy .npz, and a
// self-contained HTML snapshot of the view that opens from disk with no server and no network. Each figure saves
// itself as PNG or SVG: Plotly's modebar, or the buttons under the canvas figures (canvaschart.js).

import * as api from './api.js';
import { t } from './i18n.js';
import { link } from './url.js';

function button(key, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = t(key);
  b.dataset.i18n = key;
  b.addEventListener('click', onClick);
  return b;
}

/** The body of /api/export/html for `state`: the trace request, the view, and what run b is. */
export function snapshotBody(state, inputs) {
  const body = { ...inputs(), layer: state.layer, direction: state.direction, unit: state.unit, t: state.t,
    quantity: state.quantity, order: state.order, threshold: state.threshold };
  if (state.view === 'texts' && state.text2) body.compare = { text: state.text2 };
  if (state.view === 'models') body.compare = { model: state.model2 || state.model };
  if (state.view === 'clamp') body.interventions = state.clamps;
  return body;
}

/** Build the bar in `root`; state: main.js's state (read); inputs(): {model, text, vectors} of the run shown. */
export function create(root, state, inputs) {
  const field = document.createElement('input');
  field.id = 'share-link';
  field.readOnly = true;
  field.dataset.i18nAttr = 'aria-label:export.link';
  field.setAttribute('aria-label', t('export.link'));
  const problem = document.createElement('span');
  problem.className = 'note error';
  problem.setAttribute('role', 'alert');
  const copy = button('export.copy', async () => {
    field.value = new URL(link(state), location.href).href;
    field.hidden = false;
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      // No clipboard outside a secure context (a classroom server on the LAN): the selected link is there to copy.
    }
  });
  field.hidden = true;
  const save = (kind) => async () => {
    problem.textContent = '';
    try {
      await api.download(kind, kind === 'html' ? snapshotBody(state, inputs) : { ...inputs(), top_k: 5, layers: null });
    } catch (e) {
      if (!(e instanceof api.ApiError)) throw e;
      problem.textContent = e.message;
    }
  };
  const label = document.createElement('span');
  label.textContent = t('export.title');
  label.dataset.i18n = 'export.title';
  root.replaceChildren(copy, field, label, button('export.json', save('json')), button('export.csv', save('csv')),
    button('export.npz', save('npz')), button('export.html', save('html')), problem);
  return {};
}
