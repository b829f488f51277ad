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
(exp, and integer energies too large for int64) use float64 throughout and decide a row only where
its minimum gain lies outside the rounding bound of kernels.exact.rounding_bound(P, S_nu); the
rows left UNDECIDED are decided exactly by kernels.exact.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from .._compile import PARALLEL, SERIAL
from .bits import hamming_packed
from .exact import UNDECIDED, rounding_bound

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


TILE = 4  # rows accumulated together: each pass over a pattern row feeds four sums


@njit(**SERIAL)
def _grow_tile(rows, count, mu0, hi, packed, sel, n, c_acc, c_sum, c_diff, c_bound,
               buf, t, dd, sb):
    """Add columns mu in [mu0, hi) to the sums of ``count`` <= TILE rows held in buf, t, dd, sb.

    Unused slots get coefficient 0, so one unrolled loop serves every tile; reading each pattern
    row once for four sums is what makes this loop faster than a BLAS matrix product here. The four
    per-slot blocks are written out on purpose: folding them into an inlined helper measured about
    25% slower (poly 3 at N = 256, and exp at N = 20).
    """
    zero = c_acc[0] * 0
    p0 = packed[rows[0]]
    p1 = packed[rows[min(1, count - 1)]]
    p2 = packed[rows[min(2, count - 1)]]
    p3 = packed[rows[min(3, count - 1)]]
    b0, b1, b2, b3 = buf[0], buf[1], buf[2], buf[3]
    for mu in range(mu0, hi):
        pm = packed[mu]
        k0 = 2 * n - 2 * hamming_packed(p0, pm)
        c0 = c_acc[k0]
        t[0] += c_sum[k0]
        dd[0] += c_diff[k0]
        sb[0] += c_bound[k0]
        c1 = zero
        c2 = zero
        c3 = zero
        if count > 1:
            k1 = 2 * n - 2 * hamming_packed(p1, pm)
            c1 = c_acc[k1]
            t[1] += c_sum[k1]
            dd[1] += c_diff[k1]
            sb[1] += c_bound[k1]
        if count > 2:
            k2 = 2 * n - 2 * hamming_packed(p2, pm)
            c2 = c_acc[k2]
            t[2] += c_sum[k2]
            dd[2] += c_diff[k2]
            sb[2] += c_bound[k2]
        if count > 3:
            k3 = 2 * n - 2 * hamming_packed(p3, pm)
            c3 = c_acc[k3]
            t[3] += c_sum[k3]
            dd[3] += c_diff[k3]
            sb[3] += c_bound[k3]
        srow = sel[mu]
        for i in range(n):
            v = srow[i]
            b0[i] += c0 * v
            b1[i] += c1 * v
            b2[i] += c2 * v
            b3[i] += c3 * v


@njit(**SERIAL)
def _row_min_gain(r, hi, packed, sel, n, c_sum, arow, t, dd, sb):
    """min_i 2 dE_r,i from the row's sums (exact for integer tables; recomputed in the wide type
    when the int32 sums cannot be exact)."""
    if needs_wide_redo(sb, arow[0]):
        lowest = _row_min_gain_wide(r, hi, packed, sel, n, c_sum, dd, t)
    else:
        sr = sel[r]
        lowest = wrap_like(dd + (2 * sr[0] - 1) * (2 * arow[0] - t), arow[0])
        for i in range(1, n):
            v = wrap_like(dd + (2 * sr[i] - 1) * (2 * arow[i] - t), arow[0])
            if v < lowest:
                lowest = v
    return lowest


@njit(inline="always", **SERIAL)
def row_status(lowest, exact, terms, magnitude):
    """1 when min_i 2 dE_r,i >= 0 (stable), 0 when < 0, UNDECIDED when float64 cannot tell: exact
    sums decide by sign; float sums only outside their rounding bound (kernels.exact)."""
    if exact:
        return 1 if lowest >= 0 else 0
    err = rounding_bound(terms, magnitude)
    if lowest - err >= 0:
        return 1
    if lowest + err < 0:
        return 0
    return UNDECIDED


