// Calls the views through their contract (view.js): the views on screen at once, the others when the browser
// is idle (or as soon as they scroll into view), so a keystroke waits only for what the person can see.
// A view that is not drawn at once collects what it missed and gets all of it at its next update; every view
// still ends up current, and `idle()` resolves once nothing is left to draw.

import { everything } from './view.js';

/**
 * entries: [{id, module, always}] as main.js's VIEWS: each module's create() gets the element with that id;
 * `always` views are drawn at once wherever they are (cheap, or in the fixed header).
 * context: () => the current view context.
 */
export function scheduler(entries, context) {
  const views = new Map(entries.map(({ id, module }) => [id, module.create(document.getElementById(id))]));
  const always = new Set(entries.filter((e) => e.always).map((e) => e.id));
  const onScreen = new Set();
  const missed = new Map(); // id -> Set of changes the view has not drawn yet
  const fresh = new Set(views.keys()); // never drawn: their first update gets every kind of change
  const running = new Set(); // updates under way
  let waiters = [];
  let settledHooks = [];
  let handle = null;
  let first = true;

  const later = window.requestIdleCallback
    ? (fn) => window.requestIdleCallback(fn, { timeout: 250 })
    : (fn) => setTimeout(fn, 16);

  const busy = () => missed.size > 0 || handle !== null || running.size > 0;

  function settle() {
    if (busy()) return;
    for (const fn of settledHooks) fn();
    settledHooks = [];
    for (const resolve of waiters) resolve();
    waiters = [];
  }

  /** Update view `id` with `changed` plus whatever it missed; a Promise of its drawing. */
  function update(id, changed) {
    const all = fresh.has(id) ? everything() : new Set([...(missed.get(id) || []), ...changed]);
    fresh.delete(id);
    missed.delete(id);
    let job;
    try {
      job = Promise.resolve(views.get(id).update(context(), all));
    } catch (e) {
      job = Promise.reject(e);
    }
    running.add(job);
    // Drawn once: page.css stops holding the room it kept for the view before its data came.
    job.then(() => {
      const el = document.getElementById(id);
      el.dataset.drawn = '';
      el.style.minHeight = ''; // the room main.js reserved for a new model (view.js reserve) is filled now
    }, () => {});
    const done = () => { running.delete(job); settle(); };
    job.then(done, done);
    return job;
  }

  function drain() {
    if (handle !== null) return;
    if (!missed.size) { settle(); return; }
    handle = later(async () => {
      try {
        // The views it listed may have been drawn meanwhile (scrolled into view): then nothing is left here.
        const next = missed.keys().next();
        if (!next.done) await update(next.value, new Set());
      } finally {
        handle = null;
        drain();
      }
    });
  }

  const observer = new IntersectionObserver((seen) => {
    for (const e of seen) {
      if (e.isIntersecting) onScreen.add(e.target.id);
      else onScreen.delete(e.target.id);
    }
    for (const id of [...missed.keys()]) if (onScreen.has(id)) update(id, new Set());
  }, { rootMargin: '150px' });
  for (const id of views.keys()) observer.observe(document.getElementById(id));

  return {
    /** The view objects by id (for tests and the contract check). */
    views,

    /** Tell the views that `changed` (a Set of view.js's CHANGES) happened; the first call draws every view. */
    draw(changed) {
      const jobs = [];
      for (const id of views.keys()) {
        if (first || always.has(id) || onScreen.has(id)) jobs.push(update(id, changed));
        else missed.set(id, new Set([...(missed.get(id) || []), ...changed]));
      }
      first = false;
      return Promise.all(jobs).then(() => drain());
    },

    /** Call `fn` once every view has caught up with what was last drawn. */
    whenSettled(fn) {
      settledHooks.push(fn);
      settle();
    },

    idle: () => new Promise((resolve) => {
      waiters.push(resolve);
      settle();
    }),
  };
}
