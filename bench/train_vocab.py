"""The trainer with a large vocabulary: the row-lookup gradient before and after, side by side in one run.

The embedding's gradient (and a one-hot input's W_ih gradient) sums rows by token id. Before, vocabularies
above 1,024 used np.add.at; now `model_grad.scatter_rows` sorts the ids and sums each run with
np.add.reduceat (a one-hot product below ONEHOT_SCATTER_MAX_V). Prints the median time of the scatter
alone and of a whole training step (zh-char's shape by default: V 3001, embedding 128, 1 x 512, batch
32 x 100) with each, in alternating warmed-up blocks on one BLAS thread, and the machine's load.

    python bench/train_vocab.py [--vocab 3001] [--embed 128] [--hidden 512] [--batch 32] [--seq-len 100] [--blocks 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_core.train import model_grad  # noqa: E402
from lstm_core.train.model_grad import NetSpec, forward_backward, init_params, zero_state  # noqa: E402


def add_at(ids: np.ndarray, d: np.ndarray, V: int) -> np.ndarray:
    """The previous path for V > 1,024."""
    out = np.zeros((V, d.shape[1]), d.dtype)
    np.add.at(out, ids, d)
    return out


def timed(fn, reps: int) -> list[float]:
    fn()  # warm up
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    for name, default in (("vocab", 3001), ("embed", 128), ("hidden", 512), ("batch", 32), ("seq-len", 100),
                          ("blocks", 3)):
        ap.add_argument(f"--{name}", type=int, default=default)
    a = ap.parse_args()
    V, B, T = a.vocab, a.batch, a.seq_len
    rng = np.random.default_rng(0)
    zipf = 1 / np.arange(1, V + 1)  # character frequencies fall off like Zipf's law
    x = rng.choice(V, (B, T), p=zipf / zipf.sum())
    y = rng.choice(V, (B, T), p=zipf / zipf.sum())
    d = rng.standard_normal((B * T, a.embed)).astype(np.float32)  # an embedding's gradient rows
    d4 = rng.standard_normal((B * T, 4 * a.hidden)).astype(np.float32)  # a one-hot input's W_ih gradient rows
    spec = NetSpec(V, a.hidden, 1, "embedding", a.embed)
    params = init_params(spec, 0)
    new = model_grad.scatter_rows
    np.testing.assert_allclose(new(x.reshape(-1), d, V), add_at(x.reshape(-1), d, V), atol=1e-4)
    res: dict[str, list[float]] = {f"{w} {k}": [] for w in ("scatter", "one-hot", "step")
                                   for k in ("add.at", "reduceat")}

    def step() -> None:
        forward_backward(params, spec, x, y, zero_state(spec, B, np.float32))

    with threadpool_limits(1, "blas"):
        for _ in range(a.blocks):
            for label, fn in (("add.at", add_at), ("reduceat", new)):
                res[f"scatter {label}"] += timed(lambda fn=fn: fn(x.reshape(-1), d, V), 20)
                res[f"one-hot {label}"] += timed(lambda fn=fn: fn(x.reshape(-1), d4, V), 5)
                model_grad.scatter_rows = fn
                res[f"step {label}"] += timed(step, 2)
            model_grad.scatter_rows = new
    med = {k: statistics.median(v) * 1e3 for k, v in res.items()}
    print(f"V {V}, embedding {a.embed}, 1 x {a.hidden}, batch {B} x {T}, 1 BLAS thread; load {os.getloadavg()}")
    for what, label in (("scatter", f"embedding gradient (N, {a.embed})"),
                        ("one-hot", f"one-hot W_ih gradient (N, {4 * a.hidden})"), ("step", "whole training step")):
        before, after = med[f"{what} add.at"], med[f"{what} reduceat"]
        print(f"{label:32s} np.add.at {before:8.1f} ms   sort+reduceat {after:8.1f} ms   "
              f"before/after {before / after:.2f}x")


if __name__ == "__main__":
    main()
