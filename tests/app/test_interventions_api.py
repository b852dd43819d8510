"""POST /api/trace with `interventions`: the clamped run equals torch stepped by hand with the clamped value,
a clamp at t changes nothing before t, the clamps are echoed, and no cache ever serves a clamped answer for
an unclamped request or the other way round."""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core import load_model
from lstm_core.interventions import Intervention
from tests.app.wire import decode
from tests.conftest import need_module
from tests.lstm_core.test_interventions import _reference

GATES = ("i", "f", "g", "o", "c", "h")
TEXT = "the lazy dog jumps."


def post(api, **body):
    r = api.post("/api/trace", json={"model": "tiny-char", "text": TEXT, "format": "json", **body})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("clamp", [
    {"layer": 0, "direction": 0, "unit": 3, "quantity": "f", "value": 0.0, "positions": [6]},  # forget here
    {"layer": 1, "direction": 0, "unit": 5, "quantity": "c", "value": 2.5, "positions": [4, 9, 10]},
    {"layer": 0, "direction": 0, "unit": 1, "quantity": "h", "value": 0.0, "positions": None},  # silenced
    {"layer": 0, "direction": 0, "unit": 0, "quantity": "i", "value": 1.0, "positions": [0]},
    {"layer": 1, "direction": 0, "unit": 2, "quantity": "g", "value": -1.0, "positions": [12]},
    {"layer": 0, "direction": 0, "unit": 7, "quantity": "o", "value": 0.0, "positions": [3, 15]},
])
def test_downstream_values_equal_torch_stepped_by_hand_with_the_clamp(api, model_dir, clamp):
    torch = need_module("torch")
    body = post(api, interventions=[clamp], top_k=3)
    model = load_model(model_dir / "tiny-char.safetensors")
    ids = model.encode(TEXT).ids
    x = model.inputs(ids).astype(np.float64)
    iv = Intervention(clamp["layer"], clamp["direction"], clamp["unit"], clamp["quantity"], clamp["value"],
                      None if clamp["positions"] is None else tuple(clamp["positions"]))
    ref = _reference(model.lstm, x, [iv])  # torch: nn.LSTMCell and torch ops on its weights, in float64
    np.testing.assert_allclose(decode(body["h"])[0], ref["h"], atol=2e-6)
    np.testing.assert_allclose(decode(body["c"])[0], ref["c"], atol=2e-6)
    # the next-token predictions follow: softmax of the decoder on torch's clamped output
    logits = torch.from_numpy(ref["output"]) @ torch.from_numpy(model.decoder_weight.astype(np.float64)).T
    probs = torch.softmax(logits + torch.from_numpy(model.decoder_bias.astype(np.float64)), dim=-1).numpy()
    want = [None] + [float(probs[t - 1, ids[t]]) for t in range(1, len(ids))]
    got = body["next_prob"]
    assert got[0] is None
    np.testing.assert_allclose(got[1:], want[1:], rtol=2e-5, atol=1e-7)
    # the clamped cells hold the clamped value, and the echo lists every one of them
    t_all = list(range(len(ids))) if clamp["positions"] is None else clamp["positions"]
    assert body["interventions"] == [{**clamp, "positions": t_all}]
    vals = decode(body[clamp["quantity"]])[0][clamp["layer"], 0, t_all, clamp["unit"]]
    assert np.all(vals == np.float32(clamp["value"]))


@pytest.mark.parametrize("quantity", GATES)
def test_a_clamp_at_t_changes_nothing_before_t(api, quantity):
    plain = post(api)
    t = 7
    clamped = post(api, interventions=[{"layer": 0, "unit": 2, "quantity": quantity, "value": 0.9, "positions": [t]}])
    for q in GATES:
        a, b = decode(plain[q])[0], decode(clamped[q])[0]
        np.testing.assert_array_equal(b[:, :, :t], a[:, :, :t], err_msg=q)  # the same bits
    assert not np.allclose(decode(plain["h"])[0][1, 0, t:], decode(clamped["h"])[0][1, 0, t:])
    assert plain["next_prob"][: t + 1] == clamped["next_prob"][: t + 1]  # p(token t) is read at t - 1
    assert plain["next_prob"][t + 1:] != clamped["next_prob"][t + 1:]


