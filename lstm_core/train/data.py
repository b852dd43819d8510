"""Corpus loading, the train/validation split and the truncated-BPTT batch order.

The batch for step k is a pure function of (seed, k): resuming at step k needs no saved data cursor
or RNG state, and an interrupted run continues exactly where an uninterrupted one would be.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from ..tokenizers import Tokenizer

EVAL_CHUNK = 1000  # validation text is scored in pieces of this many characters, each from a zero state


def read_corpus(path: str | os.PathLike) -> str:
    """The text of a UTF-8 corpus file; a ModelError for a missing, empty or binary file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ModelError(f"cannot read the corpus {path}: {e.strerror}") from None
    if not raw.strip():
        raise ModelError(f"the corpus {path.name} is empty: a language model needs text to learn from")
    if b"\x00" in raw:
        raise ModelError(f"the corpus {path.name} looks binary (it contains NUL bytes); give a UTF-8 text file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelError(f"the corpus {path.name} is not UTF-8 text (bad byte at offset {e.start}); "
                         "give a UTF-8 text file") from None


def split(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """(train, validation): the last val_fraction of the text is validation, never trained on."""
    n = len(text) - int(round(len(text) * val_fraction))
    return text[:n], text[n:]


@dataclass(frozen=True)
class Streams:
    """B contiguous streams over the training ids; step k reads window k of every stream.

    Hidden state carries from one window to the next within an epoch (truncated BPTT); each epoch
    starts at a seed-dependent offset in [0, T) so windows do not always cut the text at the same place,
    and from a zero state (`starts_epoch`).
    """

    ids: NDArray  # (N,) int64
    batch: int
    seq_len: int
    seed: int

    def __post_init__(self) -> None:
        need = self.batch * (self.seq_len + 1) + self.seq_len
        if len(self.ids) < self.seq_len + 1:
            raise ModelError(f"the training text has {len(self.ids)} tokens, shorter than one sequence "
                             f"of {self.seq_len} + 1; use a longer corpus or a smaller --seq-len")
        if len(self.ids) < need:
            raise ModelError(f"the training text has {len(self.ids)} tokens; batch {self.batch} x sequence "
                             f"{self.seq_len} needs at least {need}; lower --batch or --seq-len")

    @property
    def stream_len(self) -> int:
        return len(self.ids) // self.batch

    @property
    def steps_per_epoch(self) -> int:
        return (self.stream_len - 1 - self.seq_len) // self.seq_len  # leaves room for the epoch offset

    def starts_epoch(self, step: int) -> bool:
        return step % self.steps_per_epoch == 0

    def batch_at(self, step: int) -> tuple[NDArray, NDArray]:
        """(x, y), each (B, T): inputs and next-token targets for `step`."""
        epoch, k = divmod(step, self.steps_per_epoch)
        offset = int(np.random.default_rng([self.seed, epoch]).integers(self.seq_len))
        L, T = self.stream_len, self.seq_len
        starts = np.arange(self.batch) * L + offset + k * T  # (B,)
        idx = starts[:, None] + np.arange(T + 1)  # (B, T+1)
        w = self.ids[idx]
        return w[:, :-1], w[:, 1:]


def chunks(ids: NDArray, size: int) -> list[NDArray]:
    """Consecutive pieces of `size` ids (the last one shorter), each evaluated from a zero state."""
    return [ids[k : k + size] for k in range(0, len(ids), size)]


def encode(tokenizer: Tokenizer, text: str) -> NDArray:
    return tokenizer.encode(text).ids
