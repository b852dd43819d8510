"""A job's directory and what any worker reads from it: the request, the status, whether its process lives.

Whether the training process still runs is told by its lock: the process holds an exclusive flock on
`lock` from the moment it is started until it ends, however it ends (the kernel drops the lock of a
killed process), so no process id can be mistaken for another after reuse. The kernel frees that lock as the
process dies, before the worker that started it has reaped it and read how it ended; that worker holds `watch`
(a shared flock) until its supervisor has written the verdict (a signal, an exit code). A job whose status says
it runs, whose lock is free and whose watch no worker holds (the server that started it is gone too) has died
without a word: the first reader to see it marks it failed.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.i18n import translate
from app.jobs import events

ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Job:
    """The files of one job; `root` is `<jobs dir>/<id>`."""

    root: Path

    @property
    def id(self) -> str:
        return self.root.name

    job_json = property(lambda self: self.root / "job.json")
    status_json = property(lambda self: self.root / "status.json")
    events = property(lambda self: self.root / "events.jsonl")
    lock = property(lambda self: self.root / "lock")
    watch = property(lambda self: self.root / "watch")
    log = property(lambda self: self.root / "log.txt")
    model = property(lambda self: self.root / "model.safetensors")
    checkpoint = property(lambda self: self.root / "ckpt.safetensors")

    def request(self) -> dict:
        return events.read_json(self.job_json) or {}

    def update(self, **fields) -> dict:
        """Change fields of job.json; workers may do it at once, so under a lock of its own."""
        fd = os.open(self.root / ".job.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = {**self.request(), **fields}
            events.write_json(self.job_json, data)
        finally:
            os.close(fd)
        return data

    def alive(self) -> bool:
        """True while the training process holds the lock."""
        return _held(self.lock, fcntl.LOCK_SH)

    def watched(self) -> bool:
        """True while a worker's supervisor waits for the process to end, or has not yet said how it ended."""
        return _held(self.watch, fcntl.LOCK_EX)  # supervisors share the lock: an old run's may still be finishing

    def status(self) -> dict:
        """The latest status; a job that claims to run but whose process is gone becomes failed here."""
        st = events.read_json(self.status_json) or {"state": "starting"}
        if st.get("state") in events.ACTIVE and not self.alive() and not self.watched():
            st = events.read_json(self.status_json) or st  # it may have finished between the two reads
            if st.get("state") in events.ACTIVE:
                st = self.finish("failed", st, key="train.failed.vanished")
        return st

    def finish(self, state: str, st: dict, key: str | None = None, **params) -> dict:
        """End the job from outside its process (it died, or ran out of time): a last event and the status.

        The sentence is catalog message `key` with `params`, in English in `detail` for logs and scripts;
        the API and the page say it in the reader's language.
        """
        said = {"key": key, "params": params, "detail": translate("en", key, **params)} if key else {}
        events.append(self.events, {"type": state, "step": st.get("step", 0), **said})
        st = {**st, "state": state, "ended": time.time(), **said}
        events.write_json(self.status_json, st)
        return st


def _held(path: Path, mode: int) -> bool:
    """True when taking flock `mode` on `path` would wait: another open file holds a lock that excludes it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we took
    return False


def new_job(jobs_dir: Path) -> Job:
    jobs_dir.mkdir(parents=True, exist_ok=True)
    root = jobs_dir / secrets.token_hex(16)
    root.mkdir()
    return Job(root)


def find(jobs_dir: Path, job_id: str) -> Job | None:
    """The job with this id, or None; an id that is not 32 hex digits never becomes a path."""
    if not ID.match(job_id):
        return None
    root = jobs_dir / job_id
    return Job(root) if (root / "job.json").is_file() else None


def every(jobs_dir: Path) -> list[Job]:
    """Every job, oldest first."""
    if not jobs_dir.is_dir():
        return []
    found = [Job(p) for p in jobs_dir.iterdir() if ID.match(p.name) and (p / "job.json").is_file()]
    return sorted(found, key=lambda j: j.request().get("created", 0))


@contextlib.contextmanager
def admission(jobs_dir: Path) -> Iterator[None]:
    """One worker at a time counts the running jobs and starts one (every worker shares the directory)."""
    jobs_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(jobs_dir / ".admission", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def prune(jobs_dir: Path, keep: int, max_age_s: float) -> None:
    """Delete finished jobs beyond the newest `keep` and those older than `max_age_s` (call under admission)."""
    done = [j for j in every(jobs_dir) if events.read_json(j.status_json) and not j.alive()
            and (events.read_json(j.status_json) or {}).get("state") in events.TERMINAL]
    now = time.time()
    old = [j for j in done if now - j.request().get("created", now) > max_age_s]
    extra = done[: max(0, len(done) - keep)]
    for job in {j.root: j for j in old + extra}.values():
        shutil.rmtree(job.root, ignore_errors=True)
