"""Every view follows the contract of static/js/view.js: create(el) -> {update(ctx, changed)}, its state in the
object it returns. Checked in the page main.js builds (its registry, every kind of change, a second instance
side by side) and, for module-level state, in the source."""
from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

JS = ROOT / "static" / "js"

# Runs in the page: for every registered view, its create() export, then update() for each kind of change
# alone, each time reading whether the view is still drawn; then a second instance in a new container.
CHECK = """async () => {
  const g = window.gatescope;
  const drawn = (el) => {
    const plots = [...el.querySelectorAll('.js-plotly-plot')];
    return el.childElementCount > 0 && el.textContent.trim().length > 0
      && plots.every((p) => Array.isArray(p.data) && p.data.length > 0);
  };
  const out = [];
  for (const { id, module } of g.registry) {
    const r = { id, create: typeof module.create, kinds: {}, errors: [] };
    const view = g.views.get(id);
    r.hasUpdate = Boolean(view) && typeof view.update === 'function';
    const el = document.getElementById(id);
    for (const kind of g.changes) {
      try {
        const ret = view.update(g.context(), new Set([kind]));
        r.kinds[kind] = { promise: ret === undefined || typeof ret.then === 'function' };
        await ret;
        r.kinds[kind].drawn = drawn(el);
      } catch (e) {
        r.errors.push(`${kind}: ${e.message}`);
      }
    }
    const box = document.createElement('div');
    document.querySelector('main').append(box);
    try {
      const second = module.create(box);
      await second.update(g.context(), new Set(g.changes));
      r.second = drawn(box);
    } catch (e) {
      r.errors.push(`second instance: ${e.message}`);
    }
    box.remove();
    out.push(r);
  }
  return out;
}"""


@pytest.mark.browser
@pytest.mark.slow
def test_every_registered_view_implements_the_contract(gs):
    gs.open("?model=english-char&unit=2")
    gs.type("The cat (sat) 内.")  # an unknown character, so the OOV notice has something to show
    gs.page.wait_for_function("document.getElementById('step-cards').childElementCount > 0")
    results = gs.page.evaluate(CHECK)
    kinds = gs.page.evaluate("window.gatescope.changes")
    assert {"data", "layer", "unit", "time", "step"} <= set(kinds)
    assert [r["id"] for r in results] == gs.page.evaluate("window.gatescope.registry.map((e) => e.id)")
    assert len(results) >= 8
    for r in results:
        assert r["create"] == "function", f"{r['id']}: the module exports no create(el)"
        assert r["hasUpdate"], f"{r['id']}: create() returned no update()"
        assert r["errors"] == [], f"{r['id']}: {r['errors']}"
        for kind in kinds:
            assert r["kinds"][kind] == {"promise": True, "drawn": True}, f"{r['id']} after '{kind}': {r['kinds'][kind]}"
        assert r["second"], f"{r['id']}: a second instance did not draw"
    # The page's own views still answer after the second instances came and went: state lives per instance.
    gs.page.locator("#sec-bars h2").click()
    gs.page.keyboard.press("Home")
    gs.page.wait_for_function("window.gatescope.state.t === 0")
    gs.settle()
    assert gs.page.evaluate("document.getElementById('heatmaps-plot').drawn.marker.t") == 0
    assert gs.page.input_value("#scrubber") == "0"
    assert gs.page.text_content("#unit-heading").startswith("Unit 2 ")


def modules_with_create() -> dict[str, str]:
    found = {p.name: p.read_text(encoding="utf-8") for p in sorted(JS.glob("*.js"))}
    return {name: src for name, src in found.items() if re.search(r"^export function create\(", src, re.M)}


def test_views_and_panels_keep_no_module_level_mutable_state():
    """A module that makes things with create() keeps their state in them: no top-level let or var."""
    makers = modules_with_create()
    assert len(makers) >= 10, sorted(makers)  # the eight views and the two input panels
    offenders = {name: re.findall(r"^(?:let|var) (\w+)", src, re.M) for name, src in makers.items()}
    assert not any(offenders.values()), {k: v for k, v in offenders.items() if v}


def test_only_api_js_talks_to_the_server():
    for p in JS.glob("*.js"):
        calls = re.findall(r"\bfetch\((.{0,12})|XMLHttpRequest", p.read_text(encoding="utf-8"))
        if p.name == "boot.js":  # the first trace, asked while the modules load, which api.js's request() adopts
            assert calls == ["'/api/trace'"], calls
        elif p.name != "api.js":
            assert not calls, p.name
    assert not re.search(r"export function (at|block|decodeArray)\b", (JS / "api.js").read_text(encoding="utf-8"))


