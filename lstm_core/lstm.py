"""An LSTM with PyTorch `nn.LSTM` semantics that records every gate: its weights and its public API.

The configuration and the parameter names live in config.py; running the LSTM (weight preparation,
schedules, the time loop) lives in runner.py and engine.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from . import runner
from .config import LSTMConfig, check_params, param_names
from .errors import ModelError
from .trace import Trace

_NAME = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr|weight_peephole)_l(\d+)(_reverse)?$")


# eq=False: an LSTM equals and hashes as itself (its weights are arrays, which have no single truth
# value), so that runner.prepare can cache its prepared weights per object, weakly.
@dataclass(frozen=True, eq=False)
class LSTM:
    """A stack of LSTM layers; build one with `from_torch_state_dict` or `random`."""

    config: LSTMConfig
    params: dict[str, NDArray] = field(repr=False)

    def __post_init__(self) -> None:
        check_params(self.config, self.params)
        # Our own read-only copies: runner.prepare caches weights derived from these, so they must not
        # change under it, e.g. when they were views of torch tensors.
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

    def trace(self, x: NDArray, h0: NDArray | None = None, c0: NDArray | None = None,
              lengths: NDArray | None = None, record_pre: bool = False, offset: int = 0) -> Trace:
        """Run the LSTM on x, (T, D) or (B, T, D), recording i, f, g, o, c, h everywhere.

        h0 and c0 are (L*D, H_out) and (L*D, H) for unbatched input, (B, L*D, ...) for batched input:
        the layout of the returned `h_n` and `c_n`, so a trace can continue another. When it does, `offset`
        (the position of x[0] in the whole input) makes every step the same bits as a run over the whole.
        """
        return runner.run(self, x, h0, c0, lengths, record_pre, offset=offset)


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
