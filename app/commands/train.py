"""`python -m app train`: train a character LSTM on a text file or a synthetic task with the NumPy trainer.

The training flags are generated from `lstm_core.train.config.TrainConfig` (its fields, types and defaults)
and the task choices from `lstm_core.tasks.TASKS`, so neither is restated here: a new field or task appears
in --help by itself. FLAGS below only renames a few fields and gives each its help.
"""
from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import types
import typing
from pathlib import Path

NAME = "train"
HELP = "train a character LSTM on a text file or a built-in task; writes a gatescope model and its card"

# TrainConfig field -> (flag, help, extra argparse keywords). Fields not listed get --field-name.
FLAGS: dict[str, tuple[str | None, str, dict]] = {
    "num_layers": ("--layers", "LSTM layers", {}),
    "hidden_size": ("--hidden", "hidden units per layer", {}),
    "embed_size": ("--embed", "embedding width (0: one-hot input)", {}),
    "dropout": (None, "dropout between LSTM layers", {}),
    "steps": (None, "training steps (with --resume: the run's own unless given)", {}),
    "batch": (None, "sequences per step", {}),
    "seq_len": (None, "truncated BPTT window in characters", {}),
    "lr": (None, "learning rate (Adam)", {}),
    "schedule": (None, "learning-rate schedule", {"choices": ["cosine", "constant"]}),
    "warmup": (None, "steps of linear learning-rate warm-up", {}),
    "forget_bias": (None, "added to the initial forget-gate bias", {}),
    "clip": (None, "gradient-norm limit (0: off)", {}),
    "seed": (None, "random seed of the weights and the batch order", {}),
    "val_fraction": (None, "the last fraction of a corpus held out for validation", {}),
    "max_vocab": (None, "keep the most frequent characters (0: all)", {}),
    "checkpoint_every": (None, "steps between checkpoints (0: only at the end)", {}),
    "history_every": (None, "also keep the weights every N steps and the last as a training history (0: off)", {}),
    "history_dir": (None, "where the history's step-NNNNNN.safetensors and history.json go", {}),
    "eval_every": (None, "evaluate every N steps (0: at the end)", {}),
    "target": (None, "tasks: stop once held-out accuracy reaches this (e.g. 0.995)", {}),
    "dtype": (None, "floating-point type of the weights", {"choices": ["float32", "float64"]}),
    "threads": (None, "BLAS threads (0: all cores; with --resume: the run's own unless given)", {}),
}
# Not flags of their own: the corpus is the positional argument, the task has its own choices, and the
# input kind follows from --embed.
NOT_FLAGS = ("corpus", "task", "input_kind")
# With --resume the checkpoint's settings are used, except these.
RESUME_FLAGS = ("steps", "threads")


def _fields() -> list[tuple[dataclasses.Field, type]]:
    from lstm_core.train.config import TrainConfig

    hints = typing.get_type_hints(TrainConfig)
    out = []
    for f in dataclasses.fields(TrainConfig):
        if f.name in NOT_FLAGS:
            continue
        t = hints[f.name]
        if isinstance(t, types.UnionType) or typing.get_origin(t) is typing.Union:  # `float | None`
            t = next(a for a in typing.get_args(t) if a is not type(None))
        out.append((f, t))
    return out


def configure(p: argparse.ArgumentParser) -> None:
    from lstm_core.tasks import TASKS

    src = p.add_mutually_exclusive_group()
    src.add_argument("corpus", nargs="?", help="a UTF-8 text file, or 'python-stdlib' for the listed stdlib modules")
    src.add_argument("--task", choices=sorted(TASKS), help="a built-in synthetic task: "
                     + "; ".join(f"{name}: {task.description}" for name, task in sorted(TASKS.items())))
    p.add_argument("--out", required=True, help="the model file to write (.safetensors); the card goes next to it")
    p.add_argument("--checkpoint", help="checkpoint path (default: <out stem>.ckpt.safetensors next to --out)")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue a run from its checkpoint: its saved settings are used, except "
                        + " and ".join(f"--{n}" for n in RESUME_FLAGS))
    config = p.add_argument_group("training settings (TrainConfig; unset ones take the default shown)")
    for f, t in _fields():
        flag, text, extra = FLAGS.get(f.name, (None, "", {}))
        default = "" if f.default is None else f" (default {f.default})"
        # default=None: only what was typed reaches TrainConfig, whose own defaults fill in the rest.
        flag = flag or "--" + f.name.replace("_", "-")
        metavar = None if "choices" in extra else flag[2:].upper().replace("-", "_")
        config.add_argument(flag, dest=f.name, type=t, default=None, metavar=metavar, help=text + default, **extra)
    p.add_argument("--name", help="model name (default: the --out stem)")
    p.add_argument("--description", default="", help="one line for the model list and the card")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def train_config(args: argparse.Namespace):
    """The TrainConfig the flags describe: the given ones, TrainConfig's defaults for the rest."""
    from lstm_core.train.config import TrainConfig

    given = {f.name: getattr(args, f.name) for f, _ in _fields() if getattr(args, f.name) is not None}
    if given.get("embed_size"):
        given["input_kind"] = "embedding"
    return TrainConfig(corpus=args.corpus, task=args.task, **given)


def run(args: argparse.Namespace) -> int:
    from lstm_core import ModelError, save_model
    from lstm_core.train.card import build_meta
    from lstm_core.train.loop import train
    from lstm_core.train.model_grad import to_model

    if not (args.corpus or args.task or args.resume):
        print("error: give a corpus file, --task or --resume", file=sys.stderr)
        return 2
    out_path = Path(args.out)
    ckpt = Path(args.checkpoint) if args.checkpoint else out_path.with_name(out_path.stem + ".ckpt.safetensors")
    try:
        cfg = None if args.resume else train_config(args)
        result = train(cfg, ckpt, resume=args.resume, steps=args.steps, threads=args.threads,
                       progress=not args.no_progress, log=lambda s: print(s, file=sys.stderr))
    except (ModelError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if result.interrupted:
        print(f"interrupted: checkpoint at step {result.step} saved to {ckpt}; continue with "
              f"--resume {shlex.quote(str(ckpt))}", file=sys.stderr)
        return 130
    command = "python -m app train " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if sys.argv[1:2] == ["train"] \
        else "python -m app train ..."
    meta = build_meta(result, args.name or out_path.stem, args.description, command)
    save_model(to_model(result.params, result.spec, result.tokenizer, meta), out_path)
    out_path.with_suffix(".md").write_text(meta["card"], encoding="utf-8")
    print(f"wrote {out_path} and {out_path.with_suffix('.md')}: "
          + ", ".join(f"{k} {v}" for k, v in result.metrics.items()), file=sys.stderr)
    return 0
