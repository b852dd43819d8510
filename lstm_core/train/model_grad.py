"""The language model's forward and backward: input (one-hot or embedding), stacked LSTM, decoder, loss.

Parameters live in one flat dict under the native file's tensor names (`lstm.weight_ih_l0`, ...,
`embedding.weight`, `decoder.weight`, `decoder.bias`) in torch's layout, so a trained dict becomes a
`lstm_core.Model` without renaming and its gradients have the same keys. Inside a step everything is
time-major (T, B, ...); the caller's batches are (B, T) like torch's batch_first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..gates import gate_scale, to_internal, to_torch
from ..lstm import LSTM, LSTMConfig, param_names
from ..model import Model
from ..tokenizers import Tokenizer
from .cell import layer_backward, layer_forward, weight_grads

State = list[tuple[NDArray, NDArray]]  # per layer (h, c), each (B, H)


@dataclass(frozen=True)
class NetSpec:
    vocab_size: int
    hidden_size: int
    num_layers: int = 1
    input_kind: str = "onehot"  # "onehot" or "embedding"
    embed_size: int = 0  # embedding width; ignored for one-hot input
    dropout: float = 0.0  # between LSTM layers, as torch nn.LSTM(dropout=...)

    @property
    def input_size(self) -> int:
        return self.vocab_size if self.input_kind == "onehot" else self.embed_size

    def lstm_config(self) -> LSTMConfig:
        return LSTMConfig(input_size=self.input_size, hidden_size=self.hidden_size, num_layers=self.num_layers)


def init_params(spec: NetSpec, seed: int, dtype=np.float32, forget_bias: float = 0.0) -> dict[str, NDArray]:
    """torch's default initialisation: U(+-1/sqrt(H)) for LSTM and decoder, N(0, 1) for the embedding.

    forget_bias is added to bias_ih's f rows: a positive value starts every forget gate near 1, so an
    error signal survives a long gap from the first step of training (Jozefowicz et al. 2015).
    """
    rng = np.random.default_rng(seed)
    H, V = spec.hidden_size, spec.vocab_size
    k = 1 / np.sqrt(H)
    p = {f"lstm.{n}": rng.uniform(-k, k, s).astype(dtype) for n, s in param_names(spec.lstm_config()).items()}
    for layer in range(spec.num_layers):
        p[f"lstm.bias_ih_l{layer}"][H : 2 * H] += forget_bias
    if spec.input_kind == "embedding":
        p["embedding.weight"] = rng.standard_normal((V, spec.embed_size)).astype(dtype)
    p["decoder.weight"] = rng.uniform(-k, k, (V, H)).astype(dtype)
    p["decoder.bias"] = rng.uniform(-k, k, V).astype(dtype)
    return p


def to_model(params: dict[str, NDArray], spec: NetSpec, tokenizer: Tokenizer, meta: dict | None = None) -> Model:
    lstm = LSTM(spec.lstm_config(), {k[5:]: v for k, v in params.items() if k.startswith("lstm.")})
    return Model(lstm, spec.input_kind, tokenizer, params.get("embedding.weight"), params["decoder.weight"],
                 params["decoder.bias"], dict(meta or {}))


def zero_state(spec: NetSpec, B: int, dtype) -> State:
    return [(np.zeros((B, spec.hidden_size), dtype), np.zeros((B, spec.hidden_size), dtype))
            for _ in range(spec.num_layers)]


ONEHOT_SCATTER_MAX_V = 384  # measured: above this the one-hot product's V*N*G flops cost more than a sort


def scatter_rows(ids: NDArray, d: NDArray, V: int) -> NDArray:
    """(V, G) sums of the rows of d (N, G) grouped by ids (N,): the gradient of a row lookup.

    Small vocabularies: one one-hot product in BLAS. Large ones (a few thousand Chinese characters):
    sort the rows by id and sum each run with np.add.reduceat, O(N G) whatever V is (np.add.at,
    used here before, was 1.2-1.7x slower; see bench/train_vocab.py).
    """
    if V <= ONEHOT_SCATTER_MAX_V:
        onehot = np.zeros((V, len(ids)), d.dtype)  # (V, N)
        onehot[ids, np.arange(len(ids))] = 1
        return onehot @ d
    order = np.argsort(ids, kind="stable")  # (N,)
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # first row of each id's run
    out = np.zeros((V, d.shape[1]), d.dtype)
    out[sorted_ids[starts]] = np.add.reduceat(d[order], starts, axis=0)  # (distinct ids, G)
    return out


@dataclass
class Result:
    loss: float  # mean cross-entropy in nats over the weighted positions
    grads: dict[str, NDArray] | None
    state: State  # final (h, c) per layer, to carry into the next truncated segment
    output: NDArray  # (B, T, H) last layer's h


def forward_backward(params: dict[str, NDArray], spec: NetSpec, x: NDArray, y: NDArray, state: State,
                     weight: NDArray | None = None, rng: np.random.Generator | None = None,
                     need_grad: bool = True) -> Result:
    """Loss of predicting y (B, T) from x (B, T) starting from `state`, and its gradients.

    weight (B, T) scores positions (0 ignores one); dropout applies only when rng is given.
    """
    B, T = x.shape
    H, V, L = spec.hidden_size, spec.vocab_size, spec.num_layers
    dt = params["decoder.weight"].dtype
    s = gate_scale(H, dt)
    ids = np.ascontiguousarray(x.T)  # (T, B)
    weights, inputs, caches, masks = [], [], [], []
    for k in range(L):
        W_ih = to_internal(params[f"lstm.weight_ih_l{k}"], H)  # (4H, D)
        W_hh = to_internal(params[f"lstm.weight_hh_l{k}"], H)  # (4H, H)
        b = to_internal(params[f"lstm.bias_ih_l{k}"] + params[f"lstm.bias_hh_l{k}"], H) * s  # (4H,)
        W_ihT_s = (W_ih * s[:, None]).T  # (D, 4H)
        if k == 0 and spec.input_kind == "onehot":
            xin = None
            zx = W_ihT_s[ids]  # (T, B, 4H): a one-hot product is a row lookup
            zx += b
        else:
            if k == 0:
                xin = params["embedding.weight"][ids]  # (T, B, E)
            else:
                xin = caches[-1].h
                if rng is not None and spec.dropout > 0:
                    keep = (rng.random(xin.shape) >= spec.dropout).astype(dt) / dt.type(1 - spec.dropout)
                    masks.append(keep)
                    xin = xin * keep
            zx = (xin.reshape(T * B, -1) @ W_ihT_s).reshape(T, B, 4 * H)
            zx += b
        caches.append(layer_forward(zx, W_hh, state[k][0], state[k][1]))
        weights.append((W_ih, W_hh))
        inputs.append(xin)
    out = caches[-1].h.reshape(T * B, H)  # (N, H), row t*B + b
    logits = out @ params["decoder.weight"].T  # (N, V)
    logits += params["decoder.bias"]
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    p = logits  # (N, V) softmax
    yt = y.T.reshape(-1)  # (N,)
    w = np.ones(T * B, dt) if weight is None else np.ascontiguousarray(weight.T).reshape(-1).astype(dt)
    total = float(w.sum())
    rows = np.arange(T * B)
    nll = -np.log(np.maximum(p[rows, yt], np.finfo(dt).tiny))  # (N,)
    loss = float(np.dot(nll.astype(np.float64), w) / max(total, 1.0))
    new_state = [(cc.h[-1].copy(), cc.c[-1].copy()) for cc in caches]
    output = caches[-1].h.transpose(1, 0, 2)
    if not need_grad:
        return Result(loss, None, new_state, output)

    grads: dict[str, NDArray] = {}
    dlogits = p
    dlogits[rows, yt] -= 1
    dlogits *= (w / max(total, 1.0))[:, None]  # (N, V)
    grads["decoder.weight"] = dlogits.T @ out  # (V, H)
    grads["decoder.bias"] = dlogits.sum(axis=0)
    dH = (dlogits @ params["decoder.weight"]).reshape(T, B, H)
    for k in range(L - 1, -1, -1):
        W_ih, W_hh = weights[k]
        dZ, _, _ = layer_backward(caches[k], dH, W_hh)
        dW_ih, dW_hh, db = weight_grads(dZ, inputs[k], caches[k])
        if inputs[k] is None:  # one-hot input: W_ih's columns were looked up by token
            dW_ih = scatter_rows(ids.reshape(-1), dZ.reshape(T * B, -1), V).T  # (4H, V)
        grads[f"lstm.weight_ih_l{k}"] = to_torch(dW_ih, H)
        grads[f"lstm.weight_hh_l{k}"] = to_torch(dW_hh, H)
        grads[f"lstm.bias_ih_l{k}"] = to_torch(db, H)
        grads[f"lstm.bias_hh_l{k}"] = grads[f"lstm.bias_ih_l{k}"].copy()  # both biases add into z
        if k > 0 or spec.input_kind == "embedding":
            dX = (dZ.reshape(T * B, -1) @ W_ih).reshape(T, B, -1)  # (T, B, D)
            if k > 0:
                dH = dX * masks[k - 1] if masks else dX
            else:
                grads["embedding.weight"] = scatter_rows(ids.reshape(-1), dX.reshape(T * B, -1), V)
    return Result(loss, grads, new_state, output)

