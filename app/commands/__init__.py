"""The command line. Each subcommand is a module here with NAME, HELP, configure(parser), run(args).

No traceback reaches the user: a refused file or bad input (ModelError) exits 2 with its sentence, anything
else exits 1 with one sentence naming the file, the exception type and where to report it
(GATESCOPE_DEBUG=1 prints the traceback as well, for that report).
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback

# The order `--help` lists these in; every other module of this package follows by name, so a new
# command is one new file here.
MODULES = ["serve", "trace", "train", "import_model"]


def _commands() -> list:
    names = {m.name for m in pkgutil.iter_modules(__path__)}
    ordered = [n for n in MODULES if n in names] + sorted(names - set(MODULES))
    return [importlib.import_module(f"app.commands.{n}") for n in ordered]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="gatescope: watch an LSTM think.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _commands():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.configure(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["serve", *argv]  # `python -m app --port 9000` means `python -m app serve --port 9000`
    parser = build_parser()
    args = parser.parse_args(argv)
    from lstm_core.errors import ModelError, unexpected

    try:
        return int(args._run(args) or 0)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        if os.environ.get("GATESCOPE_DEBUG"):
            traceback.print_exc()
        file = next((str(getattr(args, k)) for k in ("file", "model", "corpus") if getattr(args, k, None)), None)
        print(f"error: {unexpected(f'running `{args.command}`', e, file)}", file=sys.stderr)
        return 1
