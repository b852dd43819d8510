// The page's entry: registers the views (VIEWS), builds the panels, wires the header, the text box and the views'
// requests to actions.js, and opens the first model and text. The layering: state (pagestate.js, changed by
// actions.js and tracing.js) -> views, each called only through the contract of view.js (by scheduler.js); views
// ask for state changes with `gs:select` events and never change it themselves.

import * as api from './api.js';
import * as classroom from './classroom.js';
import * as i18n from './i18n.js';
import { loadPlotly } from './plot.js';
import * as bars from './bars.js';
import * as compare from './compare.js';
import * as contrast from './contrast.js';
import * as exporter from './exporter.js';
import * as census from './census.js';
import * as corpusSaturation from './corpussat.js';
import * as corpusUnit from './corpusunit.js';
import * as heatmaps from './heatmaps.js';
import * as lesson from './lesson.js';
import * as oov from './oov.js';
import * as present from './present.js';
import * as patterns from './patterns.js';
import * as predictions from './predictions.js';
import * as saturation from './saturation.js';
import * as step from './step.js';
import * as tabs from './tabs.js';
import * as timeline from './timeline.js';
import * as unit from './unit.js';
import { loadModel, onControl, onLanguage, onPanel, select } from './actions.js';
import { controls } from './controls.js';
import { context, page } from './pagestate.js';
import { DEFAULT_TEXT, writeUrl } from './url.js';
import * as statusline from './statusline.js';
import { status } from './statusline.js';
import * as train from './train.js';
import { onInput, redraw, want } from './tracing.js';
import * as upload from './upload.js';
import * as vectors from './vectors.js';
import { CHANGES, everything } from './view.js';
import { firstExample, initIntro, openCard } from './welcome.js';

// The views: the id of each one's container in templates/index.html and its module (view.js's contract).
// A new view is one more entry. `always`: drawn at once wherever it is (cheap, or in the fixed header);
// the others at once when on screen, else when the browser is idle. `plotly`: true when the view draws with Plotly,
// or a function of the context saying whether this update does; such an update loads Plotly and waits for it
// (firstdraw.js), the others draw as soon as the trace is there.
const VIEWS = [
  { id: 'timeline', module: timeline, always: true },
  { id: 'oov', module: oov, always: true },
  { id: 'heatmaps', module: heatmaps },
  { id: 'bars', module: bars },
  { id: 'step', module: step },
  { id: 'unit', module: unit },
  { id: 'predictions', module: predictions },
  { id: 'saturation', module: saturation },
  // Off, waiting or refused, the comparison is a sentence; only a result is a figure.
  { id: 'compare', plotly: (ctx) => Boolean(ctx.compare && ctx.compare.answer), module: compare },
  // Over the model's corpus index (python -m app index): the census, the unit's contexts, pattern search.
  { id: 'census', module: census },
  { id: 'corpus-unit', module: corpusUnit },
  { id: 'patterns', module: patterns },
  { id: 'corpus-saturation', module: corpusSaturation },
  // At once: the views above keep their room before they draw (view.js reserve), and it follows their size for a while.
  { id: 'lesson-panel', module: lesson, always: true },
];

page.registry = VIEWS;
const $ = (id) => document.getElementById(id);
const { state } = page;

async function start() {
  // For tests and the console: the state, the last text drawn, the view registry and, from the first draw,
  // the view objects (`views`) and `idle()`, which resolves once every view has caught up.
  window.gatescope = { state, rendered: null, context: () => context(), registry: VIEWS, changes: CHANGES,
    views: null, idle: () => (page.views ? page.views.idle() : Promise.resolve()), i18n };
  // The text box waits for the catalogs, the models, the lessons and then the model's description; the first three
  // are asked for together (in the page's language, which init() chooses at once).
  const catalogs = i18n.init(api.getCatalog);
  const asked = [api.listModels(), api.listLessons()];
  for (const a of asked) a.catch(() => {}); // a failure is reported where it is awaited, below
  await catalogs;
  initIntro();
  $('lang').value = i18n.language();
  $('lang').addEventListener('change', (ev) => i18n.setLanguage(ev.target.value));
  document.addEventListener('gs:language', onLanguage);
  document.addEventListener('gs:relayout', () => { // presentation mode on or off: every figure's size changes
    state.present = present.presenting();
    writeUrl(state);
    if (page.current) redraw(everything());
  });
  present.init(state);
  const inputs = () => {
    const { current } = page;
    return { model: state.model, text: current ? current.text : state.text,
      vectors: current ? current.trace.vectors : null, wrap: current ? current.trace.wrap : false };
  };
  const panels = { upload: upload.create($('upload')), vectors: vectors.create($('vectors'), want),
    contrast: contrast.create($('compare-panel'), state, { inputs, onChange: onPanel,
      onResult: () => page.current && redraw(new Set(['compare'])) }) };
  panels.exporter = exporter.create($('export'), state, inputs);
  panels.train = train.create($('train'));
  page.panels = panels;
  panels.train.init().catch((e) => console.error(e));
  document.addEventListener('gs:model-added', ({ detail }) => {
    if (!page.info) location.assign(`?model=${encodeURIComponent(detail.id)}`); // the page started with no model
    else {
      controls.addModel(detail);
      page.models.push(detail);
      onControl('model', detail.id);
    }
  });
  const listing = await asked[0];
  const { models } = listing;
  page.models = models;
  const { directory, uploads } = listing;
  $('sec-upload').hidden = !uploads;
  tabs.show(tabs.valid(state.tab)); // '' (the first view) stays out of the URL
  tabs.init(() => tabs.valid(state.tab));
  if (!models.length) {
    // The directory as the server shows it (null in public mode), and whether a model can be imported here.
    statusline.fail(`status.no_models${directory ? '_in' : ''}${uploads ? '_or_import' : ''}`, { directory });
    return;
  }
  controls.init(models, state, onControl);
  // A lesson link (?lesson=hometown&step=3) opens on the lesson's model, or on the link's model if it has one
  // (?lesson=counter&model=train-…: a model kept from the Train panel; the server refuses one of another task),
  // and on its sentence unless the link carries another one.
  if (state.lesson && (await classroom.open(state, state.lesson, state.model))) {
    state.model = classroom.lesson().model;
    if (page.linked === null) state.text = classroom.lesson().text;
  }
  controls.lessons(await asked[1], state);
  // The model the server chose to open on (app/routes/page.py: the lesson's model, hometown, where it is shipped)
  // and wrote its example for into the text box, which takes typing from the first paint: what was typed wins.
  const box = $('text');
  const ids = models.map((m) => m.id);
  await loadModel(ids.includes(state.model) ? state.model : ids.find((id) => id === box.dataset.model) || ids[0]);
  if (box.value !== (page.linked ?? box.defaultValue)) state.text = box.value;
  // The example in the page's language, which may differ from the server's pick (a language chosen before).
  else if (state.text === null) state.text = firstExample(page.info) ?? DEFAULT_TEXT;
  box.value = state.text;
  $('text').addEventListener('input', onInput);
  performance.mark('gs:textbox'); // the text box holds its text and listens (bench/first_paint.py)
  $('card-open').addEventListener('click', () => openCard(page.info, controls.about(page.info)));
  document.addEventListener('gs:select', select);
  want();
}

/** Plotly for the updates that draw with it (firstdraw.js), loaded the first time one asks; a failure is said. */
page.plotly = () => loadPlotly().catch((e) => {
  status(e.message, true);
  throw e;
});

start().catch((e) => status(e.message, true));
