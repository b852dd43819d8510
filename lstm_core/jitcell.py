"""The fast path's elementwise step in one compiled call (numba), when numba is installed.

At small batch a NumPy step is bound by per-call overhead, not arithmetic: after the matrix product,
NumPy needs about nine calls (add the input projection, tanh, two affine steps, three for c, tanh(c),
o * tanh(c)) of about 1-2 us each on a few hundred values. `cell` does them in one pass. Measured
with a 256-unit layer at batch 1: 46-57 us per step against 68 us for the NumPy calls (CPU time,
load 11). At wide steps NumPy's vectorized exp wins (numba's exp and tanh are scalar here: 1.8 vs
1.1 ms a step at batch 64), so engine.py uses this only below gates.WIDE values a step.

Without numba (AVAILABLE is False) engine.py runs the NumPy calls: the NumPy path stays the reference,
and both run the parity tests against torch. GATESCOPE_JIT=0 turns the compiled path off.
"""
from __future__ import annotations

import functools
import os
from importlib.util import find_spec

import numpy as np

# numba takes seconds to import: it is imported on the first compiled step, not with lstm_core.
AVAILABLE = os.environ.get("GATESCOPE_JIT", "1") != "0" and find_spec("numba") is not None


def _cell(z, add, pre, gates, c_prev, c, out):  # pragma: no cover - compiled by numba
    """pre = z + add, z (B, G, 4H) being h W (gate-scaled, internal order i|f|o|g); gates = sigmoid/tanh of
    pre; c = f c_prev + i g; out = o tanh(c). `pre` may be `add` and `gates` may be `pre` (read first)."""
    B, G, H4 = z.shape
    H = H4 // 4
    for b in range(B):
        for k in range(G):
            for j in range(H4):
                v = z[b, k, j] + add[b, k, j]
                pre[b, k, j] = v
                # i, f, o hold half their pre-activation (gates.gate_scale): sigmoid(2v)
                gates[b, k, j] = 1.0 / (1.0 + np.exp(-2.0 * v)) if j < 3 * H else np.tanh(v)
            for j in range(H):
                cj = gates[b, k, H + j] * c_prev[b, k, j] + gates[b, k, j] * gates[b, k, 3 * H + j]
                c[b, k, j] = cj
                out[b, k, j] = gates[b, k, 2 * H + j] * np.tanh(cj)


@functools.cache
def cell():
    """The compiled `_cell` (only when AVAILABLE). cache=True keeps the machine code in __pycache__, so
    only the first process compiles (seconds) each argument type."""
    try:
        import numba
    except ImportError:  # optional (requirements-dev.txt): a broken install runs the NumPy calls instead
        return None
    return numba.njit(cache=True, nogil=True)(_cell)
