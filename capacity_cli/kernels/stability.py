"""All-patterns fixed-point check in the two-product form (theory.md section 1), extendable.

For y = xi_nu and g(m) = F(m) - F(m-2), every flip gain of every stored pattern is

    2 dE_nu,i = D_nu + xi_nu,i (2 A_nu,i - T_nu),
    A_nu,i = sum_mu c(m) [xi_mu,i = +1],  T_nu = sum_mu c(m),  c(m) = g(m) + g(m+2),
    D_nu = sum_mu (g(m) - g(m+2)),         m = xi_mu . xi_nu,

so a prefix of P patterns costs O(P^2 N). The sums are kept per row, so growing the prefix from lo to
hi only adds the columns mu in [lo, hi) to the old rows (the binary search reuses its last stored
prefix).

Exact arithmetic for integer energies: A is accumulated in int32 with wrap-around, T and D in int64.
Modulo 2^32 the result is exact, and it *is* the true value whenever |2 dE| <= S_nu < 2^31, with
S_nu = 2 sum_mu max(|g(m)|, |g(m+2)|). Rows with larger S_nu are recomputed in int64. Float tables
(the exp energy) use float64 throughout; a gain with |2 dE| <= rtol S_nu counts as an exact tie.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from .._compile import PARALLEL, SERIAL
from .bits import hamming_packed

INT32_LIMIT = 2**31


def wrap_like(value, like):  # pragma: no cover - replaced by the overload inside kernels
    """Reduce an exact value to the accumulator's arithmetic (int32 wrap, or identity)."""
    raise NotImplementedError


@overload(wrap_like, jit_options={"inline": "always"})
def _wrap_like_impl(value, like):
    if isinstance(like, types.Integer) and like.bitwidth == 32:
        return lambda value, like: np.int32(value)
    return lambda value, like: value


def needs_wide_redo(bound, like):  # pragma: no cover - replaced by the overload inside kernels
    """True when an int32 accumulator cannot represent this row's gains exactly."""
    raise NotImplementedError


@overload(needs_wide_redo, jit_options={"inline": "always"})
def _needs_wide_redo_impl(bound, like):
    if isinstance(like, types.Integer) and like.bitwidth == 32:
        return lambda bound, like: bound >= INT32_LIMIT
    return lambda bound, like: False


@njit(**SERIAL)
def _row_min_gain_wide(r, hi, packed, sel, n, c_sum, d_row, t_row):
    """min_i 2 dE_r,i recomputed from scratch with the exact (int64 or float64) table c_sum."""
    acc = np.zeros(n, dtype=c_sum.dtype)
    pr = packed[r]
    for mu in range(hi):
        c = c_sum[n - 2 * hamming_packed(pr, packed[mu]) + n]
        srow = sel[mu]
        for i in range(n):
            acc[i] += c * srow[i]
    sr = sel[r]
    lowest = d_row + (2 * sr[0] - 1) * (2 * acc[0] - t_row)
    for i in range(1, n):
        v = d_row + (2 * sr[i] - 1) * (2 * acc[i] - t_row)
        if v < lowest:
            lowest = v
    return lowest


@njit(**SERIAL)
def extend_rows(first, step, packed, sel, n, c_acc, c_sum, c_diff, c_bound, rtol, lo, hi,
                acc_old, tot_old, diff_old, bound_old, allowed_failures, failures,
                acc, tot, diff, bound, stable):
    """Grow the sums of rows first, first + step, ... < hi from prefix lo to hi and decide them.

    Parameters
    ----------
    packed, sel : (>= hi, W) uint64 bit rows and (>= hi, N) 0/1 rows in the accumulator dtype.
    c_acc, c_sum, c_diff, c_bound : tables indexed by m + n, m in [-n, n]: c(m) in the accumulator
        dtype, c(m) exact, g(m) - g(m+2), 2 max(|g(m)|, |g(m+2)|).
    acc_old, tot_old, diff_old, bound_old : the sums for prefix lo (rows 0..lo-1).
    failures : per-group counts of unstable rows; this call adds to ``failures[first]`` only and
        stops once the counts of all groups add up to more than ``allowed_failures``.
    acc, tot, diff, bound, stable : outputs for prefix hi.
    """
    for r in range(first, hi, step):
        if failures.sum() > allowed_failures:
            return
        arow = acc[r]
        if r < lo:
            arow[:] = acc_old[r]
            t = tot_old[r]
            dd = diff_old[r]
            sb = bound_old[r]
            mu0 = lo
        else:
            arow[:] = 0
            t = c_sum[0] * 0
            dd = c_diff[0] * 0
            sb = c_bound[0] * 0
            mu0 = 0
        pr = packed[r]
        for mu in range(mu0, hi):
            k = n - 2 * hamming_packed(pr, packed[mu]) + n
            t += c_sum[k]
            dd += c_diff[k]
            sb += c_bound[k]
            c = c_acc[k]
            srow = sel[mu]
            for i in range(n):
                arow[i] += c * srow[i]
        tot[r] = t
        diff[r] = dd
        bound[r] = sb
        if needs_wide_redo(sb, arow[0]):
            lowest = _row_min_gain_wide(r, hi, packed, sel, n, c_sum, dd, t)
        else:
            sr = sel[r]
            lowest = wrap_like(dd + (2 * sr[0] - 1) * (2 * arow[0] - t), arow[0])
            for i in range(1, n):
                v = wrap_like(dd + (2 * sr[i] - 1) * (2 * arow[i] - t), arow[0])
                if v < lowest:
                    lowest = v
        stable[r] = lowest >= -rtol * sb
        if not stable[r]:
            failures[first] += 1


@njit(**PARALLEL)
def extend_stability(packed, sel, n, c_acc, c_sum, c_diff, c_bound, rtol, lo, hi,
                     acc_old, tot_old, diff_old, bound_old, allowed_failures, groups,
                     acc, tot, diff, bound, stable):
    """Decide stability of rows 0..hi-1 after growing the prefix from lo to hi, in one parallel
    region: ``groups`` strided row groups (rows j, j + groups, ...), see :func:`extend_rows`.

    Returns the number of unstable rows found. If it exceeds ``allowed_failures`` the check may
    have stopped early (the prefix is not stored either way); otherwise every row was decided and
    the outputs are complete. So the decision never depends on the thread count or timing.
    """
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        extend_rows(j, groups, packed, sel, n, c_acc, c_sum, c_diff, c_bound, rtol, lo, hi,
                    acc_old, tot_old, diff_old, bound_old, allowed_failures, failures,
                    acc, tot, diff, bound, stable)
    return failures.sum()
