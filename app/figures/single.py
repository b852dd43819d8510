"""Figures of one run, drawn from lstm_core.views (the numbers every front end shares): the six heatmaps, one
unit's lines, the text coloured by one unit, gate saturation, the step view's numbers and the predictions."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures.style import (
    LAYER_COLOURS,
    LINE_COLOURS,
    QUANTITIES,
    colour_range,
    direction_name,
    label,
    layout,
    name,
    outline,
    say,
)
from app.figures.style import token_ticks as ticks
from app.service import TraceResult
from lstm_core.explain import step_terms
from lstm_core.views import SATURATION_GATES, block, colour_limit, heatmap, saturation, unit_lines, unit_order

HOVER_TEXT_CELLS = 100_000  # per heatmap: above this the hover names position and unit but not the token


def heatmaps(r: TraceResult, layer: int, direction: int, order: str = "index", sort_by: str = "c",
             unit: int | None = None, t: int | None = None) -> go.Figure:
    """i, f, g, o, c, h stacked: time across (the tokens as tick labels), units down in `order` of `sort_by`."""
    tokens = r.tokens.tokens
    T = len(tokens)
    units_order = unit_order(block(r.trace, sort_by, layer, direction), order)
    fig = make_subplots(rows=6, cols=1, shared_xaxes=True, vertical_spacing=0.035,
                        subplot_titles=[name(q) for q in QUANTITIES])
    for k, q in enumerate(QUANTITIES):
        z, units = heatmap(r.trace, q, layer, direction, units_order)  # (H_q, T)
        text = [[label(s) for s in tokens]] * len(units) if z.size <= HOVER_TEXT_CELLS else None
        domain = fig.layout[f"yaxis{k + 1 if k else ''}"].domain
        fig.add_trace(go.Heatmap(
            z=z, x=np.arange(T), y=[str(u) for u in units], name=q, text=text, **colour_range(q, colour_limit(q, z)),
            hovertemplate=(say("figure.token_hover") + "<br>" if text else "") + say("figure.position_unit_hover")
                          + f"<br>{q} = %{{z:.4f}}<extra></extra>",
            colorbar={"title": {"text": say("figure.colorbar_gate" if q in "ifo" else "figure.colorbar_signed", q=q),
                                "side": "right"},
                      "thickness": 16, "len": domain[1] - domain[0], "y": sum(domain) / 2, "yanchor": "middle"},
        ), row=k + 1, col=1)
        fig.update_yaxes(autorange="reversed", title_text=say("figure.unit"), row=k + 1, col=1)
        if unit is not None and unit in units:
            row = int(np.flatnonzero(units == unit)[0])
            for s in outline(xref="x domain", x0=0, x1=1, yref=f"y{k + 1 if k else ''}", y0=row - 0.5, y1=row + 0.5):
                fig.add_shape(s)
    if t is not None:
        for s in outline(xref="x", x0=t - 0.5, x1=t + 0.5, yref="paper", y0=0, y1=1):
            fig.add_shape(s)
    fig.update_xaxes(**ticks(tokens), row=6, col=1)
    fig.update_layout(layout(height=260 * 6, margin={"l": 64, "r": 110, "t": 60, "b": 60}))
    return fig


def unit(r: TraceResult, layer: int, direction: int, u: int, t: int | None = None) -> go.Figure:
    """One unit's i, f, g, o, c and h over time."""
    lines = unit_lines(r.trace, layer, direction, u)
    fig = go.Figure([go.Scatter(y=lines[q], name=name(q), text=[label(s) for s in r.tokens.tokens],
                                mode="lines+markers" if len(r.tokens.tokens) <= 80 else "lines",
                                line={"color": LINE_COLOURS[q], "width": 4 if q == "c" else 2.5,
                                      "dash": "dot" if q == "g" else "solid"},
                                hovertemplate=f"%{{text}} (t=%{{x}})<br>{q} = %{{y:.4f}}<extra></extra>")
                     for q in QUANTITIES])
    fig.update_layout(layout(height=360, margin={"l": 60, "r": 20, "t": 50, "b": 50},
                             title={"text": say("figure.unit_title", unit=u, layer=layer,
                                                direction=direction_name(direction))},
                             legend={"orientation": "h", "y": 1.12}, yaxis={"title": {"text": say("figure.value")}},
                             xaxis=ticks(r.tokens.tokens)))
    if t is not None:
        fig.add_vline(x=t, line={"color": "#000", "width": 2, "dash": "dot"})
    return fig


