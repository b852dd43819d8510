"""GET /api/models, /api/models/{id} and its training history: what each model is, for the pickers and the card."""
from __future__ import annotations

from fastapi import APIRouter

from app import service
from app.registry import RegistryDep, find
from app.schemas import Error, History, ModelDetail, ModelList
from app.settings import SettingsDep

router = APIRouter(tags=["models"])


@router.get("/api/models", response_model=ModelList)
def list_models(registry: RegistryDep, settings: SettingsDep) -> dict:
    """Every model the server offers, sorted by id; where they come from; whether uploads are taken."""
    return service.model_list(registry, settings)


@router.get("/api/models/{model_id}", response_model=ModelDetail, responses={404: {"model": Error}})
def get_model(model_id: str, registry: RegistryDep) -> dict:
    """One model with its vocabulary and model card."""
    return service.model_detail(find(registry, model_id))


@router.get("/api/models/{model_id}/history", response_model=History, responses={404: {"model": Error}})
def get_history(model_id: str, registry: RegistryDep) -> dict:
    """The model's training snapshots, each usable as a model id (empty when none were saved)."""
    entry = find(registry, model_id)
    snaps = registry.history(entry.id)
    return {"model": entry.id, "snapshots": [{"id": s.id, "step": s.step, "metrics": s.metrics} for s in snaps]}
