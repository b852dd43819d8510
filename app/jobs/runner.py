"""Starting, supervising, stopping and resuming training processes.

A job's process is `python -m app train ...` in the job's directory, started with one BLAS thread, at a
lower CPU priority than the server (settings.train_nice) and in a process group of its own (a Ctrl-C at the
server's terminal is not sent to it), holding the job's lock. Not in a session of its own: with the kernel's
autogroup scheduling (sched_autogroup_enabled) a new session is a new scheduling group, which gets as much
CPU as the server's whatever its nice value, so 8 jobs took 8 shares to the server's one.
The worker that starts it supervises it from a thread: a process that outlives settings.train_max_seconds
is killed, and one that ends without saying how (a crash, a kill) is marked failed with a sentence that names
the signal or the exit code; until then the worker holds the job's watch lock, so that no reader (of any
worker) takes the freed process lock for a process gone without a word and writes its own verdict first. Any
worker can stop a job: SIGINT, on which the trainer writes a checkpoint at the end of the step and exits,
so the job can resume exactly.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time

from app import priority
from app.jobs import events
from app.jobs.store import Job
from app.settings import ROOT, Settings

log = logging.getLogger("gatescope.jobs")
WATCH = ["--events", "events.jsonl"]
STOP_GRACE_S = 20  # a stopping job finishes its step and writes a checkpoint; then it is killed
_running: dict[str, subprocess.Popen] = {}  # the processes this worker started, by job id


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    one = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return {**os.environ, **one, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}


def spawn(job: Job, args: list[str], probe: str, settings: Settings) -> None:
    """Start `python -m app <args>` for `job` and supervise it from a thread of this worker."""
    watch = os.open(job.watch, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited: only this worker holds it
    fcntl.flock(watch, fcntl.LOCK_SH)  # from before the process exists until its verdict is written (_supervise)
    fd = os.open(job.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # taken here and inherited: the job counts as alive from this moment
        # `run` names this start: a resumed job's earlier process may end (and its supervisor wake) after this
        # write, and must then leave the status to this run (_supervise). The process writes its own pid.
        run = secrets.token_hex(8)
        events.write_json(job.status_json, {**(events.read_json(job.status_json) or {}), "state": "starting",
                                            "pid": None, "run": run})
        argv = [sys.executable, "-m", "app", *args, *WATCH, *(["--probe", probe] if probe else [])]
        with open(job.log, "ab") as out:
            proc = subprocess.Popen(argv, cwd=job.root, env=_env(), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=out, pass_fds=(fd,), process_group=0)
    except OSError as e:
        job.finish("failed", {}, key="train.failed.start", reason=str(e))
        os.close(watch)
        return
    finally:
        os.close(fd)
    # From the server's own priority, not the calling thread's: a worker thread that traced runs below the loop
    # (app/priority.py) and the process inherits its value, which train_nice would otherwise come on top of.
    # Without privilege the kernel refuses a value below the one it inherited; the job runs either way.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, proc.pid, min(19, priority.base() + settings.train_nice))
    job.update(pid=proc.pid, stopping=False)
    _running[job.id] = proc
    threading.Thread(target=_supervise, args=(job, proc, settings.train_max_seconds, run, watch), daemon=True,
                     name=f"job-{job.id[:8]}").start()


def _supervise(job: Job, proc: subprocess.Popen, seconds: float, run: str, watch: int | None = None) -> None:
    try:
        _verdict(job, proc, seconds, run)
    finally:
        if watch is not None:
            os.close(watch)  # readers may judge the job again: the status now says how it ended


def _verdict(job: Job, proc: subprocess.Popen, seconds: float, run: str) -> None:
    try:
        rc = proc.wait(timeout=seconds)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        timed_out = True
    _running.pop(job.id, None)
    st = events.read_json(job.status_json) or {}
    if st.get("pid") != proc.pid and st.get("run") != run:
        # Neither this process's status nor this start's: the job was resumed after this process had written
        # its end (stopped) and a newer run owns the status now. Writing a verdict would end that run's stream.
        log.info("training job %s: an earlier run's process ended (%s) after the job was resumed", job.id, rc)
        return
    if timed_out:
        job.finish("failed", st, key="train.failed.time", seconds=f"{seconds:g}", step=st.get("step", 0))
    elif st.get("state") not in events.TERMINAL:
        if job.request().get("stopping") and rc in (130, -signal.SIGINT):  # stopped before its first step
            job.finish("stopped", st)
        elif rc < 0:
            job.finish("failed", st, key="train.failed.signal", signal=_signal_name(-rc), step=st.get("step", 0))
        else:
            job.finish("failed", st, key="train.failed.exit", code=rc, reason=_last_error(job))
    log.info("training job %s ended: %s", job.id, (events.read_json(job.status_json) or {}).get("state"))


def _signal_name(n: int) -> str:
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


def _last_error(job: Job) -> str:
    """The command line's own one-sentence error (never a traceback), or an empty string."""
    try:
        lines = job.log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((ln.removeprefix("error: ") for ln in reversed(lines) if ln.startswith("error: ")), "")


def stop(job: Job) -> bool:
    """Ask the job's process to stop after its current step; False if it is not running."""
    pid = job.request().get("pid")
    if not pid or not job.alive():
        return False
    job.update(stopping=True)
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    return True


def stop_all(timeout: float = STOP_GRACE_S) -> None:
    """Stop every job this worker started (the server is shutting down): each writes a checkpoint."""
    procs = list(_running.values())
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
