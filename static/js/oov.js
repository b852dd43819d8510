// Out-of-vocabulary tokens: a sentence naming what this model does not know, and the text with them marked.

import { visible } from './format.js';

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
  const what = ctx.info.tokenizer === 'word' ? 'word' : 'character';
  const n = unknown.length;
  const listed = unknown.slice(0, 40).map(quote).join(' ') + (n > 40 ? ` and ${n - 40} more` : '');
  const fed = ctx.info.unk ? `the unknown token ${quote(ctx.info.unk)}` : 'an all-zero input';
  sentence.textContent = `${ctx.info.name} does not know ${n === 1 ? `this ${what}` : `these ${n} ${what}s`}: `
    + `${listed}. ${oov.length === 1 ? 'It is' : `Its ${oov.length} occurrences are`} marked below and fed to the `
    + `model as ${fed}, so the gates still run but the model cannot tell ${n === 1 ? 'it' : 'them'} apart.`;
  // Mark the typed text itself (spans are code-point offsets), so what is shown is exactly what was typed.
  const chars = Array.from(ctx.text);
  const parts = [];
  let from = 0;
  for (const t of oov) {
    const [a, b] = ctx.trace.spans[t];
    if (a > from) parts.push(chars.slice(from, a).join(''));
    const m = document.createElement('mark');
    m.textContent = visible(chars.slice(a, b).join(''));
    m.title = `t=${t}: not in this model's vocabulary`;
    parts.push(m);
    from = b;
  }
  parts.push(chars.slice(from).join(''));
  text.replaceChildren(...parts);
}
