"""Runs an LSTM: prepares its weights once (`prepare`), picks a schedule and gathers a `Trace` (`run`).

`prepare(lstm)` turns the torch-layout parameters into what the time loop (engine.py) reads: W^T per
(layer, direction) in the internal gate order, the two biases summed, and on the fast path (sigmoid and
tanh, no peephole, clip or input_forget) the gate scaling of gates.py folded in. The result is cached
per LSTM object and dropped with it.

`run` validates the input, picks one of the two schedules of schedules.py (they give the same values, to
rounding), zeroes padded steps and assembles the Trace from views of the step buffers.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from . import engine, schedules
from .activations import SIGMOID, TANH
from .config import LSTMConfig
from .engine import CellOptions, CellWeights
from .errors import ModelError
from .gates import gate_scale, to_internal
from .trace import Trace

# Above this batch size the wavefront's zero blocks cost more arithmetic than its saved calls are worth.
WAVEFRONT_MAX_BATCH = 8
# The wavefront reads every layer's weights each step; once they outgrow a core's L2 cache (0.5-2 MiB on
# current x86) each step streams them from L3, and layer after layer, whose working set is one layer's
# W_hh, wins: 2 x 256 units at batch 1 (3 MiB of wavefront weights) ran 0.80x the wavefront's time by
# layers, 2 x 128 (0.75 MiB) 0.89x, 2 x 64 (0.19 MiB) 1.05x (CPU time, load 8).
WAVEFRONT_MAX_BYTES = 512 * 1024
SCHEDULES = ("wavefront", "layers")


class Weights(Protocol):
    """What the runner reads of an LSTM (`lstm.LSTM`, which imports this module)."""

    @property
    def config(self) -> LSTMConfig: ...

    @property
    def params(self) -> Mapping[str, NDArray]: ...


@dataclass(frozen=True)
class Prepared:
    """An LSTM's weights ready to run: cells[layer][direction] and the options every cell shares."""

    cells: tuple[tuple[CellWeights, ...], ...]
    options: CellOptions

    @cached_property
    def wavefront(self) -> list[NDArray]:
        """Row blocks of the wavefront's block-bidiagonal matrix: h_l feeds layer l (W_hh_l) and
        layer l+1 (W_ih_{l+1}), so block l is [W_hh_l | W_ih_{l+1}] (H_out, 8H), the last (H_out, 4H)."""
        c, L = self.cells, len(self.cells)
        return [np.ascontiguousarray(np.concatenate([c[k][0].W_hh, c[k + 1][0].W_ih], axis=1))
                if k + 1 < L else c[k][0].W_hh for k in range(L)]


def is_fast(cfg: LSTMConfig) -> bool:
    """True when one tanh can compute every gate (gates.activate): torch's cell, nothing added."""
    return (cfg.recurrent_activation == SIGMOID and cfg.cell_activation == TANH and cfg.hidden_activation == TANH
            and not cfg.peepholes and cfg.clip is None and not cfg.input_forget)


_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # LSTM -> Prepared, dropped with the LSTM
_lock = threading.Lock()


def prepare(lstm: Weights) -> Prepared:
    """The LSTM's weights as the time loop reads them, computed once per LSTM object."""
    with _lock:
        hit = _prepared.get(lstm)
        if hit is None:
            hit = _prepared[lstm] = _prepare(lstm.config, lstm.params)
    return hit


def _prepare(cfg: LSTMConfig, p: Mapping[str, NDArray]) -> Prepared:
    H, dt, fast = cfg.hidden_size, p["weight_ih_l0"].dtype, is_fast(cfg)
    scale = gate_scale(H, dt) if fast else np.ones(4 * H, dt)
    cells = []
    for k in range(cfg.num_layers):
        row = []
        for sfx in ("", "_reverse")[: cfg.num_directions]:
            n = f"l{k}{sfx}"
            b = p[f"bias_ih_{n}"] + p[f"bias_hh_{n}"] if cfg.bias else np.zeros(4 * H, dt)
            row.append(CellWeights(
                W_ih=np.ascontiguousarray(to_internal(p[f"weight_ih_{n}"], H).T * scale),  # (D_in, 4H)
                W_hh=np.ascontiguousarray(to_internal(p[f"weight_hh_{n}"], H).T * scale),  # (H_out, 4H)
                b=to_internal(b, H) * scale,
                W_hr=np.ascontiguousarray(p[f"weight_hr_{n}"].T) if cfg.proj_size else None,  # (H, P)
                peep=p[f"weight_peephole_{n}"] if cfg.peepholes else None,
            ))
        cells.append(tuple(row))
    opts = CellOptions(fast, cfg.recurrent_activation, cfg.cell_activation, cfg.hidden_activation, cfg.clip,
                       cfg.input_forget)
    return Prepared(tuple(cells), opts)


