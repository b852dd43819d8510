"""Helpers for the training-job tests: reading a Server-Sent Events stream, waiting for a job, running a card."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from lstm_core import load_model
from tests.conftest import ROOT

JOB_TIMEOUT = 600  # seconds; generous: the machine is shared and jobs run at a lower priority


def sse(client: httpx.Client, path: str, timeout: float = JOB_TIMEOUT, headers: dict | None = None) -> list[dict]:
    """Every event of a stream until the server ends it: [{"id", "event", "data" (parsed JSON)}]."""
    out, current = [], {}
    with client.stream("GET", path, timeout=timeout, headers=headers or {}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if not line:
                if "data" in current:
                    current["data"] = json.loads(current["data"])
                    out.append(current)
                current = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(": ")
                current[field] = value
    return out


def wait(client: httpx.Client, job_id: str, states: tuple[str, ...], timeout: float = JOB_TIMEOUT,
         until=lambda st: True) -> dict:
    """Poll GET /api/train/{id} until the job is in one of `states` and `until(status)` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = client.get(f"/api/train/{job_id}").json()
        if st["state"] in states and until(st):
            return st
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not {states} within {timeout} s: {st}")


def run_card_command(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run a model card's `python -m app train ...` line as a person would, from an empty directory."""
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "app"], command
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=JOB_TIMEOUT)


def same_weights(a: Path, b: Path) -> None:
    """Every weight of two model files is bit-identical."""
    ma, mb = load_model(a), load_model(b)
    assert set(ma.lstm.params) == set(mb.lstm.params)
    for k, v in ma.lstm.params.items():
        assert v.dtype == mb.lstm.params[k].dtype and np.array_equal(v, mb.lstm.params[k]), k
    assert np.array_equal(ma.decoder_weight, mb.decoder_weight) and np.array_equal(ma.decoder_bias, mb.decoder_bias)
