// Calls the views through their contract (view.js): the views on screen at once, the others when the browser
// is idle (or as soon as they scroll into view), so a keystroke waits only for what the person can see.
// A view that is not drawn at once collects what it missed and gets all of it at its next update; every view
// still ends up current, and `idle()` resolves once nothing is left to draw. Someone typing without a pause
// leaves the browser no idle moment: then a view below the fold waits at most BUDGET_MS, the view that has
// waited longest first, so none is more than about a second behind the text (issue 17). A view is told only of the
// changes it draws (its `draws`, view.js): a step answer or an off comparison holds no view below the fold.

import { everything } from './view.js';

const BUDGET_MS = 500; // the longest a view waits for an idle moment; its drawing takes the rest of the second
const KEPT_MEASURES = 10000; // gs:drawn entries kept for the benchmark before they are cleared (memory stays bounded)

/**
 * entries: [{id, module, always}] as main.js's VIEWS: each module's create() gets the element with that id;
 * `always` views are drawn at once wherever they are (cheap, or in the fixed header).
 * context: () => the current view context.
 */
export function scheduler(entries, context) {
  const views = new Map(entries.map(({ id, module }) => [id, module.create(document.getElementById(id))]));
  const always = new Set(entries.filter((e) => e.always).map((e) => e.id));
  const draws = new Map(entries.map(({ id, module }) => [id, module.draws]));
  /** Whether view `id` draws any of `changed` (view.js `draws`); a view that does not say is told of everything. */
  const concerns = (id, changed) => !draws.get(id) || draws.get(id).some((k) => changed.has(k));
  const onScreen = new Set();
  const missed = new Map(); // id -> Set of changes the view has not drawn yet
  const since = new Map(); // id -> performance.now() when it first missed a change it has not drawn yet
  const fresh = new Set(views.keys()); // never drawn: their first update gets every kind of change
  const running = new Set(); // updates under way
  let waiters = [];
  let settledHooks = [];
  let handle = null;
  let first = true;
  let measured = 0;

  const later = window.requestIdleCallback
    ? (fn, timeout) => window.requestIdleCallback(fn, { timeout })
    : (fn, timeout) => setTimeout(fn, Math.min(16, timeout));

  /** The missed view that has waited longest. */
  const oldest = () => [...since].reduce((a, b) => (b[1] < a[1] ? b : a))[0];

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
    since.delete(id);
    let job;
    const ctx = context();
    const t0 = performance.now();
    try {
      job = Promise.resolve(views.get(id).update(ctx, all));
    } catch (e) {
      job = Promise.reject(e);
    }
    running.add(job);
    // Drawn once: page.css stops holding the room it kept for the view before its data came.
    job.then(() => {
      // For bench/ui_latency.py: when each view caught up with a text of this length, and how long it took.
      if (++measured % KEPT_MEASURES === 0) performance.clearMeasures('gs:drawn');
      performance.measure('gs:drawn', { start: t0, detail: { id, chars: ctx.text.length } });
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
    const due = since.get(oldest()) + BUDGET_MS - performance.now();
    handle = later(async () => {
      try {
        // The views it listed may have been drawn meanwhile (scrolled into view): then nothing is left here.
        if (missed.size) await update(oldest(), new Set());
      } finally {
        handle = null;
        drain();
      }
    }, Math.max(1, due));
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
        if (!first && !concerns(id, changed)) continue; // nothing of it to draw: not held for an idle moment
        if (first || always.has(id) || onScreen.has(id)) jobs.push(update(id, changed));
        else {
          if (!missed.has(id)) since.set(id, performance.now());
          missed.set(id, new Set([...(missed.get(id) || []), ...changed]));
        }
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
