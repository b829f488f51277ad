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

The first cut of a row is the highest with P w <= g(N) (half the self term 2 g(N)): at exp beta = 1
that keeps the patterns within a Hamming distance of about (ln P) / (2 beta), a handful per row. Per
row state kept between the checks of a growing prefix: the counts of the near levels, A_near, the cut
and (min_i G_i, near magnitude, near count), from which an old row none of whose new columns is near
is decided again in O(1). For N <= 64 the distances of a row to a range of columns are written as
bytes in one vectorised loop and tested 256 at a time (a bit trick on 8 bytes per word), so a far
column costs about 0.05-0.1 ns.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .bits import hamming_packed, popcount64
from .exact import UNDECIDED, rounding_bound

#: The first cut of a new row leaves at most this fraction of the self term 2 g(N) to far patterns
#: (0.5 measured fastest at N = 28 and 36 among 0.125-1: fewer near patterns to gather, and the rows
#: that then need a lower cut stay rare).
FIRST_BUDGET = 0.5
#: A re-decision lowers the cut until the far bound is at most this fraction of |min_i G_i|.
REDO_BUDGET = 0.25


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


#: gather tests the distances of 8 GROUP columns at once for a near one.
GROUP = 32
_BYTES_ONE = np.uint64(0x0101010101010101)
_BYTES_HIGH = np.uint64(0x8080808080808080)

# Index note: the N <= 64 loops index with np.uintp. A signed index makes numba add a wraparound
# test (negative indices count from the end) that keeps LLVM from vectorising the loop, and a
# slice (a view) per row costs reference counting that dominates a short range.


@njit(inline="always", **SERIAL)
def byte_below_flags(x, limits):
    """Non-zero iff some byte of the uint64 x is below the limit that ``limits`` holds in every byte
    (limits = 0x0101...01 x limit; bytes < 128 or 255, 0 <= limit <= 128): the bit trick
    hasless(x, n) of Anderson's Bit Twiddling Hacks. Exact for "some byte": the lowest byte below
    the limit borrows nothing and is flagged, and a flag needs a borrow from such a byte below it
    (255 bytes are never flagged and never borrow)."""
    return (x - limits) & ~x & _BYTES_HIGH


@njit(inline="always", **SERIAL)
def has_byte_below(x, limit):
    """Whether some byte of the uint64 x is < limit (see :func:`byte_below_flags`)."""
    return byte_below_flags(x, _BYTES_ONE * np.uint64(limit)) != 0


@njit(inline="always", **SERIAL)
def count_near(packed, r, lo, hi, d_hi):
    """N <= 64: the number of columns mu in [lo, hi) with d_H(row r, mu) <= d_hi, in one branch-free
    loop the compiler vectorises (several popcounts per instruction)."""
    w = packed[np.uintp(r), np.uintp(0)]
    base = np.uintp(lo)
    count = 0
    for t in range(hi - lo):
        count += popcount64(w ^ packed[base + np.uintp(t), np.uintp(0)]) <= d_hi
    return count


@njit(inline="always", **SERIAL)
def gather(r, lo, hi, packed, sel, n, c_sum, k_min, k_max, hist, anear, dist, blocks):
    """Add the columns mu in [lo, hi) whose level lies in [k_min, k_max) to row r's A_near
    (anear[r]) and near-level histogram (hist[r]); returns how many were added. One XOR + popcount
    + compare per column; the rare near ones add their c(m) xi_mu,i (O(N)).

    N <= 64: the distances are first written as bytes to the scratch ``dist`` (at least
    hi - lo + 8 bytes; a branch-free loop the compiler vectorises) and read back as the uint64
    ``blocks`` (the same memory): 8 GROUP columns at once through one OR, and only a word with a
    byte at most n - k_min byte by byte."""
    added = 0
    d_lo = n - k_max  # near: n - k_max < d <= n - k_min
    d_hi = n - k_min
    if d_hi < 0:
        return 0
    if packed.shape[1] == 1:  # N <= 64: one word per row, read as scalars
        w = packed[np.uintp(r), np.uintp(0)]
        base = np.uintp(lo)
        length = hi - lo
        padded = (length + 7) // 8 * 8
        for t in range(length):
            dist[np.uintp(t)] = popcount64(w ^ packed[base + np.uintp(t), np.uintp(0)])
        for t in range(length, padded):
            dist[t] = 255
        limit = _BYTES_ONE * np.uint64(d_hi + 1)
        n_blocks = padded // 8
        for first in range(0, n_blocks, GROUP):
            last = min(first + GROUP, n_blocks)
            flags = np.uint64(0)  # a branch-free OR over the group, vectorised
            for b in range(last - first):
                flags |= byte_below_flags(blocks[np.uintp(first) + np.uintp(b)], limit)
            if flags == 0:
                continue  # the usual case: no near column among these 8 GROUP columns
            for b in range(first, last):
                if byte_below_flags(blocks[b], limit) != 0:
                    for t in range(8 * b, 8 * b + 8):
                        d = np.int64(dist[t])
                        if d_lo < d <= d_hi:
                            _add_near(r, lo + t, n - d, sel, n, c_sum, hist, anear)
                            added += 1
    else:
        pr = packed[r]
        for mu in range(lo, hi):
            d = hamming_packed(pr, packed[mu])
            if d_lo < d <= d_hi:
                _add_near(r, mu, n - d, sel, n, c_sum, hist, anear)
                added += 1
    return added


