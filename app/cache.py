"""Recent traces in a bounded LRU, which doubles as a prefix-state cache for causal models.

Typing one more character changes only the last timestep of a causal (unidirectional) LSTM: every
earlier value depends on earlier tokens alone. So for a new token sequence we look for the cached
trace sharing the longest prefix with it, keep its first k timesteps, start the LSTM from its state at
k - 1 and run only the rest (`concat_time`). Backspace is the case where the whole text is a prefix.
Both caches here are users of one LRU class, bounded in bytes (and the trace cache also in count),
with a lock that makes them safe under the server's threads.
"""
from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Annotated, Generic, TypeVar

import numpy as np
from fastapi import Depends, Request
from numpy.typing import NDArray

from lstm_core import Model, Trace, concat_time

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class Cached:
    ids: NDArray  # (T,)
    trace: Trace
    probs: NDArray | None  # the head's outputs: (T, K), or (K,) for a classifier
    nbytes: int


def _nbytes(trace: Trace, probs: NDArray | None) -> int:
    arrays = [trace.gate(k) for k in Trace.GATES] + [trace.output, probs]
    return int(sum(a.nbytes for a in arrays if a is not None))


def _common_prefix(a: NDArray, b: NDArray) -> int:
    n = min(len(a), len(b))
    diff = np.flatnonzero(a[:n] != b[:n])
    return int(diff[0]) if diff.size else n


def _head(c: Cached, k: int) -> tuple[Trace, NDArray | None]:
    """The first k timesteps of a cached causal trace, with the state after step k-1 as h_n, c_n, and the
    first k rows of its head's outputs (None when the head answers once per text: a classifier)."""
    tr = c.trace.slice_time(0, k)
    # Unidirectional, so h[:, 0, k-1] is each layer's state: the (L*D, H_out) layout of h_n.
    tr = replace(tr, h_n=np.ascontiguousarray(tr.h[:, 0, k - 1]), c_n=np.ascontiguousarray(tr.c[:, 0, k - 1]))
    return tr, None if c.probs is None or c.probs.ndim != 2 else c.probs[:k]


class LRU(Generic[K, V]):
    """A least-recently-used map bounded in bytes (each value's `size`) and optionally in entries.

    A value larger than the whole byte budget is not kept. Safe to share between the server's threads.
    """

    def __init__(self, max_bytes: int, size: Callable[[V], int], max_entries: int | None = None) -> None:
        self.max_bytes, self._size = max_bytes, size
        self.max_entries = sys.maxsize if max_entries is None else max_entries
        self._items: OrderedDict[K, V] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """The total size of the values kept."""
        return self._bytes

    def get(self, key: K) -> V | None:
        """The value for `key` (now the most recently used), or None."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: K, value: V) -> None:
        n = self._size(value)
        if n > self.max_bytes or self.max_entries <= 0:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= self._size(old)
            self._items[key] = value
            self._bytes += n
            while self._bytes > self.max_bytes or len(self._items) > self.max_entries:
                _, gone = self._items.popitem(last=False)
                self._bytes -= self._size(gone)

    def items(self) -> list[tuple[K, V]]:
        """A snapshot of every entry, least recently used first; reading it does not reorder them."""
        with self._lock:
            return list(self._items.items())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


class TraceCache:
    """(model id, token ids) -> trace and the head's outputs, reusing the longest cached prefix of causal models."""

    def __init__(self, max_entries: int = 64, max_bytes: int = 256 << 20) -> None:
        self._lru: LRU[tuple[str, bytes], Cached] = LRU(max_bytes, lambda c: c.nbytes, max_entries)
        self.hits = self.prefix_hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._lru)

    @property
    def nbytes(self) -> int:
        return self._lru.nbytes

    @property
    def max_bytes(self) -> int:
        return self._lru.max_bytes

    def trace_ids(self, model_id: str, model: Model, ids: NDArray) -> tuple[Trace, NDArray | None, int]:
        """(trace, probs, reused) for token ids; `reused` timesteps came from the cache."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        key = (model_id, ids.tobytes())
        hit = self._lru.get(key)
        if hit is not None:
            self.hits += 1
            return hit.trace, hit.probs, len(ids)
        best, k = None, 0
        if model.is_causal:
            for (mid, _), c in self._lru.items():
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
            probs = model.outputs(trace) if probs is None else probs.copy()
        else:
            self.prefix_hits += 1
            head, head_probs = _head(best, k)
            tail, tail_probs = model.trace_ids(ids[k:], head.h_n, head.c_n)
            trace = concat_time(head, tail)
            # A classifier reads the final state, which the tail ends with: its answer is the whole text's.
            probs = tail_probs if head_probs is None else np.concatenate([head_probs, tail_probs], axis=0)
        self._lru.put(key, Cached(ids, trace, probs, _nbytes(trace, probs)))
        return trace, probs, k

    def clear(self) -> None:
        self._lru.clear()


class ResponseCache(LRU[Hashable, tuple[bytes, bool]]):
    """Encoded response bodies (bytes, gzipped) by request, bounded by their total size."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        super().__init__(max_bytes, lambda v: len(v[0]))


def get_cache(request: Request) -> TraceCache:
    """This process's trace cache (a FastAPI dependency)."""
    return request.app.state.cache


def get_responses(request: Request) -> ResponseCache:
    """This process's cache of encoded /api/trace answers (a FastAPI dependency)."""
    return request.app.state.responses


CacheDep = Annotated[TraceCache, Depends(get_cache)]
ResponsesDep = Annotated[ResponseCache, Depends(get_responses)]
