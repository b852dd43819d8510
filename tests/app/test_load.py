"""The small load run in CI: bench/load.py with a few clients for a few seconds against the test models."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_a_small_load_run_has_no_errors_and_stays_under_the_memory_ceiling(model_dir):
    """No failed trace or health probe, resident memory below the documented ceiling. Latencies are printed by
    bench/load.py but never asserted here (a test never asserts a wall-clock time)."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--models", str(model_dir), "--model",
                          "tiny-char", "--clients", "8", "--seconds", "8", "--warmup", "2", "--warmup-blocks", "2",
                          "--idle", "1", "--json", "--env", "GATESCOPE_MAX_TOKENS=2000"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode in (0, 1), out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(r, indent=1))
    assert r["requests"] > 0 and r["errors"] == {} and r["health_failed"] == 0 and r["health_n"] > 0
    assert r["goals"]["no errors"] and r["goals"]["peak < 1536 MB"]
