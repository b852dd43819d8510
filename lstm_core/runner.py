"""Turns an `LSTM.trace` call into group runs (engine.py) and gathers them into a `Trace`."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .engine import run_groups
from .errors import ModelError
from .trace import Trace

if TYPE_CHECKING:
    from .lstm import LSTM


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
    h0b = _state(h0, "h0", (L * Dn, Ho), B, batched, dt)  # (L*D, B, Ho)
    c0b = _state(c0, "c0", (L * Dn, H), B, batched, dt)
    ragged = bool((lens != T).any())

    gates = np.empty((L, Dn, T, B, 4 * H), dt)
    pre = np.empty((L, Dn, T, B, 4 * H), dt) if record_pre else None
    cs = np.empty((L, Dn, T, B, H), dt)
    hs = np.empty((L, Dn, T, B, Ho), dt)
    c_n = np.empty((L * Dn, B, H), dt)
    h_n = np.empty((L * Dn, B, Ho), dt)

    prep, opts = lstm._prepared, lstm._options
    if Dn == 1 and L > 1 and _wavefront_max_batch() >= B:
        _wavefront(prep, opts, xt, lens, ragged, h0b, c0b, record_pre, gates, pre, cs, hs, c_n, h_n)
    else:
        inp = xt
        steps = np.arange(T)[:, None]
        rev = np.where(steps < lens, lens - 1 - steps, steps)  # (T, B): reversal within each length
        for k in range(L):
            P = prep[k]
            W = np.stack([p.W_hh for p in P])  # (Dn, Ho, 4H)
            add = np.empty((T, Dn, B, 4 * H), dt)
            for d, p in enumerate(P):
                src = inp if d == 0 else np.take_along_axis(inp, rev[:, :, None], axis=0)
                np.matmul(src, p.W_ih, out=add[:, d])  # (T, B, 4H) all timesteps at once
                add[:, d] += p.b
            sl = slice(k * Dn, (k + 1) * Dn)
            mask = (steps < lens)[:, None, :].repeat(Dn, 1) if ragged else None
            r = run_groups(W, add, h0b[sl], c0b[sl], kin=0, wavefront=False, mask=mask,
                           W_hr=_stack([p.W_hr for p in P]), peep=_stack([p.peep for p in P]),
                           opts=opts, record_pre=record_pre)
            for d in range(Dn):
                order = (lambda a: a) if d == 0 else (lambda a: np.take_along_axis(a, rev[:, :, None], axis=0))
                gates[k, d] = order(r.gates[:, d])
                if record_pre:
                    pre[k, d] = order(r.pre[:, d])
                cs[k, d] = order(r.c[1:, d])
                hs[k, d] = order(r.h[1:, d])
            c_n[sl], h_n[sl] = r.c[T], r.h[T]
            inp = np.concatenate([hs[k, d] for d in range(Dn)], axis=-1)  # (T, B, Dn*Ho)

    if lstm._fast and record_pre:
        pre[..., : 3 * H] *= 2  # undo the halving of the i, f, o pre-activations
    if ragged:
        pad = (np.arange(T)[:, None] >= lens)[None, None, :, :, None]  # (1, 1, T, B, 1)
        for a in (gates, pre, cs, hs):
            if a is not None:
                np.copyto(a, 0, where=pad)
    return _assemble(gates, pre, cs, hs, c_n, h_n, H, batched, lens if lengths is not None else None)


def _wavefront(prep, opts, xt, lens, ragged, h0b, c0b, record_pre, gates, pre, cs, hs, c_n, h_n) -> None:
    """All layers of a unidirectional stack in one loop: layer l handles t = s - l at step s."""
    T, B, _ = xt.shape
    L, H4, Ho = len(prep), prep[0][0].W_hh.shape[1], prep[0][0].W_hh.shape[0]
    S, dt = T + L - 1, xt.dtype
    W = np.zeros((L, 2 * Ho, H4), dt)  # rows [h_{l-1} | h_l]; layer 0 gets its input from `add`
    add = np.empty((S, L, B, H4), dt)
    for k in range(L):
        W[k, Ho:] = prep[k][0].W_hh
        add[:, k] = prep[k][0].b
        if k:
            W[k, :Ho] = prep[k][0].W_ih
    np.matmul(xt, prep[0][0].W_ih, out=add[:T, 0])
    add[:T, 0] += prep[0][0].b
    z0 = np.zeros((L, B, 2 * Ho), dt)
    z0[:, :, Ho:] = h0b
    z0[1:, :, :Ho] = h0b[:-1]  # never read: layer l's first real step overwrites it
    t = np.arange(S)[:, None, None] - np.arange(L)[None, :, None]  # (S, L, 1): time handled
    mask = (t >= 0) & (t < (lens[None, None, :] if ragged else T))  # (S, L, B)
    W_hr = _stack([p[0].W_hr for p in prep])
    peep = _stack([p[0].peep for p in prep])
    r = run_groups(W, add, z0, c0b, kin=Ho, wavefront=True, mask=mask, W_hr=W_hr, peep=peep,
                   opts=opts, record_pre=record_pre)
    for k in range(L):
        gates[k, 0] = r.gates[k : k + T, k]
        if record_pre:
            pre[k, 0] = r.pre[k : k + T, k]
        cs[k, 0] = r.c[k + 1 : k + T + 1, k]
        hs[k, 0] = r.h[k + 1 : k + T + 1, k]
    c_n[:], h_n[:] = r.c[S], r.h[S]


def _assemble(gates, pre, cs, hs, c_n, h_n, H, batched, lens) -> Trace:
    """(L, D, T, B, X) time-major buffers to the public layout, B first when batched."""
    def pub(a):
        a = np.moveaxis(a, 3, 0)  # (B, L, D, T, X)
        return np.ascontiguousarray(a if batched else a[0])

    # internal gate order i|f|o|g
    i, f, o, g = (gates[..., k * H : (k + 1) * H] for k in range(4))
    L, Dn = hs.shape[:2]
    out = np.concatenate([hs[L - 1, d] for d in range(Dn)], axis=-1)  # (T, B, Dn*Ho)
    out = np.moveaxis(out, 1, 0)
    extra = {}
    if pre is not None:
        pi, pf, po, pg = (pre[..., k * H : (k + 1) * H] for k in range(4))
        extra = dict(pre_i=pub(pi), pre_f=pub(pf), pre_g=pub(pg), pre_o=pub(po))
    return Trace(
        i=pub(i), f=pub(f), g=pub(g), o=pub(o), c=pub(cs), h=pub(hs),
        output=np.ascontiguousarray(out if batched else out[0]),
        h_n=np.ascontiguousarray(np.moveaxis(h_n, 1, 0) if batched else h_n[:, 0]),
        c_n=np.ascontiguousarray(np.moveaxis(c_n, 1, 0) if batched else c_n[:, 0]),
        batched=batched, lengths=lens, **extra,
    )


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
    """Initial state in the public layout to internal (L*D, B, X)."""
    if s is None:
        return np.zeros((shape[0], B, shape[1]), dt)
    s = np.asarray(s, dtype=dt)
    want = (B, *shape) if batched else shape
    if s.shape != want:
        raise ModelError(f"{name} must have shape {want}, got {s.shape}")
    if not np.isfinite(s).all():
        raise ModelError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(np.moveaxis(s, 0, 1) if batched else s[:, None])


def _stack(parts: list) -> NDArray | None:
    return None if parts[0] is None else np.stack(parts)


def _wavefront_max_batch() -> int:
    from .lstm import WAVEFRONT_MAX_BATCH

    return WAVEFRONT_MAX_BATCH
