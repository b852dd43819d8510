"""The compiled fast path's own pieces (lstm_core/jitloop.py); the parity suite runs it against torch.

Its float32 tanh is a rational approximation (so that the compiler vectorises it): checked here against
NumPy's float64 tanh over a million float32 bit patterns in [-1, 1] and a dense grid beyond, through the
clamp: within 3 float32 spacings of 1 (3.6e-7; measured 2.7e-7), 30x under the float32 parity tolerance.
"""
from __future__ import annotations

import numpy as np

from tests.conftest import need_module

need_module("numba")
from lstm_core import jitcell  # noqa: E402

ULP_AT_1 = float(np.spacing(np.float32(1)))  # 1.19e-7: float32's spacing just above 1


def tanh_error(x: np.ndarray) -> float:
    out = np.empty_like(x)
    jitcell._compiled().tanh_into(x, out)
    return float(np.abs(out.astype(np.float64) - np.tanh(x.astype(np.float64))).max())


def test_float32_tanh_within_a_few_ulp():
    small = np.arange(-(2**30), 2**30, 997, dtype=np.int64).astype(np.int32).view(np.float32)  # (2.2e6,) bit patterns
    small = small[np.isfinite(small) & (np.abs(small) <= 1)]
    assert tanh_error(small) <= 3 * ULP_AT_1
    wide = np.linspace(-20, 20, 4_000_001, dtype=np.float32)  # through the clamp at +-7.9
    assert tanh_error(wide) <= 3 * ULP_AT_1
    assert tanh_error(np.array([0.0, -0.0, 1e-30, -1e-30, 3e38, -3e38], np.float32)) <= 3 * ULP_AT_1


def test_float64_tanh_is_numpys():
    x = np.linspace(-20, 20, 100_001)
    assert tanh_error(x) <= 1e-15
