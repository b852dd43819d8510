// The time scrubber: a slider over the tokens, play/pause at a chosen speed (looping when asked), and the arrow
// keys anywhere outside the text box.

import { visible } from './format.js';
import { t as tr } from './i18n.js';
import { emit } from './plot.js';

const STEP_MS = 350; // at 1x: slow enough to read each gate change aloud in a classroom
const SPEEDS = [0.5, 1, 2, 4];

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
  const speed = document.createElement('select');
  speed.id = 'play-speed';
  speed.dataset.i18nAttr = 'aria-label:timeline.speed;title:timeline.speed';
  speed.setAttribute('aria-label', tr('timeline.speed'));
  speed.title = tr('timeline.speed');
  speed.append(...SPEEDS.map((x) => Object.assign(document.createElement('option'), { value: String(x),
    textContent: `${x}×`, selected: x === 1 })));
  const loop = document.createElement('label');
  loop.className = 'loop';
  const loopBox = Object.assign(document.createElement('input'), { type: 'checkbox', id: 'play-loop' });
  const loopText = Object.assign(document.createElement('span'), { textContent: tr('timeline.loop') });
  loopText.dataset.i18n = 'timeline.loop';
  loop.title = tr('timeline.loop');
  loop.dataset.i18nAttr = 'title:timeline.loop';
  loop.append(loopBox, loopText);
  el.replaceChildren(button, slider, label, speed, loop);
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

  function tick() {
    if (Number(slider.value) < last) go(Number(slider.value) + 1);
    else if (loopBox.checked) go(0);
    else stop();
  }

  function play() {
    if (Number(slider.value) >= last) go(0);
    button.dataset.i18n = 'timeline.pause';
    button.textContent = tr('timeline.pause');
    button.setAttribute('aria-pressed', 'true');
    clearInterval(timer);
    timer = setInterval(tick, STEP_MS / Number(speed.value));
  }

  button.addEventListener('click', () => (timer ? stop() : play()));
  speed.addEventListener('change', () => { if (timer) play(); }); // the new pace from the next step
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
