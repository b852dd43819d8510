"""`python -m app import`: a PyTorch, Keras or ONNX LSTM to a gatescope model file, verified on the way."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "import"
HELP = "import a PyTorch (.safetensors/.pt), Keras (.keras/.h5) or ONNX LSTM, checked against its framework"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="the model file: .safetensors, .pt/.pth, .keras, .h5 or .onnx")
    p.add_argument("--out", required=True, help="where to write the gatescope model (.safetensors)")
    p.add_argument("--vocab", help="vocabulary: a JSON list of tokens or one token per line, in row order")
    p.add_argument("--tokenizer", choices=["char", "word"], help="how text is split (default: guessed from the vocab)")
    p.add_argument("--name", help="the model's display name (default: the file name)")
    p.add_argument("--map", action="append", default=[], metavar="ROLE=NAME",
                   help="for state dicts: which tensors play a role, e.g. lstm=encoder.rnn, embedding=emb, "
                        "decoder=head (repeatable)")
    p.add_argument("--no-verify", action="store_true", help="skip running the model in its framework")
    p.add_argument("--allow-mismatch", action="store_true",
                   help="write the model even if gatescope's outputs differ from the framework's")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def run(args: argparse.Namespace) -> int:
    from lstm_core import ModelError, save_model
    from lstm_core.importers import import_model

    out = Path(args.out)
    if out.exists() and not args.force:
        return _fail(f"{out} exists; choose another --out or pass --force")
    try:
        mapping = dict(_role(m) for m in args.map)
        res = import_model(args.file, vocab=args.vocab, tokenizer=args.tokenizer, mapping=mapping or None,
                           name=args.name, verify=not args.no_verify)
    except ModelError as e:
        return _fail(str(e))
    v, model = res.verification, res.model
    cfg = model.lstm.config
    print(f"{model.name}: {cfg.num_layers} layer(s) x {cfg.num_directions} direction(s) x {cfg.hidden_size} units, "
          f"input {model.input_kind}" + (f", vocabulary {model.vocab_size}" if model.vocab_size else ""))
    if v.get("verified"):
        diffs = ", ".join(f"{k} {'shapes differ' if d is None else f'{d:.1e}'}" for k, d in v["max_abs_diff"].items())
        verdict = "ok" if v["passed"] else "MISMATCH"
        print(f"verified against {v['framework']}: max abs diff {v['max']:.2e} ({diffs}); "
              f"tolerance {v['tolerance']:.0e}: {verdict}")
        if not v["passed"] and not args.allow_mismatch:
            return _fail("gatescope does not reproduce the framework within tolerance; nothing written "
                         "(--allow-mismatch writes it anyway)")
    else:
        print(f"not verified: {v.get('reason')}")
    for note in res.notes:
        print(f"note: {note}")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, out)
    print(f"wrote {out}")
    return 0


def _role(text: str) -> tuple[str, str]:
    from lstm_core import ModelError

    role, sep, name = text.partition("=")
    if not sep or not role or not name:
        raise ModelError(f"--map takes ROLE=NAME (for example lstm=encoder.rnn), not {text!r}")
    return role.strip(), name.strip()


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2
