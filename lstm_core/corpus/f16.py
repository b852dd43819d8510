"""Exact comparisons of stored float16 values with thresholds, done on their int16 bit patterns.

NumPy compares float16 arrays through a scalar conversion loop; comparing the bit patterns as int16
is a plain SIMD integer compare. For a positive threshold the order of non-negative float16 values
is the order of their bits, and every negative value (sign bit set) is a negative int16, so
`a >= t` is `bits(a) >= bits(smallest float16 >= t)`. Negative thresholds flip the sign bit first.
The results equal `a.astype(float64) OP t` exactly (tests check all 63,488 finite patterns).
"""
from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray

_SIGN = np.int16(-32768)  # 0x8000

# Karpathy et al. (2015): a gate is left-saturated below 0.1 and right-saturated above 0.9. g and h
# live in (-1, 1): saturated beyond -0.9 and 0.9. c is unbounded; it counts as saturated when its
# tanh (what reaches h) is beyond -0.9 or 0.9, i.e. |c| > atanh(0.9) = 1.472.
SATURATION: dict[str, tuple[float, float]] = {
    "i": (0.1, 0.9), "f": (0.1, 0.9), "o": (0.1, 0.9),
    "g": (-0.9, 0.9), "h": (-0.9, 0.9), "c": (-math.atanh(0.9), math.atanh(0.9)),
}


def ceil16(x: float) -> np.float16:
    """The smallest float16 >= x."""
    with np.errstate(over="ignore"):
        v = np.float16(x)
    return v if float(v) >= x else np.nextafter(v, np.float16(np.inf))


def floor16(x: float) -> np.float16:
    """The largest float16 <= x."""
    with np.errstate(over="ignore"):
        v = np.float16(x)
    return v if float(v) <= x else np.nextafter(v, np.float16(-np.inf))


def _bits(v: np.float16) -> np.int16:
    return np.array(v, np.float16).view(np.int16)[()]


def greater_equal(a: NDArray, t: float) -> NDArray:
    """a >= t for a float16 array and a threshold t > 0 (pattern-search masks)."""
    if not t > 0:
        raise ValueError("greater_equal needs a positive threshold")
    return a.view(np.int16) >= _bits(ceil16(t))


def greater(a: NDArray, t: float) -> NDArray:
    """a > t for a float16 array and any threshold t != 0."""
    if t > 0:
        return a.view(np.int16) > _bits(floor16(t))
    return ~less_equal_neg(a, t)


def less(a: NDArray, t: float) -> NDArray:
    """a < t for a float16 array and any threshold t != 0."""
    if t > 0:
        return a.view(np.int16) < _bits(ceil16(t))
    # a < t < 0  <=>  -a > -t > 0; flipping the sign bit negates a float16
    return (a.view(np.int16) ^ _SIGN) > _bits(floor16(-t))


def less_equal_neg(a: NDArray, t: float) -> NDArray:
    """a <= t for a negative threshold t."""
    if not t < 0:
        raise ValueError("less_equal_neg needs a negative threshold")
    return (a.view(np.int16) ^ _SIGN) >= _bits(ceil16(-t))


@functools.cache
def saturation_codes(quantity: str) -> NDArray:
    """(65536,) uint8: for each float16 bit pattern, bit 0 set when it is below SATURATION[quantity]'s low limit,
    bit 1 when above its high limit (what count_saturated counts)."""
    lo, hi = SATURATION[quantity]
    every = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    return less(every, lo).astype(np.uint8) | (greater(every, hi).astype(np.uint8) << 1)


def count_saturated(a: NDArray, quantity: str) -> NDArray:
    """(2, U) int64: per column of a (n, U) float16 block, how many values are below the low limit
    and above the high limit of SATURATION[quantity]."""
    lo, hi = SATURATION[quantity]
    out = np.zeros((2, a.shape[1]), np.int64)
    for r in range(0, len(a), 255):  # 255 rows of booleans sum exactly in uint8: 2.5x faster than count_nonzero
        rows = a[r : r + 255]
        for k, hit in enumerate((less(rows, lo), greater(rows, hi))):
            out[k] += hit.view(np.uint8).sum(axis=0, dtype=np.uint8)
    return out
