"""Karpathy, Johnson and Fei-Fei (2015)'s saturation plot over a whole corpus, from the build's counts.

For every unit of a gate: the fraction of the corpus's tokens where it is left-saturated (< 0.1) and
right-saturated (> 0.9); for g, h and c the limits in f16.SATURATION. The counts were taken from the
stored float16 values while the index was built, so this costs one small read per quantity.
"""
from __future__ import annotations

from dataclasses import dataclass

from numpy.typing import NDArray

from ..errors import ModelError
from .f16 import SATURATION
from .index import CorpusIndex


@dataclass(frozen=True)
class SaturationMap:
    quantity: str
    limits: tuple[float, float]
    low: NDArray  # (L, D, H) fraction of tokens below limits[0]
    high: NDArray  # (L, D, H) fraction of tokens above limits[1]

    def to_json(self) -> dict:
        return {"quantity": self.quantity, "limits": list(self.limits), "low": self.low.tolist(),
                "high": self.high.tolist()}


def corpus_saturation(index: CorpusIndex, quantities: tuple[str, ...] = ("i", "f", "o")) -> dict[str, SaturationMap]:
    """One SaturationMap per quantity, each unit's fractions laid out (layer, direction, unit)."""
    m = index.manifest
    out = {}
    for q in quantities:
        if q not in m.settings.quantities:
            raise ModelError(f"this index records {', '.join(m.settings.quantities)}, not {q!r}")
        low, high = index.stats(q) / index.num_tokens  # (U_q,) each
        shape = (m.model["layers"], m.model["directions"], m.per_direction(q))
        out[q] = SaturationMap(q, SATURATION[q], low.reshape(shape), high.reshape(shape))
    return out
