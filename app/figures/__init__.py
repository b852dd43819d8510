"""gatescope's views as Plotly figures, for notebooks: a model and a text in, a `plotly.graph_objects.Figure`
out, no server needed. The numbers come from the code the HTTP API runs (app/service.py, lstm_core.views and
lstm_core.compare), so a figure holds the values /api/trace and /api/compare answer.

    from app import figures
    figures.heatmaps("counter", "aaabbb")                     # a shipped model by id, a .safetensors path,
    figures.unit("remember", "a...", unit=2, t=5)             # or an lstm_core.Model
    figures.coloured_text("shakespeare-char", "To be, or not to be", unit=7, quantity="c")
    figures.saturation(model, text)
    figures.step(model, text, t=3, unit=0)                    # the step view's numbers, as a table
    figures.predictions(model, text)                          # surprisal of each actual next token
    figures.compare_texts(model, "I am happy", "I am not happy", quantity="c")
    figures.compare_models("counter~step-000200", "counter", "aaaabbbb")   # a training snapshot against the end
    figures.intervention(model, text, [{"unit": 3, "quantity": "f", "value": 0, "positions": [5]}])
    figures.history("counter")                                # the snapshot ids of a model's training history
    figures.snapshot(model, text, "view.html", unit=2, t=5)   # every view as one HTML file that opens offline
    figures.trace(model, text)                                # the run itself (tokens, every value, probabilities)

Every function takes `layer` and `direction` (0 forward, 1 backward) where it shows one layer. Bad input
raises ValueError with the same sentence the API would answer. The figures' words are English until
`figures.language("zh-CN")` (the page's catalogs, static/i18n).
"""
from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import plotly.graph_objects as go

from app import service
from app.cache import TraceCache
from app.errors import ApiError
from app.figures import contrast, single
from app.figures.page import View, figures, html
from app.figures.style import LANG
from app.i18n import LANGUAGES
from app.registry import Entry, Registry
from app.schemas import Intervention
from app.serialize import next_prob, top_k
from app.settings import ROOT, Settings
from lstm_core import Model, load_model

__all__ = ["coloured_text", "compare_models", "compare_texts", "heatmaps", "history", "intervention", "language",
           "predictions", "saturation", "snapshot", "step", "trace", "unit"]

MODELS = ROOT / "models"
# A notebook has no server to protect: its own limits, far above the API's (--max-tokens, max_trace_mb). The
# predictions are still computed in blocks (lstm_core/predict.py), never T x V.
MAX_TOKENS = 100_000
LIMITS = Settings(max_tokens=MAX_TOKENS, max_trace_mb=1 << 20)
ANSWER = {"layers": None, "encoding": None, "gzip": False, "top_k": 0}  # figures, not an encoded answer
_registry = Registry(MODELS)


def _cache() -> TraceCache:
    """A cache for one call (a clamped run reads the unclamped one from it): models given as objects or paths
    have no id that is unique across calls, so nothing is kept between them."""
    return TraceCache(max_entries=4)

ModelLike = Model | str | PathLike


def _entry(model: ModelLike) -> Entry:
    if isinstance(model, Model):
        return Entry(str(model.meta.get("name", "model")), model, Path())
    path = Path(model)
    if path.suffix == ".safetensors" and path.is_file():
        return Entry(path.stem, load_model(path), path)
    entry = _registry.get(str(model))
    if entry is None:
        have = ", ".join(p.stem for p in sorted(MODELS.glob("*.safetensors")))
        raise ValueError(f"No model {str(model)!r}: give an lstm_core.Model, a .safetensors path, or one of {have}.")
    return entry


def _checked(fn, *args):
    try:
        return fn(*args)
    except ApiError as e:
        raise ValueError(e.detail) from None


def _clamps(interventions: Sequence | None) -> list[Intervention] | None:
    if interventions is None:
        return None
    return [iv if isinstance(iv, Intervention) else Intervention(**(iv if isinstance(iv, dict) else vars(iv)))
            for iv in interventions]


def language(lang: str) -> None:
    """Say the figures' words (titles, axes, hovers) in `lang`: "en" or "zh-CN"."""
    if lang not in LANGUAGES:
        raise ValueError(f"No catalog for {lang!r}: choose one of {', '.join(LANGUAGES)}.")
    LANG.set(lang)


def trace(model: ModelLike, text: str, interventions: Sequence | None = None) -> service.TraceResult:
    """The run of `text` through `model` (with clamps, if given): `.tokens`, `.trace`, and the head's `.preds`
    (top-k and the actual next token's probability per position) or `.classes`."""
    return _checked(service.trace, _entry(model), text, None, _cache(), LIMITS, ANSWER, _clamps(interventions))


def history(model: ModelLike) -> list[str]:
    """The ids of the model's training snapshots, in step order (each works wherever a model does)."""
    return [s.id for s in _registry.history(_entry(model).id)]


