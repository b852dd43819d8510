"""POST /api/trace: every i, f, g, o, c, h value of a text, plus what the model outputs (its head)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import service
from app.cache import CacheDep, ResponsesDep
from app.registry import RegistryDep, find
from app.schemas import BINARY_MEDIA, Error, TraceRequest, TraceResponse
from app.serialize import trace_body, wire_bytes, wire_response
from app.settings import SettingsDep

router = APIRouter(tags=["trace"])


@router.post("/api/trace", response_model=TraceResponse,
             responses={200: {"content": {BINARY_MEDIA: {}},
                              "description": "format=binary: JSON, then the values (see TraceRequest.format)"},
                        400: {"model": Error}, 404: {"model": Error}, 413: {"model": Error}, 422: {"model": Error}})
def trace(req: TraceRequest, request: Request, registry: RegistryDep, cache: CacheDep, responses: ResponsesDep,
          settings: SettingsDep) -> Response:
    """Trace a text: tokens, every gate value per layer, direction, timestep and unit, and the head's outputs."""
    entry = find(registry, req.model)
    layers = service.check_layers(req.layers, entry.model.lstm.config.num_layers)
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "")
    # What the client holds counts only for text, where no clamp changes it, within the length limit.
    held = req.held if req.vectors is None and not req.interventions else None
    if held is not None and len(held) > 64 * settings.max_tokens:
        held = None
    key = None
    if req.vectors is None:
        clamps = tuple(iv.model_dump_json() for iv in req.interventions)  # a clamp changes every later value
        key = (entry.id, id(entry.model), req.text, tuple(layers or ()), req.format, req.top_k, req.wrap, gzip_ok,
               clamps, held)
    wire = responses.get(key) if key is not None else None
    if wire is None:
        answer = {"layers": layers, "encoding": req.format, "gzip": gzip_ok, "top_k": req.top_k}
        r = service.trace(entry, req.text, req.vectors, cache, settings, answer, req.interventions or None,
                          wrap=req.wrap)
        start = service.unchanged_prefix(entry, held, r.tokens, req.wrap, cache, settings)
        body = trace_body(entry.id, entry.model, r, layers=layers, encoding=req.format, k=req.top_k, start=start)
        wire = wire_bytes(body, gzip_ok)
        if key is not None:
            responses.put(key, wire)
    # Encoded here rather than by FastAPI and the GZip middleware, so that the bytes can be cached; and
    # never re-validated against TraceResponse, which would walk a few hundred thousand floats.
    return wire_response(wire, binary=req.format == "binary")
