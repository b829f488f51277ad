"""Bit-packed +-1 rows: packing, popcount overlaps and Hamming distances.

Bit ``j`` of word ``w`` of a packed row is 1 where unit ``64 w + j`` is +1. For rows a, b of length n,
overlap ``a . b = n - 2 popcount(a XOR b)`` and Hamming distance ``d = popcount(a XOR b)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_ONE = np.uint64(1)
_S1 = np.uint64(1)
_S2 = np.uint64(2)
_S4 = np.uint64(4)
_S56 = np.uint64(56)


@njit(inline="always", **SERIAL)
def popcount64(x: np.uint64) -> int:
    """Number of set bits of a uint64 (SWAR)."""
    x = x - ((x >> _S1) & _M1)
    x = (x & _M2) + ((x >> _S2) & _M2)
    x = (x + (x >> _S4)) & _M4
    return int((x * _H01) >> _S56)


@njit(inline="always", **SERIAL)
def hamming_packed(a: np.ndarray, b: np.ndarray) -> int:
    """Hamming distance between two packed rows."""
    d = 0
    for w in range(a.shape[0]):
        d += popcount64(a[w] ^ b[w])
    return d


@njit(**SERIAL)
def pack_rows(x: np.ndarray) -> np.ndarray:
    """Pack a (P, N) array of +-1 (or 0/1) values into (P, ceil(N/64)) uint64 words."""
    p, n = x.shape
    words = (n + 63) // 64
    out = np.zeros((p, words), dtype=np.uint64)
    for r in range(p):
        for i in range(n):
            if x[r, i] > 0:
                out[r, i // 64] |= _ONE << np.uint64(i % 64)
    return out


@njit(**PARALLEL)
def overlap_matrix(packed_a: np.ndarray, packed_b: np.ndarray, n: int) -> np.ndarray:
    """All overlaps ``a_r . b_s = n - 2 d_H(a_r, b_s)`` as an int64 (Pa, Pb) matrix."""
    pa = packed_a.shape[0]
    pb = packed_b.shape[0]
    out = np.empty((pa, pb), dtype=np.int64)
    for r in prange(pa):
        for s in range(pb):
            out[r, s] = n - 2 * hamming_packed(packed_a[r], packed_b[s])
    return out


@njit(**PARALLEL)
def pairwise_distance_stats(packed: np.ndarray) -> tuple:
    """Minimum and mean pairwise Hamming distance over all pairs r < s (P >= 2).

    Per-row partial results are combined in row order, so the mean is the same for any thread count.
    """
    p = packed.shape[0]
    row_min = np.empty(p, dtype=np.int64)
    row_sum = np.zeros(p, dtype=np.int64)
    for r in prange(p):
        lowest = 1 << 62
        total = 0
        for s in range(r + 1, p):
            d = hamming_packed(packed[r], packed[s])
            total += d
            if d < lowest:
                lowest = d
        row_min[r] = lowest
        row_sum[r] = total
    pairs = p * (p - 1) // 2
    return row_min.min(), row_sum.sum() / pairs


@njit(**SERIAL)
def distance_at_least(packed_set: np.ndarray, count: int, candidate: np.ndarray,
                      min_distance: int) -> bool:
    """True when ``candidate`` is at Hamming distance >= min_distance from rows 0..count-1."""
    for r in range(count):
        if hamming_packed(packed_set[r], candidate) < min_distance:
            return False
    return True
