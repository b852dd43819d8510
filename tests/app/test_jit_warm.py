"""A server with numba warms the compiled step in a thread at start (lstm_core/jitcell.py) and never makes a
visitor wait for it: a real server whose numba import is held back for minutes answers its first trace at once,
on the NumPy path, with torch's values. Without numba, tests/test_runtime_deps.py serves with warming on."""
from __future__ import annotations

import os
import textwrap
import time

import numpy as np
import pytest

from app.testing import start_server, stop_server
from lstm_core import load_model
from tests.conftest import ROOT, need_module

HOLD = 600  # seconds numba's import is held back in the server: far longer than any trace may take

# Imported by the server's interpreter at start (sitecustomize): `import numba` sleeps HOLD seconds before it runs,
# as a cold numba on a slow disk would; finding numba (jitcell.AVAILABLE) is not delayed.
SLOW_NUMBA = f"""
import importlib.abc, importlib.machinery, sys, time

class _Slow(importlib.abc.Loader):
    def __init__(self, real):
        self.real = real
    def create_module(self, spec):
        return self.real.create_module(spec)
    def exec_module(self, module):
        time.sleep({HOLD})
        self.real.exec_module(module)

class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "numba":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None:
            spec.loader = _Slow(spec.loader)
        return spec

sys.meta_path.insert(0, _Finder())
"""


@pytest.fixture()
def slow_numba_server(tmp_path, model_dir):
    need_module("numba")
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent(SLOW_NUMBA))
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]), "GATESCOPE_JIT_WARM": "1",
           "GATESCOPE_JIT": "1"}
    base, proc = start_server(model_dir, env=env)
    yield base
    stop_server(proc)


def test_first_trace_does_not_wait_for_the_compiled_step(slow_numba_server, model_dir):
    """Answered long before numba could have loaded (HOLD s), equal to torch's nn.LSTM within the parity suite's
    float32 tolerance; the server keeps serving."""
    import httpx

    torch = need_module("torch")
    text = "the quick brown fox"
    t0 = time.monotonic()
    with httpx.Client(base_url=slow_numba_server, timeout=HOLD / 2) as c:
        r = c.post("/api/trace", json={"model": "tiny-char", "text": text, "format": "json"})
        took = time.monotonic() - t0
        assert r.status_code == 200, r.text
        assert took < HOLD / 2, f"the first trace took {took:.0f} s: it waited for numba"
        assert c.get("/api/health").status_code == 200
    body = r.json()
    model = load_model(model_dir / "tiny-char.safetensors")
    cfg = model.lstm.config
    mod = torch.nn.LSTM(cfg.input_size, cfg.hidden_size, cfg.num_layers)
    mod.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.lstm.params.items()})
    x = torch.from_numpy(model.inputs(np.array(body["ids"])).astype(np.float32))  # (T, V) one-hot
    with torch.no_grad():
        out, _ = mod(x)  # (T, H)
    h = np.array(body["h"])  # (L, D, T, H)
    assert h.shape == (cfg.num_layers, 1, len(text), cfg.hidden_size)
    assert np.abs(h[-1, 0] - out.numpy()).max() <= 1e-5
