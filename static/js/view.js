// THE contract every view of the page follows. main.js registers the views (one entry each in VIEWS) and
// scheduler.js calls them; nothing else does. A view is one ES module that exports:
//
//   export function create(el) -> { update(ctx, changed) }
//
// create(el)  builds the view's DOM inside its container `el` (the element whose id the VIEWS entry names)
//             and returns the view object. Every piece of the view's state lives in that object (or the
//             closure that makes it), never in module-level variables: two instances of one view must be
//             able to live side by side (two texts compared, a lesson's copy). It draws no data yet.
// update(ctx, changed)
//             draws the view for context `ctx`. `changed` is a Set of CHANGES (below): everything that
//             differs since this view last drew; a view off screen receives the union of what it missed,
//             and the first call holds every kind. The view does the cheapest redraw that is correct and
//             may ignore kinds that do not concern it. It returns a Promise that resolves once it is drawn
//             (Plotly's promise), or nothing.
//
// Optionally, a view module also exports
//
//   export const draws = [...CHANGES]
//
//             the kinds of change its update draws; for any other kind it does nothing. The scheduler never calls
//             it, nor holds it back to be drawn when the browser is idle, for a change of none of these kinds
//             (a step answer, an off comparison): a view without `draws` is told of every change.
//
//   export function reserve(info) -> px
//
//             the height the view will take for model `info` (ModelInfo), which main.js holds for it before
//             the data arrives, so nothing below jumps when it draws. A view without it gets the fixed room
//             page.css gives its container until its first update has drawn (scheduler.js marks it data-drawn).
//
// Views never change the state themselves: they `emit` a request (plot.js: {t}, {unit}, {layer}, ...) and
// main.js decides. A new view: write the module, give it a container in templates/index.html, add one
// VIEWS entry in main.js; tests/browser/test_views.py then checks it against this contract.
//
// The context (pagestate.js builds it; read it, never write it):
//   trace    the /api/trace answer, i f g o c h decoded by arrays.js to {data, shape [L', D, T, H]}
//            (L' = trace.layers.length), plus tokens, oov, top_k, next_prob...
//   text     the text traced;  info: the model (/api/models/{id}: ModelInfo + vocab, unk, card)
//   state    a copy of the page state: model, text, layer, direction, unit, t, quantity, order
//   slot     index of state.layer in trace.layers;  L, D, T, H: the shape of trace.i
//   order    unit indices in display order (state.order applied to state.quantity)
//   labels   the tokens escaped for Plotly labels;  wordTokens: true for word-level models
//   step     the /api/step answer for (layer, direction, t, unit); null while on its way, or an error sentence
//   compare  the comparison panel's result (contrast.js): null when off, else {view, answer} with the decoded
//            /api/compare answer, {view, error} with the server's sentence, or {view, note} (a catalog key)
//   lesson   null, or {info: the /api/lessons/{id} answer (unit, write, evidence...), step: 0..6}

/** What can change between two draws. */
export const CHANGES = Object.freeze([
  'data', // a new trace: the text, the model or the input vectors changed
  'layer', // the layer or the direction shown
  'quantity', // the quantity the text is coloured by (it also sorts the units)
  'order', // how the units are ordered
  'unit', // the chosen unit
  'time', // the chosen timestep t
  'step', // the /api/step answer arrived or was cleared (ctx.step)
  'compare', // the /api/compare answer arrived or was cleared, or the comparison panel changed (ctx.compare)
  'lesson', // a lesson started, ended or moved to another step (ctx.lesson)
]);

/** A Set of every kind of change: what a view's first update receives. */
export const everything = () => new Set(CHANGES);

/** True when `changed` holds any of `kinds`. */
export const any = (changed, ...kinds) => kinds.some((k) => changed.has(k));
