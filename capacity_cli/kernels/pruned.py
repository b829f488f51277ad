"""Certified pruning of the exponential energy's all-patterns check (docs/theory.md section 1,
"Certified pruning for the exponential energy").

In the two-product form (kernels.stability) the decision sum of unit i of row nu is

    2 dE_nu,i = D_nu + xi_nu,i (2 A_nu,i - T_nu),   A_nu,i = sum_mu c(m) [xi_mu,i = +1],

with c(m) > 0 for exp (both rules). Pattern mu adds (g - g') + s c = 2 g(m) (s = xi_mu,i xi_nu,i =
+1) or -2 g'(m) (s = -1), where g, g' > 0 are the agree and disagree terms, both increasing in m.
Split the patterns of the row at a level cut k_c (level k = (m + N) / 2): *near* ones (k >= k_c)
enter exactly; each of the F *far* ones adds a term in [-w, w] with w = 2 max(g, g') at level
k_c - 1, the largest a far pattern can have. Then

    2 dE_nu,i  in  [G_i - F w, G_i + F w],   G_i = D_near + xi_nu,i (2 A_near,i - T_near),

and F = P - (number of near patterns): a far pattern costs one XOR + popcount + compare, nothing
else. A row is stable when min_i G_i - F w clears the rounding bound, unstable when
min_i G_i + F w < 0 does; otherwise the cut is lowered (a rescan gathers the newly near patterns) and
the row re-decided, down to cut 0, where nothing is far and the test is exactly the full float64
check of kernels.stability, its rows left UNDECIDED for kernels.exact when the rounding bound does
not decide. Every decision is therefore the exact one.

The first cut of a row is the highest with P w <= g(N) / 4: at exp beta = 1 that keeps the patterns
within a Hamming distance of about (ln P) / (2 beta), a handful per row. Per row state kept between
the checks of a growing prefix: the counts of the near levels, A_near and the cut.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .bits import hamming_packed, popcount64
from .exact import UNDECIDED, rounding_bound

#: The first cut of a new row leaves at most this fraction of the self term 2 g(N) to far patterns.
FIRST_BUDGET = 0.125
#: A re-decision lowers the cut until the far bound is at most this fraction of |min_i G_i|.
REDO_BUDGET = 0.25


@njit(inline="always", **SERIAL)
def level_of(pr, pm, n):
    """Overlap level k = (m + n) / 2 = n - d_H of two packed rows (table index m + n = 2 k)."""
    return n - hamming_packed(pr, pm)


@njit(**SERIAL)
def far_weight(c_bound, cut):
    """The largest |contribution| of one far pattern (level < cut): 2 max(g(m), g'(m)) at level
    cut - 1 (the terms grow with m); 0 when nothing is far."""
    return c_bound[2 * (cut - 1)] if cut > 0 else 0.0


@njit(**SERIAL)
def choose_cut(count, c_bound, n, budget):
    """The highest cut k_c in [0, n] with count x far_weight(k_c) <= budget."""
    for k_c in range(n, 0, -1):
        if count * c_bound[2 * (k_c - 1)] <= budget:
            return k_c
    return 0


#: Columns counted at once before a chunk with a near column is scanned again to gather it.
CHUNK = 256


@njit(**SERIAL)
def count_near(w, words, d_lo, d_hi):
    """Number of words with d_lo < d_H(w, word) <= d_hi: a branch-free loop over a contiguous
    slice, which the compiler vectorises (several popcounts per instruction)."""
    count = 0
    for mu in range(words.shape[0]):
        d = popcount64(w ^ words[mu])
        if d_lo < d <= d_hi:
            count += 1
    return count


@njit(**SERIAL)
def gather(pr, lo, hi, packed, sel, n, c_sum, k_min, k_max, hist, anear):
    """Add the columns mu in [lo, hi) whose level lies in [k_min, k_max) to A_near and to the
    near-level histogram of the row with packed bits ``pr``. One XOR + popcount + compare per
    column; the rare near ones add their c(m) xi_mu,i (O(N))."""
    if packed.shape[1] == 1:  # N <= 64: one word per row, read as scalars
        w = pr[0]
        words = packed.reshape(packed.shape[0])  # C-contiguous: the count loop vectorises
        d_lo = n - k_max  # near: n - k_max < d <= n - k_min
        d_hi = n - k_min
        for start in range(lo, hi, CHUNK):
            stop = min(start + CHUNK, hi)
            if count_near(w, words[start:stop], d_lo, d_hi) == 0:  # the usual case: no near column
                continue
            for mu in range(start, stop):
                d = popcount64(w ^ words[mu])
                if d_lo < d <= d_hi:
                    _add_near(n - d, sel[mu], n, c_sum, hist, anear)
    else:
        for mu in range(lo, hi):
            k = level_of(pr, packed[mu], n)
            if k_min <= k < k_max:
                _add_near(k, sel[mu], n, c_sum, hist, anear)


@njit(inline="always", **SERIAL)
def _add_near(k, srow, n, c_sum, hist, anear):
    hist[k] += 1
    c = c_sum[2 * k]
    for i in range(n):
        anear[i] += c * srow[i]


@njit(**SERIAL)
def decide_row(r, hi, packed, sel, n, c_sum, c_diff, c_bound, hist, anear, cut):
    """Decide row r from its near histogram and A_near at cut[0]; the other hi - (near count)
    columns are far, each adding a term in [-far_weight, far_weight]. Lowers the cut (a rescan of
    the columns [0, hi)) while the interval straddles 0. Returns (status, min_i G_i - far bound, S):
    status 1 stable, 0 unstable, UNDECIDED (cut 0, nothing far, inside the rounding bound)."""
    sr = sel[r]
    terms = hi + n + 3
    while True:
        k_c = cut[0]
        d = 0.0
        t_near = 0.0
        s = 0.0
        near = 0
        for k in range(k_c, n + 1):
            h = hist[k]
            if h == 0:
                continue
            near += h
            d += h * c_diff[2 * k]
            s += h * c_bound[2 * k]
            t_near += h * c_sum[2 * k]
        far = (hi - near) * far_weight(c_bound, k_c)
        s += far
        lowest = d + (2 * sr[0] - 1) * (2 * anear[0] - t_near)
        for i in range(1, n):
            v = d + (2 * sr[i] - 1) * (2 * anear[i] - t_near)
            if v < lowest:
                lowest = v
        # G_i sums at most `terms` table entries times counts; far adds one product: all bounded by S
        err = 2.0 * rounding_bound(terms, s)
        if lowest - far - err >= 0:
            return 1, lowest - far, s
        if lowest + far + err < 0:
            return 0, lowest - far, s
        if k_c == 0:
            return UNDECIDED, lowest - far, s
        new_cut = min(k_c - 1, choose_cut(hi, c_bound, n, REDO_BUDGET * abs(lowest)))
        gather(packed[r], 0, hi, packed, sel, n, c_sum, new_cut, k_c, hist, anear)
        cut[0] = new_cut


@njit(**SERIAL)
def pruned_rows(first, step, packed, sel, n, c_sum, c_diff, c_bound, lo, hi,
                hist_old, anear_old, cut_old, allowed_failures, order, failures,
                hist, anear, cut, stable, margin):
    """Grow the pruned state of rows order[first], order[first + step], ... from prefix lo to hi and
    decide them (the pruned counterpart of kernels.stability.extend_rows, same outputs contract:
    stable[r] in {0, 1, UNDECIDED}, margin[r] = (min_i G_i - far bound) / max(S_r, tiny), the
    certified lower bound; stops once the failures of all groups exceed ``allowed_failures``).
    State per row: hist (counts of the near levels >= cut, 0 below), A_near and the cut."""
    budget = FIRST_BUDGET * (c_sum[2 * n] + c_diff[2 * n])  # a fraction of the self term 2 g(N)
    one = np.zeros(1, dtype=np.int64)
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
            gather(packed[r], lo, hi, packed, sel, n, c_sum, one[0], n + 1, h, a)
        else:
            h[:] = 0
            a[:] = 0.0
            one[0] = choose_cut(hi, c_bound, n, budget)
            gather(packed[r], 0, hi, packed, sel, n, c_sum, one[0], n + 1, h, a)
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
