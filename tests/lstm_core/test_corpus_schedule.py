"""How build tasks are scheduled (lstm_core/corpus/workers.py): the pool starts before tokenizing, the last round of
tasks runs on threads, and neither changes a stored bit."""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import numpy as np
import psutil
import pytest

from lstm_core import save_model
from lstm_core.corpus import IndexSettings, build_index, workers
from lstm_core.corpus.tracer import on_threads
from tests.lstm_core.corpus_fixtures import python_like, read_all, tiny_model


def _new_children(me: psutil.Process, before: set[int], want: int, seconds: float = 120) -> bool:
    deadline = time.time() + seconds
    while len({p.pid for p in me.children()} - before) < want:
        if time.time() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("early", ["1", "0"])
def test_the_pool_starts_its_workers_before_any_task(tmp_path, monkeypatch, early):
    """With GATESCOPE_INDEX_EARLY (the default) the workers start, and load the model, while the parent tokenizes;
    with it 0 they start with the first task, as before."""
    monkeypatch.setenv("GATESCOPE_INDEX_EARLY", early)
    save_model(tiny_model(seed=6), tmp_path / "m.safetensors")
    me = psutil.Process()
    before = {p.pid for p in me.children()}
    with workers.local_pool(2, tmp_path / "m.safetensors", tasks=10) as pool:
        assert pool is not None
        assert _new_children(me, before, 2, 120 if early == "1" else 3) == (early == "1")
    with workers.local_pool(2, tmp_path / "m.safetensors", tasks=1) as pool:
        assert pool is None  # one task runs in this process
    with workers.local_pool(1, tmp_path / "m.safetensors", tasks=10) as pool:
        assert pool is None


# 4 windows a task in batches of 2: a task has two batches to put on two threads
THREADED = IndexSettings(window=64, warmup=16, tokens_chunk=256, units_chunk=4, batch=2, quantities=("c", "h"),
                         mask_quantities=("c", "h"), thresholds=(0.1, 0.5))


def test_on_threads_runs_calls_at_once_and_keeps_their_order():
    meet = threading.Barrier(2, timeout=60)  # each call waits for the other: only concurrent calls pass

    def call(v):
        return lambda: (meet.wait(), v, threading.get_ident())[1:]

    got = on_threads(2, [call("a"), call("b")])
    assert [v for v, _ in got] == ["a", "b"] and got[0][1] != got[1][1]
    assert on_threads(1, [threading.get_ident] * 2) == [threading.get_ident()] * 2


def test_tasks_on_threads_store_the_same_bits_as_on_one(tmp_path, monkeypatch):
    """float32, whose values change in the last bits with the windows that share a batch: threads must run the
    task's own batches, not split them."""
    save_model(tiny_model(seed=5, dtype=np.float32, hidden=12), tmp_path / "m.safetensors")
    (tmp_path / "c.txt").write_text(python_like(1_500, seed=5), encoding="utf-8")
    build_index(tmp_path / "m.safetensors", tmp_path / "c.txt", tmp_path / "one", THREADED, workers=1, progress=False)
    seen, run_task = [], workers.run_task

    def on_two(index_path, model_path, k, threads=1):
        seen.append(k)
        return run_task(index_path, model_path, k, threads=2)

    monkeypatch.setattr(workers, "run_task", on_two)
    r = build_index(tmp_path / "m.safetensors", tmp_path / "c.txt", tmp_path / "two", THREADED, workers=1,
                    progress=False)
    assert r.manifest.stage == "complete" and seen == list(range(r.tasks)) and r.tasks == 6
    a, b = read_all(tmp_path / "one"), read_all(tmp_path / "two")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


class _Recorder:
    """An executor of 2 workers that runs each call at once and remembers its arguments."""

    _max_workers = 2

    def __init__(self):
        self.calls = []

    def submit(self, fn, *args):
        self.calls.append(args)
        f = Future()
        f.set_result(7)
        return f


@pytest.mark.parametrize(("switch", "last"), [("1", 2), ("0", 1)])
def test_the_last_round_of_tasks_runs_on_every_worker_s_threads(monkeypatch, switch, last):
    monkeypatch.setenv("GATESCOPE_INDEX_THREADED_TAIL", switch)
    ex = _Recorder()
    assert list(workers.run_local(ex, "ix", "m", [0, 2, 3, 5, 6])) == [7] * 5
    assert [(k, threads) for _, _, k, threads in ex.calls] == [(0, 1), (2, 1), (3, 1), (5, last), (6, last)]
