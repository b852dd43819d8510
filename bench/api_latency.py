"""End-to-end latency of POST /api/trace over real HTTP, against the in-process trace of the same text.

Starts the real server (`python -m app serve`, a subprocess on a free 127.0.0.1 port) on models/,
picks `shakespeare-char` (else the largest model there, and says so) and a 200-character text, then
drives it from N concurrent async clients, each run bounded in requests and in seconds:
- same:   every client sends the same text (a classroom typing the teacher's sentence);
- typing: each client types its own passages one character at a time, from 150 to 200 characters,
          then starts the next (what the page does: the prefix-state cache runs only the new step;
          one request in 51 traces a new passage's 150 characters in full);
- cold:   every request a 200-character text never seen before (a full trace each time).
Prints p50/p95/p99, requests/s, errors, p50 divided by the in-process `model.trace_text` time of the
same 200 characters (measured in this run while the server idles), and the server's CPU time per
request, also divided by the CPU time of the in-process trace (CPU times, unlike latencies, hardly
depend on what else the machine runs); then response bytes per recorded value for each encoding,
gzipped as served and raw. Loopback only.

Run: `python bench/api_latency.py [--models DIR] [--model ID] [--clients 1,8,32] [--requests 160]`.
"""
from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import signal
import statistics
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.testing import start_server, stop_server  # noqa: E402
from lstm_core import ModelError, load_model  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
FALLBACK = ("First Citizen: Before we proceed any further, hear me speak. All: Speak, speak. First Citizen: "
            "You are all resolved rather to die than to famish? All: Resolved. resolved. First Citizen: First, "
            "you know Caius Marcius is chief enemy to the people. ")


def pick_model(model_dir: Path, wanted: str | None) -> tuple[str, object, str]:
    """(id, model, why) for the requested model, shakespeare-char, or else the largest that loads."""
    found = {}
    for path in sorted(model_dir.glob("*.safetensors")):
        try:
            found[path.stem] = load_model(path)
        except ModelError as e:
            print(f"  (skipping {path.name}: {e})")
    if not found:
        raise SystemExit(f"no loadable models in {model_dir}; train one or pass --models DIR")
    if wanted:
        if wanted not in found:
            raise SystemExit(f"no model {wanted!r} in {model_dir}; have {', '.join(found)}")
        return wanted, found[wanted], "as requested"
    if "shakespeare-char" in found:
        return "shakespeare-char", found["shakespeare-char"], "the reference model"
    best = max(found, key=lambda k: found[k].num_parameters)
    return best, found[best], "shakespeare-char is not in the directory; this is the largest model there"


def corpus() -> str:
    return CORPUS.read_text() if CORPUS.exists() else FALLBACK * 200


def in_process_ms(model, text: str, reps: int = 15) -> float:
    """Median `model.trace_text` time, with 1 or 2 BLAS threads, whichever is faster (the server uses 1)."""
    model.trace_text(text)  # warm
    ts: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(reps):
        for n in ts:  # interleaved, so that noise from other processes hits both
            with threadpool_limits(n, user_api="blas"):
                t = time.perf_counter()
                model.trace_text(text)
                ts[n].append(time.perf_counter() - t)
    return min(statistics.median(v) for v in ts.values()) * 1e3


