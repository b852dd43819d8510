"""One build task: trace its windows with the batched core and turn the trace into stored blocks.

A causal model's windows of equal length are traced all at once (batch = windows of the task) in
pieces of PIECE steps, each piece starting from the previous one's final state: a wide batch keeps
the per-step matrix products efficient, and small pieces keep the core's recording buffers small
(a few tens of MB, reused by the allocator instead of freshly mapped for every call). Windows of
other lengths, and every window of a model that also reads right to left, are traced whole, a few
at a time within MEMORY bytes of buffers.

The core records into float32 buffers laid out (layer, time, batch, direction, 4H), so the values
of one (layer, direction) for all windows of a piece are one strided float16 cast into the
token-major block, with no transpose. Masks and saturation counts come from the float16 block, so
they agree bit for bit with what a query recomputes from the stored values. With numba the cast, the
masks and the counts are compiled loops (packjit.py) that give NumPy's bytes at a fraction of the CPU.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from ..model import Model
from . import f16, packjit
from .settings import Geometry
from .store import Manifest

T = TypeVar("T")
PIECE = 32  # steps per call in the causal path (measured: 32 beat 16, 64, 128 and whole windows)
MEMORY = 256 * 2**20  # recording buffers of one call in the whole-window path


@dataclass
class TaskBlocks:
    """What build task k stores, for tokens [start, end)."""

    start: int
    end: int
    values: dict[str, NDArray]  # q -> (n, U_q) float16
    masks: dict[str, NDArray]  # q -> (K, L*D, n, B) uint8
    stats: dict[str, NDArray]  # q -> (2, U_q) int64


def trace_task(model: Model, ids: NDArray, ids_from: int, m: Manifest, geo: Geometry, k: int,
               threads: int = 1) -> TaskBlocks:
    """Trace build task k. `ids` are the corpus token ids from position `ids_from` on, covering the
    task's tokens with their warm-up (and look-ahead). With `threads` > 1 the task's batches of causal
    windows, and its quantities' masks, run on that many threads; the batches are the same either way, so
    the stored bits are too (a window's values depend in their last bits on the windows sharing its batch)."""
    s = m.settings
    start, end = geo.task_tokens(k)
    values = {q: np.empty((end - start, m.units(q)), np.float16) for q in s.quantities}
    windows = [(ws, min(end, ws + s.window)) for ws in range(start, end, s.window)]
    spans = [(max(0, ws - s.warmup), min(geo.tokens, we + geo.lookahead)) for ws, we in windows]
    full = [j for j, ((ws, we), (a, b)) in enumerate(zip(windows, spans, strict=True))
            if geo.causal and ws - a == s.warmup and we - ws == s.window]
    rest = [j for j in range(len(windows)) if j not in set(full)]
    # Each call writes its own windows' rows of `values`. Only causal batches share threads: their buffers
    # are a few tens of MB, where a whole-window call may fill MEMORY.
    on_threads(threads, [partial(_trace_in_pieces, model, ids, ids_from, [windows[j] for j in g], s.warmup, start,
                                 values) for g in _groups(full, s.batch)])
    per_window = _bytes_per_step(model) * max((b - a for a, b in spans), default=1)
    for group in _groups(rest, max(1, min(s.batch, MEMORY // per_window))):
        _trace_whole(model, ids, ids_from, [windows[j] for j in group], [spans[j] for j in group], start, values)
    ld = m.model["layers"] * m.model["directions"]
    counted = on_threads(threads, [partial(masks_and_counts, values[q], ld,
                                           s.thresholds if q in s.mask_quantities else (), q) for q in s.quantities])
    stats = {q: c for q, (c, _) in zip(s.quantities, counted, strict=True)}
    masks = {q: mask for q, (_, mask) in zip(s.quantities, counted, strict=True) if mask is not None}
    return TaskBlocks(start, end, values, masks, stats)


def on_threads(threads: int, calls: list[Callable[[], T]]) -> list[T]:
    """Each call's result, the calls run on up to `threads` threads (in order in this one when 1). The
    compiled loops, BLAS, blosc and NumPy's copies release the GIL, so threads fill idle cores."""
    if threads <= 1 or len(calls) <= 1:
        return [c() for c in calls]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(threads, len(calls))) as ex:
        return list(ex.map(lambda c: c(), calls))


def _groups(items: list[int], size: int) -> list[list[int]]:
    return [items[k : k + size] for k in range(0, len(items), size)]


def _bytes_per_step(model: Model) -> int:
    c = model.lstm.config
    return c.num_layers * c.num_directions * (5 * c.hidden_size + c.output_size) * model.lstm.dtype.itemsize


def _trace_in_pieces(model: Model, ids: NDArray, ids_from: int, windows: list[tuple[int, int]], warmup: int,
                     start: int, values: dict[str, NDArray]) -> None:
    """Causal windows of one length: the batch steps through them PIECE steps at a time, carrying state."""
    B, W = len(windows), windows[0][1] - windows[0][0]
    r0 = windows[0][0] - start
    assert all(b[0] == a[1] for a, b in zip(windows[:-1], windows[1:], strict=True)), "windows must be contiguous"
    first = np.array([ws - warmup - ids_from for ws, _ in windows])  # (B,) where each traced span starts in ids
    h = c = None
    for p in range(0, W + warmup, PIECE):
        n = min(PIECE, W + warmup - p)
        x = model.inputs(ids[first[:, None] + p + np.arange(n)].ravel()).reshape(B, n, -1)  # (B, n, D)
        tr = model.lstm.trace(x, h0=h, c0=c)
        h, c = tr.h_n, tr.c_n
        keep = max(0, warmup - p)  # steps of this piece still in the warm-up
        if keep >= n:
            continue
        rows = slice(p + keep - warmup, p + n - warmup)  # positions within each window
        for q, block in values.items():
            rec = tr.gate(q)  # (B, L, D, n, H), views of the core's buffers
            H = rec.shape[-1]
            dst = block[r0 : r0 + B * W].reshape(B, W, -1)[:, rows]  # (B, n', U_q)
            for g in range(rec.shape[1] * rec.shape[2]):
                packjit.cast_into(dst[:, :, g * H : (g + 1) * H], rec[:, g // rec.shape[2], g % rec.shape[2], keep:])


def _trace_whole(model: Model, ids: NDArray, ids_from: int, windows: list[tuple[int, int]],
                 spans: list[tuple[int, int]], start: int, values: dict[str, NDArray]) -> None:
    """Windows of any length, each traced from its warm-up to its look-ahead in one call."""
    T = max(b - a for a, b in spans)
    x = np.zeros((len(windows), T, model.lstm.config.input_size), model.lstm.dtype)  # (B, T, D)
    for j, (a, b) in enumerate(spans):
        x[j, : b - a] = model.inputs(ids[a - ids_from : b - ids_from])
    tr = model.lstm.trace(x, lengths=np.array([b - a for a, b in spans]))
    for q, block in values.items():
        rec = tr.gate(q)  # (B, L, D, T, H)
        _, L, D, _, H = rec.shape
        for j, ((ws, we), (a, _)) in enumerate(zip(windows, spans, strict=True)):
            rows = block[ws - start : we - start]
            for g in range(L * D):
                packjit.cast_into(rows[None, :, g * H : (g + 1) * H], rec[j, g // D, g % D, None, ws - a : we - a])


def masks_and_counts(block: NDArray, groups: int, thresholds: tuple[float, ...],
                     q: str) -> tuple[NDArray, NDArray | None]:
    """(saturation counts (2, U_q) as f16.count_saturated gives them, masks_of(...) or None without thresholds) of
    a (n, U_q) float16 block: one compiled pass when packjit has one, else NumPy's calls (the same bytes)."""
    k = packjit.kernels()
    if k is None or len(thresholds) >= 128:  # the compiled packing holds a level in 7 bits
        return f16.count_saturated(block, q), masks_of(block, groups, thresholds) if thresholds else None
    n, U = block.shape
    masks = np.zeros((len(thresholds), groups, n, -(-(U // groups) // 64) * 8), np.uint8)  # as masks_of lays out
    counts = np.zeros((2, U), np.int64)
    k.pack(block.view(np.uint16), groups, _levels(tuple(thresholds)), f16.saturation_codes(q), len(thresholds),
           masks, counts)
    return counts, masks if thresholds else None


def masks_of(block: NDArray, groups: int, thresholds: tuple[float, ...]) -> NDArray:
    """(K, groups, n, B) bit masks of a (n, U_q) float16 block whose columns are `groups` (layer,
    direction) runs of H units: bit u of row t is set where unit u >= thresholds[k].

    A table maps each of the 65,536 float16 bit patterns to how many thresholds it reaches, so one
    gather gives every threshold's answer as a small integer; then each mask is a uint8 compare and
    np.packbits, over blocks of rows that stay in cache (1.4-1.7x faster than comparing per threshold).
    """
    n, U = block.shape
    H = U // groups
    out = np.zeros((len(thresholds), groups, n, -(-H // 64) * 8), np.uint8)  # rows padded to whole uint64 words
    table, bits = _levels(tuple(thresholds)), block.view(np.uint16)
    for r in range(0, n, 4096):
        level = table[bits[r : r + 4096]]  # (rows, U) thresholds reached
        for g in range(groups):
            part = level[:, g * H : (g + 1) * H]
            for k in range(len(thresholds)):
                packed = np.packbits(part > k, axis=1)  # (rows, ceil(H / 8))
                out[k, g, r : r + 4096, : packed.shape[1]] = packed
    return out


@lru_cache(maxsize=8)
def _levels(thresholds: tuple[float, ...]) -> NDArray:
    """(65536,) uint8: for each float16 bit pattern, how many of the thresholds it is >= (exactly)."""
    every = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    level = np.zeros(65536, np.uint8)
    for t in thresholds:
        level += f16.greater_equal(every, t)
    return level
