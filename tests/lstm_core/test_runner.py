"""The runner: prepared weights (what they hold, cached per LSTM, released with it), the two schedules
giving the same values, ragged batches and input checks."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from lstm_core import LSTM, LSTMConfig, ModelError, engine
from lstm_core.activations import HARD_SIGMOID_KERAS2
from lstm_core.runner import WAVEFRONT_MAX_BATCH, prepare, run, schedule_for


def lstm_for(seed: int = 0, dtype=np.float64, **cfg) -> LSTM:
    base = dict(input_size=3, hidden_size=5, num_layers=3)
    lstm = LSTM.random(LSTMConfig(**{**base, **cfg}), seed=seed, dtype=dtype)
    return LSTM(lstm.config, {k: 3 * v for k, v in lstm.params.items()})  # gates saturate sometimes


def torch_rows_to_ifog(a: np.ndarray, H: int) -> np.ndarray:
    """Written here from torch's documented row order i|f|g|o, independently of lstm_core.gates."""
    i, f, g, o = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
    return np.concatenate([i, f, o, g])


def test_prepared_weights_are_transposed_reordered_and_scaled_on_the_fast_path():
    lstm = lstm_for(num_layers=2, bidirectional=True)
    H, p = 5, lstm.params
    prep = prepare(lstm)
    assert prep.options.fast
    half = np.r_[np.full(3 * H, 0.5), np.ones(H)]  # i, f, o halved; g as is
    for k in range(2):
        for d, sfx in enumerate(("", "_reverse")):
            cell = prep.cells[k][d]
            n = f"l{k}{sfx}"
            np.testing.assert_array_equal(cell.W_ih, torch_rows_to_ifog(p[f"weight_ih_{n}"], H).T * half)
            np.testing.assert_array_equal(cell.W_hh, torch_rows_to_ifog(p[f"weight_hh_{n}"], H).T * half)
            np.testing.assert_array_equal(cell.b, torch_rows_to_ifog(p[f"bias_ih_{n}"] + p[f"bias_hh_{n}"], H) * half)


def test_general_path_weights_are_not_scaled():
    lstm = lstm_for(num_layers=1, recurrent_activation=HARD_SIGMOID_KERAS2)
    prep = prepare(lstm)
    assert not prep.options.fast
    np.testing.assert_array_equal(prep.cells[0][0].W_hh, torch_rows_to_ifog(lstm.params["weight_hh_l0"], 5).T)


def test_prepare_is_cached_per_lstm_and_released_with_it():
    lstm = lstm_for()
    first = prepare(lstm)
    assert prepare(lstm) is first
    twin = LSTM(lstm.config, lstm.params)  # same numbers, another object: its own entry
    assert prepare(twin) is not first
    gone = weakref.ref(first)
    del lstm, first
    gc.collect()
    assert gone() is None, "the prepared weights outlived their LSTM"


def test_schedule_choice(monkeypatch):
    monkeypatch.setattr(engine, "FORCE_PATH", "numpy")  # the NumPy step; the compiled loop: the next test
    uni = LSTMConfig(3, 5, num_layers=2)
    assert schedule_for(uni, 1) == "wavefront"
    assert schedule_for(uni, WAVEFRONT_MAX_BATCH + 1) == "layers"
    assert schedule_for(LSTMConfig(3, 5, num_layers=1), 1) == "layers"
    assert schedule_for(LSTMConfig(3, 5, num_layers=2, bidirectional=True), 1) == "layers"
    assert schedule_for(LSTMConfig(3, 5, num_layers=2, reverse=True), 1) == "layers"
    # the wavefront reads every layer's weights each step: only while they stay small (L2 cache)
    assert schedule_for(LSTMConfig(65, 64, num_layers=2), 1) == "wavefront"  # 0.19 MiB
    assert schedule_for(LSTMConfig(65, 256, num_layers=2), 1) == "layers"  # 3 MiB
    assert schedule_for(LSTMConfig(65, 64, num_layers=2), 1, itemsize=8) == "wavefront"  # 0.38 MiB
    assert schedule_for(LSTMConfig(65, 128, num_layers=2), 1, itemsize=8) == "layers"  # 1.5 MiB


def test_schedule_choice_with_the_compiled_loop(monkeypatch):
    """The compiled loop runs layer after layer with no Python per step: it replaces the wavefront up to
    engine.LOOP_MAX_BATCH, except where it cannot run (projections, activations other than torch's)."""
    monkeypatch.setattr(engine, "FORCE_PATH", "jit")
    monkeypatch.setattr(engine.jitcell, "AVAILABLE", True)  # the choice only: nothing is compiled here
    uni = LSTMConfig(65, 64, num_layers=2)
    assert schedule_for(uni, 1) == "layers"
    assert schedule_for(uni, engine.LOOP_MAX_BATCH) == "layers"
    assert schedule_for(uni, engine.LOOP_MAX_BATCH + 1) == "wavefront"
    assert schedule_for(LSTMConfig(65, 64, num_layers=2, proj_size=16), 1) == "wavefront"
    assert schedule_for(LSTMConfig(65, 64, num_layers=2, peepholes=True), 1) == "wavefront"


