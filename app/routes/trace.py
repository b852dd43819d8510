"""POST /api/trace: every i, f, g, o, c, h value of a text, plus the model's next-token predictions."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from numpy.typing import NDArray

from app.cache import CacheDep, ResponsesDep, TraceCache
from app.errors import ApiError
from app.registry import Entry, RegistryDep, find
from app.schemas import Error, TraceRequest, TraceResponse
from app.serialize import trace_body, wire_bytes
from app.settings import Settings, SettingsDep
from lstm_core import Trace

router = APIRouter(tags=["trace"])


@dataclass(frozen=True)
class Traced:
    """A text (or vector sequence) after tokenizing and running the model."""

    tokens: list[str]
    ids: NDArray  # (T,)
    oov: list[int]
    spans: list[tuple[int, int]]
    x: NDArray | None  # (T, input_size) for vector input; None means model.inputs(ids)
    trace: Trace
    probs: NDArray | None  # (T, V)
    cached_prefix: int


def run_model(entry: Entry, text: str, vectors: list[list[float]] | None, settings: Settings,
              cache: TraceCache) -> Traced:
    """Validate the input against the model and the limits, then trace it (through the cache)."""
    model, limit = entry.model, settings.max_tokens
    if model.input_kind == "vector":
        if vectors is None:
            raise ApiError(422, "vectors_required", f"Model {entry.id!r} has no vocabulary and takes vectors: "
                           f'send "vectors" as a list of rows of {model.lstm.config.input_size} numbers.')
        if not vectors:
            raise ApiError(422, "empty_text", "The vector sequence is empty: send at least one row.")
        if len(vectors) > limit:
            raise ApiError(413, "too_long", f"The input has {len(vectors)} steps; this server traces at most "
                           f"{limit}. Send fewer rows, or start the server with a larger --max-tokens.")
        x = np.asarray(vectors, dtype=np.float64)  # (T, input_size); the core checks the width
        trace, probs = model.trace_vectors(x)
        T = len(vectors)
        return Traced([f"x{t}" for t in range(T)], np.full(T, -1, np.int64), [], [(t, t + 1) for t in range(T)],
                      x, trace, probs, 0)
    if vectors is not None:
        raise ApiError(422, "text_required", f"Model {entry.id!r} reads text, not vectors: send \"text\".")
    if not text:
        raise ApiError(422, "empty_text", "The text is empty: type at least one character.")
    if len(text) > 64 * limit:  # no tokenizer makes a token of fewer than one character per 64
        raise ApiError(413, "too_long", f"The text has {len(text):,} characters; this server traces at most "
                       f"{limit:,} tokens. Shorten it, or start the server with a larger --max-tokens.")
    tok = model.encode(text)
    if len(tok.tokens) > limit:
        raise ApiError(413, "too_long", f"The text has {len(tok.tokens):,} tokens; this server traces at most "
                       f"{limit:,}. Shorten it, or start the server with a larger --max-tokens.")
    if not tok.tokens:
        raise ApiError(422, "empty_text", "The text has no tokens (only spaces?): type at least one word.")
    trace, probs, reused = cache.trace_ids(entry.id, model, tok.ids)
    return Traced(tok.tokens, tok.ids, tok.oov, tok.spans, None, trace, probs, reused)


def check_layers(layers: list[int] | None, n: int) -> list[int] | None:
    if layers is None:
        return None
    bad = [k for k in layers if not 0 <= k < n]
    if bad or not layers:
        raise ApiError(422, "bad_layers", f"The 'layers' list must name layer indices from 0 to {n - 1} "
                       f"(this model has {n} layer{'s' if n > 1 else ''}), or be null for all; got {layers}.")
    return sorted(set(layers))


@router.post("/api/trace", response_model=TraceResponse,
             responses={400: {"model": Error}, 404: {"model": Error}, 413: {"model": Error}, 422: {"model": Error}})
def trace(req: TraceRequest, request: Request, registry: RegistryDep, cache: CacheDep, responses: ResponsesDep,
          settings: SettingsDep) -> Response:
    """Trace a text: tokens, every gate value per layer, direction, timestep and unit, and predictions."""
    entry = find(registry, req.model)
    layers = check_layers(req.layers, entry.model.lstm.config.num_layers)
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "")
    key = None
    if req.vectors is None:
        key = (entry.id, id(entry.model), req.text, tuple(layers or ()), req.format, req.top_k, gzip_ok)
    wire = responses.get(key) if key is not None else None
    if wire is None:
        r = run_model(entry, req.text, req.vectors, settings, cache)
        body = trace_body(entry.id, entry.model, r.tokens, r.ids, r.oov, r.spans, r.trace, r.probs,
                          layers=layers, encoding=req.format, k=req.top_k, cached_prefix=r.cached_prefix)
        wire = wire_bytes(body, gzip_ok)
        if key is not None:
            responses.put(key, wire)
    # Encoded here rather than by FastAPI and the GZip middleware, so that the bytes can be cached; and
    # never re-validated against TraceResponse, which would walk a few hundred thousand floats.
    data, gzipped = wire
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"} if gzipped else {"Vary": "Accept-Encoding"}
    return Response(data, media_type="application/json", headers=headers)
