"""The comparison panel in Chromium: two texts, a clamped unit and a model's training snapshots, each drawn
with the values /api/compare answers; a shared link reopens the same view (state and values) with the texts in
the fragment only; the figures save as PNG and SVG with real heatmap cells; the data downloads; and the HTML
snapshot draws its figures from file:// with the network blocked."""
from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlparse

import numpy as np
import pytest

from app.testing import start_server, stop_server
from tests.app.wire import decode
from tests.browser.canvas import VIRIDIS, drawn, lookup_step, on_scale
from tests.browser.conftest import ARTIFACTS, new_context, open_page
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
GATES = ("i", "f", "g", "o", "c", "h")

# The compare figure's heatmaps as plain lists: [[name, z rows], ...] (a, b, then the difference).
HEATMAPS = """() => document.querySelector('#compare .compare-plot').data.filter((d) => d.type === 'heatmap')
  .map((d) => [d.name, d.z.map((row) => Array.from(row))])"""


def close(page_rows, want: np.ndarray, scale: float) -> None:
    """Page values (decoded from the compact wire into float32) against the API's exact ones."""
    got = np.array(page_rows, dtype=np.float64)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= scale / 2 + 1e-6 * max(1.0, np.abs(want).max())


def wait_compare(gs) -> None:
    gs.page.wait_for_function("document.querySelector('#compare .compare-plot') !== null "
                              "&& document.querySelector('#compare .compare-plot').data !== undefined")
    gs.settle()


def test_two_texts_show_the_compare_api_values(gs):
    a, b = "the cat sat on the mat", "the dog sat on the mat"
    gs.open(f"?model=english-char&view=texts&layer=1&quantity=g&unit=5#text={quote(a)}&text2={quote(b)}")
    wait_compare(gs)
    want = gs.api("/api/compare", {"a": {"model": "english-char", "text": a}, "b": {"text": b}, "format": "json"})
    wire = gs.api("/api/compare", {"a": {"model": "english-char", "text": a}, "b": {"text": b}})
    heat = gs.page.evaluate(HEATMAPS)
    close(heat[0][1], decode(want["a"]["g"])[0][1, 0].T, wire["a"]["g"]["scale"])
    close(heat[1][1], decode(want["b"]["g"])[0][1, 0].T, wire["b"]["g"]["scale"])
    close(heat[2][1], decode(want["diff"]["g"])[0][1, 0].T, wire["diff"]["g"]["scale"])
    assert want["alignment"]["prefix"] == 4 and want["alignment"]["suffix"] == 15  # "the " and " sat on the mat"
    summary = gs.page.text_content("#compare-summary")
    j = want["divergence"]["any"][1][0]
    assert f"t = {want['alignment']['pairs'][j][0]} in a" in summary
    bars = gs.page.evaluate("document.querySelector('#compare .compare-plot').data.find((d) => d.type === 'bar').y")
    np.testing.assert_allclose([np.nan if v is None else v for v in bars],
                               [np.nan if v is None else v for v in want["next_prob_delta"]], atol=1e-12)
    # typing in the second box redraws the comparison
    gs.page.fill("#text2", "the cow sat on the mat")
    gs.page.wait_for_function("document.getElementById('compare-summary').textContent.includes('align on 20')")
    gs.shot("compare-texts", "#sec-compare")


