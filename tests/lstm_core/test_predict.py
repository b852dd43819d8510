"""Next-token predictions in blocks (lstm_core/predict.py): the same numbers as one softmax over everything,
the same ranking as a stable sort, and the same bits wherever a run starts."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_core import LSTM, LSTMConfig, Model, Tokenizer
from lstm_core.predict import block_rows, predict, probabilities, top_k


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(1, 45), st.integers(0, 2**32 - 1))
def test_top_k_is_a_stable_sort_of_minus_p_cut_at_k(rows, V, k, seed):
    """Ties are common here on purpose (values from a set of four): the lower id must come first."""
    rng = np.random.default_rng(seed)
    p = rng.choice(np.array([0.0, 0.1, 0.25, 0.5], np.float32), size=(rows, V))
    want = np.argsort(-p, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(top_k(p, k), want)


@pytest.mark.parametrize("V", [7, 5000])
def test_predictions_equal_a_whole_softmax_within_rounding(V):
    rng = np.random.default_rng(1)
    out = rng.normal(size=(70, 6)).astype(np.float32)
    W, b = rng.normal(size=(V, 6)).astype(np.float32), rng.normal(size=V).astype(np.float32)
    ids = rng.integers(-1, V, 70)
    full = softmax(out.astype(np.float64) @ W.T.astype(np.float64) + b)  # (T, V), independently
    np.testing.assert_allclose(probabilities(out, W, b), full, rtol=2e-5, atol=1e-9)
    pr = predict(out, W, b, ids, 5)
    np.testing.assert_array_equal(pr.ids, np.argsort(-probabilities(out, W, b), axis=1, kind="stable")[:, :5])
    np.testing.assert_allclose(pr.probs, np.take_along_axis(full, pr.ids, axis=1), rtol=2e-5)
    known = np.flatnonzero(ids[1:] >= 0)
    np.testing.assert_allclose(pr.actual[known], full[known, ids[1:][known]], rtol=2e-5)
    assert np.isnan(pr.actual[-1]) and np.isnan(pr.actual[:-1][ids[1:] < 0]).all()


def test_any_starting_position_gives_the_same_bits():
    """Positions first.. of a run started at `first` equal those of a run from 0, for every first."""
    rng = np.random.default_rng(2)
    V = 300
    out = rng.normal(size=(3 * block_rows(V) + 5, 8)).astype(np.float32)
    W, b = rng.normal(size=(V, 8)).astype(np.float32), rng.normal(size=V).astype(np.float32)
    ids = rng.integers(0, V, len(out))
    whole = predict(out, W, b, ids, 10)
    for first in range(len(out)):
        part = predict(out[first:], W, b, ids, 10, first=first)
        np.testing.assert_array_equal(part.ids, whole.ids[first:])
        np.testing.assert_array_equal(part.probs, whole.probs[first:])
        np.testing.assert_array_equal(part.actual, whole.actual[first:])


def test_a_continued_trace_is_the_same_bits_as_a_whole_run():
    """The input projection is blocked the same way: an embedding model's steps after `offset` are exact."""
    rng = np.random.default_rng(3)
    tok = Tokenizer("char", tuple("abcdefgh"))
    model = Model(LSTM.random(LSTMConfig(12, 20, 2), seed=1), "embedding", tok,
                  rng.normal(size=(8, 12)).astype(np.float32))
    ids = rng.integers(0, 8, 50)
    whole = model.run(ids)
    for k in range(1, 50):
        head = model.run(ids[:k])
        h0, c0 = head.h[:, 0, k - 1], head.c[:, 0, k - 1]
        tail = model.run(ids[k:], h0, c0, offset=k)
        np.testing.assert_array_equal(head.h, whole.h[:, :, :k])
        np.testing.assert_array_equal(tail.h, whole.h[:, :, k:])
        np.testing.assert_array_equal(tail.c, whole.c[:, :, k:])


def test_overflowing_logits_are_a_model_error():
    from lstm_core import ModelError

    W = np.full((4, 2), 3e38, np.float32)
    with pytest.raises(ModelError, match="overflowed"):
        predict(np.ones((3, 2), np.float32), W, None, np.zeros(3, np.int64), 2)


def test_sigmoid_heads_and_taggers_are_kept_the_same_way():
    """A sigmoid head (an independent probability per output) in blocks equals 1 / (1 + e^-z) computed
    independently; a tagger (ids=None) has its top labels and no actual next token anywhere."""
    rng = np.random.default_rng(4)
    out = rng.normal(size=(40, 6)).astype(np.float32)
    W, b = rng.normal(size=(9, 6)).astype(np.float32), rng.normal(size=9).astype(np.float32)
    want = 1 / (1 + np.exp(-(out.astype(np.float64) @ W.T.astype(np.float64) + b)))  # (T, 9)
    got = probabilities(out, W, b, "sigmoid")
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)
    assert not np.allclose(got.sum(axis=1), 1)  # not a softmax after all
    pr = predict(out, W, b, None, 3, activation="sigmoid")
    np.testing.assert_array_equal(pr.ids, np.argsort(-got, axis=1, kind="stable")[:, :3])
    np.testing.assert_array_equal(pr.probs, np.take_along_axis(got, pr.ids, axis=1))
    assert np.isnan(pr.actual).all()


@pytest.mark.parametrize("kind, activation", [("tagger", "softmax"), ("tagger", "sigmoid"),
                                              ("next_token", "sigmoid")])
def test_model_predictions_read_every_per_position_head(kind, activation):
    """Model.predictions is the head's probabilities (Model.outputs) cut to the top k, whatever the head;
    only a next-token decoder has the actual next token's probability."""
    rng = np.random.default_rng(5)
    tok = Tokenizer("char", tuple("abcdef"))
    K = 4 if kind == "tagger" else len(tok)
    model = Model(LSTM.random(LSTMConfig(6, 5, 1, bidirectional=True), seed=2), "onehot", tok, None,
                  rng.normal(size=(K, 10)).astype(np.float32), rng.normal(size=K).astype(np.float32),
                  head_kind=kind, head_activation=activation)
    ids = tok.encode("abcafed").ids
    tr, probs = model.trace_ids(ids)  # (T, K)
    pr = model.predictions(tr.output, ids, 3)
    np.testing.assert_array_equal(pr.ids, np.argsort(-probs, axis=1, kind="stable")[:, :3])
    np.testing.assert_array_equal(pr.probs, np.take_along_axis(probs, pr.ids, axis=1))
    if kind == "tagger":
        assert np.isnan(pr.actual).all()
    else:
        np.testing.assert_array_equal(pr.actual[:-1], probs[np.arange(len(ids) - 1), ids[1:]])
    assert model.classes(tr) is None


def test_a_classifier_has_classes_and_no_per_position_predictions():
    rng = np.random.default_rng(6)
    tok = Tokenizer("char", tuple("abcdef"))
    model = Model(LSTM.random(LSTMConfig(6, 5, 2, bidirectional=True), seed=3), "onehot", tok, None,
                  rng.normal(size=(3, 10)).astype(np.float32), None, head_kind="classifier")
    tr, probs = model.trace_ids(tok.encode("badcafe").ids)
    assert probs.shape == (3,) and model.predictions(tr.output, tok.encode("badcafe").ids, 3) is None
    # torch's cat(h_n[-2], h_n[-1]) through the linear layer and a softmax, computed here from the trace
    z = np.concatenate([tr.h_n[-2], tr.h_n[-1]]).astype(np.float64) @ model.decoder_weight.T.astype(np.float64)
    np.testing.assert_allclose(model.classes(tr), np.exp(z) / np.exp(z).sum(), rtol=1e-5)
