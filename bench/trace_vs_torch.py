"""Our traced forward (records i, f, g, o, c, h everywhere) against torch, side by side in one process.

Contenders, all float32, the same weights (a torch `nn.LSTM` init loaded with `from_torch_state_dict`),
the same thread count for torch (`torch.set_num_threads`) and for NumPy's BLAS (threadpoolctl):
- ours:        `lstm.trace(x)`, which records every gate, cell and hidden value;
- nn.LSTM:     torch's fused forward under `torch.no_grad()`, which records nothing (the anchor);
- torch loop:  what a user must write in torch to record the gates: per layer, the input projection
               for all steps in one product, then a per-step loop of torch ops storing i, f, g, o, c, h
               into preallocated tensors.
Steady state: each contender is warmed up and timed in its own block of calls, blocks alternate between
contenders (in reversed order every other round) and the table reports medians over blocks. Calls
interleaved one by one (the "alt" column) let OpenBLAS's spinning threads and torch's OpenMP threads
compete for the same cores, which slowed nn.LSTM about 2x here; that figure is kept beside, for
comparison. Grid (issue 17): T = 100, 500, 2000 at batch 1 and at batch 64; 1 and 2 threads.
- base (with `--base DIR`): another checkout's `lstm_core` (e.g. `--base /work/main`), timed in the same
  blocks, so that a change is judged against its base in one run on a busy machine.
CPU (Linux): per call in the steady blocks, the CPU time of this process's busiest thread and of all its threads
(OpenBLAS's and torch's workers included, spinning or not); on free cores the busiest thread bounds the wall time,
so on a busy machine it compares two-thread contenders where wall clock cannot.
Memory: tracemalloc's peak during one `lstm.trace` call against the bytes of the trace's own arrays
(goal: at most 10% more). The engine's fast step (NumPy or numba, lstm_core/engine.fast_path) is printed.
Run: `python bench/trace_vs_torch.py [--threads 1,2] [--batches 1,64] [--lengths 100,500,2000] [--rounds 5]
[--no-loop] [--base DIR] [--quick]`.
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lstm_core import LSTM, engine  # noqa: E402


def torch_recording_loop(mod: torch.nn.LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every gate of a unidirectional, unprojected nn.LSTM on x (B, T, D), recorded with torch ops."""
    B, T, _ = x.shape
    L, H = mod.num_layers, mod.hidden_size
    rec = {q: torch.empty(L, T, B, H) for q in "ifgoch"}  # preallocated (L, T, B, H)
    inp = x.transpose(0, 1)  # (T, B, D) time-major
    for k in range(L):
        W_ih, W_hh = getattr(mod, f"weight_ih_l{k}"), getattr(mod, f"weight_hh_l{k}")
        b = getattr(mod, f"bias_ih_l{k}") + getattr(mod, f"bias_hh_l{k}")
        xp = torch.addmm(b, inp.reshape(T * B, -1), W_ih.t()).view(T, B, 4 * H)  # all steps at once
        W_hh_t = W_hh.t()
        h, c = torch.zeros(B, H), torch.zeros(B, H)
        i_, f_, g_, o_, c_, h_ = (rec[q][k] for q in "ifgoch")
        for t in range(T):
            z = torch.addmm(xp[t], h, W_hh_t)  # (B, 4H)
            i, f, g, o = torch.sigmoid(z[:, :H], out=i_[t]), torch.sigmoid(z[:, H : 2 * H], out=f_[t]), \
                torch.tanh(z[:, 2 * H : 3 * H], out=g_[t]), torch.sigmoid(z[:, 3 * H :], out=o_[t])
            c = torch.addcmul(f * c, i, g, out=c_[t])  # c_t = f * c_{t-1} + i * g
            h = torch.mul(o, torch.tanh(c), out=h_[t])  # h_t = o * tanh(c_t)
        inp = rec["h"][k]
    return rec


def steady(fns: dict, rounds: int, calls: int, warmup: int, clock=time.perf_counter,
           cpu: dict | None = None) -> dict[str, list[float]]:
    """Steady state: per round, each contender in its own block (warm-up calls, then `calls` timed calls in a
    row); the block order reverses every round. Returns each contender's per-call time of every block; `cpu`, when
    given, gets each block's per-call CPU time of the busiest thread of this process and of all its threads."""
    blocks: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            fn = fns[name]
            for _ in range(warmup):
                fn()
            before = thread_cpu()
            t0 = clock()
            for _ in range(calls):
                fn()
            blocks[name].append((clock() - t0) / calls)
            if cpu is not None and before:
                used = [t - before.get(tid, 0.0) for tid, t in thread_cpu().items()]
                cpu.setdefault(name, []).append((max(used) / calls, sum(used) / calls))
    return blocks


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process (Linux /proc; empty elsewhere): the busiest thread's share of a
    call bounds its wall time on free cores, a figure the machine's load barely moves."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        out[tid] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return out