def test_clamping_a_unit_shows_the_clamped_run_beside_the_unmodified_one(gs):
    gs.open("?model=english-char&unit=3&t=6&layer=0#text=the%20cat%20sat%20on%20the%20mat")
    gs.page.check("input[name=compare-view][value=clamp]")
    gs.page.wait_for_function("document.getElementById('compare-summary').textContent.length > 0")
    gs.page.select_option("#clamp-quantity", "c")
    gs.page.fill("#clamp-value", "2.5")
    gs.page.click("#clamp-add")
    wait_compare(gs)
    assert "c.0.0.3=2.5@6" in gs.page.evaluate("decodeURIComponent(location.search)")
    iv = {"layer": 0, "direction": 0, "unit": 3, "quantity": "c", "value": 2.5, "positions": [6]}
    body = {"a": {"model": "english-char", "text": "the cat sat on the mat"}, "b": {"interventions": [iv]}}
    want = gs.api("/api/compare", {**body, "format": "json"})
    wire = gs.api("/api/compare", body)
    heat = gs.page.evaluate(HEATMAPS)
    close(heat[1][1], decode(want["b"]["c"])[0][0, 0].T, wire["b"]["c"]["scale"])
    assert heat[1][1][3][6] == pytest.approx(2.5, abs=wire["b"]["c"]["scale"])  # the clamped cell
    close(heat[2][1], decode(want["diff"]["c"])[0][0, 0].T, wire["diff"]["c"]["scale"])
    diff = decode(want["diff"]["c"])[0]
    assert np.all(diff[:, :, :6] == 0) and np.all(diff[1, 0, 6:].any(axis=-1))  # nothing before t, layer 1 after
    bars = gs.page.evaluate("document.querySelector('#compare .compare-plot').data.find((d) => d.type === 'bar').y")
    np.testing.assert_allclose([np.nan if v is None else v for v in bars],
                               [np.nan if v is None else v for v in want["next_prob_delta"]], atol=1e-12)
    assert any(v not in (None, 0) for v in want["next_prob_delta"][7:])  # the predictions after t moved
    marks = gs.page.evaluate("document.querySelector('#compare .compare-plot').data"
                             ".filter((d) => d.type === 'scatter' && d.xaxis === 'x2').map((d) => [d.x, d.y])")
    assert marks == [[[6], [3]]]
    assert "held at 2.5" in gs.page.text_content("#clamp-list")
    gs.page.click("text=Silence this unit (h = 0 everywhere)")
    gs.page.wait_for_function("decodeURIComponent(location.search).includes('h.0.0.3=0@*')")
    gs.page.click("#clamp-list button.remove >> nth=0")
    gs.page.wait_for_function("!decodeURIComponent(location.search).includes('c.0.0.3')")
    gs.shot("compare-clamp", "#sec-compare")


@pytest.fixture(scope="module")
def counter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with the shipped counter and its shipped training history (models/history/counter, linked)."""
    d = tmp_path_factory.mktemp("counter-history")
    (d / "counter.safetensors").symlink_to(ROOT / "models" / "counter.safetensors")
    (d / "history").mkdir()
    (d / "history" / "counter").symlink_to(ROOT / "models" / "history" / "counter", target_is_directory=True)
    base, proc = start_server(d)
    yield base
    stop_server(proc)


def test_a_slider_over_the_shipped_counters_training_snapshots(browser, counter_server):
    manifest = json.loads((ROOT / "models" / "history" / "counter" / "history.json").read_text())
    steps = [row["step"] for row in manifest["snapshots"]]
    gen = open_page(browser, counter_server)
    gs = next(gen)
    try:
        gs.open("?model=counter&view=models&quantity=c#text=aaaaXbbbb.")
        gs.page.wait_for_selector("#history:visible")
        assert gs.page.get_attribute("#history", "max") == str(len(steps) - 1)
        assert gs.page.input_value("#history") == str(len(steps) - 1)  # the finished model to begin with
        for k in (0, 8):  # the first snapshot, and one from the middle of learning
            snap = f"counter~step-{steps[k]:06d}"
            gs.page.fill("#history", str(k))
            gs.page.wait_for_function(f"new URLSearchParams(location.search).get('b') === '{snap}'")
            gs.page.wait_for_function(f"document.getElementById('history-step').textContent.includes('{steps[k]}')")
            wait_compare(gs)
            gs.page.wait_for_function(f"document.querySelector('#compare .compare-plot').data[1].name === '{snap}'")
            want = gs.api("/api/compare", {"a": {"model": "counter", "text": "aaaaXbbbb."}, "b": {"model": snap},
                                           "format": "json"})
            wire = gs.api("/api/compare", {"a": {"model": "counter", "text": "aaaaXbbbb."}, "b": {"model": snap}})
            heat = gs.page.evaluate(HEATMAPS)
            close(heat[0][1], decode(want["a"]["c"])[0][0, 0].T, wire["a"]["c"]["scale"])
            close(heat[1][1], decode(want["b"]["c"])[0][0, 0].T, wire["b"]["c"]["scale"])
            close(heat[2][1], decode(want["diff"]["c"])[0][0, 0].T, wire["diff"]["c"]["scale"])
        gs.shot("compare-history", "#sec-compare")
    finally:
        next(gen, None)


def page_view(gs) -> dict:
    """What the page shows: its state, the heatmap values of the chosen unit, and the comparison's values."""
    return gs.page.evaluate("""() => {
      const g = window.gatescope;
      const heat = document.getElementById('heatmaps-plot').drawn.panels
        .map((p) => ({ z: p.z, y: p.units.map(String) }));
      const cmp = document.querySelector('#compare .compare-plot');
      return { state: { ...g.state }, lang: document.documentElement.lang,
        rows: heat.map((d) => Array.from(d.z[d.y.indexOf(String(g.state.unit))])),
        compare: cmp ? cmp.data.filter((d) => d.type === 'heatmap').map((d) => d.z.map((r) => Array.from(r))) : null,
        summary: document.getElementById('compare-summary')?.textContent,
        scrubber: document.getElementById('scrubber').value };
    }""")


