"""A job's supervisor gives its verdict only on its own run (app/jobs/runner.py _supervise).

Seen in the suite under two workers: a stopped job was resumed while its stopped process's supervisor had not yet
woken; the supervisor then read the new run's "starting", took exit code 130 for a failure, and wrote "failed",
which ended the resumed run's event stream (tests/app/test_train_jobs.py stop, keep and resume)."""
from __future__ import annotations

import json
import subprocess
import sys

from app.jobs import events, runner
from app.jobs.store import new_job


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
