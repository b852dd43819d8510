"""Clamping (lstm_core.interventions) against an independent torch recomputation, and its causality.

The reference steps torch by hand: `nn.LSTMCell` itself where the clamp is on h (the cell's output),
and torch ops on the cell's own weights where the clamp sits inside the step (i, f, g, o, c); that
hand step is first checked to equal `nn.LSTMCell` and `nn.LSTM` when nothing is clamped.
"""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core import LSTM, LSTMConfig, ModelError
from lstm_core.activations import HARD_SIGMOID_KERAS2, Activation
from lstm_core.interventions import QUANTITIES, Intervention, trace_with_interventions
from tests.conftest import need_module

torch = need_module("torch")


def _torch_step(cell, x, h, c, clamps):
    """One LSTMCell step in torch ops with clamps {quantity: [(unit, value)]} applied in the LSTM's order."""
    z = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    zi, zf, zg, zo = z.chunk(4, dim=-1)  # torch's gate order i|f|g|o
    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    for name, v in (("i", i), ("f", f), ("g", g), ("o", o)):
        for u, val in clamps.get(name, ()):
            v[u] = val
    c = f * c + i * g
    for u, val in clamps.get("c", ()):
        c[u] = val
    h = o * torch.tanh(c)
    return h, c


def _reference(lstm: LSTM, x: np.ndarray, ivs: list[Intervention]) -> dict[str, np.ndarray]:
    """Final-layer output and every layer's c, h by torch, layer by layer, direction by direction."""
    cfg = lstm.config
    T, L, D, H = x.shape[0], cfg.num_layers, cfg.num_directions, cfg.hidden_size
    sd = {k: torch.from_numpy(np.array(v)) for k, v in lstm.params.items()}
    inp = torch.from_numpy(x)
    hs, cs = np.zeros((L, D, T, H)), np.zeros((L, D, T, H))
    with torch.no_grad():
        for k in range(L):
            outs = []
            for d in range(D):
                sfx = f"l{k}" + ("_reverse" if d else "")
                cell = torch.nn.LSTMCell(inp.shape[1], H, dtype=torch.float64)
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(cell, name).copy_(sd[f"{name}_{sfx}"])
                h, c = torch.zeros(H, dtype=torch.float64), torch.zeros(H, dtype=torch.float64)
                out = torch.zeros(T, H, dtype=torch.float64)
                for t in (range(T - 1, -1, -1) if d else range(T)):
                    here = [iv for iv in ivs if (iv.layer, iv.direction) == (k, d)
                            and (iv.positions is None or t in iv.positions)]
                    inner = {}
                    for iv in here:
                        if iv.quantity != "h":
                            inner.setdefault(iv.quantity, []).append((iv.unit, iv.value))
                    if inner:
                        h, c = _torch_step(cell, inp[t], h, c, inner)
                    else:
                        h, c = cell(inp[t], (h, c))  # the real nn.LSTMCell
                    h = h.clone()
                    for iv in here:
                        if iv.quantity == "h":
                            h[iv.unit] = iv.value
                    out[t], cs[k, d, t] = h, c.numpy()
                hs[k, d] = out.numpy()
                outs.append(out)
            inp = torch.cat(outs, dim=1)
    return {"output": inp.numpy(), "h": hs, "c": cs}


def _random_ivs(rng: np.random.Generator, cfg: LSTMConfig, T: int, n: int) -> list[Intervention]:
    ivs = []
    for _ in range(n):
        q = QUANTITIES[int(rng.integers(6))]
        pos = None if rng.random() < 0.3 else tuple(int(t) for t in rng.choice(T, int(rng.integers(1, 4)), False))
        value = float(rng.uniform(0, 1) if q in "ifo" else rng.uniform(-2, 2))
        ivs.append(Intervention(int(rng.integers(cfg.num_layers)), int(rng.integers(cfg.num_directions)),
                                int(rng.integers(cfg.hidden_size)), q, value, pos))
    return ivs


