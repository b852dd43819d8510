"""Keras imports (.keras, Keras 3 .h5, tf.keras 2 style .h5) against Keras itself; hostile archives."""
from __future__ import annotations

import json
import os
import struct
import zipfile

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # the numpy backend cannot run LSTMs without jax
keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")

from lstm_core import ModelError  # noqa: E402
from lstm_core.importers import import_model  # noqa: E402

TOL = 1e-5


def _np(t) -> np.ndarray:
    return keras.ops.convert_to_numpy(t)


def _jitter(model, seed: int) -> None:
    """Non-zero biases and larger weights than Keras's init, so every term matters."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        layer.set_weights([w + rng.normal(0, 0.4, w.shape).astype(w.dtype) for w in layer.get_weights()])


@pytest.fixture(scope="module")
def lm_files(tmp_path_factory):
    """A Keras 3 language model (Embedding, 2 x Bidirectional LSTM with hard_sigmoid, Dense) as .keras and .h5."""
    keras.utils.set_random_seed(0)
    lstm = dict(return_sequences=True, recurrent_activation="hard_sigmoid")
    m = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(11, 4),
                          keras.layers.Bidirectional(keras.layers.LSTM(5, **lstm)),
                          keras.layers.Bidirectional(keras.layers.LSTM(5, **lstm)), keras.layers.Dense(11)])
    _jitter(m, 1)
    d = tmp_path_factory.mktemp("keras")
    m.save(d / "lm.keras")
    m.save(d / "lm.h5")
    return m, d


@pytest.mark.parametrize("name", ["lm.keras", "lm.h5"])
def test_language_model_matches_keras(lm_files, name):
    m, d = lm_files
    res = import_model(d / name, vocab=list("abcdefghijk"))
    ids = np.array([[3, 1, 4, 1, 5, 9, 2, 6, 10]])
    want = _np(keras.ops.softmax(m(ids)))[0]
    _, probs = res.model.trace_ids(ids[0])
    assert np.abs(probs - want).max() < TOL
    lstm_out = _np(keras.Model(m.inputs, m.layers[2].output)(ids))[0]  # after both Bidirectional layers
    assert np.abs(res.model.trace_ids(ids[0])[0].output - lstm_out).max() < TOL
    cfg = res.model.lstm.config
    assert cfg.bidirectional and cfg.num_layers == 2
    assert cfg.recurrent_activation.alpha == pytest.approx(1 / 6)  # Keras 3's hard_sigmoid
    v = res.verification
    assert v["passed"] and v["max"] < TOL and v["framework"].startswith("keras 3")


def test_functional_vector_model(tmp_path):
    keras.utils.set_random_seed(2)
    inp = keras.Input((None, 3))
    h1 = keras.layers.LSTM(4, return_sequences=True)(inp)
    h2 = keras.layers.LSTM(4, return_sequences=True)(h1)
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Dropout(0.3)(h2))
    m = keras.Model(inp, out)
    _jitter(m, 3)
    m.save(tmp_path / "f.keras")
    res = import_model(tmp_path / "f.keras")
    x = np.random.default_rng(4).standard_normal((2, 6, 3)).astype(np.float32)
    assert res.model.input_kind == "vector"
    assert np.abs(res.model.lstm.trace(x).output - _np(keras.Model(inp, h2)(x))).max() < TOL
    # No vocabulary, so the Dense is not a next-token decoder: read per step, as a tagger of 2 labels.
    assert res.model.head.kind == "tagger" and res.model.decode(res.model.lstm.trace(x)) is None
    assert np.abs(res.model.outputs(res.model.lstm.trace(x)) - _np(m(x))).max() < TOL
    assert res.verification["passed"]


def _lstm_cfg(name: str, units: int) -> dict:
    return {"name": name, "trainable": True, "units": units, "activation": "tanh", "recurrent_activation":
            "hard_sigmoid", "use_bias": True, "return_sequences": True, "return_state": False, "go_backwards": False,
            "stateful": False, "unroll": False, "time_major": False, "dropout": 0.0, "recurrent_dropout": 0.0,
            "implementation": 2}


def _write_keras2_h5(path, weights: dict, units: int) -> None:
    """A file laid out as tf.keras 2.x writes it: `:0` suffixes, model_weights/<name>/<name>/..."""
    layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, None, 3], "dtype": "float32",
                                                      "name": "input_1"}}]
    for k in range(2):
        layers.append({"class_name": "Bidirectional", "config": {
            "name": f"bidirectional_{k}", "merge_mode": "concat",
            "layer": {"class_name": "LSTM", "config": _lstm_cfg(f"lstm_{k}", units)}}})
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = [b"input_1"] + [f"bidirectional_{k}".encode() for k in range(2)]
        mw.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
        for k in range(2):
            g, names = mw.create_group(f"bidirectional_{k}"), []
            for side in ("forward", "backward"):
                for role, a in zip(("kernel", "recurrent_kernel", "bias"), weights[k, side], strict=True):
                    name = f"bidirectional_{k}/{side}_lstm_{k}/lstm_cell_{k}/{role}:0"
                    g[name] = a
                    names.append(name.encode())
            g.attrs["weight_names"] = names


@keras.saving.register_keras_serializable("gatescope_tests")
def _keras2_hard_sigmoid(t):
    """Keras 2's definition, written here independently of the importer."""
    return keras.ops.clip(0.2 * t + 0.5, 0.0, 1.0)


