"""A stack of layers as a two-stage pipeline over chunks of steps, when the caller lets NumPy's BLAS use two threads
and the batch is too small to cut in halves (halves.py).

At batch 1 a trace is one long chain of steps that the compiled whole-layer loop (jitloop.py) runs on one core;
the batch halves need 16 rows. But layer l + 1 at step t needs only layer l's h up to t: so this thread runs the
lower layers chunk after chunk of steps, and the pool's thread (halves.pair: one cut at a time, BLAS at one
thread meanwhile, given back by the thread that lowered it) runs the upper layers one chunk behind, each chunk's
input projection (a product over the chunk's h from below) then its time loop. The stages meet once per chunk.

The same bits as the whole run at one BLAS thread, which is what the server records: each chunk's projection is
schedules._project at the chunk's absolute position (blocks aligned to absolute positions, each one product of
the same shape: any cut gives every row the same bits), and the time loop is the same per-step arithmetic from
the state the previous chunk left. (The whole run at two BLAS threads rounds its projections differently:
OpenBLAS's 16-row product at one and at two threads differs by up to 4e-5 on values of order 10, and both
stages must run BLAS at one thread, or OpenBLAS's spinning workers take the cores.)

Only a unidirectional left-to-right stack of two or more layers: a backward direction starts at the last step of
its input, which the layer below produces last; a single layer has no second layer to overlap (its input
projection, which a second thread could run a chunk ahead, is 12-16% of its CPU time at 1 x 256, T = 2,000).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from itertools import pairwise

from . import halves

# Steps per chunk at most: the hand-offs against the pipeline's fill (one chunk of the lower stage, ~30 us a step at
# 2 x 256); shorter texts get shorter chunks (`bounds`). Busiest thread's CPU per trace at T = 2,000, load 12-16:
# chunks of 16 steps 80 ms (all threads 145), 32 70 (120), 64 67.5 (120), 128 65 (115). A multiple of
# schedules.PROJECT_STEPS, so that no projection block is computed twice. Tests set it to any size.
CHUNK = 64
# Below this much work a layer (T x H_out x 4H multiply-adds: 2 x 256 units from T = 64, 2 x 64 from T = 1,024)
# runs in a few ms and the second thread's wake-ups (under load, a wait for a core) cost more than it saves.
MIN_WORK = 1 << 24
# Tests set this to pipeline every stack it can run (True) or none (False); None: by `halves.threads()`.
FORCE: bool | None = None


def split(layers: int, directions: int, reverse: bool, B: int, work: int) -> int | None:
    """How many layers the first stage runs (the lower half, the larger for an odd count), or None to run whole:
    a left-to-right stack of two or more layers, at two BLAS threads, a batch that halves.cut leaves whole, and
    `work` (a layer's recurrent multiply-adds, T x H_out x 4H) of at least MIN_WORK."""
    if FORCE is False or layers < 2 or directions != 1 or reverse:
        return None
    if FORCE is None and (work < MIN_WORK or halves.cut(B) is not None or halves.threads() < 2):
        return None
    return (layers + 1) // 2


def bounds(T: int, offset: int = 0) -> list[int]:
    """Chunk boundaries from 0 to T, the inner ones at absolute positions (offset + t) that are multiples of the
    chunk size: about T / 8 steps a chunk, in multiples of 16, at most CHUNK."""
    size = min(CHUNK, max(16, -(-T // 128) * 16))
    first = size - offset % size
    return [0, *range(first, T, size), T]


def run(lower: Callable[[int, int], None], upper: Callable[[int, int], None], cuts: list[int]) -> bool:
    """lower(lo, hi) for each chunk in this thread, upper(lo, hi) for each in the pool's thread once lower has
    done it. False, having run nothing, while another cut runs (halves.pair)."""
    done = _Progress()

    def first() -> None:
        try:
            for n, (lo, hi) in enumerate(pairwise(cuts)):
                lower(lo, hi)
                done.advance(n + 1)
        finally:
            done.stop()  # on an error too: the second stage must not wait for chunks that will not come

    def second() -> None:
        for n, (lo, hi) in enumerate(pairwise(cuts)):
            if not done.wait(n + 1):  # the first stage failed: its error reaches the caller
                return
            upper(lo, hi)

    return halves.pair(first, second)


class _Progress:
    """How many chunks the first stage has finished, and whether it has stopped."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._done = 0
        self._stopped = False

    def advance(self, n: int) -> None:
        with self._cond:
            self._done = n
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def wait(self, n: int) -> bool:
        """Until the first stage has finished n chunks (True) or stopped short of them (False)."""
        with self._cond:
            self._cond.wait_for(lambda: self._done >= n or self._stopped)
            return self._done >= n
