"""Pattern search as in LSTMVis (Strobelt et al. 2018), over every token of the index, on bit masks.

The pattern of a span [t0, t1): the units of one (quantity, layer, direction) that are >= the
threshold at every token of the span and below it just around it (tokens t0 - 1 and t1, where they
exist). Candidate matches are the maximal runs of tokens where at least n of the pattern's units are
on, for n from |P| down to ceil(min_overlap * |P|). For each run, the units on throughout it and off
just around it are compared with the pattern; matches rank by most pattern units among them
(overlap), then fewest other units (extra), then length closest to the query's, then position.
The query span itself, when it is in the index, is a match with overlap |P| and extra 0.

Each mask row is a unit bitset (H/8 bytes a token, read as uint64 words), so a run's "on throughout"
set is one AND-reduction and a count is a popcount. LSTMVis's fast mode scans the first 500,000
timesteps; this scans them all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from ..model import Model
from . import f16
from .index import CorpusIndex, UnitRef
from .snippets import Snippet, snippet
from .tracer import masks_of


@dataclass(frozen=True)
class Pattern:
    quantity: str
    layer: int
    direction: int
    threshold: float
    units: NDArray  # (p,) the pattern's units, increasing
    length: int  # t1 - t0 of the query span

    def to_json(self) -> dict:
        return {**{k: getattr(self, k) for k in ("quantity", "layer", "direction", "threshold", "length")},
                "units": self.units.tolist()}


@dataclass(frozen=True)
class Match:
    start: int  # token span [start, end)
    end: int
    overlap: int  # pattern units on throughout and off just around
    extra: int  # other units on throughout and off just around
    length_diff: int  # |(end - start) - pattern.length|
    snippet: Snippet  # highlight = the match; values = fraction of the pattern's units on at each token

    def to_json(self) -> dict:
        return {**{k: getattr(self, k) for k in ("start", "end", "overlap", "extra", "length_diff")},
                "snippet": self.snippet.to_json()}


@dataclass(frozen=True)
class SearchResult:
    pattern: Pattern
    matches: list[Match]  # best first, at most `limit`
    candidates: int  # distinct runs ranked
    full: int  # runs with every pattern unit on throughout (overlap == |P|)

    def to_json(self) -> dict:
        return {"pattern": self.pattern.to_json(), "matches": [m.to_json() for m in self.matches],
                "candidates": self.candidates, "full": self.full}


def pattern_of(values: NDArray, t0: int, t1: int, threshold: float, quantity: str, layer: int = 0,
               direction: int = 0) -> Pattern:
    """The pattern of span [t0, t1) in `values` (T, H), compared as float16, as the index stores it."""
    T = len(values)
    if not 0 <= t0 < t1 <= T:
        raise ModelError(f"the span must satisfy 0 <= start < end <= {T} tokens, got [{t0}, {t1})",
                         "core.pattern_span", tokens=T, start=t0, end=t1)
    if not threshold > 0:
        raise ModelError(f"the threshold must be positive (a unit is on when its value is >= it), got {threshold}",
                         "core.pattern_threshold", threshold=threshold)
    on = f16.greater_equal(np.asarray(values, np.float16), threshold)  # (T, H)
    keep = on[t0:t1].all(axis=0)
    if t0 > 0:
        keep &= ~on[t0 - 1]
    if t1 < T:
        keep &= ~on[t1]
    units = np.flatnonzero(keep)
    if not len(units):
        raise ModelError(f"no unit of {quantity} (layer {layer}, direction {direction}) is >= {threshold} over the "
                         "whole span and below it just around it; lower the threshold or choose another span",
                         "core.pattern_empty", q=quantity, layer=layer, direction=direction, threshold=threshold)
    return Pattern(quantity, layer, direction, float(threshold), units, t1 - t0)


def pattern_in_index(index: CorpusIndex, t0: int, t1: int, threshold: float, quantity: str = "h",
                     layer: int = 0, direction: int = 0) -> Pattern:
    """The pattern of tokens [t0, t1) of the index itself."""
    H = index.manifest.per_direction(quantity)
    col = index.column(UnitRef(quantity, layer, direction, 0))
    if not 0 <= t0 < t1 <= index.num_tokens:
        raise ModelError(f"the span must satisfy 0 <= start < end <= {index.num_tokens} tokens, got [{t0}, {t1})")
    a, b = max(0, t0 - 1), min(index.num_tokens, t1 + 1)
    vals = index.block(quantity, a, b)[:, col : col + H]
    p = pattern_of(vals, t0 - a, t1 - a, threshold, quantity, layer, direction)
    return p


def pattern_in_text(index: CorpusIndex, model: Model, text: str, t0: int, t1: int, threshold: float,
                    quantity: str = "h", layer: int = 0, direction: int = 0) -> Pattern:
    """The pattern of tokens [t0, t1) of `text` traced by `model` from a zero state (the explorer's trace).
    The caller checks that `model` built the index (`index.check_model(path)`)."""
    index.column(UnitRef(quantity, layer, direction, 0))  # validates quantity, layer, direction
    vals = model.trace_text(text).trace.gate(quantity)[layer, direction]  # (T, H)
    return pattern_of(vals, t0, t1, threshold, quantity, layer, direction)


def search(index: CorpusIndex, pattern: Pattern, limit: int = 20, min_overlap: float = 0.5,
           context: int = 20) -> SearchResult:
    """Every run of the corpus where the pattern's units are on, ranked (see the module docstring)."""
    if not 0 < min_overlap <= 1:
        raise ModelError(f"min_overlap must be in (0, 1], got {min_overlap}")
    M = _mask(index, pattern)  # (N, W) uint64
    N, W = M.shape
    P = _bits(pattern.units, W)  # (W,)
    p = len(pattern.units)
    words = np.flatnonzero(P)  # only the words holding pattern units count
    count = _popcount(np.take(M, words, axis=1) & P[words])  # (N,) pattern units on at each token
    present = np.bincount(count, minlength=p + 1)
    lowest = max(1, math.ceil(min_overlap * p))
    # Rows with at least n pattern units on shrink as n grows: keep only those (and their positions),
    # so each level reduces over its own rows rather than over the whole corpus.
    pos = np.flatnonzero(count >= lowest)  # (m,) token positions
    rows, cnt = np.take(M, pos, axis=0), count[pos]  # (m, W), (m,); take: 2-d fancy indexing is 20x slower
    found: list[tuple[NDArray, ...]] = []
    seen = np.zeros(0, np.int64)  # the previous level's runs, as sorted keys start * (N + 1) + end
    for n in range(lowest, p + 1):
        if n > lowest:
            keep = cnt >= n
            pos, rows, cnt = pos[keep], np.compress(keep, rows, axis=0), cnt[keep]
        if not len(pos):
            break
        if n < p and not present[n]:
            continue  # no token has exactly n on: the runs equal those of level n + 1
        first = np.flatnonzero(np.concatenate(([True], np.diff(pos) != 1)))  # (r,) a run's first row
        last = np.append(first[1:], len(pos))  # (r,) one past its last row
        starts, ends = pos[first], pos[last - 1] + 1
        key = starts * (N + 1) + ends
        # Runs nest from level to level; one equal to a run of the level before was ranked there.
        new = seen[np.minimum(np.searchsorted(seen, key), len(seen) - 1)] != key if len(seen) else slice(None)
        seen, first, last, starts, ends = key, first[new], last[new], starts[new], ends[new]
        if not len(first):
            continue
        edges = np.stack([first, last], axis=1).ravel()  # (2r,) each run's [first, last) rows
        on = np.bitwise_and.reduceat(rows, edges[:-1] if edges[-1] == len(rows) else edges, axis=0)[0::2]  # (r, W)
        around = np.take(M, np.maximum(starts - 1, 0), axis=0) | np.take(M, np.minimum(ends, N - 1), axis=0)  # (r, W)
        if starts[0] == 0:  # runs are in order: only the first can start the corpus, only the last end it
            around[0] = M[min(ends[0], N - 1)] if ends[0] < N else 0
        if ends[-1] == N:
            around[-1] = M[starts[-1] - 1] if starts[-1] > 0 else 0
        on &= ~around  # units on throughout each run and off just around it
        found.append((starts, ends, _popcount(on & P), _popcount(on & ~P)))
    if not found:
        need = math.ceil(min_overlap * p)
        raise ModelError(f"no token of the corpus has {need} of the pattern's {p} units on at once; lower "
                         "min_overlap or the threshold", "core.pattern_no_match", need=need, units=p)
    starts, ends, overlap, extra = (np.concatenate(x) for x in zip(*found, strict=True))  # each run once
    diff = np.abs(ends - starts - pattern.length)
    order = np.lexsort((starts, diff, extra, -overlap))
    frac = (count / p).astype(np.float32)
    matches = [Match(int(starts[j]), int(ends[j]), int(overlap[j]), int(extra[j]), int(diff[j]),
                     snippet(index, int(starts[j]), int(ends[j]), frac, before=context, after=context))
               for j in order[:limit]]
    return SearchResult(pattern, matches, len(starts), int((overlap == p).sum()))


def _mask(index: CorpusIndex, pat: Pattern) -> NDArray:
    """(N, W) uint64 unit bitsets: the stored mask at the pattern's threshold, or one computed from the
    stored values (slower: it reads every unit of the layer) for a threshold the index has no mask for."""
    s = index.manifest.settings
    k = next((k for k, t in enumerate(s.thresholds) if math.isclose(t, pat.threshold)), None)
    if pat.quantity in s.mask_quantities and k is not None:
        return index.mask(pat.quantity, pat.layer, pat.direction, k)
    H = index.manifest.per_direction(pat.quantity)
    col = index.column(UnitRef(pat.quantity, pat.layer, pat.direction, 0))
    parts = [masks_of(index.block(pat.quantity, a, min(a + s.tokens_chunk, index.num_tokens))[:, col : col + H],
                      1, (pat.threshold,))[0, 0] for a in range(0, index.num_tokens, s.tokens_chunk)]
    return np.ascontiguousarray(np.concatenate(parts)).view(np.uint64)


def _bits(units: NDArray, words: int) -> NDArray:
    """(words,) uint64 bitset of `units`, packed like the masks (np.packbits order)."""
    on = np.zeros(words * 64, bool)
    on[units] = True
    return np.packbits(on).view(np.uint64)


def _popcount(words: NDArray) -> NDArray:
    """Set bits per row of a (n, W) uint64 array."""
    if hasattr(np, "bitwise_count"):
        bits = np.bitwise_count(words)  # (n, W) uint8
        out = bits[..., 0].astype(np.int64)
        for w in range(1, words.shape[-1]):  # a few words: column adds beat a sum over a short last axis
            out += bits[..., w]
        return out
    table = np.array([bin(b).count("1") for b in range(256)], np.int64)  # NumPy < 2 has no bitwise_count
    return table[words.view(np.uint8)].reshape(*words.shape[:-1], -1).sum(axis=-1)
