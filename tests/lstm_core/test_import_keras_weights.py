"""Keras weights-only .h5 files (model.save_weights) as Keras 2 and Keras 3 write them, against Keras 3 itself.

Keras 2 files are written here with h5py exactly as Keras 2's `save_weights_to_hdf5_group` lays them out
(root attributes layer_names, backend, keras_version; a group per layer with weight_names; datasets named
`lstm_1/kernel:0`). CuDNNLSTM files hold known weights put into cuDNN's layout with Keras 2's inverse rule
(its `_convert_rnn_weights` from LSTM to CuDNNLSTM), so reading them naively gives other numbers.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # the numpy backend cannot run LSTMs without jax
keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")

from app.commands import main  # noqa: E402
from lstm_core import ModelError  # noqa: E402
from lstm_core.importers import KerasOptions, import_model  # noqa: E402

TOL = 1e-5
V, E, U = 11, 3, 5  # vocabulary, embedding width, units: E != U so a kernel in the wrong layout shows
IDS = np.array([3, 1, 4, 1, 5, 9, 2, 6, 10, 0])


@keras.saving.register_keras_serializable("gatescope_weights_tests")
def keras2_hard_sigmoid(t):
    """Keras 2's hard_sigmoid, written here independently of the importer."""
    return keras.ops.clip(0.2 * t + 0.5, 0.0, 1.0)


def _lstm_weights(rng, n_in: int) -> list[np.ndarray]:
    return [rng.normal(0, 0.7, (n_in, 4 * U)).astype(np.float32), rng.normal(0, 0.7, (U, 4 * U)).astype(np.float32),
            rng.normal(0, 0.7, (4 * U,)).astype(np.float32)]


@pytest.fixture(scope="module")
def weights():
    """Known Keras-layout weights: embedding, two LSTMs, a dense decoder."""
    rng = np.random.default_rng(0)
    return {"emb": rng.normal(0, 1, (V, E)).astype(np.float32), "l1": _lstm_weights(rng, E),
            "l2": _lstm_weights(rng, U),
            "dense": [rng.normal(0, 0.7, (U, V)).astype(np.float32), rng.normal(0, 0.3, (V,)).astype(np.float32)]}


def write_keras2(path, layers, version: str = "2.2.4", chunks: int = 1) -> None:
    """As Keras 2's save_weights writes: layer_names in model order; weights as datasets named by weight name.

    chunks > 1 splits layer_names into layer_names0, layer_names1, ... as Keras 2 does for long lists.
    """
    with h5py.File(path, "w") as f:
        names = np.asarray([name.encode("utf8") for name, _ in layers])
        if chunks == 1:
            f.attrs["layer_names"] = names
        for k, part in enumerate(np.array_split(names, chunks) if chunks > 1 else []):
            f.attrs[f"layer_names{k}"] = part
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = version.encode("utf8")
        for name, ws in layers:
            g = f.create_group(name)
            g.attrs["weight_names"] = [w.encode("utf8") for w, _ in ws] or np.array([], dtype="S1")
            for wname, val in ws:
                g.create_dataset(wname, val.shape, dtype=val.dtype)[:] = val


def keras2_lm(weights, cudnn=None) -> list:
    """Embedding, dropout, LSTM, LSTM (or CuDNNLSTM with the given stored arrays), dense, in Keras 2.2's names."""
    second = ("cu_dnnlstm_1", cudnn) if cudnn else ("lstm_2", weights["l2"])
    return [("embedding_1", [("embedding_1/embeddings:0", weights["emb"])]), ("dropout_1", []),
            ("lstm_1", [(f"lstm_1/{r}:0", a) for r, a in zip(("kernel", "recurrent_kernel", "bias"), weights["l1"],
                                                              strict=True)]),
            (second[0], [(f"{second[0]}/{r}:0", a) for r, a in zip(("kernel", "recurrent_kernel", "bias"), second[1],
                                                                   strict=True)]),
            ("dense_1", [("dense_1/kernel:0", weights["dense"][0]), ("dense_1/bias:0", weights["dense"][1])])]


def keras3_probs(weights, recurrent, ids=IDS) -> np.ndarray:
    """Keras 3 running the known weights: the reference."""
    m = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(V, E),
                          keras.layers.LSTM(U, return_sequences=True, recurrent_activation=recurrent),
                          keras.layers.LSTM(U, return_sequences=True, recurrent_activation=recurrent),
                          keras.layers.Dense(V)])
    m.set_weights([weights["emb"], *weights["l1"], *weights["l2"], *weights["dense"]])
    return keras.ops.convert_to_numpy(keras.ops.softmax(m(ids[None])))[0]


