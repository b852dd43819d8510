"""Slow and idle clients: every connection must send its request's head in time, the body a part at a time in
time, and never more connections are held than the process can afford; an error is logged once per cause.

uvicorn times out idle kept-alive connections (timeout_keep_alive) but not a connection that sends half a
request head and then nothing: 20,600 of those from one client took every file descriptor, /api/health stopped
answering for 40 s and the log grew 108 MB of "Too many open files" tracebacks. Here:
- `GuardedH11`, uvicorn's h11 protocol with a deadline for each request head (settings.head_timeout), and a
  cap on connections (settings.max_connections, else half the file limit): at the cap, the connection that
  has waited longest for a head is dropped to make room, so a fresh client always gets in. asyncio accepts up
  to `backlog` connections before any of them reaches the protocol, so `backlog` (an eighth of the file limit)
  plus the cap stays below the limit: accept() never runs out of files.
- `ReadTimeout`, ASGI middleware: each part of a request body must arrive within settings.body_timeout.
- `OncePerCause`, a logging filter: one line per cause a minute (with a count of those held back).
Use: `uvicorn.run(..., http="app.connections:GuardedH11")`; app/main.py adds the rest.
"""
from __future__ import annotations

import asyncio
import logging
import resource
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.errors import ApiError
from app.settings import get_settings

MAX_CONNECTIONS, MAX_BACKLOG = 4096, 2048


def connection_limits(configured: int = 0) -> tuple[int, int]:
    """(connections held at most, accept backlog) from this process's limit of open files: half of it for
    connections, an eighth for connections accepted at once, the rest for models, logs, uploads..."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return configured or max(16, min(MAX_CONNECTIONS, soft // 2)), max(16, min(MAX_BACKLOG, soft // 8))


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for every request head and a cap on connections."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        s = get_settings()
        self.head_timeout, (self.cap, _) = s.head_timeout, connection_limits(s.max_connections)
        self._deadline: asyncio.TimerHandle | None = None
        self._served = None  # the request cycle before the head we are waiting for
        self.waiting_since: float | None = None  # when it began waiting for a head; None while serving one

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.cap:
            self._make_room()
        self._await_head(None)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._deadline is not None and self.cycle is not self._served:  # a whole head arrived: a request
            self._stop_waiting()

    def on_response_complete(self) -> None:
        done = self.cycle
        super().on_response_complete()
        if self.cycle is done and not self.transport.is_closing():
            self._await_head(done)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_head(self, served) -> None:
        self._stop_waiting()
        self._served, self.waiting_since = served, time.monotonic()
        self._deadline = self.loop.call_later(self.head_timeout, self._too_slow)

    def _stop_waiting(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self.waiting_since = None, None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.abort()

    def _make_room(self) -> None:
        """Drop the connection that has waited longest for a request head (possibly this new one)."""
        waiting = [c for c in self.connections if getattr(c, "waiting_since", None) is not None]
        victim = min(waiting, key=lambda c: c.waiting_since) if waiting else self
        victim._stop_waiting()  # it leaves `connections` only once its loss is processed: never pick it twice
        victim.transport.abort()


class ReadTimeout:
    """ASGI middleware: a request body that stops arriving for `seconds` is answered 408. Once the body is in,
    receive() only waits for the client to disconnect (streamed answers listen for that) and is left alone."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False

        async def timed() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.seconds)
            except asyncio.TimeoutError:
                raise ApiError(408, "slow_body", "error.slow_body", seconds=f"{self.seconds:g}") from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed, send)


class OncePerCause(logging.Filter):
    """Lets one record per cause through each `period` seconds; the next one says how many were held back.
    A cause is the logger, the message and the exception's type and errno (EMFILE is not ECONNRESET)."""

    def __init__(self, period: float = 60.0) -> None:
        super().__init__()
        self.period = period
        self._seen: dict[tuple, list] = {}  # cause -> [time let through, records held back since]

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        cause = (record.name, record.msg, type(exc).__name__, getattr(exc, "errno", None))
        now = time.monotonic()
        seen = self._seen.get(cause)
        if seen is not None and now - seen[0] < self.period:
            seen[1] += 1
            return False
        if seen is not None and seen[1]:
            record.msg = f"{record.msg} ({seen[1]} more like this in the last {self.period:g} s)"
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[cause] = [now, 0]
        return True


def quiet_repeats(names: tuple[str, ...] = ("asyncio", "uvicorn.error", "gatescope.errors")) -> None:
    """Install one OncePerCause filter on the loggers that repeat per connection (once per process)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, OncePerCause) for f in logger.filters):
            logger.addFilter(OncePerCause())
