"""Our NumPy trainer against torch on the CPU, side by side in one process.

Same model (one-hot input, stacked LSTM, linear decoder), same initial weights, same batches in the
same order with hidden state carried between windows, same Adam and clipping, same thread count.
The two trainers alternate step by step so a busy machine slows both alike. Prints the median time
per step and its ratio (goal: ours <= 1.5x torch), then the validation loss of both after the run,
scored by one function on both sets of weights (goal: within 0.02 nats).

    python bench/train_vs_torch.py [--steps 60] [--hidden 256] [--layers 2] [--embed 0] [--batch 64] [--seq-len 100]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstm_core.tokenizers import Tokenizer  # noqa: E402
from lstm_core.train.data import Streams, split  # noqa: E402
from lstm_core.train.model_grad import NetSpec, forward_backward, init_params, zero_state  # noqa: E402
from lstm_core.train.optim import Adam, clip_grad_norm  # noqa: E402
from lstm_core.train.sources import val_loss  # noqa: E402

SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


class TorchLM(torch.nn.Module):
    def __init__(self, spec: NetSpec, params: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.V = spec.vocab_size
        self.embedding = torch.nn.Embedding(spec.vocab_size, spec.embed_size) if spec.embed_size else None
        self.lstm = torch.nn.LSTM(spec.input_size, spec.hidden_size, spec.num_layers, batch_first=True)
        self.decoder = torch.nn.Linear(spec.hidden_size, spec.vocab_size)
        with torch.no_grad():
            for n, p in self.lstm.named_parameters():
                p.copy_(torch.from_numpy(params[f"lstm.{n}"]))
            self.decoder.weight.copy_(torch.from_numpy(params["decoder.weight"]))
            self.decoder.bias.copy_(torch.from_numpy(params["decoder.bias"]))
            if self.embedding is not None:
                self.embedding.weight.copy_(torch.from_numpy(params["embedding.weight"]))

    def forward(self, x: torch.Tensor, state):
        inp = self.embedding(x) if self.embedding is not None else torch.nn.functional.one_hot(x, self.V).float()
        out, state = self.lstm(inp, state)
        return self.decoder(out), state

    def as_params(self) -> dict[str, np.ndarray]:
        p = {f"lstm.{n}": t.detach().numpy().copy() for n, t in self.lstm.named_parameters()}
        p["decoder.weight"] = self.decoder.weight.detach().numpy().copy()
        p["decoder.bias"] = self.decoder.bias.detach().numpy().copy()
        if self.embedding is not None:
            p["embedding.weight"] = self.embedding.weight.detach().numpy().copy()
        return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--embed", type=int, default=0, help="embedding width (0: one-hot input)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=100)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--val-chunks", type=int, default=20, help="validation chunks of 1,000 characters")
    a = ap.parse_args()

    if SHAKESPEARE.exists():
        text, where = SHAKESPEARE.read_text(encoding="utf-8"), "tinyshakespeare"
    else:  # a fresh clone has no ../shared: fall back to this repository's own Python source
        text, where = "\n".join(p.read_text() for p in sorted(ROOT.rglob("*.py"))), "repository source"
    train_text, val_text = split(text, 0.1)
    tok = Tokenizer.build(train_text, "char", unk=True)
    streams = Streams(tok.encode(train_text).ids, a.batch, a.seq_len, seed=0)
    val_ids = tok.encode(val_text).ids[: a.val_chunks * 1000]
    spec = NetSpec(len(tok), a.hidden, a.layers, "embedding" if a.embed else "onehot", a.embed)
    params = init_params(spec, seed=0)
    net = TorchLM(spec, params)
    torch.set_num_threads(a.threads)
    t_opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    ours_opt = Adam(lr=a.lr)
    state = zero_state(spec, a.batch, np.float32)
    t_state = None
    ours_t, torch_t = [], []
    print(f"{where}: {a.layers} x LSTM({a.hidden}), {spec.input_kind} input, vocabulary {len(tok)}, "
          f"batch {a.batch}, sequence {a.seq_len}, "
          f"{a.threads} thread(s), {a.steps} steps, Adam {a.lr}, clip 5")
    with threadpool_limits(limits=a.threads, user_api="blas"):
        for step in range(a.steps):
            if streams.starts_epoch(step):
                state, t_state = zero_state(spec, a.batch, np.float32), None
            x, y = streams.batch_at(step)
            t0 = time.perf_counter()
            r = forward_backward(params, spec, x, y, state)
            clip_grad_norm(r.grads, 5.0)
            ours_opt.step(params, r.grads)
            state = r.state
            t1 = time.perf_counter()
            logits, t_state = net(torch.from_numpy(x), t_state)
            t_state = tuple(s.detach() for s in t_state)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(tok)), torch.from_numpy(y).reshape(-1))
            t_opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            t_opt.step()
            t2 = time.perf_counter()
            if step >= 3:  # the first steps warm caches and allocators
                ours_t.append(t1 - t0)
                torch_t.append(t2 - t1)
        ours_ms, torch_ms = statistics.median(ours_t) * 1e3, statistics.median(torch_t) * 1e3
        v_ours = val_loss(params, spec, val_ids)
        v_torch = val_loss(net.as_params(), spec, val_ids)
    print(f"time per step: ours {ours_ms:.0f} ms, torch {torch_ms:.0f} ms, ratio {ours_ms / torch_ms:.2f}x "
          "(goal <= 1.5x)")
    print(f"validation loss after {a.steps} steps ({len(val_ids):,} chars, chunks of 1,000 from a zero state): "
          f"ours {v_ours:.4f}, torch {v_torch:.4f}, difference {v_ours - v_torch:+.4f} nats (goal within 0.02)")


if __name__ == "__main__":
    main()
