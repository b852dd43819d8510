"""The event loop before the work: a worker thread that traces runs at a lower CPU priority than the loop.

On 2 cores under load, two threads tracing (BLAS and the compiled loop release the GIL, so both run at once), the
load's own clients and the event loop all want a core; the kernel shares the cores evenly, so a probe of
/api/health waits for the loop's turn (p99 115-126 ms in quiet runs of bench/load.py). A thread of the worker pool
that runs a trace sets its own nice value `worker_nice` steps above the process's main thread (where the loop runs;
anyio reuses its threads, so mostly once per thread): the loop, at the process's priority, then wins the core
whenever it has something to answer, and the traces get the rest.
Measured (README: Security > Measured): health p50 9-10 -> 6 ms under bench/load.py's 64 clients; the p99 tail
(about 100-125 ms) did not move, so something other than the cores' sharing holds the loop there.
Linux only: there setpriority(PRIO_PROCESS, 0) changes the calling thread; elsewhere it would change the whole
process, so it is left alone. Raising one's own nice value needs no privilege; lowering it back does, so a thread
stays lowered for the rest of its life, and what it starts inherits that: a process it starts (a training job,
app/jobs/runner.py) takes its own priority from base() instead, the main thread's.
The target is absolute (base() + nice) and read from the kernel each time, not remembered per thread id: a new
thread that reuses a dead one's id is lowered like any other, and a thread that inherited a lowered value is not
lowered twice.
"""
from __future__ import annotations

import os
import sys
import threading


def base() -> int:
    """The process's own nice value: its main thread's (on Linux the thread whose id is the process id), whatever
    the calling thread's."""
    return os.getpriority(os.PRIO_PROCESS, os.getpid())


def below_loop(nice: int) -> bool:
    """Put the calling (worker) thread `nice` steps below the process's main thread. True if it is there."""
    if nice <= 0 or sys.platform != "linux" or threading.current_thread() is threading.main_thread():
        return False
    try:
        target = min(19, base() + nice)
        if os.getpriority(os.PRIO_PROCESS, 0) < target:  # 0: the calling thread
            os.setpriority(os.PRIO_PROCESS, 0, target)
    except OSError:
        return False
    return True
