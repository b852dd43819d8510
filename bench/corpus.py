"""The corpus index against its goals, on a shipped model's own text (shakespeare-char on tinyshakespeare).

1. Indexing throughput. Contenders, each in its own block, blocks alternating (A B A B):
   - anchor: torch `nn.LSTM` (same weights, the model's embedding looked up in NumPy) running its
     batched forward over exactly the windows the index traces (same batch and length, warm-up
     included), recording nothing, with --threads threads;
   - ours: `python -m app index` as a user runs it (start-up, tokenizing, --threads worker processes
     of one BLAS thread each, tracing, float16, masks, compression, writing).
   Goal: ours <= 1.5x the anchor.
2. Queries on the built index: top-k for one unit (goal <= 50 ms), a full pattern-search scan
   (goal <= 1 s), plus the unit report, Karpathy's saturation map and a census, for the record.
3. Peak resident memory of the whole build (the command and its workers, sampled every 20 ms)
   at two corpus sizes: bounded by the chunk size, not by the corpus.
Run: `python bench/corpus.py [--tokens 1000000] [--quantities ch] [--threads 2] [--quick]`.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import lstm_core.corpus as corpus  # noqa: E402
from lstm_core import load_model  # noqa: E402

MODEL = ROOT / "models" / "shakespeare-char.safetensors"
TEXT = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


def index_command(corpus: Path, out: Path, args) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS bytes) of one `python -m app index` run, workers included."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "app", "index", str(MODEL), str(corpus), "--out", str(out), "--workers",
           str(args.threads), "--quantities", args.quantities, "--masks", args.masks, "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cpu0, t0 = _children_cpu(), time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc, peak = psutil.Process(p.pid), 0
    while p.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, sum(q.memory_info().rss for q in [proc, *proc.children(recursive=True)]))
        time.sleep(args.poll)
    elapsed = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"the index command failed: {p.stderr.read()}")
    return elapsed, _children_cpu() - cpu0, peak


def _children_cpu() -> float:
    """User + system CPU seconds of every waited-for descendant (the command and its pool workers)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def torch_anchor(model, ids: np.ndarray, s: corpus.IndexSettings, batches: int | None = None):
    """A function running nn.LSTM over the index's windows (or the first `batches` batches of them),
    batch by batch, recording nothing."""
    mod = torch.nn.LSTM(model.lstm.config.input_size, model.lstm.config.hidden_size, model.lstm.config.num_layers,
                        batch_first=True)
    mod.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.lstm.params.items()})
    geo = corpus.Geometry(len(ids), s, True)
    spans = [geo.traced_span(ws) for ws in range(0, len(ids), s.window)][: None if batches is None else
                                                                         batches * s.batch]

    def run() -> None:
        with torch.no_grad():
            for b in range(0, len(spans), s.batch):
                grp = spans[b : b + s.batch]
                T = max(e - a for a, e in grp)
                x = np.zeros((len(grp), T, model.lstm.config.input_size), np.float32)
                for j, (a, e) in enumerate(grp):
                    x[j, : e - a] = model.inputs(ids[a:e])
                mod(torch.from_numpy(x))  # padded steps run too, as the index's padded batch does
    return run


