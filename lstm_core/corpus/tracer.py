"""One build task: trace its windows with the batched core and turn the trace into stored blocks.

The core records into float32 buffers laid out (layer, time, batch, direction, 4H). A window's rows
for one (layer, direction) are contiguous H-wide runs there, so copying them into the token-major
float16 block is one strided cast per (window, layer, direction, quantity), with no transpose.
Masks and saturation counts are computed from the float16 block, so they agree bit for bit with
what a query recomputes from the stored values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model import Model
from . import f16
from .settings import Geometry
from .store import Manifest


@dataclass
class TaskBlocks:
    """What build task k stores, for tokens [start, end)."""

    start: int
    end: int
    values: dict[str, NDArray]  # q -> (n, U_q) float16
    masks: dict[str, NDArray]  # q -> (K, L*D, n, B) uint8
    stats: dict[str, NDArray]  # q -> (2, U_q) int64


def trace_task(model: Model, ids: NDArray, ids_from: int, m: Manifest, geo: Geometry, k: int) -> TaskBlocks:
    """Trace build task k. `ids` are the corpus token ids from position `ids_from` on, covering the
    task's tokens with their warm-up (and look-ahead)."""
    s = m.settings
    start, end = geo.task_tokens(k)
    n = end - start
    values = {q: np.empty((n, m.units(q)), np.float16) for q in s.quantities}
    windows = [(ws, min(end, ws + s.window)) for ws in range(start, end, s.window)]
    for b in range(0, len(windows), s.batch):
        _trace_windows(model, ids, ids_from, geo, windows[b : b + s.batch], start, values)
    ld = m.model["layers"] * m.model["directions"]
    masks = {q: masks_of(values[q], ld, s.thresholds) for q in s.mask_quantities}
    stats = {q: f16.count_saturated(values[q], q) for q in s.quantities}
    return TaskBlocks(start, end, values, masks, stats)


def _trace_windows(model: Model, ids: NDArray, ids_from: int, geo: Geometry, windows: list[tuple[int, int]],
                   start: int, values: dict[str, NDArray]) -> None:
    spans = [(max(0, ws - geo.settings.warmup), min(geo.tokens, we + geo.lookahead)) for ws, we in windows]
    T = max(b - a for a, b in spans)
    x = np.zeros((len(windows), T, model.lstm.config.input_size), model.lstm.dtype)  # (B, T, D)
    for j, (a, b) in enumerate(spans):
        x[j, : b - a] = model.inputs(ids[a - ids_from : b - ids_from])
    tr = model.lstm.trace(x, lengths=np.array([b - a for a, b in spans]))
    for q, block in values.items():
        rec = tr.gate(q)  # (B, L, D, T, H_q), views of the core's buffers
        _, L, D, _, H = rec.shape
        for j, ((ws, we), (a, _)) in enumerate(zip(windows, spans, strict=True)):
            rows = block[ws - start : we - start]
            for l in range(L):
                for d in range(D):
                    col = (l * D + d) * H
                    np.copyto(rows[:, col : col + H], rec[j, l, d, ws - a : we - a], casting="same_kind")


def masks_of(block: NDArray, groups: int, thresholds: tuple[float, ...]) -> NDArray:
    """(K, groups, n, B) bit masks of a (n, U_q) float16 block whose columns are `groups` (layer,
    direction) runs of H units: bit u of row t is set where unit u >= thresholds[k]."""
    n, U = block.shape
    H = U // groups
    out = np.zeros((len(thresholds), groups, n, -(-H // 64) * 8), np.uint8)  # rows padded to whole uint64 words
    for g in range(groups):
        cols = block[:, g * H : (g + 1) * H]
        for k, t in enumerate(thresholds):
            packed = np.packbits(f16.greater_equal(cols, t), axis=1)  # (n, ceil(H / 8))
            out[k, g, :, : packed.shape[1]] = packed
    return out
