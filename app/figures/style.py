"""The page's look for Plotly figures made in Python (notebooks and the HTML snapshot): the same colour
scales, names and token labels as static/js/format.js (tests/app/test_figures.py reads that file and checks
the stops agree), so a figure exported from either looks the same."""
from __future__ import annotations

import html
from contextvars import ContextVar

from app.i18n import translate
from lstm_core.views import GATES

QUANTITIES = ("i", "f", "g", "o", "c", "h")
# The language the figures' words are in (static/i18n): the HTML snapshot's request's, or what a notebook set.
LANG: ContextVar[str] = ContextVar("gatescope_figures_language", default="en")
# Okabe-Ito, distinct for the common colour-vision deficiencies.
LINE_COLOURS = {"i": "#0072B2", "f": "#D55E00", "g": "#009E73", "o": "#CC79A7", "c": "#000000", "h": "#E69F00"}
LAYER_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
           "#bddf26", "#fde725"]
RDBU = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b",
        "#67001f"]
SEQUENTIAL = [[k / (len(VIRIDIS) - 1), c] for k, c in enumerate(VIRIDIS)]
DIVERGING = [[k / (len(RDBU) - 1), c] for k, c in enumerate(RDBU)]
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", sans-serif'
_VISIBLE = str.maketrans({" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍", **{chr(c): "·" for c in
                                                                       [*range(0, 9), *range(11, 32), 127]}})


def say(key: str, **params: object) -> str:
    """Catalog message `key` in the figures' language (LANG)."""
    return translate(LANG.get(), key, **params)


def name(q: str) -> str:
    """A quantity's name as the page says it: "forget gate f"."""
    return say(f"quantity.{q}")


def direction_name(d: int) -> str:
    return say("direction.backward" if d else "direction.forward")


def visible(tok: str) -> str:
    """The token as a person should see it: whitespace and control characters made visible."""
    return tok.translate(_VISIBLE)


def label(tok: str) -> str:
    """A token for a Plotly label or hover, which render a subset of HTML: made visible, then escaped."""
    return html.escape(visible(tok), quote=False)


def colour_range(q: str, limit: float) -> dict:
    """Plotly colour settings for quantity q: gates on 0..1, the rest on +-limit around 0 (views.colour_limit)."""
    if q in GATES:
        return {"colorscale": SEQUENTIAL, "zmin": 0, "zmax": 1}
    return {"colorscale": DIVERGING, "zmin": -limit, "zmax": limit, "zmid": 0}


def layout(**extra) -> dict:
    """Projector-sized type on white, without Plotly's default template (smaller files, the page's look)."""
    return {"template": "none", "font": {"family": FONT, "size": 15, "color": "#111"}, "paper_bgcolor": "#fff",
            "plot_bgcolor": "#fff", "hoverlabel": {"font": {"family": FONT, "size": 16}}, **extra}


def token_ticks(tokens: list[str], width_px: int = 1100, px: int = 14) -> dict:
    """x-axis ticks naming every k-th token so that labels of about `px` pixels do not collide."""
    k = max(1, -(-len(tokens) // max(1, width_px // px)))
    vals = list(range(0, len(tokens), k))
    return {"tickmode": "array", "tickvals": vals, "ticktext": [label(tokens[t]) for t in vals], "tickangle": 0}


def outline(**where) -> list[dict]:
    """A marker rectangle outlined black under white, visible on every colour of every scale."""
    base = {"type": "rect", "fillcolor": "rgba(0,0,0,0)", "layer": "above", **where}
    return [{**base, "line": {"color": "#000", "width": 4}}, {**base, "line": {"color": "#fff", "width": 1.5}}]
