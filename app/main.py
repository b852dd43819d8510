"""Builds the FastAPI app: middleware, error handlers, static files, routers. Nothing else lives here."""
from __future__ import annotations

import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from threadpoolctl import threadpool_limits

from app import errors, store
from app.assets import Assets
from app.cache import ResponseCache, TraceCache
from app.connections import ReadTimeout, quiet_repeats
from app.corpus import Indexes
from app.guard import Guard, host_names
from app.jobs import runner
from app.limits import Admission, default_slots
from app.memory import IdleTrim, freeze_survivors
from app.registry import Registry
from app.routes import compare, corpus, export, health, lessons, models, page, step, trace, train, upload
from app.schemas import BINARY_MEDIA
from app.settings import ROOT, VERSION, Settings, get_settings
from lstm_core import jitcell

GZIP_THREAD_BYTES = 128 << 10


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Through dependency_overrides, so a test that overrides get_settings also picks the model directory.
    s = app.dependency_overrides.get(get_settings, get_settings)()
    threadpool_limits(s.blas_threads, user_api="blas")
    if s.jit_warm:
        jitcell.start_warming()  # never blocks: traces take the NumPy path until it is done
    sys.setswitchinterval(s.switch_interval_ms / 1000)
    quiet_repeats()  # "Too many open files" and the like: once per cause a minute, not once per connection
    store.sweep(s.model_dir)  # what an upload killed mid-way left behind
    app.state.registry = Registry.load(s.model_dir, None if s.public else str(s.model_dir))
    app.state.recent_uploads = {}  # upload digest -> model id (app/routes/upload.py)
    app.state.cache = TraceCache(s.trace_cache_entries, s.trace_cache_mb << 20)
    app.state.responses = ResponseCache(s.response_cache_mb << 20)
    app.state.indexes = Indexes(s.index_dir)
    if s.gc_freeze:  # the modules and models: no full collection walks them (app/memory.py)
        app.state.frozen = freeze_survivors()
    yield
    runner.stop_all()  # this worker's training jobs write a checkpoint and stop; they can resume later


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app; uvicorn calls this in each worker (`app.main:create_app`, factory=True). Tests may pass
    their own settings, which then also reach every route (through dependency_overrides)."""
    s = settings or get_settings()
    # No /docs or /redoc: FastAPI loads their scripts from a CDN, and gatescope works offline.
    app = FastAPI(title="gatescope", version=VERSION, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Watch an LSTM think: every gate, cell and hidden value of a text.")
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    errors.install(app)
    # Pieces of 128 KiB and more are compressed in a worker thread (zlib releases the GIL), so that a large export
    # (json, npz, html) never keeps the event loop, /api/health with it, from answering (Starlette >= 1.4). A binary
    # trace is left alone: its values do not compress (app/serialize.py).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=1, thread_minimum_size=GZIP_THREAD_BYTES,
                       exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, BINARY_MEDIA))
    app.add_middleware(IdleTrim, seconds=s.idle_trim_seconds, state=app.state, freeze=s.gc_freeze)
    app.add_middleware(errors.BodyLimit, max_bytes=s.max_body_bytes, upload_bytes=s.max_upload_bytes)
    app.add_middleware(ReadTimeout, seconds=s.body_timeout)
    app.add_middleware(Admission, trace_slots=s.trace_slots or default_slots(s.workers), trace_queue=s.trace_queue,
                       upload_slots=s.upload_slots, upload_queue=s.upload_queue)
    if s.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=s.names(s.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["content-type"])
    app.add_middleware(Guard, names=host_names(s.host, s.names(s.allowed_hosts)), cors_origins=s.names(s.cors_origins))
    app.mount("/static", Assets(ROOT / "static"), name="static")  # from memory: a cold load asks for ~75 files
    for r in (health, models, trace, compare, export, step, upload, lessons, corpus, train, page):
        app.include_router(r.router)
    return app