@njit(**SERIAL)
def extend_rows(first, step, packed, sel, n, c_acc, c_sum, c_diff, c_bound, exact, lo, hi,
                acc_old, tot_old, diff_old, bound_old, allowed_failures, order, failures,
                acc, tot, diff, bound, stable, margin):
    """Grow the sums of rows order[first], order[first + step], ... from prefix lo to hi and decide
    them.

    Parameters
    ----------
    packed, sel : (>= hi, W) uint64 bit rows and (>= hi, N) 0/1 rows (int8).
    c_acc, c_sum, c_diff, c_bound : tables indexed by m + n, m in [-n, n]: c(m) in the accumulator
        dtype, c(m) exact, g(m) - g(m+2), 2 max(|g(m)|, |g(m+2)|).
    acc_old, tot_old, diff_old, bound_old : the sums for prefix lo (rows 0..lo-1).
    order : a permutation of 0..hi-1 listing the rows below lo first: the order in which rows are
        decided, which matters only for how soon an unstable prefix is rejected.
    failures : per-group counts of unstable rows; this call adds to ``failures[first]`` only and
        stops once the counts of all groups add up to more than ``allowed_failures``.
    exact : the tables are exact integers (decide by sign) or float64 (decide outside the rounding
        bound, else leave the row UNDECIDED for kernels.exact).
    acc, tot, diff, bound, stable : outputs for prefix hi; stable[r] is 1 (stable), 0 (unstable) or
        UNDECIDED; margin[r] = min_i 2 dE_r,i / max(S_r, 1), the relative slack of row r (small:
        likely to turn unstable as the prefix grows).

    Rows below lo only need the new columns [lo, hi); rows from lo on need all of [0, hi). Each
    kind is processed in tiles of TILE rows (see :func:`_grow_tile`).
    """
    buf = np.zeros((TILE, n), dtype=acc.dtype)
    t = np.zeros(TILE, dtype=c_sum.dtype)
    dd = np.zeros(TILE, dtype=c_diff.dtype)
    sb = np.zeros(TILE, dtype=c_bound.dtype)
    rows = np.zeros(TILE, dtype=np.int64)
    j = np.int64(first)  # the prange index may be unsigned; uint64 + int64 would be float
    while j < hi:
        if failures.sum() > allowed_failures:
            return
        old = order[j] < lo
        count = 0
        while j < hi and count < TILE and (order[j] < lo) == old:
            r = order[j]
            rows[count] = r
            if old:
                buf[count] = acc_old[r]
                t[count] = tot_old[r]
                dd[count] = diff_old[r]
                sb[count] = bound_old[r]
            else:
                buf[count] = 0
                t[count] = 0
                dd[count] = 0
                sb[count] = 0
            count += 1
            j += step
        for slot in range(count, TILE):
            buf[slot] = 0
        _grow_tile(rows, count, lo if old else 0, hi, packed, sel, n, c_acc, c_sum, c_diff,
                   c_bound, buf, t, dd, sb)
        for slot in range(count):
            row = rows[slot]
            acc[row] = buf[slot]
            tot[row] = t[slot]
            diff[row] = dd[slot]
            bound[row] = sb[slot]
            lowest = _row_min_gain(row, hi, packed, sel, n, c_sum, acc[row], t[slot], dd[slot],
                                   sb[slot])
            status = row_status(lowest, exact, hi, sb[slot])
            stable[row] = status
            margin[row] = lowest / max(sb[slot], 1.0)
            if status == 0:
                failures[first] += 1


@njit(**PARALLEL)
def extend_stability(packed, sel, n, c_acc, c_sum, c_diff, c_bound, exact, lo, hi,
                     acc_old, tot_old, diff_old, bound_old, allowed_failures, order, groups,
                     acc, tot, diff, bound, stable, margin):
    """Decide stability of rows 0..hi-1 after growing the prefix from lo to hi, in one parallel
    region: ``groups`` strided groups of ``order`` (order[j], order[j + groups], ...), see
    :func:`extend_rows`.

    Returns the number of rows proven unstable. If it exceeds ``allowed_failures`` the check may
    have stopped early (the prefix is not stored either way); otherwise every row was visited and
    the outputs are complete, UNDECIDED rows included. So the decision never depends on the thread
    count or timing.
    """
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        extend_rows(j, groups, packed, sel, n, c_acc, c_sum, c_diff, c_bound, exact, lo, hi,
                    acc_old, tot_old, diff_old, bound_old, allowed_failures, order, failures,
                    acc, tot, diff, bound, stable, margin)
    return failures.sum()
