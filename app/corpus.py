"""What the corpus routes share: a model's index (found, opened once, checked against the model file) and
the answers to its questions, as plain data. Routes validate, call these, encode with serialize.dumps.

    idx = corpus.Indexes(settings.index_dir)      # app.state.indexes, one per process
    index = idx.open(entry)                       # 404 no_index / 409 index_mismatch as an ApiError
    corpus.unit(index, UnitRef("c", 1, 0, 112), k=10, bins=50)

An index is the directory `index_dir/<model id>` (what `python -m app index --shipped` writes, or any
`python -m app index MODEL CORPUS --out index_dir/<model id>`).
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import Depends, Request

from app.errors import ApiError, from_model_error
from app.registry import Entry
from lstm_core import ModelError, Trace
from lstm_core.corpus import (
    CorpusIndex,
    Feature,
    UnitRef,
    corpus_saturation,
    file_sha256,
    label_values,
    pattern_of,
    rank_units,
    regex_feature,
    score_table,
    search,
    unit_report,
)

REGEX_SECONDS = 2.0  # a reader's regex gets this long over the corpus; one that backtracks without end stops


class Indexes:
    """Open indexes by model id; each is reopened when its directory or the model file changes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._open: dict[str, tuple[tuple, CorpusIndex]] = {}
        self._lock = threading.Lock()

    def _stamp(self, entry: Entry) -> tuple:
        """What must stay the same for an open index to stay valid (file times and sizes)."""
        z, m = (self.root / entry.id / "zarr.json").stat(), entry.path.stat()
        return z.st_mtime_ns, z.st_size, m.st_mtime_ns, m.st_size, id(entry.model)

    def find(self, entry: Entry) -> CorpusIndex | None:
        """The model's index, or None when it has none; ApiError when the index is not this model's."""
        if not (self.root / entry.id / "zarr.json").is_file():
            return None
        stamp = self._stamp(entry)
        with self._lock:
            held = self._open.get(entry.id)
        if held is not None and held[0] == stamp:
            return held[1]
        try:
            index = CorpusIndex.open(self.root / entry.id)
        except ModelError as e:  # unfinished, or not an index
            raise from_model_error(409, "index_unusable", e) from None
        if index.manifest.model["sha256"] != file_sha256(entry.path):
            raise ApiError(409, "index_mismatch", "error.index_mismatch", model=entry.id,
                           built_by=index.manifest.model["id"])
        with self._lock:
            self._open[entry.id] = (stamp, index)
        return index

    def open(self, entry: Entry) -> CorpusIndex:
        index = self.find(entry)
        if index is None:
            raise ApiError(404, "no_index", "error.no_index", model=entry.id)
        return index


def info(entry: Entry, indexes: Indexes) -> dict:
    """The CorpusInfo fields: what the index holds, or index null when the model has none."""
    index = indexes.find(entry)
    if index is None:
        return {"model": entry.id, "index": None, "census": False}
    m = index.manifest
    return {"model": entry.id, "census": census_file(entry, index) is not None, "index": {
        "corpus": m.corpus["name"], "tokens": index.num_tokens, "chars": index.num_chars,
        "quantities": list(m.settings.quantities), "masks": list(m.settings.mask_quantities),
        "thresholds": list(m.settings.thresholds), "window": m.settings.window, "warmup": m.settings.warmup,
        "layers": m.model["layers"], "directions": m.model["directions"],
        "units": {q: m.per_direction(q) for q in m.settings.quantities}}}


def ref_of(index: CorpusIndex, quantity: str, layer: int, direction: int, unit: int) -> UnitRef:
    """A UnitRef the index holds; a 422 naming what is out of range otherwise."""
    ref = UnitRef(quantity, layer, direction, unit)
    try:
        index.column(ref)
    except ModelError as e:
        raise from_model_error(422, "bad_unit", e) from None
    return ref


def unit(index: CorpusIndex, ref: UnitRef, k: int, bins: int) -> dict:
    """The unit view: top and bottom contexts, histogram, saturation (lstm_core.corpus.UnitReport)."""
    return {**unit_report(index, ref, k, bins).to_json(), "tokens": index.num_tokens}