def _probs(res) -> np.ndarray:
    return res.model.trace_ids(IDS)[1]


def test_keras_2_2_file_defaults_to_keras2_hard_sigmoid(tmp_path, weights):
    write_keras2(tmp_path / "w.h5", keras2_lm(weights), "2.2.4")
    res = import_model(tmp_path / "w.h5", vocab=[chr(97 + k) for k in range(V)])
    assert np.abs(_probs(res) - keras3_probs(weights, keras2_hard_sigmoid)).max() < TOL
    assert res.model.lstm.config.recurrent_activation.alpha == pytest.approx(0.2)
    v, card = res.verification, res.model.meta["card"]
    assert v["passed"] and any("Keras 2's hard_sigmoid" in c for c in v["caveats"])
    assert "hard_sigmoid" in card and "2.2.4" in card and "inferred from their weight names" in card


@pytest.mark.parametrize("chunks", [1, 3])
def test_keras_2_3_file_defaults_to_sigmoid(tmp_path, weights, chunks):
    write_keras2(tmp_path / "w.h5", keras2_lm(weights), "2.3.1", chunks)
    res = import_model(tmp_path / "w.h5")
    sig = keras3_probs(weights, "sigmoid")
    assert np.abs(_probs(res) - sig).max() < TOL and res.verification["passed"]
    assert np.abs(sig - keras3_probs(weights, keras2_hard_sigmoid)).max() > 1e-3  # the default matters


def test_flags_override_the_assumed_activations(tmp_path, weights):
    write_keras2(tmp_path / "w.h5", keras2_lm(weights), "2.2.4")
    res = import_model(tmp_path / "w.h5", keras=KerasOptions(recurrent_activation="sigmoid"))
    assert np.abs(_probs(res) - keras3_probs(weights, "sigmoid")).max() < TOL
    assert any("--recurrent-activation" in n for n in res.notes)


def to_cudnn(k: np.ndarray, r: np.ndarray, b: np.ndarray, rng) -> list[np.ndarray]:
    """Keras 2's conversion from LSTM to CuDNNLSTM (transpose_input(from_cudnn=False), recurrent k.T, biases split)."""
    def per_gate(m, fn):
        return np.hstack([fn(g) for g in np.hsplit(m, 4)])

    b_in = rng.normal(0, 0.5, b.shape).astype(np.float32)  # any split whose halves sum to b
    return [per_gate(k, lambda g: g.T.reshape(g.shape, order="C")), per_gate(r, lambda g: g.T),
            np.concatenate([b_in, b - b_in])]


def test_cudnn_lstm_weights_are_converted_from_cudnn_layout(tmp_path, weights):
    w2 = {**weights, "l2": _lstm_weights(np.random.default_rng(1), U)}
    stored = to_cudnn(*w2["l2"], np.random.default_rng(2))
    assert stored[2].shape == (8 * U,)
    # Read naively (no transform), the same arrays give a model that runs but predicts something else:
    naive = {**w2, "l2": [stored[0], stored[1], stored[2][: 4 * U] + stored[2][4 * U:]]}
    # CuDNNLSTM has sigmoid gates whatever the Keras version; the other LSTM of a 2.3 file too.
    want = keras3_probs(w2, "sigmoid")
    assert np.abs(keras3_probs(naive, "sigmoid") - want).max() > 1e-2
    write_keras2(tmp_path / "c.h5", keras2_lm(w2, cudnn=stored), "2.3.1")
    res = import_model(tmp_path / "c.h5")
    assert np.abs(_probs(res) - want).max() < TOL
    v = res.verification
    assert v["passed"] and any("not verified: the cuDNN layout conversion of cu_dnnlstm_1" in c for c in v["caveats"])
    assert "_convert_rnn_weights" in res.model.meta["card"]