async def drive(base: str, bodies: list[list[dict]], max_requests: int, max_seconds: float) -> dict:
    """Each client sends its own list of bodies in order; all stop at max_requests or max_seconds."""
    lat: list[float] = []
    errors: list[str] = []
    sent = 0
    deadline = time.perf_counter() + max_seconds

    async def client(mine: list[dict]) -> None:
        # Its own keep-alive connection, like one browser: with --workers N it stays with one process.
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=1),
                                     headers={"Accept-Encoding": "gzip"}) as c:
            await session(c, mine)

    async def session(c: httpx.AsyncClient, mine: list[dict]) -> None:
        nonlocal sent
        for body in mine:
            if sent >= max_requests or time.perf_counter() > deadline:
                return
            sent += 1
            t = time.perf_counter()
            try:
                async with c.stream("POST", "/api/trace", json=body) as r:
                    n = 0
                    async for chunk in r.aiter_raw():  # wire bytes; not decompressed, to spare the CPU
                        n += len(chunk)
                    if r.status_code != 200 or n == 0:
                        errors.append(f"HTTP {r.status_code}")
                        continue
            except httpx.HTTPError as e:
                errors.append(type(e).__name__)
                continue
            lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(client(mine) for mine in bodies))
    wall = time.perf_counter() - t0
    ms = np.array(lat) * 1e3
    pct = np.percentile(ms, [50, 95, 99]) if len(ms) else [float("nan")] * 3
    return {"n": len(lat), "errors": errors, "p50": pct[0], "p95": pct[1], "p99": pct[2], "rps": len(lat) / wall}


def in_process_cpu_ms(model, text: str, reps: int = 15) -> float:
    """Median CPU time of `model.trace_text` with one BLAS thread, as the server runs it."""
    with threadpool_limits(1, user_api="blas"):
        model.trace_text(text)
        ts = []
        for _ in range(reps):
            t = time.process_time()
            model.trace_text(text)
            ts.append(time.process_time() - t)
    return statistics.median(ts) * 1e3


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of the server and its worker processes so far (Linux /proc; else nan)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    try:
        pids = [pid] + [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                        and _field(p / "stat", 3) == pid]
        for q in pids:
            total += (_field(Path(f"/proc/{q}/stat"), 13) + _field(Path(f"/proc/{q}/stat"), 14)) / tick
    except (OSError, ValueError):
        return float("nan")
    return total


def _field(stat: Path, k: int) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[k - 2])  # fields after "pid (comm)"
    except (OSError, IndexError, ValueError):
        return -1