def schedule_for(cfg: LSTMConfig, batch: int, itemsize: int = 4) -> str:
    """'wavefront' for a unidirectional left-to-right stack of small layers at small batch, else 'layers'."""
    H4, Ho, L = 4 * cfg.hidden_size, cfg.output_size, cfg.num_layers
    wave_bytes = (L * Ho * H4 + (L - 1) * Ho * H4) * itemsize  # W_hh of every layer, W_ih of all above the first
    # Layer after layer, the compiled loop (engine.LOOP_MAX_BATCH) runs with no Python per step: 2-4x faster
    # than the wavefront at batch 1 (2 x 32 to 2 x 256, T=500, CPU time, load 8).
    looped = (is_fast(cfg) and not cfg.proj_size and batch <= engine.LOOP_MAX_BATCH
              and engine.fast_path(batch * H4, itemsize) == "jit")
    wave = (cfg.num_directions == 1 and L > 1 and batch <= WAVEFRONT_MAX_BATCH and not cfg.reverse
            and wave_bytes <= WAVEFRONT_MAX_BYTES and not looped)
    return "wavefront" if wave else "layers"


def run(lstm: Weights, x, h0=None, c0=None, lengths=None, record_pre: bool = False,
        schedule: str | None = None, offset: int = 0) -> Trace:
    """`LSTM.trace`: x (T, D) or (B, T, D) to a Trace. `schedule` forces 'wavefront' or 'layers' (tests);
    by default `schedule_for` picks. `offset` is the position of x's first step in a longer input."""
    cfg = lstm.config
    dt = lstm.params["weight_ih_l0"].dtype
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ModelError(f"input must be (T, input_size) or (B, T, input_size), got shape {x.shape}")
    batched = x.ndim == 3
    xb = x if batched else x[None]
    B, T, D = xb.shape
    if cfg.input_size != D:
        raise ModelError(f"input has {D} features per step but the LSTM expects input_size={cfg.input_size}",
                         "core.input_width", got=D, width=cfg.input_size)
    if T == 0 or B == 0:
        raise ModelError("input has no timesteps: give at least one")
    if not np.issubdtype(xb.dtype, np.number) or not np.isfinite(xb).all():
        raise ModelError("input must be finite numbers (no NaN or infinity)", "core.input_not_finite")
    xt = np.ascontiguousarray(xb.transpose(1, 0, 2), dtype=dt)  # (T, B, D) time-major
    L, Dn, H, Ho = cfg.num_layers, cfg.num_directions, cfg.hidden_size, cfg.output_size
    lens = _lengths(lengths, B, T, batched)
    ragged = bool((lens != T).any())
    h0b = _state(h0, "h0", (L * Dn, Ho), B, batched, dt)  # (B, L*D, H_out)
    c0b = _state(c0, "c0", (L * Dn, H), B, batched, dt)
    schedule = schedule or schedule_for(cfg, B, np.dtype(dt).itemsize)
    if schedule not in SCHEDULES or (schedule == "wavefront" and (Dn != 1 or cfg.reverse)):
        raise ValueError(f"schedule {schedule!r} cannot run this LSTM; the wavefront is for one left-to-right "
                         "direction")
    prep = prepare(lstm)
    if schedule == "wavefront":
        cells = [row[0] for row in prep.cells]
        views, c_n, h_n = schedules.wavefront(cells, prep.wavefront, prep.options, xt, lens, ragged, h0b, c0b,
                                              record_pre, offset)
    else:
        views, c_n, h_n = schedules.by_layer(prep.cells, prep.options, xt, lens, ragged, h0b, c0b, record_pre,
                                             cfg.reverse, offset)
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
