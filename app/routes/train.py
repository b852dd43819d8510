"""Training in the page: start a job, follow it (status, Server-Sent Events), stop, resume, keep its model.

Routes validate, call app/jobs, encode. Jobs live on disk (app/jobs/store.py), so any worker answers for
any job; the events stream tails the job's append-only log. A job id is a random 128-bit capability:
whoever has it may follow and control the job.
"""
from __future__ import annotations

import re
import secrets

import anyio
from fastapi import APIRouter, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from app.errors import ApiError
from app.i18n import request_language
from app.jobs import control, events, keep, runner, store
from app.jobs.schemas import KeepRequest, TrainOptions, TrainRequest, TrainStatus
from app.registry import RegistryDep
from app.schemas import Error, ModelInfo
from app.settings import Settings, SettingsDep

router = APIRouter(tags=["train"])
COOKIE = "gs_client"
COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
POLL_S = 0.25  # how often a stream looks for new lines in the job's log
# Every status these answer with a sentence (400: a body that is not JSON; 403 training off; 413 and 429 the
# limits), so /openapi.json documents them.
ERRORS = {400: {"model": Error}, 403: {"model": Error}, 404: {"model": Error}, 409: {"model": Error},
          413: {"model": Error}, 422: {"model": Error}, 429: {"model": Error}}


def _client(request: Request) -> tuple[str, str | None]:
    """(client id, a new cookie value to set or None): the gs_client cookie, else one made now."""
    value = request.cookies.get(COOKIE, "")
    if COOKIE_VALUE.match(value):
        return f"cookie:{value}", None
    value = secrets.token_urlsafe(18)
    return f"cookie:{value}", value


def _job(settings: Settings, job_id: str) -> store.Job:
    job = store.find(control.jobs_dir(settings), job_id)
    if job is None:
        raise ApiError(404, "unknown_job", "error.train_no_job", id=repr(job_id[:40]))
    return job


@router.get("/api/train", response_model=TrainOptions)
def train_options(settings: SettingsDep) -> dict:
    """What can be trained here: the tasks with their defaults, and the limits."""
    return control.options(settings)


@router.post("/api/train", response_model=TrainStatus, status_code=202,
             responses=ERRORS)
async def start(req: TrainRequest, request: Request, response: Response, settings: SettingsDep) -> dict:
    """Start training a model; follow it with GET /api/train/{id}/events."""
    client, new_cookie = _client(request)
    if new_cookie:
        response.set_cookie(COOKIE, new_cookie, max_age=365 * 86400, httponly=True, samesite="strict")
    job = await run_in_threadpool(control.start, req, client, settings)
    return control.describe(job, request_language(request))


@router.get("/api/train/{job_id}", response_model=TrainStatus, responses=ERRORS)
def status(job_id: str, request: Request, settings: SettingsDep) -> dict:
    """A job's state, step, loss, accuracy and the command that reproduces it."""
    return control.describe(_job(settings, job_id), request_language(request))


@router.post("/api/train/{job_id}/stop", response_model=TrainStatus, status_code=202, responses=ERRORS)
def stop(job_id: str, request: Request, settings: SettingsDep) -> dict:
    """Stop after the current step, with a checkpoint: the job can resume exactly, or be kept as it is."""
    job = _job(settings, job_id)
    if not runner.stop(job):
        raise ApiError(409, "not_running", "error.train_not_running")
    return control.describe(job, request_language(request))


@router.post("/api/train/{job_id}/resume", response_model=TrainStatus, status_code=202,
             responses=ERRORS)
def resume(job_id: str, request: Request, settings: SettingsDep) -> dict:
    """Continue a stopped job from its checkpoint."""
    job = _job(settings, job_id)
    control.resume(job, _client(request)[0], settings)
    return control.describe(job, request_language(request))


@router.post("/api/train/{job_id}/keep", response_model=ModelInfo, responses=ERRORS)
def keep_model(job_id: str, body: KeepRequest, settings: SettingsDep, registry: RegistryDep) -> dict:
    """Add the job's model (finished, or as it was when stopped) to the models, under the name given."""
    return keep.keep(_job(settings, job_id), body.name, registry)


@router.get("/api/train/{job_id}/events", responses={200: {"content": {"text/event-stream": {}}}, **ERRORS})
async def stream(job_id: str, request: Request, settings: SettingsDep) -> Response:
    """The job's events as Server-Sent Events, from the start or from `Last-Event-ID` (a byte offset)."""
    job = _job(settings, job_id)
    start = request.headers.get("last-event-id") or request.query_params.get("from") or "0"
    offset = int(start) if start.isdigit() else 0
    if offset >= _size(job) and await run_in_threadpool(_ended, job):
        return Response(status_code=204)  # nothing more will come: EventSource stops reconnecting on 204
    return EventSourceResponse(_tail(job, offset), ping=10)


def _size(job: store.Job) -> int:
    try:
        return job.events.stat().st_size
    except FileNotFoundError:
        return 0


def _ended(job: store.Job) -> bool:
    return job.status().get("state") in events.TERMINAL


async def _tail(job: store.Job, offset: int):
    """Every complete line from `offset` on, then the new ones as they are written, until the job ends."""
    while True:
        # Read the state before the lines: a job writes its last event before its last status, so once it
        # has ended, the lines read next hold everything.
        ended = await run_in_threadpool(_ended, job)
        lines, offset = await run_in_threadpool(events.read_new, job.events, offset)
        for end, line in lines:
            yield ServerSentEvent(line.decode("utf-8", "replace"), event=events.event_type(line), id=str(end))
        if not lines:
            if ended:
                return
            await anyio.sleep(POLL_S)
