"""The record of one forward pass: every gate, cell and hidden value at every timestep."""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray


@dataclass
class Trace:
    """Gate values of an LSTM run, indexed like PyTorch's symbols.

    Unbatched input: i, f, g, o, c are (num_layers, num_directions, T, hidden_size) and h is
    (num_layers, num_directions, T, H_out) with H_out = proj_size or hidden_size. Index t is input
    position t in both directions. Batched input puts B first on every array, h_n and c_n included.
    `output`, `h_n` and `c_n` equal torch's `output` (batch_first for batched input), `h_n`, `c_n`.
    Padded positions (t >= lengths[b]) hold zeros.
    """

    i: NDArray
    f: NDArray
    g: NDArray
    o: NDArray
    c: NDArray
    h: NDArray
    output: NDArray
    h_n: NDArray
    c_n: NDArray
    batched: bool = False
    lengths: NDArray | None = None
    # Pre-activations (the values fed to sigmoid/tanh, after any clip), only when requested.
    pre_i: NDArray | None = None
    pre_f: NDArray | None = None
    pre_g: NDArray | None = None
    pre_o: NDArray | None = None

    GATES = ("i", "f", "g", "o", "c", "h")

    @property
    def num_steps(self) -> int:
        return self.i.shape[-2]

    def gate(self, name: str) -> NDArray:
        """One of i, f, g, o, c, h by name."""
        if name not in self.GATES:
            raise KeyError(f"unknown quantity {name!r}; expected one of {', '.join(self.GATES)}")
        return getattr(self, name)

    def slice_time(self, start: int, stop: int | None = None) -> Trace:
        """The same trace restricted to timesteps [start, stop); final states are kept as they are."""
        kw = {}
        for fld in fields(self):
            v = getattr(self, fld.name)
            timed = fld.name in ("i", "f", "g", "o", "c", "h", "output") or fld.name.startswith("pre_")
            if timed and v is not None:
                v = v[..., start:stop, :]
            kw[fld.name] = v
        return Trace(**kw)


def concat_time(first: Trace, second: Trace) -> Trace:
    """Join two unbatched traces of a causal LSTM, the second started from the first's final state."""
    if first.batched or second.batched:
        raise ValueError("concat_time joins unbatched traces only")
    if first.i.shape[1] != 1:
        raise ValueError("only unidirectional traces can be joined in time: a backward pass depends on the future")

    def cat(a: NDArray | None, b: NDArray | None) -> NDArray | None:
        if a is None or b is None:
            return None
        return np.concatenate([a, b], axis=-2)

    return Trace(
        i=cat(first.i, second.i), f=cat(first.f, second.f), g=cat(first.g, second.g),
        o=cat(first.o, second.o), c=cat(first.c, second.c), h=cat(first.h, second.h),
        output=np.concatenate([first.output, second.output], axis=0),
        h_n=second.h_n, c_n=second.c_n,
        pre_i=cat(first.pre_i, second.pre_i), pre_f=cat(first.pre_f, second.pre_f),
        pre_g=cat(first.pre_g, second.pre_g), pre_o=cat(first.pre_o, second.pre_o),
    )
