"""CI's fresh-venv start (.ci/fresh_venv_smoke.py): it runs before the test command and catches a missing import."""
from __future__ import annotations

import importlib.util
import re
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _smoke_module():
    spec = importlib.util.spec_from_file_location("fresh_venv_smoke", ROOT / ".ci" / "fresh_venv_smoke.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ci_runs_the_fresh_venv_check_before_the_readme_test_command():
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.strip()]
    readme = (ROOT / "README.md").read_text()
    command = r"^(pip install -r requirements-dev\.txt && python -m pytest[^#\n]*?)\s+#"  # up to its comment
    test_cmd = re.search(command, readme, re.M).group(1)
    assert lines[-1] == test_cmd  # word for word
    assert "set -euo pipefail" in lines
    assert lines.index("python3 .ci/fresh_venv_smoke.py") < len(lines) - 1


def test_smoke_serves_from_this_interpreter():
    """The check itself on the current interpreter: starts `python -m app`, gets three 200s, stops it."""
    _smoke_module().smoke(Path(sys.executable), timeout=90)


def test_smoke_fails_when_a_runtime_import_is_missing(tmp_path):
    """An interpreter on which threadpoolctl cannot be imported (as on a fresh venv before the fix) fails the check."""
    shim = tmp_path / "python"
    runner = tmp_path / "no_threadpoolctl.py"
    runner.write_text("import os, runpy, sys\nsys.path.insert(0, os.getcwd())\n"
                      "sys.modules['threadpoolctl'] = None\nsys.argv = ['app', *sys.argv[3:]]\n"
                      "runpy.run_module('app', run_name='__main__', alter_sys=True)\n")
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} {runner} \"$@\"\n")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(RuntimeError, match="exited with code"):
        _smoke_module().smoke(shim, timeout=60)
