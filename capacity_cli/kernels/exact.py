"""Certified sign decisions for flip gains that float64 alone cannot decide (docs/theory.md section 1).

Every decision hopcap makes is the sign of a sum over stored patterns, and every such sum is an
integer combination of energy values at a few overlap levels. Overlaps m have the parity of N, so a
flip gain is

    dE_i = sum_mu [F(m_mu) - F(m_mu - 2 s_mu,i)] = sum_j n_ij F(m_j),   m_j = -N - 2 + 2 j,  j = 0..N+2,

with integer *level counts* n_ij (+1 at the level of m_mu, -1 at the level of m_mu - 2 s_mu,i; the field
rule's y_i h_i = sum_mu s_mu,i F'(m_mu) has the same form with the table F' and counts s_mu,i at the level
of m_mu). Three levels decide the sign:

1. the kernels' own float64 sums with a rigorous error bound (:func:`rounding_bound`), or exact
   integers where a bound proves int32/int64 exact;
2. where that bound does not decide: the level counts (exact integers) and a float64 evaluation of
   sum_j n_j T_j whose error bound is relative to each sign's part (:func:`table_sign`): cancellation
   between equal levels is then exact, so only a genuine near-cancellation is left undecided;
3. where that does not decide either: exact arithmetic in Python (``capacity_cli.models.exact_signs``):
   integers for polynomial energies; for ``exp`` sum_j n_j q^j with q = e^(2 beta) evaluated on a
   rigorous bracket of q, refined until it decides (it always does: q is transcendental for rational
   beta != 0, so the sum is zero only when every count is).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .bits import hamming_packed

#: Unit roundoff of float64.
UNIT_ROUNDOFF = 2.0**-53
#: Spacing of float64 subnormals: the absolute error of a result that underflows.
SUBNORMAL = 2.0**-1074
#: table_sign outcome when level 2 cannot decide.
UNDECIDED = 2


@njit(inline="always", **SERIAL)
def rounding_bound(terms, magnitude):
    """A bound on |computed - exact| for a flip gain that the kernels accumulate in float64 from
    ``terms`` table entries (each within 4 units of roundoff of its exact value), when ``magnitude``
    bounds the sum of the absolute values of every table entry and partial sum that enters it.

    Recursive summation of k terms errs by at most (k - 1) u sum|terms| (Higham, Accuracy and
    Stability, eq. 4.4); the two-product form adds up four such sums (2 A - T and D) and three final
    operations, so 4 (terms + 16) u magnitude covers table errors and the sums. Underflowed results
    add at most one subnormal spacing each.
    """
    return (4.0 * terms + 64.0) * UNIT_ROUNDOFF * magnitude + (4.0 * terms + 16.0) * SUBNORMAL


@njit(**SERIAL)
def table_sign(counts, table, ratio_form):
    """Sign of sum_j counts[j] T_j (level 2): 1, -1, 0 when every count is 0, or UNDECIDED.

    ``ratio_form`` False: T_j = table[j] (float64 within one unit of roundoff of the exact value,
    possibly scaled by a power of two). True: T_j proportional to q^j with q > 1, and table[k] =
    q^-k; the sum is evaluated as sum_j counts[j] q^(j - top), top the highest level with a non-zero
    count, so nothing overflows and the leading level is exact.

    The positive and the negative parts are summed separately: each has relative error at most
    (levels + 2) u, plus |count| subnormal spacings per table entry that underflowed; the sign is
    returned only when the bracketed parts do not overlap.
    """
    levels = counts.shape[0]
    top = -1
    for j in range(levels - 1, -1, -1):
        if counts[j] != 0:
            top = j
            break
    if top < 0:
        return 0
    pos = 0.0
    neg = 0.0
    weight = 0.0
    for j in range(top + 1):
        c = counts[j]
        if c == 0:
            continue
        weight += abs(np.float64(c))
        t = table[top - j] if ratio_form else table[j]
        v = np.float64(c) * t
        if v > 0:
            pos += v
        else:
            neg -= v
    rel = 2.0 * (levels + 4.0) * UNIT_ROUNDOFF
    slack = 2.0 * (weight + levels + 4.0) * SUBNORMAL
    if pos * (1.0 - rel) - slack > neg * (1.0 + rel) + slack:
        return 1
    if neg * (1.0 - rel) - slack > pos * (1.0 + rel) + slack:
        return -1
    return UNDECIDED


@njit(**SERIAL)
def flip_gain_counts(r, hi, packed, sel, n, field, counts):
    """Level counts of every decision sum of stored pattern r against patterns 0..hi-1: counts[i, j]
    is n_ij of the module docstring for y = xi_r (shape (n, n + 3), overwritten). ``field``: the
    field rule's y_i h_i = sum_mu s_mu,i F'(m_mu) instead (counts s_mu,i at the level of m_mu)."""
    counts[:, :] = 0
    common = np.zeros(n + 3, dtype=np.int64)
    pr = packed[r]
    sr = sel[r]
    for mu in range(hi):
        m = n - 2 * hamming_packed(pr, packed[mu])
        k = (m + n + 2) // 2
        srow = sel[mu]
        if field:
            for i in range(n):
                counts[i, k] += 1 if srow[i] == sr[i] else -1
            continue
        common[k] += 1
        for i in range(n):
            if srow[i] == sr[i]:  # s = +1: F(m - 2) at level k - 1
                counts[i, k - 1] -= 1
            else:  # s = -1: F(m + 2) at level k + 1
                counts[i, k + 1] -= 1
    for i in range(n):
        for j in range(n + 3):
            counts[i, j] += common[j]


@njit(**SERIAL)
def row_unit_signs(r, hi, packed, sel, n, field, table, ratio_form, counts, signs):
    """Level-2 signs of every flip gain of pattern r (see :func:`table_sign`); ``counts`` (n, n+3)
    receives the level counts. Returns 0 when some gain is proven negative (unstable), 1 when every
    gain is proven >= 0 (stable), UNDECIDED otherwise."""
    flip_gain_counts(r, hi, packed, sel, n, field, counts)
    undecided = False
    for i in range(n):
        s = table_sign(counts[i], table, ratio_form)
        signs[i] = s
        if s == UNDECIDED:
            undecided = True
        elif s < 0:
            return 0
    return UNDECIDED if undecided else 1


@njit(**PARALLEL)
def decide_rows(rows, hi, packed, sel, n, field, table, ratio_form, status):
    """Level 2 for the stability rows ``rows`` (those the float64 sums left undecided): status[r]
    becomes 0 (unstable), 1 (stable) or UNDECIDED (level 3 needed). Each row is independent."""
    for j in prange(rows.shape[0]):
        counts = np.empty((n, n + 3), dtype=np.int64)
        signs = np.empty(n, dtype=np.int8)
        status[rows[j]] = row_unit_signs(rows[j], hi, packed, sel, n, field, table, ratio_form, counts,
                                         signs)
