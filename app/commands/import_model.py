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
    p.add_argument("--onnx-input", action="append", default=[], metavar="NAME=FILE.npy",
                   help="for ONNX graphs: the value of a graph input that holds weights or initial states "
                        "(repeatable)")
    p.add_argument("--activation", help="for Keras weights-only .h5 files: the LSTM's activation (default tanh)")
    p.add_argument("--recurrent-activation",
                   help="for Keras weights-only .h5 files: the gates' activation (default: what the file's Keras "
                        "version defaulted to; sigmoid for CuDNNLSTM)")
    p.add_argument("--layers", metavar="NAME,...",
                   help="for Keras weights-only .h5 files: the layers to read, in order (default: inferred from the "
                        "file's layer names and weight shapes)")
    p.add_argument("--labels", metavar="FILE",
                   help="names of the head's outputs (a tagger's or classifier's classes), in row order: a JSON "
                        "list or one per line (default: 0..K-1)")
    p.add_argument("--head", choices=["next-token", "tagger", "classifier"],
                   help="what the layer after the LSTM is (default: decided from the file and said in the notes: a "
                        "decoder with one row per vocabulary token is next-token, others a per-token tagger; a "
                        "torch classifier needs --head classifier)")
    p.add_argument("--pool", choices=["final", "last"],
                   help="what a classifier reads: final = the last layer's final h of each direction, "
                        "torch cat([h_n[-2], h_n[-1]]) (default); last = output[:, -1]")
    p.add_argument("--no-verify", action="store_true", help="skip running the model in its framework")
    p.add_argument("--allow-mismatch", action="store_true",
                   help="write the model even if gatescope's outputs differ from the framework's")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def run(args: argparse.Namespace) -> int:
    from lstm_core import ModelError, save_model
    from lstm_core.importers import KerasOptions, import_model
    from lstm_core.importers.heads import sentence

    out = Path(args.out)
    if out.exists() and not args.force:
        return _fail(f"{out} exists; choose another --out or pass --force")
    try:
        mapping = dict(_pair(m, "--map", "lstm=encoder.rnn") for m in args.map)
        inputs = dict(_pair(m, "--onnx-input", "h0=zeros.npy") for m in args.onnx_input)
        keras = KerasOptions(args.activation, args.recurrent_activation,
                             tuple(n.strip() for n in args.layers.split(",") if n.strip()) if args.layers else None)
        res = import_model(args.file, vocab=args.vocab, tokenizer=args.tokenizer, mapping=mapping or None,
                           name=args.name, verify=not args.no_verify, onnx_inputs=inputs or None, keras=keras,
                           labels=args.labels, head=args.head, pool=args.pool)
    except ModelError as e:
        return _fail(str(e))
    v, model = res.verification, res.model
    cfg = model.lstm.config
    print(f"{model.name}: {cfg.num_layers} layer(s) x {cfg.num_directions} direction(s) x {cfg.hidden_size} units, "
          f"input {model.input_kind}" + (f", vocabulary {model.vocab_size}" if model.vocab_size else ""))
    print(f"head: {sentence(model.head)}")
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
    for caveat in v.get("caveats", []):
        print(f"caveat: {caveat}")
    if "int8" in v:
        q = v["int8"]
        print(f"int8 graph in onnxruntime: max abs diff {q['max']:.2e} (its run-time rounding of X and h; "
              f"int8 tolerance {q['tolerance']}: {'ok' if q['within'] else 'ABOVE, see the card'})")
    for note in res.notes:
        print(f"note: {note}")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, out)
    print(f"wrote {out}")
    return 0


def _pair(text: str, flag: str, example: str) -> tuple[str, str]:
    from lstm_core import ModelError

    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise ModelError(f"{flag} takes KEY=VALUE (for example {example}), not {text!r}")
    return key.strip(), value.strip()


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2
