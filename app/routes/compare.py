"""POST /api/compare: two runs side by side (two texts, two models or snapshots, a run and its clamped copy)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import service
from app.cache import CacheDep
from app.i18n import request_language, translate
from app.registry import RegistryDep, find
from app.schemas import CompareRequest, CompareResponse, Error
from app.serialize import compare_body, trace_body, wire_bytes, wire_response
from app.settings import SettingsDep

router = APIRouter(tags=["trace"])


@router.post("/api/compare", response_model=CompareResponse,
             responses={400: {"model": Error}, 404: {"model": Error}, 413: {"model": Error}, 422: {"model": Error}})
def compare(req: CompareRequest, request: Request, registry: RegistryDep, cache: CacheDep,
            settings: SettingsDep) -> Response:
    """Trace a and b, align their tokens on the common prefix and suffix, and give b - a where they align."""
    ea, eb = find(registry, req.a.model), find(registry, req.b.model or req.a.model)
    layers = service.check_layers(req.layers, ea.model.lstm.config.num_layers)
    if layers is not None:
        service.check_layers(layers, eb.model.lstm.config.num_layers)
    a = service.Input(req.a.text, req.a.vectors, req.a.interventions, req.a.wrap)
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "")
    # Budgeted as before, without gzip: wirejson.gzip_pieces drops each piece of the text once compressed, so the
    # gzip adds little to the text's peak (app/limits.py's json+gzip figure was measured with a whole-text gzip).
    answer = {"layers": layers, "encoding": req.format, "gzip": False, "top_k": req.top_k}
    ra, rb = service.trace_pair(ea, a, eb, service.second(a, req.b, eb), cache, settings, answer)
    cmp = service.compare(ra, rb)
    bodies = [trace_body(e.id, e.model, r, layers=layers, encoding=req.format, k=req.top_k)
              for e, r in ((ea, ra), (eb, rb))]
    reason = translate(request_language(request), "compare.not_comparable", a=ea.id, b=eb.id)
    body = compare_body(*bodies, cmp, threshold=req.threshold, layers=layers, encoding=req.format, reason=reason)
    # Encoded and gzipped here, in the worker thread: returned as a dict, it was serialized by FastAPI and
    # compressed by the GZip middleware on the event loop, which then answered nothing else (/api/health included).
    return wire_response(wire_bytes(body, gzip_ok))
