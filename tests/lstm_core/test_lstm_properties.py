"""Hypothesis tests of the LSTM invariants, over random configurations, weights and inputs.

The cell equations are re-derived here in NumPy from the parameters and the recorded neighbours
(h_{t-1}, c_{t-1}): every step is checked locally, so a wrong value anywhere is caught where it occurs.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_core import LSTM, LSTMConfig, concat_time
from lstm_core.activations import HARD_SIGMOID_KERAS2, HARD_SIGMOID_KERAS3, SIGMOID, TANH, Activation

TOL = {np.float64: 1e-12, np.float32: 1e-5}
GATES = ("i", "f", "g", "o", "c", "h")
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Written from the activation definitions (Keras, ONNX), independently of lstm_core.activations.
REF = {
    "sigmoid": lambda x, a, b: 1 / (1 + np.exp(-x)),
    "tanh": lambda x, a, b: np.tanh(x),
    "hard_sigmoid": lambda x, a, b: np.clip(a * x + b, 0, 1),
    "softsign": lambda x, a, b: x / (1 + np.abs(x)),
    "relu": lambda x, a, b: np.maximum(x, 0),
    "scaled_tanh": lambda x, a, b: a * np.tanh(b * x),
    "linear": lambda x, a, b: x,
}


def ref_act(act: Activation, x: np.ndarray) -> np.ndarray:
    return REF[act.name](x, act.alpha, act.beta)


@st.composite
def configs(draw, general: bool = False) -> LSTMConfig:
    H = draw(st.integers(1, 6))
    kw = {}
    if general:
        kw = dict(
            recurrent_activation=draw(st.sampled_from([SIGMOID, HARD_SIGMOID_KERAS2, HARD_SIGMOID_KERAS3])),
            cell_activation=draw(st.sampled_from([TANH, Activation("softsign"), Activation("scaled_tanh", 0.8, 1.5)])),
            hidden_activation=draw(st.sampled_from([TANH, Activation("softsign"), Activation("relu")])),
            peepholes=draw(st.booleans()), clip=draw(st.none() | st.floats(0.25, 3.0)),
            input_forget=draw(st.booleans()),
        )
    return LSTMConfig(
        input_size=draw(st.integers(1, 5)), hidden_size=H, num_layers=draw(st.integers(1, 3)),
        bidirectional=draw(st.booleans()), proj_size=draw(st.integers(0, H - 1)) if H > 1 else 0,
        bias=draw(st.booleans()), **kw,
    )


def make_case(cfg: LSTMConfig, seed: int, T: int, dtype, state: bool):
    """Random weights (scaled up so gates saturate sometimes), input and optional initial state."""
    lstm = LSTM.random(cfg, seed=seed, dtype=np.float64)
    lstm = LSTM(cfg, {k: (3 * v).astype(dtype) for k, v in lstm.params.items()})
    rng = np.random.default_rng(seed + 1)
    LD, Ho = cfg.num_layers * cfg.num_directions, cfg.output_size
    x = rng.standard_normal((T, cfg.input_size)).astype(dtype)  # (T, D)
    h0 = rng.standard_normal((LD, Ho)).astype(dtype) if state else np.zeros((LD, Ho), dtype)
    c0 = rng.standard_normal((LD, cfg.hidden_size)).astype(dtype) if state else np.zeros((LD, cfg.hidden_size), dtype)
    return lstm, x, h0, c0


def check_cell_equations(lstm: LSTM, x, h0, c0, tr, tol: float) -> None:
    """Every step of every layer and direction obeys the LSTM equations, given its recorded neighbours."""
    cfg, p = lstm.config, {k: v.astype(np.float64) for k, v in lstm.params.items()}
    rec, cel, hid = cfg.recurrent_activation, cfg.cell_activation, cfg.hidden_activation
    H, Dn = cfg.hidden_size, cfg.num_directions
    inp = x.astype(np.float64)  # (T, D_in)
    for k in range(cfg.num_layers):
        for d in range(Dn):
            n, idx = f"l{k}{'_reverse' if d else ''}", k * Dn + d
            i, f, g, o, c, h = (getattr(tr, q)[k, d].astype(np.float64) for q in GATES)
            # the neighbour in time: t-1 going forward, t+1 going backward
            if d == 0:
                c_prev, h_prev = np.vstack([c0[idx][None], c[:-1]]), np.vstack([h0[idx][None], h[:-1]])
            else:
                c_prev, h_prev = np.vstack([c[1:], c0[idx][None]]), np.vstack([h[1:], h0[idx][None]])
            if rec.name in ("sigmoid", "hard_sigmoid"):
                for q, v in (("i", i), ("f", f), ("o", o)):
                    assert v.min() >= 0 and v.max() <= 1, f"layer {k} dir {d}: {q} leaves [0, 1]"
            if cel == TANH:
                assert np.abs(g).max() <= 1, f"layer {k} dir {d}: g leaves [-1, 1]"
            np.testing.assert_allclose(c, f * c_prev + i * g, rtol=0, atol=tol, err_msg="c_t = f*c_{t-1} + i*g")
            m = o * ref_act(hid, c)  # (T, H)
            np.testing.assert_allclose(h, m @ p[f"weight_hr_{n}"].T if cfg.proj_size else m, rtol=0, atol=tol,
                                       err_msg="h = o*act(c), projected by W_hr when proj_size")
            z = inp @ p[f"weight_ih_{n}"].T + h_prev @ p[f"weight_hh_{n}"].T  # (T, 4H), rows i|f|g|o
            if cfg.bias:
                z += p[f"bias_ih_{n}"] + p[f"bias_hh_{n}"]
            zi, zf, zg, zo = (z[:, j * H : (j + 1) * H] for j in range(4))
            if cfg.peepholes:  # ONNX: i and f look at c_{t-1}, o at the new c_t
                P = p[f"weight_peephole_{n}"]  # (3, H) rows i|f|o
                zi, zf, zo = zi + P[0] * c_prev, zf + P[1] * c_prev, zo + P[2] * c
            if cfg.clip is not None:
                zi, zf, zg, zo = (np.clip(a, -cfg.clip, cfg.clip) for a in (zi, zf, zg, zo))
            for q, want in (("pre_i", zi), ("pre_g", zg), ("pre_o", zo)) + ((("pre_f", zf),) * (not cfg.input_forget)):
                np.testing.assert_allclose(getattr(tr, q)[k, d], want, rtol=0, atol=tol * 10, err_msg=q)
            np.testing.assert_allclose(i, ref_act(rec, zi), rtol=0, atol=tol * 10, err_msg="i = act(pre_i)")
            np.testing.assert_allclose(g, ref_act(cel, zg), rtol=0, atol=tol * 10, err_msg="g = act(pre_g)")
            np.testing.assert_allclose(o, ref_act(rec, zo), rtol=0, atol=tol * 10, err_msg="o = act(pre_o)")
            want_f = 1 - i if cfg.input_forget else ref_act(rec, zf)
            np.testing.assert_allclose(f, want_f, rtol=0, atol=tol * 10, err_msg="f = act(pre_f), or 1 - i coupled")
        inp = np.concatenate([tr.h[k, d].astype(np.float64) for d in range(Dn)], axis=-1)  # (T, D*H_out)
    np.testing.assert_allclose(tr.output, inp, rtol=0, atol=tol, err_msg="output is the last layer's h")


@SETTINGS
@given(cfg=configs(), seed=st.integers(0, 2**16), T=st.integers(1, 10), state=st.booleans(),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_torch_semantics_obey_the_cell_equations(cfg, seed, T, state, dtype) -> None:
    lstm, x, h0, c0 = make_case(cfg, seed, T, dtype, state)
    tr = lstm.trace(x, h0, c0, record_pre=True)
    check_cell_equations(lstm, x, h0, c0, tr, TOL[dtype])


@SETTINGS
@given(cfg=configs(general=True), seed=st.integers(0, 2**16), T=st.integers(1, 10), state=st.booleans(),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_other_activations_clip_peepholes_obey_the_cell_equations(cfg, seed, T, state, dtype) -> None:
    lstm, x, h0, c0 = make_case(cfg, seed, T, dtype, state)
    tr = lstm.trace(x, h0, c0, record_pre=True)
    check_cell_equations(lstm, x, h0, c0, tr, TOL[dtype])
    if cfg.clip is not None:
        for q in ("pre_i", "pre_g", "pre_o"):
            assert np.abs(getattr(tr, q)).max() <= cfg.clip, f"{q} exceeds clip {cfg.clip}"


def assert_same(a, b, tol: float, fields=(*GATES, "output", "h_n", "c_n")) -> None:
    for q in fields:
        np.testing.assert_allclose(getattr(a, q), getattr(b, q), rtol=0, atol=tol, err_msg=q)


@SETTINGS
@given(cfg=st.booleans().flatmap(lambda general: configs(general)), seed=st.integers(0, 2**16), T=st.integers(1, 10),
       state=st.booleans(), dtype=st.sampled_from([np.float64, np.float32]))
def test_step_by_step_equals_whole_sequence(cfg, seed, T, state, dtype) -> None:
    """Feeding one token at a time, each from the last h_n and c_n, records what one call records."""
    cfg = LSTMConfig(**{**cfg.__dict__, "bidirectional": False})  # a backward pass needs the future
    lstm, x, h0, c0 = make_case(cfg, seed, T, dtype, state)
    whole = lstm.trace(x, h0, c0)
    steps = lstm.trace(x[:1], h0, c0)
    for t in range(1, T):
        steps = concat_time(steps, lstm.trace(x[t : t + 1], steps.h_n, steps.c_n))
    assert_same(steps, whole, TOL[dtype])


@SETTINGS
@given(cfg=st.booleans().flatmap(lambda general: configs(general)), seed=st.integers(0, 2**16),
       T=st.integers(2, 10), cut=st.floats(0, 1),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_concat_time_of_two_halves_equals_whole(cfg, seed, T, cut, dtype) -> None:
    cfg = LSTMConfig(**{**cfg.__dict__, "bidirectional": False})
    lstm, x, h0, c0 = make_case(cfg, seed, T, dtype, True)
    k = min(T - 1, max(1, round(cut * T)))
    a = lstm.trace(x[:k], h0, c0, record_pre=True)
    joined = concat_time(a, lstm.trace(x[k:], a.h_n, a.c_n, record_pre=True))
    assert_same(joined, lstm.trace(x, h0, c0, record_pre=True), TOL[dtype],
                fields=(*GATES, "pre_i", "pre_f", "pre_g", "pre_o", "output", "h_n", "c_n"))


@SETTINGS
@given(cfg=configs(), seed=st.integers(0, 2**16), T=st.integers(1, 9), B=st.sampled_from([1, 2, 3, 5, 20]),
       state=st.booleans(), general=st.booleans(), dtype=st.sampled_from([np.float64, np.float32]))
def test_batched_equals_each_sequence_alone(cfg, seed, T, B, state, general, dtype) -> None:
    """Each sequence of a padded batch, among other random sequences, records what it records alone."""
    if general:  # the general cell path must batch the same way
        cfg = LSTMConfig(**{**cfg.__dict__, "peepholes": True, "clip": 1.5,
                            "recurrent_activation": HARD_SIGMOID_KERAS2})
    lstm, _, _, _ = make_case(cfg, seed, 1, dtype, False)
    rng = np.random.default_rng(seed + 2)
    LD, Ho, H = cfg.num_layers * cfg.num_directions, cfg.output_size, cfg.hidden_size
    lengths = rng.integers(1, T + 1, B)
    x = (100 * rng.standard_normal((B, T, cfg.input_size))).astype(dtype)  # padding holds garbage
    for b, n in enumerate(lengths):
        x[b, :n] /= 100
    h0 = rng.standard_normal((B, LD, Ho)).astype(dtype) if state else None
    c0 = rng.standard_normal((B, LD, H)).astype(dtype) if state else None
    tr = lstm.trace(x, h0, c0, lengths=lengths, record_pre=True)
    assert tr.i.shape == (B, cfg.num_layers, cfg.num_directions, T, H)
    assert tr.h_n.shape == (B, LD, Ho) and tr.c_n.shape == (B, LD, H)
    for b, n in enumerate(lengths):
        alone = lstm.trace(x[b, :n], *((h0[b], c0[b]) if state else ()), record_pre=True)
        for q in (*GATES, "pre_i", "pre_f", "pre_g", "pre_o"):
            got = getattr(tr, q)[b]
            np.testing.assert_allclose(got[:, :, :n], getattr(alone, q), rtol=0, atol=TOL[dtype], err_msg=q)
            assert not got[:, :, n:].any(), f"{q} is not zero past length {n}"
        np.testing.assert_allclose(tr.output[b, :n], alone.output, rtol=0, atol=TOL[dtype], err_msg="output")
        assert not tr.output[b, n:].any(), "output is not zero on padded steps"
        for q in ("h_n", "c_n"):
            np.testing.assert_allclose(getattr(tr, q)[b], getattr(alone, q), rtol=0, atol=TOL[dtype], err_msg=q)


def test_concat_time_refuses_bidirectional_and_batched() -> None:
    bi = LSTM.random(LSTMConfig(2, 3, bidirectional=True), seed=0, dtype=np.float64)
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match="unidirectional"):
        concat_time(bi.trace(x), bi.trace(x))
    uni = LSTM.random(LSTMConfig(2, 3), seed=0, dtype=np.float64)
    with pytest.raises(ValueError, match="unbatched"):
        concat_time(uni.trace(x[None]), uni.trace(x[None]))
