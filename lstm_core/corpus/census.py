"""The unit census: every unit of c and h against the built-in features, and its report.

Karpathy, Johnson and Fei-Fei (2015) judged about 5% of a character LSTM's cells interpretable by
eye. Here "tracks a feature" is a number: AUC >= 0.9 or <= 0.1 for a binary feature, |r| >= 0.7 for
a numeric one (probes.TRACKS), measured over every token of the index.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .features import Feature, builtin_features, label_feature, regex_feature
from .index import CorpusIndex, UnitRef
from .probes import TRACKS, FeatureResult, rank_units, score_table


@dataclass(frozen=True)
class Census:
    model: str
    corpus: str
    tokens: int
    window: int  # how the index traced the text (settings.py): windows from a zero state after a warm-up
    warmup: int
    units: dict[str, int]  # units probed, per quantity
    tracking: dict[str, int]  # units of each quantity that track at least one feature
    results: list[FeatureResult]
    skipped: list[str]  # features constant over the corpus

    def to_json(self) -> dict:
        """Plain data (what an API serves and models/<id>.census.json holds)."""
        def unit(s):
            return {**s.ref.to_json(), "auc": s.auc, "r": s.r, "score": s.score}

        return {"model": self.model, "corpus": self.corpus, "tokens": self.tokens, "window": self.window,
                "warmup": self.warmup, "units": self.units,
                "tracking": self.tracking,
                "criteria": {"binary": "AUC >= 0.9 or <= 0.1", "numeric": "|r| >= 0.7"},
                "skipped": self.skipped,
                "features": [{"feature": r.feature, "description": r.description, "binary": r.binary,
                              "mean": r.mean, "tracking": r.tracking, "best": [unit(s) for s in r.best],
                              "example": r.example.to_json() if r.example else None,
                              "example_feature": None if r.example_feature is None else
                              [None if np.isnan(x) else float(x) for x in r.example_feature]}
                             for r in self.results]}


def index_features(index: CorpusIndex, regexes: tuple[str, ...] = (),
                   label_files: tuple[str | os.PathLike, ...] = ()) -> list[Feature]:
    """The built-in features of the index's tokens, then one per regex and one per label file."""
    text, spans = index.text(0, index.num_chars), index.spans(0, index.num_tokens)
    feats = builtin_features(text, spans)
    feats += [regex_feature(text, spans, rx) for rx in regexes]
    feats += [label_feature(p, index.num_tokens) for p in label_files]
    return feats


def run_census(index: CorpusIndex, features: list[Feature] | None = None,
               quantities: tuple[str, ...] = ("c", "h"), top: int = 5) -> Census:
    features = index_features(index) if features is None else features
    table = score_table(index, features, quantities)
    tracks = table.tracking.any(axis=1)
    qs = np.array([ref.quantity for ref in table.refs])
    m = index.manifest
    return Census(m.model["id"], m.corpus["name"], index.num_tokens, m.settings.window, m.settings.warmup,
                  {q: int((qs == q).sum()) for q in quantities}, {q: int(tracks[qs == q].sum()) for q in quantities},
                  rank_units(index, table, top), [f.name for f in features if f not in table.features])


def unit_name(ref: UnitRef, directions: int) -> str:
    d = "" if directions == 1 else (" fwd" if ref.direction == 0 else " bwd")
    return f"{ref.quantity} L{ref.layer}{d} #{ref.unit}"


def census_markdown(c: Census, directions: int = 1, heading: str = "## Units found by the census") -> str:
    """A markdown section: one row per feature with its best units, then the share of tracking units."""
    lines = [heading, "",
             f"Every unit of {' and '.join(c.units)} ({sum(c.units.values())} units) probed over {c.tokens:,} tokens "
             f"of {c.corpus} (`python -m app index --shipped --census`; windows of {c.window} tokens, each traced "
             f"from a zero state after {c.warmup} tokens of warm-up). A unit tracks a binary feature when its ROC "
             f"AUC is >= {0.5 + TRACKS['binary'] / 2:.1f} or <= {0.5 - TRACKS['binary'] / 2:.1f}, a numeric one when "
             f"|Pearson r| >= {TRACKS['numeric']}. Units are named quantity, layer, unit (`c L1 #42`).", "",
             "| feature | best unit | AUC | r | runners-up (score) | units tracking |", "|---|---|---|---|---|---|"]
    for r in c.results:
        b = r.best[0]
        rest = ", ".join(f"{unit_name(s.ref, directions)} ({s.score:.2f})" for s in r.best[1:4])
        auc = f"{b.auc:.3f}" if b.auc is not None else "-"
        lines.append(f"| {r.feature.replace('_', ' ')} | {unit_name(b.ref, directions)} | {auc} | {b.r:+.3f} "
                     f"| {rest} | {r.tracking} |")
    total, found = sum(c.units.values()), sum(c.tracking.values())
    per_q = ", ".join(f"{c.tracking[q]} of {c.units[q]} {q} units" for q in c.units)
    lines += ["", f"{found} of {total} units ({100 * found / total:.1f}%) track at least one feature ({per_q})."]
    if c.skipped:
        lines.append(f"Constant over this text, not probed: {', '.join(c.skipped)}.")
    return "\n".join(lines) + "\n"
