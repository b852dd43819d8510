"""Synthetic teaching tasks: deterministic generators and a held-out accuracy that uses the core's forward.

`base` defines a task and its accuracy, `toy` the counting, brackets and remember tasks, `hometown`
the seed's sentence 我来自内蒙古，我能讲一口流利的____ and its English twin. `TASKS` is the registry
the trainer and its command line read.
"""
from __future__ import annotations

from ..errors import ModelError
from .base import HELD_OUT_SEED, Task, accuracy
from .hometown import HOMETOWN
from .toy import BRACKETS, COUNTING, MAX_DEPTH, REMEMBER

TASKS: dict[str, Task] = {t.name: t for t in (COUNTING, BRACKETS, REMEMBER, HOMETOWN)}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise ModelError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None


__all__ = ["HELD_OUT_SEED", "MAX_DEPTH", "TASKS", "Task", "accuracy", "get_task"]
