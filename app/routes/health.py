"""GET /api/health: is the server up, and how many models does it serve; GET /api/health/memory: what this
process's caches hold (bench/load.py samples it beside the resident memory)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from app.schemas import Health, MemoryInfo
from app.settings import VERSION

router = APIRouter(tags=["meta"])


@router.get("/api/health", response_model=Health)
async def health(request: Request) -> Health:
    """Liveness, the number of models served and the version."""
    # async and without dependencies (FastAPI runs sync ones in worker threads): answered on the event loop,
    # never behind requests waiting for a thread, and never queued by app.limits.Admission.
    return Health(models=len(request.app.state.registry), version=VERSION)


@router.get("/api/health/memory", response_model=MemoryInfo)
async def memory(request: Request) -> MemoryInfo:
    """Bytes and entries in this process's caches (each worker process has its own), and the idle trims run."""
    state = request.app.state
    cache, responses = state.cache, state.responses
    return MemoryInfo(trace_bytes=cache.nbytes, trace_entries=len(cache), text_bytes=cache.text_nbytes,
                      text_entries=cache.text_entries, response_bytes=responses.nbytes,
                      response_entries=len(responses), trims=getattr(state, "trims", 0),
                      frozen=getattr(state, "frozen", 0))  # counted when frozen: gc.get_freeze_count() walks them
