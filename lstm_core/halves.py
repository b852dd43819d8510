"""A trace's batch cut in two halves run by two threads, when the caller lets NumPy's BLAS use two.

The rows of a batch never meet in an LSTM: each row's steps read only its own input, h and c, through every
layer. Cut in halves, each thread runs the whole trace of its half (every layer's input projection, then every
step: product and elementwise step) with BLAS at one thread: both cores work the whole time and the threads
meet once per trace. Two threads of OpenBLAS on one product per step instead wait for each other at every
step, and the compiled elementwise step (jitcell.py) runs on one core meanwhile. The compiled step and BLAS
release the GIL; what holds it is the loop's few Python lines per step.

Why the whole trace, not each layer's time loop (as first built): the input projections are about 40% of a
trace's arithmetic at 2 x 256 (a product over all T x B rows per layer). Run at two BLAS threads between the cut
loops, they left OpenBLAS's second thread spinning (OpenBLAS keeps its threads busy-waiting for the next
product for about 0.1 s) beside both halves, three threads on two cores: about 0.2 s of CPU per trace at batch
64, T = 100, and the cut engine ran 1.3-1.5x slower than the whole batch there on a quiet machine.

The engine asks `threads()`, the thread count the caller gave NumPy's BLAS (threadpoolctl's
threadpool_limits, OPENBLAS_NUM_THREADS, ...): at one thread nothing runs in parallel. The server pins BLAS
to one thread (app/main.py), so it never cuts; bench/trace_vs_torch.py sets 1 or 2.

BLAS's thread count is process-wide (OpenBLAS's pthreads build has no per-thread count:
openblas_set_num_threads_local sets the global one too). While a cut runs, BLAS is at one thread for every
thread of the process: another trace running meanwhile gets one BLAS thread (slower, same values). One cut runs
at a time, and the thread that lowers the count gives it back: a trace that starts during a cut runs whole
(two cuts each restoring what it found would leave BLAS at one thread for good when they end in the wrong
order, and OpenBLAS 0.3.31 ignored a count set from a thread other than the one that had set it last, here).
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

# Below this batch a half is too narrow for the cut to pay its hand-off (~50 us a call); tests lower it.
MIN_BATCH = 16
# Tests set this to cut every batch of at least two rows (True) or none (False); None: by `threads()`.
FORCE: bool | None = None

_lock = threading.Lock()  # held by the one cut that may run at a time
_saved: list[int] = []  # each BLAS library's thread count before the running cut (empty when none runs)


@functools.cache
def _blas():
    """threadpoolctl's controller of the BLAS libraries loaded now (NumPy's), found once (~6 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def threads() -> int:
    """How many threads the caller lets NumPy's BLAS use (read each call: ~2 us); while a cut runs, the count
    before it."""
    counts = list(_saved) or [lib.get_num_threads() for lib in _blas().lib_controllers]
    return max(counts, default=1)


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
    if mid is None or not pair(functools.partial(fn, slice(0, mid)), functools.partial(fn, slice(mid, B))):
        fn(slice(None))


def pair(here: Callable[[], None], there: Callable[[], None]) -> bool:
    """here() in this thread and there() in the pool's thread at once, BLAS at one thread meanwhile (a batch's
    halves; a layer pipeline's two stages, pipeline.py). False, having run nothing, while another cut runs: the
    caller then runs its work whole. An error of either reaches the caller once both have returned."""
    if not _lock.acquire(blocking=False):
        return False
    libs = _blas().lib_controllers
    try:
        _saved[:] = [lib.get_num_threads() for lib in libs]
        for lib in libs:
            lib.set_num_threads(1)
        other = _pool().submit(there)
        try:
            here()
        finally:
            other.result()  # waits even when here() raised, then raises there's error if it had one
    finally:
        for lib, n in zip(libs, _saved, strict=True):
            lib.set_num_threads(n)
        _saved.clear()
        _lock.release()
    return True
