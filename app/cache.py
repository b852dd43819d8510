"""Recent traces in a bounded LRU, which doubles as a prefix-state cache for causal models.

Typing one more character changes only the last timestep of a causal (unidirectional) LSTM: every
earlier value depends on earlier tokens alone. So for a new token sequence we look for the cached
trace sharing the longest prefix with it, keep its first k timesteps, start the LSTM from its state at
k - 1 and run only the rest (appended in place by app/tape.py, with `offset=k` so that every value is the same bits as a
whole run). Backspace is the case where the whole text is a prefix. A per-position head's outputs are kept
as what is sent (the top TOP_K_MAX tokens or labels, and a language model's actual next token's probability
per position), never as T x V probabilities; a classifier's one distribution per text as it is.
Both caches here are users of one LRU class, bounded in bytes (and the trace cache also in count),
with a lock that makes them safe under the server's threads.
"""
from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Annotated, Generic, NamedTuple, TypeVar

import numpy as np
from fastapi import Depends, Request
from numpy.typing import NDArray

from app.schemas import TOP_K_MAX
from app.tape import Tape, extend
from lstm_core import Model, Predictions, Tokens, Trace, concat_time, jitcell

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Traced(NamedTuple):
    """What the cache answers for token ids."""

    trace: Trace
    preds: Predictions | None  # a per-position head's top TOP_K_MAX (next tokens or labels) per position
    classes: NDArray | None  # (K,) a classifier's answer for the whole text
    reused: int  # leading timesteps that came from the cache


@dataclass(frozen=True)
class Cached:
    ids: NDArray  # (T,)
    trace: Trace
    preds: Predictions | None  # a per-position head's top TOP_K_MAX per position
    classes: NDArray | None  # (K,) a classifier's answer for the whole text
    nbytes: int
    tape: Tape | None = None  # the buffers `trace` views, when it was grown from a prefix


def _nbytes(trace: Trace, preds: Predictions | None, classes: NDArray | None, tape: Tape | None) -> int:
    # A tape is counted whole by every entry viewing it: more than it holds, never less.
    arrays = [classes] + ([] if tape is not None else [trace.gate(k) for k in Trace.GATES] + [trace.output])
    return (int(sum(a.nbytes for a in arrays if a is not None)) + (preds.nbytes if preds is not None else 0)
            + (tape.nbytes if tape is not None else 0))


def _common_prefix(a: NDArray, b: NDArray) -> int:
    n = min(len(a), len(b))
    diff = np.flatnonzero(a[:n] != b[:n])
    return int(diff[0]) if diff.size else n


def _head(c: Cached, k: int) -> Trace:
    """The first k timesteps of a cached causal trace, with the state after step k-1 as h_n, c_n."""
    tr = c.trace.slice_time(0, k)
    # Unidirectional, so h[:, 0, k-1] is each layer's state: the (L*D, H_out) layout of h_n.
    return replace(tr, h_n=np.ascontiguousarray(tr.h[:, 0, k - 1]), c_n=np.ascontiguousarray(tr.c[:, 0, k - 1]))


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
        # The last few texts' tokens: a client typing sends the text it holds an answer for (`held`), which is
        # the text of its previous request, so service.unchanged_prefix finds it here instead of encoding it again.
        self._tokens: LRU[tuple[str, int, bool, str], Tokens] = LRU(8 << 20, lambda tk: 128 * len(tk.ids) + 64, 16)
        self.hits = self.prefix_hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._lru)

    @property
    def nbytes(self) -> int:
        return self._lru.nbytes

    @property
    def max_bytes(self) -> int:
        return self._lru.max_bytes

    @property
    def text_nbytes(self) -> int:
        """The remembered texts' tokens, as estimated when kept (128 bytes a token)."""
        return self._tokens.nbytes

    @property
    def text_entries(self) -> int:
        return len(self._tokens)

    def encode(self, model_id: str, model: Model, text: str, wrap: bool, max_tokens: int) -> Tokens:
        """model.encode(text, wrap), remembered for the last few texts of at most `max_tokens` tokens."""
        key = (model_id, id(model), wrap, text)
        tok = self._tokens.get(key)
        if tok is None:
            tok = model.encode(text, wrap)
            if len(tok.ids) <= max_tokens:
                self._tokens.put(key, tok)
        return tok

    def trace_ids(self, model_id: str, model: Model, ids: NDArray) -> Traced:
        """The trace of token ids and its head's answer; `reused` timesteps came from the cache."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        # The compiled step and NumPy's round differently (jitcell.py): while a server warms numba up, traces take
        # NumPy's path, then the compiled one. An entry is kept per path, so a trace is never continued (or
        # answered) from a prefix computed the other way, and stays the bits of a whole run on the path in use.
        path = jitcell.usable()
        key = (model_id, path, ids.tobytes())
        hit = self._lru.get(key)
        if hit is not None:
            self.hits += 1
            return Traced(hit.trace, hit.preds, hit.classes, len(ids))
        best, k = None, 0
        if model.is_causal:
            for (mid, p, _), c in self._lru.items():
                if mid == model_id and p == path:
                    n = _common_prefix(c.ids, ids)
                    if n > k:
                        best, k = c, n
        tape = None
        if best is None:
            self.misses += 1
            trace = model.run(ids)
            preds = model.predictions(trace.output, ids, TOP_K_MAX)
        elif k == len(ids):
            self.prefix_hits += 1
            head = _head(best, k)
            if best.tape is not None:  # a view of the same tape, counted by both entries
                trace, tape = best.tape.view(k, head.h_n, head.c_n), best.tape
            else:  # copies, so that this entry does not keep the longer one's arrays alive after eviction
                trace = concat_time(head.slice_time(0, 0), head)
            preds = None if best.preds is None else best.preds.head(k)
        else:
            self.prefix_hits += 1
            head = _head(best, k)
            trace, tape = extend(best.tape, head, k, model.run(ids[k:], head.h_n, head.c_n, offset=k))
            preds = None
            if best.preds is not None:  # position k-1 again: a language model's next token there is now known
                rest = model.predictions(trace.output[k - 1 :], ids, TOP_K_MAX, first=k - 1)
                preds = best.preds.rows(k - 1).join(rest)
        # A classifier reads the final state (or last output), which this trace ends with: the whole text's.
        classes = model.classes(trace)
        self._lru.put(key, Cached(ids, trace, preds, classes, _nbytes(trace, preds, classes, tape), tape))
        return Traced(trace, preds, classes, k)

    def clear(self) -> None:
        self._lru.clear()
        self._tokens.clear()


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
