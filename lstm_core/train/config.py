"""The training configuration: everything that decides a run, saved with every checkpoint."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    corpus: str | None = None  # a UTF-8 text file, or
    task: str | None = None  # a synthetic task name (lstm_core.tasks.TASKS)
    hidden_size: int = 256
    num_layers: int = 2
    input_kind: str = "onehot"  # "onehot" or "embedding"
    embed_size: int = 0
    dropout: float = 0.0
    steps: int = 1000
    batch: int = 64
    seq_len: int = 100  # truncated BPTT window; tasks use their own example lengths
    lr: float = 2e-3
    schedule: str = "cosine"  # "cosine" decays towards lr/10 over `steps`; "constant"
    warmup: int = 0
    forget_bias: float = 0.0  # added to the forget gates' initial bias; > 0 helps long gaps
    clip: float = 5.0  # global gradient-norm limit; 0 disables
    seed: int = 0
    val_fraction: float = 0.1
    max_vocab: int = 0  # 0: every character of the training text gets an id; else the most frequent ones
    checkpoint_every: int = 200
    history_every: int = 0  # 0: no history; else the weights every N steps (and the last) go to history_dir
    history_dir: str | None = None  # its name names the run in the snapshots' cards
    eval_every: int = 0  # 0: evaluate only at the end
    target: float | None = None  # tasks: stop at the first evaluation reaching this accuracy
    dtype: str = "float32"
    threads: int = 0  # BLAS threads; 0 means every core of the machine

    def __post_init__(self) -> None:
        if (self.corpus is None) == (self.task is None):
            raise ValueError("give exactly one of a corpus file or a task")
        if self.input_kind not in ("onehot", "embedding"):
            raise ValueError(f"input kind must be onehot or embedding, not {self.input_kind!r}")
        if self.input_kind == "embedding" and self.embed_size < 1:
            raise ValueError("an embedding input needs --embed-size of at least 1")
        for name in ("hidden_size", "num_layers", "steps", "batch", "seq_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be at least 1")
        if not 0 <= self.dropout < 1:
            raise ValueError("dropout must be in [0, 1)")
        if self.history_every < 0 or (self.history_every and not self.history_dir):
            raise ValueError("--history-every needs a positive step count and a --history-dir")
        if not self.lr > 0:
            raise ValueError("the learning rate must be positive")

    @property
    def blas_threads(self) -> int:
        return self.threads or os.cpu_count() or 1
