"""Traces run below the event loop's CPU priority (app/priority.py): the server's threads as the kernel sees them."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import httpx
import pytest

from app.jobs import runner
from app.jobs.store import new_job
from app.priority import below_loop
from app.settings import Settings
from app.testing import start_server, stop_server

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread priorities are Linux's (app/priority.py)")


def nice_of(pid: int, tid: int) -> int:
    """A thread's nice value from /proc (field 19 of stat, counted after the command's closing parenthesis)."""
    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[16])


NATIVE_ID = threading.get_native_id  # the real one, for tests that make the module see another


def in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.update(result=fn(), nice=nice_of(os.getpid(), NATIVE_ID())))
    t.start()
    t.join()
    return out


def main_nice() -> int:
    return nice_of(os.getpid(), os.getpid())


def test_a_worker_thread_lowers_itself_once_and_the_main_thread_never():
    base = nice_of(os.getpid(), threading.get_native_id())
    twice = in_thread(lambda: (below_loop(5), below_loop(5)))
    assert twice["result"] == (True, True) and twice["nice"] == min(19, base + 5)  # once, not 10 steps
    off = in_thread(lambda: below_loop(0))
    assert off["result"] is False and off["nice"] == base
    assert below_loop(5) is False and nice_of(os.getpid(), threading.get_native_id()) == base  # the main thread


def test_a_thread_with_a_dead_threads_id_is_lowered_too(monkeypatch):
    """Thread ids are reused once a thread has ended: the second thread, under the first one's id, must not be
    taken for it and left at the loop's priority."""
    monkeypatch.setattr(threading, "get_native_id", lambda: 4242)  # both threads under one id, as after reuse
    first, second = in_thread(lambda: below_loop(5)), in_thread(lambda: below_loop(5))
    assert first["nice"] == second["nice"] == min(19, main_nice() + 5)


def test_a_thread_started_by_a_lowered_thread_is_not_lowered_twice():
    """A thread inherits its creator's nice value; below_loop counts from the main thread's, not the caller's."""
    inner = {}
    outer = in_thread(lambda: (below_loop(5), inner.update(in_thread(lambda: below_loop(5)))))
    assert outer["nice"] == inner["nice"] == min(19, main_nice() + 5)


def test_a_job_started_from_a_lowered_thread_runs_train_nice_below_the_server(tmp_path):
    """POST /api/train runs in the pool whose threads trace below the loop; the job's process inherits the
    calling thread's value, but its own must be train_nice steps below the server's main thread, not below the
    caller (3 + 6 steps). Both steps raise the nice value, so this holds without privilege."""
    job = new_job(tmp_path)
    settings = Settings(train_nice=6, train_max_seconds=60)

    def start() -> int:
        below_loop(3)
        runner.spawn(job, ["train", "--help"], "", settings)  # a real `python -m app` process, short-lived
        proc = runner._running[job.id]
        try:
            return nice_of(proc.pid, proc.pid)  # read at once: the interpreter is still starting
        finally:
            proc.kill()

    assert in_thread(start)["result"] == min(19, main_nice() + 6)


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
