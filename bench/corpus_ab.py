"""A/B of the index build's switches: `python -m app index` under two environments, in alternating runs.

Each run is the command a user types (start-up, tokenizing, --workers processes, tracing, writing, exit) on the
first --tokens tokens of tinyshakespeare with shakespeare-char, c and h with their masks. Per run: wall, CPU of
the command and its workers (user + system), and idle core-seconds = workers x wall - CPU (what the build left
unused of its cores; on a busy machine it also counts time other programs took). Blocks alternate A B A B.
Run: `python bench/corpus_ab.py --a GATESCOPE_INDEX_EARLY=0,GATESCOPE_INDEX_QUICK_EXIT=0 --b '' [--tokens 393216]
[--rounds 3] [--workers 2] [--a-args '--batch 64' --b-args '--batch 32']` (a variable listed in one side only
takes its default in the other).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "shakespeare-char.safetensors"
TEXT = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


def env_of(spec: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in spec.split(",") if kv)


def one_run(corpus: Path, out: Path, env: dict[str, str], args, extra: str = "") -> tuple[float, float]:
    """(wall, CPU) seconds of one `python -m app index` run, its workers included."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "app", "index", str(MODEL), str(corpus), "--out", str(out), "--workers",
           str(args.workers), "--quantities", "ch", "--masks", "ch", "--no-progress",
           *args.extra.split(), *extra.split()]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", default="", help="environment of A: NAME=VALUE,NAME=VALUE")
    ap.add_argument("--b", default="", help="environment of B")
    ap.add_argument("--tokens", type=int, default=393_216)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--extra", default="", help="more arguments for both commands")
    ap.add_argument("--a-args", default="", help="more arguments for A's command only, e.g. '--batch 64'")
    ap.add_argument("--b-args", default="", help="more arguments for B's command only")
    args = ap.parse_args()
    up = lambda: subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()  # noqa: E731
    print(f"uptime: {up()}\nA: {args.a or '(defaults)'} {args.a_args}  B: {args.b or '(defaults)'} {args.b_args}; "
          f"{args.tokens:,} tokens, "
          f"--workers {args.workers} {args.extra}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="gs-ab-"))
    try:
        corpus = tmp / "corpus.txt"
        text = TEXT.read_text(encoding="utf-8")
        corpus.write_text((text * (1 + args.tokens // len(text)))[: args.tokens], encoding="utf-8")
        one_run(corpus, tmp / "ix", {}, args)  # warm-up: numba's cache, the page cache
        res: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
        for r in range(args.rounds):
            for name in ("A", "B") if r % 2 == 0 else ("B", "A"):
                side = name.lower()
                wall, cpu = one_run(corpus, tmp / "ix", env_of(getattr(args, side)), args,
                                    getattr(args, f"{side}_args"))
                res[name].append((wall, cpu))
                print(f"  round {r + 1} {name}: wall {wall:.2f} s, CPU {cpu:.2f} s, idle "
                      f"{args.workers * wall - cpu:.2f} core-s  ({up().split('load average: ')[1]})", flush=True)
        for name, runs in res.items():
            wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
            idle = statistics.median(args.workers * w - c for w, c in runs)
            print(f"{name}: median wall {wall:.2f} s, CPU {cpu:.2f} s, idle {idle:.2f} core-s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"uptime: {up()}")


if __name__ == "__main__":
    main()
