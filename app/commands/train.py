"""`python -m app train`: train a character LSTM on a text file or a synthetic task with the NumPy trainer."""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

NAME = "train"
HELP = "train a character LSTM on a text file or a built-in task; writes a gatescope model and its card"


def configure(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("corpus", nargs="?", help="a UTF-8 text file, or 'python-stdlib' for the listed stdlib modules")
    src.add_argument("--task", choices=["counting", "brackets", "remember"], help="a built-in synthetic task")
    p.add_argument("--out", required=True, help="the model file to write (.safetensors); the card goes next to it")
    p.add_argument("--checkpoint", help="checkpoint path (default: <out stem>.ckpt.safetensors next to --out)")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue a run from its checkpoint: its saved settings are used, except --steps and --threads")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=256, help="hidden units per layer")
    p.add_argument("--embed", type=int, default=0, help="embedding width (0: one-hot input)")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout between LSTM layers")
    p.add_argument("--steps", type=int, help="training steps (default 1000; with --resume, the run's own)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seq-len", type=int, default=100, help="truncated BPTT window in characters")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--forget-bias", type=float, default=0.0, help="added to the initial forget-gate bias")
    p.add_argument("--clip", type=float, default=5.0, help="gradient-norm limit (0: off)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-vocab", type=int, default=0, help="keep the most frequent characters (0: all)")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--eval-every", type=int, default=0, help="evaluate every N steps (0: at the end)")
    p.add_argument("--target", type=float, help="tasks: stop once held-out accuracy reaches this (e.g. 0.995)")
    p.add_argument("--threads", type=int, help="BLAS threads (default: all cores; with --resume, the run's own)")
    p.add_argument("--name", help="model name (default: the --out stem)")
    p.add_argument("--description", default="", help="one line for the model list and the card")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from lstm_core import ModelError, save_model
    from lstm_core.train.card import build_meta
    from lstm_core.train.config import TrainConfig
    from lstm_core.train.loop import train
    from lstm_core.train.model_grad import to_model

    if not (args.corpus or args.task or args.resume):
        print("error: give a corpus file, --task or --resume", file=sys.stderr)
        return 2
    out_path = Path(args.out)
    ckpt = Path(args.checkpoint) if args.checkpoint else out_path.with_name(out_path.stem + ".ckpt.safetensors")
    try:
        cfg = None if args.resume else TrainConfig(
            corpus=args.corpus, task=args.task, hidden_size=args.hidden, num_layers=args.layers,
            input_kind="embedding" if args.embed else "onehot", embed_size=args.embed, dropout=args.dropout,
            steps=args.steps or 1000, batch=args.batch, seq_len=args.seq_len, lr=args.lr, schedule=args.schedule,
            warmup=args.warmup, forget_bias=args.forget_bias, clip=args.clip, seed=args.seed, max_vocab=args.max_vocab,
            checkpoint_every=args.checkpoint_every, eval_every=args.eval_every, target=args.target,
            threads=args.threads or 0)
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
