"""Many students training at once: 8 counting jobs on this machine while the explorer is being used.

Starts the real server (a subprocess) on models/ with a private jobs directory. One client traces new
200-character texts with `shakespeare-char` (the explorer's heaviest request: a full trace each time)
one after another, in blocks that alternate:
- idle: nobody trains (the anchor);
- jobs: N counting jobs with the page's defaults start at once, each from its own browser (cookie), and
  the block lasts until every job has ended.
Before the first block one counting job trains alone (no trace load): the time a student waits when
alone. Prints the trace p50/p95 of each block and p50 under jobs / p50 idle, each job's wall time from
POST to its end (what the page shows) and its CPU seconds, and `uptime` before and after.

Run: `python bench/train_jobs.py [--jobs 8] [--rounds 2] [--idle-requests 40]`.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.testing import start_server, stop_server  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
FALLBACK = "First Citizen: Before we proceed any further, hear me speak. All: Speak, speak. " * 400


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def texts(n: int, seed: int) -> list[str]:
    text = CORPUS.read_text() if CORPUS.exists() else FALLBACK
    rng = random.Random(seed)
    return [text[k : k + 200] for k in (rng.randrange(len(text) - 200) for _ in range(n))]


def trace_block(base: str, stop: threading.Event | None, n: int, seed: int) -> list[float]:
    """Latencies (ms) of new-text traces sent one after another: n of them, or until `stop` is set."""
    out = []
    with httpx.Client(base_url=base, timeout=120) as c:
        for text in texts(100_000, seed):
            if (stop is None and len(out) >= n) or (stop is not None and stop.is_set()):
                break
            t = time.perf_counter()
            r = c.post("/api/trace", json={"model": "shakespeare-char", "text": text})
            out.append((time.perf_counter() - t) * 1e3)
            assert r.status_code == 200, r.text
    return out


def run_jobs(base: str, n: int, seed: int) -> list[dict]:
    """Start n counting jobs at once, each from its own client; wait for all; their final statuses."""
    clients = [httpx.Client(base_url=base, timeout=60) for _ in range(n)]
    try:
        jobs = []
        for k, c in enumerate(clients):
            r = c.post("/api/train", json={"task": "counting", "seed": seed + k})
            assert r.status_code == 202, r.text
            jobs.append(r.json()["id"])
        ends = {}
        while len(ends) < n:
            for job, c in zip(jobs, clients, strict=True):
                if job not in ends:
                    st = c.get(f"/api/train/{job}").json()
                    if st["state"] in ("done", "stopped", "failed"):
                        ends[job] = st
            time.sleep(0.5)
        return [ends[j] for j in jobs]
    finally:
        for c in clients:
            c.close()


def under_jobs(base: str, n: int, r: int) -> tuple[list[dict], list[float]]:
    """(statuses of n jobs started at once, trace latencies measured until the last one ended)."""
    stop = threading.Event()
    lat: list[float] = []
    t = threading.Thread(target=lambda: lat.extend(trace_block(base, stop, 0, seed=100 + r)))
    t.start()
    try:
        return run_jobs(base, n, seed=10 * (r + 1)), lat
    finally:
        stop.set()
        t.join()


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[int(q) - 1] if len(xs) > 1 else xs[0]


def describe_jobs(label: str, statuses: list[dict]) -> None:
    walls = [s["elapsed"] for s in statuses]
    ok = sum(s["state"] == "done" and s["accuracy"] == 1.0 for s in statuses)
    print(f"  {label}: {ok}/{len(statuses)} reached 100% held-out accuracy; wall time from POST to end: "
          f"median {statistics.median(walls):.1f} s, max {max(walls):.1f} s; steps "
          f"{sorted(s['step'] for s in statuses)}; CPU s per job: "
          f"median {statistics.median(s['cpu'] for s in statuses):.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(ROOT / "models"))
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--idle-requests", type=int, default=40)
    args = ap.parse_args()
    print("before:", uptime())
    var = Path(tempfile.mkdtemp(prefix="gatescope-bench-var-"))
    base, proc = start_server(args.models, env={"GATESCOPE_VAR_DIR": str(var), "GATESCOPE_TRAIN_JOBS": str(args.jobs)})
    try:
        trace_block(base, None, 5, seed=99)  # warm the server
        describe_jobs("one job alone, nothing else on the server", run_jobs(base, 1, seed=0))
        idle, loaded, crowd = [], [], []
        for r in range(args.rounds):
            idle += trace_block(base, None, args.idle_requests, seed=r)
            statuses, lat = under_jobs(base, args.jobs, r)
            crowd += statuses
            loaded += lat
        idle += trace_block(base, None, args.idle_requests, seed=args.rounds)
        describe_jobs(f"{args.jobs} jobs at once ({args.rounds} rounds)", crowd)
        print("  trace of a new 200-character text, shakespeare-char, one client in sequence:")
        print(f"    idle:            n={len(idle):4d}  p50 {pct(idle, 50):7.1f} ms  p95 {pct(idle, 95):7.1f} ms")
        print(f"    {args.jobs} jobs training: n={len(loaded):4d}  p50 {pct(loaded, 50):7.1f} ms  "
              f"p95 {pct(loaded, 95):7.1f} ms")
        print(f"    p50 under jobs / p50 idle = {pct(loaded, 50) / pct(idle, 50):.2f}  (goal: at most 2)")
    finally:
        stop_server(proc)
        shutil.rmtree(var, ignore_errors=True)
        print("after: ", uptime())


if __name__ == "__main__":
    main()
