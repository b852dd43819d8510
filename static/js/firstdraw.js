// The page's first drawing, progressive, and Plotly.js (4.8 MB) only for an update that draws with it. The first
// trace does not wait for Plotly: a view that draws without it draws at once. Until it has drawn once, each view
// takes its turn in the order it was asked (main.js's VIEWS order at the first trace: the top of the page first),
// in slices of about SLICE_MS of the main thread: a turn that starts later than that after its slice began waits for
// the next frame, so the browser paints and answers keystrokes between slices instead of freezing for every view's
// first drawing at once, and the views that draw in a millisecond or two share a frame instead of each waiting for
// one (11 frames of 10-35 ms each at a cold load, most of it waiting; now 3-4). An update that needs Plotly (the
// VIEWS entry's `plotly` says which) asks for it (plot.js loadPlotly: it is loaded then, once) and waits for it; the
// view's other updates never do. Updates asked for while a view waits (its turn, or Plotly) join the one waiting (the
// newest context, every change asked for): it draws once, with the newest text, never first a stale one. Once drawn,
// and while Plotly is not awaited, a view is called directly: nothing here stands between a keystroke and a view
// already drawn.

import { loadPlotly } from './plot.js';

const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
const SLICE_MS = 40; // the longest a slice of first drawings may have run before the next one waits for a frame

/** Whether VIEWS entry `entry` draws context `ctx` with Plotly: its `plotly` is true, or a function of ctx. */
const needs = (entry, ctx) => (typeof entry.plotly === 'function' ? entry.plotly(ctx) : Boolean(entry.plotly));

/**
 * `entries` as main.js's VIEWS. Returns the same entries, each module's create() returning a view (view.js's
 * contract) whose updates wait for their turn until the first has drawn, and for Plotly when they need it.
 * `plotly()` loads Plotly and resolves once it is there (plot.js loadPlotly, the default).
 */
export function progressive(entries, plotly = loadPlotly) {
  let turn = Promise.resolve(); // the last turn handed out: the next view draws after it, in its slice or the next
  let slice = null; // when the current slice began (performance.now()); null before the first turn
  // Run in the turn's order, after the turn before has started its view's drawing (its synchronous part). The first
  // slice starts at once: the page has painted long before its first trace comes (waiting for a frame there cost
  // 25-55 ms at a cold load).
  const next = () => {
    if (slice === null) slice = performance.now();
    return performance.now() - slice < SLICE_MS ? undefined : frame().then(() => { slice = performance.now(); });
  };

  return entries.map((entry) => {
    if (entry.always && !entry.plotly) return entry; // the header's and the notice's: cheap, drawn at once
    const create = (el) => {
      const view = entry.module.create(el);
      let drawn = false; // the first update has had its turn
      let queue = null; // the updates asked for so far, chained in order; null once they have all drawn
      let pending = null; // the update waiting for its turn or for Plotly: {ctx, changed, job}
      const chain = (job) => {
        const tail = job.catch(() => {});
        queue = tail;
        tail.then(() => {
          if (queue === tail) queue = null; // nothing asked meanwhile: from now on, direct
        });
        return job;
      };
      const ready = (ctx) => window.Plotly || !needs(entry, ctx);
      async function run(asked, first) {
        try {
          if (first) await (turn = turn.then(next));
          while (!ready(asked.ctx)) await plotly(); // asked.ctx may be replaced meanwhile: asked again
        } finally {
          pending = null; // drawn now, or Plotly failed (plotly() said so): the next update asks again
        }
        drawn = true;
        return view.update(asked.ctx, asked.changed);
      }
      return {
        update(ctx, changed) {
          if (pending) { // waiting: draw once, the newest context with every change asked for
            pending.ctx = ctx;
            for (const c of changed) pending.changed.add(c);
            return pending.job;
          }
          if (drawn && queue === null && ready(ctx)) return view.update(ctx, changed);
          const asked = { ctx, changed: new Set(changed) };
          pending = asked;
          const first = !drawn;
          asked.job = queue ? queue.then(() => run(asked, first)) : run(asked, first);
          return chain(asked.job);
        },
      };
    };
    return { ...entry, module: { ...entry.module, create } };
  });
}
