// The lesson the page is in: the state holds its id (`lesson`) and step (`step`); this module keeps the
// server's description of it (/api/lessons/{id}: the model, the sentence, the unit it watches and why), and
// changes those three together so they never disagree.

import * as api from './api.js';
import { STEPS } from './lessonplan.js';
import { status } from './statusline.js';

let info = null; // /api/lessons/{id} of state.lesson, or null

/** The lesson's description, or null outside a lesson. */
export const lesson = () => info;

/** ctx.lesson for the views (view.js): {info, step} or null. */
export const context = (state) => (state.lesson && info ? { info, step: state.step } : null);

/** End the lesson. */
export function close(state) {
  state.lesson = '';
  info = null;
  document.getElementById('lesson').value = '';
}

/** Fetch lesson `id` (on `model` if given: another model of its task, such as one kept from the Train panel)
 * and make it the state's; false (with the server's sentence in the status line) if it cannot run here. The
 * step is kept within the lesson. */
export async function open(state, id, model = '') {
  try {
    info = await api.getLesson(id, model);
  } catch (e) {
    if (!(e instanceof api.ApiError)) throw e;
    status(e.message, true);
    close(state);
    return false;
  }
  state.lesson = id;
  state.step = Math.max(0, Math.min(STEPS.length - 1, state.step));
  return true;
}

/** Go to step `step` (kept within the lesson); true when it changed. */
export function go(state, step) {
  const next = Math.max(0, Math.min(STEPS.length - 1, step));
  if (!info || next === state.step) return false;
  state.step = next;
  return true;
}
