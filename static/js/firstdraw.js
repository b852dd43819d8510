// The page's first drawing, progressive. Plotly.js (4.8 MB) runs only after the text box is ready, and the first
// trace does not wait for it: the views that need no Plotly draw at once, and the figures as soon as it has
// arrived. Until it has drawn once, each view takes its turn, one per frame in the order it was asked (main.js's
// VIEWS order at the first trace: the top of the page first), so the browser paints and answers keystrokes
// between them instead of freezing for every view's first drawing at once. Updates asked for while a view waits
// for its turn join the one waiting (the newest context, every change asked for): it draws once, with the newest
// text, never first a stale one. After its first drawing a view is called directly: nothing here stands between
// a keystroke and a view already drawn.

const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));

/**
 * `entries` as main.js's VIEWS, where `plotly: true` marks a view that draws with Plotly; `plotly` resolves once
 * Plotly is there. Returns the same entries, each module's create() returning a view (view.js's contract) whose
 * updates wait for their turn until the first has drawn.
 */
export function progressive(entries, plotly) {
  let turn = Promise.resolve(); // the last turn handed out: the next view draws one frame after it

  return entries.map((entry) => {
    if (entry.always && !entry.plotly) return entry; // the header's and the notice's: cheap, drawn at once
    const wait = entry.plotly ? plotly : Promise.resolve();
    const create = (el) => {
      const view = entry.module.create(el);
      // null: never asked; a promise: the updates asked for so far, chained behind the first; undefined: drawn
      let queue = null;
      let pending = null; // the first update while it waits for its turn: {ctx, changed, job}
      const chain = (job) => {
        const tail = job.catch(() => {});
        queue = tail;
        tail.then(() => {
          if (queue === tail) queue = undefined; // nothing asked meanwhile: from now on, direct
        });
        return job;
      };
      return {
        update(ctx, changed) {
          if (queue === undefined) return view.update(ctx, changed);
          if (pending) { // not drawn yet: draw once, the newest context with every change asked for
            pending.ctx = ctx;
            for (const c of changed) pending.changed.add(c);
            return pending.job;
          }
          if (queue) return chain(queue.then(() => view.update(ctx, changed)));
          const asked = { ctx, changed: new Set(changed) };
          pending = asked;
          asked.job = wait.then(() => (turn = turn.then(frame))).then(() => {
            pending = null;
            return view.update(asked.ctx, asked.changed);
          });
          return chain(asked.job);
        },
      };
    };
    return { ...entry, module: { ...entry.module, create } };
  });
}
