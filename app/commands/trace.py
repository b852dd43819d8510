"""`python -m app trace`: trace a text with a model file and print or save the gate values."""
from __future__ import annotations

import argparse
import json
import sys

NAME = "trace"
HELP = "trace a text with a model file and print a summary, or write every value as JSON"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a gatescope .safetensors model file")
    p.add_argument("text", help="the text to trace")
    p.add_argument("--json", action="store_true", help="print every i, f, g, o, c, h value as JSON")


def run(args: argparse.Namespace) -> int:
    from lstm_core import ModelError, load_model

    try:
        model = load_model(args.model)
        tt = model.trace_text(args.text)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    tr = tt.trace
    if args.json:
        out = {"tokens": tt.tokens, "ids": tt.ids.tolist(), "oov": tt.oov,
               **{k: tr.gate(k).tolist() for k in tr.GATES}}
        json.dump(out, sys.stdout)
        print()
        return 0
    L, D, T, H = tr.i.shape
    print(f"{model.name}: {T} tokens, {L} layer(s) x {D} direction(s) x {H} units")
    if tt.oov:
        print(f"out of vocabulary: {', '.join(repr(tt.tokens[k]) for k in tt.oov)}")
    for k in tr.GATES:
        a = tr.gate(k)
        print(f"  {k}: mean {a.mean():+.3f}  min {a.min():+.3f}  max {a.max():+.3f}")
    return 0