def test_a_shared_link_reopens_the_same_view(browser, server):
    first = open_page(browser, server)
    gs = next(first)
    seen: list[str] = []
    try:
        gs.page.on("request", lambda r: seen.append(r.url))
        text = "a secret sentence about the cat"
        gs.open(f"?model=english-char&layer=1&unit=7&quantity=f&order=variance&lang=zh-CN&view=clamp"
                f"&iv=f.1.0.7=0@4-6#text={quote(text)}")
        wait_compare(gs)
        gs.page.locator("#sec-bars h2").click()
        gs.page.keyboard.press("Home")
        for _ in range(9):
            gs.page.keyboard.press("ArrowRight")
        gs.page.wait_for_function("window.gatescope.state.t === 9")
        gs.settle()
        gs.page.click("#export button >> nth=0")  # copy link: it shows in the field too
        link = gs.page.input_value("#share-link")
        before = page_view(gs)
    finally:
        next(first, None)
    parsed = urlparse(link)
    assert "secret" not in parsed.query and "secret" in parsed.fragment  # the text never goes to the server
    assert not [u for u in seen if "secret" in u]
    q = parse_qs(parsed.query)
    assert q["unit"] == ["7"] and q["t"] == ["9"] and q["layer"] == ["1"] and q["lang"] == ["zh-CN"]
    assert q["view"] == ["clamp"] and q["iv"] == ["f.1.0.7=0@4-6"]
    second = open_page(browser, server)
    gs2 = next(second)
    try:
        gs2.open(link[len(server) + 1:])
        wait_compare(gs2)
        after = page_view(gs2)
        assert after == before  # the same state, language, values, comparison and sentence
        assert after["state"]["unit"] == 7 and after["state"]["t"] == 9 and after["lang"] == "zh-CN"
        gs2.shot("shared-link")
    finally:
        next(second, None)


def test_figures_save_as_png_and_svg_with_the_heatmap_cells(gs):
    gs.open("?model=english-char&unit=2#text=the%20cat")
    gs.page.locator("#heatmaps-plot").scroll_into_view_if_needed()
    gs.settle()
    heat = drawn(gs.page, "heatmaps-plot")
    with gs.page.expect_download() as download:
        gs.page.click("#heatmaps .figure-saves button[data-format=svg]")
    assert download.value.suggested_filename == "heatmaps-plot.svg"
    svg = ARTIFACTS / "heatmaps-export.svg"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    download.value.save_as(svg)
    text = svg.read_text(encoding="utf-8")
    images = re.findall(r'<image [^>]*href="(data:image/png;base64,[^"]+)"', text)
    assert text.startswith("<svg") and len(images) == 12  # each subplot's cells and its colour bar
    assert ">c<" in text and ">forget gate f<" in text  # the token labels, the subplots' titles
    # The file's cells are the API's values: i's image, decoded by the browser, holds one pixel per cell (H, T),
    # each the colour of its value on Viridis.
    exact = np.array(gs.api("/api/trace", {"model": "english-char", "text": "the cat", "format": "json"})["i"][0][0])
    H, T, flat = gs.page.evaluate("""async (src) => { const img = new Image(); img.src = src; await img.decode();
      const c = Object.assign(document.createElement('canvas'), { width: img.width, height: img.height });
      const g = c.getContext('2d'); g.drawImage(img, 0, 0);
      return [img.height, img.width, Array.from(g.getImageData(0, 0, img.width, img.height).data)]; }""", images[0])
    assert (H, T) == (16, 7)
    cells = np.array(flat, dtype=float).reshape(H, T, 4)[..., :3]
    np.testing.assert_allclose(cells, on_scale(VIRIDIS, exact.T), rtol=0, atol=lookup_step(VIRIDIS) + 1)
    with gs.page.expect_download() as download:
        gs.page.click("#heatmaps .figure-saves button[data-format=png]")
    head = download.value.path().read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (2 * heat["width"], 2 * heat["height"])
    # The saturation figure, drawn on a canvas of our own, saves the same drawing as SVG (through the SVG
    # painter) and as a PNG twice its size on the page.
    gs.page.locator("#saturation-plot").scroll_into_view_if_needed()
    gs.settle()
    sat = gs.page.evaluate("document.getElementById('saturation-plot').drawn")
    with gs.page.expect_download() as download:
        gs.page.click("#saturation .figure-saves button[data-format=svg]")
    assert download.value.suggested_filename == "saturation-plot.svg"
    svg = ARTIFACTS / "saturation-export.svg"
    download.value.save_as(svg)
    text = svg.read_text(encoding="utf-8")
    points = sum(len(lay["hi"]) for p in sat["panels"] for lay in p["layers"])  # 3 gates x 2 layers x 16 units
    assert text.startswith("<svg") and points == 96
    assert len(re.findall(r'<circle [^>]*fill="#(?:0072B2|D55E00)"', text)) == points + 2  # + the legend's 2
    assert ">forget gate f<" in text and ">unit 2, layer 0<" in text  # the panels' titles, the ring's legend
    with gs.page.expect_download() as download:
        gs.page.click("#saturation .figure-saves button[data-format=png]")
    assert download.value.suggested_filename == "saturation-plot.png"
    png = ARTIFACTS / "saturation-export.png"
    download.value.save_as(png)
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (2 * sat["width"], 2 * sat["height"])


