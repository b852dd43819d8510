"""numba's warm-up and on-disk cache (lstm_core/jitcell.py, jitloop.py), each in a fresh interpreter: what numba
reads at import (its cache directory) and what a process has compiled are per process."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT, need_module

need_module("numba")


def _run(script: str, env: dict[str, str], timeout: float = 600) -> str:
    env = {**{k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}, **env,
           "PYTHONPATH": str(ROOT), "GATESCOPE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_warming_covers_every_type_the_engine_passes_and_caches_outside_the_sources():
    """start_warming returns at once; until its thread ends the compiled path is not used (traces take NumPy's);
    after it, float32 and float64 traces on the whole-run loop and the per-step cell (any batch, ragged,
    bidirectional, cut in halves) compile nothing more: the warm-up loaded every signature they use. The code
    is cached under the user's cache directory, not beside the sources."""
    out = _run("""
        import site, sys, threading
        from pathlib import Path
        import numpy as np
        from lstm_core import LSTM, LSTMConfig, halves, jitcell, pipeline
        t = jitcell.start_warming()
        usable, alive = jitcell.usable(), t.is_alive()
        assert not (usable and alive), "the compiled path was used while warming"
        assert jitcell.start_warming() is None  # once per process
        t.join()
        assert jitcell.usable()
        from lstm_core import jitloop
        fns = (jitloop.layer_loop, jitloop.cell, jitloop.tanh_into)
        before = [len(f.signatures) for f in fns]
        rng = np.random.default_rng(0)
        for dt in (np.float32, np.float64):
            for bi in (False, True):
                lstm = LSTM.random(LSTMConfig(3, 6, 2, bidirectional=bi), seed=1, dtype=dt)
                lstm.trace(rng.normal(size=(7, 3)))
                pipeline.FORCE, pipeline.CHUNK = True, 3  # batch 1 at two threads: the loop over chunks of steps
                lstm.trace(rng.normal(size=(7, 3)))
                lstm.trace(rng.normal(size=(3, 7, 3)), lengths=[7, 2, 5])
                pipeline.FORCE = None
                for B in (3, 9, 40):
                    lstm.trace(rng.normal(size=(B, 7, 3)), lengths=rng.integers(1, 8, B))
                    halves.FORCE = True
                    lstm.trace(rng.normal(size=(B, 7, 3)))
                    halves.FORCE = None
        after = [len(f.signatures) for f in fns]
        assert after == before, (before, after)
        where = Path(jitloop.layer_loop._cache._cache_path).resolve()
        print("CACHE", where)
        for f in fns:
            assert Path(f._cache._cache_path).resolve().is_relative_to(jitloop.CACHE_DIR.resolve())
        assert not where.is_relative_to(Path(jitloop.__file__).resolve().parents[1])
        assert not any(where.is_relative_to(Path(p).resolve()) for p in site.getsitepackages())
        assert list(where.glob("jitloop.layer_loop-*.nbi")), "nothing written to the cache"
        print("ok")
    """, {})
    assert out.strip().endswith("ok")
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gatescope" / "numba"
    assert f"CACHE {base.resolve()}" in out


def test_a_cache_that_cannot_be_written_falls_back_to_compiling_in_memory(tmp_path):
    """NUMBA_CACHE_DIR or the user's cache directory on a path that cannot be created (here below a plain file,
    which fails even for root): no disk cache, no error, and the compiled step still runs and is right."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    script = """
        import os, numpy as np
        from lstm_core import jitloop
        assert jitloop.CACHE_DIR is None
        assert not hasattr(jitloop.tanh_into._cache, "_cache_path")  # numba's NullCache: nothing on disk
        x = np.linspace(-3, 3, 11, dtype=np.float32)
        out = np.empty_like(x)
        jitloop.tanh_into(x, out)
        assert np.abs(out - np.tanh(x)).max() < 1e-6
        os.environ.pop("NUMBA_CACHE_DIR", None)
        os.environ["XDG_CACHE_HOME"] = os.environ["BLOCKED"]
        assert jitloop.cache_dir() is None  # the default location, unwritable, is refused the same way
        print("ok")
    """
    out = _run(script, {"NUMBA_CACHE_DIR": str(blocker / "numba"), "BLOCKED": str(blocker / "cache")})
    assert out.strip().endswith("ok")
