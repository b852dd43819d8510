"""One LSTM step taken apart: every term that goes into each gate of one unit, with its number.

For unit u of layer k, direction d, at input position t (torch rows i|f|g|o, x_t this layer's input):

    pre_i = (W_ii x_t)[u] + b_ii[u] + (W_hi h_prev)[u] + b_hi[u] (+ p_i[u] c_prev[u])   i = sigma(pre_i)
    pre_f = ...same with the f rows...                        (+ p_f[u] c_prev[u])   f = sigma(pre_f)
    pre_g = ...same with the g rows...                                               g = tanh(pre_g)
    c = f c_prev + i g
    pre_o = ...same with the o rows...                        (+ p_o[u] c[u])        o = sigma(pre_o)
    h = o tanh(c)

"prev" is the step processed before t: t - 1 going forward, t + 1 for the reverse direction. Peepholes,
clip, coupled input-forget and other activations follow the engine (ONNX semantics). Everything is
recomputed in float64 from the weights and the trace's h_prev, c_prev, so the displayed numbers satisfy
their equations exactly; they agree with the float32 trace to about 1e-7.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .activations import Activation, apply
from .errors import ModelError
from .lstm import LSTM
from .trace import Trace

GATE_ROWS = {"i": 0, "f": 1, "g": 2, "o": 3}  # torch's row blocks


@dataclass(frozen=True)
class GateTerms:
    W_x: float  # (W_i? x_t)[u]
    b_ih: float
    W_h: float  # (W_h? h_prev)[u]
    b_hh: float
    peephole: float | None  # p[u] * c_prev[u] (c[u] for o); None without peepholes or for g
    pre: float  # the sum, clipped when the model clips: what the activation sees
    value: float  # the gate's value


@dataclass(frozen=True)
class StepTerms:
    layer: int
    direction: int
    t: int
    unit: int
    c_prev: float
    h_prev_unit: float | None  # h_prev[u]; None with a projection, where h_prev has no unit u
    terms: dict[str, GateTerms]  # i, f, g, o
    c: float
    tanh_c: float  # hidden_activation(c), tanh for torch models
    h: float  # o * tanh_c: before the projection when the LSTM projects
    projected: bool
    activations: dict[str, str]


def _act(a: Activation, v: float) -> float:
    return float(apply(a, np.array([v], np.float64))[0])


def _check(name: str, v: int, n: int, what: str) -> None:
    if not 0 <= v < n:
        raise ModelError(f"{name} {v} does not exist: there are {n} {what} (0 to {n - 1})", f"core.no_such_{name}",
                         value=v, count=n, last=n - 1)


def step_terms(lstm: LSTM, x: NDArray, trace: Trace, layer: int, direction: int, t: int, unit: int,
               h0: NDArray | None = None, c0: NDArray | None = None) -> StepTerms:
    """The terms of one unit's step; x is the LSTM's (T, input_size) input, trace its unbatched trace.

    h0, c0 are the initial states (L*D, H_out), (L*D, H) if the trace started from them, else zeros.
    """
    cfg, p = lstm.config, lstm.params
    L, D, H = cfg.num_layers, cfg.num_directions, cfg.hidden_size
    if trace.batched:
        raise ModelError("step_terms explains an unbatched trace; pick one sequence of the batch")
    T = trace.num_steps
    _check("layer", layer, L, "layers")
    _check("direction", direction, D, "directions")
    _check("timestep", t, T, "timesteps")
    _check("unit", unit, H, "units")
    n = f"l{layer}{'_reverse' if direction else ''}"
    f64 = np.float64
    if layer == 0:
        x_t = np.asarray(x, f64)[t]  # (input_size,)
    else:
        x_t = np.concatenate([trace.h[layer - 1, d, t] for d in range(D)]).astype(f64)  # (D*H_out,)
    backward = direction == 1 or cfg.reverse
    prev = t + 1 if backward else t - 1
    s = layer * D + direction
    if 0 <= prev < T:
        h_prev = trace.h[layer, direction, prev].astype(f64)  # (H_out,)
        c_prev = float(trace.c[layer, direction, prev, unit])
    else:
        h_prev = np.zeros(cfg.output_size, f64) if h0 is None else np.asarray(h0, f64)[s]
        c_prev = 0.0 if c0 is None else float(np.asarray(c0, f64)[s, unit])

    def linear(gate: str) -> tuple[float, float, float, float]:
        r = GATE_ROWS[gate] * H + unit
        w_x = float(p[f"weight_ih_{n}"][r].astype(f64) @ x_t)
        w_h = float(p[f"weight_hh_{n}"][r].astype(f64) @ h_prev)
        b_ih = float(p[f"bias_ih_{n}"][r]) if cfg.bias else 0.0
        b_hh = float(p[f"bias_hh_{n}"][r]) if cfg.bias else 0.0
        return w_x, b_ih, w_h, b_hh

    def gate(name: str, act: Activation, peep_on: float | None) -> GateTerms:
        w_x, b_ih, w_h, b_hh = linear(name)
        peep = None
        if cfg.peepholes and peep_on is not None:
            peep = float(p[f"weight_peephole_{n}"]["ifo".index(name), unit]) * peep_on
        pre = w_x + b_ih + w_h + b_hh + (peep or 0.0)
        if cfg.clip is not None:
            pre = min(max(pre, -cfg.clip), cfg.clip)
        return GateTerms(w_x, b_ih, w_h, b_hh, peep, pre, _act(act, pre))

    rec = cfg.recurrent_activation
    i = gate("i", rec, c_prev)
    f = gate("f", rec, c_prev)
    if cfg.input_forget:
        f = GateTerms(f.W_x, f.b_ih, f.W_h, f.b_hh, f.peephole, f.pre, 1.0 - i.value)  # ONNX: f = 1 - i
    g = gate("g", cfg.cell_activation, None)
    c = f.value * c_prev + i.value * g.value
    o = gate("o", rec, c)  # the output gate's peephole looks at the new cell
    tanh_c = _act(cfg.hidden_activation, c)
    return StepTerms(
        layer=layer, direction=direction, t=t, unit=unit, c_prev=c_prev,
        h_prev_unit=None if cfg.proj_size else float(h_prev[unit]),
        terms={"i": i, "f": f, "g": g, "o": o}, c=c, tanh_c=tanh_c, h=o.value * tanh_c,
        projected=bool(cfg.proj_size),
        activations={"recurrent": rec.name, "cell": cfg.cell_activation.name, "hidden": cfg.hidden_activation.name},
    )
