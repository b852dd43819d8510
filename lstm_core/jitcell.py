"""The fast path compiled (numba), when numba is installed: jitloop.py holds the compiled functions.

At small batch a NumPy step is bound by per-call overhead, not arithmetic: after the matrix product,
NumPy needs about nine calls (add the input projection, tanh, two affine steps, three for c, tanh(c),
o * tanh(c)) of about 1-2 us each on a few hundred values. Two compiled forms remove them:
- `loop`: a whole run (every step, the recurrent product included) in one call, for narrow steps (below
  gates.WIDE values) without projection: no Python per step at all. Batch 1, 2 x 256, T=2000: 0.54x the
  time of the per-step NumPy engine, 0.96x torch's nn.LSTM (CPU time, 1 thread, load 11).
- `cell`: the elementwise part of one step, after NumPy's matrix product (the wavefront, projections, and
  float32 steps of any width: its tanh is vectorised, see jitloop.tanh32).

Without numba (AVAILABLE is False) engine.py runs the NumPy calls: the NumPy path stays the reference,
and every path runs the parity tests against torch. GATESCOPE_JIT=0 turns the compiled path off.
"""
from __future__ import annotations

import functools
import os
from importlib.util import find_spec

# numba takes seconds to import: it is imported on the first compiled step, not with lstm_core.
AVAILABLE = os.environ.get("GATESCOPE_JIT", "1") != "0" and find_spec("numba") is not None


@functools.cache
def _compiled():
    """jitloop when numba imports, else None (a broken install runs the NumPy calls instead). Its functions
    are compiled on first use per argument type (seconds), then cached on disk in __pycache__."""
    from . import jitloop  # its numba import is guarded: without numba it holds plain Python functions

    return None if jitloop.numba is None else jitloop


def cell():
    """The compiled elementwise step (jitloop.cell), or None without numba."""
    mod = _compiled()
    return None if mod is None else mod.cell


def loop():
    """The compiled whole time loop (jitloop.layer_loop), or None without numba."""
    mod = _compiled()
    return None if mod is None else mod.layer_loop
