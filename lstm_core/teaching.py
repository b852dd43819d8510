"""Which unit of a teaching model a lesson should point at, found from the model's own traces.

A lesson names what to look for ("the unit whose memory follows the count"); this module finds that
unit in the model at hand, so a retrained model gets a lesson about its own units. Two measures, both
over held-out examples of the model's task, on the first layer's cell state c:

- `feature_correlation`: Pearson's r, per unit, between c and a per-position feature (the count of a's
  not yet matched by b's, the bracket depth) over every position of every example. A counter's unit
  climbs and falls with the count.
- `label_selectivity`: the correlation ratio eta^2, per unit, of c at one position of each example with
  respect to a label of the example (the first letter): the share of c's variance that the label
  explains. A unit that holds the first letter has a different c for each letter.

`find_unit` ranks the units by a measure's absolute value and reports the best, with its number;
`task_unit` applies the measure that fits each teaching task to the task's held-out examples.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .errors import ModelError
from .model import Model
from .tasks import HELD_OUT_SEED, TASKS


@dataclass(frozen=True)
class Finding:
    """The unit a measure picks, and the evidence."""

    unit: int
    units: tuple[int, ...]  # every unit ranked, best first
    measure: str  # "r" (feature_correlation) or "eta2" (label_selectivity)
    value: float  # the measure at that unit (r keeps its sign: a unit may count down)
    runner_up: float  # the best |measure| among the other units, for contrast
    examples: int  # how many examples it was measured on


def _cells(model: Model, text: str) -> NDArray:
    """(T, H) c of layer 0 (forward direction) for `text`."""
    if model.tokenizer is None:
        raise ModelError("this model has no vocabulary, so it has no teaching task to measure units on")
    return model.run(model.encode(text).ids).c[0, 0]  # without the head: its probabilities would go unread


def feature_correlation(model: Model, texts: list[str], feature: Callable[[str], NDArray]) -> NDArray:
    """(H,) Pearson r of each unit's c with feature(text) (one value per position) over every position."""
    c = np.concatenate([_cells(model, s) for s in texts]).astype(np.float64)  # (N, H)
    x = np.concatenate([np.asarray(feature(s), np.float64) for s in texts])  # (N,)
    c, x = c - c.mean(0), x - x.mean()
    denom = np.sqrt((c**2).sum(0) * (x**2).sum())
    return (c * x[:, None]).sum(0) / np.maximum(denom, 1e-12)


def label_selectivity(model: Model, texts: list[str], label: Callable[[str], str], at: Callable[[str], int]) -> NDArray:
    """(H,) eta^2 of each unit's c at position at(text) with respect to label(text)."""
    c = np.array([_cells(model, s[: at(s) + 1])[-1] for s in texts], np.float64)  # (N, H)
    labels = np.array([label(s) for s in texts])
    total = ((c - c.mean(0)) ** 2).sum(0)
    between = sum((labels == k).sum() * (c[labels == k].mean(0) - c.mean(0)) ** 2 for k in set(labels))
    return between / np.maximum(total, 1e-12)


def find_unit(scores: NDArray, measure: str, examples: int) -> Finding:
    """The unit with the largest |score|, its score and the best |score| of the others."""
    order = np.argsort(-np.abs(scores), kind="stable")
    best = int(order[0])
    other = float(np.abs(scores[order[1]])) if len(order) > 1 else 0.0
    return Finding(best, tuple(int(u) for u in order), measure, round(float(scores[best]), 4), round(other, 4),
                   examples)


def running_count(up: str, down: str) -> Callable[[str], NDArray]:
    """The feature "how many `up` characters are not yet matched by `down` ones" after each character:
    the count for a^n X b^n, the depth for brackets."""

    def count(text: str) -> NDArray:
        steps = np.array([1 if ch == up else -1 if ch == down else 0 for ch in text])
        return np.cumsum(steps)

    return count


def task_unit(model: Model, task: str, n: int = 300) -> Finding:
    """The unit that does the job of teaching task `task`, on n of its held-out examples: for counting, the
    unit whose c follows the a's not yet matched by b's; for brackets, the depth; for remember, the unit
    whose c at the question mark best tells the first letter apart."""
    examples = TASKS[task].examples(n, HELD_OUT_SEED, held_out=True)
    if task == "remember":
        scores = label_selectivity(model, examples, lambda s: s[0], lambda s: s.index("?"))
        return find_unit(scores, "eta2", n)
    feature = {"counting": running_count("a", "b"), "brackets": running_count("(", ")")}[task]
    return find_unit(feature_correlation(model, examples, feature), "r", n)