def _keras_reference(weights: dict, units: int, x: np.ndarray, recurrent) -> np.ndarray:
    h = x
    for k in range(2):
        layer = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True,
                                                             recurrent_activation=recurrent))
        layer(h)
        layer.set_weights(list(weights[k, "forward"]) + list(weights[k, "backward"]))
        h = _np(layer(h))
    return h


def test_keras2_h5_uses_keras2_hard_sigmoid(tmp_path):
    units, rng = 4, np.random.default_rng(5)
    weights = {}
    for k in range(2):
        n_in = 3 if k == 0 else 2 * units
        for side in ("forward", "backward"):
            weights[k, side] = (rng.normal(0, 0.8, (n_in, 4 * units)).astype(np.float32),
                                rng.normal(0, 0.8, (units, 4 * units)).astype(np.float32),
                                rng.normal(0, 0.8, (4 * units,)).astype(np.float32))
    _write_keras2_h5(tmp_path / "k2.h5", weights, units)
    res = import_model(tmp_path / "k2.h5")
    x = rng.standard_normal((2, 7, 3)).astype(np.float32)
    ours = res.model.lstm.trace(x).output
    keras2 = _keras_reference(weights, units, x, _keras2_hard_sigmoid)
    keras3 = _keras_reference(weights, units, x, "hard_sigmoid")
    assert np.abs(ours - keras2).max() < TOL
    assert np.abs(ours - keras3).max() > 1e-3  # the two definitions really differ on this input
    assert res.verification["passed"] and res.model.lstm.config.recurrent_activation.alpha == pytest.approx(0.2)


def test_gru_is_refused(tmp_path):
    m = keras.Sequential([keras.Input((None, 3)), keras.layers.GRU(4)])
    m.save(tmp_path / "gru.keras")
    with pytest.raises(ModelError, match="GRU"):
        import_model(tmp_path / "gru.keras")


def _keras_zip(path, weights: bytes, compress=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compress) as z:
        z.writestr("metadata.json", '{"keras_version": "3.15.1"}')
        z.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": []}}))
        z.writestr("model.weights.h5", weights)


def test_zip_bomb_is_refused(tmp_path):
    _keras_zip(tmp_path / "bomb.keras", b"\0" * (64 << 20), zipfile.ZIP_DEFLATED)
    assert (tmp_path / "bomb.keras").stat().st_size < 1 << 20
    with pytest.raises(ModelError, match="zip bomb"):
        import_model(tmp_path / "bomb.keras")


def test_member_whose_header_lies_about_its_size(lm_files, tmp_path):
    raw = bytearray((lm_files[1] / "lm.keras").read_bytes())
    # Shrink config.json's declared size in both its local header and the central directory.
    for sig, name_len_at, size_at, head in ((b"PK\x03\x04", 26, 22, 30), (b"PK\x01\x02", 28, 24, 46)):
        pos = 0
        while (pos := raw.find(sig, pos)) >= 0:
            n = struct.unpack_from("<H", raw, pos + name_len_at)[0]
            if raw[pos + head : pos + head + n] == b"config.json":
                struct.pack_into("<I", raw, pos + size_at, 100)
                struct.pack_into("<I", raw, pos + size_at - 4, 100)
            pos += 4
    (tmp_path / "lie.keras").write_bytes(bytes(raw))
    with pytest.raises(ModelError):
        import_model(tmp_path / "lie.keras")


@pytest.mark.parametrize("name", ["lm.keras", "lm.h5"])
def test_truncated_files(lm_files, tmp_path, name):
    raw = (lm_files[1] / name).read_bytes()
    (tmp_path / name).write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(ModelError, match="truncated|corrupt"):
        import_model(tmp_path / name)


def test_vocabulary_of_the_wrong_length(lm_files):
    with pytest.raises(ModelError, match="10 tokens but the model's embedding has 11 rows"):
        import_model(lm_files[1] / "lm.keras", vocab=list("abcdefghij"))
