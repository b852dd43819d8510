"""The command line. Each subcommand is a module here with NAME, HELP, configure(parser), run(args)."""
from __future__ import annotations

import argparse
import importlib
import sys

# Module names in the order `--help` lists them; a module that does not exist yet is skipped.
MODULES = ["serve", "trace", "train", "import_model", "index"]


def _commands() -> list:
    found = []
    for name in MODULES:
        try:
            found.append(importlib.import_module(f"app.commands.{name}"))
        except ModuleNotFoundError as e:
            if e.name != f"app.commands.{name}":
                raise
    return found


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
    return int(args._run(args) or 0)
