"""Where the server's event loop stalls under bench/load.py's load, and what held it.

Serves the app through this script (`--serve`, a subprocess started like `python -m app serve`), which adds, in the
server process only and nothing to the app:
- a heartbeat on the event loop (sleep 5 ms, record how late it wakes): the loop's own view of a stall;
- a sampler thread that, whenever the heartbeat is more than --sample-ms overdue, records the Python stack of the
  loop's thread and the top frames of every other thread (sys._current_frames), and notes its own lateness (a
  sampler that wakes late means some thread kept the GIL);
- the duration of every loop callback over 5 ms (asyncio's Handle._run timed; what loop.slow_callback_duration
  reports in debug mode, without debug mode's other costs), and of each loop iteration's callbacks together;
- every full garbage collection and every other one over 2 ms (gc.callbacks), with its generation, its wall and
  CPU time and the thread it ran in.
Each event is a JSON line in a log. The driver warms the server up and runs bench/load.py's clients and health
prober (load.warm_up, load.run), then prints the load's figures, the late probes beside the loop's stalls at the
same moments, and for the longest stalls (over --stall-ms) what overlapped them. Loopback only.

Run: `python bench/loop_stalls.py [--clients 64] [--seconds 60] [--stall-ms 50] [--env NAME=VALUE] [--root DIR]`.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


class Recorder:
    """The server-side instruments: one JSON line per event, times in time.perf_counter() seconds (CLOCK_MONOTONIC
    on Linux, so comparable with the prober's process)."""

    def __init__(self, path: str, sample_ms: float, c_calls: bool = False) -> None:
        self.out, self.lock = open(path, "a", buffering=1), threading.Lock()  # noqa: SIM115
        self.sample_s, self.beat, self.loop_ident = sample_ms / 1e3, time.perf_counter(), threading.get_ident()
        self.gc_start: dict[int, float] = {}
        self.c_calls, self.c_start = c_calls, {}

    def write(self, **event) -> None:
        with self.lock:
            self.out.write(json.dumps(event) + "\n")

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop_ident = threading.get_ident()
        run, run_once = asyncio.events.Handle._run, loop._run_once  # type: ignore[attr-defined]

        def timed_run(handle) -> None:
            t = time.perf_counter()
            run(handle)
            if (d := time.perf_counter() - t) > 0.005:
                self.write(kind="callback", t=t, ms=d * 1e3, what=describe(handle))

        def timed_once() -> None:
            n, t = len(loop._ready), time.perf_counter()  # type: ignore[attr-defined]
            run_once()
            if (d := time.perf_counter() - t) > 0.02:
                self.write(kind="iteration", t=t, ms=d * 1e3, ready=n)

        asyncio.events.Handle._run = timed_run
        loop._run_once = timed_once  # type: ignore[method-assign]
        gc.callbacks.append(self.on_gc)
        if self.c_calls:  # every thread from now on, and the loop's: slows Python calls, so off unless asked
            threading.setprofile(self.on_call)
            sys.setprofile(self.on_call)
        loop.create_task(self.heartbeat())
        threading.Thread(target=self.sampler, daemon=True, name="stall-sampler").start()

    async def heartbeat(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            self.beat = now = time.perf_counter()
            if now - t - 0.005 > 0.01:
                self.write(kind="beat", t=t, ms=(now - t - 0.005) * 1e3)

    def sampler(self) -> None:
        while True:
            t = time.perf_counter()
            time.sleep(0.002)
            now = time.perf_counter()
            if now - self.beat > 0.005 + self.sample_s:
                frames = sys._current_frames()
                names = {th.ident: th.name for th in threading.enumerate()}
                loop = frames.get(self.loop_ident)
                others = {names.get(i, str(i)): frame_line(f) for i, f in frames.items()
                          if i not in (self.loop_ident, threading.get_ident())}
                self.write(kind="sample", t=now, overdue_ms=(now - self.beat) * 1e3, late_ms=(now - t - 0.002) * 1e3,
                           stack=stack_lines(loop) if loop else [], others=others)

    def on_call(self, frame, event: str, arg) -> None:
        """C functions called from Python that run over 20 ms (holding the GIL unless they release it)."""
        if event == "c_call":
            self.c_start[threading.get_ident()] = time.perf_counter()
        elif event in ("c_return", "c_exception"):
            t = self.c_start.pop(threading.get_ident(), None)
            if t is not None and (d := time.perf_counter() - t) > 0.02:
                self.write(kind="c_call", t=t, ms=d * 1e3, what=getattr(arg, "__qualname__", repr(arg))[:80],
                           thread=threading.current_thread().name, where=stack_lines(frame, 4))

    def on_gc(self, phase: str, info: dict) -> None:
        tid = threading.get_ident()
        if phase == "start":
            self.gc_start[tid] = time.perf_counter(), time.thread_time()
        elif tid in self.gc_start:
            t, cpu = self.gc_start.pop(tid)
            if (d := time.perf_counter() - t) > 0.002 or info["generation"] == 2:
                self.write(kind="gc", t=t, ms=d * 1e3, cpu_ms=(time.thread_time() - cpu) * 1e3,
                           generation=info["generation"], collected=info["collected"],
                           thread=threading.current_thread().name, objects=len(gc.get_objects(2)) if
                           info["generation"] == 2 else None)


def frame_line(f) -> str:
    return f"{Path(f.f_code.co_filename).name}:{f.f_lineno} {f.f_code.co_name}"


def stack_lines(f, depth: int = 14) -> list[str]:
    return [f"{Path(s.filename).name}:{s.lineno} {s.name}" for s in traceback.extract_stack(f)[-depth:]]


def describe(handle) -> str:
    cb = getattr(handle, "_callback", None)
    task = getattr(cb, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        return f"task {getattr(coro, '__qualname__', coro)}"
    return getattr(cb, "__qualname__", repr(cb))[:120]


def serve(log: str, sample_ms: float, c_calls: bool, argv: list[str]) -> None:
    """The server's process: `python -m app <argv>`, with the instruments installed when uvicorn builds the app
    (inside its running loop)."""
    import app.main
    from app.commands import main

    recorder, create = Recorder(log, sample_ms, c_calls), app.main.create_app

    def instrumented(*a, **k):
        recorder.install(asyncio.get_running_loop())
        return create(*a, **k)

    app.main.create_app = instrumented
    sys.argv = ["app", *argv]
    raise SystemExit(main())


def report(events: list[dict], late: list[tuple[float, float]], stall_ms: float, top: int) -> None:
    """Late probes beside the stalls, then the longest stalls and what overlapped them."""
    by = collections.defaultdict(list)
    for e in events:
        by[e["kind"]].append(e)
    beats = sorted(by["beat"], key=lambda e: e["t"])
    stalls = [b for b in beats if b["ms"] >= stall_ms]
    gcs = by["gc"]
    print(f"  loop heartbeat late > 10 ms: {len(beats)} times; >= {stall_ms:.0f} ms: {len(stalls)} "
          f"(max {max((b['ms'] for b in beats), default=0):.0f} ms)")
    for g in (0, 1, 2):  # generation 2: every one (the others over 2 ms); CPU: the collecting thread's, GIL held
        got = sorted((e for e in gcs if e["generation"] == g), key=lambda e: e["ms"])
        if got:
            ms, cpu = got[len(got) // 2]["ms"], sorted(e["cpu_ms"] for e in got)
            print(f"  gc generation {g}{' over 2 ms' if g < 2 else ''}: {len(got)}, median {ms:.0f} ms "
                  f"(CPU {cpu[len(cpu) // 2]:.0f} ms), max {got[-1]['ms']:.0f} ms (CPU {cpu[-1]:.0f} ms), "
                  f"CPU in all {sum(cpu):.0f} ms")
    slow = collections.Counter()
    for e in by["callback"]:
        slow[e["what"]] += 1
    calls = collections.defaultdict(list)
    for e in by["c_call"]:
        calls[(e["what"], e["where"][-1])].append(e["ms"])
    for (what, where), ms in sorted(calls.items(), key=lambda kv: -sum(kv[1]))[:8]:
        print(f"  C calls over 20 ms: {what} at {where}: {len(ms)}, max {max(ms):.0f} ms, total {sum(ms):.0f} ms")
    print("  callbacks over 5 ms: " + ", ".join(f"{w} x{n}" for w, n in slow.most_common(6)))

    def overlapping(kind: str, t0: float, t1: float) -> list[dict]:
        return [e for e in by[kind] if e["t"] < t1 and e["t"] + e.get("ms", 0) / 1e3 > t0]

    explained = 0
    for p_t, p_ms in late:
        t0, t1 = p_t, p_t + p_ms / 1e3
        hit = [b for b in beats if b["t"] < t1 and b["t"] + b["ms"] / 1e3 + 0.005 > t0]
        explained += bool(hit)
    print(f"  probes >= {stall_ms:.0f} ms: {len(late)}, of which {explained} overlap a late heartbeat")
    for b in sorted(stalls, key=lambda e: -e["ms"])[:top]:
        t0, t1 = b["t"], b["t"] + b["ms"] / 1e3 + 0.005
        print(f"\n  stall {b['ms']:.0f} ms at +{t0 - events[0]['t']:.1f} s")
        for g in overlapping("gc", t0, t1):
            print(f"    gc gen {g['generation']} {g['ms']:.0f} ms in {g['thread']} (collected {g['collected']}, "
                  f"{g['objects']} objects in gen 2)" if g["objects"] else
                  f"    gc gen {g['generation']} {g['ms']:.0f} ms in {g['thread']}")
        for c in overlapping("callback", t0, t1):
            print(f"    callback {c['ms']:.0f} ms: {c['what']}")
        for c in overlapping("c_call", t0, t1):
            print(f"    C call {c['ms']:.0f} ms in {c['thread']}: {c['what']} from {' < '.join(reversed(c['where']))}")
        for it in overlapping("iteration", t0, t1):
            print(f"    loop iteration {it['ms']:.0f} ms, {it['ready']} ready callbacks")
        samples = [s for s in by["sample"] if t0 <= s["t"] <= t1]
        leaf = collections.Counter(" < ".join(reversed(s["stack"][-3:])) for s in samples)
        for line, n in leaf.most_common(3):
            print(f"    loop thread x{n}: {line}")
        if samples:
            print(f"    sampler late up to {max(s['late_ms'] for s in samples):.0f} ms; other threads at the longest: "
                  + "; ".join(f"{k}: {v}" for k, v in max(samples, key=lambda s: s["late_ms"])["others"].items()))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":  # the server's own process: --serve LOG SAMPLE_MS app-args
        sys.path.insert(0, os.getcwd())  # the app of the checkout served (start_server's root), not this one's
        serve(sys.argv[2], float(sys.argv[3]), sys.argv[4] == "1", sys.argv[5:])
        return
    import load

    from app.testing import start_server, stop_server

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=Path, default=HERE.parent / "models")
    ap.add_argument("--model", help="model id (default: shakespeare-char, else the largest)")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=15, help="seconds per warm-up block")
    ap.add_argument("--warmup-blocks", type=int, default=8)
    ap.add_argument("--stall-ms", type=float, default=50, help="a stall to explain")
    ap.add_argument("--sample-ms", type=float, default=20, help="sample the loop's stack once it is this overdue")
    ap.add_argument("--c-calls", action="store_true", help="also time every C function called from Python (a "
                    "profile hook in every thread: slower, so the load differs; names what holds the GIL)")
    ap.add_argument("--top", type=int, default=12, help="stalls shown")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a server setting")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", type=Path, default=HERE.parent, help="the checkout whose app is served (A/B)")
    a = ap.parse_args()
    log = tempfile.NamedTemporaryFile(prefix="gatescope-stalls-", suffix=".jsonl", delete=False).name  # noqa: SIM115
    before = load.uptime()
    base, proc = start_server(a.models, env=dict(e.split("=", 1) for e in a.env), root=a.root,
                              launcher=[sys.executable, str(Path(__file__).resolve()), "--serve", log,
                                        str(a.sample_ms), "1" if a.c_calls else "0"])
    try:
        model = load.pick_model(base, a.model)
        load.warm_up(base, proc.pid, model, a)
        Path(log).write_text("")  # only the measured run's events
        r = asyncio.run(load.run(base, proc.pid, model, a.clients, a.seconds, a.seed))
    finally:
        stop_server(proc)
    events = [json.loads(line) for line in Path(log).read_text().splitlines() if line.strip()]
    os.unlink(log)
    print(f"{a.clients} clients x {a.seconds:.0f} s on {model!r} ({a.root}); machine: {before}")
    print(f"  traces {r['requests']} ({r['rps']:.1f}/s), errors {r['errors'] or 0}; health {r['health_n']} probes, "
          f"p50 {r['health_p50_ms']:.1f} ms, p99 {r['health_p99_ms']:.1f} ms, max {r['health_max_ms']:.1f} ms; "
          f"CPU clients {r['client_cores']:.2f}, server {r['server_cores']:.2f} cores")
    if events:
        report(events, [(t, ms) for t, ms in r["health_late"] if ms >= a.stall_ms], a.stall_ms, a.top)
    print(f"  machine after: {load.uptime()}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
