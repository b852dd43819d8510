"""`python -m app`: one entry point whose subcommands each answer --help."""
import subprocess
import sys

import pytest

from app.commands import _commands, build_parser

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_top_level_help_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "app", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    for mod in _commands():
        assert mod.NAME in out.stdout


@pytest.mark.parametrize("name", [m.NAME for m in _commands()])
def test_each_subcommand_has_help(name):
    out = subprocess.run([sys.executable, "-m", "app", name, "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: python -m app " + name)


def test_serve_and_trace_exist():
    names = {m.NAME for m in _commands()}
    assert {"serve", "trace"} <= names, names
    build_parser()  # every module configures without error


def test_trace_command_reports_model_errors_cleanly(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 4)
    out = subprocess.run([sys.executable, "-m", "app", "trace", str(bad), "hi"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert "too short" in out.stderr and "Traceback" not in out.stderr


def test_flags_without_a_subcommand_go_to_serve(monkeypatch):
    import app.commands as commands

    seen = {}
    serve = next(m for m in commands._commands() if m.NAME == "serve")
    monkeypatch.setattr(serve, "run", lambda args: seen.update(port=args.port))
    commands.main(["--port", "9123"])
    assert seen == {"port": 9123}


def test_train_flags_come_from_trainconfig_and_the_task_registry(monkeypatch):
    """Every TrainConfig field is a flag with TrainConfig's default; a task added to the registry is offered."""
    import argparse
    import dataclasses

    from app.commands import train
    from lstm_core import tasks
    from lstm_core.train.config import TrainConfig

    monkeypatch.setitem(tasks.TASKS, "zz-new", dataclasses.replace(tasks.TASKS["counting"], name="zz-new"))
    parser = argparse.ArgumentParser()
    train.configure(parser)
    by_dest = {a.dest: a for a in parser._actions}
    for f in dataclasses.fields(TrainConfig):
        if f.name in ("corpus", "task", "input_kind"):
            continue
        assert f.name in by_dest, f"TrainConfig.{f.name} has no flag"
        assert by_dest[f.name].default is None  # so that TrainConfig's own default applies
        if f.default is not None:
            assert f"(default {f.default})" in by_dest[f.name].help
    assert "zz-new" in by_dest["task"].choices

    args = parser.parse_args(["--task", "zz-new", "--out", "x.safetensors"])
    assert train.train_config(args) == TrainConfig(task="zz-new")
    args = parser.parse_args(["c.txt", "--out", "x", "--layers", "3", "--hidden", "7", "--embed", "5",
                              "--lr", "0.1", "--target", "0.9", "--schedule", "constant"])
    assert train.train_config(args) == TrainConfig(corpus="c.txt", num_layers=3, hidden_size=7, embed_size=5,
                                                   input_kind="embedding", lr=0.1, target=0.9, schedule="constant")


def test_every_command_module_is_listed_and_nothing_else():
    """A command is one file in app/commands: listed once it exists (index.py, say), never before."""
    files = {p.stem for p in (ROOT / "app" / "commands").glob("*.py") if p.stem != "__init__"}
    assert {m.__name__.rsplit(".", 1)[1] for m in _commands()} == files
    assert [m.__name__.rsplit(".", 1)[1] for m in _commands()][:4] == ["serve", "trace", "train", "import_model"]


def test_version_is_pyproject_version():
    import tomllib

    from app.settings import VERSION

    with open(ROOT / "pyproject.toml", "rb") as fh:
        assert tomllib.load(fh)["project"]["version"] == VERSION
