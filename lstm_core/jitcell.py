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

Cold start: importing numba and loading the compiled code from its disk cache takes seconds (7-8 s for a
first trace here; compiling on an empty cache ~20 s). A server calls `start_warming` at start: a thread
does that work while traces take the NumPy path (`usable` is False until it is done), so no visitor waits
for it. Without that call (the library, tests, benchmarks) the first compiled step compiles in place.
"""
from __future__ import annotations

import functools
import logging
import os
import threading
from importlib.util import find_spec

log = logging.getLogger(__name__)

# numba takes seconds to import: it is imported on the first compiled step, not with lstm_core.
AVAILABLE = os.environ.get("GATESCOPE_JIT", "1") != "0" and find_spec("numba") is not None

_warming = threading.Event()  # set by start_warming; the compiled path is off until _warm_done
_warm_done = threading.Event()


@functools.cache
def _compiled():
    """jitloop when numba imports, else None (a broken install runs the NumPy calls instead). Its functions
    are compiled on first use per argument type (seconds), then kept on disk (jitloop.cache_dir)."""
    try:
        from . import jitloop  # its numba import is guarded: without numba it holds plain Python functions
    except Exception as e:  # numba installed but failing to load (a version clash with NumPy, say)
        log.warning("the compiled step is off: numba failed to load (%s); the NumPy step runs", e)
        return None
    return None if jitloop.numba is None else jitloop


def usable() -> bool:
    """True when the compiled path may run now: numba is there and no warm-up (`start_warming`) is under way."""
    return AVAILABLE and (not _warming.is_set() or _warm_done.is_set())


def start_warming() -> threading.Thread | None:
    """Import numba and load (or compile) every compiled function for the argument types the engine passes, in
    a daemon thread; until it is done `usable()` is False, so traces take the NumPy path instead of waiting.
    Returns the thread, or None when numba is not there or warming has already started."""
    if not AVAILABLE or _warming.is_set():
        return None
    _warming.set()
    thread = threading.Thread(target=_warm, name="gatescope-jit-warm", daemon=True)
    thread.start()
    return thread


def _warm() -> None:
    try:
        mod = _compiled()
        if mod is not None:
            mod.warm()
    except Exception:  # a failed compile must not stop the server: the first compiled call retries it
        log.exception("warming the compiled step failed")
    finally:
        _warm_done.set()


def cell():
    """The compiled elementwise step (jitloop.cell), or None without numba."""
    mod = _compiled()
    return None if mod is None else mod.cell


def loop():
    """The compiled whole time loop (jitloop.layer_loop), or None without numba."""
    mod = _compiled()
    return None if mod is None else mod.layer_loop
