"""A model around the LSTM: tokenizer, input embedding (or one-hot), and a head (head.py) on top."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .errors import ModelError
from .head import Head, default_labels
from .lstm import LSTM
from .predict import Predictions
from .tokenizers import Tokenizer, Tokens
from .trace import Trace


@dataclass(frozen=True)
class TextTrace:
    """What `Model.trace_text` returns: the tokens as typed, and everything the model did with them."""

    tokens: list[str]
    ids: NDArray  # (T,)
    oov: list[int]  # positions out of vocabulary
    spans: list[tuple[int, int]]
    trace: Trace
    # The head's probabilities: (T, K) after each position for a next-token decoder or a tagger, (K,)
    # for a classifier; None without a head.
    probs: NDArray | None


@dataclass(frozen=True)
class Model:
    """An LSTM with how its inputs are made and how its outputs are read.

    input_kind: "onehot" (x_t is the one-hot of token t), "embedding" (x_t = embedding[token t]) or
    "vector" (no vocabulary: the caller supplies x directly).
    The linear layer on top is `decoder_weight`/`decoder_bias` (the file's `decoder.*` tensors, whatever
    the head); `head_kind`, `labels`, `pool` and `head_activation` say how it is read, and `head` is the
    resulting `Head` (None without one). A next-token decoder's rows are the vocabulary.
    """

    lstm: LSTM
    input_kind: str = "onehot"
    tokenizer: Tokenizer | None = None
    embedding: NDArray | None = None  # (V, input_size)
    decoder_weight: NDArray | None = None  # (V, D * H_out)
    decoder_bias: NDArray | None = None  # (V,)
    meta: dict = field(default_factory=dict)  # name, description, provenance, metrics, card
    head_kind: str = "next_token"  # next_token, tagger or classifier (head.py)
    labels: tuple[str, ...] | None = None  # tagger/classifier class names; None: "0".."K-1"
    pool: str = "final"  # classifier: which vector it reads (head.py)
    head_activation: str = "softmax"
    head: Head | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cfg = self.lstm.config
        if self.input_kind not in ("onehot", "embedding", "vector"):
            raise ModelError(f"unknown input kind {self.input_kind!r}; expected onehot, embedding or vector")
        V = len(self.tokenizer) if self.tokenizer is not None else None
        if self.input_kind != "vector" and V is None:
            raise ModelError(f"an {self.input_kind} model needs a tokenizer and vocabulary")
        if self.input_kind == "onehot" and cfg.input_size != V:
            raise ModelError(f"a one-hot model's input_size ({cfg.input_size}) must equal the vocabulary size ({V})")
        if self.input_kind == "embedding":
            e = self.embedding
            if e is None or e.shape != (V, cfg.input_size):
                got = None if e is None else e.shape
                raise ModelError(f"embedding must be (vocabulary {V}, input_size {cfg.input_size}), got {got}")
        if self.decoder_bias is not None and self.decoder_weight is None:
            raise ModelError("a decoder bias was given without a decoder weight")
        next_token = self.head_kind == "next_token"
        if self.decoder_weight is not None:
            rows = V if V is not None and next_token else self.decoder_weight.shape[0]
            want = (rows, cfg.num_directions * cfg.output_size)
            if self.decoder_weight.ndim != 2 or self.decoder_weight.shape != want:
                raise ModelError(f"decoder weight must be {want}, got {self.decoder_weight.shape}"
                                 + ("; a next-token decoder's rows must match the vocabulary" if next_token else ""))
            if self.decoder_bias is not None and self.decoder_bias.shape != (want[0],):
                raise ModelError(f"decoder bias must be ({want[0]},), got {self.decoder_bias.shape}")
        for name in ("embedding", "decoder_weight", "decoder_bias"):
            a = getattr(self, name)
            if a is not None and not np.isfinite(a).all():
                raise ModelError(f"{name} contains NaN or infinite values")
        head = None
        if self.decoder_weight is not None:
            K = self.decoder_weight.shape[0]
            if next_token and self.labels is not None:
                raise ModelError("a next-token decoder's labels are its vocabulary; label names are for "
                                 "a tagger or a classifier")
            names = self.labels if self.labels is not None else (
                self.tokenizer.vocab if next_token and self.tokenizer is not None else default_labels(K))
            head = Head(self.head_kind, self.decoder_weight, self.decoder_bias, tuple(names), self.pool,
                        self.head_activation)
        object.__setattr__(self, "head", head)

    @property
    def name(self) -> str:
        return self.meta.get("name", "model")

    @property
    def vocab_size(self) -> int | None:
        return len(self.tokenizer) if self.tokenizer is not None else None

    @property
    def is_causal(self) -> bool:
        """True when position t's values depend only on tokens up to t (one left-to-right direction)."""
        cfg = self.lstm.config
        return not cfg.bidirectional and not cfg.reverse

    @property
    def num_parameters(self) -> int:
        extra = sum(a.size for a in (self.embedding, self.decoder_weight, self.decoder_bias) if a is not None)
        return self.lstm.num_parameters + int(extra)

    def encode(self, text: str, wrap: bool = False) -> Tokens:
        if self.tokenizer is None:
            raise ModelError("this model has no vocabulary: trace it on vectors instead of text", "core.no_vocabulary")
        return self.tokenizer.encode(text, wrap)

    def inputs(self, ids: NDArray) -> NDArray:
        """(T,) token ids to (T, input_size) inputs; id -1 (unknown, no unk token) is a zero vector."""
        dt = self.lstm.dtype
        ids = np.asarray(ids)
        known = ids >= 0
        if self.input_kind == "onehot":
            x = np.zeros((len(ids), self.lstm.config.input_size), dt)
            x[np.nonzero(known)[0], ids[known]] = 1
            return x
        if self.input_kind == "embedding":
            x = self.embedding[np.where(known, ids, 0)].astype(dt, copy=False)
            x[~known] = 0
            return x
        raise ModelError("this model takes vectors, not token ids")

    @property
    def predicts_next(self) -> bool:
        """True for a language model: a next-token head over a vocabulary, so probs[t, ids[t + 1]] is P(next)."""
        return self.head is not None and self.head.kind == "next_token" and self.tokenizer is not None

    def outputs(self, trace: Trace) -> NDArray | None:
        """The head's probabilities: (..., T, K) per position, or (..., K) for a classifier; None without a head.
        Every one of them, so for short texts and checks (`predictions` keeps only what is sent)."""
        if self.head is None:
            return None
        return self.head.probs(trace, self.lstm.config.num_directions)

    def decode(self, trace: Trace) -> NDArray | None:
        """Next-token probabilities (..., T, V) from the LSTM output (..., T, D*H_out); None unless the
        head is a next-token decoder (`outputs` reads any head)."""
        if self.head is None or self.head.kind != "next_token":
            return None
        return self.outputs(trace)

    def predictions(self, output: NDArray, ids: NDArray, k: int, first: int = 0) -> Predictions | None:
        """A per-position head's k likeliest outputs (and, for a next-token decoder, the actual next token's
        probability) at positions first.. of a text with token ids `ids`, from output (T, D*H_out); never
        T x K at once (predict.py). None without a head or for a classifier (one answer per text: `outputs`)."""
        if self.head is None or not self.head.per_position:
            return None
        return self.head.predictions(output, ids, k, first)

    def classes(self, trace: Trace) -> NDArray | None:
        """A classifier's one distribution per text, (K,); None for a per-position head (`predictions`) or none."""
        if self.head is None or self.head.per_position:
            return None
        return self.outputs(trace)

    def trace_ids(self, ids: NDArray, h0=None, c0=None, record_pre: bool = False,
                  offset: int = 0) -> tuple[Trace, NDArray | None]:
        """Run token ids; (trace, the head's probabilities as `outputs` gives them). `offset` is the position
        of ids[0] in a longer text continued from (h0, c0), so that every step is computed exactly as a run
        over the whole text computes it."""
        tr = self.run(ids, h0, c0, record_pre, offset)
        return tr, self.outputs(tr)

    def run(self, ids: NDArray, h0=None, c0=None, record_pre: bool = False, offset: int = 0) -> Trace:
        """`trace_ids` without the head."""
        return self.lstm.trace(self.inputs(ids), h0=h0, c0=c0, record_pre=record_pre, offset=offset)

    def trace_text(self, text: str, h0=None, c0=None, record_pre: bool = False, wrap: bool = False) -> TextTrace:
        """Tokenize, run and read the head on `text`; starts from (h0, c0) when given (unbatched layout).

        `wrap` puts the vocabulary's begin and end tokens around the text (Tokenizer.encode).
        """
        tok = self.encode(text, wrap)
        if not tok.tokens:
            raise ModelError("the text has no tokens: type at least one character")
        tr, probs = self.trace_ids(tok.ids, h0, c0, record_pre)
        return TextTrace(tok.tokens, tok.ids, tok.oov, tok.spans, tr, probs)

    def trace_vectors(self, x: NDArray, record_pre: bool = False) -> tuple[Trace, NDArray | None]:
        tr = self.run_vectors(x, record_pre)
        return tr, self.outputs(tr)

    def run_vectors(self, x: NDArray, record_pre: bool = False) -> Trace:
        """`trace_vectors` without the head."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.lstm.config.input_size:
            raise ModelError(f"vectors must be (T, {self.lstm.config.input_size}), got {x.shape}", "core.vectors_shape",
                             width=self.lstm.config.input_size, got=str(x.shape))
        return self.lstm.trace(x, record_pre=record_pre)
