"""Keras 3 heads against Keras's own model.predict: a classifier after return_sequences=False (softmax, and the
sigmoid of a binary classifier), and a TimeDistributed(Dense) tagger."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # the numpy backend cannot run LSTMs without jax
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

from lstm_core.importers import import_model  # noqa: E402

TOL = 1e-5
VOCAB = ["<pad>", "<unk>", *"abcdefghijklmnopqr"]  # 20
L = keras.layers


def _sharpen(model, seed: int) -> None:
    """Larger weights than Keras's init, so that outputs are decisive and every term matters."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        layer.set_weights([w * 2 + rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in layer.get_weights()])


def _ids(text: str) -> list[int]:
    return [VOCAB.index(c) if c in VOCAB else VOCAB.index("<unk>") for c in text]


MODELS = {
    "bilstm-softmax": lambda: [L.Embedding(20, 6), L.Bidirectional(L.LSTM(5, return_sequences=True)),
                               L.Bidirectional(L.LSTM(5)), L.Dense(3, activation="softmax")],
    "lstm-sigmoid": lambda: [L.Embedding(20, 6), L.LSTM(7), L.Dense(1, activation="sigmoid")],
}


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_classifier_after_return_sequences_false_matches_predict(tmp_path, kind, ext):
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((None,), dtype="int32"), *MODELS[kind]()])
    _sharpen(m, 2)
    m.save(tmp_path / f"c.{ext}")
    labels = ["negative", "neutral", "positive"] if kind == "bilstm-softmax" else ["positive"]
    res = import_model(tmp_path / f"c.{ext}", vocab=VOCAB, labels=labels)
    head = res.model.head
    assert (head.kind, head.pool, head.labels) == ("classifier", "final", tuple(labels))
    assert head.activation == ("softmax" if kind == "bilstm-softmax" else "sigmoid")
    assert any("return_sequences=False" in n for n in res.notes)
    for text in ("abcq", "hello world", "rrr"):  # " ", w, o are unknown: <unk>
        want = m.predict(np.array([_ids(text)]), verbose=0)[0]
        got = res.model.trace_text(text).probs
        assert got.shape == want.shape
        assert np.abs(got - want).max() < TOL, text
    v = res.verification
    assert v["passed"] and v["max_abs_diff"]["probs"] < TOL


def test_time_distributed_tagger_matches_predict(tmp_path):
    keras.utils.set_random_seed(3)
    m = keras.Sequential([keras.Input((None,), dtype="int32"), L.Embedding(20, 6),
                          L.Bidirectional(L.LSTM(4, return_sequences=True)),
                          L.TimeDistributed(L.Dense(5, activation="softmax"))])
    _sharpen(m, 4)
    m.save(tmp_path / "t.keras")
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    res = import_model(tmp_path / "t.keras", vocab=VOCAB, labels=tags)
    assert res.model.head.kind == "tagger" and res.model.head.labels == tuple(tags)
    text = "abc dq"
    want = m.predict(np.array([_ids(text)]), verbose=0)[0]  # (T, 5)
    assert np.abs(res.model.trace_text(text).probs - want).max() < TOL
    assert res.verification["passed"] and res.verification["max_abs_diff"]["probs"] < TOL


def test_user_can_override_what_the_structure_says(tmp_path):
    keras.utils.set_random_seed(5)
    m = keras.Sequential([keras.Input((None,), dtype="int32"), L.Embedding(20, 4), L.LSTM(3), L.Dense(2)])
    m.save(tmp_path / "c.keras")
    assert import_model(tmp_path / "c.keras", vocab=VOCAB).model.head.kind == "classifier"
    # Told it is a tagger, gatescope reads every step; Keras still reads one vector, so the check says it differs.
    res = import_model(tmp_path / "c.keras", vocab=VOCAB, head="tagger")
    assert res.model.head.kind == "tagger"
    assert res.verification["verified"] and not res.verification["passed"]


def test_weights_only_classifier_needs_the_head_flag_and_is_then_verified(tmp_path):
    keras.utils.set_random_seed(6)
    m = keras.Sequential([keras.Input((None,), dtype="int32"), L.Embedding(20, 4),
                          L.Bidirectional(L.LSTM(3)), L.Dense(4, activation="softmax")])
    _sharpen(m, 7)
    m.save_weights(tmp_path / "c.weights.h5")  # no config: return_sequences is not recorded
    res = import_model(tmp_path / "c.weights.h5", vocab=VOCAB, head="classifier")
    want = m.predict(np.array([_ids("fig")]), verbose=0)[0]
    assert np.abs(res.model.trace_text("fig").probs - want).max() < TOL
    assert res.verification["passed"]
    assert any("Dense layer reads every step or the final state" in c for c in res.verification["caveats"])
    guessed = import_model(tmp_path / "c.weights.h5", vocab=VOCAB)
    assert guessed.model.head.kind == "tagger" and any("--head classifier" in n for n in guessed.notes)
