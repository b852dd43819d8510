"""Request and response bodies of the corpus routes (/api/corpus/...): the unit view, the census, pattern
search and saturation over a model's corpus index. The answers are lstm_core.corpus's `to_json()` data."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Quantity = Literal["i", "f", "g", "o", "c", "h"]


class IndexInfo(BaseModel):
    corpus: str = Field(description="the text's name")
    tokens: int
    chars: int
    quantities: list[str] = Field(description="what the index stores, of i f g o c h")
    masks: list[str] = Field(description="quantities with pattern-search masks")
    thresholds: list[float] = Field(description="thresholds the masks were taken at (others are computed)")
    window: int = Field(description="tokens per traced window; each traced from a zero state after the warm-up")
    warmup: int
    layers: int
    directions: int
    units: dict[str, int] = Field(description="units per layer and direction of each quantity")


class CorpusInfo(BaseModel):
    model: str
    index: IndexInfo | None = Field(description="null: this model has no index (build one with python -m app index)")
    census: bool = Field(description="a census of this index is available (GET .../census)")


class Snippet(BaseModel):
    tokens: list[int] = Field(description="[first, last) token of the snippet in the corpus")
    chars: list[int] = Field(description="[first, last) code point of the snippet in the corpus")
    text: str
    highlight: list[int] = Field(description="[start, end) within text: the token or the match")
    values: list[float | None] | None = Field(description="per character of text: the value it is coloured by")


class Context(BaseModel):
    token: int
    value: float
    chars: list[int]
    traced: list[int] = Field(description="the tokens traced from a zero state to produce this value")
    traced_chars: list[int]
    snippet: Snippet


class UnitAnswer(BaseModel):
    ref: dict
    top: list[Context] = Field(description="the k highest values, highest first, ties by position")
    bottom: list[Context] = Field(description="the k lowest values, lowest first")
    histogram: dict = Field(description="{edges (bins + 1), counts (bins)} over every token")
    saturation: list[float] = Field(description="fractions of tokens below limits[0] and above limits[1]")
    limits: list[float]
    mean: float
    std: float
    tokens: int


class PatternRequest(BaseModel):
    text: str = Field(description="the text the span is selected in (traced from a zero state)")
    start: int = Field(ge=0, description="first token of the span")
    end: int = Field(ge=1, description="one past the last token of the span")
    threshold: float = Field(0.5, gt=0, le=100, description="a unit is on at a token when its value is >= this")
    quantity: Literal["c", "h"] = "h"
    layer: int = Field(0, ge=0)
    direction: int = Field(0, ge=0)
    limit: int = Field(20, ge=1, le=200, description="matches returned, best first")
    min_overlap: float = Field(0.5, gt=0, le=1, description="fewest pattern units a candidate has on, as a fraction")


class PatternAnswer(BaseModel):
    pattern: dict = Field(description="quantity, layer, direction, threshold, length, units")
    matches: list[dict] = Field(description="start, end, overlap, extra, length_diff, snippet; best first")
    candidates: int = Field(description="distinct runs ranked")
    full: int = Field(description="runs with every pattern unit on throughout")
    tokens: int = Field(description="tokens scanned: the whole index")


class ProbeRequest(BaseModel):
    regex: str = Field(min_length=1, max_length=500, description="tokens inside a match are the feature")
    top: int = Field(5, ge=1, le=50)


class Opening(BaseModel):
    text: str = Field(description="the text that, traced from a zero state, gives the token the stored values")
    t: int = Field(description="the token's position in it")
    tokens: list[int] = Field(description="[first, last) token of that text in the corpus")
    exact: bool = Field(description="false when the window was longer than the explorer takes (max_tokens) and "
                                    "the text was cut: the explorer's values then differ from the stored ones")
