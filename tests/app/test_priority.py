"""Traces run below the event loop's CPU priority (app/priority.py): the server's threads as the kernel sees them."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import httpx
import pytest

from app.priority import below_loop
from app.testing import start_server, stop_server

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread priorities are Linux's (app/priority.py)")


def nice_of(pid: int, tid: int) -> int:
    """A thread's nice value from /proc (field 19 of stat, counted after the command's closing parenthesis)."""
    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[16])


def in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.update(result=fn(), tid=threading.get_native_id(),
                                                   nice=nice_of(os.getpid(), threading.get_native_id())))
    t.start()
    t.join()
    return out


def test_a_worker_thread_lowers_itself_once_and_the_main_thread_never():
    base = nice_of(os.getpid(), threading.get_native_id())
    twice = in_thread(lambda: (below_loop(5), below_loop(5)))
    assert twice["result"] == (True, True) and twice["nice"] == min(19, base + 5)  # once, not 10 steps
    off = in_thread(lambda: below_loop(0))
    assert off["result"] is False and off["nice"] == base
    assert below_loop(5) is False and nice_of(os.getpid(), threading.get_native_id()) == base  # the main thread


@pytest.mark.parametrize("nice", [5, 0])
def test_the_server_traces_in_lowered_threads_and_its_loop_keeps_its_priority(model_dir, nice):
    """Over real HTTP: after traces, the threads that ran them sit `nice` steps below the process's main thread
    (where uvicorn's event loop runs); with GATESCOPE_WORKER_NICE=0 none is lowered."""
    base_url, proc = start_server(model_dir, env={"GATESCOPE_WORKER_NICE": str(nice)})
    try:
        with httpx.Client(base_url=base_url, timeout=60) as c:
            for k in range(4):
                r = c.post("/api/trace", json={"model": "tiny-char", "text": f"hello {k}", "format": "compact"})
                assert r.status_code == 200, r.text
        main = nice_of(proc.pid, proc.pid)
        threads = {int(t): nice_of(proc.pid, int(t)) for t in os.listdir(f"/proc/{proc.pid}/task")}
    finally:
        stop_server(proc)
    lowered = [t for t, n in threads.items() if n == min(19, main + nice) and t != proc.pid]
    others = [n for t, n in threads.items() if n not in (main, min(19, main + nice))]
    assert others == []
    if nice:
        assert 1 <= len(lowered) < len(threads)  # the traces' threads, not the loop's
    else:
        assert all(n == main for n in threads.values())
