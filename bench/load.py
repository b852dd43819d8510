"""Load: N clients for a bounded time against a real server, with health probes and the server's memory.

Starts `python -m app serve` (a subprocess on a free 127.0.0.1 port, default settings unless --env) on a model
directory, warms it up with the same mix in blocks of --warmup seconds until its caches stop growing (they fill to
their bounds: the steady state) and records the resident memory then as the warm baseline. Then N async clients,
each on its own connection, send POST /api/trace for --seconds: a mix of the teacher's sentence (the same text from
everyone), typing (one more character of the client's own passage each time), and new texts of 10 to 2,000
characters, 1 in 8 of them as format=json; meanwhile a prober in a process of its own opens a fresh connection for
GET /api/health every 100 ms (what a new visitor or a monitor sees: a prober inside the clients' event loop also
timed that loop, busy decompressing up to 60 MB answers, and measured health p50 265-342 ms where its own process
measured 24-27 ms in the same runs), and the server's resident memory (all its processes) is sampled every 50 ms.
After the clients stop it idles --idle seconds and samples memory again. The CPU the clients and the server used
during the run is printed in cores, since on a small machine the clients' own share is taken from the server.
Beside each memory figure it reads GET /api/health/memory, the server's caches by their own byte counts (traces,
the texts kept for delta answers, encoded answers), so that growth of resident memory can be told apart from the
caches filling up. `--root DIR` serves another checkout's app (main against a branch, A/B, with this script's
clients).

Prints requests/s, latency p50/p99, errors by status, health p50/p99/max, resident memory at the warm baseline,
peak and end, the machine's load (`uptime`) before and after, and the goals: no errors, health p99 under
100 ms, the peak under --ceiling-mb, and the end within 10% of the warm baseline, both as measured and with the
caches set aside (resident memory less the caches' own bytes: the caches are bounded by their settings and may
still be filling when the warm baseline is taken; what is left is what could leak). `--json` prints one JSON
object instead (the test suite's small load run reads it). Loopback only.

Run: `python bench/load.py [--clients 64] [--seconds 60] [--models DIR] [--model ID] [--workers 1] [--root DIR]`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.testing import start_server, stop_server  # noqa: E402

SEED = ROOT.parent / "shared" / "seed" / "lstm-notes.md"
TEACHER = "我来自内蒙古，我能讲一口流利的蒙古语。I grew up in France... I speak fluent French."
FALLBACK = ("First Citizen: Before we proceed any further, hear me speak. All: Speak, speak. First Citizen: You are "
            "all resolved rather to die than to famish? All: Resolved. resolved. ") * 40


def texts() -> str:
    """Material for the clients' texts (the seed notes if present; any text does)."""
    return SEED.read_text(errors="replace") * 3 if SEED.exists() else FALLBACK


def pick_model(base: str, wanted: str | None) -> str:
    models = httpx.get(base + "/api/models", timeout=30).json()["models"]
    ids = [m["id"] for m in models if m["input"] != "vector"]
    if wanted:
        return wanted
    return "shakespeare-char" if "shakespeare-char" in ids else max(models, key=lambda m: m["parameters"])["id"]


def rss(pid: int) -> int:
    """Resident bytes of the server and its worker processes."""
    try:
        p = psutil.Process(pid)
        return sum(q.memory_info().rss for q in [p, *p.children(recursive=True)])
    except psutil.Error:
        return 0


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def client(k: int, base: str, model: str, material: str, until: float, out: list, rng: random.Random):
    """One student: the teacher's sentence, typing its own passage, or a new text; 1 in 8 as format=json."""
    start = rng.randrange(0, len(material) - 2100)
    typed = rng.randrange(20, 200)
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        while time.monotonic() < until:
            r = rng.random()
            if r < 0.3:
                text = TEACHER
            elif r < 0.75:
                typed = typed + 1 if typed < 400 else 20
                text = material[start : start + typed]
            else:
                n = int(10 ** rng.uniform(1, 3.3))  # 10 to 2,000 characters, most of them short
                at = rng.randrange(0, len(material) - n)
                text = material[at : at + n]
            body = {"model": model, "text": text, "format": "json" if rng.random() < 0.125 else "compact"}
            t = time.perf_counter()
            try:
                resp = await c.post("/api/trace", json=body, headers={"Accept-Encoding": "gzip"})
                status = resp.status_code
            except httpx.HTTPError as e:
                status = type(e).__name__
            out.append((time.perf_counter() - t, status))


