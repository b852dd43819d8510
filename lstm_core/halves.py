"""A time loop's batch cut in two halves run by two threads, when the caller lets NumPy's BLAS use two.

The rows of a batch never meet in an LSTM: each row's steps read only its own h and c. At batch 64 a step
is a BLAS product, which OpenBLAS spreads over both cores, and the elementwise step (compiled, jitcell.py,
or NumPy calls), which runs on one. Cut in halves, each thread runs every step of its half, product and
elementwise alike, with BLAS at one thread: both cores work the whole step and the threads never wait for
each other within the loop (one hand-off per call, not per step). The compiled step and BLAS release the
GIL; what holds it is the loop's few Python lines per step.

The engine asks `threads()`, the thread count the caller gave NumPy's BLAS (threadpoolctl's
threadpool_limits, OPENBLAS_NUM_THREADS, ...): at one thread nothing runs in parallel. The server pins
BLAS to one thread (app/main.py), so it never cuts; bench/trace_vs_torch.py sets 1 or 2. BLAS's limit is
process-wide: a call that cuts sets it to one for its duration, so two such calls from two threads at once
could restore each other's limit early (values stay right; only speed would change).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

# Below this batch a half is too narrow for the cut to pay its hand-off (~50 us a call); tests lower it.
MIN_BATCH = 16
# Tests set this to cut every batch of at least two rows (True) or none (False); None: by `threads()`.
FORCE: bool | None = None


@functools.cache
def _blas():
    """threadpoolctl's controller of the BLAS libraries loaded now (NumPy's), found once (~6 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def threads() -> int:
    """How many threads the caller lets NumPy's BLAS use (read each call: ~2 us)."""
    return max((lib.get_num_threads() for lib in _blas().lib_controllers), default=1)


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="gatescope-half")


def cut(B: int) -> int | None:
    """Where a batch of B rows is cut (the first half has the extra row of an odd B), or None to run whole."""
    if FORCE is False or B < 2:
        return None
    if FORCE is None and (B < MIN_BATCH or threads() < 2):
        return None
    return (B + 1) // 2


def run(fn: Callable[[slice], None], B: int) -> None:
    """fn(rows) over the whole batch: as fn(first half) here and fn(second half) in the pool's thread at once,
    BLAS at one thread meanwhile, when `cut` says so; else fn(slice(None)) here."""
    mid = cut(B)
    if mid is None:
        fn(slice(None))
        return
    with _blas().limit(limits=1):
        other = _pool().submit(fn, slice(mid, B))
        try:
            fn(slice(0, mid))
        finally:
            other.result()  # waits even when this half raised, then raises the other's error if it had one
