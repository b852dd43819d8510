// A piece of corpus text (a Snippet of lstm_core.corpus: text, highlight, per-character values) drawn as one
// line: each character coloured by its token's value, the highlighted token or match outlined. Text only
// ever through textContent; newlines and tabs shown by their marks so a context stays on one line.

import { colourOf, fmt, visible } from './format.js';

/** The largest |value| of a snippet's characters (0 when it has none). */
export function maxAbsOf(snip) {
  let m = 0;
  for (const v of snip.values || []) if (v !== null) m = Math.max(m, Math.abs(v));
  return m;
}

/**
 * One line of text for snippet `snip`, coloured on quantity `q`'s scale (maxAbs: its extent for c, h, g);
 * `marks` (optional, per character) underlines the characters where it is positive (a feature).
 */
export function snippetLine(snip, q, maxAbs, marks = null) {
  const line = document.createElement('span');
  line.className = 'snippet';
  const [a, b] = snip.highlight;
  const hl = document.createElement('span');
  hl.className = 'hl';
  [...snip.text].forEach((ch, k) => {
    const s = document.createElement('span');
    const v = snip.values ? snip.values[k] : null;
    if (v !== null && v !== undefined) {
      const { bg, fg } = colourOf(q, v, maxAbs);
      s.style.background = bg;
      s.style.color = fg;
      s.title = `${q} = ${fmt(v)}`;
    }
    if (marks && marks[k] > 0) s.classList.add('feat');
    s.textContent = visible(ch);
    (k >= a && k < b ? hl : line).appendChild(s);
    if (k === a) line.appendChild(hl); // the outlined part sits where it is in the text
  });
  if (a >= [...snip.text].length) line.appendChild(hl);
  return line;
}

/** Scroll each line under `root` sideways so that its outlined part is in view (a phone shows a few
 * characters of a context; the token that matters may sit past them). Call once the lines are on the page. */
export function showHighlights(root) {
  for (const hl of root.querySelectorAll('.snippet .hl')) {
    const box = hl.closest('button.context, .census-example');
    if (box && box.scrollWidth > box.clientWidth) {
      box.scrollLeft = hl.offsetLeft - box.offsetLeft - box.clientWidth / 2 + hl.offsetWidth / 2;
    }
  }
}
