"""What one request may cost, and how many may run at once.

- `check_budget`: before tracing, the answer's size is estimated from the model and the token count (values
  computed and sent, in the bytes each encoding takes at its peak, plus T x V next-token probabilities) and
  refused with 413 above settings.max_trace_mb. The per-value figures are upper bounds measured with
  tracemalloc on 2,000 tokens of the shipped 2 x 256 models (json + gzip peaked at 58 bytes a value).
- `Admission`: at most `slots` traces (and, separately, uploads) run at once in each process; up to `queue`
  more wait their turn; beyond that the answer is 503 with Retry-After. Everything else (the page,
  /api/health, /api/models) is never queued, so the server answers them at any load.
"""
from __future__ import annotations

import asyncio
import os
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import ApiError, error_response
from app.i18n import scope_language, translate
from lstm_core import Model

# Bytes a recorded value costs while a request is answered: the trace's own arrays (float32 records and
# the cache's copies), then the encoded answer at its peak (the array being encoded, the text, the gzip).
COMPUTED_BYTES = 8
SENT_BYTES = {("json", True): 52, ("json", False): 28, ("compact", True): 11, ("compact", False): 7,
              ("binary", True): 7, ("binary", False): 7}  # binary: 6.3 measured (the values, their bytes, the body)
TOP_K_BYTES = 120  # one listed prediction in the answer: id, token and probability as Python objects


def estimate(model: Model, steps: int, layers: list[int] | None, encoding: str | None, gzip: bool,
             top_k: int) -> int:
    """Bytes a trace of `steps` tokens holds at its peak; encoding None: nothing is sent (/api/step)."""
    cfg = model.lstm.config
    per_step_layer = cfg.num_directions * (5 * cfg.hidden_size + cfg.output_size)  # i, f, g, o, c and h
    total = steps * cfg.num_layers * per_step_layer * COMPUTED_BYTES
    if encoding is not None:
        sent = len(layers) if layers is not None else cfg.num_layers
        total += steps * sent * per_step_layer * SENT_BYTES[(encoding, gzip)] + steps * top_k * TOP_K_BYTES
    head = model.head
    if head is not None:  # per position: computed a block at a time, never held; a classifier answers once
        total += (steps if head.per_position else 1) * head.size * 4
    return total


def check_budget(model: Model, steps: int, budget_mb: int, **answer) -> None:
    """A 413 with a sentence when the trace would cost more than the budget (see `estimate`)."""
    need = estimate(model, steps, **answer)
    if need <= budget_mb << 20:
        return
    V = model.head.size if model.head is not None and model.head.kind == "next_token" else 0
    vocab = steps * V * 4 > need / 2  # mostly next-token predictions: the vocabulary is what to name
    raise ApiError(413, "trace_too_large", "error.trace_too_large_vocab" if vocab else "error.trace_too_large",
                   need=f"{need / 2**20:,.0f}", tokens=f"{steps:,}", vocab=f"{V:,}", budget=f"{budget_mb:,}")


def default_slots(workers: int) -> int:
    """The cores this process may use: one trace each (a trace runs one BLAS thread)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // max(workers, 1))


class Pool:
    """A semaphore with a bounded number of waiters and a running estimate of how long a turn takes."""

    def __init__(self, slots: int, queue: int, what: str) -> None:
        self.slots, self.queue, self.what = slots, queue, what
        self.running = self.waiting = 0
        self.turn = 0.05  # seconds, an exponential average of requests served
        self._free = asyncio.Semaphore(slots)

    def full(self) -> bool:
        return self.running >= self.slots and self.waiting >= self.queue

    def retry_after(self) -> int:
        return max(1, round(self.turn * (self.waiting + 1) / self.slots))

    async def run(self, call) -> None:
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        start = time.monotonic()
        try:
            await call()
        finally:
            self.running -= 1
            self.turn = 0.8 * self.turn + 0.2 * (time.monotonic() - start)
            self._free.release()


class Admission:
    """ASGI middleware: POST /api/trace and /api/step share one pool, uploads have their own."""

    def __init__(self, app: ASGIApp, trace_slots: int, trace_queue: int, upload_slots: int,
                 upload_queue: int) -> None:
        self.app = app
        self.traces = Pool(trace_slots, trace_queue, "traces")  # what: the catalog's error.busy_<what>
        self.uploads = Pool(upload_slots, upload_queue, "uploads")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pool = None
        if scope["type"] == "http" and scope["method"] == "POST":
            pool = {"/api/trace": self.traces, "/api/step": self.traces,
                    "/api/models/upload": self.uploads}.get(scope["path"])
        if pool is None:
            await self.app(scope, receive, send)
            return
        if pool.full():
            wait = pool.retry_after()
            response = error_response(503, "busy", translate(scope_language(scope), f"error.busy_{pool.what}",
                                                             running=pool.running, waiting=pool.waiting, count=wait))
            response.headers["Retry-After"] = str(wait)
            await response(scope, receive, send)
            return
        await pool.run(lambda: self.app(scope, receive, send))
