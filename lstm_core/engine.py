"""The time loop: several LSTM cells ("groups") advanced together, one matrix product per step.

A group is one (layer, direction) cell. Two schedules share this loop:
- layer mode: the groups are the directions of one layer, each fed a precomputed input projection;
- wavefront: the groups are the layers of a unidirectional stack; at step s layer l handles
  t = s - l, so its input h_{l-1}[t] was produced one step earlier and is part of the state vector.
  The recurrent product is block-bidiagonal, [[W_hh_0, W_ih_1, 0], [0, W_hh_1, W_ih_2], ...]: one
  product per row block [W_hh_l | W_ih_{l+1}] advances every layer without reading zero blocks.
  At batch 1 each step is bound by reading the weights and by per-call overhead, not arithmetic.

The fast path's elementwise step runs one of three ways (`fast_path`): NumPy calls with one tanh, NumPy
calls through exp for wide steps (gates.WIDE), or compiled (jitcell.py, when numba is installed), where
NumPy's per-call overhead would dominate: up to LOOP_MAX_BATCH rows every step in one compiled call (no
Python per step), else one compiled call per step after NumPy's product. The input projection may live in the step
buffer the recurrent product is added into, so the product goes to a scratch row block first.

Arrays are laid out (step, batch, group, unit) so that the previous h of all groups, hs[s], is
already the (B, G * H_out) left operand of that product: no copies per step.
Gate columns are in the internal order i|f|o|g, and on the fast path the weights arrive scaled so that
one tanh gives every gate (both defined in gates.py); recorded pre-activations are returned unscaled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import jitcell
from .activations import Activation, apply
from .gates import WIDE, activate, activate_wide, tanh_wide, unscale_pre

PATHS = ("numpy", "wide", "jit")
# Up to this batch the compiled whole-run loop (jitcell.loop) beats a BLAS product per step plus the compiled
# step; beyond it its hand-written product, which reads W once per step for all rows but keeps them in
# cache, loses (256 units, float32, us a step, loop vs step: batch 1 35 vs 40, 4 91 vs 97, 8 253 vs 174).
LOOP_MAX_BATCH = 4
# Tests set this to run every path of the fast step on any size; None picks by width (`fast_path`).
FORCE_PATH: str | None = None


@dataclass
class CellOptions:
    """What every group shares beyond its weights."""

    fast: bool  # sigmoid/tanh/tanh, no peephole, clip or input_forget; weights scaled by gates.gate_scale
    recurrent: Activation
    cell: Activation
    hidden: Activation
    clip: float | None
    input_forget: bool


@dataclass(frozen=True)
class CellWeights:
    """One (layer, direction) cell's weights as the time loop reads them."""

    W_ih: NDArray  # (D_in, 4H) internal order, scaled on the fast path
    W_hh: NDArray  # (H_out, 4H)
    b: NDArray  # (4H,) b_ih + b_hh
    W_hr: NDArray | None  # (H, P)
    peep: NDArray | None  # (3, H) rows i|f|o


@dataclass
class GroupRun:
    """Where one run records its steps; the trace's arrays are views of these buffers."""

    gates: NDArray  # (S, B, G, 4H) activated, internal order i|f|o|g
    pre: NDArray | None  # (S, B, G, 4H) pre-activations, same order
    c: NDArray  # (S + 1, B, G, H), c[0] is the initial state
    h: NDArray  # (S + 1, B, G, H_out)


def run_groups(
    W: NDArray | list[NDArray],  # (H_out, 4H) for one group, (G, H_out, 4H) one per group, or wavefront row blocks
    add: NDArray,  # (S, B, G, 4H) input projection plus biases; may be run.pre, or run.gates without pre
    h0: NDArray,  # (B, G, H_out)
    c0: NDArray,  # (B, G, H)
    run: GroupRun,  # buffers to fill, sized (S, ...) and (S + 1, ...); `pre` only when recording it
    *,
    mask: NDArray | None,  # (S, B, G) bool, False where the state must stay as it is
    W_hr: NDArray | None,  # (G, H, P) projection, already transposed
    peep: NDArray | None,  # (3, G, H) peephole weights i|f|o
    opts: CellOptions,
) -> None:
    S, B, G, H4 = add.shape
    gates, pre, cs, hs = run.gates, run.pre, run.c, run.h
    cs[0], hs[0] = c0, h0
    path = fast_path(B * G * H4, add.dtype.itemsize)
    act, tanh = (activate_wide, tanh_wide) if path == "wide" else (activate, _tanh)
    whole = opts.fast and path == "jit" and W_hr is None and not isinstance(W, list) and B <= LOOP_MAX_BATCH
    # a half of a cut batch (halves.py; only tests cut batches this small) is a strided view: numba would compile
    # the loop again for it, so it takes the per-step cell, whose per-step arrays stay contiguous
    whole = whole and add.flags.c_contiguous
    loop = jitcell.loop() if whole else None
    if loop is not None:  # every step in one compiled call
        # (S, B, G), always a writable copy: a read-only mask (a broadcast view) is another type to numba, which
        # would compile the loop once more (seconds) instead of the one jitloop.warm loaded
        keep = np.ones((1, 1, 1), bool) if mask is None else np.array(mask, bool)
        loop(W.reshape(-1, *W.shape[-2:]), add, gates if pre is None else pre, gates, cs, hs, keep, mask is not None)
    else:
        mask = None if mask is None else np.broadcast_to(mask, (S, B, G))  # the wavefront's is (S, 1, G)
        with np.errstate(over="ignore"):  # activate_wide's exp may overflow to inf, which gives the right 0 or 1
            _steps(W, add, gates, pre, cs, hs, mask, W_hr, peep, opts, act, tanh, opts.fast and path == "jit")
    if opts.fast and pre is not None:
        unscale_pre(pre)


