"""Recent traces in a bounded LRU, which doubles as a prefix-state cache for causal models.

Typing one more character changes only the last timestep of a causal (unidirectional) LSTM: every
earlier value depends on earlier tokens alone. So for a new token sequence we look for the cached
trace sharing the longest prefix with it, keep its first k timesteps, start the LSTM from its state at
k - 1 and run only the rest (`concat_time`). Backspace is the case where the whole text is a prefix.
Entries are bounded in count and in bytes; a lock makes the cache safe under the server's threads.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Annotated

import numpy as np
from fastapi import Depends, Request
from numpy.typing import NDArray

from lstm_core import Model, Trace, concat_time


@dataclass(frozen=True)
class Cached:
    ids: NDArray  # (T,)
    trace: Trace
    probs: NDArray | None  # (T, V)
    nbytes: int


def _nbytes(trace: Trace, probs: NDArray | None) -> int:
    arrays = [trace.gate(k) for k in Trace.GATES] + [trace.output, probs]
    return int(sum(a.nbytes for a in arrays if a is not None))


def _common_prefix(a: NDArray, b: NDArray) -> int:
    n = min(len(a), len(b))
    diff = np.flatnonzero(a[:n] != b[:n])
    return int(diff[0]) if diff.size else n


def _head(c: Cached, k: int) -> tuple[Trace, NDArray | None]:
    """The first k timesteps of a cached causal trace, with the state after step k-1 as h_n, c_n."""
    tr = c.trace.slice_time(0, k)
    # Unidirectional, so h[:, 0, k-1] is each layer's state: the (L*D, H_out) layout of h_n.
    tr = replace(tr, h_n=np.ascontiguousarray(tr.h[:, 0, k - 1]), c_n=np.ascontiguousarray(tr.c[:, 0, k - 1]))
    return tr, None if c.probs is None else c.probs[:k]


class TraceCache:
    """LRU of (model id, token ids) -> trace and probabilities."""

    def __init__(self, max_entries: int = 64, max_bytes: int = 256 << 20) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[tuple[str, bytes], Cached] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.prefix_hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def trace_ids(self, model_id: str, model: Model, ids: NDArray) -> tuple[Trace, NDArray | None, int]:
        """(trace, probs, reused) for token ids; `reused` timesteps came from the cache."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        key = (model_id, ids.tobytes())
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return hit.trace, hit.probs, len(ids)
            best, k = None, 0
            if model.is_causal:
                for (mid, _), c in self._items.items():
                    if mid == model_id:
                        n = _common_prefix(c.ids, ids)
                        if n > k:
                            best, k = c, n
        if best is None:
            self.misses += 1
            trace, probs = model.trace_ids(ids)
        elif k == len(ids):
            self.prefix_hits += 1
            trace, probs = _head(best, k)
            # Copies, so that this entry does not keep the longer one's arrays alive after eviction.
            trace = concat_time(trace.slice_time(0, 0), trace)
            probs = None if probs is None else probs.copy()
        else:
            self.prefix_hits += 1
            head, head_probs = _head(best, k)
            tail, tail_probs = model.trace_ids(ids[k:], head.h_n, head.c_n)
            trace = concat_time(head, tail)
            probs = None if tail_probs is None else np.concatenate([head_probs, tail_probs], axis=0)
        self._put(key, Cached(ids, trace, probs, _nbytes(trace, probs)))
        return trace, probs, k

    def _put(self, key: tuple[str, bytes], item: Cached) -> None:
        if self.max_entries <= 0 or item.nbytes > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._items[key] = item
            self._bytes += item.nbytes
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, gone = self._items.popitem(last=False)
                self._bytes -= gone.nbytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0



class ResponseCache:
    """LRU of encoded response bodies (bytes), bounded by their total size."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[bytes, bool]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> tuple[bytes, bool] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: Hashable, value: tuple[bytes, bool]) -> None:
        n = len(value[0])
        if n > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._items[key] = value
            self._bytes += n
            while self._bytes > self.max_bytes:
                _, gone = self._items.popitem(last=False)
                self._bytes -= len(gone[0])


def get_cache(request: Request) -> TraceCache:
    """This process's trace cache (a FastAPI dependency)."""
    return request.app.state.cache


def get_responses(request: Request) -> ResponseCache:
    """This process's cache of encoded /api/trace answers (a FastAPI dependency)."""
    return request.app.state.responses


CacheDep = Annotated[TraceCache, Depends(get_cache)]
ResponsesDep = Annotated[ResponseCache, Depends(get_responses)]
