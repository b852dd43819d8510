"""The time loop (engine.run_groups) against a naive per-step loop written here from the LSTM equations.

The reference takes unscaled weights in the internal gate order i|f|o|g and computes every gate with
its own sigmoid; the engine gets the weights scaled as its fast path expects (gates.gate_scale), on each
path of its fast step (the `fast_path` fixture: NumPy with tanh, NumPy with exp, numba), so a
wrong scale, a wrong activation or a mask applied at the wrong step shows up as a value difference.
"""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core.activations import HARD_SIGMOID_KERAS2, SIGMOID, TANH, Activation
from lstm_core.engine import CellOptions, GroupRun, run_groups
from lstm_core.gates import gate_scale

FAST = CellOptions(True, SIGMOID, TANH, TANH, None, False)
REF_ACT = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
           "hard_sigmoid": lambda z: np.clip(0.2 * z + 0.5, 0, 1), "softsign": lambda z: z / (1 + np.abs(z))}


def naive(W, add, h0, c0, mask=None, W_hr=None, peep=None, opts=FAST):
    """Per step, per batch row, per group: z = h W + add; gates; c = f c + i g; h = o act(c) (W_hr of it)."""
    S, B, G, H4 = add.shape
    H = H4 // 4
    rec, cel, hid = (REF_ACT[a.name] for a in (opts.recurrent, opts.cell, opts.hidden))
    h, c = h0.astype(np.float64).copy(), c0.astype(np.float64).copy()
    out = {k: np.zeros((S, B, G, H4 if k in ("gates", "pre") else H if k == "c" else h0.shape[2]))
           for k in ("gates", "pre", "c", "h")}
    for s in range(S):
        for b in range(B):
            for k in range(G):
                z = h[b, k] @ W[k] + add[s, b, k]  # (4H,)
                if peep is not None:
                    z[:H] += peep[0, k] * c[b, k]
                    z[H : 2 * H] += peep[1, k] * c[b, k]
                if opts.clip is not None:
                    z[:2 * H] = np.clip(z[:2 * H], -opts.clip, opts.clip)
                    z[3 * H :] = np.clip(z[3 * H :], -opts.clip, opts.clip)
                i, f, g = rec(z[:H]), rec(z[H : 2 * H]), cel(z[3 * H :])
                if opts.input_forget:
                    f = 1 - i
                c_new = f * c[b, k] + i * g
                if peep is not None:
                    z[2 * H : 3 * H] += peep[2, k] * c_new
                if opts.clip is not None:
                    z[2 * H : 3 * H] = np.clip(z[2 * H : 3 * H], -opts.clip, opts.clip)
                o = rec(z[2 * H : 3 * H])
                h_new = o * hid(c_new)
                if W_hr is not None:
                    h_new = h_new @ W_hr[k]
                out["gates"][s, b, k] = np.concatenate([i, f, o, g])
                out["pre"][s, b, k] = z
                if mask is None or mask[s, b, k]:
                    c[b, k], h[b, k] = c_new, h_new
                out["c"][s, b, k], out["h"][s, b, k] = c[b, k], h[b, k]
    return out


