"""GET /api/health: is the server up, and how many models does it serve."""
from __future__ import annotations

from fastapi import APIRouter, Request

from app.schemas import Health
from app.settings import VERSION

router = APIRouter(tags=["meta"])


@router.get("/api/health", response_model=Health)
async def health(request: Request) -> Health:
    """Liveness, the number of models served and the version."""
    # async and without dependencies (FastAPI runs sync ones in worker threads): answered on the event loop,
    # never behind requests waiting for a thread, and never queued by app.limits.Admission.
    return Health(models=len(request.app.state.registry), version=VERSION)