def test_data_downloads_and_the_html_snapshot_opens_offline(gs, browser, tmp_path):
    gs.open("?model=english-char&unit=2&t=3&view=texts#text=the%20cat%20sat&text2=the%20dog%20sat")
    wait_compare(gs)
    files = {}
    for label in ["JSON", "CSV", ".npz", "HTML snapshot"]:
        with gs.page.expect_download() as download:
            gs.page.click(f"#export button >> text='{label}'")
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        files[path.suffix] = path
    assert json.loads(files[".json"].read_text())["tokens"] == list("the cat sat")
    assert files[".csv"].read_text().startswith("layer,direction,t,token,unit,quantity,value\n")
    assert np.load(files[".npz"], allow_pickle=False)["c"].shape == (2, 1, 11, 16)
    want = gs.api("/api/trace", {"model": "english-char", "text": "the cat sat", "format": "json"})
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        requested: list[str] = []

        def only_files(route):
            requested.append(route.request.url)
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                route.abort()
        page.route("**/*", only_files)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(files[".html"].as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 7")
        assert [u for u in requested if not u.startswith("file://")] == [] and errors == []
        drawn = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map((p) => ({
          traces: p.data.length, types: p.data.map((d) => d.type), heat: p.querySelectorAll('.hm image').length }))""")
        assert len(drawn) == 7  # heatmaps, unit, coloured text, step, predictions, saturation, the comparison
        assert drawn[0]["heat"] == 6 and drawn[-1]["heat"] == 3
        # c of unit 2 in the heatmaps, as Plotly read it (_fullData: the file's arrays are base64, decoded there)
        z = page.evaluate("() => { const d = document.querySelector('.js-plotly-plot')._fullData[4];"
                          "return Array.from(d.z[Array.from(d.y).map(String).indexOf('2')]); }")
        np.testing.assert_allclose(z, decode(want["c"])[0][0, 0, :, 2], atol=0)
        page.screenshot(path=str(ARTIFACTS / "snapshot-offline.png"), full_page=False)
    finally:
        context.close()


def test_the_comparison_reads_well_on_a_phone_and_a_projector(browser, server):
    for name, size in (("phone", (390, 844)), ("laptop", (1280, 800)), ("projector", (1920, 1080))):
        context = new_context(browser, viewport={"width": size[0], "height": size[1]})
        try:
            page = context.new_page()
            # tab=compare: a phone shows one view at a time; wider screens show them all and ignore it.
            page.goto(f"{server}/?model=english-char&view=clamp&unit=3&t=5&iv=f.0.0.3=0@5&tab=compare"
                      "#text=the%20quick%20brown%20fox%20jumps")
            page.wait_for_function("document.querySelector('#compare .compare-plot')?.data !== undefined")
            page.evaluate("window.gatescope.idle()")
            plot = page.locator("#compare .compare-plot")
            assert plot.bounding_box()["width"] <= size[0]  # no sideways scrolling
            page.add_style_tag(content=".sticky { position: static !important; }")
            page.locator("#sec-compare").screenshot(path=str(ARTIFACTS / f"compare-{name}.png"))
        finally:
            context.close()