def case(S=7, B=3, G=2, H=4, Ho=None, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    Ho = Ho or H
    W = rng.normal(0, 0.8, (G, Ho, 4 * H)).astype(dtype)  # (G, H_out, 4H)
    add = rng.normal(0, 1.0, (S, B, G, 4 * H)).astype(dtype)
    h0 = rng.normal(0, 0.5, (B, G, Ho)).astype(dtype)
    c0 = rng.normal(0, 0.5, (B, G, H)).astype(dtype)
    return W, add, h0, c0


def buffers(S, B, G, H, Ho, dtype):
    return GroupRun(np.empty((S, B, G, 4 * H), dtype), np.empty((S, B, G, 4 * H), dtype),
                    np.empty((S + 1, B, G, H), dtype), np.empty((S + 1, B, G, Ho), dtype))


def check(run: GroupRun, ref: dict, tol: float) -> None:
    for k in ("gates", "pre"):
        np.testing.assert_allclose(getattr(run, k), ref[k], atol=tol, rtol=0, err_msg=k)
    np.testing.assert_allclose(run.c[1:], ref["c"], atol=tol, rtol=0, err_msg="c")
    np.testing.assert_allclose(run.h[1:], ref["h"], atol=tol, rtol=0, err_msg="h")


@pytest.mark.parametrize("G", [1, 2])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.usefixtures("fast_path")
def test_fast_path_equals_naive_loop(G, dtype, tol):
    """Scaled weights in, true gates and true (unscaled) pre-activations out; one or several groups."""
    S, B, H = 7, 3, 4
    W, add, h0, c0 = case(S, B, G, H, dtype=dtype)
    s = gate_scale(H, dtype)
    run = buffers(S, B, G, H, H, dtype)
    Ws = W[0] * s if G == 1 else W * s  # one group: the 2-D (H_out, 4H) form
    run_groups(Ws, add * s, h0, c0, run, mask=None, W_hr=None, peep=None, opts=FAST)
    check(run, naive(W, add, h0, c0), tol)
    assert np.array_equal(run.c[0], c0) and np.array_equal(run.h[0], h0)


@pytest.mark.usefixtures("fast_path")
def test_masked_steps_keep_the_state():
    """Where the mask is False, c and h stay what they were (ragged batches, the wavefront's idle layers)."""
    S, B, G, H = 8, 3, 2, 5
    W, add, h0, c0 = case(S, B, G, H, seed=1)
    rng = np.random.default_rng(2)
    mask = rng.random((S, B, G)) < 0.6
    run = buffers(S, B, G, H, H, np.float64)
    s = gate_scale(H, np.float64)
    run_groups(W * s, add * s, h0, c0, run, mask=mask, W_hr=None, peep=None, opts=FAST)
    check(run, naive(W, add, h0, c0, mask=mask), 1e-12)
    frozen = ~mask[0]  # (B, G): at step 0 those keep the initial state
    assert np.array_equal(run.c[1][frozen], c0[frozen])


def test_general_path_with_peepholes_clip_projection_and_other_activations():
    """ONNX/Keras options go through the general step; the weights are not scaled there."""
    S, B, G, H, P = 6, 2, 2, 4, 3
    W, add, h0, c0 = case(S, B, G, H, Ho=P, seed=3)
    rng = np.random.default_rng(4)
    W_hr = rng.normal(0, 0.7, (G, H, P))  # (G, H, P)
    peep = rng.normal(0, 0.7, (3, G, H))
    for opts in (CellOptions(False, HARD_SIGMOID_KERAS2, Activation("softsign"), TANH, 0.9, False),
                 CellOptions(False, SIGMOID, TANH, Activation("softsign"), None, True)):
        run = buffers(S, B, G, H, P, np.float64)
        run_groups(W, add, h0, c0, run, mask=None, W_hr=W_hr, peep=peep, opts=opts)
        check(run, naive(W, add, h0, c0, W_hr=W_hr, peep=peep, opts=opts), 1e-12)


@pytest.mark.usefixtures("fast_path")
def test_without_recording_pre_activations():
    S, B, G, H = 5, 2, 1, 3
    W, add, h0, c0 = case(S, B, G, H, seed=5)
    s = gate_scale(H, np.float64)
    run = buffers(S, B, G, H, H, np.float64)
    run = GroupRun(run.gates, None, run.c, run.h)
    run_groups(W[0] * s, add * s, h0, c0, run, mask=None, W_hr=None, peep=None, opts=FAST)
    ref = naive(W, add, h0, c0)
    np.testing.assert_allclose(run.gates, ref["gates"], atol=1e-12)
    np.testing.assert_allclose(run.h[1:], ref["h"], atol=1e-12)


@pytest.mark.usefixtures("fast_path")
def test_wavefront_row_blocks_equal_layer_by_layer():
    """Groups as layers of a stack: at step s layer l handles t = s - l, fed by layer l-1 through the
    row blocks [W_hh_l | W_ih_{l+1}]; the result equals running the layers one after another."""
    T, B, L, H, D = 6, 2, 3, 4, 5
    rng = np.random.default_rng(6)
    W_ih = [rng.normal(0, 0.6, (D if k == 0 else H, 4 * H)) for k in range(L)]  # (D_in, 4H)
    W_hh = [rng.normal(0, 0.6, (H, 4 * H)) for _ in range(L)]
    b = [rng.normal(0, 0.5, 4 * H) for _ in range(L)]
    x = rng.normal(0, 1, (T, B, D))
    h0, c0 = rng.normal(0, 0.5, (B, L, H)), rng.normal(0, 0.5, (B, L, H))

    inp, ref_h, ref_c = x, [], []
    for k in range(L):  # the reference: one layer at a time, its input the layer below's h
        add = (inp @ W_ih[k] + b[k])[:, :, None]  # (T, B, 1, 4H)
        r = naive(W_hh[k][None], add, h0[:, k : k + 1], c0[:, k : k + 1])
        ref_h.append(r["h"][:, :, 0])
        ref_c.append(r["c"][:, :, 0])
        inp = r["h"][:, :, 0]

    s = gate_scale(H, np.float64)
    rows = [np.concatenate([W_hh[k], W_ih[k + 1]], axis=1) * np.tile(s, 2) if k + 1 < L else W_hh[k] * s
            for k in range(L)]
    S = T + L - 1
    add = np.empty((S, B, L, 4 * H))
    add[:] = np.stack(b) * s
    add[:T, :, 0] += (x @ W_ih[0]) * s
    t = np.arange(S)[:, None, None] - np.arange(L)[None, None, :]  # (S, 1, L)
    run = buffers(S, B, L, H, H, np.float64)
    run_groups(rows, add, h0, c0, run, mask=np.broadcast_to((t >= 0) & (t < T), (S, B, L)), W_hr=None,
               peep=None, opts=FAST)
    for k in range(L):
        np.testing.assert_allclose(run.h[1 + k : 1 + k + T, :, k], ref_h[k], atol=1e-12, err_msg=f"h layer {k}")
        np.testing.assert_allclose(run.c[1 + k : 1 + k + T, :, k], ref_c[k], atol=1e-12, err_msg=f"c layer {k}")


@pytest.mark.usefixtures("fast_path")
@pytest.mark.parametrize("record_pre", [True, False])
def test_add_may_be_the_step_buffer_it_is_added_into(record_pre):
    """The schedules project the input straight into run.pre (or run.gates when pre is not recorded), so a
    trace holds no T-long array beyond its own; each step must read add[s] before writing that step."""
    S, B, G, H = 6, 2, 2, 4
    W, add, h0, c0 = case(S, B, G, H, seed=8)
    s = gate_scale(H, np.float64)
    run = buffers(S, B, G, H, H, np.float64)
    if not record_pre:
        run = GroupRun(run.gates, None, run.c, run.h)
    shared = run.pre if record_pre else run.gates
    shared[:] = add * s
    run_groups(W * s, shared, h0, c0, run, mask=None, W_hr=None, peep=None, opts=FAST)
    ref = naive(W, add, h0, c0)
    np.testing.assert_allclose(run.gates, ref["gates"], atol=1e-12)
    if record_pre:
        np.testing.assert_allclose(run.pre, ref["pre"], atol=1e-12)
    np.testing.assert_allclose(run.h[1:], ref["h"], atol=1e-12)