def heatmaps(model: ModelLike, text: str, *, layer: int = 0, direction: int = 0, order: str = "index",
             sort_by: str = "c", unit: int | None = None, t: int | None = None) -> go.Figure:
    """The six heatmaps of one layer and direction, units in `order` (index, mean, variance, similarity)."""
    return single.heatmaps(trace(model, text), layer, direction, order, sort_by, unit, t)


def unit(model: ModelLike, text: str, unit: int = 0, *, layer: int = 0, direction: int = 0,
         t: int | None = None) -> go.Figure:
    """One unit's i, f, g, o, c and h over time."""
    return single.unit(trace(model, text), layer, direction, unit, t)


def coloured_text(model: ModelLike, text: str, unit: int = 0, *, quantity: str = "c", layer: int = 0,
                  direction: int = 0) -> go.Figure:
    """The text coloured token by token by one unit's `quantity`."""
    return single.coloured_text(trace(model, text), layer, direction, unit, quantity)


def saturation(model: ModelLike, text: str, *, direction: int = 0, layer: int | None = None,
               unit: int | None = None) -> go.Figure:
    """Gate saturation: the fraction of steps each unit's f, i, o spends above 0.9 and below 0.1."""
    return single.saturation_figure(trace(model, text), direction, layer, unit)


def step(model: ModelLike, text: str, t: int, unit: int = 0, *, layer: int = 0, direction: int = 0) -> go.Figure:
    """The step view's numbers for one unit at step t: every term of i, f, g, o and the cell update."""
    r = trace(model, text)
    return single.step(r, r.inputs, r.model.lstm, layer, direction, t, unit)


def predictions(model: ModelLike, text: str, k: int = 5) -> go.Figure:
    """The surprisal of each actual next token, the k likeliest next tokens in the hover."""
    r = trace(model, text)
    if not r.model.predicts_next:
        raise ValueError("This model is not a language model (no next-token decoder over a vocabulary), so it "
                         "makes no next-token predictions.")
    tok = r.tokens
    return single.predictions(r, next_prob(r.preds, tok.ids, tok.oov), top_k(r.preds, k, r.model.head.labels))


def _compare(ea: Entry, text_a: str, eb: Entry, text_b: str, clamps: list[Intervention] | None, **view):
    a, b = service.Input(text_a), service.Input(text_b, None, clamps or [])
    p = _checked(contrast.pair, ea, a, eb, b, _cache(), LIMITS, ANSWER)
    return contrast.comparison(p.a, p.b, p.comparison, titles=p.titles, **view)


def compare_texts(model: ModelLike, a: str, b: str, *, quantity: str = "c", layer: int = 0, direction: int = 0,
                  threshold: float = 0.05, unit: int | None = None) -> go.Figure:
    """Two texts on one model, aligned on their common prefix and suffix, with b − a where they align."""
    e = _entry(model)
    return _compare(e, a, e, b, None, quantity=quantity, layer=layer, direction=direction,
                    threshold=threshold, unit=unit)


def compare_models(model_a: ModelLike, model_b: ModelLike, text: str, *, quantity: str = "c", layer: int = 0,
                   direction: int = 0, threshold: float = 0.05, unit: int | None = None) -> go.Figure:
    """One text on two models (or two training snapshots of one), with b − a when their shapes match."""
    ea, eb = _entry(model_a), _entry(model_b)
    return _compare(ea, text, eb, text, None, quantity=quantity, layer=layer, direction=direction,
                    threshold=threshold, unit=unit)


def intervention(model: ModelLike, text: str, interventions: Sequence, *, quantity: str = "c", layer: int = 0,
                 direction: int = 0, threshold: float = 0.05, unit: int | None = None) -> go.Figure:
    """The run beside its copy with `interventions` clamped ({layer, direction, unit, quantity, value,
    positions}; positions None for every step), the difference, and the change in next-token probability."""
    e = _entry(model)
    return _compare(e, text, e, text, _clamps(interventions), quantity=quantity,
                    layer=layer, direction=direction, threshold=threshold, unit=unit)


def snapshot(model: ModelLike, text: str, path: str | PathLike | None = None, *, layer: int = 0, direction: int = 0,
             unit: int = 0, t: int | None = None, quantity: str = "c", order: str = "index", threshold: float = 0.05,
             other_text: str | None = None, other_model: ModelLike | None = None,
             interventions: Sequence | None = None) -> str:
    """The HTML snapshot the page's export button makes (every view, plus a comparison with `other_text` or
    `other_model`, or the run beside its copy with `interventions`); written to `path` if given, and returned."""
    ea = _entry(model)
    r = _checked(service.trace, ea, text, None, _cache(), LIMITS, ANSWER)
    pair = None
    if other_text is not None or other_model is not None or interventions:
        eb = ea if other_model is None else _entry(other_model)
        b = service.Input(text if other_text is None else other_text, None, _clamps(interventions) or [])
        pair = _checked(contrast.pair, ea, service.Input(text), eb, b, _cache(), LIMITS, ANSWER)
    view = View(layer, direction, unit, t, quantity, order, threshold)
    page = html(ea.id, text, figures(r, view, pair), view)
    if path is not None:
        Path(path).write_text(page, encoding="utf-8")
    return page
