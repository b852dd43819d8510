"""GET /api/health: is the server up, and how many models does it serve."""
from __future__ import annotations

from fastapi import APIRouter

from app.registry import RegistryDep
from app.schemas import Health
from app.settings import VERSION

router = APIRouter(tags=["meta"])


@router.get("/api/health", response_model=Health)
def health(registry: RegistryDep) -> Health:
    """Liveness, the number of models served and the version."""
    return Health(models=len(registry), version=VERSION)
