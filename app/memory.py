"""Memory handed back to the system when the server goes idle.

After a burst of traces the freed arrays' pages stay resident: NumPy's large arrays come from glibc's heaps,
one arena per thread that allocated (the server's worker threads), and glibc releases a heap's free pages only
at its top. malloc_trim(0) releases every arena's free pages (madvise), whatever their place. It costs a walk of
the heaps (milliseconds), so it runs once the server has answered no POST for `seconds`, in a worker thread
(ctypes releases the GIL for the call; the event loop keeps answering meanwhile). Elsewhere than glibc it is a
no-op.

    app.add_middleware(IdleTrim, seconds=1.0, state=app.state, freeze=True)  # 0: never; state.trims counts them

The garbage collector's full collections, kept short by freezing what lives for good. CPython's collector, run
by whichever thread allocates when its counters say so, holds the GIL for the whole collection, and a full one
(generation 2) walks every container object alive: the server's ~190,000 (FastAPI, pydantic, NumPy, numba and
what its first compilations create, the models) took 180-200 ms of CPU a collection here, during which the event
loop, and /api/health with it, could not run a line; bench/loop_stalls.py found these behind the longest stalls
under load. freeze_survivors() moves the objects alive into the permanent generation, which collections skip: at
start-up (the modules and models), and when the server is idle once REFREEZE_OBJECTS more have gathered (numba's
compilations and modules imported on first use: ~90,000 after the first traces).
Frozen objects are still freed by reference counting; a cycle among them would be freed only by a collection,
so each freeze first unfreezes and collects everything: garbage is never frozen, and what became garbage while
frozen is collected at the next freeze. That one full collection (the 180-200 ms above) runs while the server is
idle, not while it traces; a GET arriving meanwhile still waits for it.
"""
from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        fn = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
    if fn is not None:
        fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


MALLOC_TRIM = _malloc_trim()


def trim() -> bool:
    """Release the C heap's free pages to the system; True if any were (False also where unsupported)."""
    return bool(MALLOC_TRIM(0)) if MALLOC_TRIM is not None else False


REFREEZE_OBJECTS = 20_000  # a full collection of this many takes ~20 ms of CPU here


def freeze_survivors(gathered: int = 0) -> int | None:
    """Unfreeze, collect everything, and freeze what is still alive, if at least `gathered` objects have come
    since the last freeze. Returns how many are frozen, or None if it did not freeze. (Counting them walks the
    whole frozen list, tens of milliseconds on a busy machine with the GIL held: done here, in the thread that
    froze, never on the event loop.)"""
    if gathered and len(gc.get_objects()) < gathered:  # the unfrozen ones, of every generation
        return None
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class IdleTrim:
    """ASGI middleware: `seconds` after the last POST answered (none running), trim() in a worker thread.

    Only POSTs count: they are what allocates (traces, exports, uploads); a monitor's GET /api/health every
    100 ms must not keep the server from ever being idle. `state.trims` counts the trims run (the app's state:
    GET /api/health/memory reads it). With `freeze`, freeze_survivors() runs first (`state.frozen`: the count)."""

    def __init__(self, app: ASGIApp, seconds: float, state, freeze: bool = False) -> None:
        self.app, self.seconds, self.state, self.freeze = app, seconds, state, freeze
        self.running = 0
        state.trims = 0
        self._timer: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        self.running += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            await self.app(scope, receive, send)
        finally:
            self.running -= 1
            if self.running == 0:
                self._timer = asyncio.get_running_loop().call_later(self.seconds, self._idle)

    def _idle(self) -> None:
        self._timer = None
        if self.running == 0:
            asyncio.get_running_loop().run_in_executor(None, self._trim)

    def _trim(self) -> None:
        try:
            if self.freeze and (frozen := freeze_survivors(REFREEZE_OBJECTS)) is not None:
                self.state.frozen = frozen  # first: what the collection frees is then trimmed too
            trim()
            self.state.trims += 1
        except Exception:  # never let housekeeping disturb serving
            log.exception("malloc_trim failed")
