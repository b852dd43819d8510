"""The first trace a visitor sends to a freshly started server, with numba installed: warm in the background
(GATESCOPE_JIT_WARM=1, the default: traces take the NumPy path until the compiled step is loaded) against no
warm-up (=0: the first trace that needs the compiled step imports numba and loads or compiles it in place).

Each round starts one server of each kind, in alternating order, on models/ (hometown, the opening model), and
times from the moment /api/health answers: the first trace of the seed sentence, the same trace again (steady),
and a first 2,000-character trace of python-char on a server of its own kind. numba's on-disk cache is whatever
the machine has (run the parity tests or a trace once to fill it): the usual start, not a cold compile.
Run: `python bench/cold_start.py [--rounds 3]`. Prints the load (uptime) before and after.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.testing import start_server, stop_server  # noqa: E402

SEED = "我来自内蒙古，我能讲一口流利的"
LONG = ("def trace(model, text):\n    return model.run(text)\n" * 40)[:2000]
KINDS = {"warm in background": "1", "no warm-up": "0"}


def first_traces(warm: str) -> tuple[float, float, float]:
    """(first seed trace, repeated seed trace, first long trace on a second server) in ms after health."""
    out = []
    for model, text in (("hometown", SEED), ("python-char", LONG)):
        base, proc = start_server(ROOT / "models", env={"GATESCOPE_JIT_WARM": warm}, timeout=120)
        try:
            with httpx.Client(base_url=base, timeout=300) as c:
                for _ in range(2 if model == "hometown" else 1):
                    t0 = time.perf_counter()
                    r = c.post("/api/trace", json={"model": model, "text": text})
                    r.raise_for_status()
                    out.append((time.perf_counter() - t0) * 1e3)
        finally:
            stop_server(proc)
    return out[0], out[1], out[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    res: dict[str, list[tuple[float, float, float]]] = {k: [] for k in KINDS}
    for r in range(args.rounds):
        for kind in list(KINDS) if r % 2 == 0 else list(KINDS)[::-1]:
            res[kind].append(first_traces(KINDS[kind]))
            print(f"round {r + 1} {kind:20s} " + " ".join(f"{v:8.0f}" for v in res[kind][-1]), flush=True)
    print(f"\nmedian over {args.rounds} rounds, ms after /api/health answered:")
    print(f"{'':20s} {'first seed':>11} {'again':>8} {'first 2,000 chars':>18}")
    for kind, rows in res.items():
        med = [statistics.median(col) for col in zip(*rows, strict=True)]
        print(f"{kind:20s} {med[0]:>11.0f} {med[1]:>8.0f} {med[2]:>18.0f}")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
