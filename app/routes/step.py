"""POST /api/step: the numbers of one unit's step, for the "one step, explained" diagram."""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from app import service
from app.cache import CacheDep
from app.registry import RegistryDep, find
from app.schemas import Error, StepRequest, StepResponse
from app.settings import SettingsDep
from lstm_core.explain import step_terms

router = APIRouter(tags=["trace"])


@router.post("/api/step", response_model=StepResponse,
             responses={400: {"model": Error}, 404: {"model": Error}, 413: {"model": Error}, 422: {"model": Error}})
def step(req: StepRequest, registry: RegistryDep, cache: CacheDep, settings: SettingsDep) -> dict:
    """Every term of each gate of one unit at one timestep: W x, biases, W h, peephole, sum, value."""
    entry = find(registry, req.model)
    r = service.trace(entry, req.text, req.vectors, cache, settings,
                      {"layers": None, "encoding": None, "gzip": False, "top_k": 0}, wrap=req.wrap)
    s = step_terms(entry.model.lstm, r.inputs, r.trace, req.layer, req.direction, req.t, req.unit)
    return {"token": r.tokens.tokens[req.t], **asdict(s)}
