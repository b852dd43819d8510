"""Turns an `LSTM.trace` call into group runs (engine.py) and gathers them into a `Trace`."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

from .engine import GroupRun, run_groups
from .errors import ModelError
from .trace import Trace

if TYPE_CHECKING:
    from .lstm import LSTM

# Above this batch size the wavefront's zero blocks cost more arithmetic than its saved calls are worth.
WAVEFRONT_MAX_BATCH = 8


def run(lstm: LSTM, x, h0, c0, lengths, record_pre: bool) -> Trace:
    cfg, dt = lstm.config, lstm.dtype
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ModelError(f"input must be (T, input_size) or (B, T, input_size), got shape {x.shape}")
    batched = x.ndim == 3
    xb = x if batched else x[None]
    B, T, D = xb.shape
    if cfg.input_size != D:
        raise ModelError(f"input has {D} features per step but the LSTM expects input_size={cfg.input_size}")
    if T == 0 or B == 0:
        raise ModelError("input has no timesteps: give at least one")
    if not np.issubdtype(xb.dtype, np.number) or not np.isfinite(xb).all():
        raise ModelError("input must be finite numbers (no NaN or infinity)")
    xt = np.ascontiguousarray(xb.transpose(1, 0, 2), dtype=dt)  # (T, B, D) time-major
    L, Dn, H, Ho = cfg.num_layers, cfg.num_directions, cfg.hidden_size, cfg.output_size
    lens = _lengths(lengths, B, T, batched)
    ragged = bool((lens != T).any())
    h0b = _state(h0, "h0", (L * Dn, Ho), B, batched, dt)  # (B, L*D, H_out)
    c0b = _state(c0, "c0", (L * Dn, H), B, batched, dt)
    prep, opts = lstm._prepared, lstm._options
    if Dn == 1 and L > 1 and B <= WAVEFRONT_MAX_BATCH and not cfg.reverse:
        views, c_n, h_n = _wavefront(prep, lstm._wavefront_W, opts, xt, lens, ragged, h0b, c0b, record_pre)
    else:
        views, c_n, h_n = _by_layer(prep, opts, xt, lens, ragged, h0b, c0b, record_pre, cfg.reverse)
    if lstm._fast and record_pre:
        for k in ("pre_i", "pre_f", "pre_o"):
            views[k] *= 2  # undo the halving of the i, f, o pre-activations
    if ragged:
        pad = (np.arange(T)[None, :] >= lens[:, None])[:, None, None, :, None]  # (B, 1, 1, T, 1)
        for a in views.values():
            np.copyto(a, 0, where=pad)
    h = views["h"]
    output = h[:, L - 1].transpose(0, 2, 1, 3).reshape(B, T, Dn * Ho)  # (B, T, D*H_out)

    def pub(a):
        return a if batched else a[0]

    return Trace(**{k: pub(v) for k, v in views.items()}, output=pub(output), h_n=pub(h_n), c_n=pub(c_n),
                 batched=batched, lengths=lens if lengths is not None else None)


def _buffers(shape: tuple[int, ...], steps: int, H: int, Ho: int, dt, record_pre: bool) -> GroupRun:
    """Step buffers for shape (*lead, B, G): (*lead, steps, B, G, X); c and h get one more, the initial state."""
    *lead, B, G = shape
    return GroupRun(
        gates=np.empty((*lead, steps, B, G, 4 * H), dt),
        pre=np.empty((*lead, steps, B, G, 4 * H), dt) if record_pre else None,
        c=np.empty((*lead, steps + 1, B, G, H), dt),
        h=np.empty((*lead, steps + 1, B, G, Ho), dt),
    )


def _split(gates: NDArray, pre: NDArray | None, H: int) -> dict[str, NDArray]:
    """Views of i, f, g, o (and pre-activations) in a (..., 4H) buffer of internal order i|f|o|g."""
    out = {}
    for name, j in (("i", 0), ("f", 1), ("o", 2), ("g", 3)):
        out[name] = gates[..., j * H : (j + 1) * H]
        if pre is not None:
            out[f"pre_{name}"] = pre[..., j * H : (j + 1) * H]
    return out


def _by_layer(prep, opts, xt, lens, ragged, h0b, c0b, record_pre, reverse: bool = False):
    """Layer after layer, both directions of a layer in one loop; the trace views the step buffers.

    A backward direction (d = 1, or d = 0 of a reverse-only LSTM) runs forward on its input reversed
    within each sequence's length, and its steps are put back in input order afterwards.
    """
    T, B, _ = xt.shape
    L, Dn = len(prep), len(prep[0])
    H4, Ho = prep[0][0].W_hh.shape[1], prep[0][0].W_hh.shape[0]
    H, dt = H4 // 4, xt.dtype
    buf = _buffers((L, B, Dn), T, H, Ho, dt, record_pre)  # gates (L, T, B, D, 4H), c (L, T+1, B, D, H)...
    steps = np.arange(T)[:, None]
    rev = np.where(steps < lens, lens - 1 - steps, steps)[:, :, None]  # (T, B, 1) reversal within lengths
    mask = np.broadcast_to((steps < lens)[:, :, None], (T, B, Dn)) if ragged else None
    c_n, h_n = np.empty((B, L * Dn, H), dt), np.empty((B, L * Dn, Ho), dt)
    inp = xt
    add = np.empty((T, B, Dn, H4), dt)  # input projections plus biases, reused by every layer
    for k in range(L):
        P = prep[k]
        for d, p in enumerate(P):
            src = np.take_along_axis(inp, rev, axis=0) if d or reverse else inp
            _project(src, p, out=add[:, :, d])
        W = P[0].W_hh if Dn == 1 else np.stack([p.W_hh for p in P])
        sl = slice(k * Dn, (k + 1) * Dn)
        run = GroupRun(buf.gates[k], None if buf.pre is None else buf.pre[k], buf.c[k], buf.h[k])
        run_groups(W, add, h0b[:, sl], c0b[:, sl], run, mask=mask, W_hr=_stack([p.W_hr for p in P]),
                   peep=_stack([p.peep for p in P], axis=1), opts=opts)
        c_n[:, sl], h_n[:, sl] = run.c[T], run.h[T]
        if Dn == 2 or reverse:  # the backward direction ran on reversed inputs: put its steps back in order
            d = Dn - 1
            for a in (run.gates, run.pre, run.c[1:], run.h[1:]):
                if a is not None:
                    a[:, :, d] = np.take_along_axis(a[:, :, d], rev, axis=0)
        inp = run.h[1:].reshape(T, B, Dn * Ho)  # (T, B, D*H_out), a view

    def pub(a):  # (L, T, B, D, X) -> (B, L, D, T, X)
        return a.transpose(2, 0, 3, 1, 4)

    views = {k: pub(v) for k, v in _split(buf.gates, buf.pre, H).items()}
    views["c"], views["h"] = pub(buf.c[:, 1:]), pub(buf.h[:, 1:])
    return views, c_n, h_n


def _wavefront(prep, W, opts, xt, lens, ragged, h0b, c0b, record_pre):
    """All layers of a unidirectional stack in one loop: layer l handles t = s - l at step s."""
    T, B, _ = xt.shape
    L, H4, Ho = len(prep), prep[0][0].W_hh.shape[1], prep[0][0].W_hh.shape[0]
    S, dt = T + L - 1, xt.dtype
    add = np.empty((S, B, L, H4), dt)
    add[:] = np.stack([p[0].b for p in prep])  # layers above 0 get their input through the recurrence
    _project(xt, prep[0][0], out=add[:T, :, 0])
    t = np.arange(S)[:, None, None] - np.arange(L)[None, None, :]  # (S, 1, L): time each layer handles
    limit = lens[None, :, None] if ragged else T
    run = _buffers((B, L), S, H4 // 4, Ho, dt, record_pre)
    run_groups(W, add, h0b, c0b, run, mask=(t >= 0) & (t < limit),
               W_hr=_stack([p[0].W_hr for p in prep]), peep=_stack([p[0].peep for p in prep], axis=1), opts=opts)
    views = {k: _skew(v, T) for k, v in _split(run.gates, run.pre, H4 // 4).items()}
    views["c"], views["h"] = _skew(run.c[1:], T), _skew(run.h[1:], T)
    return views, run.c[S].copy(), run.h[S].copy()


def _project(x: NDArray, p, out: NDArray) -> None:
    """out (T, B, 4H) = x (T, B, D) W_ih^T + b for all timesteps, as one 2-D product (a 3-D matmul would
    run T small products)."""
    T, B, D = x.shape
    proj = np.ascontiguousarray(x).reshape(T * B, D) @ p.W_ih  # (T*B, 4H)
    np.add(proj.reshape(T, B, -1), p.b, out=out)


def _skew(a: NDArray, T: int) -> NDArray:
    """(S, B, L, X) wavefront buffer to the (B, L, 1, T, X) view with [b, l, 0, t] = a[t + l, b, l]."""
    sS, sB, sL, sX = a.strides
    _, B, L, X = a.shape
    return as_strided(a, shape=(B, L, T, X), strides=(sB, sS + sL, sS, sX))[:, :, None]


def _lengths(lengths, B: int, T: int, batched: bool) -> NDArray:
    if lengths is None:
        return np.full(B, T, dtype=np.int64)
    lens = np.asarray(lengths)
    if lens.ndim == 0 and not batched:
        lens = lens[None]
    if lens.shape != (B,) or not np.issubdtype(lens.dtype, np.integer):
        raise ModelError(f"lengths must be {B} integers, one per sequence")
    if (lens < 1).any() or (lens > T).any():
        raise ModelError(f"every length must be between 1 and the padded length {T}")
    return lens.astype(np.int64)


def _state(s, name: str, shape: tuple[int, int], B: int, batched: bool, dt) -> NDArray:
    """Initial state in the public layout to (B, L*D, X)."""
    if s is None:
        return np.zeros((B, *shape), dt)
    s = np.asarray(s, dtype=dt)
    want = (B, *shape) if batched else shape
    if s.shape != want:
        raise ModelError(f"{name} must have shape {want}, got {s.shape}")
    if not np.isfinite(s).all():
        raise ModelError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(s if batched else s[None])


def _stack(parts: list, axis: int = 0) -> NDArray | None:
    return None if parts[0] is None else np.stack(parts, axis=axis)
