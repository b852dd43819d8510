"""Adam, clipping and the schedule against torch.optim.Adam, clip_grad_norm_ and the cosine formula."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstm_core.train.optim import Adam, clip_grad_norm, learning_rate


def test_adam_matches_torch_over_several_steps() -> None:
    rng = np.random.default_rng(0)
    params = {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal(5)}
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    topt = torch.optim.Adam(tparams.values(), lr=3e-3, betas=(0.9, 0.999), eps=1e-8)
    ours = Adam(lr=3e-3)
    for step in range(6):
        grads = {k: rng.standard_normal(v.shape) * (step + 1) for k, v in params.items()}
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k])
        topt.step()
        ours.step(params, grads, lr=3e-3)
    for k in params:
        np.testing.assert_allclose(params[k], tparams[k].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_adam_state_round_trips_through_tensors() -> None:
    rng = np.random.default_rng(1)
    p = {"w": rng.standard_normal(3)}
    a = Adam(lr=0.1)
    a.step(p, {"w": np.ones(3)})
    b = Adam(lr=0.1)
    b.load_state_tensors(a.state_tensors(), a.t)
    p2 = {"w": p["w"].copy()}
    a.step(p, {"w": np.arange(3.0)})
    b.step(p2, {"w": np.arange(3.0)})
    assert np.array_equal(p["w"], p2["w"])


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_matches_torch(max_norm: float) -> None:
    rng = np.random.default_rng(2)
    grads = {"a": rng.standard_normal((3, 3)), "b": rng.standard_normal(4)}
    ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for t, g in zip(ts, grads.values(), strict=True):
        t.grad = torch.tensor(g)
    want = torch.nn.utils.clip_grad_norm_(ts, max_norm).item()
    assert clip_grad_norm(grads, max_norm) == pytest.approx(want, rel=1e-12)
    for t, g in zip(ts, grads.values(), strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)


def test_schedule() -> None:
    assert learning_rate(0, 1.0, 100, "constant") == 1.0
    assert learning_rate(0, 1.0, 101, "cosine") == 1.0
    assert learning_rate(101, 1.0, 101, "cosine") == pytest.approx(0.1)  # reaches lr/10 one step past the end
    assert learning_rate(50, 1.0, 100, "cosine") == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert [learning_rate(k, 1.0, 100, "cosine", warmup=4) for k in range(4)] == [0.25, 0.5, 0.75, 1.0]
