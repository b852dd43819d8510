"""The fast path's whole time loop in one compiled call (numba), for narrow steps; see jitcell.py.

`layer_loop` runs every step of one `engine.run_groups` call without returning to Python: the recurrent
product as a hand-written loop (at batch 1 it is bound by reading W_hh, 1 MiB for 256 units, from cache:
24 us a step, NumPy's BLAS matvec 29 us, CPU time), then the gates, c and h written straight into the step
buffers. It releases the GIL (nogil). In float32 the gates' tanh is a rational approximation that the
compiler vectorises (numba's np.tanh is a scalar libm call per value, 1,280 of them a step at 256 units);
float64 keeps np.tanh.

Imported by jitcell.loop() only when numba is installed.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - jitcell imports this module only when numba is found
    numba = None

log = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    """Where numba keeps compiled code between processes: NUMBA_CACHE_DIR when set, else gatescope/numba in the
    user's cache directory ($XDG_CACHE_HOME, or ~/.cache), never beside the sources (numba's default: a checkout's
    or site-packages' __pycache__); None when that is not writable, and then each process compiles in memory
    (numba itself would raise on a function to cache with nowhere to write)."""
    env, user = os.environ.get("NUMBA_CACHE_DIR"), os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    path = Path(env) if env else Path(user) / "gatescope" / "numba"
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()  # the check numba makes: a read-only place fails here
    except OSError as e:
        log.warning("numba's cache %s is not writable (%s): compiled code is not kept between runs", path, e)
        return None
    return path


CACHE_DIR = None if numba is None else cache_dir()
if CACHE_DIR is not None:
    numba.config.CACHE_DIR = str(CACHE_DIR)  # read when each function below is decorated

# Eigen's float tanh (generic_fast_tanh_float): a 13/6 rational fit, within a few ulp of tanh on
# [-CLAMP, CLAMP]; beyond it tanh rounds to +-1 in float32. Odd numerator coefficients, even denominator.
CLAMP = np.float32(7.90531110763549805)
A1, A3, A5, A7 = (np.float32(v) for v in (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
                                           5.12229709037114e-08))
A9, A11, A13 = (np.float32(v) for v in (-8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16))
B0, B2, B4, B6 = (np.float32(v) for v in (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
                                           1.19825839466702e-06))
HALF = np.float32(0.5)


def _jit(**kw):
    """numba.njit, cached on disk (`cache_dir`). error_model="numpy": a float division by zero gives inf instead of
    raising, which leaves the division free of a branch, so the loops vectorise (8 float32 lanes)."""
    return (lambda f: f) if numba is None else numba.njit(cache=CACHE_DIR is not None, error_model="numpy", **kw)


@_jit(inline="always")
def tanh32(x):
    """tanh of a float32 scalar in float32 arithmetic (vectorises in a loop)."""
    x = CLAMP if x > CLAMP else -CLAMP if x < -CLAMP else x
    x2 = x * x
    p = ((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * x
    q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0
    return p / q


@_jit(fastmath={"contract"})
def tanh_into(x, out):
    """out = tanh(x) for 1-D arrays, `tanh32` in float32 and np.tanh otherwise (tests check its error)."""
    if x.itemsize == 4:
        for j in range(x.shape[0]):
            out[j] = tanh32(x[j])
    else:
        for j in range(x.shape[0]):
            out[j] = np.tanh(x[j])


@_jit(nogil=True, fastmath={"contract"})
def cell(z, add, pre, gates, c_prev, c, out):  # pragma: no cover - compiled by numba
    """One step after the recurrent product: pre = z + add, z (B, G, 4H) being h W (gate-scaled, internal
    order i|f|o|g); gates from pre; c = f c_prev + i g; out = o tanh(c). `pre` may be `add` and `gates` may
    be `pre` (each value is read before it is written)."""
    B, G, H4 = z.shape
    H = H4 // 4
    t = np.empty(H4, z.dtype)
    for b in range(B):
        for k in range(G):
            for j in range(H4):
                pre[b, k, j] = z[b, k, j] + add[b, k, j]
            _gates(pre[b, k], gates[b, k], t)
            for j in range(H):
                c[b, k, j] = gates[b, k, H + j] * c_prev[b, k, j] + gates[b, k, j] * gates[b, k, 3 * H + j]
            tanh_into(c[b, k], t)
            for j in range(H):
                out[b, k, j] = gates[b, k, 2 * H + j] * t[j]


@_jit(fastmath={"contract"})
def _gates(zb, gb, t):
    """gb = the gates of scaled pre-activations zb (4H,): i, f, o hold half theirs, sigmoid(2v) = tanh(v)/2
    + 1/2, and g = tanh(v); t is scratch (4H,). Explicit loops, not slice assignments, throughout this
    module: numba compiled those 4x slower (67 s against 14-20 s for layer_loop, load 12)."""
    H3 = 3 * (zb.shape[0] // 4)
    tanh_into(zb, t)
    for j in range(H3):
        gb[j] = t[j] * HALF + HALF
    for j in range(H3, zb.shape[0]):
        gb[j] = t[j]


@_jit(nogil=True, fastmath={"contract"})
def layer_loop(W, add, pre, gates, cs, hs, mask, masked):  # pragma: no cover - compiled by numba
    """Every step of a fast-path run: W (G, H, 4H) gate-scaled (gates.gate_scale), internal order i|f|o|g;
    add (S, B, G, 4H) the input projections plus biases; pre and gates (S, B, G, 4H) the step buffers (`pre`
    may be `add`, `gates` may be `pre`: each value is read before it is written); cs and hs (S + 1, B, G, H)
    with the initial states at [0]; mask (S, B, G) keeps the previous state where False (when `masked`)."""
    S, B, G, H4 = add.shape
    H = H4 // 4
    z = np.empty((B, H4), add.dtype)
    t = np.empty(H4, add.dtype)
    for s in range(S):
        for k in range(G):
            for b in range(B):
                for j in range(H4):
                    z[b, j] = add[s, b, k, j]
            for r in range(H):  # z += h_{t-1} W row by row: each row of W read once for the whole batch
                for b in range(B):
                    hv = hs[s, b, k, r]
                    for j in range(H4):
                        z[b, j] += hv * W[k, r, j]
            for b in range(B):
                for j in range(H4):
                    pre[s, b, k, j] = z[b, j]
                _gates(z[b], gates[s, b, k], t)
                for j in range(H):  # c_t = f c_{t-1} + i g
                    z[b, j] = gates[s, b, k, H + j] * cs[s, b, k, j] + gates[s, b, k, j] * gates[s, b, k, 3 * H + j]
                tanh_into(z[b, :H], t)
                keep = masked and not mask[s, b, k]  # a padded step: the state stays
                for j in range(H):  # h_t = o tanh(c_t)
                    cs[s + 1, b, k, j] = cs[s, b, k, j] if keep else z[b, j]
                    hs[s + 1, b, k, j] = hs[s, b, k, j] if keep else gates[s, b, k, 2 * H + j] * t[j]


def warm() -> None:
    """Compile, or load from the disk cache, every function above for the argument types the engine passes
    (C-contiguous float32 and float64 arrays, a bool mask), on tiny arrays (jitcell.start_warming)."""
    for dt in (np.float32, np.float64):
        S, B, G, H = 2, 1, 1, 2
        add = np.zeros((S, B, G, 4 * H), dt)
        gates, cs, hs = np.empty_like(add), np.zeros((S + 1, B, G, H), dt), np.zeros((S + 1, B, G, H), dt)
        layer_loop(np.zeros((G, H, 4 * H), dt), add, add, gates, cs, hs, np.ones((1, 1, 1), bool), False)
        cell(add[0], add[1], gates[0], gates[0], cs[0], cs[1], hs[1])
        tanh_into(add[0, 0, 0], gates[0, 0, 0])
