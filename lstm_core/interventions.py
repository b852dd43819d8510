"""Clamping: run an LSTM with chosen units' i, f, g, o, c or h held at a value, and record what follows.

This is the reference implementation: a plain loop over layers, directions and timesteps on the
LSTM's public torch-layout parameters (gate rows i|f|g|o), written to be read. At each step of the
clamped cell, in the order of the LSTM equations:

    i, f, g, o = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)   -> clamps on i, f, g, o replace them here
    c_t = f * c_{t-1} + i * g                                  -> a clamp on c replaces c_t here
    h_t = o * tanh(c_t)  (W_hr of it with proj_size)            -> a clamp on h replaces h_t here

so a clamped value flows into everything downstream: c_{t+1}, h_t, the next layer, the predictions.
The trace records the values the run actually used (the clamped ones). Position t is the input
position in both directions, as in `Trace`; a backward direction reaches t after t + 1.
Peepholes, clip and coupled input-forget (ONNX) follow `lstm_core.engine`'s semantics; with coupled
input-forget, f = 1 - i is taken from the unclamped i (a clamp replaces only the quantity it names).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .activations import apply
from .errors import ModelError
from .lstm import LSTM
from .trace import Trace

QUANTITIES = ("i", "f", "g", "o", "c", "h")


@dataclass(frozen=True)
class Intervention:
    """Hold `quantity` of one unit at `value`, at the listed positions or (None) at every position."""

    layer: int
    direction: int  # 0 forward, 1 backward
    unit: int
    quantity: str  # one of i, f, g, o, c, h
    value: float
    positions: tuple[int, ...] | None = None

    def check(self, lstm: LSTM, T: int) -> None:
        """Raise ModelError with a sentence if this intervention does not fit the LSTM or a T-step input."""
        cfg = lstm.config
        if self.quantity not in QUANTITIES:
            raise ModelError(f"cannot clamp {self.quantity!r}: choose one of {', '.join(QUANTITIES)}")
        if not 0 <= self.layer < cfg.num_layers:
            raise ModelError(f"layer {self.layer} does not exist: the model has {cfg.num_layers} layer(s), from 0")
        if not 0 <= self.direction < cfg.num_directions:
            raise ModelError(f"direction {self.direction} does not exist: the model has {cfg.num_directions}")
        size = cfg.output_size if self.quantity == "h" else cfg.hidden_size
        if not 0 <= self.unit < size:
            raise ModelError(f"unit {self.unit} does not exist: {self.quantity} has {size} units, from 0")
        if not np.isfinite(self.value):
            raise ModelError(f"the clamp value must be a finite number, got {self.value}")
        bad = [t for t in self.positions or () if not 0 <= t < T]
        if bad:
            raise ModelError(f"position {bad[0]} is outside the text (positions 0 to {T - 1})")


def _clamp(vec: NDArray, quantity: str, t: int, table: dict[str, list[Intervention]]) -> None:
    for iv in table.get(quantity, ()):
        if iv.positions is None or t in iv.positions:
            vec[iv.unit] = iv.value


def trace_with_interventions(lstm: LSTM, x: NDArray, interventions: Sequence[Intervention] = (),
                             h0: NDArray | None = None, c0: NDArray | None = None) -> Trace:
    """Run `lstm` on x (T, D) from (h0, c0) ((L*D, H_out), (L*D, H); zeros if None) with the clamps applied.

    Returns an unbatched Trace laid out as `LSTM.trace`'s: i, f, g, o, c (L, D, T, H), h (L, D, T, H_out).
    """
    cfg, p = lstm.config, lstm.params
    x = np.asarray(x, dtype=lstm.dtype)
    if x.ndim != 2 or x.shape[1] != cfg.input_size or x.shape[0] == 0:
        raise ModelError(f"the input must be (T, {cfg.input_size}) with T >= 1, got {x.shape}")
    if not np.isfinite(x).all():
        raise ModelError("the input must be finite numbers (no NaN or infinity)")
    T, L, D, H, Ho = x.shape[0], cfg.num_layers, cfg.num_directions, cfg.hidden_size, cfg.output_size
    for iv in interventions:
        iv.check(lstm, T)
    h0 = np.zeros((L * D, Ho), x.dtype) if h0 is None else np.asarray(h0, x.dtype)
    c0 = np.zeros((L * D, H), x.dtype) if c0 is None else np.asarray(c0, x.dtype)
    rec = {q: np.zeros((L, D, T, Ho if q == "h" else H), x.dtype) for q in QUANTITIES}
    h_n, c_n = np.zeros_like(h0), np.zeros_like(c0)
    act_r, act_c, act_h = cfg.recurrent_activation, cfg.cell_activation, cfg.hidden_activation
    inp = x  # (T, D_in) input of the current layer
    for k in range(L):
        for d in range(D):
            sfx = f"l{k}" + ("_reverse" if d == 1 else "")  # a reverse-only LSTM keeps the plain names
            W_ih, W_hh = p[f"weight_ih_{sfx}"], p[f"weight_hh_{sfx}"]  # (4H, D_in), (4H, H_out)
            b = p[f"bias_ih_{sfx}"] + p[f"bias_hh_{sfx}"] if cfg.bias else np.zeros(4 * H, x.dtype)  # (4H,)
            peep = p.get(f"weight_peephole_{sfx}")  # (3, H) rows i|f|o, or None
            table: dict[str, list[Intervention]] = {}
            for iv in interventions:
                if (iv.layer, iv.direction) == (k, d):
                    table.setdefault(iv.quantity, []).append(iv)
            h, c = h0[k * D + d].copy(), c0[k * D + d].copy()
            order = range(T - 1, -1, -1) if d == 1 or cfg.reverse else range(T)
            for t in order:
                z = W_ih @ inp[t] + W_hh @ h + b  # (4H,) rows i|f|g|o
                zi, zf, zg, zo = z[:H], z[H : 2 * H], z[2 * H : 3 * H], z[3 * H :]
                if peep is not None:
                    zi, zf = zi + peep[0] * c, zf + peep[1] * c
                if cfg.clip is not None:
                    zi, zf, zg = (np.clip(v, -cfg.clip, cfg.clip) for v in (zi, zf, zg))
                i, g = apply(act_r, zi), apply(act_c, zg)
                f = 1 - i if cfg.input_forget else apply(act_r, zf)
                for name, vec in (("i", i), ("f", f), ("g", g)):
                    _clamp(vec, name, t, table)
                c = f * c + i * g  # (H,)
                _clamp(c, "c", t, table)
                if peep is not None:
                    zo = zo + peep[2] * c  # the output gate's peephole looks at the new cell
                if cfg.clip is not None:
                    zo = np.clip(zo, -cfg.clip, cfg.clip)
                o = apply(act_r, zo)
                _clamp(o, "o", t, table)
                h = o * apply(act_h, c)  # (H,)
                if cfg.proj_size:
                    h = p[f"weight_hr_{sfx}"] @ h  # (P,)
                _clamp(h, "h", t, table)
                for name, vec in (("i", i), ("f", f), ("g", g), ("o", o), ("c", c), ("h", h)):
                    rec[name][k, d, t] = vec
            h_n[k * D + d], c_n[k * D + d] = h, c
        inp = np.concatenate([rec["h"][k, d] for d in range(D)], axis=1)  # (T, D*H_out) feeds layer k+1
    return Trace(**rec, output=inp, h_n=h_n, c_n=c_n)
