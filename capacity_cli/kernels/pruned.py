"""Certified pruning of the exponential energy's all-patterns check (docs/theory.md section 1,
"Certified pruning for the exponential energy").

In the two-product form (kernels.stability) the decision sum of unit i of row nu is

    2 dE_nu,i = D_nu + xi_nu,i (2 A_nu,i - T_nu),   A_nu,i = sum_mu c(m) [xi_mu,i = +1],

with c(m) > 0 for exp (both rules). Split the patterns of the row at a level cut: *near* ones
(overlap level >= cut) enter A exactly; *far* ones only through T_far = sum_far c(m), which bounds
their part of A_i to [0, T_far]. Then

    2 dE_nu,i  in  [G_i - T_far, G_i + T_far],   G_i = D_nu + xi_nu,i (2 A_near,i - T_near),

and D, T_near, T_far need only the row's histogram of overlap levels (no factor N). A row is
stable when min_i G_i - T_far clears the rounding bound, unstable when min_i G_i + T_far < 0 does;
otherwise the cut is lowered (fewer far patterns) and the row re-decided, down to cut 0, where it is
exactly the full float64 check of kernels.stability and is left UNDECIDED for kernels.exact when its
rounding bound does not decide. Every decision is therefore the exact one.

Per row state kept between checks of a growing prefix: the level histogram, A_near and the cut.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .bits import hamming_packed, popcount64
from .exact import UNDECIDED, rounding_bound

#: The first cut of a new row leaves at most this fraction of the self term 2 g(N) to far patterns.
FIRST_BUDGET = 0.125
#: A re-decision lowers the cut until T_far is at most this fraction of |min_i G_i|.
REDO_BUDGET = 0.25


@njit(inline="always", **SERIAL)
def level_of(pr, pm, n):
    """Overlap level k = (m + n) / 2 = n - d_H of two packed rows (table index m + n = 2 k)."""
    return n - hamming_packed(pr, pm)


@njit(**SERIAL)
def choose_cut(hist, c_sum, n, budget):
    """The highest cut k_c with sum_{k < k_c} hist[k] c(k) <= budget (levels >= k_c are near)."""
    far = 0.0
    for k in range(n + 1):
        far += hist[k] * c_sum[2 * k]
        if far > budget:
            return k
    return n + 1


@njit(**SERIAL)
def add_levels(pr, packed, lo, hi, n, hist, part):
    """hist[k] += number of columns mu in [lo, hi) at level k from row pr, with four interleaved
    partial histograms in ``part`` (4, n + 1) (consecutive increments of one bin would otherwise
    wait for each other)."""
    part[:, :] = 0
    if packed.shape[1] == 1:  # N <= 64: one word per row, read as scalars
        _add_levels_one_word(pr[0], packed[:, 0], lo, hi, n, part)
    else:
        _add_levels_words(pr, packed, lo, hi, n, part)
    for k in range(n + 1):
        hist[k] += part[0, k] + part[1, k] + part[2, k] + part[3, k]


@njit(inline="always", **SERIAL)
def _add_levels_one_word(w, words, lo, hi, n, part):
    mu = lo
    while mu + 4 <= hi:
        part[0, n - popcount64(w ^ words[mu])] += 1
        part[1, n - popcount64(w ^ words[mu + 1])] += 1
        part[2, n - popcount64(w ^ words[mu + 2])] += 1
        part[3, n - popcount64(w ^ words[mu + 3])] += 1
        mu += 4
    while mu < hi:
        part[0, n - popcount64(w ^ words[mu])] += 1
        mu += 1


@njit(inline="always", **SERIAL)
def _add_levels_words(pr, packed, lo, hi, n, part):
    mu = lo
    while mu + 4 <= hi:
        part[0, level_of(pr, packed[mu], n)] += 1
        part[1, level_of(pr, packed[mu + 1], n)] += 1
        part[2, level_of(pr, packed[mu + 2], n)] += 1
        part[3, level_of(pr, packed[mu + 3], n)] += 1
        mu += 4
    while mu < hi:
        part[0, level_of(pr, packed[mu], n)] += 1
        mu += 1


@njit(**SERIAL)
def count_from(hist, k_min, n):
    """Number of columns at levels >= k_min."""
    total = 0
    for k in range(k_min, n + 1):
        total += hist[k]
    return total


@njit(**SERIAL)
def gather(r, lo, hi, packed, sel, n, c_sum, k_min, k_max, hist, anear, count_hist):
    """Add the columns mu in [lo, hi) whose level lies in [k_min, k_max) to A_near of row r (and,
    with ``count_hist``, every column's level to the histogram)."""
    pr = packed[r]
    for mu in range(lo, hi):
        k = level_of(pr, packed[mu], n)
        if count_hist:
            hist[k] += 1
        if k_min <= k < k_max:
            c = c_sum[2 * k]
            srow = sel[mu]
            for i in range(n):
                anear[i] += c * srow[i]


@njit(**SERIAL)
def decide_row(r, hi, packed, sel, n, c_sum, c_diff, c_bound, hist, anear, cut):
    """Decide row r from its histogram and A_near at cut[0], lowering the cut (a rescan of the
    columns [0, hi)) while the far interval straddles 0. Returns (status, min_i G_i - T_far, S): the
    status 1
    stable, 0 unstable, UNDECIDED (cut 0 and inside the rounding bound)."""
    sr = sel[r]
    terms = hi + n + 3
    while True:
        k_c = cut[0]
        d = 0.0
        t_near = 0.0
        t_far = 0.0
        s = 0.0
        for k in range(n + 1):
            h = hist[k]
            if h == 0:
                continue
            d += h * c_diff[2 * k]
            s += h * c_bound[2 * k]
            if k >= k_c:
                t_near += h * c_sum[2 * k]
            else:
                t_far += h * c_sum[2 * k]
        lowest = d + (2 * sr[0] - 1) * (2 * anear[0] - t_near)
        for i in range(1, n):
            v = d + (2 * sr[i] - 1) * (2 * anear[i] - t_near)
            if v < lowest:
                lowest = v
        # G_i and T_far are sums of at most `terms` table entries times counts, each bounded by S
        err = 2.0 * rounding_bound(terms, s)
        if lowest - t_far - err >= 0:
            return 1, lowest - t_far, s
        if lowest + t_far + err < 0:
            return 0, lowest - t_far, s
        if k_c == 0:
            return UNDECIDED, lowest - t_far, s
        new_cut = min(k_c - 1, choose_cut(hist, c_sum, n, REDO_BUDGET * abs(lowest)))
        gather(r, 0, hi, packed, sel, n, c_sum, new_cut, k_c, hist, anear, False)
        cut[0] = new_cut


@njit(**SERIAL)
def pruned_rows(first, step, packed, sel, n, c_sum, c_diff, c_bound, lo, hi,
                hist_old, anear_old, cut_old, allowed_failures, order, failures,
                hist, anear, cut, stable, margin):
    """Grow the pruned state of rows order[first], order[first + step], ... from prefix lo to hi and
    decide them (the pruned counterpart of kernels.stability.extend_rows, same outputs contract:
    stable[r] in {0, 1, UNDECIDED}, margin[r] = (min_i G_i - T_far) / max(S_r, tiny),
    the certified lower bound: rows close to other patterns come first; stops once the failures
    of all groups exceed ``allowed_failures``)."""
    budget = FIRST_BUDGET * (c_sum[2 * n] + c_diff[2 * n])  # a fraction of the self term 2 g(N)
    one = np.zeros(1, dtype=np.int64)
    part = np.zeros((4, n + 1), dtype=np.int32)
    j = np.int64(first)
    while j < hi:
        if failures.sum() > allowed_failures:
            return
        r = order[j]
        j += step
        h = hist[r]
        a = anear[r]
        if r < lo:
            h[:] = hist_old[r]
            a[:] = anear_old[r]
            one[0] = cut_old[r]
            before = count_from(h, one[0], n)
            add_levels(packed[r], packed, lo, hi, n, h, part)
            if count_from(h, one[0], n) > before:  # new near columns (rare): gather them
                gather(r, lo, hi, packed, sel, n, c_sum, one[0], n + 1, h, a, False)
        else:
            h[:] = 0
            add_levels(packed[r], packed, 0, hi, n, h, part)
            one[0] = min(n, choose_cut(h, c_sum, n, budget))
            if count_from(h, one[0], n) == 1:  # the row itself (level n) is its only near column
                c = c_sum[2 * n]
                sr = sel[r]
                for i in range(n):
                    a[i] = c * sr[i]
            else:
                a[:] = 0.0
                gather(r, 0, hi, packed, sel, n, c_sum, one[0], n + 1, h, a, False)
        status, lowest, s = decide_row(r, hi, packed, sel, n, c_sum, c_diff, c_bound, h, a, one)
        cut[r] = one[0]
        stable[r] = status
        margin[r] = lowest / max(s, 1e-300)
        if status == 0:
            failures[first] += 1


@njit(**PARALLEL)
def pruned_stability(packed, sel, n, c_sum, c_diff, c_bound, lo, hi, hist_old, anear_old, cut_old,
                     allowed_failures, order, groups, hist, anear, cut, stable, margin):
    """:func:`pruned_rows` over ``groups`` strided groups of ``order`` in one parallel region;
    returns the number of rows proven unstable (see kernels.stability.extend_stability: the decision
    never depends on the thread count)."""
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        pruned_rows(j, groups, packed, sel, n, c_sum, c_diff, c_bound, lo, hi, hist_old, anear_old,
                    cut_old, allowed_failures, order, failures, hist, anear, cut, stable, margin)
    return failures.sum()
