"""The build's compiled float16 cast, masks and saturation counts (lstm_core/corpus/packjit.py) give NumPy's bytes."""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core.corpus import f16, packjit, tracer
from tests.conftest import need_module

need_module("numba")


@pytest.fixture(scope="module")
def kernels():
    k = packjit.kernels()
    assert k is not None, "numba is installed but packjit compiled nothing"
    return k


def _patterns() -> np.ndarray:
    """float32 bit patterns covering every way the cast rounds: each sign and exponent (zeros, subnormals,
    the half's subnormal and overflow ranges, inf, NaN) with all 2^14 values of the low 14 bits (the 13 dropped
    ones and the kept parity bit), under random upper bits; then random patterns."""
    rng = np.random.default_rng(7)
    sign_exp = np.arange(512, dtype=np.uint32) << 23
    upper = rng.integers(0, 1 << 9, size=(512, 1), dtype=np.uint32) << 14
    low = np.arange(1 << 14, dtype=np.uint32)
    grid = (sign_exp[:, None] | upper | low[None, :]).ravel()
    return np.concatenate([grid, rng.integers(0, 2**32, size=1 << 20, dtype=np.uint64).astype(np.uint32)])


def test_cast_equals_numpys_for_every_rounding_case(kernels):
    src = _patterns().view(np.float32).reshape(4, -1, 256)  # (A, B, C)
    with np.errstate(all="ignore"):
        want = src.astype(np.float16)
    got = np.empty(src.shape, np.float16)
    packjit.cast_into(got, src)
    bad = got.view(np.uint16) != want.view(np.uint16)
    assert not bad.any(), [hex(p) for p in src.view(np.uint32)[bad][:8]]


def test_cast_of_strided_views_writes_only_its_slice(kernels):
    rng = np.random.default_rng(1)
    rec = rng.standard_normal((3, 2, 1, 40, 12)).astype(np.float32)  # (B, L, D, T, H) as the core records
    dst = np.full((3, 30, 24), np.float16(7))  # (B, n, U)
    packjit.cast_into(dst[:, :, 12:], rec[:, 1, 0, 10:])
    np.testing.assert_array_equal(dst[:, :, 12:], rec[:, 1, 0, 10:].astype(np.float16))
    assert (dst[:, :, :12] == 7).all()


def test_float64_traces_take_numpys_cast():
    src = np.linspace(-3, 3, 60).reshape(1, 6, 10)  # float64: the compiled loop reads float32 bits only
    got = np.empty(src.shape, np.float16)
    packjit.cast_into(got, src)
    np.testing.assert_array_equal(got, src.astype(np.float16))


@pytest.mark.parametrize("q", ["c", "h", "i", "g"])
@pytest.mark.parametrize(("groups", "H"), [(2, 256), (3, 12), (1, 64), (2, 9)])
def test_masks_and_counts_equal_numpys(kernels, monkeypatch, q, groups, H):
    """Every float16 pattern (NaN, inf, subnormals, both zeros) appears, at every column."""
    rng = np.random.default_rng(groups * H)
    every = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    bits = np.concatenate([np.roll(every, 977 * u) for u in range(groups * H)]).reshape(groups * H, -1).T
    block = np.concatenate([bits.view(np.float16), rng.standard_normal((3000, groups * H)).astype(np.float16)])
    thresholds = (0.1, 0.25, 0.5, 0.9, 2.0)
    counts, masks = tracer.masks_and_counts(block, groups, thresholds, q)
    np.testing.assert_array_equal(counts, f16.count_saturated(block, q))
    np.testing.assert_array_equal(masks, tracer.masks_of(block, groups, thresholds))
    counts, none = tracer.masks_and_counts(block, groups, (), q)
    assert none is None
    np.testing.assert_array_equal(counts, f16.count_saturated(block, q))
    monkeypatch.setattr(packjit, "kernels", lambda: None)  # without numba: NumPy's calls, the same bytes
    counts2, masks2 = tracer.masks_and_counts(block, groups, thresholds, q)
    np.testing.assert_array_equal(counts2, counts)
    np.testing.assert_array_equal(masks2, masks)


@pytest.mark.parametrize("q", ["c", "f"])
def test_saturation_codes_are_the_limits_exactly(q):
    """Over every finite float16 (as f16's own comparisons are tested)."""
    every = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    finite = np.isfinite(every)
    lo, hi = f16.SATURATION[q]
    wide, codes = every[finite].astype(np.float64), f16.saturation_codes(q)[finite]
    np.testing.assert_array_equal(codes & 1, wide < lo)
    np.testing.assert_array_equal(codes >> 1, wide > hi)
