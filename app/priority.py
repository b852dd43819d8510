"""The event loop before the work: a worker thread that traces runs at a lower CPU priority than the loop.

On 2 cores under load, two threads tracing (BLAS and the compiled loop release the GIL, so both run at once), the
load's own clients and the event loop all want a core; the kernel shares the cores evenly, so a probe of
/api/health waits for the loop's turn (p99 115-126 ms in quiet runs of bench/load.py). A thread of the worker pool
that runs a trace raises its own nice value by `worker_nice` (once per thread; anyio reuses its threads): the loop,
at the process's priority, then wins the core whenever it has something to answer, and the traces get the rest.
Measured (README: Security > Measured): health p50 9-10 -> 6 ms under bench/load.py's 64 clients; the p99 tail
(about 100-125 ms) did not move, so something other than the cores' sharing holds the loop there.
Linux only: there setpriority(PRIO_PROCESS, thread id) changes one thread; elsewhere it would change the whole
process, so it is left alone. Raising one's own nice value needs no privilege.
"""
from __future__ import annotations

import os
import sys
import threading

_lowered: set[int] = set()  # native ids of the threads already lowered


def below_loop(nice: int) -> bool:
    """Lower the calling (worker) thread's priority by `nice` steps, once per thread. True if it is lowered."""
    tid = threading.get_native_id()
    if nice <= 0 or sys.platform != "linux" or threading.current_thread() is threading.main_thread():
        return False
    if tid in _lowered:
        return True
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        return False
    _lowered.add(tid)
    return True
