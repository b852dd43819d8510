"""The page's first drawing (static/js/firstdraw.js): every view draws once, in main.js's VIEWS order, and in slices:
views whose first drawing takes a millisecond or two share a frame instead of each waiting for one of its own (at a
cold load, eleven frames of 10-35 ms each, most of it waiting), the first of them at once."""
from __future__ import annotations

import pytest

from tests.browser.conftest import Page, new_context

pytestmark = [pytest.mark.browser]

# Before the page's scripts: a frame counter, and for each view the frame and the order in which the scheduler
# marked it drawn (data-drawn, set once its first update has drawn).
FRAMES = """(() => {
  window.__frame = 0;
  const tick = () => { window.__frame += 1; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  window.__drawn = [];
  const measure = performance.measure.bind(performance); // the frame in which the first answer was in hand
  performance.measure = (name, ...rest) => {
    if (name === 'gs:api' && window.__answered === undefined) window.__answered = window.__frame;
    return measure(name, ...rest);
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.target.id && r.target.hasAttribute('data-drawn') && !window.__drawn.some(([id]) => id === r.target.id)) {
        window.__drawn.push([r.target.id, window.__frame]);
      }
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-drawn'] });
})()"""


def test_the_first_drawing_keeps_the_page_order_and_shares_frames(browser, server):
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    context.add_init_script(FRAMES)
    gs = Page(context.new_page(), server)
    gs.open("?model=english-char")
    drawn = gs.page.evaluate("window.__drawn")
    answered = gs.page.evaluate("window.__answered")
    registry = gs.page.evaluate("window.gatescope.registry.filter((e) => !e.always).map((e) => e.id)")
    context.close()
    assert gs.errors == [], gs.errors
    frame = {i: f for i, f in drawn if i in registry}
    assert set(frame) == set(registry), drawn  # each drew once
    # In the page's order, the top of the page first (a view that fetches, as the census does, ends later).
    assert frame[registry[0]] == min(frame.values()) and frame["bars"] <= frame["unit"], drawn
    # The first slice starts at once: the page painted long before its first answer, so no frame is waited for.
    assert frame[registry[0]] == answered, (answered, drawn)
    frames = list(frame.values())
    # One view per frame gave as many frames as views; the views that draw in a millisecond share them.
    assert len(set(frames)) < len(registry) - 3, drawn
