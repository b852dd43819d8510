"""Corpus analysis: index a text once, then ask which units matter and why.

Build: `build_index(model_path, corpus, out)` (the `python -m app index` command). Query an open
`CorpusIndex.open(path)` with one function per question, each returning plain data (dataclasses,
lists, NumPy arrays): `unit_report` / `top_contexts` (a unit's extreme contexts, histogram,
saturation), `corpus_saturation` (Karpathy's plot), `score_table` / `rank_units` / `run_census`
(units that track features), `pattern_in_index` / `pattern_in_text` + `search` (LSTMVis patterns).
zarr and dask are imported only when an index is built or opened.
"""
from .build import BuildResult, build_index
from .census import Census, census_markdown, index_features, run_census, unit_name
from .features import BUILTIN, Feature, builtin_features, label_feature, label_values, regex_feature
from .index import CorpusIndex, UnitRef
from .patterns import Match, Pattern, SearchResult, pattern_in_index, pattern_in_text, pattern_of, search
from .probes import FeatureResult, ScoreTable, UnitScore, rank_units, score_table
from .saturation import SaturationMap, corpus_saturation
from .settings import QUANTITIES, THRESHOLDS, Geometry, IndexSettings
from .shipped import held_out_text
from .snippets import Snippet
from .source import file_sha256
from .units import Context, Histogram, UnitReport, histogram, top_contexts, unit_report

__all__ = [
    "BUILTIN", "QUANTITIES", "THRESHOLDS", "BuildResult", "Census", "Context", "CorpusIndex", "Feature",
    "FeatureResult", "Geometry", "Histogram", "IndexSettings", "Match", "Pattern", "SaturationMap", "ScoreTable",
    "SearchResult", "Snippet", "UnitRef", "UnitReport", "UnitScore", "build_index", "builtin_features",
    "census_markdown", "corpus_saturation", "file_sha256", "held_out_text", "histogram", "index_features",
    "label_feature", "label_values", "pattern_in_index", "pattern_in_text", "pattern_of", "rank_units", "regex_feature",
    "run_census", "score_table", "search", "top_contexts", "unit_name", "unit_report",
]
