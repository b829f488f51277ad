"""Asynchronous dynamics of binary DAMs (theory.md sections 1-2), overlaps kept up to date.

Unit i compares the energy with y_i flipped: with s_mu = xi_mu,i y_i and g(m) = F(m) - F(m-2),

    dE_i = sum_mu [F(m_mu) - F(m_mu - 2 s_mu)] = sum_mu (s_mu > 0 ? g(m_mu) : -g(m_mu + 2)),

O(P) per unit from the overlaps m_mu = xi_mu . y; a flip updates them in O(P). Tables that are
*shiftable* (the exp energy: g(m + s) = e^(beta s) g(m)) are read at m + s with s = N - max_mu m_mu,
which scales every term by the same positive factor: decisions are unchanged, and the terms near the
largest overlap never underflow however far the state is from every pattern. The unit flips only
when dE_i < 0 strictly (exact ties keep the state; float tables treat |dE| <= rtol sum|terms| as a
tie). Randomness (cue bits, sweep order) comes from a splitmix64 stream seeded by (seed, pattern
index), so results do not depend on the thread count or on P.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


@njit(inline="always", **SERIAL)
def splitmix64_next(state: np.ndarray) -> np.uint64:
    """Advance the one-element uint64 ``state`` and return the next 64-bit output (splitmix64)."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(inline="always", **SERIAL)
def uniform_below(state: np.ndarray, bound: int) -> int:
    """A uniform integer in [0, bound) from the top 53 bits (bias < 2^-40 for bound < 2^13)."""
    u = np.float64(splitmix64_next(state) >> _S11) * (1.0 / 9007199254740992.0)
    return int(u * bound)


@njit(**SERIAL)
def stream_state(seed: np.uint64, index: int) -> np.ndarray:
    """The PRNG state of pattern ``index`` under ``seed``: independent streams per pattern."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed ^ (np.uint64(index) * _MIX2)
    splitmix64_next(state)
    return state


@njit(**SERIAL)
def flip_distinct(y: np.ndarray, n_flip: int, state: np.ndarray) -> None:
    """Flip ``n_flip`` distinct units of y, chosen by a partial Fisher-Yates shuffle."""
    n = y.shape[0]
    idx = np.arange(n)
    for j in range(n_flip):
        k = j + uniform_below(state, n - j)
        idx[j], idx[k] = idx[k], idx[j]
        y[idx[j]] = -y[idx[j]]


@njit(**SERIAL)
def shuffle_inplace(order: np.ndarray, state: np.ndarray) -> None:
    """Fisher-Yates shuffle."""
    for j in range(order.shape[0] - 1, 0, -1):
        k = uniform_below(state, j + 1)
        order[j], order[k] = order[k], order[j]


@njit(**SERIAL)
def relax(y, xt, p, n, gain, rtol, shiftable, state, max_sweeps):
    """Run asynchronous sweeps in random order from y (modified in place) until a sweep flips
    nothing or ``max_sweeps`` sweeps ran. ``xt`` is the (N, >= p) transposed pattern matrix;
    ``shiftable`` allows the lookup shift described in the module docstring.

    Returns (overlaps m_mu for mu < p, sweeps run, converged).
    """
    m = np.zeros(p, dtype=np.int64)
    for i in range(n):
        col = xt[i]
        yi = y[i]
        for mu in range(p):
            m[mu] += col[mu] * yi
    order = np.arange(n)
    zero = gain[0] * 0
    shift = n - m.max() if shiftable else 0
    for sweep in range(max_sweeps):
        shuffle_inplace(order, state)
        flips = 0
        for j in range(n):
            i = order[j]
            yi = y[i]
            col = xt[i]
            de = zero
            scale = zero
            for mu in range(p):
                mm = m[mu] + n + shift
                if col[mu] * yi > 0:
                    term = gain[mm]
                else:
                    term = -gain[mm + 2]
                de += term
                scale += abs(term)
            if de < -rtol * scale:
                y[i] = -yi
                for mu in range(p):
                    m[mu] -= 2 * col[mu] * yi
                if shiftable:
                    shift = n - m.max()
                flips += 1
        if flips == 0:
            return m, sweep + 1, True
    return m, max_sweeps, False


@njit(**SERIAL)
def relax_rows(first, step, x, xt, p, gain, rtol, shiftable, n_flip, target_overlap, max_sweeps, seed,
               allowed_failures, failures, final_overlap, sweeps, converged):
    """Relax patterns first, first + step, ... < p from their cues (see :func:`relax_prefix`);
    adds this group's failures to ``failures[first]`` and stops once all groups' failures exceed
    ``allowed_failures``."""
    n = x.shape[1]
    for nu in range(first, p, step):
        if failures.sum() > allowed_failures:
            return
        state = stream_state(seed, nu)
        y = x[nu].astype(np.int64)
        flip_distinct(y, n_flip, state)
        m, used, done = relax(y, xt, p, n, gain, rtol, shiftable, state, max_sweeps)
        final_overlap[nu] = m[nu]
        sweeps[nu] = used
        converged[nu] = done
        if m[nu] < target_overlap:
            failures[first] += 1


@njit(**PARALLEL)
def relax_prefix(x, xt, p, gain, rtol, shiftable, n_flip, target_overlap, max_sweeps, seed,
                 allowed_failures, groups, final_overlap, sweeps, converged):
    """Relax every pattern nu < p from a cue with ``n_flip`` random flips; a pattern succeeds when
    its final overlap with xi_nu is >= ``target_overlap`` (= n: exact retrieval).

    One parallel region over ``groups`` strided pattern groups. Returns the number of failures
    found; when it exceeds ``allowed_failures`` the work may have stopped early (not stored either
    way), otherwise every pattern was relaxed and the outputs are complete.
    """
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        relax_rows(j, groups, x, xt, p, gain, rtol, shiftable, n_flip, target_overlap, max_sweeps, seed,
                   allowed_failures, failures, final_overlap, sweeps, converged)
    return failures.sum()
