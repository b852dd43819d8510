"""What the routes share, so that no route imports another: tracing a request's input through the
caches, checking a layer list, and describing a model. Routes validate, call these, encode, return.

    entry = find(registry, req.model)             # app.registry: a 404 for an unknown id
    r = service.trace(entry, req.text, req.vectors, cache, settings, answer, req.wrap)  # answer: what is sent
    r.tokens, r.trace                             # lstm_core Tokens (tokens, ids, oov, spans), Trace
    r.preds, r.classes                            # the head's answer: Predictions per position, or (K,) classes
    r.inputs                                      # (T, input_size): what the LSTM read
    service.model_info(entry)                     # the ModelInfo fields of /api/models
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.cache import TraceCache
from app.errors import ApiError
from app.limits import check_budget
from app.registry import Entry
from app.schemas import TOP_K_MAX
from app.settings import Settings
from lstm_core import Model, Predictions, Tokens, Trace


@dataclass(frozen=True)
class TraceResult:
    """One request's input traced: its tokens, the trace, the predictions, and where they came from."""

    model: Model
    tokens: Tokens  # tokens, ids, oov, spans
    trace: Trace
    preds: Predictions | None  # a per-position head's top TOP_K_MAX next tokens or labels per position
    classes: NDArray | None  # (K,) a classifier's answer for the whole input
    vectors: NDArray | None  # (T, input_size) as sent, for models that read vectors; else None
    cached_prefix: int  # leading timesteps reused from the prefix cache

    @property
    def inputs(self) -> NDArray:
        """(T, input_size): the LSTM's input at each step (the vectors, or the model's encoding of the ids)."""
        return self.vectors if self.vectors is not None else self.model.inputs(self.tokens.ids)


def trace(entry: Entry, text: str, vectors: list[list[float]] | None, cache: TraceCache, settings: Settings,
          answer: dict, wrap: bool = False) -> TraceResult:
    """Check the input against the model, the length limit and the memory budget, then trace it (text through
    the cache). `answer` describes what will be sent: layers, encoding (None: nothing), gzip, top_k.

    `wrap` puts the vocabulary's begin/end tokens around the text; they are tokens of the trace."""
    model, max_tokens = entry.model, settings.max_tokens
    if wrap and (model.tokenizer is None or not model.tokenizer.can_wrap):
        raise ApiError(422, "cannot_wrap", "error.cannot_wrap", model=entry.id)
    if model.input_kind == "vector":
        return _trace_vectors(entry, vectors, settings, answer)
    if vectors is not None:
        raise ApiError(422, "text_required", "error.text_required", model=entry.id)
    if not text:
        raise ApiError(422, "empty_text", "error.empty_text")
    if len(text) > 64 * max_tokens:  # no tokenizer makes a token of fewer than one character per 64
        raise ApiError(413, "too_long", "error.too_long_chars", chars=f"{len(text):,}", max=f"{max_tokens:,}")
    tok = model.encode(text, wrap)
    if len(tok.tokens) > max_tokens:
        raise ApiError(413, "too_long", "error.too_long_tokens", tokens=f"{len(tok.tokens):,}", max=f"{max_tokens:,}")
    if not tok.tokens:
        raise ApiError(422, "empty_text", "error.no_tokens")
    check_budget(model, len(tok.tokens), settings.max_trace_mb, **answer)
    got = cache.trace_ids(entry.id, model, tok.ids)
    return TraceResult(model, tok, got.trace, got.preds, got.classes, None, got.reused)


def _trace_vectors(entry: Entry, vectors: list[list[float]] | None, settings: Settings, answer: dict) -> TraceResult:
    model, max_tokens = entry.model, settings.max_tokens
    if vectors is None:
        raise ApiError(422, "vectors_required", "error.vectors_required", model=entry.id,
                       width=model.lstm.config.input_size)
    if not vectors:
        raise ApiError(422, "empty_text", "error.no_vectors")
    if len(vectors) > max_tokens:
        raise ApiError(413, "too_long", "error.too_long_vectors", steps=f"{len(vectors):,}", max=f"{max_tokens:,}")
    ragged = next((t for t, row in enumerate(vectors) if len(row) != len(vectors[0])), None)
    if ragged is not None:
        raise ApiError(422, "ragged_vectors", "error.ragged_vectors", width=model.lstm.config.input_size,
                       first=len(vectors[0]), row=ragged, length=len(vectors[ragged]))
    check_budget(model, len(vectors), settings.max_trace_mb, **answer)
    x = np.asarray(vectors, dtype=np.float64)  # (T, input_size); the core checks the width
    tr = model.run_vectors(x)
    T = len(vectors)
    tok = Tokens([f"x{t}" for t in range(T)], np.full(T, -1, np.int64), [], [(t, t + 1) for t in range(T)])
    return TraceResult(model, tok, tr, model.predictions(tr.output, tok.ids, TOP_K_MAX), model.classes(tr), x, 0)


def check_layers(layers: list[int] | None, n: int) -> list[int] | None:
    """The requested layer indices, sorted and unique (None: all); a 422 naming the valid range otherwise."""
    if layers is None:
        return None
    bad = [k for k in layers if not 0 <= k < n]
    if bad or not layers:
        raise ApiError(422, "bad_layers", "error.bad_layers", last=n - 1, count=n, got=str(layers))
    return sorted(set(layers))


def head_info(model: Model) -> dict | None:
    """The HeadInfo fields (app.schemas.HeadInfo): what the model outputs; None without a head."""
    h = model.head
    if h is None:
        return None
    return {"kind": h.kind, "size": h.size, "labels": None if h.kind == "next_token" else list(h.labels),
            "pool": h.pool if h.kind == "classifier" else None, "activation": h.activation}


def model_info(entry: Entry) -> dict:
    """The ModelInfo fields of a registry entry (app.schemas.ModelInfo)."""
    m, cfg, meta = entry.model, entry.model.lstm.config, entry.meta
    tok = m.tokenizer
    verification = meta.verification or meta.provenance.get("verification")
    return {
        "id": entry.id, "name": meta.name or entry.id, "description": meta.description,
        "tokenizer": m.tokenizer.kind if m.tokenizer is not None else None, "input": m.input_kind,
        "layers": cfg.num_layers, "directions": cfg.num_directions, "hidden_size": cfg.hidden_size,
        "output_size": cfg.output_size, "proj_size": cfg.proj_size, "input_size": cfg.input_size,
        "vocab_size": m.vocab_size, "parameters": m.num_parameters, "causal": m.is_causal, "reverse": cfg.reverse,
        "metrics": meta.metrics, "source": meta.provenance,
        "verification": verification if isinstance(verification, dict) else None,
        "head": head_info(m),
        "specials": None if tok is None else {"unk": tok.unk, "pad": tok.pad, "bos": tok.bos, "eos": tok.eos},
        "can_wrap": tok is not None and tok.can_wrap,
    }


def model_detail(entry: Entry) -> dict:
    """model_info plus the vocabulary, the unknown token and the model card (app.schemas.ModelDetail)."""
    tok = entry.model.tokenizer
    return {**model_info(entry), "vocab": list(tok.vocab) if tok is not None else None,
            "unk": tok.unk if tok is not None else None, "card": entry.meta.card}
