"""The trainer's forward and backward against torch autograd, central differences and LSTM.trace (float64)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_core.gates import to_internal, to_torch
from lstm_core.train.model_grad import NetSpec, forward_backward, init_params, to_model

SPECS = [
    NetSpec(vocab_size=7, hidden_size=5, num_layers=1, input_kind="onehot"),
    NetSpec(vocab_size=7, hidden_size=5, num_layers=3, input_kind="onehot"),
    NetSpec(vocab_size=9, hidden_size=4, num_layers=2, input_kind="embedding", embed_size=3),
]


def _problem(spec: NetSpec, seed: int = 0, B: int = 3, T: int = 6, weighted: bool = False):
    rng = np.random.default_rng(seed)
    params = init_params(spec, seed + 1, np.float64)
    x = rng.integers(0, spec.vocab_size, (B, T))
    y = rng.integers(0, spec.vocab_size, (B, T))
    state = [(rng.standard_normal((B, spec.hidden_size)), rng.standard_normal((B, spec.hidden_size)))
             for _ in range(spec.num_layers)]
    w = rng.integers(0, 2, (B, T)).astype(float) if weighted else None
    return params, x, y, state, w


def _torch_grads(spec: NetSpec, params, x, y, state, w):
    """Loss and gradients of the same model written with torch nn.LSTM, nn.functional and autograd."""
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    lstm = torch.nn.LSTM(spec.input_size, spec.hidden_size, spec.num_layers, batch_first=True).double()
    with torch.no_grad():
        for n, p in lstm.named_parameters():
            p.copy_(tp[f"lstm.{n}"])
    xt = torch.tensor(x)
    inp = (torch.nn.functional.one_hot(xt, spec.vocab_size).double() if spec.input_kind == "onehot"
           else tp["embedding.weight"][xt])
    h0 = torch.tensor(np.stack([h for h, _ in state]))
    c0 = torch.tensor(np.stack([c for _, c in state]))
    out, _ = lstm(inp, (h0, c0))
    logits = out @ tp["decoder.weight"].T + tp["decoder.bias"]
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, spec.vocab_size), torch.tensor(y).reshape(-1),
                                            reduction="none")
    loss = nll.mean() if w is None else (nll * torch.tensor(w).reshape(-1)).sum() / w.sum()
    loss.backward()
    grads = {f"lstm.{n}": p.grad.numpy() for n, p in lstm.named_parameters()}
    grads.update({k: tp[k].grad.numpy() for k in tp if not k.startswith("lstm.") and tp[k].grad is not None})
    return loss.item(), grads


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


@pytest.mark.parametrize("spec", SPECS, ids=["1layer-onehot", "3layer-onehot", "2layer-embedding"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_match_torch_autograd(spec: NetSpec, weighted: bool) -> None:
    params, x, y, state, w = _problem(spec, weighted=weighted)
    r = forward_backward(params, spec, x, y, state, w)
    loss, want = _torch_grads(spec, params, x, y, state, w)
    assert abs(r.loss - loss) <= 1e-12 * abs(loss)
    assert set(r.grads) == set(want) == set(params)
    for k in want:
        assert _rel(r.grads[k], want[k]) <= 1e-6, k


@pytest.mark.parametrize("spec", SPECS, ids=["1layer-onehot", "3layer-onehot", "2layer-embedding"])
def test_gradients_match_central_differences(spec: NetSpec) -> None:
    params, x, y, state, _ = _problem(spec, seed=3, B=2, T=5)
    grads = forward_backward(params, spec, x, y, state).grads
    rng = np.random.default_rng(7)
    eps = 1e-6
    for name, p in params.items():
        # every entry of the small tensors, a random sample of the larger ones
        flat = np.arange(p.size) if p.size <= 40 else rng.choice(p.size, 40, replace=False)
        num = np.empty(len(flat))
        for j, k in enumerate(flat):
            idx = np.unravel_index(k, p.shape)
            keep = p[idx]
            p[idx] = keep + eps
            up = forward_backward(params, spec, x, y, state, need_grad=False).loss
            p[idx] = keep - eps
            down = forward_backward(params, spec, x, y, state, need_grad=False).loss
            p[idx] = keep
            num[j] = (up - down) / (2 * eps)
        got = grads[name].reshape(-1)[flat]
        if name == "embedding.weight":  # rows of tokens never seen have zero gradient either way
            assert np.allclose(got[num == 0], 0)
        assert _rel(got, num) <= 1e-6, name


@pytest.mark.parametrize("spec", SPECS, ids=["1layer-onehot", "3layer-onehot", "2layer-embedding"])
def test_trainer_forward_equals_lstm_trace(spec: NetSpec) -> None:
    params, x, y, state, _ = _problem(spec, seed=5)
    r = forward_backward(params, spec, x, y, state, need_grad=False)
    model = to_model(params, spec, tokenizer=_tokenizer(spec.vocab_size))
    inputs = np.stack([model.inputs(row) for row in x])  # (B, T, D)
    h0 = np.stack([h for h, _ in state], axis=1)  # (B, L, H)
    c0 = np.stack([c for _, c in state], axis=1)
    tr = model.lstm.trace(inputs, h0=h0, c0=c0)
    np.testing.assert_allclose(r.output, tr.output, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.stack([h for h, _ in r.state], axis=1), tr.h_n, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.stack([c for _, c in r.state], axis=1), tr.c_n, rtol=0, atol=1e-12)


def test_dropout_masks_change_the_loss_and_off_means_deterministic() -> None:
    spec = NetSpec(vocab_size=7, hidden_size=5, num_layers=2, dropout=0.5)
    params, x, y, state, _ = _problem(spec)
    plain = forward_backward(params, spec, x, y, state).loss
    assert forward_backward(params, spec, x, y, state).loss == plain  # no rng: dropout is off
    dropped = forward_backward(params, spec, x, y, state, rng=np.random.default_rng(0)).loss
    assert dropped != plain


def test_gate_order_conversion_round_trips() -> None:
    a = np.arange(4 * 3 * 2).reshape(12, 2)
    assert np.array_equal(to_torch(to_internal(a, 3), 3), a)
    assert np.array_equal(to_internal(a, 3)[6:9], a[9:12])  # o moved before g


def _tokenizer(V: int):
    from lstm_core import Tokenizer

    return Tokenizer("char", tuple(chr(65 + k) for k in range(V)))
