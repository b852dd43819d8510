"""The build's float16 cast, bit masks and saturation counts as compiled loops (numba), bit for bit NumPy's.

NumPy converts float32 to float16 one value at a time (6.3 ns a value here: 0.42 s of CPU per 65,536-token
task of c and h), and the masks and counts read the float16 block again, threshold by threshold (0.6 s a
task). With numba installed these run as two loops instead:
- `cast_into`: NumPy's own conversion (npy_floatbits_to_halfbits: round half to even, subnormals, overflow
  to inf, NaN kept a NaN) written with integer selects, which the compiler vectorises;
- `pack` (tracer.masks_and_counts calls it): one pass over the float16 bits that looks each value up in the
  same two tables the NumPy path derives its answers from (thresholds reached; below / above the saturation
  limits), packs the bits as np.packbits does and counts, so both paths give the same bytes (tests compare).
Without numba (or with GATESCOPE_JIT=0 or GATESCOPE_INDEX_PACKJIT=0) `kernels()` is None and NumPy's calls run.
"""
from __future__ import annotations

import functools
import logging
import os

import numpy as np

from .. import jitcell

log = logging.getLogger(__name__)


@functools.cache
def kernels():
    """This module's compiled functions (a namespace), or None without numba (or with GATESCOPE_JIT=0, or
    GATESCOPE_INDEX_PACKJIT=0 for an A/B of these loops alone)."""
    if not jitcell.AVAILABLE or os.environ.get("GATESCOPE_INDEX_PACKJIT", "1") == "0":
        return None
    try:
        from .. import jitloop  # sets numba's cache directory (jitloop.cache_dir)

        if jitloop.numba is None:
            return None
        return _compile(jitloop.numba, jitloop.CACHE_DIR is not None)
    except Exception as e:  # noqa: BLE001 -- a broken numba install: the NumPy calls give the same bits
        log.warning("the compiled float16 cast is off (%s); NumPy's runs", e)
        return None


def _compile(numba, cache: bool):
    jit = numba.njit(cache=cache, nogil=True)

    @numba.njit(inline="always")
    def half_bits(f):
        """float16 bits (uint32) of the float32 whose bits are f (uint32), exactly as NumPy rounds."""
        sgn = (f & 0x80000000) >> 16
        exp = f & 0x7F800000
        sig = f & 0x007FFFFF
        # normal range: round half to even on the 13 dropped bits; a carry into the exponent is right
        n_sig = sig + np.uint32(0x1000) if (sig & 0x3FFF) != 0x1000 else sig
        normal = ((exp - np.uint32(0x38000000)) >> 13) + (n_sig >> 13)
        # subnormal half: the significand with its hidden bit, shifted 13 + (113 - exponent) places
        shift = np.uint32(113) - (exp >> 23) if exp >= 0x33000000 else np.uint32(0)
        s_sig = (np.uint32(0x00800000) + sig) >> (shift & np.uint32(31))
        s_sig = s_sig + np.uint32(0x1000) if ((s_sig & 0x3FFF) != 0x1000) or (f & 0x7FF) != 0 else s_sig
        sub = s_sig >> 13 if exp >= 0x33000000 else np.uint32(0)
        nan = np.uint32(0x7C00) + (sig >> 13)
        nan = nan + np.uint32(1) if nan == 0x7C00 else nan
        big = nan if exp == 0x7F800000 and sig != 0 else np.uint32(0x7C00)
        out = big if exp >= 0x47800000 else (sub if exp <= 0x38000000 else normal)
        return sgn + out

    @jit
    def cast3(src, dst):
        """dst[a, b, c] = float16 bits of src[a, b, c] (src float32 viewed as uint32, dst float16 as uint16)."""
        A, B, C = src.shape
        for a in range(A):
            for b in range(B):
                s, d = src[a, b], dst[a, b]
                for c in range(C):
                    d[c] = np.uint16(half_bits(s[c]))

    @jit
    def pack(bits, groups, level, sat, K, masks, counts):
        """masks[k, g, r, byte]: np.packbits order bit of unit u set where level[bits[r, u]] > k; counts[0 | 1, u]
        += values below | above the saturation limits (sat's bit 0 | bit 1)."""
        n, U = bits.shape
        H = U // groups
        lv = np.zeros(-(-H // 8) * 8, np.uint8)  # one group's levels, padded to whole bytes (level 0: no bit)
        words = lv.view(np.uint64)  # unit 8b + j is byte j of word b (little-endian)
        for r in range(n):
            row = bits[r]
            for u in range(U):
                code = sat[row[u]]
                counts[0, u] += code & 1
                counts[1, u] += code >> 1
            if K == 0:
                continue
            for g in range(groups):
                for u in range(H):
                    lv[u] = level[row[g * H + u]]
                for k in range(K):
                    # levels are below 128: adding 127 - k to every byte sets its top bit exactly where
                    # level > k, with no carry between bytes; the multiply moves byte j's top bit to bit
                    # 63 - j (np.packbits' order) and no two partial products overlap
                    add = np.uint64(0x0101010101010101) * np.uint64(127 - k)
                    for b in range(len(words)):
                        top = ((words[b] + add) >> np.uint64(7)) & np.uint64(0x0101010101010101)
                        masks[k, g, r, b] = np.uint8((top * np.uint64(0x8040201008040201)) >> np.uint64(56))

    return type("Kernels", (), {"cast3": staticmethod(cast3), "pack": staticmethod(pack)})


def cast_into(dst: np.ndarray, src: np.ndarray) -> None:
    """dst[...] = src (both 3-d of one shape): for float32 into float16 the compiled loop when there is one,
    else (and for any other types) NumPy's cast, which gives the same bits."""
    k = kernels() if src.dtype == np.float32 and dst.dtype == np.float16 else None
    if k is None:
        np.copyto(dst, src, casting="same_kind")
    else:
        k.cast3(src.view(np.uint32), dst.view(np.uint16))
