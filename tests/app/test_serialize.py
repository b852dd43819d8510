"""The wire encodings, checked by decoding them the way a client does (tests/app/wire.py)."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from app.serialize import compact, encode_values, next_prob, top_k
from lstm_core import Predictions
from tests.app.wire import decode


@pytest.mark.parametrize("lo, hi", [(0.0, 1.0), (-3.7, 2.2), (-1e-3, 1e-3), (0.2, 0.9), (-50.0, -49.0)])
def test_compact_error_is_at_most_half_a_step(lo, hi):
    a = np.random.default_rng(1).uniform(lo, hi, (2, 2, 30, 7)).astype(np.float32)
    enc = compact(a)
    got, err = decode(json.loads(json.dumps(enc)))
    assert got.shape == a.shape
    assert np.abs(got - a.astype(np.float64)).max() <= err + 1e-12
    q = np.frombuffer(base64.b64decode(enc["bdata"]), "<u2")
    assert q.min() == 0 or lo >= 0  # a span array uses the whole range
    if lo >= 0 and hi <= 1:
        assert enc["offset"] == 0 and enc["scale"] == 1 / 65535
    else:
        assert enc["offset"] == pytest.approx(float(a.min())) and q.max() == 65535


def test_compact_constant_and_extreme_arrays():
    got, _ = decode(compact(np.full((1, 1, 3, 2), -0.25, np.float32)))
    assert (got == -0.25).all()
    a = np.array([0.0, 1.0, 0.5, 1e-9], np.float32).reshape(1, 1, 2, 2)  # saturated gates stay exact at 0 and 1
    got, _ = decode(compact(a))
    assert got.ravel()[0] == 0.0 and got.ravel()[1] == 1.0


@pytest.mark.parametrize("use_orjson", [True, False])
def test_json_is_the_float32_value_exactly(monkeypatch, use_orjson):
    from app import serialize, wirejson

    if use_orjson:
        pytest.importorskip("orjson")
    else:
        monkeypatch.setattr(wirejson, "orjson", None)
    a = np.random.default_rng(2).normal(size=(1, 2, 3, 4)).astype(np.float32)
    a = a.transpose(0, 1, 3, 2)  # a strided view, as the trace's arrays are
    got = json.loads(serialize.dumps({"x": encode_values(a, "json")}))["x"]
    assert np.array_equal(np.array(got), a.astype(np.float64))
    assert np.array(got).astype(np.float32).tobytes() == a.tobytes()


def _preds(probs: np.ndarray, ids: np.ndarray) -> Predictions:
    """What lstm_core.predict keeps of these probabilities for a text with these ids."""
    order = np.argsort(-probs, axis=1, kind="stable")
    actual = np.append(probs[np.arange(len(ids) - 1), np.clip(ids[1:], 0, None)], np.nan).astype(probs.dtype)
    actual[:-1][ids[1:] < 0] = np.nan
    return Predictions(order, np.take_along_axis(probs, order, axis=1), actual)


def test_top_k_lists_the_first_k_with_tokens_and_probabilities():
    probs = np.array([[0.1, 0.4, 0.1, 0.4], [0.7, 0.1, 0.1, 0.1]], np.float32)
    r = top_k(_preds(probs, np.array([0, 1])), 3, ("a", "b", "c", "d"))
    assert r["ids"] == [[1, 3, 0], [0, 1, 2]]
    assert r["tokens"] == [["b", "d", "a"], ["a", "b", "c"]]
    assert r["probs"][0] == [float(np.float32(0.4)), float(np.float32(0.4)), float(np.float32(0.1))]
    assert top_k(_preds(probs, np.array([0, 1])), 50, ("a", "b", "c", "d"))["ids"][0] == [1, 3, 0, 2]  # k: all


def test_next_prob_skips_the_first_and_unknown_positions():
    probs = np.arange(12, dtype=np.float32).reshape(3, 4) / 12
    for ids, oov, want in [([2, 3, 1], [], [None, 3 / 12, float(np.float32(5 / 12))]),
                           ([2, -1, 1], [], [None, None, float(np.float32(5 / 12))]),
                           ([2, 0, 1], [1], [None, None, float(np.float32(5 / 12))])]:
        ids = np.array(ids)
        assert next_prob(_preds(probs, ids), ids, oov) == want


@pytest.mark.parametrize("use_orjson", [True, False])
def test_wire_bytes_round_trip_with_and_without_orjson(monkeypatch, use_orjson):
    import gzip

    from app import serialize, wirejson

    if use_orjson:
        pytest.importorskip("orjson")
    else:
        monkeypatch.setattr(wirejson, "orjson", None)
    a = np.random.default_rng(3).normal(size=(2, 1, 50, 9)).astype(np.float32)
    body = {"tokens": ["a", "我", '"'], "next_prob": [None, 0.5], "i": encode_values(a, "json"), "c": compact(a)}
    want = json.loads(json.dumps({**body, "i": a.astype(np.float64).tolist()}))
    data, gzipped = serialize.wire_bytes(body, gzip_ok=True)
    assert gzipped and json.loads(gzip.decompress(data)) == want
    assert np.array(json.loads(gzip.decompress(data))["i"]).astype(np.float32).tobytes() == a.tobytes()
    small, gzipped = serialize.wire_bytes({"x": 1}, gzip_ok=True)
    assert not gzipped and json.loads(small) == {"x": 1}
    plain, gzipped = serialize.wire_bytes(body, gzip_ok=False)
    assert not gzipped and json.loads(plain) == want


@pytest.mark.parametrize("fmt", ["json", "compact"])
def test_non_finite_values_are_a_model_error_not_a_crash(fmt):
    from lstm_core import ModelError

    a = np.array([0.5, np.inf, 0.2, 0.1], np.float32).reshape(1, 1, 2, 2)
    with pytest.raises(ModelError, match="overflowed"):
        encode_values(a, fmt)
