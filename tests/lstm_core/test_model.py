"""Model.trace_text against the same language model built from torch modules."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_core import LSTM, LSTMConfig, Model, ModelError, Tokenizer

CORPUS = "the cat sat on the mat; 我来自内蒙古"


def torch_lm(V: int, E: int | None, H: int, layers: int, bidirectional: bool, dtype=torch.float64):
    """torch modules of a language model: optional embedding, nn.LSTM, linear decoder."""
    torch.manual_seed(0)
    emb = torch.nn.Embedding(V, E, dtype=dtype) if E else None
    lstm = torch.nn.LSTM(E or V, H, layers, bidirectional=bidirectional, dtype=dtype)
    dec = torch.nn.Linear(H * (1 + bidirectional), V, dtype=dtype)
    return emb, lstm, dec


def ours(tok: Tokenizer, emb, lstm, dec) -> Model:
    return Model(LSTM.from_torch_state_dict(lstm.state_dict()), "embedding" if emb else "onehot", tok,
                 embedding=emb.weight.detach().numpy() if emb else None,
                 decoder_weight=dec.weight.detach().numpy(), decoder_bias=dec.bias.detach().numpy())


def torch_probs(text: str, tok: Tokenizer, emb, lstm, dec) -> torch.Tensor:
    """(T, V) next-token probabilities, with the input built per character in torch."""
    V, dtype = len(tok), dec.weight.dtype
    rows = []
    for ch in text:
        j = tok.vocab.index(ch) if ch in tok.vocab else tok.vocab.index(tok.unk) if tok.unk else None
        if j is None:  # out of vocabulary and no unk: a zero input
            rows.append(torch.zeros(emb.embedding_dim if emb else V, dtype=dtype))
        else:
            rows.append(emb(torch.tensor(j)) if emb else torch.nn.functional.one_hot(torch.tensor(j), V).to(dtype))
    with torch.no_grad():
        out, _ = lstm(torch.stack(rows))
        return torch.softmax(dec(out), dim=-1)


@pytest.mark.parametrize("E,layers,bidirectional,dtype,tol", [
    (None, 1, False, torch.float64, 1e-12), (None, 2, True, torch.float32, 1e-6),
    (6, 3, False, torch.float64, 1e-12), (6, 2, True, torch.float32, 1e-6),
])
@pytest.mark.parametrize("unk", [True, False])
def test_probs_equal_torch_softmax_of_decoder(E, layers, bidirectional, dtype, tol, unk) -> None:
    tok = Tokenizer.build(CORPUS, "char", unk=unk)
    mods = torch_lm(len(tok), E, 5, layers, bidirectional, dtype)
    model = ours(tok, *mods)
    text = "the 蒙 cat 👍🏽 sat"  # the emoji is out of vocabulary: unk, or a zero input without one
    tt = model.trace_text(text)
    assert tt.tokens == list(text) and tt.oov == [10, 11]
    assert tt.probs.shape == (len(text), len(tok))
    np.testing.assert_allclose(tt.probs.sum(axis=1), 1, rtol=0, atol=tol)
    np.testing.assert_allclose(tt.probs, torch_probs(text, tok, *mods).numpy(), rtol=0, atol=tol)
    assert model.vocab_size == len(tok) and model.is_causal == (not bidirectional)


def test_continuing_from_a_state_equals_one_pass() -> None:
    tok = Tokenizer.build(CORPUS, "char")
    model = ours(tok, *torch_lm(len(tok), None, 4, 2, False))
    whole = model.trace_text("the cat sat")
    first = model.trace_text("the cat")
    rest = model.trace_text(" sat", h0=first.trace.h_n, c0=first.trace.c_n)
    np.testing.assert_allclose(rest.probs, whole.probs[7:], rtol=0, atol=1e-12)


def test_vector_model_has_no_vocabulary() -> None:
    model = Model(LSTM.random(LSTMConfig(3, 4), seed=0, dtype=np.float64), "vector", meta={"name": "v"})
    tr, probs = model.trace_vectors(np.ones((5, 3)))
    assert probs is None and tr.h.shape == (1, 1, 5, 4)
    assert model.name == "v" and model.vocab_size is None
    assert model.num_parameters == 4 * 4 * (3 + 4) + 2 * 4 * 4
    with pytest.raises(ModelError, match="no vocabulary"):
        model.trace_text("abc")
    with pytest.raises(ModelError, match="vectors must be"):
        model.trace_vectors(np.ones((5, 2)))
    with pytest.raises(ModelError, match="vectors"):
        model.inputs(np.array([0, 1]))


def test_num_parameters_counts_embedding_and_decoder() -> None:
    tok = Tokenizer.build(CORPUS, "char")
    emb, lstm, dec = torch_lm(len(tok), 6, 5, 2, True)
    want = sum(p.numel() for m in (emb, lstm, dec) for p in m.parameters())
    assert ours(tok, emb, lstm, dec).num_parameters == want


def test_trace_text_validation() -> None:
    tok = Tokenizer.build("abc", "char")
    model = Model(LSTM.random(LSTMConfig(len(tok), 3, num_layers=2), seed=0), "onehot", tok)
    with pytest.raises(ModelError, match="no tokens"):
        model.trace_text("")
    with pytest.raises(ModelError, match="h0 must have shape"):
        model.trace_text("ab", h0=np.zeros((1, 3)), c0=np.zeros((2, 3)))
    with pytest.raises(ModelError, match="NaN"):
        model.trace_text("ab", h0=np.full((2, 3), np.nan), c0=np.zeros((2, 3)))
    assert model.trace_text("ab").probs is None  # no decoder: no probabilities


@pytest.mark.parametrize("kwargs,words", [
    (dict(input_kind="pixels"), "unknown input kind"),
    (dict(tokenizer=None), "needs a tokenizer"),
    (dict(input_kind="embedding"), "embedding must be"),
    (dict(input_kind="embedding", embedding=np.zeros((4, 3))), "embedding must be"),
    (dict(decoder_weight=np.zeros((5, 3))), "decoder weight"),
    (dict(decoder_weight=np.zeros((4, 2))), "decoder weight"),
    (dict(decoder_weight=np.zeros((4, 3)), decoder_bias=np.zeros(5)), "decoder bias"),
    (dict(decoder_bias=np.zeros(4)), "decoder bias"),
    (dict(decoder_weight=np.full((4, 3), np.inf)), "NaN or infinite"),
])
def test_model_validation(kwargs: dict, words: str) -> None:
    tok = Tokenizer.build("abc", "char")  # V = 4 with <unk>
    base = dict(lstm=LSTM.random(LSTMConfig(4, 3), seed=0), input_kind="onehot", tokenizer=tok)
    with pytest.raises(ModelError, match=words):
        Model(**{**base, **kwargs})
