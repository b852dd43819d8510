"""One LSTM layer for training: the forward of one step, its backward right beside it, and the loops.

Inside the trainer gate rows are in gatescope's internal order i|f|o|g, with the i, f, o
pre-activations scaled so that one `tanh` gives every gate (both defined in `lstm_core.gates`,
which also converts from torch's i|f|g|o at the border). The sequence-wide work (input projections,
weight gradients) happens outside the step functions as single matrix products over all timesteps;
only the recurrence runs per step, in preallocated buffers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..gates import activate, gate_scale


def step_forward(zx: NDArray, h_prev: NDArray, c_prev: NDArray, W_hh_sT: NDArray,
                 a: NDArray, c: NDArray, tc: NDArray, h: NDArray, tmp: NDArray) -> None:
    """One step, written into a (B, 4H) gates i|f|o|g, c, tc = tanh(c) and h (B, H).

    zx (B, 4H) is this step's scaled input projection plus bias; W_hh_sT (H, 4H) the scaled W_hh^T.
    """
    H = c.shape[1]
    np.matmul(h_prev, W_hh_sT, out=a)  # (B, 4H)
    a += zx
    activate(a, out=a)
    i, f, o, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
    np.multiply(f, c_prev, out=c)
    np.multiply(i, g, out=tmp)
    c += tmp  # c = f * c_prev + i * g
    np.tanh(c, out=tc)
    np.multiply(o, tc, out=h)  # h = o * tanh(c)


def step_backward(dh: NDArray, dc: NDArray, a: NDArray, c_prev: NDArray, tc: NDArray,
                  one_minus_tc2: NDArray, act_grad: NDArray, dz: NDArray, tmp: NDArray) -> None:
    """Backward of `step_forward`: gradients dz (B, 4H) of the unscaled pre-activations.

    dh is dL/dh_t (B, H); dc comes in as dL/dc_t from step t+1 and leaves as dL/dc_{t-1}.
    act_grad (B, 4H) is each activation's derivative: a(1-a) for i, f, o and 1-g^2 for g.
    """
    H = dc.shape[1]
    i, f, o, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
    np.multiply(dh, tc, out=dz[:, 2 * H : 3 * H])  # do
    np.multiply(dh, o, out=tmp)
    tmp *= one_minus_tc2
    dc += tmp  # dc_t in full: from step t+1 and through h_t
    np.multiply(dc, g, out=dz[:, :H])  # di
    np.multiply(dc, c_prev, out=dz[:, H : 2 * H])  # df
    np.multiply(dc, i, out=dz[:, 3 * H :])  # dg
    dc *= f  # dc_{t-1}
    dz *= act_grad


@dataclass
class LayerCache:
    """What one layer's forward keeps for its backward; arrays are time-major (T, B, ...)."""

    a: NDArray  # (T, B, 4H) gates i|f|o|g
    c: NDArray  # (T, B, H)
    tc: NDArray  # (T, B, H) tanh(c)
    h: NDArray  # (T, B, H)
    h0: NDArray  # (B, H)
    c0: NDArray  # (B, H)


def layer_forward(zx: NDArray, W_hh: NDArray, h0: NDArray, c0: NDArray) -> LayerCache:
    """Run the recurrence. zx (T, B, 4H) = scaled (x W_ih^T + b); W_hh (4H, H) internal order, unscaled."""
    T, B, G = zx.shape
    H = G // 4
    W_hh_sT = np.ascontiguousarray((W_hh * gate_scale(H, W_hh.dtype)[:, None]).T)  # (H, 4H)
    a = np.empty_like(zx)
    c, tc, h = (np.empty((T, B, H), zx.dtype) for _ in range(3))
    tmp = np.empty((B, H), zx.dtype)
    h_prev, c_prev = h0, c0
    for t in range(T):
        step_forward(zx[t], h_prev, c_prev, W_hh_sT, a[t], c[t], tc[t], h[t], tmp)
        h_prev, c_prev = h[t], c[t]
    return LayerCache(a, c, tc, h, h0, c0)


def layer_backward(cache: LayerCache, dH: NDArray, W_hh: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """Gradients through the recurrence: dZ (T, B, 4H) of the pre-activations, dh0 and dc0 (B, H).

    dH (T, B, H) is dL/dh_t from above (next layer or decoder); W_hh (4H, H) internal order, unscaled.
    """
    a, H = cache.a, cache.c.shape[2]
    T, B, _ = a.shape
    act_grad = np.empty_like(a)  # derivatives of every activation, in two sequence-wide operations
    s, g = a[..., : 3 * H], a[..., 3 * H :]
    np.multiply(s, 1 - s, out=act_grad[..., : 3 * H])
    np.multiply(g, g, out=act_grad[..., 3 * H :])
    np.subtract(1, act_grad[..., 3 * H :], out=act_grad[..., 3 * H :])
    one_minus_tc2 = 1 - cache.tc * cache.tc  # (T, B, H)
    dZ = np.empty_like(a)
    dh = np.zeros((B, H), a.dtype)
    dc = np.zeros((B, H), a.dtype)
    tmp = np.empty((B, H), a.dtype)
    for t in range(T - 1, -1, -1):
        dh += dH[t]
        c_prev = cache.c[t - 1] if t else cache.c0
        step_backward(dh, dc, a[t], c_prev, cache.tc[t], one_minus_tc2[t], act_grad[t], dZ[t], tmp)
        np.matmul(dZ[t], W_hh, out=dh)  # dL/dh_{t-1} through the recurrence
    return dZ, dh, dc


def weight_grads(dZ: NDArray, x: NDArray | None, cache: LayerCache) -> tuple[NDArray | None, NDArray, NDArray]:
    """dW_ih (4H, D) (None when x is None), dW_hh (4H, H), db (4H,), each one product over all steps."""
    T, B, G = dZ.shape
    dZ2 = dZ.reshape(T * B, G)
    dW_ih = dZ2.T @ x.reshape(T * B, -1) if x is not None else None  # (4H, D)
    H = cache.h.shape[2]
    dW_hh = dZ[1:].reshape(-1, G).T @ cache.h[:-1].reshape(-1, H)  # (4H, H): h_{t-1} feeds step t
    dW_hh += dZ[0].T @ cache.h0
    return dW_ih, dW_hh, dZ2.sum(axis=0)