def timed(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of one call; CPU counts every thread of this process."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=250_000, help="the second corpus size for the memory comparison")
    ap.add_argument("--quantities", default="ch", help="what the timed index stores (default c and h)")
    ap.add_argument("--masks", default="ch")
    ap.add_argument("--threads", type=int, default=2, help="torch threads = index worker processes")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of the indexing blocks")
    ap.add_argument("--quick", action="store_true", help="a small sanity run (40,000 tokens, one round)")
    # Sampling every process's memory takes CPU from the cores the build runs on, and only ours is sampled: every
    # 20 ms it cost the build about 4 s of its 42 s wall (bench/corpus_ab.py, which does not sample, timed the same
    # command at 38.4 s). Memory grows task by task (seconds apart), so a sample every 0.2 s still sees its peak.
    ap.add_argument("--poll", type=float, default=0.2, help="seconds between the build's memory samples")
    args = ap.parse_args()
    if args.quick:
        args.tokens, args.small, args.rounds = 40_000, 20_000, 1
    torch.set_num_threads(args.threads)
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}", flush=True)
    print(f"torch {torch.__version__} ({args.threads} threads) vs `python -m app index --workers {args.threads}`; "
          f"{args.tokens:,} tokens of {TEXT.name}; index stores {args.quantities}, masks {args.masks}\n")
    model = load_model(MODEL)
    text = TEXT.read_text(encoding="utf-8")
    text = (text * (1 + args.tokens // len(text)))[: args.tokens]
    tmp = Path(tempfile.mkdtemp(prefix="gs-bench-"))
    try:
        corpus_file = tmp / "corpus.txt"
        corpus_file.write_text(text, encoding="utf-8")
        ids = model.encode(text).ids
        anchor = torch_anchor(model, ids, corpus.IndexSettings())
        torch_anchor(model, ids, corpus.IndexSettings(), batches=1)()  # warm-up: one batch
        ours, theirs, peak = [], [], 0
        for r in range(args.rounds):
            theirs.append(timed(anchor))
            print(f"  round {r + 1}: torch {theirs[-1][0]:.1f} s wall, {theirs[-1][1]:.1f} s CPU", flush=True)
            *t, rss = index_command(corpus_file, tmp / "index", args)
            ours.append(t)
            peak = max(peak, rss)
            print(f"  round {r + 1}: ours {t[0]:.1f} s wall, {t[1]:.1f} s CPU, peak RSS {rss / 2**20:.0f} MiB",
                  flush=True)
        for k, clock in enumerate(("wall", "CPU")):
            o, a = statistics.median(x[k] for x in ours), statistics.median(x[k] for x in theirs)
            print(f"indexing {args.tokens:,} tokens, {clock} time: ours {o:.1f} s, torch nn.LSTM {a:.1f} s -> "
                  f"{o / a:.2f}x (goal <= 1.5x); rounds ours {[round(x[k], 1) for x in ours]}, "
                  f"torch {[round(x[k], 1) for x in theirs]}")
        print("  (wall: the same cores for both; CPU: all threads' time, meaningful as a ratio with --threads 1)")
        queries(tmp / "index")
        small = tmp / "small.txt"
        small.write_text(text[: args.small], encoding="utf-8")
        *_, rss_small = index_command(small, tmp / "index-small", args)
        print(f"\npeak resident memory of the build (command + workers): {rss_small / 2**20:.0f} MiB at "
              f"{args.small:,} tokens, {peak / 2**20:.0f} MiB at {args.tokens:,} tokens "
              f"({peak / rss_small:.2f}x for {args.tokens / args.small:.1f}x the corpus)")
        size = sum(f.stat().st_size for f in (tmp / "index").rglob("*") if f.is_file())
        print(f"index size on disk: {size / 2**20:.0f} MiB ({size / args.tokens:.0f} bytes a token)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


def queries(path: Path) -> None:
    ix = corpus.CorpusIndex.open(path)
    rng = np.random.default_rng(0)
    q = ix.manifest.settings.quantities[-1]
    H = ix.manifest.per_direction(q)
    refs = [corpus.UnitRef(q, int(rng.integers(2)), 0, int(rng.integers(H))) for _ in range(21)]
    corpus.top_contexts(ix, refs[0], k=10)  # opens the arrays
    t = [timed(lambda r=r: corpus.top_contexts(ix, r, k=10))[0] for r in refs[1:]]
    print(f"top-10 contexts of one unit: median {statistics.median(t) * 1e3:.0f} ms, max {max(t) * 1e3:.0f} ms "
          "(goal <= 50 ms)")
    t = [timed(lambda r=r: corpus.unit_report(ix, r, k=10))[0] for r in refs[1:6]]
    print(f"unit report (top and bottom 10, histogram, saturation): median {statistics.median(t) * 1e3:.0f} ms")
    scans, sizes, mq = [], [], ix.manifest.settings.mask_quantities[-1]
    while len(scans) < 8:
        t0 = int(rng.integers(1, ix.num_tokens - 10))
        try:
            pat = corpus.pattern_in_index(ix, t0, t0 + int(rng.integers(1, 5)), 0.3, mq, int(rng.integers(2)))
        except ValueError:  # no unit on over that span and off around it
            continue
        start = time.perf_counter()
        res = corpus.search(ix, pat, limit=20)
        scans.append(time.perf_counter() - start)
        sizes.append((len(pat.units), res.candidates))
    print(f"pattern search ({mq}), full scan of {ix.num_tokens:,} tokens at threshold 0.3: median "
          f"{statistics.median(scans) * 1e3:.0f} ms, max {max(scans) * 1e3:.0f} ms over {len(scans)} spans "
          f"(goal <= 1 s); (pattern units, candidate runs): {sizes}")
    gates = tuple(g for g in "ifo" if g in ix.manifest.settings.quantities) or ix.manifest.settings.quantities[:1]
    wall = timed(lambda: corpus.corpus_saturation(ix, gates))[0]
    print(f"corpus saturation map ({', '.join(gates)}): {wall * 1e3:.0f} ms")
    cq = tuple(x for x in "ch" if x in ix.manifest.settings.quantities)
    feats = corpus.index_features(ix)
    print(f"census ({len(feats)} features x {sum(ix.manifest.units(x) for x in cq)} units of {', '.join(cq)}): "
          f"{timed(lambda: corpus.run_census(ix, feats, cq))[0]:.1f} s")


if __name__ == "__main__":
    main()
