"""The internal gate layout shared by the tracer and the trainer.

Torch orders gate rows i|f|g|o; inside gatescope they are i|f|o|g so the three sigmoid gates are one
contiguous block, and their pre-activations are scaled by 1/2 so that one `tanh` call gives every gate:
sigmoid(z) = tanh(z/2)/2 + 1/2 (the halving is exact in binary floating point).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def to_internal(a: NDArray, H: int) -> NDArray:
    """Rows i|f|g|o (torch) to i|f|o|g, along axis 0."""
    return np.concatenate([a[: 2 * H], a[3 * H :], a[2 * H : 3 * H]], axis=0)


# Swapping the last two blocks is its own inverse.
to_torch = to_internal


def gate_scale(H: int, dtype) -> NDArray:
    """(4H,) factor applied to internal pre-activations: 1/2 on i, f, o (sigmoid via tanh), 1 on g."""
    s = np.ones(4 * H, dtype)
    s[: 3 * H] = 0.5
    return s