@njit(inline="always", **SERIAL)
def _add_near(r, mu, k, sel, n, c_sum, hist, anear):
    """Column mu at level k joins row r's near set: hist[r, k] += 1, anear[r] += c(m) xi_mu > 0."""
    hist[r, k] += 1
    c = c_sum[2 * k]
    ur, umu = np.uintp(r), np.uintp(mu)
    for i in range(n):
        anear[ur, np.uintp(i)] += c * sel[umu, np.uintp(i)]


@njit(inline="always", **SERIAL)
def _verdict(lowest, far, s, hi, n):
    """1 stable / 0 unstable when [lowest - far, lowest + far] clears the rounding bound of a sum
    of hi + n + 3 table entries bounded by s (near sums + far bound), else -1 (not decided here)."""
    err = 2.0 * rounding_bound(hi + n + 3, s)
    if lowest - far - err >= 0:
        return 1
    if lowest + far + err < 0:
        return 0
    return -1


@njit(inline="always", **SERIAL)
def decide_from_sums(lowest, s_near, near, hi, n, c_bound, k_c):
    """A row's decision from min_i G_i (``lowest``), the near magnitude and the near count at cut
    k_c, the other hi - near columns far: (status 1 / 0 / -1 not decided here, min_i G_i - far
    bound, S = near magnitude + far bound)."""
    far = (hi - near) * far_weight(c_bound, k_c)
    return _verdict(lowest, far, s_near + far, hi, n), lowest - far, s_near + far


@njit(**SERIAL)
def decide_row(r, hi, packed, sel, n, c_sum, c_diff, c_bound, hist, anear, cut, sums, dist,
               blocks):
    """Decide row r from its near histogram hist[r] and A_near anear[r] at cut[0]; the other
    hi - (near count) columns are far, each adding a term in [-far_weight, far_weight]. Lowers the
    cut (a rescan of the columns [0, hi)) while the interval straddles 0. Returns (status,
    min_i G_i - far bound, S): status 1 stable, 0 unstable, UNDECIDED (cut 0, nothing far, inside
    the rounding bound). sums[r] receives (min_i G_i, sum of the near bounds, near count) at the
    final cut: while no column joins the near set they decide the row again in O(1)
    (:func:`pruned_rows`)."""
    while True:
        k_c = cut[0]
        d = 0.0
        t_near = 0.0
        s = 0.0
        near = 0
        for k in range(k_c, n + 1):
            h = hist[r, k]
            if h == 0:
                continue
            near += h
            d += h * c_diff[2 * k]
            s += h * c_bound[2 * k]
            t_near += h * c_sum[2 * k]
        lowest = d + (2 * sel[r, 0] - 1) * (2 * anear[r, 0] - t_near)
        for i in range(1, n):
            v = d + (2 * sel[r, i] - 1) * (2 * anear[r, i] - t_near)
            if v < lowest:
                lowest = v
        sums[r, 0] = lowest
        sums[r, 1] = s
        sums[r, 2] = near
        # G_i sums at most hi + n + 3 table entries times counts; far adds one product: all bounded by S
        status, bound, total = decide_from_sums(lowest, s, near, hi, n, c_bound, k_c)
        if status >= 0:
            return status, bound, total
        if k_c == 0:
            return UNDECIDED, bound, total
        new_cut = min(k_c - 1, choose_cut(hi, c_bound, n, REDO_BUDGET * abs(lowest)))
        gather(r, 0, hi, packed, sel, n, c_sum, new_cut, k_c, hist, anear, dist, blocks)
        cut[0] = new_cut


