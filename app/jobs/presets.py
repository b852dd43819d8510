"""What the page can train, with the defaults it shows, and the command line a job runs.

Each preset is the shipped model's recipe made page-sized: the same task, size and learning rate as the
model in models/ (its card's command), with a snapshot (evaluation, history, checkpoint) every `every`
steps and fewer held-out examples per evaluation so that frequent snapshots stay cheap.
"""
from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field

from lstm_core.tasks import TASKS

TEXT = "text"  # a pasted text instead of a task
ALIASES = {"counter": "counting"}  # the shipped model's name for the task
MAX_SNAPSHOTS = 60  # a run keeps at most about this many snapshots, whatever its length
MAX_PROBE = 120  # characters of the probe sentence


@dataclass(frozen=True)
class Preset:
    layers: int
    hidden: int
    steps: int
    lr: float
    batch: int
    every: int  # steps between snapshots
    probe: str
    extra: dict = field(default_factory=dict)  # further train flags, e.g. {"forget_bias": 3}


PRESETS: dict[str, Preset] = {
    "counting": Preset(1, 4, 1000, 0.01, 32, 20, "aaaaaaXbbbbbb.", {"target": 1.0, "eval_examples": 300}),
    "brackets": Preset(1, 8, 3000, 0.01, 32, 50, "(()(()))(().", {"target": 1.0, "eval_examples": 300}),
    "remember": Preset(1, 4, 3000, 0.01, 32, 50, "Cabdcbadcabdbcadbca?C",
                       {"target": 1.0, "eval_examples": 300, "forget_bias": 3.0}),
    "hometown": Preset(1, 32, 3000, 0.01, 32, 100, "我来自内蒙古，冬天常常下很大的雪，我能讲一口流利的蒙古语。",
                       {"target": 0.99, "eval_examples": 400}),
    TEXT: Preset(1, 32, 500, 0.005, 16, 25, "", {"seq_len": 64, "max_vocab": 100}),
}


def task_name(task: str) -> str | None:
    """The registry name of a task the page may train, or None."""
    task = ALIASES.get(task, task)
    return task if task == TEXT or (task in TASKS and task in PRESETS) else None


def vocab_size(task: str, text: str | None) -> int:
    if task != TEXT:
        return len(TASKS[task].tokenizer)
    return min(len(set(text or "")) + 1, PRESETS[TEXT].extra["max_vocab"])  # + <unk>


def parameters(vocab: int, hidden: int, layers: int) -> int:
    """Weights of a one-hot-input LSTM language model (torch nn.LSTM's two biases) with its decoder."""
    lstm = sum(4 * hidden * ((vocab if k == 0 else hidden) + hidden + 2) for k in range(layers))
    return lstm + vocab * hidden + vocab


def min_text(preset: Preset, batch: int, val_fraction: float = 0.1) -> int:
    """Characters a pasted text needs: `batch` streams of one window each after the held-out part is cut off
    (lstm_core.train.data: Streams and split)."""
    seq = preset.extra["seq_len"]
    need = batch * (seq + 1) + seq
    n = need
    while n - int(round(n * val_fraction)) < need:
        n += 1
    return n


def every(preset: Preset, steps: int) -> int:
    return max(preset.every, math.ceil(steps / MAX_SNAPSHOTS))


def command(task: str, layers: int, hidden: int, steps: int, lr: float, seed: int, name: str, run: str) -> list[str]:
    """The arguments of `python -m app train` for a job, run inside its directory (the paths are relative)."""
    p = PRESETS[task]
    n = every(p, steps)
    source = ["corpus.txt"] if task == TEXT else ["--task", task]
    flags = {"layers": layers, "hidden": hidden, "steps": steps, "lr": lr, "batch": p.batch, "seed": seed, **p.extra,
             "eval_every": n, "history_every": n, "history_dir": run, "checkpoint_every": n, "threads": 1}
    args = [f"--{k.replace('_', '-')}={v}" for k, v in flags.items()]
    return ["train", *source, *args, "--no-progress", "--out", "model.safetensors", "--checkpoint",
            "ckpt.safetensors", f"--name={name}"]


def shell(args: list[str]) -> str:
    """`python -m app <args>` as one line to paste into a shell."""
    return "python -m app " + shlex.join(args)