def probe(base: str, seconds: float) -> list[tuple[float, bool, float]]:
    """GET /api/health on a fresh connection every 100 ms for `seconds` (run in its own process: `--probe`): each
    probe's latency, success and start (time.perf_counter(), the monotonic clock the server's process shares)."""
    out, until = [], time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as c:
        while time.monotonic() < until:
            t = time.perf_counter()
            try:
                ok = c.get("/api/health").status_code == 200
            except httpx.HTTPError:
                ok = False
            out.append((time.perf_counter() - t, ok, t))
            time.sleep(0.1)
    return out


def cpu_seconds(p: psutil.Process, children: bool) -> float:
    """User + system CPU time of a process, and of its children if asked (the server is a child of this one)."""
    try:
        return sum(t.user + t.system for t in (q.cpu_times() for q in [p, *(p.children(True) if children else [])]))
    except psutil.Error:
        return 0.0


CACHES = ("trace_bytes", "text_bytes", "response_bytes")


def caches(base: str) -> dict:
    """The server's cache sizes in MB (GET /api/health/memory), or {} from a server that has no such route."""
    try:
        r = httpx.get(base + "/api/health/memory", timeout=30)
    except httpx.HTTPError:
        return {}
    return {k: r.json()[k] / 2**20 for k in CACHES} if r.status_code == 200 else {}


async def sampler(pid: int, base: str, stop: asyncio.Event, out: list, cached: list) -> None:
    """Resident memory every 50 ms; the caches' sizes every second (a request, so less often)."""
    n = 0
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        while not stop.is_set():
            out.append(rss(pid))
            if n % 20 == 0:
                try:
                    r = await c.get("/api/health/memory")
                    if r.status_code == 200:
                        cached.append(r.json())
                except httpx.HTTPError:
                    pass
            n += 1
            await asyncio.sleep(0.05)


