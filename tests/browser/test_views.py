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
