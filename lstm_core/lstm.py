"""An LSTM with PyTorch `nn.LSTM` semantics that records every gate.

Parameters are kept under torch's names: `weight_ih_l{k}` (4H, D_in), `weight_hh_l{k}` (4H, H_out),
`bias_ih_l{k}`, `bias_hh_l{k}` (4H,), `weight_hr_l{k}` (P, H), each with `_reverse` for the backward
direction; gate rows i|f|g|o. Importers may add `weight_peephole_l{k}` (3, H), rows i|f|o, and set
`clip`, `input_forget` and other activations (ONNX and Keras semantics); torch never has those.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from .activations import SIGMOID, TANH, Activation
from .engine import CellOptions
from .errors import ModelError
from .gates import gate_scale, to_internal
from .trace import Trace


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


_NAME = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr|weight_peephole)_l(\d+)(_reverse)?$")


@dataclass(frozen=True)
class _Prepared:
    W_ih: NDArray  # (D_in, 4H) internal order
    W_hh: NDArray  # (H_out, 4H)
    b: NDArray  # (4H,)
    W_hr: NDArray | None  # (H, P)
    peep: NDArray | None  # (3, H) rows i|f|o


@dataclass(frozen=True)
class LSTM:
    """A stack of LSTM layers; build one with `from_torch_state_dict` or `random`."""

    config: LSTMConfig
    params: dict[str, NDArray] = field(repr=False)

    def __post_init__(self) -> None:
        check_params(self.config, self.params)
        # Our own read-only copies: the prepared (transposed, reordered) weights are cached, so the
        # arrays they come from must not change under them, e.g. when they were views of torch tensors.
        object.__setattr__(self, "params", {k: _read_only_copy(v) for k, v in self.params.items()})

    @property
    def dtype(self) -> np.dtype:
        return self.params["weight_ih_l0"].dtype

    @classmethod
    def from_torch_state_dict(cls, state_dict: dict, **options) -> LSTM:
        """Infer every size from torch `nn.LSTM` parameter names and shapes (arrays or tensors).

        `options` are the non-torch settings (clip, input_forget, activations) used by importers.
        """
        sd = {k.removeprefix("module."): _to_numpy(v) for k, v in state_dict.items()}
        unknown = [k for k in sd if not _NAME.match(k)]
        if unknown:
            raise ModelError(f"not an nn.LSTM parameter name: {', '.join(sorted(unknown)[:5])}")
        if "weight_ih_l0" not in sd:
            raise ModelError("no weight_ih_l0: an nn.LSTM state dict needs at least one layer's weights")
        w_ih, w_hh = sd["weight_ih_l0"], sd.get("weight_hh_l0")
        if w_ih.ndim != 2 or w_hh is None or w_hh.ndim != 2 or w_ih.shape[0] % 4:
            raise ModelError("weight_ih_l0 must be (4*hidden_size, input_size) and weight_hh_l0 (4*hidden_size, H_out)")
        layers = 1 + max(int(_NAME.match(k).group(2)) for k in sd)
        cfg = LSTMConfig(
            input_size=w_ih.shape[1],
            hidden_size=w_ih.shape[0] // 4,
            num_layers=layers,
            bidirectional=any(k.endswith("_reverse") for k in sd),
            proj_size=sd["weight_hr_l0"].shape[0] if "weight_hr_l0" in sd else 0,
            bias="bias_ih_l0" in sd,
            peepholes="weight_peephole_l0" in sd,
            **options,
        )
        return cls(cfg, sd)

    def to_torch_state_dict(self) -> dict[str, NDArray]:
        """torch parameter names to NumPy arrays (no peephole entries for torch-compatible models)."""
        return dict(self.params)

    @classmethod
    def random(cls, config: LSTMConfig, seed: int = 0, dtype=np.float32) -> LSTM:
        """torch's default init: U(-1/sqrt(H), 1/sqrt(H)) for every parameter."""
        rng = np.random.default_rng(seed)
        k = 1 / np.sqrt(config.hidden_size)
        params = {n: rng.uniform(-k, k, s).astype(dtype) for n, s in param_names(config).items()}
        return cls(config, params)

    def astype(self, dtype) -> LSTM:
        return replace(self, params={k: v.astype(dtype) for k, v in self.params.items()})

    @property
    def num_parameters(self) -> int:
        return int(sum(v.size for v in self.params.values()))

    @cached_property
    def _fast(self) -> bool:
        c = self.config
        return (c.recurrent_activation == SIGMOID and c.cell_activation == TANH and c.hidden_activation == TANH
                and not c.peepholes and c.clip is None and not c.input_forget)

    @cached_property
    def _prepared(self) -> list[list[_Prepared]]:
        """Transposed, reordered weights per (layer, direction); i, f, o halved on the fast path."""
        cfg, p, H = self.config, self.params, self.config.hidden_size
        scale = gate_scale(H, self.dtype) if self._fast else np.ones(4 * H, self.dtype)
        out = []
        for k in range(cfg.num_layers):
            row = []
            for sfx in ("", "_reverse")[: cfg.num_directions]:
                n = f"l{k}{sfx}"
                b = np.zeros(4 * H, self.dtype)
                if cfg.bias:
                    b = p[f"bias_ih_{n}"] + p[f"bias_hh_{n}"]
                row.append(_Prepared(
                    W_ih=np.ascontiguousarray(to_internal(p[f"weight_ih_{n}"], H).T * scale),
                    W_hh=np.ascontiguousarray(to_internal(p[f"weight_hh_{n}"], H).T * scale),
                    b=to_internal(b, H) * scale,
                    W_hr=np.ascontiguousarray(p[f"weight_hr_{n}"].T) if cfg.proj_size else None,
                    peep=p[f"weight_peephole_{n}"] if cfg.peepholes else None,
                ))
            out.append(row)
        return out

    @cached_property
    def _wavefront_W(self) -> list[NDArray]:
        """Row blocks of the wavefront's block-bidiagonal matrix: h_l feeds layer l (W_hh_l) and
        layer l+1 (W_ih_{l+1}), so block l is [W_hh_l | W_ih_{l+1}] (H_out, 8H), the last (H_out, 4H)."""
        prep = self._prepared
        L = len(prep)
        return [np.ascontiguousarray(np.concatenate([prep[k][0].W_hh, prep[k + 1][0].W_ih], axis=1))
                if k + 1 < L else prep[k][0].W_hh for k in range(L)]

    @cached_property
    def _options(self) -> CellOptions:
        c = self.config
        return CellOptions(self._fast, c.recurrent_activation, c.cell_activation, c.hidden_activation,
                           c.clip, c.input_forget)

    def __hash__(self) -> int:
        return id(self)

    def trace(self, x: NDArray, h0: NDArray | None = None, c0: NDArray | None = None,
              lengths: NDArray | None = None, record_pre: bool = False) -> Trace:
        """Run the LSTM on x, (T, D) or (B, T, D), recording i, f, g, o, c, h everywhere.

        h0 and c0 are (L*D, H_out) and (L*D, H) for unbatched input, (B, L*D, ...) for batched input:
        the layout of the returned `h_n` and `c_n`, so a trace can continue another.
        """
        from .runner import run

        return run(self, x, h0, c0, lengths, record_pre)


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


def _read_only_copy(a: NDArray) -> NDArray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def _to_numpy(v) -> NDArray:
    if isinstance(v, np.ndarray):
        return v
    if hasattr(v, "detach"):  # a torch tensor, without importing torch here
        return v.detach().cpu().numpy()
    return np.asarray(v)