def coloured_text(r: TraceResult, layer: int, direction: int, u: int, quantity: str = "c",
                  width: int = 48) -> go.Figure:
    """The text, token by token in rows of `width`, each on the colour of one unit's `quantity` there
    (Karpathy, Johnson and Fei-Fei 2015)."""
    v = unit_lines(r.trace, layer, direction, u)[quantity]  # (T,)
    T = len(v)
    width = min(width, T)
    rows = -(-T // width)
    z = np.full(rows * width, np.nan)
    z[:T] = v
    text = [label(s) for s in r.tokens.tokens] + [""] * (rows * width - T)
    # The text view scales c by its largest |c| on this unit (the heatmaps use a percentile over all units).
    limit = float(np.nanmax(np.abs(v))) if quantity == "c" else colour_limit(quantity, v)
    fig = go.Figure(go.Heatmap(
        z=z.reshape(rows, width), text=np.array(text, dtype=object).reshape(rows, width), texttemplate="%{text}",
        textfont={"size": 16}, customdata=np.arange(rows * width).reshape(rows, width), xgap=1, ygap=3,
        hovertemplate=f"%{{text}} (t=%{{customdata}})<br>{quantity} = %{{z:.4f}}<extra></extra>",
        **colour_range(quantity, max(limit, 1e-6)), colorbar={"title": {"text": quantity, "side": "right"},
                                                               "thickness": 14, "len": 1, "y": 0.5}))
    fig.update_layout(layout(height=max(160, 90 + 40 * rows), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                             title={"text": say("figure.text_title", quantity=name(quantity), unit=u, layer=layer)},
                             xaxis={"visible": False}, yaxis={"visible": False, "autorange": "reversed"}))
    return fig


def saturation_figure(r: TraceResult, direction: int, layer: int | None = None, u: int | None = None) -> go.Figure:
    """Karpathy et al. 2015: per gate, one point per unit and layer at (fraction > 0.9, fraction < 0.1)."""
    sat = saturation(r.trace, direction)  # {q: (L, 2, H)}
    fig = make_subplots(rows=1, cols=3, subplot_titles=[name(q) for q in SATURATION_GATES],
                        horizontal_spacing=0.08)
    for k, q in enumerate(SATURATION_GATES):
        for lay in range(sat[q].shape[0]):
            hi, lo = sat[q][lay]
            fig.add_trace(go.Scatter(
                x=hi, y=lo, mode="markers", name=say("figure.layer", layer=lay), legendgroup=f"L{lay}",
                showlegend=k == 0,
                customdata=np.arange(len(hi)), marker={"color": LAYER_COLOURS[lay % 8], "size": 9, "opacity": 0.7},
                hovertemplate=say("figure.saturation_hover", q=q, layer=lay) + "<extra></extra>"), row=1, col=k + 1)
        if layer is not None and u is not None:
            fig.add_trace(go.Scatter(x=[sat[q][layer, 0, u]], y=[sat[q][layer, 1, u]], mode="markers",
                                     name=say("figure.unit_layer", unit=u, layer=layer), showlegend=k == 0,
                                     hoverinfo="skip",
                                     marker={"size": 20, "color": "rgba(0,0,0,0)", "line": {"color": "#000",
                                                                                            "width": 3}}),
                          row=1, col=k + 1)
        fig.update_xaxes(range=[-0.03, 1.03], tickformat=".0%", title_text=f"{q} > 0.9", row=1, col=k + 1)
        fig.update_yaxes(range=[-0.03, 1.03], tickformat=".0%", title_text=f"{q} < 0.1", row=1, col=k + 1)
    fig.update_layout(layout(height=440, margin={"l": 70, "r": 20, "t": 60, "b": 70},
                             legend={"orientation": "h", "y": -0.25}))
    return fig


def step(r: TraceResult, inputs: np.ndarray, lstm, layer: int, direction: int, t: int, u: int) -> go.Figure:
    """The step view's numbers: every term of each gate of one unit at one step (lstm_core.explain), and the
    cell update they make."""
    s = step_terms(lstm, inputs, r.trace, layer, direction, t, u)
    fields = ("W_x", "b_ih", "W_h", "b_hh", "peephole", "pre", "value")
    num = lambda v: "—" if v is None else f"{v:.6f}"  # noqa: E731  (no peephole: a dash, not a zero)
    gates = [[num(getattr(s.terms[q], f)) for f in fields] for q in ("i", "f", "g", "o")]
    prev = "t+1" if direction == 1 else "t−1"
    head = {"font": {"size": 16}, "fill": {"color": "#eee"}}
    fig = go.Figure([
        go.Table(domain={"y": [0.42, 1]}, header={"values": [say("figure.step_term"), "i", "f", "g", "o"], **head},
                 cells={"values": [["W x", "b_ih", "W h", "b_hh", "peephole", say("figure.step_sum"),
                                    say("figure.value")], *gates],
                        "font": {"size": 15}, "height": 30}),
        go.Table(domain={"y": [0, 0.38]}, header={"values": [say("figure.step_cell"), say("figure.value")], **head},
                 cells={"values": [[f"c({prev})", "c(t) = f·c + i·g", "tanh c(t)", "h(t) = o·tanh c"],
                                   [num(v) for v in (s.c_prev, s.c, s.tanh_c, s.h)]], "font": {"size": 15},
                        "height": 30}),
    ])
    fig.update_layout(layout(height=520, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                             title={"text": say("figure.step_title", unit=u, layer=layer, t=t,
                                                token=label(r.tokens.tokens[t]))}))
    return fig


def predictions(r: TraceResult, next_prob: list[float | None], top: dict | None) -> go.Figure:
    """The surprisal (−log₂ p, bits) of each actual next token, with the likeliest next tokens in the hover."""
    p = np.array([np.nan if x is None else x for x in next_prob], np.float64)
    with np.errstate(divide="ignore"):
        bits = -np.log2(p)
    hover = [label(s) for s in r.tokens.tokens]
    if top is not None:
        hover = [h + "<br>" + say("figure.next_hover", tokens=", ".join(f"{label(w)} {q:.0%}"
                                                                        for w, q in zip(ws, ps, strict=True)))
                 for h, ws, ps in zip(hover, top["tokens"], top["probs"], strict=True)]
    fig = go.Figure(go.Scatter(y=bits, text=hover, mode="lines+markers", line={"color": "#D55E00", "width": 2.5},
                               connectgaps=False,
                               hovertemplate="%{text}<br>" + say("figure.surprisal_hover") + "<extra></extra>"))
    fig.update_layout(layout(height=300, margin={"l": 70, "r": 20, "t": 50, "b": 50}, xaxis=ticks(r.tokens.tokens),
                             title={"text": say("figure.surprisal_title")},
                             yaxis={"title": {"text": say("figure.bits")}, "rangemode": "tozero"}))
    return fig
