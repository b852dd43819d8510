// Building elements for the panels (upload, training): plain DOM, text only through textContent.

import { t } from './i18n.js';

/** An element with properties `props` and children (elements or strings, set as text). */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

/** An element whose text is catalog message `key`, kept in the page's language by i18n.apply. */
export function text(tag, key, props = {}) {
  const e = el(tag, { ...props, textContent: t(key) });
  e.dataset.i18n = key;
  return e;
}
