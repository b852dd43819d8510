// The first screen: the introduction (dismissed for good with a cookie, so the server leaves it out next
// time and nothing vanishes after paint), the model's example texts as one-click chips, the note that says
// when a model switch replaced a text the new model mostly did not know, and the model card in a dialog.
// Card text and examples come from model files: they are set as text, never as HTML.

import { language, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const YEAR = 365 * 24 * 3600;

/** Wire the introduction's close button: hide it now, and let the server leave it out from now on. */
export function initIntro() {
  const intro = $('intro');
  if (!intro) return;
  $('intro-close').addEventListener('click', () => {
    document.cookie = `gatescope_intro=hidden; max-age=${YEAR}; path=/; SameSite=Lax`;
    intro.hidden = true;
    $('text').focus();
  });
}

/** The example of model `info` the page opens on in its language (the server chose it: app/service.py openers);
 * null when it has none. A card may declare examples in several languages (hometown: Chinese and English), and a
 * reader opens on theirs. */
export function firstExample(info) {
  return (info.opening || {})[language()] ?? (info.examples || [])[0] ?? null;
}

/** One chip per example of model `info`; `pick(text)` when one is clicked. The row keeps its label. */
export function showExamples(info, pick) {
  const row = $('examples');
  const chips = (info.examples || []).map((text) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip';
    b.textContent = text.replace(/\n/g, ' ⏎ '); // one line each; the text box shows the line breaks
    b.title = text;
    b.addEventListener('click', () => pick(text));
    return b;
  });
  row.replaceChildren(row.firstElementChild, ...chips);
  row.hidden = chips.length === 0;
}

/** Say that `model`'s example replaced the reader's text; `undo()` brings their text back. Null hides it. */
export function swapNote(model, undo) {
  const note = $('swap-note');
  note.hidden = model === null;
  if (model === null) return;
  note.firstElementChild.textContent = t('input.swapped', { model });
  note.querySelector('button').onclick = () => {
    note.hidden = true;
    undo();
  };
}

/** The markdown of a model card as elements: headings, bullet lists, fenced blocks and paragraphs, all text. */
function cardNodes(markdown) {
  const out = [];
  let list = null;
  let fence = null;
  for (const line of markdown.split('\n')) {
    if (fence) {
      if (line.trim().startsWith('```')) { out.push(fence); fence = null; } else fence.textContent += `${line}\n`;
      continue;
    }
    if (line.trim().startsWith('```')) { fence = document.createElement('pre'); list = null; continue; }
    const item = /^\s*[-*] (.*)/.exec(line);
    if (item) {
      if (!list) out.push((list = document.createElement('ul')));
      list.append(Object.assign(document.createElement('li'), { textContent: item[1] }));
      continue;
    }
    list = null;
    const heading = /^(#{1,6}) (.*)/.exec(line);
    if (heading) out.push(Object.assign(document.createElement('h3'), { textContent: heading[2] }));
    else if (line.trim()) out.push(Object.assign(document.createElement('p'), { textContent: line }));
  }
  if (fence) out.push(fence);
  return out;
}

/** Open the card of model `info` (its summary first, then the card, or a sentence when it has none). */
export function openCard(info, summary) {
  $('card-title').textContent = info.name;
  const lead = Object.assign(document.createElement('p'), { className: 'lede', textContent: summary });
  const body = info.card ? cardNodes(info.card).filter((n, k) => k > 0 || n.tagName !== 'H3') // its own title
    : [Object.assign(document.createElement('p'), { textContent: t('card.none') })];
  $('card-body').replaceChildren(...(summary ? [lead] : []), ...body);
  $('card').showModal();
}
