"""lstm_core.teaching: the units the lessons watch, checked against measures computed another way (numpy's own
corrcoef; eta^2 as one minus the within-group share) on the shipped teaching models, and on a planted unit."""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, load_model
from lstm_core.tasks import HELD_OUT_SEED, TASKS
from lstm_core.teaching import feature_correlation, find_unit, label_selectivity, running_count, task_unit
from tests.conftest import ROOT


def _c(model: Model, text: str) -> np.ndarray:
    return model.trace_text(text).trace.c[0, 0]  # (T, H)


@pytest.mark.parametrize(("name", "task", "up", "down"), [("counter", "counting", "a", "b"),
                                                          ("brackets", "brackets", "(", ")")])
def test_the_counting_unit_is_the_one_whose_memory_follows_the_count(name, task, up, down):
    model = load_model(ROOT / "models" / f"{name}.safetensors")
    found = task_unit(model, task, n=200)
    texts = TASKS[task].examples(200, HELD_OUT_SEED, held_out=True)
    c = np.concatenate([_c(model, s) for s in texts])
    count = np.concatenate([[s[: k + 1].count(up) - s[: k + 1].count(down) for k in range(len(s))] for s in texts])
    r = np.array([np.corrcoef(c[:, u], count)[0, 1] for u in range(c.shape[1])])
    assert found.unit == int(np.argmax(np.abs(r)))
    assert found.value == pytest.approx(r[found.unit], abs=1e-4)
    assert abs(found.value) > 0.9 and found.runner_up < abs(found.value)
    assert sorted(found.units) == list(range(c.shape[1])) and found.units[0] == found.unit


def test_the_remember_unit_tells_the_first_letter_apart():
    model = load_model(ROOT / "models" / "remember.safetensors")
    found = task_unit(model, "remember", n=200)
    texts = TASKS["remember"].examples(200, HELD_OUT_SEED, held_out=True)
    c = np.array([_c(model, s[: s.index("?") + 1])[-1] for s in texts])  # (N, H)
    letters = np.array([s[0] for s in texts])
    within = sum(((c[letters == k] - c[letters == k].mean(0)) ** 2).sum(0) for k in "ABCD")
    eta2 = 1 - within / ((c - c.mean(0)) ** 2).sum(0)
    assert found.unit == int(np.argmax(eta2)) and found.value == pytest.approx(eta2[found.unit], abs=1e-4)
    assert found.value > 0.8


def test_a_planted_counter_is_found_among_random_units():
    """A unit built to add 1 on 'a' and subtract 1 on 'b' (f = 1, i = 1, g = +-1) is the one found."""
    tok = Tokenizer("char", ("a", "b", "X"))
    cfg = LSTMConfig(3, 5, 1)
    params = dict(LSTM.random(cfg, seed=3).params)
    H, u = 5, 2
    w, b = params["weight_ih_l0"].copy(), params["bias_ih_l0"].copy()
    w[[u, H + u, 2 * H + u]] = 0
    params["weight_hh_l0"] = params["weight_hh_l0"].copy()
    params["weight_hh_l0"][[u, H + u, 2 * H + u]] = 0
    b[u], b[H + u] = 30.0, 30.0  # i and f saturate at 1
    w[2 * H + u] = [10.0, -10.0, 0.0]  # g = tanh(+-10): +-1 on a, b; 0 on X
    b[2 * H + u] = 0.0
    params["bias_hh_l0"] = params["bias_hh_l0"].copy()
    params["bias_hh_l0"][[u, H + u, 2 * H + u]] = 0
    params["weight_ih_l0"], params["bias_ih_l0"] = w, b
    model = Model(LSTM(cfg, params), "onehot", tok)
    texts = ["aaXbb", "aaaaXbbbb", "aXb", "aaaXbbb"]
    found = find_unit(feature_correlation(model, texts, running_count("a", "b")), "r", len(texts))
    assert found.unit == u and found.value > 0.999
    # The planted unit's c is +1 or -1 by the first letter and X adds nothing: all of its variance is the letter's.
    by_first = label_selectivity(model, ["aX", "bX", "aXX", "bXX", "aXXX"], lambda s: s[0], lambda s: len(s) - 1)
    assert int(np.argmax(by_first)) == u and by_first[u] > 0.999