# Runs in the page: every view that says what it draws (view.js `draws`) is handed, for each kind of change it does
# not list, a context that differs from what it shows in every way (an earlier text, another t, unit, layer,
# quantity, order, step answer, comparison and no lesson) and that kind alone: its DOM and canvases must not move.
# A `draws` that leaves out a kind its view does draw shows as a change here.
UNTOLD = """async (old) => {
  const g = window.gatescope;
  const shot = (el) => [el.innerHTML, ...[...el.querySelectorAll('canvas')].map((c) => c.toDataURL())].join('|');
  const now = g.context();
  const ctx = { ...old, state: { ...now.state, t: 1, unit: (now.state.unit + 5) % now.H, quantity: 'f',
    order: now.state.order === 'index' ? 'variance' : 'index' }, step: 'another step',
    compare: { view: 'texts', note: 'compare.need_text2' }, lesson: null };
  const out = [];
  for (const { id, module } of g.registry) {
    if (!module.draws) continue;
    const el = document.getElementById(id);
    const r = { id, draws: [...module.draws], moved: [] };
    for (const kind of g.changes.filter((k) => !module.draws.includes(k))) {
      const before = shot(el);
      await g.views.get(id).update(ctx, new Set([kind]));
      if (shot(el) !== before) r.moved.push(kind);
    }
    out.push(r);
  }
  return out;
}"""


@pytest.mark.browser
def test_a_view_draws_nothing_for_a_change_it_does_not_list(gs):
    gs.open("?model=english-char&unit=2")
    gs.type("The cat")
    gs.page.evaluate("window.__old = window.gatescope.context()")
    gs.type("The cat (sat) on the mat.")
    gs.page.wait_for_function("document.getElementById('step-cards').childElementCount > 0")
    gs.settle()
    results = gs.page.evaluate(f"({UNTOLD})(window.__old)")
    kinds = set(gs.page.evaluate("window.gatescope.changes"))
    assert len(results) >= 8, results  # every view but the header's, the notice's and the lesson's says
    for r in results:
        assert set(r["draws"]) <= kinds, r
        assert r["moved"] == [], f"{r['id']} drew for {r['moved']}, which its `draws` leaves out"


# Runs in the page: from now on, each update the scheduler gives a view, as [id, kinds].
SPY = """() => {
  window.__told = [];
  for (const [id, view] of window.gatescope.views) {
    const update = view.update.bind(view);
    view.update = (ctx, changed) => { window.__told.push([id, [...changed]]); return update(ctx, changed); };
  }
}"""


@pytest.mark.browser
def test_views_are_told_only_of_what_they_draw(gs):
    """A keystroke with the comparison off tells no view of 'compare' (it used to redraw every view on screen a
    second time, and hold every view below the fold for it); a new t and its step answer reach the views that draw
    them, not those below the fold that draw neither (they used to wait for an idle moment, up to half a second,
    before `idle()` could resolve)."""
    gs.open("?model=english-char&unit=2")
    gs.type("The cat sat")
    gs.page.evaluate(SPY)
    gs.page.locator("#text").press("End")
    gs.page.locator("#text").press_sequentially(".")
    gs.wait_drawn("The cat sat.")
    told = gs.page.evaluate("window.__told")
    assert told, "the keystroke reached no view"
    assert not [t for t in told if "compare" in t[1]], told
    assert {"heatmaps", "census", "patterns"} <= {i for i, kinds in told if "data" in kinds}, told
    gs.page.evaluate(SPY)
    gs.page.locator("#sec-bars h2").click()
    gs.page.keyboard.press("Home")  # t = 0: a new time, then its step answer
    gs.wait("() => window.gatescope.state.t === 0 && window.gatescope.context().step !== null")
    gs.wait("() => window.__told.some(([id, kinds]) => id === 'step' && kinds.includes('step'))")
    gs.settle()
    told = gs.page.evaluate("window.__told")
    assert {i for i, _ in told} >= {"heatmaps", "bars", "step"}, told
    for view in ("census", "patterns", "saturation", "corpus-saturation"):  # draw neither a time nor a step
        assert view not in {i for i, _ in told}, (view, told)
