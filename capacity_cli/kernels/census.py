"""Kernels of the attractor census (docs/theory.md section 12): many starts relaxed in parallel,
per-unit stabilities of the states reached, and the exact mixture test.

Every relaxation is :func:`capacity_cli.kernels.dynamics.relax`, the binary family's own dynamics
(incremental overlaps, exact decisions, ties keep the state), so a census state is a fixed point in
exactly the sense of ``hopcap measure --criterion stable``. Start s draws its sweep orders from the
splitmix64 stream (seed, index[s]) and writes only its own output row: results are the same at any
thread count.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .dynamics import relax, stream_state


@njit(**SERIAL)
def relax_start(start, index, xt, p, gain, field, exact, shiftable, table, ratio_form, forced, seed,
                max_sweeps, final, pending):
    """Relax one start (int8 row, copied) with sweep orders from the stream (seed, index); the final
    state goes to ``final`` (int8). ``forced``/``pending`` as in :func:`kernels.dynamics.relax`.
    Returns (sweeps run, converged, needs_exact)."""
    y = start.astype(np.int64)
    state = stream_state(seed, index)
    _, used, done, needs = relax(y, xt, p, y.shape[0], gain, field, exact, shiftable, table, ratio_form,
                                 forced, state, max_sweeps, pending)
    for i in range(y.shape[0]):
        final[i] = y[i]
    return used, done, needs


@njit(**PARALLEL)
def relax_starts(starts, indices, xt, p, gain, field, exact, shiftable, table, ratio_form, seed,
                 max_sweeps, finals, sweeps, converged, needs_exact):
    """Relax every row of ``starts`` (S, N) in parallel (prange over starts); start s uses the stream
    (seed, indices[s]). A start whose relaxation needs a level-3 decision (kernels.exact) is marked in
    ``needs_exact`` and left for the caller to rerun with :func:`relax_start`."""
    none_forced = np.zeros(0, dtype=np.int8)
    for s in prange(starts.shape[0]):
        pending = np.zeros(starts.shape[1] + 3, dtype=np.int64)
        used, done, needs = relax_start(starts[s], indices[s], xt, p, gain, field, exact, shiftable, table,
                                        ratio_form, none_forced, seed, max_sweeps, finals[s], pending)
        sweeps[s] = used
        converged[s] = done
        needs_exact[s] = needs


@njit(**PARALLEL)
def unit_stabilities(states, xt, p, fvalues, beta, out):
    """Per-unit stabilities e_i = dE_i / 2 = (1/2) sum_mu [F(m_mu) - F(m_mu - 2 s_mu,i)],
    s_mu,i = xi_mu,i y_i, for every row y of ``states`` (float64, into ``out``).

    For hebbian (F = x^2/2) this is exactly y_i h_i with h = W y, W = X^T X, zero diagonal. ``beta`` >
    0 selects F = exp(beta (x - max_mu m_mu)) (exp, scaled per state so nothing underflows); otherwise
    F(x) = fvalues[x + N + 2] for x in [-N - 2, N + 2].
    """
    d, n = states.shape
    for r in prange(d):
        m = np.zeros(p, dtype=np.int64)
        for i in range(n):
            yi = states[r, i]
            for mu in range(p):
                m[mu] += xt[i, mu] * yi
        agree = np.empty(p, dtype=np.float64)  # F(m) - F(m - 2): unit agrees with pattern mu
        disagree = np.empty(p, dtype=np.float64)  # F(m) - F(m + 2)
        top = m.max()
        for mu in range(p):
            if beta > 0:
                f0 = math.exp(beta * (m[mu] - top))
                agree[mu] = f0 - math.exp(beta * (m[mu] - 2 - top))
                disagree[mu] = f0 - math.exp(beta * (m[mu] + 2 - top))
            else:
                k = m[mu] + n + 2
                agree[mu] = fvalues[k] - fvalues[k - 2]
                disagree[mu] = fvalues[k] - fvalues[k + 2]
        for i in range(n):
            yi = states[r, i]
            total = 0.0
            for mu in range(p):
                total += agree[mu] if xt[i, mu] * yi > 0 else disagree[mu]
            out[r, i] = 0.5 * total


@njit(**SERIAL)
def _is_mixture(state, x, chosen, signs, k):
    """True when state_i = sign(sum_j signs[j] x[chosen[j], i]) for every unit i (k odd: no zero)."""
    for i in range(state.shape[0]):
        total = 0
        for j in range(k):
            total += signs[j] * x[chosen[j], i]
        if total * state[i] <= 0:
            return False
    return True


#: mixture_of outcomes.
NOT_MIXTURE, MIXTURE, GAVE_UP = 0, 1, 2


@njit(**SERIAL)
def mixture_of(state, x, m, k, budget, found):
    """Find k distinct patterns and signs e with state = sign(sum_j e_j xi_j) exactly (k odd); write
    the pattern indices times the signs, as (index + 1) * e, to ``found`` and return MIXTURE;
    NOT_MIXTURE when no set qualifies; GAVE_UP when more than ``budget`` candidate sets would have to
    be tried (P >> N, where many patterns overlap any state strongly).

    Exact pruning: such a state satisfies sum_j e_j m_j = sum_i |sum_j e_j xi_j,i| >= N (m_j its
    overlaps), so only sets with sum_j |m_j| >= N are tried; patterns are visited by decreasing |m|,
    so a level of the enumeration stops at the first candidate whose best completion falls short.
    Every sign vector with sum_j e_j m_j >= N is then checked unit by unit.
    """
    p = m.shape[0]
    n = state.shape[0]
    if p < k:
        return NOT_MIXTURE
    tried = 0
    order = np.argsort(-np.abs(m), kind="mergesort")
    mag = np.abs(m[order])
    pos = np.empty(k, dtype=np.int64)
    chosen = np.empty(k, dtype=np.int64)
    signs = np.empty(k, dtype=np.int64)
    level = 0
    pos[0] = -1
    partial = np.zeros(k + 1, dtype=np.int64)
    while level >= 0:
        pos[level] += 1
        q = pos[level]
        if q > p - (k - level):
            level -= 1
            continue
        best = partial[level]
        for t in range(k - level):
            best += mag[q + t]
        if best < n:  # later q only lower the bound: this level is done
            level -= 1
            continue
        partial[level + 1] = partial[level] + mag[q]
        if level < k - 1:
            level += 1
            pos[level] = q
            continue
        tried += 1
        if tried > budget:
            return GAVE_UP
        for j in range(k):
            chosen[j] = order[pos[j]]
        for code in range(1 << k):
            score = 0
            for j in range(k):
                signs[j] = 1 if (code >> j) & 1 == 0 else -1
                score += signs[j] * m[chosen[j]]
            if score >= n and _is_mixture(state, x, chosen, signs, k):
                for j in range(k):
                    found[j] = (chosen[j] + 1) * signs[j]
                return MIXTURE
    return NOT_MIXTURE


@njit(**PARALLEL)
def mixture_components(states, x, overlaps, k, budget, found, outcome):
    """For every row of ``states``: :func:`mixture_of` with its overlaps (rows of ``overlaps``)."""
    for r in prange(states.shape[0]):
        outcome[r] = mixture_of(states[r], x, overlaps[r], k, budget, found[r])
