"""How late the event loop gets the GIL while traces run in threads, at several GIL switch intervals.

The server answers /api/health on its event loop while worker threads trace and encode. A thread holding the GIL
gives it up only when another thread has waited for it for the interpreter's switch interval (sys.setswitchinterval;
Python's default 5 ms, the server's GATESCOPE_SWITCH_INTERVAL_MS). Here an asyncio loop sleeps 1 ms at a time and
records how late it wakes, beside two threads tracing random texts of a shipped model and encoding them as the
server does (compact, gzipped); each interval is timed in its own block, blocks alternate over --rounds. Printed per
block: the loop's lateness p50 / p99 / max (ms) and the threads' work per CPU second (characters traced and
encoded), so that a shorter interval's cost shows too. One process, no server, one BLAS thread.

Run: `python bench/gil_wait.py [--model shakespeare-char] [--seconds 8] [--rounds 3] [--intervals 5,1,0.5]`.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from threadpoolctl import threadpool_limits  # noqa: E402

from app.serialize import compact, wire_bytes  # noqa: E402
from lstm_core import Trace, load_model  # noqa: E402

SEED = ROOT.parent / "shared" / "seed" / "lstm-notes.md"
FALLBACK = "First Citizen: Before we proceed any further, hear me speak. All: Speak, speak. " * 40


def worker(model, material: str, stop: threading.Event, done: list, rng: random.Random) -> None:
    """Trace a text of 10 to 1,000 characters and encode it as the server's compact answer, until stopped."""
    while not stop.is_set():
        n = int(10 ** rng.uniform(1, 3))
        tr = model.run(model.encode(material[:n], False).ids)
        wire_bytes({q: compact(tr.gate(q)) for q in Trace.GATES}, True)
        done.append(n)


async def lateness(seconds: float) -> list[float]:
    late, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        await asyncio.sleep(0.001)
        late.append(time.perf_counter() - t - 0.001)
    return sorted(late)


def block(model, material: str, interval_ms: float, seconds: float) -> dict:
    sys.setswitchinterval(interval_ms / 1000)
    stop, done = threading.Event(), []
    threads = [threading.Thread(target=worker, args=(model, material, stop, done, random.Random(k))) for k in range(2)]
    cpu = time.process_time()
    for t in threads:
        t.start()
    late = asyncio.run(lateness(seconds))
    stop.set()
    for t in threads:
        t.join()
    cpu = time.process_time() - cpu
    return {"p50": late[len(late) // 2] * 1e3, "p99": late[int(0.99 * len(late))] * 1e3, "max": late[-1] * 1e3,
            "chars_per_cpu_s": sum(done) / cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="shakespeare-char")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--intervals", default="5,1,0.5", help="switch intervals in ms, the first is the anchor")
    a = ap.parse_args()
    threadpool_limits(1, user_api="blas")
    model = load_model(ROOT / "models" / f"{a.model}.safetensors")
    material = SEED.read_text(errors="replace") if SEED.exists() else FALLBACK
    intervals = [float(x) for x in a.intervals.split(",")]
    block(model, material, intervals[0], 2)  # warm-up
    for r in range(a.rounds):
        rows = {iv: block(model, material, iv, a.seconds) for iv in intervals}
        load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"round {r + 1} ({load})")
        anchor = rows[intervals[0]]
        for iv, x in rows.items():
            ratio, work = x["p99"] / anchor["p99"], x["chars_per_cpu_s"] / anchor["chars_per_cpu_s"]
            print(f"  switch interval {iv:g} ms: loop late p50 {x['p50']:.2f} / p99 {x['p99']:.1f} / "
                  f"max {x['max']:.0f} ms ({ratio:.2f}x the anchor's p99); work {x['chars_per_cpu_s']:,.0f} "
                  f"chars per CPU second ({work:.2f}x)")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
