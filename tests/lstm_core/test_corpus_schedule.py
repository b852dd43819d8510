"""How build tasks are scheduled on the local pool (lstm_core/corpus/workers.py): none of it changes a stored bit."""
from __future__ import annotations

import time

import psutil
import pytest

from lstm_core import save_model
from lstm_core.corpus import workers
from tests.lstm_core.corpus_fixtures import tiny_model


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
