// Presentation mode, for a projector: large type, high contrast, one view at a time (in a lesson, the one its
// step talks about; otherwise the one the presenter picks), the lesson docked beside it, and keys a presenter
// can reach from a clicker or a keyboard:
//
//   PageDown, N          next lesson step        PageUp, B        previous lesson step
//   →  ←                 next / previous timestep (timeline.js)
//   ↓  ↑                 next / previous unit    V                next view (outside a lesson)
//   F                    fullscreen (the browser's Fullscreen API; Esc leaves it)
//   L                    a laser-pointer dot that follows the mouse
//   Esc                  leave presentation mode (after fullscreen)
//
// The mode is in the URL (present=1), so the lesson link a teacher projects can open straight in it.
// It changes no state itself: steps and units are asked for with gs:select, like any view does; entering
// and leaving fire gs:relayout so main.js redraws the figures at their new size.

import { emit } from './plot.js';

// The views presentation mode cycles through with V (section ids in templates/index.html).
const STAGES = ['sec-heatmaps', 'sec-bars', 'sec-step', 'sec-unit', 'sec-predictions', 'sec-saturation'];

const typing = (target) => target.closest && target.closest('textarea, input:not([type=range]), select, [contenteditable]');

/** Whether the page is in presentation mode. */
export const presenting = () => document.body.classList.contains('present');

/** Show section `id` on the stage (the only view visible in presentation mode). */
export function stage(id) {
  if (document.body.dataset.stage === id) return;
  document.body.dataset.stage = id;
  // Plotly sizes a figure drawn while hidden by a default width; a resize makes it measure its container.
  if (presenting()) requestAnimationFrame(() => window.dispatchEvent(new Event('resize')));
}

function laser(on) {
  let dot = document.getElementById('laser');
  if (!dot) {
    dot = document.createElement('div');
    dot.id = 'laser';
    dot.setAttribute('aria-hidden', 'true');
    document.body.append(dot);
    document.addEventListener('mousemove', (ev) => {
      dot.style.transform = `translate(${ev.clientX}px, ${ev.clientY}px)`;
    });
  }
  dot.hidden = !on;
}

/** Enter or leave presentation mode. */
export function setPresenting(on) {
  document.body.classList.toggle('present', on);
  document.documentElement.classList.toggle('present', on); // the root font size: CSS :has() would be too slow
  if (!on) laser(false);
  if (!document.body.dataset.stage) document.body.dataset.stage = STAGES[0];
  document.dispatchEvent(new CustomEvent('gs:relayout'));
}

function fullscreen() {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen?.().catch(() => {}); // refused without a user gesture
}

/** Wire the keys and the header's buttons; `state` is main.js's state object (read only here). */
export function init(state) {
  if (state.present) setPresenting(true);
  const on = (id, fn) => document.getElementById(id)?.addEventListener('click', fn);
  on('present-on', () => setPresenting(true));
  on('present-off', () => setPresenting(false));
  on('present-fullscreen', fullscreen);
  on('present-laser', () => laser(document.getElementById('laser')?.hidden ?? true));
  document.addEventListener('keydown', (ev) => {
    if (!presenting() || typing(ev.target) || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    const moves = {
      PageDown: () => emit({ step: state.step + 1 }), n: () => emit({ step: state.step + 1 }),
      PageUp: () => emit({ step: state.step - 1 }), b: () => emit({ step: state.step - 1 }),
      ArrowDown: () => emit({ unit: state.unit + 1 }), ArrowUp: () => emit({ unit: state.unit - 1 }),
      v: () => !state.lesson && stage(STAGES[(STAGES.indexOf(document.body.dataset.stage) + 1) % STAGES.length]),
      f: fullscreen,
      l: () => laser(document.getElementById('laser')?.hidden ?? true),
      Escape: () => !document.fullscreenElement && setPresenting(false),
    };
    if (key in moves) {
      ev.preventDefault();
      moves[key]();
    }
  });
}
