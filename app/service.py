"""What the routes share, so that no route imports another: tracing a request's input through the
caches, checking a layer list, and describing a model. Routes validate, call these, encode, return.

    entry = find(registry, req.model)             # app.registry: a 404 for an unknown id
    r = service.trace(entry, req.text, req.vectors, cache, settings, answer, wrap=req.wrap)  # answer: what is sent
    r.tokens, r.trace                             # lstm_core Tokens (tokens, ids, oov, spans), Trace
    r.preds, r.classes                            # the head's answer: Predictions per position, or (K,) classes
    r.inputs                                      # (T, input_size): what the LSTM read
    service.model_info(entry)                     # the ModelInfo fields of /api/models

With `interventions` (a list, maybe empty) the run is clamped (app/clamp.py): the unclamped run up to the
first clamp, lstm_core.interventions' loop after it, and nothing of it cached. A comparison of a clamped run
with its unclamped twin passes `loop_from` so that both switch to the loop at the same step and every value
the clamp cannot reach comes out bit for bit the same.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from app import clamp, history
from app.cache import TraceCache
from app.errors import ApiError
from app.i18n import LANGUAGES
from app.limits import check_budget
from app.priority import below_loop
from app.registry import Entry, Registry
from app.schemas import TOP_K_MAX, Side
from app.schemas import Intervention as InterventionSpec
from app.settings import Settings
from lstm_core import Model, ModelError, Predictions, Tokens, Trace, card_examples
from lstm_core.compare import Alignment, Difference, align, difference, paired, same_shape
from lstm_core.interventions import Intervention
from lstm_core.views import next_probs


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
    interventions: tuple[Intervention, ...] = ()  # the clamps applied, positions listed explicitly

    @property
    def inputs(self) -> NDArray:
        """(T, input_size): the LSTM's input at each step (the vectors, or the model's encoding of the ids)."""
        return self.vectors if self.vectors is not None else self.model.inputs(self.tokens.ids)


def trace(entry: Entry, text: str, vectors: list[list[float]] | None, cache: TraceCache, settings: Settings,
          answer: dict, interventions: list[InterventionSpec] | None = None, loop_from: int | None = None, *,
          wrap: bool = False, share: int = 1) -> TraceResult:
    """Check the input against the model, the length limit and the memory budget, then trace it (text through
    the cache). `answer` describes what will be sent: layers, encoding (None: nothing), gzip, top_k; `share`
    divides the budget (a comparison holds two runs and their difference). With `interventions` (a list, even
    empty) the run is clamped by app/clamp.py, run by the reference loop from the first clamp or from
    `loop_from` if earlier (so that two runs compared are computed alike), never cached.

    `wrap` puts the vocabulary's begin/end tokens around the text; they are tokens of the trace."""
    below_loop(settings.worker_nice)  # a worker thread: the event loop (and /api/health) takes the core first
    model, max_tokens = entry.model, settings.max_tokens
    if wrap and not can_wrap(model):
        raise ApiError(422, "cannot_wrap", "error.cannot_wrap", model=entry.id)
    budget_mb = max(1, settings.max_trace_mb // share)
    if model.input_kind == "vector":
        return _trace_vectors(entry, vectors, max_tokens, budget_mb, answer, cache, interventions)
    if vectors is not None:
        raise ApiError(422, "text_required", "error.text_required", model=entry.id)
    if not text:
        raise ApiError(422, "empty_text", "error.empty_text")
    if len(text) > 64 * max_tokens:  # no tokenizer makes a token of fewer than one character per 64
        raise ApiError(413, "too_long", "error.too_long_chars", chars=f"{len(text):,}", max=f"{max_tokens:,}")
    tok = cache.encode(entry.id, model, text, wrap, max_tokens)
    if len(tok.tokens) > max_tokens:
        raise ApiError(413, "too_long", "error.too_long_tokens", tokens=f"{len(tok.tokens):,}", max=f"{max_tokens:,}")
    if not tok.tokens:
        raise ApiError(422, "empty_text", "error.no_tokens")
    check_budget(model, len(tok.tokens), budget_mb, **answer)
    if interventions is not None:
        return _clamped(entry, tok, None, cache, interventions, loop_from)
    got = cache.trace_ids(entry.id, model, tok.ids)
    return TraceResult(model, tok, got.trace, got.preds, got.classes, None, got.reused)


def unchanged_prefix(entry: Entry, held: str | None, tokens: Tokens, wrap: bool, cache: TraceCache,
                     settings: Settings) -> int:
    """How many leading positions of `tokens` a client holding the answer for text `held` already has: the
    positions before the first whose token, id or span differs, for a causal model (each of its values depends
    on earlier tokens alone); 0 for other models or without `held`. Typing at the end of the text keeps all but
    the last one or two, so the answer carries only those."""
    if held is None or not entry.model.is_causal:
        return 0
    old = cache.encode(entry.id, entry.model, held, wrap, settings.max_tokens)
    n = min(len(old.ids), len(tokens.ids))
    differ = np.flatnonzero(old.ids[:n] != tokens.ids[:n])
    n = int(differ[0]) if differ.size else n
    # Two tokens can share an id (both unknown), so the tokens shown and their spans are compared too.
    if old.tokens[:n] != tokens.tokens[:n] or old.spans[:n] != tokens.spans[:n]:
        n = next(t for t in range(n) if old.tokens[t] != tokens.tokens[t] or old.spans[t] != tokens.spans[t])
    return n


class Input(NamedTuple):
    """One side of a comparison: what trace() takes besides the model."""

    text: str
    vectors: list[list[float]] | None = None
    interventions: list[InterventionSpec] = []
    wrap: bool = False  # the vocabulary's begin/end tokens around the text


def can_wrap(model: Model) -> bool:
    """True when the model's vocabulary has a begin or end token to put around a text."""
    return model.tokenizer is not None and model.tokenizer.can_wrap


def second(a: Input, b: Side, eb: Entry) -> Input:
    """Side b of a comparison: what it leaves out is a's (a's vectors when b's model reads vectors; a's wrap
    when b's vocabulary has begin/end tokens), so a second model of another kind meets no refusal it did not ask for."""
    vectors = a.vectors if b.vectors is None and eb.model.input_kind == "vector" else b.vectors
    wrap = a.wrap and can_wrap(eb.model) if b.wrap is None else b.wrap
    return Input(a.text if b.text is None else b.text, vectors, b.interventions, wrap)


def trace_pair(ea: Entry, a: Input, eb: Entry, b: Input, cache: TraceCache, settings: Settings,
               answer: dict) -> tuple[TraceResult, TraceResult]:
    """Two runs to compare. When either is clamped, both switch to the clamping loop at the earlier first clamp,
    so that every value the clamps cannot reach is computed alike and differs by exactly 0. Each run has a third
    of the trace budget: the answer holds both and their difference, which is about one run's size."""
    clamps = [*a.interventions, *b.interventions]
    t0 = clamp.first_position(clamps, settings.max_tokens)
    return tuple(trace(e, r.text, r.vectors, cache, settings, answer, r.interventions if clamps else None, t0,
                       wrap=r.wrap, share=3) for e, r in ((ea, a), (eb, b)))


@dataclass(frozen=True)
class Comparison:
    """Two runs compared: their token alignment, b - a where they align (None when the models differ in shape,
    so that units do not correspond), and the change in the probability of each aligned actual token."""

    alignment: Alignment
    difference: Difference | None
    next_delta: NDArray  # (P,) NaN where either run gives none


def compare(ra: TraceResult, rb: TraceResult) -> Comparison:
    """Align two runs' tokens and take their difference where the models have one shape."""
    al = align(ra.tokens.tokens, rb.tokens.tokens)
    delta = paired(*(next_probs(r.preds if r.model.predicts_next else None, r.tokens.ids, r.tokens.oov)
                     for r in (ra, rb)), al)  # (P,)
    same = same_shape(ra.trace, rb.trace)
    return Comparison(al, difference(ra.trace, rb.trace, al) if same else None, delta)


def _clamped(entry: Entry, tok: Tokens, vectors: NDArray | None, cache: TraceCache,
             specs: list[InterventionSpec], loop_from: int | None) -> TraceResult:
    model = entry.model
    x = vectors if vectors is not None else model.inputs(tok.ids)
    T = len(x)
    ivs = clamp.checked(specs, model, T)
    t0 = min(clamp.first_position(ivs, T), T if loop_from is None else loop_from)
    got = clamp.run(model, entry.id, None if vectors is not None else tok.ids, x, ivs, t0, cache)
    return TraceResult(model, tok, got.trace, got.preds, got.classes, vectors, got.reused, clamp.explicit(ivs, T))


def _trace_vectors(entry: Entry, vectors: list[list[float]] | None, max_tokens: int, budget_mb: int, answer: dict,
                   cache: TraceCache, interventions: list[InterventionSpec] | None) -> TraceResult:
    model = entry.model
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
    check_budget(model, len(vectors), budget_mb, **answer)
    x = np.asarray(vectors, dtype=np.float64)  # (T, input_size); the core checks the width
    T = len(vectors)
    tok = Tokens([f"x{t}" for t in range(T)], np.full(T, -1, np.int64), [], [(t, t + 1) for t in range(T)])
    if interventions is not None:
        width = model.lstm.config.input_size
        if x.ndim != 2 or x.shape[1] != width:  # the sentence Model.run_vectors gives for unclamped runs
            raise ModelError(f"vectors must be (T, {width}), got {x.shape}", "core.vectors_shape", width=width,
                             got=str(x.shape))
        return _clamped(entry, tok, x, cache, interventions, None)
    tr = model.run_vectors(x)
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
        "history": len(history.snapshots(entry.path.parent, entry.id)) if history.SEP not in entry.id else 0,
        "examples": (examples := card_examples(meta.card)),  # the card's ## Examples section
        "opening": openers(examples),
    }


# An example holding a Han character is Chinese (the cards' examples are one language each).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


def openers(examples: list[str]) -> dict[str, str]:
    """The example the page opens on in each of its languages: the first one in that language, else the first.

    The one place this rule lives: the shell's text box (app/routes/page.py) and the page after a model or language
    switch (static/js/welcome.js firstExample) both read it. {} when the card declares no example."""
    if not examples:
        return {}
    return {lang: next((x for x in examples if bool(_HAN.search(x)) == lang.startswith("zh")), examples[0])
            for lang in LANGUAGES}


def model_list(registry: Registry, settings: Settings) -> dict:
    """The ModelList fields (GET /api/models, and the page shell's embedded copy): every model, sorted by id."""
    registry.refresh()
    return {"models": [model_info(e) for e in registry], "directory": registry.shown_dir, "uploads": settings.uploads}


def model_detail(entry: Entry) -> dict:
    """model_info plus the vocabulary, the unknown token and the model card (app.schemas.ModelDetail)."""
    tok = entry.model.tokenizer
    return {**model_info(entry), "vocab": list(tok.vocab) if tok is not None else None,
            "unk": tok.unk if tok is not None else None, "card": entry.meta.card}
