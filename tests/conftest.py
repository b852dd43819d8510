"""Fixtures shared by every test package."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# Starlette's TestClient sends `Host: testserver`; the server answers only names it is told about (app/guard.py).
os.environ.setdefault("GATESCOPE_ALLOWED_HOSTS", "testserver")
# A server warms numba's compiled step in a thread at start, its traces taking the NumPy path meanwhile
# (lstm_core/jitcell.py); values then differ in their last bits from one trace to the next, which tests that
# compare answers bit for bit across requests would see. Off here; tests/app/test_jit_warm.py turns it on.
os.environ.setdefault("GATESCOPE_JIT_WARM", "0")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"


def need_shared(rel: str) -> Path:
    """Path of a file under ../shared; skip with a reason outside CI, fail under CI=true."""
    p = SHARED / rel
    if not p.exists():
        msg = f"../shared/{rel} is not here (a fresh clone has no ../shared)"
        if IN_CI:
            pytest.fail(msg + " and CI=true requires it")
        pytest.skip(msg)
    return p


def need_module(name: str):
    """Import a test-only dependency; skip with a reason outside CI, fail under CI=true."""
    try:
        return __import__(name)
    except ImportError:
        msg = f"{name} is not installed (pip install -r requirements-dev.txt)"
        if IN_CI:
            pytest.fail(msg + " and CI=true requires it")
        pytest.skip(msg, allow_module_level=True)


# `python -m pytest -n auto` (the README's test command) runs one worker per core, at most MAX_WORKERS: every worker
# starts its own live servers, Chromium and torch (about 1.5 GB), so a many-core CI machine must not start dozens.
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))
