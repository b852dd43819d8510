// The status line under the text box: the shape of what was traced, or what went wrong. It remembers the
// catalog key of what it shows, so a language switch can say it again.

import { t } from './i18n.js';

const el = () => document.getElementById('status');
let said = null; // [key, params] of the sentence shown, or null for a server's sentence or the shape line

/** Show `text`; `line` ([key, params]) is the catalog message it came from, if any. */
export function status(text, error = false, line = null) {
  const box = el();
  box.textContent = text;
  said = line;
  box.classList.toggle('error', error);
  box.setAttribute('role', error ? 'alert' : 'status');
}

/** Show catalog message `key` as an error. */
export const fail = (key, params = {}) => status(t(key, params), true, [key, params]);

/** The shape of trace `tr` of model `info`: tokens, layers, directions, units, unknown tokens. */
export function shape(tr, info) {
  const [, D, , H] = tr.i.shape;
  const parts = [t('status.tokens', { count: tr.steps }), `${t('status.layers', { count: info.layers })} × `
    + `${t('status.directions', { count: D })} × ${t('status.units', { count: H })}`];
  if (tr.oov.length) parts.push(t('status.unknown', { count: tr.oov.length }));
  status(parts.join(' · '));
}

/** After a language switch: say a catalog message again and return 'said'; else say whether the line is an
 * error the server wrote ('error': ask again) or nothing special ('other'). */
export function again() {
  const error = el().classList.contains('error');
  if (said) {
    status(t(...said), error, said);
    return 'said';
  }
  return error ? 'error' : 'other';
}
