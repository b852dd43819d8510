"""The notebook API (app.figures): every figure holds the values the HTTP API answers for the same model and
text, and the figures' colour scales are the page's (static/js/format.js)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from app import figures
from app.figures import style
from tests.app.wire import decode
from tests.conftest import ROOT

TEXT = "the quick (brown) fox"
GATES = ("i", "f", "g", "o", "c", "h")


@pytest.fixture()
def api_trace(client):
    """POST /api/trace (json encoding) for tiny-char."""
    def run(text: str = TEXT, **extra) -> dict:
        r = client.post("/api/trace", json={"model": "tiny-char", "text": text, "format": "json", **extra})
        assert r.status_code == 200, r.text
        return {**r.json(), **{q: decode(r.json()[q])[0] for q in GATES}}
    return run


@pytest.fixture()
def model_path(model_dir):
    return model_dir / "tiny-char.safetensors"


@pytest.mark.parametrize("layer, order", [(0, "index"), (1, "variance"), (1, "mean")])
def test_heatmaps_hold_the_api_values_in_the_order_asked(api_trace, model_path, layer, order):
    want = api_trace()
    fig = figures.heatmaps(model_path, TEXT, layer=layer, order=order, sort_by="f", unit=2, t=5)
    x = want["f"][layer, 0]  # (T, H): the order is by f, computed here independently
    key = {"index": np.zeros(8), "variance": -x.var(axis=0), "mean": -x.mean(axis=0)}[order]
    units = sorted(range(8), key=lambda u: (key[u], u))
    assert [d.name for d in fig.data] == list(GATES)
    for d in fig.data:
        assert [int(u) for u in d.y] == units
        np.testing.assert_array_equal(np.asarray(d.z, np.float64), want[d.name][layer, 0][:, units].T)
    assert {s.x0 for s in fig.layout.shapes if s.yref == "paper"} == {4.5}  # t = 5 marked


def test_unit_lines_coloured_text_and_predictions_hold_the_api_values(api_trace, model_path):
    want = api_trace()
    fig = figures.unit(model_path, TEXT, 3, layer=1)
    for q, d in zip(GATES, fig.data, strict=True):
        np.testing.assert_array_equal(d.y, want[q][1, 0, :, 3])
    text = figures.coloured_text(model_path, TEXT, 3, quantity="f", layer=1)
    z = np.asarray(text.data[0].z, np.float64).ravel()
    T = len(want["tokens"])
    np.testing.assert_array_equal(z[:T], want["f"][1, 0, :, 3])
    assert np.isnan(z[T:]).all()
    assert [s for s in np.asarray(text.data[0].text).ravel()[:T]] == [style.label(t) for t in want["tokens"]]
    pred = figures.predictions(model_path, TEXT)
    bits = [np.nan if p is None else -np.log2(p) for p in want["next_prob"]]
    np.testing.assert_allclose(pred.data[0].y, bits, rtol=1e-12)


def test_saturation_holds_the_fractions_of_the_api_values(api_trace, model_path):
    want = api_trace()
    fig = figures.saturation(model_path, TEXT, layer=1, unit=2)
    points = [d for d in fig.data if d.name.startswith("layer")]
    assert len(points) == 6  # f, i, o for two layers
    for k, q in enumerate(("f", "i", "o")):
        for layer in range(2):
            d = points[2 * k + layer]
            v = want[q][layer, 0]  # (T, H)
            np.testing.assert_array_equal(d.x, (v > 0.9).sum(axis=0) / len(v))
            np.testing.assert_array_equal(d.y, (v < 0.1).sum(axis=0) / len(v))


def test_the_step_table_holds_the_step_api_numbers(client, model_path):
    s = client.post("/api/step", json={"model": "tiny-char", "text": TEXT, "layer": 1, "t": 6, "unit": 4}).json()
    fig = figures.step(model_path, TEXT, 6, 4, layer=1)
    gates = fig.data[0].cells.values
    for k, q in enumerate(("i", "f", "g", "o"), start=1):
        t = s["terms"][q]
        want = [t["W_x"], t["b_ih"], t["W_h"], t["b_hh"], t["peephole"], t["pre"], t["value"]]
        got = [None if v == "—" else float(v) for v in gates[k]]
        assert got[4] is None and want[4] is None
        np.testing.assert_allclose([g for g in got if g is not None], [w for w in want if w is not None], atol=5e-7)
    np.testing.assert_allclose([float(v) for v in fig.data[1].cells.values[1]],
                               [s["c_prev"], s["c"], s["tanh_c"], s["h"]], atol=5e-7)


@pytest.mark.parametrize("kind", ["texts", "intervention"])
def test_comparison_figures_hold_the_compare_api_values(client, model_path, kind):
    iv = {"layer": 1, "direction": 0, "unit": 5, "quantity": "c", "value": 1.5, "positions": [4]}
    if kind == "texts":
        body = {"a": {"model": "tiny-char", "text": TEXT}, "b": {"text": "the slow (brown) fox"}}
        fig = figures.compare_texts(model_path, TEXT, "the slow (brown) fox", quantity="g", layer=1, threshold=0.01)
    else:
        body = {"a": {"model": "tiny-char", "text": TEXT}, "b": {"interventions": [iv]}}
        fig = figures.intervention(model_path, TEXT, [iv], quantity="g", layer=1, threshold=0.01)
    want = client.post("/api/compare", json={**body, "format": "json", "threshold": 0.01}).json()
    heat = [d for d in fig.data if d.type == "heatmap"]
    np.testing.assert_array_equal(heat[0].z, decode(want["a"]["g"])[0][1, 0].T)
    np.testing.assert_array_equal(heat[1].z, decode(want["b"]["g"])[0][1, 0].T)
    np.testing.assert_array_equal(heat[2].z, decode(want["diff"]["g"])[0][1, 0].T)
    peaks = {d.name: d.y for d in fig.data if d.type == "scatter" and d.legendgroup == "peak"}
    for q in GATES:
        np.testing.assert_array_equal(peaks[q], want["peak"][q][1][0])
    bars = next(d for d in fig.data if d.type == "bar")
    np.testing.assert_array_equal(bars.y, [np.nan if v is None else v for v in want["next_prob_delta"]])
    j = want["divergence"]["any"][1][0]
    assert j is not None and any(s.x0 == j for s in fig.layout.shapes)
    if kind == "intervention":
        marks = [d for d in fig.data if d.type == "scatter" and d.legendgroup != "peak"]
        assert marks and list(marks[0].x) == [4] and list(marks[0].y) == [5]


def test_models_by_id_path_or_object_and_sentences_for_bad_input(model_path):
    from lstm_core import load_model

    a = figures.heatmaps(model_path, "abc")
    b = figures.heatmaps(load_model(model_path), "abc")
    np.testing.assert_array_equal(a.data[0].z, b.data[0].z)
    assert figures.heatmaps("counter", "aabb").data[0].z.shape[1] == 4  # a shipped model by id
    with pytest.raises(ValueError, match="No model 'no-such-model'"):
        figures.heatmaps("no-such-model", "abc")
    with pytest.raises(ValueError, match="empty"):
        figures.heatmaps(model_path, "")
    with pytest.raises(ValueError, match="unit 99 does not exist"):
        figures.intervention(model_path, "abc", [{"unit": 99, "quantity": "f", "value": 0}])


def test_the_figures_use_the_page_colour_scales():
    js = (ROOT / "static" / "js" / "format.js").read_text(encoding="utf-8")
    for name, stops in (("VIRIDIS", style.VIRIDIS), ("RDBU", style.RDBU)):
        found = re.search(rf"const {name} = \[(.*?)\];", js, re.S).group(1)
        assert re.findall(r"'(#[0-9a-f]{6})'", found) == stops, name
    for q, colour in style.LINE_COLOURS.items():
        assert f"{q}: '{colour}'" in js


def test_the_figures_speak_the_language_asked(model_path):
    from app.i18n import translate

    try:
        figures.language("zh-CN")
        fig = figures.saturation(model_path, TEXT)
        titles = [a.text for a in fig.layout.annotations]
        assert titles == [translate("zh-CN", f"quantity.{q}") for q in ("f", "i", "o")]
        assert fig.data[0].name == translate("zh-CN", "figure.layer", layer=0)
    finally:
        figures.language("en")
    assert [a.text for a in figures.saturation(model_path, TEXT).layout.annotations][0] == "forget gate f"
    with pytest.raises(ValueError, match="zh-CN"):
        figures.language("fr")
