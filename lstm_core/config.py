"""What an LSTM is made of: its configuration and the torch-named parameters that configuration needs.

Parameters are kept under torch's names: `weight_ih_l{k}` (4H, D_in), `weight_hh_l{k}` (4H, H_out),
`bias_ih_l{k}`, `bias_hh_l{k}` (4H,), `weight_hr_l{k}` (P, H), each with `_reverse` for the backward
direction; gate rows i|f|g|o. Importers may add `weight_peephole_l{k}` (3, H), rows i|f|o, and set
`clip`, `input_forget` and other activations (ONNX and Keras semantics); torch never has those.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray

from .activations import SIGMOID, TANH, Activation
from .errors import ModelError


@dataclass(frozen=True)
class LSTMConfig:
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    proj_size: int = 0  # 0 means no projection, as in torch
    bias: bool = True
    peepholes: bool = False
    clip: float | None = None  # ONNX: pre-activations clipped to [-clip, clip]
    input_forget: bool = False  # ONNX: f = 1 - i
    reverse: bool = False  # one direction that reads right to left (ONNX direction="reverse")
    recurrent_activation: Activation = SIGMOID  # i, f, o
    cell_activation: Activation = TANH  # g
    hidden_activation: Activation = TANH  # h = o * act(c)

    def __post_init__(self) -> None:
        for name in ("input_size", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ModelError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(self.proj_size, int) or not 0 <= self.proj_size < self.hidden_size:
            raise ModelError(f"proj_size must be 0 (no projection) or between 1 and hidden_size - 1 "
                             f"({self.hidden_size - 1}), got {self.proj_size!r}")
        if self.reverse and self.bidirectional:
            raise ModelError("reverse is for a single right-to-left direction; a bidirectional LSTM has both")
        if self.clip is not None and not (isinstance(self.clip, (int, float)) and self.clip > 0):
            raise ModelError(f"clip must be a positive number or None, got {self.clip!r}")

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """H_out: the size of h."""
        return self.proj_size or self.hidden_size

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("recurrent_activation", "cell_activation", "hidden_activation"):
            d[k] = getattr(self, k).to_json()
        return d

    @classmethod
    def from_json(cls, d: dict) -> LSTMConfig:
        d = dict(d)
        for k in ("recurrent_activation", "cell_activation", "hidden_activation"):
            if k in d:
                d[k] = Activation.from_json(d[k])
        return cls(**d)


def param_names(cfg: LSTMConfig) -> dict[str, tuple[int, ...]]:
    """Every parameter name this configuration needs, with its shape."""
    H, P, out = cfg.hidden_size, cfg.proj_size, cfg.output_size
    shapes: dict[str, tuple[int, ...]] = {}
    for k in range(cfg.num_layers):
        d_in = cfg.input_size if k == 0 else out * cfg.num_directions
        for sfx in ("", "_reverse")[: cfg.num_directions]:
            shapes[f"weight_ih_l{k}{sfx}"] = (4 * H, d_in)
            shapes[f"weight_hh_l{k}{sfx}"] = (4 * H, out)
            if cfg.bias:
                shapes[f"bias_ih_l{k}{sfx}"] = (4 * H,)
                shapes[f"bias_hh_l{k}{sfx}"] = (4 * H,)
            if P:
                shapes[f"weight_hr_l{k}{sfx}"] = (P, H)
            if cfg.peepholes:
                shapes[f"weight_peephole_l{k}{sfx}"] = (3, H)
    return shapes


def check_params(cfg: LSTMConfig, params: dict[str, NDArray]) -> None:
    """Raise ModelError unless params has exactly the names, shapes and a float dtype cfg needs."""
    want = param_names(cfg)
    missing = sorted(set(want) - set(params))
    extra = sorted(set(params) - set(want))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:6])}")
        if extra:
            parts.append(f"unexpected {', '.join(extra[:6])}")
        raise ModelError(f"LSTM parameters do not match the configuration: {'; '.join(parts)}")
    dtypes = set()
    for name, shape in want.items():
        a = params[name]
        if not isinstance(a, np.ndarray):
            raise ModelError(f"{name} must be a NumPy array, got {type(a).__name__}")
        if a.shape != shape:
            raise ModelError(f"{name} has shape {a.shape}, expected {shape}")
        if a.dtype not in (np.float32, np.float64):
            raise ModelError(f"{name} has dtype {a.dtype}; only float32 and float64 are supported")
        dtypes.add(a.dtype)
        if not np.isfinite(a).all():
            raise ModelError(f"{name} contains NaN or infinite values; the model cannot be traced")
    if len(dtypes) > 1:
        raise ModelError("all LSTM parameters must share one dtype (float32 or float64)")