def test_bidirectional_cudnn_in_keras2_names(tmp_path):
    rng = np.random.default_rng(3)
    fw, bw = _lstm_weights(rng, E), _lstm_weights(rng, E)
    ws = [(f"bidirectional_1/{side}_cu_dnnlstm_1/{r}:0", a) for side, w in (("forward", fw), ("backward", bw))
          for r, a in zip(("kernel", "recurrent_kernel", "bias"), to_cudnn(*w, rng), strict=True)]
    write_keras2(tmp_path / "b.h5", [("bidirectional_1", ws)], "2.2.4")
    res = import_model(tmp_path / "b.h5")
    x = np.random.default_rng(4).standard_normal((2, 6, E)).astype(np.float32)
    ref = keras.layers.Bidirectional(keras.layers.LSTM(U, return_sequences=True))
    ref(x)
    ref.set_weights([*fw, *bw])
    assert np.abs(res.model.lstm.trace(x).output - keras.ops.convert_to_numpy(ref(x))).max() < TOL
    assert res.model.lstm.config.bidirectional and res.verification["passed"]


def test_keras3_save_weights(tmp_path):
    keras.utils.set_random_seed(5)
    m = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(V, 4),
                          keras.layers.Bidirectional(keras.layers.LSTM(U, return_sequences=True)),
                          keras.layers.Bidirectional(keras.layers.LSTM(U, return_sequences=True)),
                          keras.layers.Dense(V)])
    m.set_weights([w + np.random.default_rng(6).normal(0, 0.4, w.shape).astype(w.dtype) for w in m.get_weights()])
    m.save_weights(tmp_path / "m.weights.h5")
    res = import_model(tmp_path / "m.weights.h5", vocab=[chr(97 + k) for k in range(V)])
    want = keras.ops.convert_to_numpy(keras.ops.softmax(m(IDS[None])))[0]
    assert np.abs(_probs(res) - want).max() < TOL and res.verification["passed"]
    assert any("chained by weight shapes" in n for n in res.notes)


def test_keras3_vector_model_and_the_layers_flag(tmp_path):
    keras.utils.set_random_seed(7)
    inp = keras.Input((None, E))
    h = keras.layers.LSTM(U, return_sequences=True)(keras.layers.LSTM(U, return_sequences=True)(inp))
    m = keras.Model(inp, keras.layers.Dense(2)(h))
    m.save_weights(tmp_path / "v.weights.h5")
    res = import_model(tmp_path / "v.weights.h5", keras=KerasOptions(layers=("lstm", "lstm_1")))
    x = np.random.default_rng(8).standard_normal((2, 6, E)).astype(np.float32)
    assert np.abs(res.model.lstm.trace(x).output - keras.ops.convert_to_numpy(keras.Model(inp, h)(x))).max() < TOL
    assert res.model.decoder_weight is None and res.verification["passed"]  # the dense layer was left out


def test_unknown_layers_and_gru_are_refused_with_a_way_out(tmp_path, weights):
    layers = keras2_lm(weights)
    layers.insert(1, ("conv1d_1", [("conv1d_1/kernel:0", np.zeros((3, E, E), np.float32))]))
    write_keras2(tmp_path / "x.h5", layers, "2.3.1")
    with pytest.raises(ModelError, match="conv1d_1.*--layers"):
        import_model(tmp_path / "x.h5")
    res = import_model(tmp_path / "x.h5", keras=KerasOptions(layers=("embedding_1", "lstm_1", "lstm_2", "dense_1")))
    assert np.abs(_probs(res) - keras3_probs(weights, "sigmoid")).max() < TOL
    gru = [("gru_1", [("gru_1/kernel:0", np.zeros((E, 3 * U), np.float32)),
                      ("gru_1/recurrent_kernel:0", np.zeros((U, 3 * U), np.float32))])]
    write_keras2(tmp_path / "g.h5", gru, "2.3.1")
    with pytest.raises(ModelError, match="GRU"):
        import_model(tmp_path / "g.h5")


def test_cli_flags(tmp_path, weights, capsys):
    write_keras2(tmp_path / "w.h5", keras2_lm(weights), "2.2.4")
    out = tmp_path / "m.safetensors"
    assert main(["import", str(tmp_path / "w.h5"), "--out", str(out), "--recurrent-activation", "sigmoid",
                 "--layers", "embedding_1,lstm_1,lstm_2,dense_1"]) == 0
    assert "recurrent_activation=sigmoid as given" in capsys.readouterr().out
    keras.Sequential([keras.Input((None, 2)), keras.layers.LSTM(2)]).save(tmp_path / "full.keras")
    assert main(["import", str(tmp_path / "full.keras"), "--out", str(tmp_path / "n.safetensors"),
                 "--activation", "relu"]) == 2
    assert "weights-only" in capsys.readouterr().err
