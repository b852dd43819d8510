"""A self-contained HTML snapshot of a view: every figure of the page for one run (and its comparison or
clamped copy, when there is one), with Plotly.js embedded from the installed plotly package, so the file
opens from disk with no server and no network. User text reaches it only escaped (Jinja2 autoescaping;
Plotly writes `<` inside its JSON as \\u003c)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.figures import contrast, single
from app.figures.contrast import Pair
from app.figures.style import LANG, direction_name, name, say
from app.serialize import next_prob, top_k
from app.service import TraceResult
from app.settings import ROOT, VERSION

_env = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=select_autoescape(["html"]))
CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "svg"}}


@dataclass(frozen=True)
class View:
    """The page state a snapshot reproduces."""

    layer: int = 0
    direction: int = 0
    unit: int = 0
    t: int | None = None
    quantity: str = "c"
    order: str = "index"
    threshold: float = 0.05


def figures(r: TraceResult, v: View, pair: Pair | None = None) -> list[tuple[str, go.Figure]]:
    """(heading, figure) for every view of run r in state v, then the comparison if any."""
    T = len(r.tokens.tokens)
    t = T - 1 if v.t is None else min(v.t, T - 1)
    out = [
        (say("figure.h_heatmaps", layer=v.layer, direction=direction_name(v.direction)),
         single.heatmaps(r, v.layer, v.direction, v.order, v.quantity, v.unit, t)),
        (say("figure.h_unit", unit=v.unit), single.unit(r, v.layer, v.direction, v.unit, t)),
        (say("figure.h_text", quantity=name(v.quantity), unit=v.unit),
         single.coloured_text(r, v.layer, v.direction, v.unit, v.quantity)),
        (say("figure.h_step", t=t), single.step(r, r.inputs, r.model.lstm, v.layer, v.direction, t, v.unit)),
    ]
    if r.preds is not None and r.model.predicts_next:
        out.append((say("figure.h_predictions"), single.predictions(
            r, next_prob(r.preds, r.tokens.ids, r.tokens.oov), top_k(r.preds, 5, r.model.head.labels))))
    out.append((say("figure.h_saturation"), single.saturation_figure(r, v.direction, v.layer, v.unit)))
    if pair is not None:
        out.append((pair.heading, contrast.comparison(pair.a, pair.b, pair.comparison, quantity=v.quantity,
                                                      layer=v.layer, direction=v.direction, threshold=v.threshold,
                                                      titles=pair.titles, unit=v.unit)))
    return out


def html(model_id: str, text: str, parts: list[tuple[str, go.Figure]], v: View, notes: list[str] = ()) -> str:
    """The snapshot page: Plotly.js once (from the plotly package), then each figure under its heading."""
    blocks = [(heading, pio.to_html(fig, full_html=False, include_plotlyjs=k == 0, config=CONFIG,
                                    default_width="100%"))
              for k, (heading, fig) in enumerate(parts)]
    t = "snapshot.last" if v.t is None else None
    return _env.get_template("snapshot.html").render(
        lang=LANG.get(), t=say, model=model_id, text=text, blocks=blocks, notes=list(notes), version=VERSION,
        made=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), layer=v.layer, unit=v.unit,
        direction=direction_name(v.direction), step=say(t) if t else v.t, quantity=name(v.quantity),
        order=say(f"order.{v.order}"))
