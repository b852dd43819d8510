"""`serve --workers 2`, the real thing: the kernel hands each connection to either worker process, so a job
started through one is followed, stopped and kept through whichever answers. test_train_jobs.py does the
same with two servers chosen by hand; this checks that uvicorn's own worker processes share the jobs."""
from __future__ import annotations

import threading
import time

import httpx
import psutil
import pytest

from app.testing import start_server, stop_server
from tests.app.conftest import make_models
from tests.app.trainjobs import sse, wait

pytestmark = pytest.mark.slow
MAX_STREAMS = 24  # streams opened one by one until both workers hold one


def _serving(server: psutil.Process, port: int) -> set[int]:
    """Pids of the server's worker processes holding an open connection to `port`."""
    out = set()
    for w in server.children(recursive=True):
        try:
            if any(c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED for c in w.net_connections("tcp")):
                out.add(w.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def test_both_workers_stream_stop_and_keep_one_job(tmp_path):
    (tmp_path / "models").mkdir()
    make_models(tmp_path / "models")
    base, proc = start_server(tmp_path / "models", workers=2, env={"GATESCOPE_VAR_DIR": str(tmp_path / "var")})
    port = int(base.rsplit(":", 1)[1])
    streams: list[list[dict]] = []
    threads = []

    def follow(path: str) -> None:
        with httpx.Client(base_url=base, timeout=120) as c:  # a connection of its own: either worker takes it
            streams.append(sse(c, path))

    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            job = c.post("/api/train", json={"task": "brackets", "steps": 3000}).json()
            wait(c, job["id"], ("running",), until=lambda st: st["step"] > 0)
        serving: set[int] = set()
        while len(serving) < 2 and len(threads) < MAX_STREAMS:
            threads.append(threading.Thread(target=follow, args=(job["events"],)))
            threads[-1].start()
            time.sleep(0.5)
            serving = _serving(psutil.Process(proc.pid), port)
        assert len(serving) == 2, f"{len(threads)} streams, all held by one worker"
        with httpx.Client(base_url=base, timeout=60) as c:  # a fresh connection, either worker
            assert c.post(f"/api/train/{job['id']}/stop").status_code == 202
        for t in threads:
            t.join(timeout=120)
        assert len(streams) == len(threads)
        assert all(s[-1]["event"] == "stopped" for s in streams)
        assert len({tuple(e["id"] for e in s) for s in streams}) == 1  # every worker sent the same whole run
        with httpx.Client(base_url=base, timeout=60) as c:
            kept = c.post(f"/api/train/{job['id']}/keep", json={"name": "brackets, half-way"}).json()
        for _ in range(6):  # each new connection, whichever worker takes it, lists the model and traces with it
            with httpx.Client(base_url=base, timeout=60) as c:
                assert kept["id"] in [m["id"] for m in c.get("/api/models").json()["models"]]
                assert c.post("/api/trace", json={"model": kept["id"], "text": "(())"}).status_code == 200
    finally:
        stop_server(proc)
