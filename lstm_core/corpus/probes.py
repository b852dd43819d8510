"""Ranking units by how well they track a feature, over a whole index, and the census built on it.

Binary features rank units by ROC AUC (Mann-Whitney: the chance that the unit is higher on a random
positive token than on a random negative one; ties count half), numeric ones by Pearson's r. AUC is
exact: float16 values have 65,536 bit patterns, so each unit's ranks come from one bincount.
A unit's score is |2 AUC - 1| (binary) or |r| (numeric): 1 tracks perfectly, either way round.
The work runs per block of units_chunk columns (one column block in memory at a time, 2 bytes a
token per column), scheduled by dask.array over the stored chunks on the threaded scheduler.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from .features import Feature
from .index import CorpusIndex, UnitRef
from .snippets import Snippet, per_char, snippet

TRACKS = {"binary": 0.8, "numeric": 0.7}  # score from which a unit counts as tracking a feature (AUC >= 0.9 or <= 0.1)


@dataclass(frozen=True)
class UnitScore:
    ref: UnitRef
    auc: float | None  # binary features only
    r: float
    score: float


@dataclass(frozen=True)
class FeatureResult:
    feature: str
    description: str
    binary: bool
    mean: float  # fraction of positive tokens (binary) or mean value
    best: list[UnitScore]  # highest score first
    tracking: int  # units whose score reaches TRACKS
    example: Snippet | None = None  # the best unit's values over a stretch where the feature changes
    example_feature: NDArray | None = field(default=None, repr=False)  # the feature per character of example.text


def scores(index: CorpusIndex, q: str, features: list[Feature]) -> tuple[NDArray, NDArray]:
    """(auc, r), each (U_q, F): AUC (NaN for numeric features) and Pearson r of every unit of q."""
    import dask

    if not features:
        raise ModelError("no feature to probe with")
    Y = np.stack([f.values for f in features], axis=1).astype(np.float64)  # (N, F)
    binary = np.array([f.binary for f in features])
    X = index.values(q).rechunk({0: -1})  # (N, U_q): blocks of whole columns
    parts = [dask.delayed(_block_scores)(blk, Y, binary) for blk in X.to_delayed().ravel()]
    out = np.concatenate(dask.compute(*parts, scheduler="threads"), axis=0)  # (U_q, 2, F)
    return out[:, 0], out[:, 1]


def _block_scores(X: NDArray, Y: NDArray, binary: NDArray) -> NDArray:
    """(u, 2, F) AUC and r of each column of a (N, u) float16 block against (N, F) features."""
    N, u = X.shape
    out = np.full((u, 2, Y.shape[1]), np.nan)
    bits = X.view(np.uint16)
    bits = np.where(bits == 0x8000, 0, bits)  # -0 ties with +0
    keys = np.where(bits & 0x8000, ~bits, bits | 0x8000).astype(np.uint16)  # order-preserving
    Yb = Y[:, binary]
    npos = Yb.sum(axis=0)
    for j in range(u):
        counts = np.bincount(keys[:, j], minlength=65536)
        rank = np.cumsum(counts) - (counts - 1) / 2  # average 1-based rank of each bit pattern
        out[j, 0, binary] = (rank[keys[:, j]] @ Yb - npos * (npos + 1) / 2) / (npos * (N - npos))
    Xc = X.astype(np.float64)
    Xc -= Xc.mean(axis=0)
    Yc = Y - Y.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (Xc.T @ Yc) / np.sqrt(np.outer((Xc * Xc).sum(axis=0), (Yc * Yc).sum(axis=0)))  # (u, F)
    out[:, 1] = np.nan_to_num(r, nan=0.0)
    return out


@dataclass(frozen=True)
class ScoreTable:
    """AUC and r of every unit of some quantities against every feature that varies."""

    refs: list[UnitRef]
    features: list[Feature]
    auc: NDArray  # (units, F), NaN for numeric features
    r: NDArray  # (units, F)

    @property
    def score(self) -> NDArray:
        """(units, F): |2 AUC - 1| for binary features, |r| for numeric ones."""
        binary = np.array([f.binary for f in self.features])
        return np.where(binary, np.abs(2 * np.nan_to_num(self.auc, nan=0.5) - 1), np.abs(self.r))

    @property
    def tracking(self) -> NDArray:
        """(units, F) bool: the score reaches TRACKS."""
        cut = np.array([TRACKS["binary" if f.binary else "numeric"] for f in self.features])
        return self.score >= cut


def score_table(index: CorpusIndex, features: list[Feature], quantities: tuple[str, ...] = ("c", "h")) -> ScoreTable:
    """Scores of every unit of `quantities` against each feature that is not constant over the corpus."""
    m = index.manifest
    varying = [f for f in features if f.values.min() < f.values.max()]
    if not varying:
        raise ModelError("every feature is constant over this corpus: nothing to rank units by")
    refs, aucs, rs = [], [], []
    for q in quantities:
        auc, r = scores(index, q, varying)
        L, D, H = m.model["layers"], m.model["directions"], m.per_direction(q)
        refs += [UnitRef(q, c // (D * H), c // H % D, c % H) for c in range(L * D * H)]
        aucs.append(auc)
        rs.append(r)
    return ScoreTable(refs, varying, np.concatenate(aucs), np.concatenate(rs))


def rank_units(index: CorpusIndex, table: ScoreTable, top: int = 5) -> list[FeatureResult]:
    """For each feature, the `top` units that track it best (ties by unit order), with an example."""
    score, tracking = table.score, table.tracking
    results = []
    for j, f in enumerate(table.features):
        order = np.lexsort((np.arange(len(score)), -score[:, j]))[:top]
        best = [UnitScore(table.refs[k], float(table.auc[k, j]) if f.binary else None, float(table.r[k, j]),
                          float(score[k, j])) for k in order]
        ex, exf = _example(index, f, best[0].ref)
        results.append(FeatureResult(f.name, f.description, f.binary, float(f.values.mean()), best,
                                     int(tracking[:, j].sum()), ex, exf))
    return results


def _example(index: CorpusIndex, f: Feature, ref: UnitRef) -> tuple[Snippet, NDArray]:
    """The best unit over a stretch where the feature changes: the first positive run of 3 to 60
    tokens (binary), or the first token where a numeric feature is at its maximum."""
    v = f.values
    if f.binary:
        d = np.diff(np.concatenate(([0], (v > 0).view(np.int8), [0])))
        starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        ok = np.flatnonzero((ends - starts >= 3) & (ends - starts <= 60))
        k = ok[0] if len(ok) else 0
        a, b = int(starts[k]), int(ends[k])
    else:
        a = int(np.argmax(v))
        b = a + 1
    snip = snippet(index, a, b, index.unit_values(ref), before=30, after=40)
    return snip, per_char(index, snip, v)
