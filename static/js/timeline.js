// The time scrubber: a slider over the tokens, play/pause, and the arrow keys anywhere outside the text box.

import { visible } from './format.js';
import { t as tr } from './i18n.js';
import { emit } from './plot.js';

const STEP_MS = 350; // slow enough to read each gate change aloud in a classroom

function typing(target) {
  return target.closest && target.closest('textarea, input:not([type=range]), select, [contenteditable]');
}

export function create(el) {
  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'play';
  const slider = document.createElement('input');
  slider.type = 'range';
  slider.id = 'scrubber';
  slider.min = '0';
  slider.step = '1';
  slider.dataset.i18nAttr = 'aria-label:timeline.slider';
  slider.setAttribute('aria-label', tr('timeline.slider'));
  const label = document.createElement('output');
  label.id = 'time-label';
  label.htmlFor = 'scrubber';
  el.replaceChildren(button, slider, label);
  let timer = null;
  let last = 0; // the last timestep of the text shown

  function go(t) {
    const next = Math.max(0, Math.min(last, t));
    if (String(next) !== slider.value) slider.value = String(next);
    emit({ t: next });
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    button.dataset.i18n = 'timeline.play';
    button.textContent = tr('timeline.play');
    button.setAttribute('aria-pressed', 'false');
  }

  function play() {
    if (Number(slider.value) >= last) go(0);
    button.dataset.i18n = 'timeline.pause';
    button.textContent = tr('timeline.pause');
    button.setAttribute('aria-pressed', 'true');
    timer = setInterval(() => {
      if (Number(slider.value) >= last) stop();
      else go(Number(slider.value) + 1);
    }, STEP_MS);
  }

  button.addEventListener('click', () => (timer ? stop() : play()));
  slider.addEventListener('input', () => go(Number(slider.value)));
  document.addEventListener('keydown', (ev) => {
    if (typing(ev.target) || ev.target === slider || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const t = Number(slider.value);
    const moves = { ArrowLeft: t - 1, ArrowRight: t + 1, Home: 0, End: last };
    if (ev.key in moves) {
      ev.preventDefault();
      go(moves[ev.key]);
    }
  });
  stop();

  return {
    update(ctx, changed) {
      if (changed.has('data')) {
        last = Math.max(0, ctx.T - 1);
        slider.max = String(last);
        slider.disabled = ctx.T <= 1;
      }
      if (!changed.has('data') && !changed.has('time')) return;
      const { t } = ctx.state;
      slider.value = String(t);
      label.textContent = tr('timeline.at', { t, last, token: visible(ctx.trace.tokens[t] ?? '') });
    },
  };
}
