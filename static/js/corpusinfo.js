// What the corpus views share: the model's index description (asked once per model and page) and opening a
// corpus token in the explorer (the text whose trace gives it the stored values, with t on the token).

import * as api from './api.js';
import { t } from './i18n.js';
import { emit } from './plot.js';

const infos = new Map(); // model id -> Promise of /api/corpus/{model}: server data, the same for every view

/** The model's CorpusInfo ({index: null} when it has none, or when asking failed). */
export function corpusIndex(model) {
  if (!infos.has(model)) {
    infos.set(model, api.corpusInfo(model).catch((e) => {
      infos.delete(model);
      if (!(e instanceof api.ApiError)) throw e;
      return { model, index: null, census: false, error: e.message };
    }));
  }
  return infos.get(model);
}

/** Ask main.js to trace the text around corpus token `token` with t on it; `say(sentence)` on refusal. */
export async function openInExplorer(model, token, say = () => {}) {
  try {
    const r = await api.corpusOpen(model, token);
    emit({ text: r.text, t: r.t });
  } catch (e) {
    if (!(e instanceof api.ApiError)) throw e;
    say(e.message);
  }
}

/** A key of what a corpus view shows, so that a new trace of the typed text does not refetch it. */
export const shownKey = (...parts) => JSON.stringify(parts);

/** What a corpus view says when the model has no usable index: the server's refusal, or how to build one. */
export const noIndex = (info) => info.error || t('corpus.no_index', { model: info.model });
