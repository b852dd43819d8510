// What the Train panel offers once a job's model is kept: open it in the explorer on the probe sentence, and,
// when a guided lesson exists for the job's task, open that lesson on the kept model (/?lesson=<id>&model=<kept>).
// The lesson is asked for before the link is offered, so a model it cannot run on (a kept hometown model has
// no measured place units) gets the server's sentence instead of a link that would fail.

import * as api from './api.js';
import { el, text } from './dom.js';
import { explicit, language, t } from './i18n.js';

const query = (params) => {
  const p = new URLSearchParams(params);
  if (explicit()) p.set('lang', language()); // as the page's own links: only a chosen language travels
  return `?${p}`;
};

/** The lesson whose models are trained on `task`, or undefined. */
async function lessonFor(task) {
  try {
    return (await api.listLessons()).find((x) => x.task === task);
  } catch {
    return undefined; // no lesson offered; the explorer link still is
  }
}

/** Fill `box` for model `info` kept from `job`: the kept line, the explorer link, then the lesson's link or why
 * the lesson cannot run on it. */
export async function show(box, job, info) {
  const open = text('a', 'train.open', { href: query({ model: info.id, text: job.probe }), id: 'train-open' });
  box.replaceChildren(t('train.kept', { name: info.name }), ' ', open);
  const lesson = await lessonFor(job.task);
  if (!lesson) return;
  try {
    await api.getLesson(lesson.id, info.id); // the unit is found on the kept model now, and cached for the page
  } catch (e) {
    if (!(e instanceof api.ApiError)) throw e;
    box.append(' ', el('span', { id: 'train-no-lesson', textContent: e.message }));
    return;
  }
  const href = query({ lesson: lesson.id, model: info.id, step: 0 });
  box.append(' · ', text('a', 'train.open_lesson', { href, id: 'train-open-lesson' }));
}