def alternating(fns: dict, repeats: int, clock=time.perf_counter) -> dict[str, list[float]]:
    """The old figure: single calls interleaved A, B, C, A, B, C... (one library's spinning threads can slow
    the next call of the other, so this is reported beside the steady state, not instead of it)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = clock()
            fn()
            times[name].append(clock() - t0)
    return times


def describe_kernels(threads: int, clock: str) -> None:
    print(f"threads: torch {torch.get_num_threads()}, NumPy BLAS limited to {threads}")
    for lib in threadpool_info():
        extra = f", {lib['architecture']} kernels" if lib.get("architecture") else ""
        print(f"  {lib['user_api']:6s} {lib['internal_api']} {lib.get('version') or ''} "
              f"({lib['num_threads']} threads{extra}) {Path(lib['filepath']).name}")
    print(f"  numpy {np.__version__}, torch {torch.__version__} (oneDNN {torch.backends.mkldnn.is_available()})")
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    print(f"  load average {load:.1f} on {cores} cores")
    if load > cores and clock == "wall":
        print("  WARNING: the machine is busy; multi-threaded wall-clock ratios are unreliable "
              "(try --threads 1 --clock cpu)")
    if "OPENBLAS_CORETYPE" in os.environ:
        print(f"  OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} (forces OpenBLAS's kernel choice)")


GOALS = {1: 1.5, 64: 1.3}  # ours / nn.LSTM at batch 1 and batch 64 (issue 17)
MEMORY_GOAL = 1.10  # tracemalloc peak / the trace's own arrays (issue 17)


def grid(quick: bool, batches: str = "1,64", lengths: str = "100,500,2000") -> list[tuple[int, int]]:
    """(batch, T) pairs: by default T = 100, 500, 2000 at batch 1 and at batch 64."""
    if quick:
        return [(1, 20), (4, 20)]
    return [(int(B), int(T)) for B in batches.split(",") for T in lengths.split(",")]


def load_base(root: Path):
    """`lstm_core` of another checkout, imported under another name (its imports are relative) so that both
    run in this process."""
    tmp = Path(tempfile.mkdtemp(prefix="gatescope-base-"))
    shutil.copytree(root / "lstm_core", tmp / "lstm_base", ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, str(tmp))
    return importlib.import_module("lstm_base")


def own_bytes(tr) -> int:
    """Bytes of the memory a Trace's arrays span (views of one buffer counted once)."""
    spans = sorted(np.lib.array_utils.byte_bounds(a) for a in vars(tr).values() if isinstance(a, np.ndarray))
    total, end = 0, 0
    for lo, hi in spans:
        if hi > end:
            total += hi - max(lo, end)
            end = hi
    return total


def memory(lstm, xn) -> tuple[float, float]:
    """(tracemalloc peak during one warm trace, the trace's own bytes), in MB."""
    lstm.trace(xn)  # the first call prepares the weights (and loads the compiled step): not a trace's memory
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tr = lstm.trace(xn)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak / 1e6, own_bytes(tr) / 1e6


