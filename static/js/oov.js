// Out-of-vocabulary tokens: a sentence naming what this model does not know, and the text with them marked.

import { visible } from './format.js';
import { t as tr } from './i18n.js';

const quote = (tok) => `“${visible(tok)}”`;

export function create(el) {
  const sentence = document.createElement('p');
  sentence.id = 'oov-sentence';
  const text = document.createElement('div');
  text.className = 'oov-text';
  el.replaceChildren(sentence, text);
  return {
    update(ctx, changed) {
      if (changed.has('data')) draw(el, sentence, text, ctx);
    },
  };
}

/** The sentence naming the unknown tokens and the typed text with them marked; `box` hidden when there are none. */
function draw(box, sentence, text, ctx) {
  const { oov, oov_chars: unknown } = ctx.trace;
  box.hidden = oov.length === 0;
  if (box.hidden) {
    sentence.textContent = '';
    text.replaceChildren();
    return;
  }
  const n = unknown.length;
  const list = unknown.slice(0, 40).map(quote).join(' ') + (n > 40 ? tr('oov.more', { count: n - 40 }) : '');
  const fed = ctx.info.unk ? tr('oov.fed_unk', { token: quote(ctx.info.unk) }) : tr('oov.fed_zero');
  const words = ctx.info.tokenizer === 'word';
  const what = tr(words ? 'oov.unknown_words' : 'oov.unknown_chars', { model: ctx.info.name, count: n, list });
  sentence.textContent = `${what} ${tr(words ? 'oov.fed_words' : 'oov.fed_chars', { count: oov.length, fed })}`;
  // Mark the typed text itself (spans are code-point offsets), so what is shown is exactly what was typed.
  const chars = Array.from(ctx.text);
  const parts = [];
  let from = 0;
  for (const t of oov) {
    const [a, b] = ctx.trace.spans[t];
    if (a > from) parts.push(chars.slice(from, a).join(''));
    const m = document.createElement('mark');
    m.textContent = visible(chars.slice(a, b).join(''));
    m.title = tr('oov.mark_title', { t });
    parts.push(m);
    from = b;
  }
  parts.push(chars.slice(from).join(''));
  text.replaceChildren(...parts);
}