@njit(**SERIAL)
def pruned_rows(first, step, packed, sel, n, c_sum, c_diff, c_bound, lo, hi,
                hist_old, anear_old, cut_old, sums_old, allowed_failures, order, failures,
                hist, anear, cut, sums, stable, margin):
    """Grow the pruned state of rows order[first], order[first + step], ... from prefix lo to hi and
    decide them (the pruned counterpart of kernels.stability.extend_rows, same outputs contract:
    stable[r] in {0, 1, UNDECIDED}, margin[r] = (min_i G_i - far bound) / max(S_r, tiny), the
    certified lower bound; stops once the failures of all groups exceed ``allowed_failures``).
    State per row: hist (counts of the near levels >= cut, 0 below), A_near, the cut and ``sums``
    (decide_row's). An old row none of whose new columns is near keeps hist, A_near and sums, so it
    is decided again from sums alone, with exactly the numbers decide_row would form."""
    budget = FIRST_BUDGET * (c_sum[2 * n] + c_diff[2 * n])  # a fraction of the self term 2 g(N)
    one = np.zeros(1, dtype=np.int64)
    blocks = np.empty(hi // 8 + 2, dtype=np.uint64)  # gather's scratch, also read as bytes
    dist = blocks.view(np.uint8)
    j = np.int64(first)
    while j < hi:
        if failures.sum() > allowed_failures:
            return
        r = order[j]
        j += step
        status = -1
        if r < lo:
            for k in range(n + 1):  # element loops: a view per row costs reference counting
                hist[r, k] = hist_old[r, k]
            for i in range(n):
                anear[r, i] = anear_old[r, i]
            for q in range(3):
                sums[r, q] = sums_old[r, q]
            one[0] = cut_old[r]
            if packed.shape[1] == 1:
                quiet = count_near(packed, r, lo, hi, n - one[0]) == 0
            else:
                quiet = False
            if not quiet:
                quiet = gather(r, lo, hi, packed, sel, n, c_sum, one[0], n + 1, hist, anear, dist,
                               blocks) == 0
            if quiet:  # hist, A_near and sums as before: decide from sums
                status, lowest, s = decide_from_sums(sums_old[r, 0], sums_old[r, 1], sums_old[r, 2],
                                                     hi, n, c_bound, one[0])
        else:
            for k in range(n + 1):
                hist[r, k] = 0
            for i in range(n):
                anear[r, i] = 0.0
            one[0] = choose_cut(hi, c_bound, n, budget)
            gather(r, 0, hi, packed, sel, n, c_sum, one[0], n + 1, hist, anear, dist, blocks)
        if status < 0:
            status, lowest, s = decide_row(r, hi, packed, sel, n, c_sum, c_diff, c_bound, hist,
                                           anear, one, sums, dist, blocks)
        cut[r] = one[0]
        stable[r] = status
        margin[r] = lowest / max(s, 1e-300)
        if status == 0:
            failures[first] += 1


@njit(**PARALLEL)
def pruned_stability(packed, sel, n, c_sum, c_diff, c_bound, lo, hi, hist_old, anear_old, cut_old,
                     sums_old, allowed_failures, order, groups, hist, anear, cut, sums, stable,
                     margin):
    """:func:`pruned_rows` over ``groups`` strided groups of ``order`` in one parallel region;
    returns the number of rows proven unstable (see kernels.stability.extend_stability: the decision
    never depends on the thread count)."""
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        pruned_rows(j, groups, packed, sel, n, c_sum, c_diff, c_bound, lo, hi, hist_old, anear_old,
                    cut_old, sums_old, allowed_failures, order, failures, hist, anear, cut, sums,
                    stable, margin)
    return failures.sum()