def run_config(mod, lstm, B: int, T: int, args, clock, base=None) -> dict:
    """Steady-state and alternating times of the contenders on one (batch, T), and ours' memory."""
    x = torch.randn(B, T, args.input)
    xn = x[0].numpy() if B == 1 else x.numpy()  # batch 1 runs unbatched (T, D), as the app does
    xt = x[0] if B == 1 else x
    out, _ = mod(xt)
    err = float(np.abs(lstm.trace(xn).output - out.numpy()).max())
    fns = {"ours": lambda: lstm.trace(xn), "nn": lambda: mod(xt)}
    if base is not None:
        fns["base"] = lambda: base.trace(xn)
    if not args.no_loop:
        loop_err = float((torch_recording_loop(mod, x)["h"][-1].transpose(0, 1) - out.view(B, T, -1)).abs().max())
        assert loop_err < 1e-4, f"the torch loop disagrees with nn.LSTM by {loop_err}"
        fns["loop"] = lambda: torch_recording_loop(mod, x)
    # Fewer calls per block for the long runs, so every configuration takes seconds, not minutes.
    calls = max(1, min(args.calls, int(args.calls * 50_000 / (B * T))))
    cpu: dict = {}
    st = {k: statistics.median(v) for k, v in steady(fns, args.rounds, calls, args.warmup, clock, cpu).items()}
    alt = {k: statistics.median(v) for k, v in alternating(fns, args.rounds, clock).items()}
    cpu = {k: tuple(statistics.median(b[i] for b in v) for i in (0, 1)) for k, v in cpu.items()}
    return {"steady": st, "alt": alt, "err": err, "calls": calls, "mem": memory(lstm, xn), "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts, for torch and NumPy's BLAS alike")
    ap.add_argument("--rounds", type=int, default=5, help="blocks per contender (their median is reported)")
    ap.add_argument("--calls", type=int, default=5, help="timed calls per block (fewer for long inputs)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed calls at the start of every block")
    ap.add_argument("--batches", default="1,64", help="comma-separated batch sizes of the grid")
    ap.add_argument("--lengths", default="100,500,2000", help="comma-separated T of the grid")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--input", type=int, default=65)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--no-loop", action="store_true", help="skip the torch recording loop (faster)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: this process's CPU time, robust on a busy machine; meaningful with --threads 1")
    ap.add_argument("--quick", action="store_true", help="a tiny sanity run (hidden 16, T=20, 2 rounds)")
    ap.add_argument("--base", type=Path, help="another checkout (e.g. /work/main) whose lstm_core is timed alongside")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    if args.clock == "cpu" and threads != [1]:
        ap.error("--clock cpu adds up every thread's time (and spin-waits): use it with --threads 1")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.quick:
        args.hidden, args.rounds, args.calls = 16, 2, 2
    print(f"uptime: {uptime()}")
    torch.manual_seed(0)
    mod = torch.nn.LSTM(args.input, args.hidden, args.layers, batch_first=True)
    lstm = LSTM.from_torch_state_dict(mod.state_dict())
    base = load_base(args.base).LSTM.from_torch_state_dict(mod.state_dict()) if args.base else None
    print(f"fast step: {engine.fast_path(4 * args.hidden)} at batch 1, {engine.fast_path(64 * 4 * args.hidden)} at "
          f"batch 64 (numba {'used' if engine.jitcell.AVAILABLE else 'not installed or GATESCOPE_JIT=0'})")
    rows = []
    for n in threads:
        torch.set_num_threads(n)
        with threadpool_limits(n), torch.no_grad():
            describe_kernels(n, args.clock)
            for B, T in grid(args.quick, args.batches, args.lengths):
                rows.append((n, B, T, run_config(mod, lstm, B, T, args, clock, base)))
                _print_row(*rows[-1], header=len(rows) == 1, loop=not args.no_loop, base=base is not None)
    print(f"\nfloat32, {args.layers} layers, hidden {args.hidden}, input {args.input}, {args.clock} clock. steady: "
          f"median over {args.rounds} blocks per contender (each block: {args.warmup} warm-up call(s), then timed "
          "calls in a row; block order alternates); alt: median of single calls interleaved ours, nn.LSTM, loop.")
    print("ours/nn.LSTM is the cost of recording everything vs torch recording nothing; goal <= 1.5x at batch 1, "
          "<= 1.3x at batch 64. ours/loop < 1 means faster than recording the gates in torch. mem: tracemalloc peak "
          f"during one trace / the trace's own arrays (goal <= {MEMORY_GOAL:.2f}); ours/base: against --base.")
    print(f"uptime: {uptime()}")


def _print_row(n: int, B: int, T: int, r: dict, header: bool, loop: bool, base: bool) -> None:
    st, alt = r["steady"], r["alt"]
    if header:
        print(f"\n{'thr':>3} {'batch':>5} {'T':>5}  {'ours':>9} {'nn.LSTM':>9} {'loop':>9}  {'ours/nn':>7} "
              f"{'goal':>5}  {'alt ours/nn':>11}  {'ours/loop':>9}  {'ours/base':>9}  {'mem MB':>14} {'goal':>5}  "
              f"{'max err':>8}  CPU ms busiest thread / all threads: ours, nn.LSTM{', base' if base else ''}")
    lp = f"{st['loop'] * 1e3:>7.1f}ms" if loop else f"{'-':>9}"
    ol = f"{st['ours'] / st['loop']:>8.2f}x" if loop else f"{'-':>9}"
    ob = f"{st['ours'] / st['base']:>8.2f}x" if base else f"{'-':>9}"
    peak, own = r["mem"]
    cpu = ", ".join(f"{r['cpu'][k][0] * 1e3:.1f}/{r['cpu'][k][1] * 1e3:.1f}" for k in ("ours", "nn", "base")
                    if k in r["cpu"])
    mem = f"{peak:.1f}/{own:.1f}={peak / own:.2f}"
    print(f"{n:>3} {B:>5} {T:>5}  {st['ours'] * 1e3:>7.1f}ms {st['nn'] * 1e3:>7.1f}ms {lp}  "
          f"{st['ours'] / st['nn']:>6.2f}x {GOALS.get(B, GOALS[64]):>4.1f}x  {alt['ours'] / alt['nn']:>10.2f}x  "
          f"{ol}  {ob}  {mem:>14} {MEMORY_GOAL:>5.2f}  {r['err']:>8.1e}  {cpu}", flush=True)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        load = os.getloadavg()
        return f"load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"


if __name__ == "__main__":
    main()
