// The training panel's snapshot slider: while the run trains it follows the newest snapshot (unless moved
// back); afterwards it replays the run, by hand or with Play, one snapshot every PLAY_MS.

import { el, text } from './dom.js';
import { t } from './i18n.js';

const PLAY_MS = 400;

/** The slider inside `root`; onPick(k) draws snapshot k. */
export function create(root, onPick) {
  const slider = el('input', { type: 'range', id: 'train-slider', min: 0, max: 0, value: 0, step: 1, disabled: true });
  slider.dataset.i18nAttr = 'aria-label:train.snapshot';
  slider.setAttribute('aria-label', t('train.snapshot'));
  const play = text('button', 'train.play', { type: 'button', id: 'train-play', disabled: true });
  const label = el('span', { className: 'note', id: 'train-slider-label' });
  root.append(el('div', { className: 'row' }, text('span', 'train.snapshot'), slider, play, label));
  let follow = true;
  let timer = null;

  const stop = () => {
    clearInterval(timer);
    timer = null;
    play.textContent = t('train.play');
  };

  slider.addEventListener('input', () => {
    stop();
    follow = Number(slider.value) === Number(slider.max);
    onPick(Number(slider.value));
  });
  play.addEventListener('click', () => {
    if (timer) { stop(); return; }
    if (Number(slider.value) === Number(slider.max)) slider.value = 0;
    onPick(Number(slider.value));
    play.textContent = t('train.pause');
    timer = setInterval(() => {
      if (Number(slider.value) >= Number(slider.max)) { stop(); return; }
      slider.value = Number(slider.value) + 1;
      onPick(Number(slider.value));
    }, PLAY_MS);
  });

  return {
    /** Snapshot k of n is shown (k = -1: none yet). */
    at(k, n, frame) {
      slider.max = Math.max(0, n - 1);
      slider.value = Math.max(0, k);
      slider.disabled = n < 2;
      if (k < 0) follow = true;
      const score = frame && typeof frame.metrics.accuracy === 'number'
        ? t('train.accuracy_is', { accuracy: (100 * frame.metrics.accuracy).toFixed(1) }) : '';
      label.textContent = frame ? [t('train.snapshot_at', { step: frame.step }), score].filter(Boolean).join(' · ') : '';
    },
    following: () => follow,
    /** Play only once the run has ended (while it trains, the newest snapshot comes by itself). */
    playable(on) {
      play.disabled = !on;
      if (!on) stop();
    },
  };
}
