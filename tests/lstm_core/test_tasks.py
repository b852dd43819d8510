"""Synthetic tasks: the generators follow their grammars, are deterministic, and the evaluator scores right."""
from __future__ import annotations

import re

import numpy as np
import pytest

from lstm_core import LSTM, LSTMConfig, Model, ModelError
from lstm_core.tasks import MAX_DEPTH, TASKS, accuracy, base, get_task
from lstm_core.tasks.hometown import EN, ZH


def test_counting_examples_are_a_n_x_b_n_with_n_from_1_to_10() -> None:
    seen = set()
    for s in TASKS["counting"].examples(500, seed=1):
        m = re.fullmatch(r"(a+)X(b+)\.", s)
        assert m and len(m.group(1)) == len(m.group(2))
        seen.add(len(m.group(1)))
    assert seen == set(range(1, 11))


def test_brackets_are_balanced_within_the_depth_limit() -> None:
    for s in TASKS["brackets"].examples(500, seed=2):
        assert s.endswith(".") and s.count(".") == 1
        depth = 0
        for ch in s[:-1]:
            depth += 1 if ch == "(" else -1
            assert 0 <= depth <= MAX_DEPTH
        assert depth == 0


@pytest.mark.parametrize("held_out, shortest", [(False, 1), (True, 20)])
def test_remember_repeats_the_first_letter_after_a_gap(held_out: bool, shortest: int) -> None:
    gaps = set()
    for s in TASKS["remember"].examples(600, seed=3, held_out=held_out):
        m = re.fullmatch(r"([A-D])([a-d]+)\?([A-D])", s)
        assert m and m.group(1) == m.group(3)
        gaps.add(len(m.group(2)))
    assert min(gaps) == shortest and max(gaps) == 60  # held-out examples have only long gaps


@pytest.mark.parametrize("name", list(TASKS))
def test_generators_are_deterministic_and_batches_padded(name: str) -> None:
    task = TASKS[name]
    assert task.examples(20, seed=5) == task.examples(20, seed=5)
    assert task.examples(20, seed=5) != task.examples(20, seed=6)
    x, y, w = task.batch(8, seed=0, step=3)
    x2, _, _ = task.batch(8, seed=0, step=3)
    assert np.array_equal(x, x2) and x.shape == y.shape == w.shape
    seqs = task.examples(8, [0, 3])  # training batches come from the training distribution
    tok = task.tokenizer
    for b, s in enumerate(seqs):
        ids = tok.encode(s).ids
        assert np.array_equal(x[b, : len(s) - 1], ids[:-1]) and np.array_equal(y[b, : len(s) - 1], ids[1:])
        assert w[b, len(s) - 1 :].sum() == 0  # padding never trains
        scored = np.flatnonzero(w[b])
        assert list(scored) == (list(range(len(s) - 1)) if task.train_all else task.scored(s))
        assert set(np.flatnonzero(w[b] == task.scored_weight)) >= set(task.scored(s))


class _Oracle:
    """A stand-in with the Model interface the evaluator uses, predicting from the true rule."""

    def __init__(self, task, wrong_every: int = 0) -> None:
        self.tokenizer, self.task, self.wrong_every, self.decoder_weight, self.calls = task.tokenizer, task, \
            wrong_every, True, 0

    def trace_ids(self, ids):
        tok = self.tokenizer
        s = "".join(tok.vocab[k] for k in ids)
        V = len(tok)
        probs = np.zeros((len(ids), V))
        for t in range(len(ids)):
            prefix = s[: t + 1]
            if self.task.name == "brackets":
                d = prefix.count("(") - prefix.count(")")
                nxt = [c for c, ok in (("(", d < MAX_DEPTH), (")", d > 0), (".", d == 0)) if ok]
            elif self.task.name == "counting":
                n = prefix.count("a")
                nxt = ["a"] if "X" not in prefix else (["b"] if prefix.count("b") < n else ["."])
            elif self.task.name == "remember":
                nxt = [prefix[0]] if prefix.endswith("?") else ["a"]
            else:  # hometown: at the blank, the language of the place read after the opening
                lang, place = (ZH, prefix[3:].split("，")[0]) if prefix.startswith(ZH.opening) else \
                    (EN, prefix[len(EN.opening):].split(",")[0])
                nxt = [lang.places[place][0]] if prefix.endswith(lang.closing) else [" "]
            for c in nxt:
                probs[t, tok.index[c]] = 1 / len(nxt)
        self.calls += 1
        if self.wrong_every and self.calls % self.wrong_every == 0:
            probs = probs[:, ::-1].copy()  # a confidently wrong example
        return None, probs


@pytest.mark.parametrize("name", list(TASKS))
def test_accuracy_of_a_rule_following_predictor(name: str, monkeypatch) -> None:
    task = TASKS[name]
    # The oracle is no LSTM: the evaluator gets its predictions one example at a time.
    monkeypatch.setattr(base, "predictions", lambda model, examples: [model.trace_ids(model.tokenizer.encode(s).ids)[1]
                                                                      for s in examples])
    assert accuracy(_Oracle(task), task, n=200) == 1.0
    assert accuracy(_Oracle(task, wrong_every=4), task, n=200) == 0.75


def test_batched_predictions_equal_one_trace_per_example() -> None:
    task = TASKS["hometown"]
    V = len(task.tokenizer)
    rng = np.random.default_rng(1)
    model = Model(LSTM.random(LSTMConfig(V, 6), seed=1, dtype=np.float64), "onehot", task.tokenizer, None,
                  rng.standard_normal((V, 6)), rng.standard_normal(V))
    examples = task.examples(9, seed=4, held_out=True)
    for s, p in zip(examples, base.predictions(model, examples, group=4), strict=True):
        np.testing.assert_allclose(p, model.trace_text(s).probs, atol=1e-12)


@pytest.mark.parametrize("name", list(TASKS))
def test_an_untrained_model_is_far_below_the_bar(name: str) -> None:
    task = TASKS[name]
    V = len(task.tokenizer)
    lstm = LSTM.random(LSTMConfig(V, 4), seed=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    model = Model(lstm, "onehot", task.tokenizer, None, rng.standard_normal((V, 4)), np.zeros(V))
    assert accuracy(model, task, n=100) < 0.9


def test_a_model_without_the_task_symbols_is_refused() -> None:
    from lstm_core import Tokenizer

    tok = Tokenizer("char", ("<unk>", "x"), "<unk>")
    model = Model(LSTM.random(LSTMConfig(2, 3)), "onehot", tok, None, np.zeros((2, 3), np.float32),
                  np.zeros(2, np.float32))
    with pytest.raises(ModelError, match="cannot do the counting task"):
        accuracy(model, TASKS["counting"])
    with pytest.raises(ModelError, match="unknown task"):
        get_task("sorting")
