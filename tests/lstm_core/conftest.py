"""Fixtures for the corpus-index tests: small indexes built once per session."""
from __future__ import annotations

import pytest

from lstm_core import engine, halves, pipeline, runner
from tests.conftest import need_module
from tests.lstm_core.corpus_fixtures import Built, build_small, python_like, tiny_model


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Built:
    """A 2 x 6 causal float64 model's index of 3,000 characters of code-like text (12 tasks, 47 windows)."""
    return build_small(tmp_path_factory.mktemp("small"), tiny_model(seed=1), python_like(3000, seed=1))


@pytest.fixture(scope="session")
def small_bidi(tmp_path_factory) -> Built:
    """The same for a bidirectional model, whose windows also get a look-ahead."""
    return build_small(tmp_path_factory.mktemp("bidi"), tiny_model(seed=2, bidirectional=True),
                       python_like(1500, seed=2))


@pytest.fixture(params=(*engine.PATHS, "jit-halves", "jit-pipe", "numpy-pipe"))
def fast_path(request, monkeypatch) -> str:
    """Run the test on each path of the engine's fast step (engine.fast_path), whatever the step's width:
    NumPy with tanh, NumPy with exp (wide steps) and the compiled step (numba; needed under CI=true); and
    'jit-halves', what batch 64 runs at two threads: the compiled per-step cell, every batch of at least two rows
    run by layers cut in halves, each half through every layer in a thread of its own (halves.py; an odd batch's
    halves differ by one row; the wavefront, only below halves.MIN_BATCH rows, is not cut); 'jit-pipe' and
    'numpy-pipe', what batch 1 runs at two threads: every left-to-right stack run by layers as a pipeline of two
    stages in two threads, over chunks of 3 steps (pipeline.py), the wavefront off (a test may still force it)."""
    path = request.param.removesuffix("-halves").removesuffix("-pipe")
    if path == "jit":
        need_module("numba")
        if not engine.jitcell.AVAILABLE:
            pytest.fail("numba is installed but lstm_core.jitcell is off (GATESCOPE_JIT=0?)")
    if request.param.endswith("-halves"):
        monkeypatch.setattr(halves, "FORCE", True)
        monkeypatch.setattr(engine, "LOOP_MAX_BATCH", 0)  # the whole-run loop takes batches <= 4 uncut
    else:
        monkeypatch.setattr(halves, "FORCE", False)  # the same code whatever threads the machine gives BLAS
    if request.param.endswith("-pipe"):
        monkeypatch.setattr(pipeline, "FORCE", True)
        monkeypatch.setattr(pipeline, "CHUNK", 3)  # several chunks on short inputs, not aligned to projection blocks
        monkeypatch.setattr(runner, "WAVEFRONT_MAX_BATCH", 0)  # by layers, as large layers run at small batch
    else:
        monkeypatch.setattr(pipeline, "FORCE", False)
    monkeypatch.setattr(engine, "FORCE_PATH", path)
    return request.param