def census_file(entry: Entry, index: CorpusIndex) -> Path | None:
    """The census of this index: its own census.json, else the shipped model's models/<id>.census.json
    when that was taken on the same corpus."""
    own = index.path / "census.json"
    if own.is_file():
        return own
    card = entry.path.with_suffix(".census.json")
    if card.is_file() and json.loads(card.read_text(encoding="utf-8")).get("corpus") == index.manifest.corpus["name"]:
        return card
    return None


def census(entry: Entry, index: CorpusIndex) -> dict:
    path = census_file(entry, index)
    if path is None:
        raise ApiError(404, "no_census", "error.no_census", model=entry.id)
    return json.loads(path.read_text(encoding="utf-8"))


def probe(index: CorpusIndex, regex: str, top: int) -> dict:
    """Every c and h unit ranked against a feature of the user's: 1 inside matches of `regex`."""
    text, spans = index.text(0, index.num_chars), index.spans(0, index.num_tokens)
    return _ranked(index, regex_feature(text, spans, regex, timeout=REGEX_SECONDS), top)


def probe_labels(index: CorpusIndex, data: bytes, filename: str, top: int) -> dict:
    """Every c and h unit ranked against an uploaded per-token label file (the CLI's --labels format);
    a 422 with a catalog sentence for a file that is not one number per token of the index."""
    try:
        feature = label_values(data, filename, index.num_tokens)
    except ModelError as e:
        raise from_model_error(422, "bad_labels", e) from None
    return _ranked(index, feature, top)


def _ranked(index: CorpusIndex, feature: Feature, top: int) -> dict:
    quantities = tuple(q for q in ("c", "h") if q in index.manifest.settings.quantities)
    result = rank_units(index, score_table(index, [feature], quantities), top)[0]
    return {"feature": result.feature, "description": result.description, "binary": result.binary,
            "mean": result.mean, "tracking": result.tracking,
            "best": [{**s.ref.to_json(), "auc": s.auc, "r": s.r, "score": s.score} for s in result.best],
            "example": result.example.to_json() if result.example else None,
            "example_feature": None if result.example_feature is None else
            [None if np.isnan(x) else float(x) for x in result.example_feature]}


def patterns(index: CorpusIndex, trace: Trace, ref: UnitRef, start: int, end: int, threshold: float,
             limit: int, min_overlap: float) -> dict:
    """LSTMVis pattern search: the pattern of tokens [start, end) of a traced text (the explorer's, from
    service.trace) in the units of ref's (quantity, layer, direction), matched over the whole index."""
    values = trace.gate(ref.quantity)[ref.layer, ref.direction]  # (T, H)
    pattern = pattern_of(values, start, end, threshold, ref.quantity, ref.layer, ref.direction)
    return {**search(index, pattern, limit, min_overlap).to_json(), "tokens": index.num_tokens}


def opening(index: CorpusIndex, token: int, max_tokens: int) -> dict:
    """What the explorer traces to show token `token` as the index stored it: the window's traced span
    (warm-up included), cut to the explorer's `max_tokens`, and the token's position in it. `exact` is
    false when the cut removed tokens the stored value depended on (windows longer than the explorer takes)."""
    if not 0 <= token < index.num_tokens:
        raise ApiError(422, "bad_token", "error.bad_token", token=token, last=index.num_tokens - 1)
    a, b = index.geometry.traced_span(token)
    exact = True
    if b - a > max_tokens:
        keep_a = max(a, token + 1 - max_tokens)  # the token and as much of what led to it as fits
        end = min(b, keep_a + max_tokens)
        exact = keep_a == a and (end == b or index.manifest.model["causal"])
        a, b = keep_a, end
    spans = index.spans(a, b)  # (b - a, 2)
    return {"text": index.text(int(spans[0, 0]), int(spans[-1, 1])), "t": token - a, "tokens": [a, b],
            "exact": exact}


def saturation(index: CorpusIndex) -> dict:
    """Karpathy's plot over the corpus for each gate the index holds."""
    gates = tuple(q for q in ("f", "i", "o") if q in index.manifest.settings.quantities)
    return {"tokens": index.num_tokens, "gates": {q: s.to_json() for q, s in corpus_saturation(index, gates).items()}}


def get_indexes(request: Request) -> Indexes:
    """The process's open indexes (a FastAPI dependency)."""
    return request.app.state.indexes


IndexesDep = Annotated[Indexes, Depends(get_indexes)]
