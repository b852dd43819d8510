// Draws the views that are on screen at once and the others when the browser is idle (or as soon as they
// scroll into view), so a keystroke waits only for what the person can see. Every view still ends up
// current: `idle()` resolves once nothing is left to draw.

/**
 * views: {id: module}; always: ids drawn at once wherever they are (cheap, or part of the fixed header);
 * context: () => the current view context.
 */
export function scheduler(views, always, context) {
  const onScreen = new Set();
  const stale = new Set();
  let waiters = [];
  let handle = null;
  let settledHooks = [];

  const later = window.requestIdleCallback
    ? (fn) => window.requestIdleCallback(fn, { timeout: 250 })
    : (fn) => setTimeout(fn, 16);

  function settle() {
    for (const fn of settledHooks) fn();
    settledHooks = [];
    for (const resolve of waiters) resolve();
    waiters = [];
  }

  function refresh(id) {
    stale.delete(id);
    return views[id].update(context());
  }

  function drain() {
    if (handle !== null) return;
    if (!stale.size) { settle(); return; }
    handle = later(async () => {
      const id = stale.values().next().value;
      try {
        await refresh(id);
      } finally {
        handle = null;
        drain();
      }
    });
  }

  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (e.isIntersecting) onScreen.add(e.target.id);
      else onScreen.delete(e.target.id);
    }
    for (const id of [...stale]) if (onScreen.has(id)) refresh(id);
  }, { rootMargin: '150px' });

  const now = (id) => always.includes(id) || onScreen.has(id);

  return {
    /** First draw: every view renders into its element, and the observer starts watching them. */
    render(ctx) {
      const jobs = Object.entries(views).map(([id, view]) => view.render(document.getElementById(id), ctx));
      for (const id of Object.keys(views)) observer.observe(document.getElementById(id));
      return Promise.all(jobs);
    },

    /** Redraw for `ctx`: `how` is 'update' (new data), 'time' or 'unit' (cheaper paths where a view has one). */
    draw(ctx, how = 'update') {
      const jobs = [];
      for (const [id, view] of Object.entries(views)) {
        const fn = how === 'time' ? view.setTime : how === 'unit' ? view.setUnit || view.setTime : view.update;
        if (!fn) continue;
        if (now(id) && !stale.has(id)) jobs.push(fn(ctx));
        else if (now(id)) jobs.push(refresh(id));
        else stale.add(id);
      }
      return Promise.all(jobs).then(() => drain());
    },

    /** Call `fn` once every view has caught up with what was last drawn. */
    whenSettled(fn) {
      if (!stale.size && handle === null) fn();
      else settledHooks.push(fn);
    },

    idle: () => (stale.size || handle !== null ? new Promise((r) => waiters.push(r)) : Promise.resolve()),
  };
}
