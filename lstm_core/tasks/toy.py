"""The three small tasks: counting, brackets and remember.

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
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..tokenizers import Tokenizer
from .base import Task

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


def _brackets_correct(s: str, t: int, p: NDArray, tok: Tokenizer) -> bool:
    """Right when the symbols given probability above ALLOWED_THRESHOLD are exactly the allowed ones."""
    depth = s[: t + 1].count("(") - s[: t + 1].count(")")
    allowed = {c for c, ok in (("(", depth < MAX_DEPTH), (")", depth > 0), (".", depth == 0)) if ok}
    return {tok.vocab[k] for k in np.flatnonzero(p > ALLOWED_THRESHOLD)} == allowed


COUNTING = Task("counting", "a^n X b^n . with n from 1 to 10: after X, count the a's back down",
                "Xab.", _counting, _scored_counting, True)
BRACKETS = Task("brackets", "balanced brackets up to depth 4: know when you may close and when you must",
                "().", _brackets, _scored_all, True, correct=_brackets_correct)
REMEMBER = Task("remember", "remember the first letter (A-D) across a gap of up to 60 letters, answer after ?",
                "ABCDabcd?", _remember, _scored_answer, False)
