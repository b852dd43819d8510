"""Synthetic teaching tasks: deterministic generators and an accuracy evaluator that uses the core's forward.

Every example is a string; a character model reads it and predicts the next character at each
position. A task says which predictions are scored and trained on:

- counting: `a^n X b^n .` with n in 1..10 (E. Chen, "Exploring LSTMs"). After X the rest is
  determined, so every prediction from X on is scored: the model must count the a's down.
- brackets: balanced brackets up to depth 4, ended by `.`. After each prefix the allowed next
  symbols are `(` if depth < 4, `)` if depth > 0, `.` if depth == 0; the model is right at a position
  when the symbols it gives probability above 0.1 are exactly the allowed ones (the generator gives
  each allowed symbol probability >= 0.5, a forbidden one 0).
- remember: an upper-case letter A-D, a gap of lower-case a-d, `?`, then the first letter again. Only
  the answer after `?` is scored, so the forget gate of some unit must hold it across the gap. Training
  gaps are 1 to 60 letters (the short ones teach what to store); held-out examples use only long gaps,
  20 to 60, so the accuracy measures memory, not luck on short gaps.

An example counts as correct when every scored prediction in it is right; accuracy is the fraction
of correct examples.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .errors import ModelError
from .model import Model
from .tokenizers import UNK, Tokenizer

HELD_OUT_SEED = 2_147_483_647  # evaluation examples come from this stream, training never uses it
MAX_DEPTH = 4
ALLOWED_THRESHOLD = 0.1


def _counting(rng: np.random.Generator, held_out: bool) -> str:
    n = int(rng.integers(1, 11))
    return "a" * n + "X" + "b" * n + "."


def _brackets(rng: np.random.Generator, held_out: bool) -> str:
    while True:  # reject the rare long walk so examples stay short enough to read
        s, depth = ["("], 1
        while len(s) < 41:
            if depth == 0:
                s.append("(" if rng.random() < 0.5 else ".")
                if s[-1] == ".":
                    return "".join(s)
            else:
                s.append(")" if depth == MAX_DEPTH or rng.random() < 0.5 else "(")
            depth += 1 if s[-1] == "(" else -1


def _remember(rng: np.random.Generator, held_out: bool) -> str:
    first = "ABCD"[int(rng.integers(4))]
    gap = "".join("abcd"[k] for k in rng.integers(4, size=int(rng.integers(20 if held_out else 1, 61))))
    return first + gap + "?" + first


def _scored_counting(s: str) -> list[int]:
    return list(range(s.index("X"), len(s) - 1))


def _scored_all(s: str) -> list[int]:
    return list(range(len(s) - 1))


def _scored_answer(s: str) -> list[int]:
    return [len(s) - 2]


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    alphabet: str
    generate: Callable[[np.random.Generator, bool], str]  # (rng, held_out) -> one example
    scored: Callable[[str], list[int]]  # positions t whose prediction of s[t+1] is scored
    train_all: bool  # train on every next-character prediction, or only on the scored ones

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
            w[b, self.scored(s) if not self.train_all else slice(0, len(s) - 1)] = 1
        return x, y, w


def _correct_at(task: Task, s: str, t: int, p: NDArray, tok: Tokenizer) -> bool:
    """Is the prediction p (V,) made after reading s[: t + 1] right?"""
    if task.name != "brackets":
        return int(np.argmax(p)) == tok.index[s[t + 1]]
    depth = s[: t + 1].count("(") - s[: t + 1].count(")")
    allowed = {c for c, ok in (("(", depth < MAX_DEPTH), (")", depth > 0), (".", depth == 0)) if ok}
    return {tok.vocab[k] for k in np.flatnonzero(p > ALLOWED_THRESHOLD)} == allowed


def accuracy(model: Model, task: Task, n: int = 1000, seed: int = HELD_OUT_SEED) -> float:
    """Fraction of n held-out examples with every scored prediction right, computed by `model.trace_ids`."""
    tok = model.tokenizer
    if tok is None or model.decoder_weight is None or any(c not in tok.index for c in task.alphabet):
        raise ModelError(f"this model cannot do the {task.name} task: it needs a decoder and the symbols "
                         f"{task.alphabet!r} in its vocabulary")
    right = 0
    for s in task.examples(n, seed, held_out=True):
        _, probs = model.trace_ids(tok.encode(s).ids)  # (T, V)
        right += all(_correct_at(task, s, t, probs[t], tok) for t in task.scored(s))
    return right / n


TASKS: dict[str, Task] = {
    "counting": Task("counting", "a^n X b^n . with n from 1 to 10: after X, count the a's back down",
                     "Xab.", _counting, _scored_counting, True),
    "brackets": Task("brackets", "balanced brackets up to depth 4: know when you may close and when you must",
                     "().", _brackets, _scored_all, True),
    "remember": Task("remember", "remember the first letter (A-D) across a gap of up to 60 letters, answer after ?",
                     "ABCDabcd?", _remember, _scored_answer, False),
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise ModelError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None
