"""The comparison figure: run a and run b of one quantity side by side, their difference b - a on aligned
positions (lstm_core.compare), how far apart each quantity is at each aligned position with the divergence
marker, and the change in the probability of each actual next token. A clamped run beside its unclamped
twin is the same figure, with the clamped cells marked."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app import service
from app.cache import TraceCache
from app.figures.style import DIVERGING, LINE_COLOURS, QUANTITIES, colour_range, label, layout, name, say
from app.figures.style import token_ticks as ticks
from app.registry import Entry
from app.service import Comparison, Input, TraceResult
from app.settings import Settings
from lstm_core.views import colour_limit


@dataclass(frozen=True)
class Pair:
    """A second run shown against a first: another text or model, or the same run clamped."""

    a: TraceResult
    b: TraceResult
    comparison: Comparison
    titles: tuple[str, str]
    heading: str


def pair(ea: Entry, a: Input, eb: Entry, b: Input, cache: TraceCache, settings: Settings, answer: dict) -> Pair:
    """Trace and compare two runs (service.trace_pair, service.compare), titled by what differs between them."""
    ra, rb = service.trace_pair(ea, a, eb, b, cache, settings, answer)
    if b.interventions:
        titles, heading = (say("figure.unmodified"), say("figure.clamped")), say("figure.heading_clamp")
    elif ea.id != eb.id:
        titles, heading = (ea.id, eb.id), say("figure.heading_models", a=ea.id, b=eb.id)
    else:
        titles, heading = ("a", "b"), say("figure.heading_texts")
    return Pair(ra, rb, service.compare(ra, rb), titles, heading)


def comparison(ra: TraceResult, rb: TraceResult, cmp: Comparison, *, quantity: str, layer: int, direction: int,
               threshold: float, titles: tuple[str, str] = ("a", "b"), unit: int | None = None) -> go.Figure:
    """Five rows: a's and b's `quantity` heatmaps (b's clamped cells marked), the difference heatmap, the peak
    |difference| of every quantity with the threshold and the divergence marker, and the change in the
    probability of each actual token."""
    a, b, al, d, clamps = ra, rb, cmp.alignment, cmp.difference, rb.interventions
    names = [f"{titles[0]}: {name(quantity)}", f"{titles[1]}: {name(quantity)}",
             say("figure.diff_title", a=titles[0], b=titles[1]), say("figure.peak_title"), say("figure.delta_title")]
    fig = make_subplots(rows=5, cols=1, vertical_spacing=0.06, subplot_titles=names,
                        row_heights=[0.22, 0.22, 0.22, 0.17, 0.17])
    za, zb = (tt.trace.gate(quantity)[layer, direction].T for tt in (a, b))  # (H, T)
    limit = max(colour_limit(quantity, za), colour_limit(quantity, zb))
    for row, (tt, z) in enumerate(((a, za), (b, zb)), start=1):
        fig.add_trace(go.Heatmap(z=z, name=titles[row - 1], **colour_range(quantity, limit), colorbar=_bar(fig, row,
                                 quantity), hovertemplate=say("figure.position_unit_hover")
                                 + f"<br>{quantity} = %{{z:.4f}}<extra></extra>"), row=row, col=1)
        fig.update_xaxes(**ticks(tt.tokens.tokens), row=row, col=1)
    for iv in clamps:  # the clamped cells of run b, on its heatmap
        if (iv.layer, iv.direction) == (layer, direction) and iv.positions:
            fig.add_trace(go.Scatter(x=list(iv.positions), y=[iv.unit] * len(iv.positions), mode="markers",
                                     name=say("figure.clamped_marker", q=iv.quantity, value=f"{iv.value:g}"),
                                     showlegend=False,
                                     marker={"symbol": "x-thin-open", "size": 12, "color": "#000", "line": {"width": 3,
                                                                                           "color": "#000"}},
                                     hovertemplate=say("figure.clamped_hover", q=iv.quantity, unit=iv.unit,
                                                       value=f"{iv.value:g}") + "<extra></extra>"), row=2, col=1)
    pairs = al.pairs
    tokens = [a.tokens.tokens[i] for i, _ in pairs]
    if d is not None:
        dz = d.diff[quantity][layer, direction].T  # (H, P)
        m = float(np.abs(dz).max()) if dz.size else 0.0
        fig.add_trace(go.Heatmap(z=dz, name=say("figure.difference"), colorscale=DIVERGING, zmin=-max(m, 1e-6),
                                 zmax=max(m, 1e-6), zmid=0, colorbar=_bar(fig, 3, f"Δ{quantity}"),
                                 customdata=np.broadcast_to(pairs[:, 1], dz.shape),
                                 hovertemplate=say("figure.diff_hover") + "<br>Δ = %{z:.4f}<extra></extra>"),
                      row=3, col=1)
        for q in QUANTITIES:
            fig.add_trace(go.Scatter(y=d.peak[q][layer, direction], name=q, mode="lines+markers",
                                     line={"color": LINE_COLOURS[q], "width": 2.5}, legendgroup="peak",
                                     hovertemplate=f"max |Δ{q}| = %{{y:.4f}}<extra></extra>"), row=4, col=1)
        fig.add_hline(y=threshold, line={"color": "#888", "dash": "dash"}, row=4, col=1)
        j = int(d.divergence(threshold)[layer, direction])
        if j >= 0:
            for row in (3, 4, 5):
                fig.add_vline(x=j, line={"color": "#000", "width": 3}, row=row, col=1)
            fig.add_annotation(x=j, y=1, xref="x4", yref="y4 domain", yanchor="bottom", showarrow=False,
                               text=say("figure.part_here", ta=pairs[j, 0], tb=pairs[j, 1]))
    if 0 < al.prefix < len(pairs):  # where the unaligned middles were cut out
        for row in (3, 4, 5):
            fig.add_vline(x=al.prefix - 0.5, line={"color": "#888", "width": 2, "dash": "dot"}, row=row, col=1)
    delta = cmp.next_delta  # (P,)
    fig.add_trace(go.Bar(y=delta, name="Δp", marker={"color": np.where(delta >= 0, "#0072B2", "#D55E00")},
                         showlegend=False, text=[label(s) for s in tokens],
                         hovertemplate="“%{text}”: Δp = %{y:+.4f}<extra></extra>"), row=5, col=1)
    for row in (3, 4, 5):
        fig.update_xaxes(**ticks(tokens), range=[-0.5, max(len(pairs), 1) - 0.5], row=row, col=1)
    for row in (1, 2, 3):
        fig.update_yaxes(autorange="reversed", title_text=say("figure.unit"), row=row, col=1)
    fig.update_layout(layout(height=1300, margin={"l": 64, "r": 110, "t": 60, "b": 50}, legend={"orientation": "h",
                                                                                                   "y": -0.04}))
    if unit is not None:
        for row in (1, 2, 3):
            fig.add_hrect(y0=unit - 0.5, y1=unit + 0.5, line={"color": "#000", "width": 2}, row=row, col=1)
    return fig


def _bar(fig: go.Figure, row: int, title: str) -> dict:
    domain = fig.layout[f"yaxis{row if row > 1 else ''}"].domain
    return {"title": {"text": title}, "thickness": 14, "len": domain[1] - domain[0], "y": sum(domain) / 2,
            "yanchor": "middle"}