def test_the_caches_never_mix_clamped_and_unclamped_answers(client):
    first = post(client)
    iv = [{"layer": 0, "unit": 4, "quantity": "c", "value": 3.0, "positions": [2]}]
    clamped = post(client, interventions=iv)
    again = post(client)
    for q in GATES:
        np.testing.assert_array_equal(decode(again[q])[0], decode(first[q])[0])
    assert again["interventions"] == [] and clamped["interventions"][0]["positions"] == [2]
    assert not np.array_equal(decode(clamped["c"])[0], decode(first["c"])[0])
    other = post(client, interventions=[{**iv[0], "value": -3.0}])  # another clamp is another answer
    assert decode(other["c"])[0][0, 0, 2, 4] == -3.0
    assert post(client, interventions=iv) == clamped  # and the same clamp the same answer
    # a text typed on from the clamped one is traced from the unclamped cache, never from the clamped run
    longer = post(client, text=TEXT + "x")
    full = post(client, text=TEXT + "x", layers=[0, 1], top_k=4)
    np.testing.assert_array_equal(decode(longer["c"])[0], decode(full["c"])[0])
    np.testing.assert_array_equal(decode(longer["c"])[0][:, :, : len(TEXT)], decode(first["c"])[0])


def test_bidirectional_and_vector_models_can_be_clamped(api, model_dir):
    body = api.post("/api/trace", json={"model": "bi-proj", "text": "a [b] {c}", "format": "json", "interventions": [
        {"layer": 1, "direction": 1, "unit": 2, "quantity": "h", "value": 0.0}]}).json()
    h = decode(body["h"])[0]
    assert h.shape[3] == 3 and np.all(h[1, 1, :, 2] == 0)
    vec = api.post("/api/trace", json={"model": "vec", "vectors": [[1, 0, 0], [0, 1, 0]], "format": "json",
                                       "interventions": [{"unit": 0, "quantity": "f", "value": 0, "positions": [1]}]})
    assert vec.status_code == 200 and decode(vec.json()["f"])[0][0, 0, 1, 0] == 0


@pytest.mark.parametrize("clamp, status, words", [
    ({"layer": 5, "unit": 0, "quantity": "f", "value": 0}, 422, "layer 5 does not exist"),
    ({"unit": 99, "quantity": "f", "value": 0}, 422, "unit 99 does not exist"),
    ({"unit": 0, "quantity": "f", "value": 0, "positions": [400]}, 422, "position 400 is outside the text"),
    ({"unit": 0, "quantity": "z", "value": 0}, 422, "quantity"),
    ({"unit": 0, "quantity": "f", "value": "Infinity"}, 422, "value"),
    ({"unit": 0, "quantity": "f", "value": 0, "direction": 1}, 422, "no backward direction"),
])
def test_bad_interventions_get_a_sentence(api, clamp, status, words):
    r = api.post("/api/trace", json={"model": "tiny-char", "text": TEXT, "interventions": [clamp]})
    assert r.status_code == status
    assert words in r.json()["detail"]


def test_a_bad_intervention_is_refused_in_the_readers_language(client):
    r = client.post("/api/trace?lang=zh-CN", json={"model": "tiny-char", "text": TEXT, "interventions": [
        {"unit": 0, "quantity": "f", "value": 0}, {"unit": 42, "quantity": "c", "value": 0}]})
    assert r.status_code == 422 and r.json()["code"] == "bad_intervention"
    assert "第 2 项干预" in r.json()["detail"] and "42" in r.json()["detail"]
