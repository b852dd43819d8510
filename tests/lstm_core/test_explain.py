"""step_terms against torch: every term recomputed from an nn.LSTM's own weights and states."""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core import LSTM, LSTMConfig
from lstm_core.explain import step_terms

torch = pytest.importorskip("torch")
GATES = "ifgo"


def torch_layers(net: torch.nn.LSTM) -> list[torch.nn.LSTM]:
    """One single-layer nn.LSTM per layer of `net`, with its weights, so every layer's states are visible."""
    sd, out = net.state_dict(), []
    for k in range(net.num_layers):
        in_k = net.input_size if k == 0 else (net.proj_size or net.hidden_size) * (1 + net.bidirectional)
        layer = torch.nn.LSTM(in_k, net.hidden_size, 1, bidirectional=net.bidirectional, proj_size=net.proj_size)
        layer = layer.double()
        layer.load_state_dict({n.replace(f"_l{k}", "_l0"): v for n, v in sd.items() if f"_l{k}" in n})
        out.append(layer)
    return out


@torch.no_grad()
def expected(net, x, layer, d, t, unit):
    """The step's terms computed with torch alone."""
    layers = torch_layers(net)
    inp = x
    for k in range(layer):
        inp = layers[k](inp)[0]
    out, _ = layers[layer](inp)  # (T, D*H_out)
    sfx = "_reverse" if d else ""
    sd = {n: v for n, v in layers[layer].state_dict().items()}
    H, Ho, T = net.hidden_size, net.proj_size or net.hidden_size, x.shape[0]
    prev = t - 1 if d == 0 else t + 1
    first = not 0 <= prev < T
    h_prev = torch.zeros(Ho, dtype=torch.float64) if first else out[prev, d * Ho:(d + 1) * Ho]

    def cell_after(seq):  # the cell state of direction d after running over seq
        if seq.shape[0] == 0:
            return torch.zeros(H, dtype=torch.float64)
        return layers[layer](seq)[1][1][d]

    c_prev = cell_after(inp[:t] if d == 0 else inp[t + 1:])
    c = cell_after(inp[: t + 1] if d == 0 else inp[t:])
    terms = {}
    for j, name in enumerate(GATES):
        r = j * H + unit
        parts = {"W_x": float(sd[f"weight_ih_l0{sfx}"][r] @ inp[t]), "b_ih": float(sd[f"bias_ih_l0{sfx}"][r]),
                 "W_h": float(sd[f"weight_hh_l0{sfx}"][r] @ h_prev), "b_hh": float(sd[f"bias_hh_l0{sfx}"][r])}
        pre = torch.tensor(sum(parts.values()), dtype=torch.float64)
        parts["value"] = float(torch.tanh(pre) if name == "g" else torch.sigmoid(pre))
        terms[name] = parts
    h = None if net.proj_size else float(out[t, d * Ho + unit])
    return terms, float(c_prev[unit]), float(c[unit]), h


@pytest.mark.parametrize("bidirectional, proj_size", [(False, 0), (True, 0), (True, 2)])
def test_step_terms_equal_torch(bidirectional, proj_size):
    torch.manual_seed(0)
    net = torch.nn.LSTM(4, 5, 2, bidirectional=bidirectional, proj_size=proj_size).double()
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-0.8, 0.8)  # wider than the default init, so gates leave the linear region
    x = torch.randn(6, 4, dtype=torch.float64)
    lstm = LSTM.from_torch_state_dict(net.state_dict())
    tr = lstm.trace(x.numpy())
    for layer in range(2):
        for d in range(1 + bidirectional):
            for t in (0, 3, 5):
                unit = (layer + 2 * d + t) % 5
                s = step_terms(lstm, x.numpy(), tr, layer, d, t, unit)
                terms, c_prev, c, h = expected(net, x, layer, d, t, unit)
                for name in GATES:
                    got = s.terms[name]
                    for key, want in terms[name].items():
                        assert getattr(got, key) == pytest.approx(want, abs=1e-12), (layer, d, t, name, key)
                    assert got.pre == pytest.approx(got.W_x + got.b_ih + got.W_h + got.b_hh, abs=1e-15)
                    assert got.peephole is None
                assert s.c_prev == pytest.approx(c_prev, abs=1e-12)
                assert s.c == pytest.approx(c, abs=1e-12)
                if h is not None:
                    assert s.h == pytest.approx(h, abs=1e-12)
                assert s.projected is bool(proj_size)


def test_peepholes_clip_and_input_forget_follow_the_engine():
    """Options torch lacks (ONNX semantics): the terms reproduce the engine's recorded values."""
    cfg = LSTMConfig(3, 4, 1, peepholes=True, clip=0.7, input_forget=True)
    lstm = LSTM.random(cfg, seed=5, dtype=np.float64)
    x = np.random.default_rng(1).normal(size=(5, 3))
    tr = lstm.trace(x, record_pre=True)
    for t in range(5):
        s = step_terms(lstm, x, tr, 0, 0, t, 1)
        P = lstm.params["weight_peephole_l0"]
        c_prev = 0.0 if t == 0 else tr.c[0, 0, t - 1, 1]
        assert s.terms["i"].peephole == pytest.approx(P[0, 1] * c_prev, abs=1e-15)
        assert s.terms["o"].peephole == pytest.approx(P[2, 1] * s.c, abs=1e-15)
        assert s.terms["g"].peephole is None
        assert all(abs(s.terms[k].pre) <= 0.7 for k in GATES)
        assert s.terms["f"].value == pytest.approx(1 - s.terms["i"].value, abs=1e-15)
        for k in GATES:
            assert s.terms[k].value == pytest.approx(tr.gate(k)[0, 0, t, 1], abs=1e-12)
        assert s.c == pytest.approx(tr.c[0, 0, t, 1], abs=1e-12)
        assert s.h == pytest.approx(tr.h[0, 0, t, 1], abs=1e-12)


def test_out_of_range_is_a_model_error():
    from lstm_core import ModelError

    lstm = LSTM.random(LSTMConfig(3, 4, 1))
    x = np.zeros((2, 3), np.float32)
    tr = lstm.trace(x)
    with pytest.raises(ModelError, match="layer 1 does not exist"):
        step_terms(lstm, x, tr, 1, 0, 0, 0)
    with pytest.raises(ModelError, match="direction 1 does not exist"):
        step_terms(lstm, x, tr, 0, 1, 0, 0)
