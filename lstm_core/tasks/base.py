"""What a synthetic teaching task is, and the held-out accuracy every task is measured by.

Every example is a string; a character model reads it and predicts the next character at each
position. A task says which predictions are scored (and, unless `train_all`, trained on). An example
counts as correct when every scored prediction in it is right; accuracy is the fraction of correct
examples, computed with the core's forward (`Model.trace_ids`), never the trainer's.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from ..model import Model
from ..tokenizers import UNK, Tokenizer

HELD_OUT_SEED = 2_147_483_647  # evaluation examples come from this stream, training never uses it


def argmax_is_next(s: str, t: int, p: NDArray, tok: Tokenizer) -> bool:
    """The usual rule: the prediction p (V,) made after reading s[: t + 1] ranks s[t + 1] first."""
    return int(np.argmax(p)) == tok.index[s[t + 1]]


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    alphabet: str
    generate: Callable[[np.random.Generator, bool], str]  # (rng, held_out) -> one example
    scored: Callable[[str], list[int]]  # positions t whose prediction of s[t+1] is scored
    train_all: bool  # train on every next-character prediction, or only on the scored ones
    correct: Callable[[str, int, NDArray, Tokenizer], bool] = argmax_is_next  # is the prediction at t right?
    # Optional fuller held-out report (model, n) -> metrics with at least "accuracy"; the card shows it.
    report: Callable[[Model, int], dict] | None = None
    eval_examples: int = 1000  # held-out examples scored at each evaluation
    # With train_all, the scored positions' weight in the loss against 1 for the others: a rare answer
    # that needs memory is otherwise drowned by the many easy next characters around it.
    scored_weight: float = 1.0

    @property
    def tokenizer(self) -> Tokenizer:
        """<unk> first so that anything typed in the browser still has an id."""
        return Tokenizer("char", (UNK, *self.alphabet), UNK)

    def examples(self, n: int, seed: int | list[int], held_out: bool = False) -> list[str]:
        rng = np.random.default_rng(seed)
        return [self.generate(rng, held_out) for _ in range(n)]

    def batch(self, B: int, seed: int, step: int) -> tuple[NDArray, NDArray, NDArray]:
        """(x, y, weight), each (B, T): a padded batch for training step `step`, a function of (seed, step)."""
        seqs = self.examples(B, [seed, step])
        tok = self.tokenizer
        T = max(len(s) for s in seqs) - 1
        x = np.zeros((B, T), np.int64)
        y = np.zeros((B, T), np.int64)
        w = np.zeros((B, T))
        for b, s in enumerate(seqs):
            ids = tok.encode(s).ids
            x[b, : len(s) - 1], y[b, : len(s) - 1] = ids[:-1], ids[1:]
            if self.train_all:
                w[b, : len(s) - 1] = 1
            w[b, self.scored(s)] = self.scored_weight if self.train_all else 1
        return x, y, w

    def check_model(self, model: Model) -> Tokenizer:
        """The model's tokenizer, or a ModelError if the model cannot be scored on this task."""
        tok = model.tokenizer
        if tok is None or model.decoder_weight is None or any(c not in tok.index for c in self.alphabet):
            raise ModelError(f"this model cannot do the {self.name} task: it needs a decoder and the symbols "
                             f"{self.alphabet!r} in its vocabulary")
        return tok


def predictions(model: Model, examples: list[str], group: int = 256) -> list[NDArray]:
    """Next-character probabilities (len(s), V) of every example, by the core's batched `LSTM.trace`
    (per-example lengths, `group` examples at a time: one call per group instead of one per example)."""
    tok, out = model.tokenizer, []
    for lo in range(0, len(examples), group):
        ids = [tok.encode(s).ids for s in examples[lo : lo + group]]
        x = np.zeros((len(ids), max(len(i) for i in ids), model.lstm.config.input_size), model.lstm.dtype)
        for b, i in enumerate(ids):
            x[b, : len(i)] = model.inputs(i)
        probs = model.decode(model.lstm.trace(x, lengths=np.array([len(i) for i in ids])))  # (B, T, V)
        out += [probs[b, : len(i)] for b, i in enumerate(ids)]
    return out


def accuracy(model: Model, task: Task, n: int = 1000, seed: int = HELD_OUT_SEED) -> float:
    """Fraction of n held-out examples with every scored prediction right, by the core's forward."""
    tok = task.check_model(model)
    examples = task.examples(n, seed, held_out=True)
    return sum(all(task.correct(s, t, p[t], tok) for t in task.scored(s))
               for s, p in zip(examples, predictions(model, examples), strict=True)) / n
