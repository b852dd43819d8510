"""Downloads: the trace as JSON, CSV or .npz, and a self-contained HTML snapshot of the view. Each takes the
body /api/trace takes (the snapshot adds the view's state) and answers a file to save."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from app import export, service
from app.cache import CacheDep
from app.errors import ApiError
from app.figures import contrast, page
from app.figures.style import LANG
from app.i18n import request_language
from app.registry import RegistryDep, find
from app.schemas import Error, Side, SnapshotRequest, TraceRequest
from app.serialize import dumps, trace_body
from app.settings import SettingsDep

router = APIRouter(tags=["export"])
ERRORS = {400: {"model": Error}, 404: {"model": Error}, 413: {"model": Error}, 422: {"model": Error}}


# What each file costs while it is made, in the budget's terms (app/limits.py): the JSON file is the json
# answer; the .npz holds a float32 copy of the values and the file's bytes (about compact's 7 bytes a value);
# CSV is streamed a timestep at a time, so only the computed trace counts.
COST = {"json": "json", "npz": "compact", "csv": None}
# The snapshot's figures hold the values as JSON numbers: counted as the json answer of every layer, and a
# comparison's pair gets a third of the budget each (service.trace_pair).
SNAPSHOT = {"layers": None, "encoding": "json", "gzip": False, "top_k": 5}


def _run(req: TraceRequest, registry, cache, settings, kind: str):
    entry = find(registry, req.model)
    layers = service.check_layers(req.layers, entry.model.lstm.config.num_layers)
    answer = {"layers": layers, "encoding": COST[kind], "gzip": False, "top_k": req.top_k}
    r = service.trace(entry, req.text, req.vectors, cache, settings, answer, req.interventions or None,
                      wrap=req.wrap)
    return entry, r, layers or list(range(entry.model.lstm.config.num_layers))


def _file(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="gatescope-{name}"'}  # ids hold no quotes or slashes


@router.post("/api/export/json", responses=ERRORS)
def export_json(req: TraceRequest, registry: RegistryDep, cache: CacheDep, settings: SettingsDep) -> Response:
    """The /api/trace answer in the json encoding (exact float32 values), as a file."""
    entry, r, layers = _run(req, registry, cache, settings, "json")
    body = trace_body(entry.id, entry.model, r, layers=layers, encoding="json", k=req.top_k)
    return Response(dumps(body), media_type="application/json", headers=_file(f"{entry.id}.json"))


@router.post("/api/export/csv", responses=ERRORS)
def export_csv(req: TraceRequest, registry: RegistryDep, cache: CacheDep, settings: SettingsDep) -> Response:
    """Every value in long format: layer, direction, t, token, unit, quantity, value."""
    entry, r, layers = _run(req, registry, cache, settings, "csv")
    return StreamingResponse(export.csv_rows(r, layers), media_type="text/csv; charset=utf-8",
                             headers=_file(f"{entry.id}.csv"))


@router.post("/api/export/npz", responses=ERRORS)
def export_npz(req: TraceRequest, registry: RegistryDep, cache: CacheDep, settings: SettingsDep) -> Response:
    """The arrays as a NumPy .npz file (no pickles)."""
    entry, r, layers = _run(req, registry, cache, settings, "npz")
    return Response(export.npz_bytes(entry.id, r, layers, req.top_k), media_type="application/octet-stream",
                    headers=_file(f"{entry.id}.npz"))


@router.post("/api/export/html", responses=ERRORS)
def export_html(req: SnapshotRequest, request: Request, registry: RegistryDep, cache: CacheDep,
                settings: SettingsDep) -> Response:
    """The view as one HTML file with Plotly embedded, in the request's language: opens from disk, offline."""
    entry = find(registry, req.model)
    cfg = entry.model.lstm.config
    if req.layer >= cfg.num_layers or req.direction >= cfg.num_directions or req.unit >= cfg.hidden_size:
        raise ApiError(422, "bad_view", "error.bad_view", model=repr(entry.id), layer=req.layer,
                       direction=req.direction, unit=req.unit, last_layer=cfg.num_layers - 1,
                       last_direction=cfg.num_directions - 1, last_unit=cfg.hidden_size - 1)
    r = service.trace(entry, req.text, req.vectors, cache, settings, SNAPSHOT, wrap=req.wrap,
                      share=3 if req.interventions or req.compare is not None else 1)
    lang = LANG.set(request_language(request))  # the figures' words; this request's context only
    try:
        return _snapshot(req, entry, r, registry, cache, settings)
    finally:
        LANG.reset(lang)


def _snapshot(req: SnapshotRequest, entry, r, registry, cache, settings) -> Response:
    view = page.View(req.layer, req.direction, req.unit, req.t, req.quantity, req.order, req.threshold)
    pair = None
    if req.interventions or req.compare is not None:
        other = req.compare or Side()
        eb = find(registry, other.model) if other.model else entry
        a = service.Input(req.text, req.vectors, [], req.wrap)
        b = service.second(a, other.model_copy(update={"interventions": req.interventions or other.interventions}), eb)
        pair = contrast.pair(entry, a, eb, b, cache, settings, SNAPSHOT)
    doc = page.html(entry.id, req.text, page.figures(r, view, pair), view)
    return Response(doc, media_type="text/html; charset=utf-8", headers=_file(f"{entry.id}.html"))