@pytest.mark.parametrize("seed", range(12))
def test_clamped_run_equals_torch_stepped_by_hand(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cfg = LSTMConfig(int(rng.integers(1, 6)), int(rng.integers(1, 7)), int(rng.integers(1, 4)),
                     bidirectional=bool(seed % 2))
    lstm = LSTM.random(cfg, seed=seed, dtype=np.float64)
    T = int(rng.integers(1, 12))
    x = rng.standard_normal((T, cfg.input_size))
    ivs = _random_ivs(rng, cfg, T, int(rng.integers(1, 5)))
    tr = trace_with_interventions(lstm, x, ivs)
    ref = _reference(lstm, x, ivs)
    np.testing.assert_allclose(tr.output, ref["output"], atol=1e-12)
    np.testing.assert_allclose(tr.h, ref["h"], atol=1e-12)
    np.testing.assert_allclose(tr.c, ref["c"], atol=1e-12)


def test_the_hand_stepped_reference_is_torch_when_nothing_is_clamped() -> None:
    cfg = LSTMConfig(3, 5, 2, bidirectional=True)
    lstm = LSTM.random(cfg, seed=1, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((7, 3))
    net = torch.nn.LSTM(3, 5, 2, bidirectional=True, dtype=torch.float64)
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.from_numpy(np.array(lstm.params[name])))
        want = net(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(_reference(lstm, x, [])["output"], want, atol=1e-12)
    cell = torch.nn.LSTMCell(3, 5, dtype=torch.float64)
    h = c = torch.zeros(5, dtype=torch.float64)
    with torch.no_grad():
        a = cell(torch.from_numpy(x[0]), (h, c))
        b = _torch_step(cell, torch.from_numpy(x[0]), h, c, {})
    np.testing.assert_allclose(a[0].numpy(), b[0].numpy(), atol=1e-14)
    np.testing.assert_allclose(a[1].numpy(), b[1].numpy(), atol=1e-14)


@pytest.mark.parametrize("cfg", [
    LSTMConfig(4, 5, 2), LSTMConfig(4, 6, 2, bidirectional=True, proj_size=3), LSTMConfig(4, 5, reverse=True),
    LSTMConfig(4, 5, peepholes=True, clip=1.5), LSTMConfig(4, 5, input_forget=True, bias=False),
    LSTMConfig(4, 5, recurrent_activation=HARD_SIGMOID_KERAS2, cell_activation=Activation("softsign")),
], ids=["stacked", "bidirectional-proj", "reverse", "peephole-clip", "input-forget", "activations"])
def test_without_clamps_it_is_the_core_trace(cfg: LSTMConfig) -> None:
    lstm = LSTM.random(cfg, seed=2, dtype=np.float64)
    x = np.random.default_rng(2).standard_normal((9, 4))
    h0 = np.random.default_rng(3).standard_normal((cfg.num_layers * cfg.num_directions, cfg.output_size))
    c0 = np.random.default_rng(4).standard_normal((cfg.num_layers * cfg.num_directions, cfg.hidden_size))
    a, b = trace_with_interventions(lstm, x, [], h0, c0), lstm.trace(x, h0, c0)
    for q in (*QUANTITIES, "output", "h_n", "c_n"):
        np.testing.assert_allclose(getattr(a, q), getattr(b, q), atol=1e-12, err_msg=q)


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_a_clamp_at_t_changes_nothing_before_t_and_is_recorded(quantity: str) -> None:
    cfg = LSTMConfig(3, 4, 3)
    lstm = LSTM.random(cfg, seed=5, dtype=np.float64)
    x = np.random.default_rng(5).standard_normal((10, 3))
    base = trace_with_interventions(lstm, x)
    t = 6
    iv = Intervention(1, 0, 2, quantity, 0.0 if quantity != "f" else 1.0, (t,))
    tr = trace_with_interventions(lstm, x, [iv])
    for q in QUANTITIES:
        np.testing.assert_array_equal(getattr(tr, q)[..., :t, :], getattr(base, q)[..., :t, :])
    assert tr.gate(quantity)[1, 0, t, 2] == iv.value
    assert not np.allclose(tr.output[t:], base.output[t:])  # and it does change what follows
    np.testing.assert_array_equal(tr.h[0], base.h[0])  # the layer below never sees it


def test_a_clamp_in_the_backward_direction_changes_nothing_after_t() -> None:
    lstm = LSTM.random(LSTMConfig(3, 4, 1, bidirectional=True), seed=6, dtype=np.float64)
    x = np.random.default_rng(6).standard_normal((10, 3))
    base = trace_with_interventions(lstm, x)
    tr = trace_with_interventions(lstm, x, [Intervention(0, 1, 1, "c", 3.0, (4,))])
    np.testing.assert_array_equal(tr.c[0, 1, 5:], base.c[0, 1, 5:])
    np.testing.assert_array_equal(tr.h[0, 0], base.h[0, 0])  # the forward direction is untouched
    assert not np.allclose(tr.h[0, 1, :4], base.h[0, 1, :4])


def test_silencing_a_unit_everywhere() -> None:
    lstm = LSTM.random(LSTMConfig(3, 4, 2), seed=7, dtype=np.float64)
    tr = trace_with_interventions(lstm, np.ones((5, 3)), [Intervention(0, 0, 3, "h", 0.0)])
    assert (tr.h[0, 0, :, 3] == 0).all() and (tr.h[0, 0, :, :3] != 0).all()


@pytest.mark.parametrize("iv, match", [
    (Intervention(0, 0, 0, "z", 0.0), "cannot clamp 'z'"),
    (Intervention(2, 0, 0, "c", 0.0), "layer 2 does not exist"),
    (Intervention(0, 1, 0, "c", 0.0), "direction 1 does not exist"),
    (Intervention(0, 0, 4, "i", 0.5), "unit 4 does not exist"),
    (Intervention(0, 0, 0, "f", float("nan")), "finite number"),
    (Intervention(0, 0, 0, "f", 0.0, (5,)), "position 5 is outside the text"),
])
def test_bad_interventions_are_refused_with_a_sentence(iv: Intervention, match: str) -> None:
    lstm = LSTM.random(LSTMConfig(3, 4, 2), seed=8)
    with pytest.raises(ModelError, match=match):
        trace_with_interventions(lstm, np.zeros((5, 3)), [iv])
