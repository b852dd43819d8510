// A phone (up to 600 px wide) shows the views one at a time: the text box stays on top, the tab bar at the bottom
// (templates/index.html, one button per view section) picks the view, and a sideways swipe over the page moves to
// the next or previous one. Wider screens show every view, stacked: the tab chosen stays in the state (and the
// URL, `tab=`) but hides nothing there (page.css hides .tab-off sections only under 600 px).
//
// The scheduler draws a view when its section comes on screen, so a tab shown draws what it missed; Plotly sizes a
// figure drawn while hidden by a default width, so a resize follows (as presentation mode's stage does).
// Changing tabs is a state change like any other: the bar, a swipe and a lesson step ask main.js with gs:select
// {tab}, and main.js calls show().

import { emit } from './plot.js';

const PHONE = window.matchMedia('(max-width: 600px)');
const SWIPE = 60; // px sideways, and twice the vertical travel, before a touch counts as a swipe

/** Whether the views show one at a time (a phone's width). */
export const oneAtATime = () => PHONE.matches;

const bar = () => document.getElementById('tabs');
const buttons = () => [...bar().querySelectorAll('[data-tab]')];
const section = (tab) => document.getElementById(`sec-${tab}`); // tab `heatmaps` shows section #sec-heatmaps
/** The tabs whose section the page shows (the import section is left out where uploads are off). */
const shown = () => buttons().filter((b) => !section(b.dataset.tab).hidden).map((b) => b.dataset.tab);

/** The tab a link names, if the page has it; else the first. */
export const valid = (id) => (shown().includes(id) ? id : shown()[0]);

/** Show the section of tab `id` alone (on a phone) and mark its button. */
export function show(id) {
  for (const b of buttons()) {
    const on = b.dataset.tab === id;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
    b.hidden = section(b.dataset.tab).hidden;
    section(b.dataset.tab).classList.toggle('tab-off', !on);
    if (on && oneAtATime()) b.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }
  if (oneAtATime()) requestAnimationFrame(() => window.dispatchEvent(new Event('resize')));
}

/** The tab `step` places after the one shown (-1: before), if any. */
function neighbour(current, step) {
  const all = shown();
  const k = all.indexOf(current) + step;
  return k >= 0 && k < all.length ? all[k] : null;
}

/** Inside something that scrolls sideways itself (the chips, the predictions grid, an equation, the slider)? */
function scrollsSideways(node) {
  for (let n = node; n && n !== document.body; n = n.parentElement) {
    if (n.matches('input, textarea, select')) return true;
    if (n.scrollWidth > n.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(n).overflowX)) return true;
  }
  return false;
}

/** Wire the bar and the swipe; `current()` is the tab in the state. */
export function init(current) {
  bar().addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-tab]');
    if (b) emit({ tab: b.dataset.tab });
  });
  bar().addEventListener('keydown', (ev) => { // the arrow keys move along a tab list (ARIA's tabs pattern)
    const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
    const next = step && neighbour(current(), step);
    if (!next) return;
    ev.preventDefault();
    emit({ tab: next });
    bar().querySelector(`[data-tab="${next}"]`).focus();
  });
  let start = null;
  const main = document.querySelector('main');
  main.addEventListener('touchstart', (ev) => {
    const touch = ev.touches[0];
    start = oneAtATime() && ev.touches.length === 1 && !scrollsSideways(ev.target)
      ? { x: touch.clientX, y: touch.clientY } : null;
  }, { passive: true });
  main.addEventListener('touchend', (ev) => {
    if (!start) return;
    const touch = ev.changedTouches[0];
    const dx = touch.clientX - start.x;
    const dy = touch.clientY - start.y;
    start = null;
    if (Math.abs(dx) < SWIPE || Math.abs(dx) < 2 * Math.abs(dy)) return;
    const next = neighbour(current(), dx < 0 ? 1 : -1); // a swipe to the left brings the next view
    if (next) emit({ tab: next });
  }, { passive: true });
  PHONE.addEventListener('change', () => show(current()));
}
