"""Turns an `LSTM.trace` call into group runs (engine.py) and gathers them into a `Trace`."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
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
    if D != cfg.input_size:
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
    out = _Outputs(B, L, Dn, T, H, Ho, dt, record_pre)

    prep, opts = lstm._prepared, lstm._options
    if Dn == 1 and L > 1 and B <= WAVEFRONT_MAX_BATCH:
        _wavefront(prep, lstm._wavefront_W, opts, xt, lens, ragged, h0b, c0b, out)
    else:
        inp = xt
        steps = np.arange(T)[:, None]
        rev = np.where(steps < lens, lens - 1 - steps, steps)[:, :, None]  # (T, B, 1) reversal within lengths
        mask = np.broadcast_to((steps < lens)[:, :, None], (T, B, Dn)) if ragged else None
        for k in range(L):
            P = prep[k]
            add = np.empty((T, B, Dn, 4 * H), dt)
            for d, p in enumerate(P):
                src = inp if d == 0 else np.take_along_axis(inp, rev, axis=0)
                np.matmul(src, p.W_ih, out=add[:, :, d])  # (T, B, 4H) all timesteps in one product
                add[:, :, d] += p.b
            W = P[0].W_hh if Dn == 1 else np.stack([p.W_hh for p in P])
            sl = slice(k * Dn, (k + 1) * Dn)
            r = run_groups(W, add, h0b[:, sl], c0b[:, sl], mask=mask, W_hr=_stack([p.W_hr for p in P]),
                           peep=_stack([p.peep for p in P], axis=1), opts=opts, record_pre=record_pre)
            for d in range(Dn):
                order = None if d == 0 else rev
                out.put(k, d, r, slice(0, T), d, order)
            out.c_n[:, sl], out.h_n[:, sl] = r.c[T], r.h[T]
            inp = np.ascontiguousarray(r.h[1:].reshape(T, B, Dn * Ho)) if Dn == 1 else np.concatenate(
                [np.take_along_axis(r.h[1:, :, 1], rev, axis=0) if d else r.h[1:, :, 0] for d in range(Dn)],
                axis=-1)  # (T, B, Dn*H_out) in input order
    if lstm._fast and record_pre:
        for a in (out.pre_i, out.pre_f, out.pre_o):
            a *= 2  # undo the halving of the i, f, o pre-activations
    if ragged:
        pad = (np.arange(T)[None, :] >= lens[:, None])[:, None, None, :, None]  # (B, 1, 1, T, 1)
        for a in out.arrays():
            np.copyto(a, 0, where=pad)
    return out.trace(batched, lens if lengths is not None else None)


def _wavefront(prep, W, opts, xt, lens, ragged, h0b, c0b, out: _Outputs) -> None:
    """All layers of a unidirectional stack in one loop: layer l handles t = s - l at step s."""
    T, B, _ = xt.shape
    L, H4 = len(prep), prep[0][0].W_hh.shape[1]
    S, dt = T + L - 1, xt.dtype
    add = np.empty((S, B, L, H4), dt)
    for k in range(L):
        add[:, :, k] = prep[k][0].b
    add[:T, :, 0] = xt @ prep[0][0].W_ih  # (T, B, 4H) layer 0's input, all timesteps at once
    add[:T, :, 0] += prep[0][0].b
    t = np.arange(S)[:, None, None] - np.arange(L)[None, None, :]  # (S, 1, L): time each layer handles
    limit = lens[None, :, None] if ragged else T
    r = run_groups(W, add, h0b, c0b, mask=(t >= 0) & (t < limit),
                   W_hr=_stack([p[0].W_hr for p in prep]), peep=_stack([p[0].peep for p in prep], axis=1),
                   opts=opts, record_pre=out.record_pre)
    for k in range(L):
        out.put(k, 0, r, slice(k, k + T), k, None)
    out.c_n[:], out.h_n[:] = r.c[S], r.h[S]


class _Outputs:
    """The public arrays, (B, L, D, T, X), filled group by group."""

    def __init__(self, B, L, Dn, T, H, Ho, dt, record_pre: bool):
        self.H, self.record_pre = H, record_pre
        for k in ("i", "f", "g", "o", "c"):
            setattr(self, k, np.empty((B, L, Dn, T, H), dt))
        self.h = np.empty((B, L, Dn, T, Ho), dt)
        for k in ("pre_i", "pre_f", "pre_g", "pre_o"):
            setattr(self, k, np.empty((B, L, Dn, T, H), dt) if record_pre else None)
        self.c_n = np.empty((B, L * Dn, H), dt)
        self.h_n = np.empty((B, L * Dn, Ho), dt)

    def arrays(self) -> list[NDArray]:
        names = ["i", "f", "g", "o", "c", "h"] + (["pre_i", "pre_f", "pre_g", "pre_o"] if self.record_pre else [])
        return [getattr(self, k) for k in names]

    def put(self, k: int, d: int, r: GroupRun, steps: slice, g: int, order: NDArray | None) -> None:
        """Copy group g of run r (steps `steps`) to layer k, direction d; `order` undoes a reversal."""
        def place(dst: NDArray, src: NDArray) -> None:  # src (T, B, X)
            if order is not None:
                src = np.take_along_axis(src, order, axis=0)
            dst[:, k, d] = src.swapaxes(0, 1)

        H = self.H
        gates = r.gates[steps, :, g]  # (T, B, 4H), internal order i|f|o|g
        for name, j in (("i", 0), ("f", 1), ("o", 2), ("g", 3)):
            place(getattr(self, name), gates[..., j * H : (j + 1) * H])
            if self.record_pre:
                place(getattr(self, f"pre_{name}"), r.pre[steps, :, g, j * H : (j + 1) * H])
        place(self.c, r.c[1:][steps, :, g])
        place(self.h, r.h[1:][steps, :, g])

    def trace(self, batched: bool, lens: NDArray | None) -> Trace:
        B, L, Dn, T, Ho = self.h.shape
        output = self.h[:, L - 1].transpose(0, 2, 1, 3).reshape(B, T, Dn * Ho)  # (B, T, D*H_out)

        def pub(a):
            return a if batched or a is None else a[0]

        return Trace(i=pub(self.i), f=pub(self.f), g=pub(self.g), o=pub(self.o), c=pub(self.c), h=pub(self.h),
                     output=pub(output), h_n=pub(self.h_n), c_n=pub(self.c_n), batched=batched, lengths=lens,
                     pre_i=pub(self.pre_i), pre_f=pub(self.pre_f), pre_g=pub(self.pre_g), pre_o=pub(self.pre_o))


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
