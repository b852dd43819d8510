"""What a model puts on top of its LSTM: a next-token decoder, a per-token tagger or a sequence classifier.

All three are one linear layer, weight (K, D*H_out) and bias (K,), followed by softmax (or a sigmoid per
class, for binary and multi-label heads). They differ in what they read:
- next_token: every position's output (torch's `output[t]`), K = the vocabulary; probs (T, K).
- tagger: every position's output, K labels (a diacritizer's marks, POS tags); probs (T, K).
- classifier: one vector for the whole sequence; probs (K,). `pool` says which vector:
  "final": the last layer's final hidden state of each direction, concatenated: torch's
      `torch.cat([h_n[-2], h_n[-1]], dim=1)` for a BiLSTM (`h_n[-1]` for one direction), and what Keras
      feeds a Dense after an LSTM or Bidirectional(LSTM) with return_sequences=False. For the backward
      direction that is its state after reading the whole text, i.e. at position 0.
  "last": the output at the last position, torch's `output[:, -1]`: for a BiLSTM the backward half has
      then read only the last token.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .errors import ModelError
from .predict import Predictions, activate, predict, probabilities
from .trace import Trace

KINDS = ("next_token", "tagger", "classifier")
POOLS = ("final", "last")
ACTIVATIONS = ("softmax", "sigmoid")


@dataclass(frozen=True, eq=False)
class Head:
    """A linear head: K outputs from the LSTM's output, read per position or once per sequence."""

    kind: str  # one of KINDS
    weight: NDArray  # (K, D * H_out)
    bias: NDArray | None  # (K,)
    labels: tuple[str, ...]  # K names: the vocabulary for next_token, class names otherwise
    pool: str = "final"  # classifier only: which vector it reads (module docstring)
    activation: str = "softmax"  # "sigmoid": K independent probabilities (binary or multi-label heads)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ModelError(f"unknown head kind {self.kind!r}; expected {', '.join(KINDS)}")
        if self.pool not in POOLS:
            raise ModelError(f"unknown classifier pooling {self.pool!r}; expected {' or '.join(POOLS)}")
        if self.activation not in ACTIVATIONS:
            raise ModelError(f"unknown head activation {self.activation!r}; expected {' or '.join(ACTIVATIONS)}")
        w, b = self.weight, self.bias
        if w.ndim != 2:
            raise ModelError(f"the head's weight must be 2-D (outputs, features), got shape {w.shape}")
        if b is not None and b.shape != (w.shape[0],):
            raise ModelError(f"the head's bias must be ({w.shape[0]},), got {b.shape}")
        if len(self.labels) != w.shape[0]:
            raise ModelError(f"the head has {w.shape[0]} outputs but {len(self.labels)} label names; "
                             "give one name per output row")
        if not all(isinstance(s, str) for s in self.labels):
            raise ModelError("every label name must be a string")

    @property
    def size(self) -> int:
        return self.weight.shape[0]

    @property
    def per_position(self) -> bool:
        """True when the head gives one answer per position (next_token, tagger), False for a classifier."""
        return self.kind != "classifier"

    def features(self, trace: Trace, directions: int) -> NDArray:
        """What the head reads: (..., T, D*H_out) per position, or (..., D*H_out) for a classifier."""
        if self.per_position:
            return trace.output
        if self.pool == "final":
            hn = trace.h_n  # (L*D, H_out), batched (B, L*D, H_out): the last D rows are the last layer
            return hn[..., -directions:, :].reshape(*hn.shape[:-2], -1)
        out = trace.output  # (T, D*H_out) or (B, T, D*H_out)
        if trace.batched and trace.lengths is not None:
            return out[np.arange(out.shape[0]), np.asarray(trace.lengths) - 1]  # each sequence's own last step
        return out[..., -1, :]

    def probs(self, trace: Trace, directions: int) -> NDArray:
        """(..., T, K) per position or (..., K) for a classifier: softmax, or sigmoid per output. Per position
        in blocks aligned to absolute positions (predict.py), the numbers `predictions` keeps."""
        if self.per_position:
            return probabilities(trace.output, self.weight, self.bias, self.activation)
        z = self.features(trace, directions) @ self.weight.T  # (..., K)
        if self.bias is not None:
            z += self.bias
        return activate(z, self.activation)

    def predictions(self, output: NDArray, ids: NDArray | None, k: int, first: int = 0) -> Predictions:
        """A per-position head's k likeliest outputs at positions first.. from output (T, D*H_out), never
        T x K at once; a next-token decoder also keeps the probability of the token in `ids` that came next."""
        nxt = ids if self.kind == "next_token" else None
        return predict(output, self.weight, self.bias, nxt, k, first, self.activation)

    def describe(self) -> str:
        """One phrase for notes and cards: what the head is and what it reads."""
        nouns = ("class", "classes") if self.kind == "classifier" else ("label", "labels")
        k = f"{self.size} {nouns[self.size != 1]}"
        act = ", a sigmoid per output" if self.activation == "sigmoid" else ""
        if self.kind == "next_token":
            return f"a next-token decoder over the {self.size}-token vocabulary{act}"
        if self.kind == "tagger":
            return f"a per-token tagger ({k}, one label per position, read from each position's output{act})"
        read = ("the last layer's final hidden state of each direction, concatenated (torch: cat(h_n[-2], h_n[-1]) "
                "for a BiLSTM; Keras: return_sequences=False)" if self.pool == "final"
                else "the output at the last position (torch: output[:, -1])")
        return f"a sequence classifier ({k}, one answer per text, read from {read}{act})"


def default_labels(k: int) -> tuple[str, ...]:
    """Label names when none were given: "0" .. "K-1"."""
    return tuple(str(j) for j in range(k))
