"""What each view of gatescope shows, as numbers: the one definition the HTTP API's exports, the notebook
figures (app/figures) and the HTML snapshot all draw from. The page computes the same in JavaScript
(static/js/order.js, saturation.js, heatmaps.js); tests/browser/test_view_parity.py feeds both the same
values and checks they agree.

Layer indices here are the model's (a full trace); `direction` 0 is forward, 1 backward.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .predict import Predictions
from .trace import Trace

QUANTITIES = Trace.GATES
GATES = ("i", "f", "o")  # the sigmoid gates, on a fixed 0..1 scale
SATURATION_GATES = ("f", "i", "o")
SATURATED, SHUT = 0.9, 0.1  # Karpathy et al. 2015: a gate above 0.9 is open, below 0.1 shut
ORDERS = ("index", "mean", "variance", "similarity")


def block(trace: Trace, q: str, layer: int, direction: int) -> NDArray:
    """(T, H_q): quantity q of one layer and direction (H_q is H_out for h)."""
    return trace.gate(q)[layer, direction]


def unit_order(x: NDArray, how: str = "index") -> NDArray:
    """Unit indices in display order for a (T, H) block: by index, by mean or variance over time (high
    first), or by similarity (units sorted by their loading on the first principal component of the
    standardised time courses, found by 30 power iterations from a fixed start, so the order is stable).
    Ties keep index order."""
    if how not in ORDERS:
        raise ValueError(f"unknown order {how!r}; expected one of {', '.join(ORDERS)}")
    x = np.asarray(x, np.float64)
    T, H = x.shape
    if how == "index" or T == 0:
        return np.arange(H)
    mean = x.mean(axis=0)  # (H,)
    var = ((x - mean) ** 2).mean(axis=0)  # (H,) population variance
    if how == "mean":
        key = mean
    elif how == "variance":
        key = var
    else:
        s = np.sqrt(var)
        z = np.where(s > 1e-9, (x - mean) / np.where(s > 1e-9, s, 1), 0.0)  # (T, H)
        v = 1 + (np.arange(H) * 7919 % 13) / 13  # (H,)
        for _ in range(30):
            nxt = z.T @ (z @ v)  # (H,)
            v = nxt / (np.linalg.norm(nxt) or 1)
        key = v
    return np.lexsort((np.arange(H), -key))  # key descending, then index ascending


def heatmap(trace: Trace, q: str, layer: int, direction: int, order: NDArray | None = None) -> tuple[NDArray, NDArray]:
    """(z (H_q, T), units (H_q,)): rows of quantity q in display order, rows[r] = unit units[r] over time.
    `order` (from unit_order) applies when q has H units; h of a projected LSTM keeps index order."""
    x = block(trace, q, layer, direction)  # (T, H_q)
    Hq = x.shape[1]
    units = np.asarray(order) if order is not None and len(order) == Hq else np.arange(Hq)
    return x.T[units], units


def colour_limit(q: str, x: NDArray) -> float:
    """The end of quantity q's colour scale for values x: 1 for gates (0..1); for g and h max(1, max |x|);
    for c the 95th percentile of |x| (from at most ~10k evenly strided samples), so that a few large cells
    do not wash the rest out."""
    a = np.abs(np.asarray(x, np.float64)).ravel()
    if q in GATES:
        return 1.0
    if q == "c":
        s = np.sort(a[:: max(1, a.size // 10000)])
        return float(s[min(s.size - 1, int(0.95 * s.size))]) or 1e-6
    m = float(a.max()) if a.size else 0.0
    return max(m, 1e-6) if m > 1 else 1.0


def saturation(trace: Trace, direction: int, gates: tuple[str, ...] = SATURATION_GATES) -> dict[str, NDArray]:
    """{gate: (L, 2, H)}: per layer and unit, the fraction of timesteps above 0.9 ([:, 0]) and below 0.1
    ([:, 1]) over the whole text."""
    out = {}
    for q in gates:
        x = trace.gate(q)[:, direction].astype(np.float64)  # (L, T, H)
        out[q] = np.stack([(x > SATURATED).mean(axis=1), (x < SHUT).mean(axis=1)], axis=1)
    return out


def unit_lines(trace: Trace, layer: int, direction: int, unit: int) -> dict[str, NDArray]:
    """{q: (T,)}: one unit's i, f, g, o, c and h over time; h is NaN beyond a projection's H_out units."""
    out = {}
    for q in QUANTITIES:
        x = block(trace, q, layer, direction)  # (T, H_q)
        out[q] = x[:, unit].astype(np.float64) if unit < x.shape[1] else np.full(x.shape[0], np.nan)
    return out


def next_probs(preds: Predictions | None, ids: NDArray, oov: Sequence[int]) -> NDArray:
    """(T,) P(token t | the tokens before it), as the model gave it at t - 1 (Predictions.actual, computed in
    blocks, never T x V); NaN at 0, at unknown tokens and for a model without a next-token decoder (None)."""
    ids = np.asarray(ids)
    out = np.full(len(ids), np.nan)
    if preds is not None and len(ids) > 1:
        out[1:] = preds.actual[:-1]  # (T-1,)
    out[list(oov)] = np.nan
    out[ids < 0] = np.nan
    return out
