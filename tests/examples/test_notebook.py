"""examples/gatescope.ipynb runs top to bottom in a real Jupyter kernel (nbclient), and what it shows is checked:
every figure cell draws a Plotly figure, and the figures hold the values the HTTP API answers for the shipped
model on the same text."""
from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from tests.app.wire import decode
from tests.conftest import ROOT, need_module

NOTEBOOK = ROOT / "examples" / "gatescope.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def executed():
    """The notebook after running every cell, with the repository's examples/ as the working directory."""
    nbformat, nbclient = need_module("nbformat"), need_module("nbclient")
    need_module("ipykernel")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "examples")}}).execute()
    return nb


def figure_of(cell) -> dict:
    found = [o["data"][PLOTLY] for o in cell.get("outputs", []) if PLOTLY in o.get("data", {})]
    assert len(found) == 1, f"no Plotly figure from: {cell.source[:60]!r}"
    return found[0]


def arr(x) -> np.ndarray:
    """A Plotly JSON array: a list, or a typed array {dtype, bdata[, shape]}."""
    if isinstance(x, dict):
        import base64

        a = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"])
        return a.reshape([int(n) for n in str(x["shape"]).split(",")]) if "shape" in x else a
    return np.array(x, dtype=np.float64)


@pytest.mark.slow
def test_the_notebook_runs_and_its_figures_hold_the_api_values(executed):
    cells = [c for c in executed.cells if c.cell_type == "code"]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    calls = {c.source: re.findall(r"figures\.(\w+)\(", c.source) for c in cells}
    figs = {calls[c.source][-1]: figure_of(c) for c in cells if calls[c.source]
            and calls[c.source][-1] not in ("trace", "snapshot")}
    assert set(figs) == {"heatmaps", "unit", "coloured_text", "saturation", "step", "predictions", "compare_texts",
                         "compare_models", "intervention"}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from app.main import create_app

    with TestClient(create_app()) as api:  # the shipped models, as `python -m app` serves them
        want = api.post("/api/trace", json={"model": "counter", "text": "aaaaXbbbb.", "format": "json"}).json()
        heat = figs["heatmaps"]["data"]
        assert [d["name"] for d in heat] == ["i", "f", "g", "o", "c", "h"]
        for d in heat:
            np.testing.assert_array_equal(arr(d["z"]), decode(want[d["name"]])[0][0, 0].T)
        lines = figs["unit"]["data"]
        np.testing.assert_array_equal(arr(lines[4]["y"]), decode(want["c"])[0][0, 0, :, 1])
        cmp = api.post("/api/compare", json={"a": {"model": "counter", "text": "aaaaXbbbb."}, "format": "json",
                                             "b": {"interventions": [{"unit": 1, "quantity": "c", "value": 0.0,
                                                                      "positions": [4]}]}}).json()
        diff = [d for d in figs["intervention"]["data"] if d["type"] == "heatmap"][2]
        np.testing.assert_array_equal(arr(diff["z"]), decode(cmp["diff"]["c"])[0][0, 0].T)
    # the printed numbers and the snapshot
    printed = "".join(o.get("text", "") for o in cells[-2].outputs)
    assert "['a', 'a', 'a', 'a', 'X'" in printed
    out = "".join(o.get("text", "") for o in cells[-1].outputs)
    assert "counter.html" in out and int(out.split()[-2]) > 3000  # kB: Plotly.js is inside
    assert json.dumps(figs["step"]).count("W x") == 1
