"""A job's supervisor gives its verdict only on its own run (app/jobs/runner.py _supervise), and a reader of the
status leaves the verdict on a process it supervises to it (app/jobs/store.py Job.watched).

Seen in the suite under two workers: a stopped job was resumed while its stopped process's supervisor had not yet
woken; the supervisor then read the new run's "starting", took exit code 130 for a failure, and wrote "failed",
which ended the resumed run's event stream (tests/app/test_train_jobs.py stop, keep and resume)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

from app.jobs import events, presets, runner
from app.jobs.store import new_job
from app.settings import Settings


def ended(code: int) -> subprocess.Popen:
    """A real process that has exited with `code`."""
    proc = subprocess.Popen([sys.executable, "-c", f"raise SystemExit({code})"])
    proc.wait()
    return proc


def event_types(job) -> list[str]:
    return [json.loads(line)["type"] for line in job.events.read_text().splitlines()] if job.events.exists() else []


def test_an_earlier_runs_end_leaves_a_resumed_run_alone(tmp_path):
    job = new_job(tmp_path)
    job.update(stopping=False)  # the resume's spawn cleared the stop request
    resumed = {"state": "starting", "step": 60, "pid": None, "run": "newer"}
    events.write_json(job.status_json, resumed)
    runner._supervise(job, ended(130), 60, "older")
    assert event_types(job) == [] and events.read_json(job.status_json) == resumed
    proc = ended(130)
    running = {"state": "running", "step": 61, "pid": proc.pid + 1}  # the resumed run's own process wrote it
    events.write_json(job.status_json, running)
    runner._supervise(job, proc, 60, "older")
    assert event_types(job) == [] and events.read_json(job.status_json) == running


def test_its_own_run_still_gets_a_verdict(tmp_path):
    job = new_job(tmp_path)
    job.update(stopping=False)
    events.write_json(job.status_json, {"state": "starting", "step": 0, "pid": None, "run": "this"})
    runner._supervise(job, ended(3), 60, "this")  # died before writing anything
    assert event_types(job) == ["failed"] and events.read_json(job.status_json)["state"] == "failed"
    job = new_job(tmp_path)
    job.update(stopping=False)
    proc = ended(3)
    events.write_json(job.status_json, {"state": "running", "step": 5, "pid": proc.pid})  # its process wrote it
    runner._supervise(job, proc, 60, "this")
    assert event_types(job) == ["failed"]


def test_a_killed_process_is_named_by_its_supervisor_however_late_it_wakes(tmp_path, monkeypatch):
    """Seen once in the whole suite under load (tests/app/test_train_jobs.py, the killed job): the kernel frees a
    killed process's lock as it dies, before its parent reaps it; a reader of the status (another worker) saw the
    lock free while the supervisor had not yet woken from waitpid, and wrote 'ended without a word' over the
    SIGKILL the supervisor would have named. Here the supervisor's wait is held until the reader has looked."""
    reaped = threading.Event()
    real_wait = subprocess.Popen.wait

    def late_wait(self, timeout=None):
        reaped.wait(60)  # a supervisor thread not yet scheduled, under load
        return real_wait(self, timeout)

    monkeypatch.setattr(subprocess.Popen, "wait", late_wait)
    job = new_job(tmp_path)
    job.update(stopping=False)
    events.write_json(job.status_json, {"state": "starting", "step": 0})
    runner.spawn(job, presets.command("counting", 1, 4, 100000, 0.01, 0, "killed", "killed"), "", Settings())
    os.kill(job.request()["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while job.alive():  # the kernel has dropped the dead process's lock; it is not reaped yet
        assert time.monotonic() < deadline, "the killed process still holds its lock"
        time.sleep(0.01)
    seen = job.status()  # what any worker's GET /api/train/<id> reads, in this window
    reaped.set()
    for thread in threading.enumerate():
        if thread.name == f"job-{job.id[:8]}":
            thread.join(60)
    st = events.read_json(job.status_json)
    assert seen["state"] in events.ACTIVE, seen
    assert st["state"] == "failed" and st["key"] == "train.failed.signal" and "SIGKILL" in st["detail"], st
    assert event_types(job) == ["failed"]
