"""The internal gate layout shared by the tracer (engine.py, runner.py) and the trainer (train/cell.py).

Torch orders gate rows i|f|g|o; inside gatescope they are i|f|o|g so the three sigmoid gates are one
contiguous block. The gate-scaling trick lives here and nowhere else: the i, f and o pre-activations
are scaled by 1/2 (`gate_scale`, folded into the weights and biases once), so that one `tanh` call over
all 4H columns gives every gate (`activate`), because sigmoid(z) = tanh(z/2)/2 + 1/2. The halving is
exact in binary floating point, so `unscale_pre` recovers the true pre-activations bit for bit.
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


def activate(z: NDArray, out: NDArray) -> None:
    """Gates (..., 4H) i|f|o|g from scaled pre-activations z (i, f, o times `gate_scale`): one tanh.

    `out` may be `z` itself.
    """
    H3 = 3 * (z.shape[-1] // 4)
    np.tanh(z, out=out)
    sig = out[..., :H3]
    sig *= 0.5
    sig += 0.5  # i, f, o = sigmoid of the unscaled pre-activation


# From this many gate values per step on, `activate_wide` beats `activate`: NumPy's float32 tanh has no
# AVX2 loop (4.3 ns a value here) while exp has one (1.9 ns); below it the extra calls cost more than
# they save (a call is about 1 us).
WIDE = 8192


def activate_wide(z: NDArray, out: NDArray) -> None:
    """`activate` through exp, for wide steps (>= WIDE values): sigmoid(2z) = 1 / (1 + exp(-2z)) on every
    column gives i, f, o (z holds half their pre-activations), and tanh(z) = 2 sigmoid(2z) - 1 gives g.

    Overflow of exp is harmless (1 / inf = 0): callers wrap the loop in np.errstate(over="ignore").
    """
    H3 = 3 * (z.shape[-1] // 4)
    np.multiply(z, -2, out=out)
    np.exp(out, out=out)
    out += 1
    np.divide(1, out, out=out)
    g = out[..., H3:]
    g *= 2
    g -= 1


def tanh_wide(c: NDArray, out: NDArray) -> None:
    """tanh(c) = 2 / (1 + exp(-2c)) - 1 into `out` (not `c`), for wide steps (see `activate_wide`)."""
    np.multiply(c, -2, out=out)
    np.exp(out, out=out)
    out += 1
    np.divide(2, out, out=out)
    out -= 1


def unscale_pre(pre: NDArray) -> None:
    """Undo `gate_scale` in place on recorded pre-activations (..., 4H) in internal order."""
    pre[..., : 3 * (pre.shape[-1] // 4)] *= 2
