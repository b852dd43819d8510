"""Clamped runs for the service: a request's interventions checked, and the text run with them.

A clamp at t changes everything after t and nothing before it (in a causal model). So a clamped run of
a causal model is the unclamped run, from the prefix cache, up to the first clamped position t0, and
lstm_core.interventions' reference loop from there on, started from the cached state at t0 - 1: the
values before t0 are the very bits /api/trace answers without clamps, and only T - t0 steps run in the
slower loop. Bidirectional and reverse models run the loop from 0 (a backward pass reaches t0 last).
Nothing clamped is ever put in the cache.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from app.cache import TraceCache, Traced
from app.errors import ApiError
from app.schemas import TOP_K_MAX
from app.schemas import Intervention as InterventionSpec
from lstm_core import Model, concat_time
from lstm_core.interventions import Intervention, trace_with_interventions


def checked(specs: Sequence[InterventionSpec], model: Model, T: int) -> list[Intervention]:
    """The core's interventions for `specs` (positions sorted, unique); a 422 naming the first that does not fit
    (the schema has already checked the quantity and that the value is a finite number)."""
    cfg = model.lstm.config
    out = []
    for n, s in enumerate(specs, start=1):
        size = cfg.output_size if s.quantity == "h" else cfg.hidden_size
        bad = [t for t in s.positions or () if t >= T]
        if s.layer >= cfg.num_layers:
            raise ApiError(422, "bad_intervention", "error.clamp_layer", n=n, layer=s.layer, last=cfg.num_layers - 1)
        if s.direction >= cfg.num_directions:
            raise ApiError(422, "bad_intervention", "error.clamp_direction", n=n)
        if s.unit >= size:
            raise ApiError(422, "bad_intervention", "error.clamp_unit", n=n, unit=s.unit, quantity=s.quantity,
                           last=size - 1)
        if bad:
            raise ApiError(422, "bad_intervention", "error.clamp_position", n=n, t=bad[0], last=T - 1)
        positions = tuple(sorted(set(s.positions))) if s.positions is not None else None
        iv = Intervention(s.layer, s.direction, s.unit, s.quantity, s.value, positions)
        iv.check(model.lstm, T)  # the core's own check agrees (a ModelError would be a 422 in English)
        out.append(iv)
    return out


def first_position(ivs: Sequence[Intervention], T: int) -> int:
    """The earliest clamped timestep (0 for a clamp at every position; T when nothing is clamped)."""
    return min((0 if iv.positions is None else min(iv.positions, default=T) for iv in ivs), default=T)


def explicit(ivs: Sequence[Intervention], T: int) -> tuple[Intervention, ...]:
    """The interventions with `positions` listed (None, every position, becomes 0 .. T-1): what the trace echoes."""
    every = tuple(range(T))
    return tuple(Intervention(iv.layer, iv.direction, iv.unit, iv.quantity, iv.value,
                              every if iv.positions is None else iv.positions) for iv in ivs)


def run(model: Model, model_id: str, ids: NDArray | None, x: NDArray, ivs: Sequence[Intervention], t0: int,
        cache: TraceCache) -> Traced:
    """The trace of input x (T, input_size) with `ivs` and its head's bounded answer (predictions in blocks,
    never T x K), computed by the loop from t0 on; `reused`: steps from the cache. Steps before t0 come from
    the cache (ids given, causal model); t0 must not pass the first clamp."""
    T = len(x)
    if ids is None or not model.is_causal:
        t0 = 0
    if t0 >= T:
        return cache.trace_ids(model_id, model, ids)._replace(reused=T)
    shifted = [Intervention(iv.layer, iv.direction, iv.unit, iv.quantity, iv.value,
                            None if iv.positions is None else tuple(t - t0 for t in iv.positions)) for iv in ivs]
    known = np.full(T, -1, np.int64) if ids is None else ids  # vectors: no token comes next
    if t0 == 0:
        tr = trace_with_interventions(model.lstm, x, shifted)
        return Traced(tr, model.predictions(tr.output, known, TOP_K_MAX), model.classes(tr), 0)
    # The whole unclamped run (what /api/trace answers, cached), cut at t0, with its state after t0 - 1.
    full = cache.trace_ids(model_id, model, ids)
    head = replace(full.trace.slice_time(0, t0), h_n=full.trace.h[:, 0, t0 - 1], c_n=full.trace.c[:, 0, t0 - 1])
    tail = trace_with_interventions(model.lstm, x[t0:], shifted, head.h_n, head.c_n)  # h_n, c_n: (L, H_out), (L, H)
    tr = concat_time(head, tail)
    preds = None
    if full.preds is not None:  # per position: t < t0 as cached (same ids, so the same next tokens), then the tail
        preds = full.preds.rows(t0).join(model.predictions(tail.output, known, TOP_K_MAX, first=t0))
    return Traced(tr, preds, model.classes(tr), t0)  # a classifier reads the whole clamped run (pooled or final)
