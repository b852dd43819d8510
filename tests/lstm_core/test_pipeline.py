"""A stack of layers as a two-stage pipeline over chunks of steps (lstm_core/pipeline.py): only when the caller gives
BLAS two threads and the batch is too small to halve; the bits of the whole run on every path, whatever the cut;
the stages in two threads, a chunk apart; an error in either stage reaches the caller without a hang. Parity with
torch on the pipeline runs in the whole parity suite (the fast_path fixture's 'jit-pipe' and 'numpy-pipe')."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from lstm_core import LSTM, LSTMConfig, engine, halves, pipeline, runner, schedules
from tests.conftest import need_module
from tests.lstm_core.test_halves import _blas_now, fresh_process

NAMES = ("i", "f", "g", "o", "c", "h", "pre_i", "pre_f", "pre_g", "pre_o", "output", "h_n", "c_n")


def _same(a, b, what: str) -> None:
    for k in NAMES:
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype and np.array_equal(x, y), f"{what}: {k} differs by {np.abs(x - y).max()}"


@pytest.mark.parametrize("path", engine.PATHS)
@pytest.mark.parametrize("layers", [1, 2, 3, 4])
@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("chunk", [3, 16])
def test_the_pipeline_has_the_bits_of_the_whole_run(monkeypatch, path, layers, B, chunk):
    """Pipelined over chunks of 3 steps (not aligned to the projection's 16-step blocks) or 16, a trace equals the
    whole run bit for bit: ragged lengths, initial states, pre-activations, a projected stack (proj_size) and a
    trace continued at an offset from a prefix's state."""
    if path == "jit":
        need_module("numba")
    monkeypatch.setattr(engine, "FORCE_PATH", path)
    monkeypatch.setattr(halves, "FORCE", False)
    monkeypatch.setattr(pipeline, "CHUNK", chunk)
    monkeypatch.setattr(runner, "WAVEFRONT_MAX_BATCH", 0)  # by layers at any batch, as large layers run
    rng = np.random.default_rng(layers * 10 + B)
    T = 41
    x = rng.normal(size=(B, T, 3)).astype(np.float32)
    lengths = rng.integers(1, T + 1, B)
    for cfg in (LSTMConfig(3, 8, layers), LSTMConfig(3, 8, layers, proj_size=5)):
        lstm = LSTM.random(cfg, seed=layers)
        h0, c0 = (rng.normal(size=(B, layers, n)).astype(np.float32) for n in (cfg.output_size, 8))
        runs = []
        for force in (False, True):
            monkeypatch.setattr(pipeline, "FORCE", force)
            head = lstm.trace(x[:, :19], h0, c0)
            runs.append((lstm.trace(x, h0, c0, lengths=lengths, record_pre=True),
                         lstm.trace(x[:, 19:], head.h_n, head.c_n, record_pre=True, offset=19)))
        (whole, rest), (cut, cut_rest) = runs
        _same(cut, whole, f"{cfg}")
        _same(cut_rest, rest, f"{cfg} continued at 19")


def test_the_stages_run_in_two_threads_a_chunk_apart(monkeypatch):
    """Layers 0-1 of a 3-layer stack in the caller's thread, layer 2 in the pool's, every chunk (aligned to the
    projection's blocks at absolute positions: a trace continued at 5) of the lower layers before the upper's."""
    monkeypatch.setattr(engine, "FORCE_PATH", "numpy")
    monkeypatch.setattr(pipeline, "FORCE", True)
    monkeypatch.setattr(pipeline, "CHUNK", 16)
    monkeypatch.setattr(runner, "WAVEFRONT_MAX_BATCH", 0)
    seen = []
    loop = schedules._loop

    def spy(P, opts, run, h0, c0, mask, lo, hi):
        seen.append((threading.current_thread().name, lo, hi))
        return loop(P, opts, run, h0, c0, mask, lo, hi)

    monkeypatch.setattr(schedules, "_loop", spy)
    lstm = LSTM.random(LSTMConfig(3, 4, 3, proj_size=0), seed=0)
    lstm.trace(np.zeros((40, 3), np.float32), offset=5)
    here = threading.current_thread().name
    spans = [(0, 11), (11, 27), (27, 40)]  # absolute positions 16 and 32
    lower = [n for n, s in enumerate(seen) if s[0] == here]
    upper = [n for n, s in enumerate(seen) if s[0] != here]
    assert [seen[n][1:] for n in lower] == [s for s in spans for _ in range(2)]  # layers 0 and 1, chunk by chunk
    assert [seen[n][1:] for n in upper] == spans
    assert {seen[n][0] for n in upper} == {"gatescope-half_0"}
    assert all(upper[j] > lower[2 * j + 1] for j in range(3))  # chunk j of layer 2 after chunk j of layer 1


@pytest.mark.parametrize("blas", [1, 2])
@fresh_process
def test_only_at_two_blas_threads_and_small_batches(monkeypatch, blas):
    """By the caller's BLAS threads (pipeline.FORCE None, as the library runs): at one thread a stack runs whole;
    at two, batch 1 runs pipelined with BLAS at one thread meanwhile (two given back) and equals the whole run at
    one BLAS thread bit for bit (what the server records); a batch of 64 is halved instead, and a bidirectional
    stack, a reverse-only one, a single layer and a short input (below MIN_WORK) run whole."""
    monkeypatch.setattr(pipeline, "FORCE", None)
    monkeypatch.setattr(halves, "FORCE", None)
    monkeypatch.setattr(runner, "WAVEFRONT_MAX_BATCH", 0)  # by layers also without numba
    monkeypatch.setattr(pipeline, "MIN_WORK", 300 * 16 * 64)  # T x H_out x 4H of the trace below
    pipelined = []
    run = pipeline.run
    monkeypatch.setattr(pipeline, "run", lambda *a: pipelined.append(_blas_now()) or run(*a))
    lstm = LSTM.random(LSTMConfig(5, 16, 2), seed=0)
    x = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    with threadpool_limits(1, user_api="blas"):
        alone = lstm.trace(x, record_pre=True)
    with threadpool_limits(blas, user_api="blas"):
        tr = lstm.trace(x, record_pre=True)
        assert _blas_now() == blas
        for cfg in (LSTMConfig(5, 16, 2, bidirectional=True), LSTMConfig(5, 16, 2, reverse=True),
                    LSTMConfig(5, 16, 1)):
            LSTM.random(cfg, seed=0).trace(x)
        lstm.trace(x[:299])
        lstm.trace(np.zeros((64, 300, 5), np.float32))
    assert pipelined == ([2] if blas == 2 else [])
    _same(tr, alone, f"BLAS at {blas}")


@pytest.mark.parametrize("stage", ["lower", "upper"])
@fresh_process
def test_an_error_in_a_stage_reaches_the_caller_and_restores_blas(stage):
    """Either stage raising ends the trace with its error, no hang (the upper stage waits for chunks the lower
    will never finish), and BLAS gets its two threads back."""
    def lower(lo: int, hi: int) -> None:
        if stage == "lower" and lo >= 4:
            raise ValueError("lower stage")

    def upper(lo: int, hi: int) -> None:
        if stage == "upper" and lo >= 4:
            raise ValueError("upper stage")

    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(ValueError, match=f"{stage} stage"):
            pipeline.run(lower, upper, [0, 2, 4, 6, 8])
        assert _blas_now() == 2


def test_chunk_bounds():
    """About T / 8 steps a chunk in multiples of 16, at most CHUNK, cut at absolute positions."""
    assert pipeline.bounds(100) == [0, 16, 32, 48, 64, 80, 96, 100]
    assert pipeline.bounds(2000)[:3] == [0, 64, 128] and pipeline.bounds(2000)[-1] == 2000
    assert pipeline.bounds(500, offset=200) == [0, 56, 120, 184, 248, 312, 376, 440, 500]
    assert pipeline.bounds(5) == [0, 5]