def scenario_bodies(kind: str, model_id: str, text: str, source: str, clients: int, n: int,
                    run: int) -> list[list[dict]]:
    """Request bodies per client; `run` keeps typing and cold texts distinct from earlier runs' (no cache hits)."""
    def req(t: str) -> dict:
        return {"model": model_id, "text": t, "format": "compact"}

    per = n // clients + 1
    if kind == "same":
        return [[req(text)] * per for _ in range(clients)]
    if kind == "typing":  # 150 to 200 characters of one passage, then the next passage: never a repeat
        starts = [(7919 * (1000 * run + c + 1)) % (len(source) - 400) for c in range(clients)]
        return [[req(source[s + 997 * (j // 51):][:150 + j % 51]) for j in range(per)] for s in starts]
    # cold: every text distinct across all clients
    return [[req(source[(104729 * (100000 * run + c * per + j + 1)) % (len(source) - 400):][:200])
             for j in range(per)] for c in range(clients)]


def wire_sizes(base: str, model, model_id: str, text: str) -> list[tuple[str, int, int, int]]:
    """(encoding, recorded values, gzipped bytes as served, raw bytes) for one 200-character trace."""
    cfg = model.lstm.config
    out = []
    for fmt in ("compact", "json"):
        body = {"model": model_id, "text": text + " ", "format": fmt}  # a text no scenario has cached
        with httpx.Client(base_url=base, timeout=120, headers={"Accept-Encoding": "gzip"}) as c, \
                c.stream("POST", "/api/trace", json=body) as r:
            gz = b"".join(r.iter_raw())
            assert r.headers.get("content-encoding") == "gzip", "the server did not gzip"
        raw = len(gzip.decompress(gz))
        T = len(model.encode(text + " ").tokens)
        values = cfg.num_layers * cfg.num_directions * T * (5 * cfg.hidden_size + cfg.output_size)
        out.append((fmt, values, len(gz), raw))
    return out


def main() -> int:
    # SIGTERM (a timeout, a CI cancel) must still run the `finally` that stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--model", help="model id (default: shakespeare-char, else the largest)")
    ap.add_argument("--clients", default="1,8,32", help="comma-separated concurrency levels")
    ap.add_argument("--requests", type=int, default=160, help="requests per run (bounded)")
    ap.add_argument("--seconds", type=float, default=60, help="time limit per run (bounded)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--scenarios", default="same,typing,cold")
    a = ap.parse_args()

    model_id, model, why = pick_model(a.models, a.model)
    source = corpus()
    text = source[1000:1200]
    cfg = model.lstm.config
    print(f"model: {model_id} ({why}): {cfg.num_layers} layer(s) x {cfg.num_directions} direction(s) x "
          f"{cfg.hidden_size} units, {model.num_parameters:,} parameters")
    print(f"text: 200 characters; server: {a.workers} worker(s) on 127.0.0.1; machine cores: "
          f"{os.cpu_count()}")
    base, proc = start_server(a.models, workers=a.workers)
    try:
        anchor = [in_process_ms(model, text)]
        anchor_cpu = [in_process_cpu_ms(model, text)]
        print(f"in-process model.trace_text, 200 characters: {anchor[0]:.1f} ms "
              "(median of 15, with 1 or 2 BLAS threads, whichever is faster)\n")
        print(f"{'scenario':8} {'clients':>7} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'p99 ms':>8} {'req/s':>7} {'p50/trace':>9} {'server CPU ms/req':>17} {'CPU/trace CPU':>13}")
        total_errors = 0
        run = 0
        for kind in a.scenarios.split(","):
            for n in (int(x) for x in a.clients.split(",")):
                run += 1
                bodies = scenario_bodies(kind, model_id, text, source, n, a.requests, run)
                asyncio.run(drive(base, [[b[0]] for b in bodies[:1]], 2, 30))  # warm the connection
                cpu0 = server_cpu_s(proc.pid)
                r = asyncio.run(drive(base, bodies, a.requests, a.seconds))
                cpu_ms = (server_cpu_s(proc.pid) - cpu0) / max(r["n"], 1) * 1e3
                anchor.append(in_process_ms(model, text, reps=5))  # re-measured side by side, server idle
                anchor_cpu.append(in_process_cpu_ms(model, text, reps=5))
                ref, ref_cpu = statistics.median(anchor), statistics.median(anchor_cpu)
                total_errors += len(r["errors"])
                print(f"{kind:8} {n:7d} {r['n']:8d} {len(r['errors']):6d} {r['p50']:8.1f} {r['p95']:8.1f} "
                      f"{r['p99']:8.1f} {r['rps']:7.1f} {r['p50'] / ref:9.2f} {cpu_ms:17.1f} "
                      f"{cpu_ms / ref_cpu:13.2f}")
                if r["errors"]:
                    print(f"         errors: {sorted(set(r['errors']))}")
        print(f"\nin-process trace time used for the ratios: {statistics.median(anchor):.1f} ms "
              f"(median of {len(anchor)} medians, min {min(anchor):.1f}, max {max(anchor):.1f}); its CPU time "
              f"with one BLAS thread: {statistics.median(anchor_cpu):.1f} ms. CPU times do not grow with the "
              "machine's other load the way wall times do.")
        print("\nbytes per recorded value (i, f, g, o, c, h over every layer, direction, step and unit), "
              "one 201-character trace with top-5 predictions:")
        for fmt, values, gz, raw in wire_sizes(base, model, model_id, text):
            print(f"  {fmt:8} {values:9,d} values  {gz:10,d} B gzipped = {gz / values:5.2f} B/value   "
                  f"raw {raw:10,d} B = {raw / values:5.2f} B/value")
        print(f"\ntotal errors: {total_errors}")
        return 1 if total_errors else 0
    finally:
        stop_server(proc)


if __name__ == "__main__":
    raise SystemExit(main())
