"""A reverse-only LSTM (ONNX direction="reverse") reads right to left; index t is still input position t.

Reference: torch has no reverse-only LSTM, but reading x right to left is torch's nn.LSTM on x flipped in
time (within each sequence's length), with the outputs flipped back.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_core import LSTM, LSTMConfig, ModelError
from lstm_core.explain import step_terms


@pytest.mark.parametrize("layers,proj", [(1, 0), (2, 0), (3, 2)])
def test_reverse_equals_torch_on_the_flipped_input(layers: int, proj: int) -> None:
    torch.manual_seed(layers)
    net = torch.nn.LSTM(3, 5, layers, proj_size=proj, batch_first=True, dtype=torch.float64)
    sd = net.state_dict()
    rev = LSTM.from_torch_state_dict(sd, reverse=True)
    B, T = 4, 9
    x = torch.randn(B, T, 3, dtype=torch.float64)
    lens = np.array([9, 4, 1, 7])
    tr = rev.trace(x.numpy(), lengths=lens)
    for b, n in enumerate(lens):
        with torch.no_grad():
            out, (h_n, c_n) = net(x[b : b + 1, :n].flip(1))
        np.testing.assert_allclose(tr.output[b, :n], out[0].flip(0).numpy(), atol=1e-12)
        np.testing.assert_allclose(tr.h_n[b], h_n[:, 0].numpy(), atol=1e-12)
        np.testing.assert_allclose(tr.c_n[b], c_n[:, 0].numpy(), atol=1e-12)
        assert not tr.output[b, n:].any()  # padding stays zero


def test_reverse_is_not_causal_and_cannot_be_bidirectional() -> None:
    from lstm_core import Model, Tokenizer

    tok = Tokenizer.build("abc", unk=True)
    lstm = LSTM.random(LSTMConfig(len(tok), 4, reverse=True), seed=0)
    assert not Model(lstm, "onehot", tok).is_causal  # the prefix cache must not reuse its states
    with pytest.raises(ModelError, match="reverse"):
        LSTMConfig(3, 4, bidirectional=True, reverse=True)


def test_step_terms_of_a_reverse_lstm_take_the_next_position_as_previous() -> None:
    lstm = LSTM.random(LSTMConfig(3, 4, 2, reverse=True), seed=1, dtype=np.float64)
    x = np.random.default_rng(2).standard_normal((6, 3))
    tr = lstm.trace(x)
    for t in (5, 2, 0):
        s = step_terms(lstm, x, tr, 1, 0, t, 3)
        c_prev = tr.c[1, 0, t + 1, 3] if t < 5 else 0.0
        assert s.c_prev == pytest.approx(c_prev, abs=1e-12)
        assert s.c == pytest.approx(tr.c[1, 0, t, 3], abs=1e-12)
