"""Memory after load (app/memory.py, GET /api/health/memory): free heap pages handed back once the server is idle,
and the caches' own byte counts, over real HTTP."""
from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from app.memory import MALLOC_TRIM
from app.testing import start_server, stop_server
from tests.conftest import ROOT

# 200 MB in 100 kB blocks (below glibc's mmap threshold, so from the heap), each followed by a small block that is
# kept: free() can then hand back nothing (only a heap's top is returned), which is what the server's worker
# threads leave behind after a burst of traces.
FRAGMENTED = """
import psutil
from app.memory import trim
p = psutil.Process()
blocks, pins = [], []
for _ in range(2000):
    blocks.append(bytearray(100_000))
    pins.append(bytearray(2000))
full = p.memory_info().rss
del blocks
freed = p.memory_info().rss
trim()
print(full >> 20, freed >> 20, p.memory_info().rss >> 20)
"""


@pytest.mark.skipif(MALLOC_TRIM is None, reason="malloc_trim is glibc's; elsewhere trim() is a no-op by design")
def test_trim_hands_back_the_free_pages_that_free_keeps():
    out = subprocess.run([sys.executable, "-c", FRAGMENTED], capture_output=True, text=True, cwd=ROOT, timeout=120)
    full, freed, trimmed = map(int, out.stdout.split())
    assert freed > full - 50  # free() alone gave back (almost) nothing
    assert trimmed < freed - 150  # the 200 MB freed went back to the system


def _memory(c: httpx.Client) -> dict:
    r = c.get("/api/health/memory")
    assert r.status_code == 200
    return r.json()


@pytest.fixture(scope="module")
def trimming(model_dir):
    base, proc = start_server(model_dir, env={"GATESCOPE_IDLE_TRIM_SECONDS": "0.3"})
    with httpx.Client(base_url=base, timeout=30) as c:
        yield c
    stop_server(proc)


def test_caches_report_their_own_bytes(trimming):
    before = _memory(trimming)
    text = "the quick brown fox"
    r = trimming.post("/api/trace", json={"model": "tiny-char", "text": text},
                      headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    after = _memory(trimming)
    assert after["trace_entries"] == before["trace_entries"] + 1
    assert after["text_entries"] == before["text_entries"] + 1
    assert after["response_entries"] == before["response_entries"] + 1
    # The answer kept is the answer sent; the trace kept holds at least i, f, g, o, c, h in float32 (2 layers of 8).
    assert after["response_bytes"] - before["response_bytes"] == len(r.content)
    assert after["trace_bytes"] - before["trace_bytes"] >= 6 * 2 * len(text) * 8 * 4


def test_the_idle_server_trims_after_its_last_post_and_not_for_gets(trimming):
    before = _memory(trimming)["trims"]  # an earlier test's POST may still be trimmed after this: one more, at most
    assert trimming.post("/api/trace", json={"model": "tiny-char", "text": "abc"}).status_code == 200
    deadline = time.monotonic() + 30
    while (after := _memory(trimming)["trims"]) == before:
        assert time.monotonic() < deadline, "no trim after the server went idle"
        time.sleep(0.1)
    time.sleep(1)
    after = _memory(trimming)["trims"]
    assert before < after <= before + 2
    for _ in range(10):  # GETs only: nothing allocated, nothing to trim again
        assert trimming.get("/api/health").status_code == 200
        time.sleep(0.1)
    assert _memory(trimming)["trims"] == after


def test_the_long_lived_objects_are_frozen_at_start_and_once_the_first_traces_have_added_more(model_dir):
    """Full garbage collections skip what is frozen (app/memory.py): the modules and models from start-up on; the
    objects the first traces create for good (numba's compilations, modules imported on first use) once the
    server is idle. A GIL held for a walk of every object was what kept /api/health waiting under load."""
    base, proc = start_server(model_dir, env={"GATESCOPE_IDLE_TRIM_SECONDS": "0.3"})  # its first traces are these
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            frozen = _memory(c)["frozen"]
            assert frozen > 20_000  # FastAPI, pydantic, NumPy alone are more than that
            for text, fmt in (("a first text, traced", "compact"), ("another one, of another length", "json")):
                assert c.post("/api/trace", json={"model": "tiny-char", "text": text, "format": fmt}).status_code == 200
            deadline = time.monotonic() + 30
            while (now := _memory(c)["frozen"]) <= frozen:
                assert time.monotonic() < deadline, "nothing more frozen after the server went idle"
                time.sleep(0.2)
    finally:
        stop_server(proc)
    print(f"frozen: {frozen} at start, {now} once idle")


def test_no_trim_and_nothing_frozen_when_turned_off(model_dir):
    base, proc = start_server(model_dir, env={"GATESCOPE_IDLE_TRIM_SECONDS": "0", "GATESCOPE_GC_FREEZE": "0"})
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            assert c.post("/api/trace", json={"model": "tiny-char", "text": "abc"}).status_code == 200
            time.sleep(1.5)
            assert _memory(c)["trims"] == 0 and _memory(c)["frozen"] == 0
    finally:
        stop_server(proc)