async def run(base: str, pid: int, model: str, clients: int, seconds: float, seed: int) -> dict:
    material = texts()
    rng = random.Random(seed)
    results, memory, cached = [], [], []
    stop = asyncio.Event()
    mem = asyncio.create_task(sampler(pid, base, stop, memory, cached))
    until = time.monotonic() + seconds
    me, server = psutil.Process(), psutil.Process(pid)
    cpu0 = cpu_seconds(me, False), cpu_seconds(server, True)
    prober = subprocess.Popen([sys.executable, __file__, "--probe", base, "--seconds", str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    t0 = time.perf_counter()
    await asyncio.gather(*(client(k, base, model, material, until, results, random.Random(rng.random()))
                           for k in range(clients)))
    wall = time.perf_counter() - t0
    cpu = (cpu_seconds(me, False) - cpu0[0]) / wall, (cpu_seconds(server, True) - cpu0[1]) / wall
    health = [tuple(x) for x in json.loads(prober.communicate(timeout=seconds + 60)[0] or "[]")]
    stop.set()
    await mem
    lat = [t for t, s in results if s == 200]
    errors: dict[str, int] = {}
    for _, s in results:
        if s != 200:
            errors[str(s)] = errors.get(str(s), 0) + 1
    hl = [t for t, *_ in health]
    return {"requests": len(results), "rps": len(results) / wall, "p50_ms": pct(lat, 0.5) * 1e3,
            "p99_ms": pct(lat, 0.99) * 1e3, "errors": errors, "health_n": len(hl),
            "health_failed": sum(not ok for _, ok, _ in health), "health_p50_ms": pct(hl, 0.5) * 1e3,
            "health_p99_ms": pct(hl, 0.99) * 1e3, "health_max_ms": max(hl) * 1e3 if hl else float("nan"),
            "health_late": [(at, t * 1e3) for t, _, at in health if t > 0.05],  # (start, ms) of probes over 50 ms
            "peak_mb": max(memory) / 2**20 if memory else float("nan"), "client_cores": cpu[0], "server_cores": cpu[1],
            "cores": psutil.cpu_count(), "peak_caches_mb": {k: max(c[k] for c in cached) / 2**20 for k in CACHES}
            if cached else {}}


def warm_up(base: str, pid: int, model: str, a: argparse.Namespace) -> int:
    """Blocks of --warmup seconds of the same load until the caches stop growing (under 5% more bytes than after
    the block before, at most --warmup-blocks): the warm baseline is the server in its steady state, caches full
    to their bounds, not part-way through filling them. Returns the number of blocks run."""
    before = None
    for block in range(1, a.warmup_blocks + 1):
        asyncio.run(run(base, pid, model, a.clients, a.warmup, a.seed + block))
        now = sum(caches(base).values())
        if not now or (before is not None and now < 1.05 * before):
            return block  # a server without /api/health/memory (an older --root): one block
        before = now
    return a.warmup_blocks


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--model", help="model id (default: shakespeare-char, else the largest)")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=15, help="seconds per warm-up block")
    ap.add_argument("--warmup-blocks", type=int, default=8, help="at most this many, until the caches stop growing")
    ap.add_argument("--idle", type=float, default=5)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--ceiling-mb", type=float, default=1536)
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a server setting")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app is served (A/B)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--probe", metavar="URL", help=argparse.SUPPRESS)  # the health prober's own process
    a = ap.parse_args()
    if a.probe:
        print(json.dumps(probe(a.probe, a.seconds)))
        return
    env = dict(e.split("=", 1) for e in a.env)
    load_before = uptime()
    base, proc = start_server(a.models, workers=a.workers, env=env, root=a.root)
    try:
        model = pick_model(base, a.model)
        started_mb = rss(proc.pid) / 2**20
        warm_blocks = warm_up(base, proc.pid, model, a)
        time.sleep(a.idle)
        warm_mb, warm_caches = rss(proc.pid) / 2**20, caches(base)
        r = asyncio.run(run(base, proc.pid, model, a.clients, a.seconds, a.seed))
        time.sleep(a.idle)
        end_mb, end_caches = rss(proc.pid) / 2**20, caches(base)
    finally:
        stop_server(proc)
    r.update(model=model, clients=a.clients, seconds=a.seconds, workers=a.workers, started_mb=started_mb,
             warm_mb=warm_mb, end_mb=end_mb, ceiling_mb=a.ceiling_mb, load_before=load_before, load_after=uptime(),
             warm_caches_mb=warm_caches, end_caches_mb=end_caches, root=str(a.root), warm_blocks=warm_blocks)
    r["goals"] = {"no errors": not r["errors"] and not r["health_failed"],
                  "health p99 < 100 ms": r["health_p99_ms"] < 100,
                  f"peak < {a.ceiling_mb:.0f} MB": r["peak_mb"] < a.ceiling_mb,
                  "end within 10% of warm": r["end_mb"] <= 1.1 * r["warm_mb"]}
    if warm_caches and end_caches:  # the same with the bounded caches set aside (what is left is what could leak)
        r["warm_rest_mb"], r["end_rest_mb"] = warm_mb - sum(warm_caches.values()), end_mb - sum(end_caches.values())
        r["goals"]["end within 10% of warm, caches aside"] = r["end_rest_mb"] <= 1.1 * r["warm_rest_mb"]
    if a.json:
        print(json.dumps(r))
        return
    print(f"{a.clients} clients x {a.seconds:.0f} s on {model!r} ({a.workers} worker(s), {a.root}); "
          f"machine: {load_before}")
    print(f"  traces: {r['requests']} ({r['rps']:.1f}/s), p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
          f"errors {r['errors'] or 0}")
    print(f"  health: {r['health_n']} probes, p50 {r['health_p50_ms']:.1f} ms, p99 {r['health_p99_ms']:.1f} ms, "
          f"max {r['health_max_ms']:.1f} ms, failed {r['health_failed']} (from a process of its own)")
    print(f"  CPU used during the run: clients {r['client_cores']:.2f} cores, server {r['server_cores']:.2f} cores "
          f"(of {r['cores']})")
    print(f"  resident memory: started {started_mb:.0f} MB, warm {warm_mb:.0f} MB (after {warm_blocks} warm-up "
          f"block(s) of {a.warmup:.0f} s), peak {r['peak_mb']:.0f} MB, "
          f"end {end_mb:.0f} MB ({end_mb / warm_mb:.2f}x warm)")
    for when, c in (("warm", warm_caches), ("peak", r["peak_caches_mb"]), ("end", end_caches)):
        if c:  # peak: the largest of the samples taken each second during the run
            rest = f"; the rest {r[when + '_rest_mb']:.0f} MB" if when != "peak" else ""
            print(f"  caches {when}: traces {c['trace_bytes']:.0f} MB, texts {c['text_bytes']:.1f} MB, "
                  f"answers {c['response_bytes']:.0f} MB{rest}")
    print(f"  machine after: {r['load_after']}")
    for goal, ok in r["goals"].items():
        print(f"  goal {goal}: {'met' if ok else 'NOT MET'}")
    sys.exit(0 if all(r["goals"].values()) else 1)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
