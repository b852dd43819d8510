"""POST /api/step: the numbers of the step diagram obey the LSTM's equations and match the trace."""
from __future__ import annotations

import math

import pytest

from lstm_core import load_model

CASES = [  # model, text, layer, direction, t, unit
    ("tiny-char", "the fox", 0, 0, 0, 3),
    ("tiny-char", "the fox", 1, 0, 4, 7),
    ("bi-proj", "a [b]", 0, 1, 1, 2),
    ("bi-proj", "a [b]", 1, 1, 4, 5),
    ("bi-proj", "a [b]", 1, 0, 2, 0),
    ("words", "the lazy dog", 0, 0, 2, 1),
]


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


@pytest.mark.parametrize("model_id, text, layer, direction, t, unit", CASES)
def test_step_numbers_obey_the_equations_and_match_the_trace(api, model_dir, model_id, text, layer, direction, t,
                                                             unit):
    req = {"model": model_id, "text": text, "layer": layer, "direction": direction, "t": t, "unit": unit}
    r = api.post("/api/step", json=req)
    assert r.status_code == 200, r.text
    s = r.json()
    model = load_model(model_dir / f"{model_id}.safetensors")
    tt = model.trace_text(text)
    assert s["token"] == tt.tokens[t] and (s["layer"], s["direction"], s["t"], s["unit"]) == (layer, direction, t, unit)
    terms = s["terms"]
    for name, act in (("i", sigmoid), ("f", sigmoid), ("g", math.tanh), ("o", sigmoid)):
        g = terms[name]
        assert g["peephole"] is None
        assert g["pre"] == pytest.approx(g["W_x"] + g["b_ih"] + g["W_h"] + g["b_hh"], abs=1e-12)
        assert g["value"] == pytest.approx(act(g["pre"]), abs=1e-12)
        assert g["value"] == pytest.approx(float(tt.trace.gate(name)[layer, direction, t, unit]), abs=2e-6)
    i, f, g, o = (terms[k]["value"] for k in "ifgo")
    assert s["c"] == pytest.approx(f * s["c_prev"] + i * g, abs=1e-12)  # c_t = f*c_{t-1} + i*g
    assert s["tanh_c"] == pytest.approx(math.tanh(s["c"]), abs=1e-12)
    assert s["h"] == pytest.approx(o * s["tanh_c"], abs=1e-12)  # h_t = o*tanh(c_t)
    assert s["c"] == pytest.approx(float(tt.trace.c[layer, direction, t, unit]), abs=2e-6)
    first = t == 0 if direction == 0 else t == len(tt.tokens) - 1
    prev = t - 1 if direction == 0 else t + 1
    assert s["c_prev"] == (0.0 if first else float(tt.trace.c[layer, direction, prev, unit]))
    projected = model.lstm.config.proj_size > 0
    assert s["projected"] is projected
    if projected:
        assert s["h_prev_unit"] is None
    else:
        assert s["h"] == pytest.approx(float(tt.trace.h[layer, direction, t, unit]), abs=2e-6)
        assert s["h_prev_unit"] == (0.0 if first else float(tt.trace.h[layer, direction, prev, unit]))
    assert s["activations"] == {"recurrent": "sigmoid", "cell": "tanh", "hidden": "tanh"}


def test_step_on_a_vector_model(api, model_dir):
    x = [[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]]
    s = api.post("/api/step", json={"model": "vec", "vectors": x, "t": 1, "unit": 2}).json()
    tr, _ = load_model(model_dir / "vec.safetensors").trace_vectors(x)
    assert s["token"] == "x1"
    assert s["c"] == pytest.approx(float(tr.c[0, 0, 1, 2]), abs=2e-6)