def test_wavefront_refuses_what_it_cannot_run():
    x = np.zeros((4, 3))
    for lstm in (lstm_for(bidirectional=True), lstm_for(reverse=True)):
        with pytest.raises(ValueError, match="wavefront"):
            run(lstm, x, schedule="wavefront")
    with pytest.raises(ValueError, match="schedule"):
        run(lstm_for(), x, schedule="diagonal")


FIELDS = ("i", "f", "g", "o", "c", "h", "pre_i", "pre_f", "pre_g", "pre_o", "output", "h_n", "c_n")


@pytest.mark.parametrize("cfg", [dict(), dict(proj_size=2), dict(num_layers=2, peepholes=True, clip=1.5),
                                 dict(num_layers=4, bias=False)])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_wavefront_and_by_layer_give_the_same_values(cfg, dtype, tol):
    """Ragged batch with initial states: both schedules, every recorded quantity."""
    lstm = lstm_for(seed=7, dtype=dtype, **cfg)
    c = lstm.config
    rng = np.random.default_rng(8)
    B, T, LD = 4, 9, c.num_layers
    x = rng.standard_normal((B, T, 3)).astype(dtype)
    h0 = rng.standard_normal((B, LD, c.output_size)).astype(dtype)
    c0 = rng.standard_normal((B, LD, c.hidden_size)).astype(dtype)
    lengths = np.array([9, 4, 1, 7])
    wave = run(lstm, x, h0, c0, lengths, record_pre=True, schedule="wavefront")
    layers = run(lstm, x, h0, c0, lengths, record_pre=True, schedule="layers")
    for k in FIELDS:
        np.testing.assert_allclose(getattr(wave, k), getattr(layers, k), atol=tol, rtol=0, err_msg=k)


@pytest.mark.parametrize("schedule,cfg", [("wavefront", dict()), ("layers", dict()),
                                          ("layers", dict(bidirectional=True)), ("layers", dict(reverse=True,
                                                                                                num_layers=1))])
def test_ragged_batch_equals_each_sequence_alone_and_padding_is_zero(schedule, cfg):
    lstm = lstm_for(seed=9, **cfg)
    rng = np.random.default_rng(10)
    lengths = np.array([6, 2, 5])
    x = rng.standard_normal((3, 6, 3))
    x_garbage = x.copy()
    for b, n in enumerate(lengths):
        x_garbage[b, n:] = 1e3  # whatever sits in the padding must not matter
    tb = run(lstm, x_garbage, lengths=lengths, schedule=schedule)
    for b, n in enumerate(lengths):
        alone = run(lstm, x[b, :n], schedule=schedule)
        for k in ("i", "f", "g", "o", "c", "h"):
            np.testing.assert_allclose(getattr(tb, k)[b][..., :n, :], getattr(alone, k), atol=1e-12, err_msg=k)
            assert not getattr(tb, k)[b][..., n:, :].any(), f"{k} is not zero in the padding"
        np.testing.assert_allclose(tb.h_n[b], alone.h_n, atol=1e-12)
        np.testing.assert_allclose(tb.c_n[b], alone.c_n, atol=1e-12)


@pytest.mark.parametrize("kwargs,words", [
    (dict(lengths=[3, 3]), "lengths must be 1 integers"),
    (dict(lengths=[0]), "between 1 and the padded length"),
    (dict(h0=np.zeros((2, 5))), "h0 must have shape"),
    (dict(c0=np.full((1, 3, 5), np.nan)), "c0 contains NaN"),
])
def test_bad_lengths_and_states_raise_model_error(kwargs, words):
    with pytest.raises(ModelError, match=words):
        run(lstm_for(), np.zeros((1, 4, 3)), **kwargs)


def test_the_schedule_asked_for_is_the_one_that_runs(monkeypatch):
    """So that the comparison above really compares two code paths."""
    from lstm_core import schedules

    called = []
    for name in ("wavefront", "by_layer"):
        real = getattr(schedules, name)
        monkeypatch.setattr(schedules, name, lambda *a, _n=name, _f=real, **k: called.append(_n) or _f(*a, **k))
    monkeypatch.setattr(engine, "FORCE_PATH", "numpy")  # the NumPy step (the compiled loop runs by layers)
    x = np.zeros((5, 3))
    run(lstm_for(), x, schedule="wavefront")
    run(lstm_for(), x, schedule="layers")
    run(lstm_for(), x)  # batch 1, unidirectional stack: the wavefront by default
    assert called == ["wavefront", "by_layer", "wavefront"]
