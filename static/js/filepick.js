// A file picker whose button and "no file" words are the page's own (catalog) text: the browser's native
// <input type=file> button speaks the browser's language, not the page's. The input stays in the page,
// visually hidden, so keyboards, screen readers and drag-and-drop onto it still work.

import { t } from './i18n.js';

/** {label, input}: `label` holds the prompt (catalog key `promptKey`), a button and the chosen file's name. */
export function filePicker({ id, accept, promptKey }) {
  const input = document.createElement('input');
  input.type = 'file';
  input.accept = accept;
  if (id) input.id = id;
  input.className = 'visually-hidden';
  const words = (tag, key, cls) => {
    const e = document.createElement(tag);
    e.dataset.i18n = key;
    e.textContent = t(key);
    if (cls) e.className = cls;
    return e;
  };
  const chosen = words('span', 'file.none', 'file-name');
  input.addEventListener('change', () => {
    const f = input.files[0];
    if (f) {
      delete chosen.dataset.i18n; // a file name is not translated
      chosen.textContent = f.name;
    } else {
      chosen.dataset.i18n = 'file.none';
      chosen.textContent = t('file.none');
    }
  });
  const label = document.createElement('label');
  label.className = 'file-pick';
  label.append(words('span', promptKey), ' ', input, words('span', 'file.choose', 'file-button'), ' ', chosen);
  return { label, input };
}
