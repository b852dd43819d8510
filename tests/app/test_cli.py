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