def fast_path(width: int, itemsize: int = 4) -> str:
    """How the fast path runs a step of `width` gate values (B * G * 4H) of `itemsize` bytes: compiled ('jit',
    when numba is installed and warm) for float32 and for narrow float64 steps (below gates.WIDE), else NumPy calls
    with tanh ('numpy', narrow) or with exp ('wide'; numba's float64 tanh is a scalar call per value)."""
    if FORCE_PATH is not None:
        if FORCE_PATH == "jit" and not jitcell.AVAILABLE:
            raise RuntimeError("the jit path needs numba")
        return FORCE_PATH
    if jitcell.usable() and (width < WIDE or itemsize == 4):  # not while a server warms it up (jitcell.py)
        return "jit"
    return "numpy" if width < WIDE else "wide"


def _tanh(c: NDArray, out: NDArray) -> None:
    np.tanh(c, out=out)


def _steps(W, add, gates, pre, cs, hs, mask, W_hr, peep, opts: CellOptions, act, tanh, jit: bool) -> None:
    """The time loop of `run_groups` over the rows these buffers hold; `act` and `tanh` are the fast path's
    activations (gates.py), `jit` runs its elementwise step as one compiled call (jitcell.py)."""
    S, B, G, H4 = add.shape
    H, Ho, dt = H4 // 4, hs.shape[3], add.dtype
    H2, H3 = 2 * H, 3 * H
    record_pre = pre is not None
    wavefront = isinstance(W, list)
    tmp = np.empty((B, G, H), dt)
    zf = np.empty((B, G * H4), dt)  # the recurrent product: `add` may be the step buffer it is added into
    z3 = zf.reshape(B, G, H4)
    m = np.empty((B, G, H), dt) if W_hr is not None else None
    rows = np.empty((B, 2 * H4), dt) if wavefront else None  # the wavefront's scratch
    step_masked = None if mask is None else ~mask.all(axis=(1, 2))
    cell = jitcell.cell() if jit else None
    jit = cell is not None
    for s in range(S):
        gs = gates[s]
        zs = pre[s] if record_pre else gs
        if wavefront:
            h_prev = hs[s]
            np.matmul(h_prev[:, 0], W[0], out=zf[:, : W[0].shape[1]])  # layer 0, and layer 1's input
            for k in range(1, G):
                n = W[k].shape[1]
                np.matmul(h_prev[:, k], W[k], out=rows[:, :n])  # (B, 8H): layer k, and layer k+1's input
                zf[:, k * H4 : (k + 1) * H4] += rows[:, :H4]
                if n > H4:
                    zf[:, (k + 1) * H4 : (k + 2) * H4] = rows[:, H4:]
        elif W.ndim == 2:
            np.matmul(hs[s].reshape(B, G * Ho), W, out=zf)  # (B, 4H)
        else:
            for k in range(G):
                np.matmul(hs[s][:, k], W[k], out=zf[:, k * H4 : (k + 1) * H4])  # (B, 4H)
        c_prev, c, h = cs[s], cs[s + 1], hs[s + 1]
        out = h if W_hr is None else m  # o * tanh(c_t), projected below when there is W_hr
        if jit:
            cell(z3, add[s], zs, gs, c_prev, c, out)
        else:
            np.add(z3, add[s], out=zs)  # pre-activations
            i, f, o, g = gs[..., :H], gs[..., H:H2], gs[..., H2:H3], gs[..., H3:]
            if opts.fast:
                act(zs, out=gs)
                np.multiply(f, c_prev, out=c)  # c_t = f * c_{t-1} + i * g
                np.multiply(i, g, out=tmp)
                c += tmp
                tanh(c, out=tmp)
            else:
                _general_step(zs, gs, c_prev, c, tmp, peep, opts, H)
            np.multiply(o, tmp, out=out)  # h_t = o * tanh(c_t)
        if W_hr is not None:
            for k in range(G):
                np.matmul(m[:, k], W_hr[k], out=h[:, k])  # h_t = W_hr (o * tanh(c_t))
        if step_masked is not None and step_masked[s]:
            keep = ~mask[s][..., None]  # (B, G, 1)
            np.copyto(c, c_prev, where=keep)
            np.copyto(h, hs[s], where=keep)


def _general_step(zs, gs, c_prev, c, tmp, peep, opts: CellOptions, H: int) -> None:
    """One step for any activation, peephole, clip and coupled input-forget (ONNX semantics)."""
    H2, H3 = 2 * H, 3 * H
    if peep is not None:
        zs[..., :H] += peep[0] * c_prev
        zs[..., H:H2] += peep[1] * c_prev
    if opts.clip is not None:
        np.clip(zs[..., :H2], -opts.clip, opts.clip, out=zs[..., :H2])
        np.clip(zs[..., H3:], -opts.clip, opts.clip, out=zs[..., H3:])
    apply(opts.recurrent, zs[..., :H2], out=gs[..., :H2])
    apply(opts.cell, zs[..., H3:], out=gs[..., H3:])
    i, f, g = gs[..., :H], gs[..., H:H2], gs[..., H3:]
    if opts.input_forget:
        np.subtract(1, i, out=f)  # ONNX input_forget couples the gates: f = 1 - i
    np.multiply(f, c_prev, out=c)
    np.multiply(i, g, out=tmp)
    c += tmp
    if peep is not None:
        zs[..., H2:H3] += peep[2] * c  # the output gate's peephole looks at the new cell
    if opts.clip is not None:
        np.clip(zs[..., H2:H3], -opts.clip, opts.clip, out=zs[..., H2:H3])
    apply(opts.recurrent, zs[..., H2:H3], out=gs[..., H2:H3])
    apply(opts.hidden, c, out=tmp)
