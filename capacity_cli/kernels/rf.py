"""Random-feature dense associative memory (DrDAM, Hoover et al. 2024; modern.md C, docs/theory.md 9).

A +-1 state y is read as u = (1 + y) / (2 sqrt N); with scaled frequencies W[i, k] = sqrt(beta / N)
omega_k,i (omega_k ~ Normal(0, I_N)) the feature angles are theta_k(y) = sqrt(beta) omega_k . u =
sum_{i: y_i = +1} W[i, k], and a flip of unit i moves every angle by -y_i W[i, k]. The memory is
T = sum_mu phi(u_mu), kept here without the positive constants 1/sqrt(Y) and 1/sqrt(2Y) (they scale
every score alike, so no decision depends on them):

* trig:     t1_k = sum_mu cos theta_mu,k,  t2_k = sum_mu sin theta_mu,k;
* positive: t1_k = sum_mu exp(theta_mu,k - beta |u_mu|^2),  t2_k = sum_mu exp(-theta_mu,k - beta |u_mu|^2).

Unit i flips when the score s(y) = phi(u).T rises, i.e. E~ = -(1/beta) log s drops. Per state the
kernels form, in O(Y), the vectors a, b below; then each unit's gain costs O(Y) with no
transcendental call (angle addition for trig, exponential factors for positive features):

* trig: a_k = cos theta t1 + sin theta t2, b_k = sin theta t1 - cos theta t2, and Y times the gain is
  G_i = sum_k (cos W_ik - 1) a_k + y_i sin W_ik b_k. Tables: tab1 = cos W - 1 (as -2 sin^2(W/2)),
  tab2 = sin W, both (N, Y). A flip when G_i > TIE_RTOL * scale_i, scale_i = sum_k (|tab1_ik| +
  |tab2_ik|) |T_k| with |T_k| = sqrt(t1_k^2 + t2_k^2) >= |a_k|, |b_k|: a bound on the terms' sizes
  that does not depend on the state (computed once per prefix by :func:`trig_scale`).
* positive: a_k = exp(theta_k) t1_k, b_k = exp(-theta_k) t2_k, s = sum_k (a_k + b_k) (times a
  positive constant), and the flipped state's score is D_i = e^(beta y_i / N) sum_k (a_k e^(-y_i W_ik)
  + b_k e^(y_i W_ik)) (|u|^2 drops by y_i / N). Tables: tab1 = exp(W), tab2 = exp(-W). A flip when
  D_i - s > TIE_RTOL (D_i + s) (every term is positive: D_i + s bounds the terms).

Gains within that relative tolerance are ties and keep the state (docs/theory.md 9: float rounding of
the sums is below 1e-10 of the scale for Y <= 2^20, while a gain the random features make is of the
order of the features' sampling noise, far above 1e-9). Everything is float64, each pattern's sums in
a fixed order, so results do not depend on the thread count. Randomness of the dynamics (cue bits,
sweep orders) is the binary family's (kernels.dynamics): the same cues and sweep orders as ``exp``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .dynamics import flip_distinct, shuffle_inplace, stream_state

TRIG = 0
POSITIVE = 1
#: Relative tolerance of a flip: gains within it of zero are ties (see the module docstring).
TIE_RTOL = 1e-9
#: Features per block of the parallel feature-sum loop.
FEATURE_BLOCK = 512


@njit(**SERIAL)
def angles(y, w, out):
    """theta_k = sum_{i: y_i > 0} W[i, k] for one state (+-1 or 0/1 entries), in unit order."""
    out[:] = 0.0
    for i in range(w.shape[0]):
        if y[i] > 0:
            row = w[i]
            for k in range(w.shape[1]):
                out[k] += row[k]


@njit(**PARALLEL)
def add_features(x, lo, p, w, kind, beta, t1, t2):
    """Add the features of patterns lo..p-1 of x (+-1 rows) to t1, t2 (see the module docstring).
    Parallel over feature blocks; each feature sums the patterns in order (thread-independent)."""
    n, y = w.shape
    blocks = (y + FEATURE_BLOCK - 1) // FEATURE_BLOCK
    for blk in prange(blocks):
        k0 = blk * FEATURE_BLOCK
        k1 = min(k0 + FEATURE_BLOCK, y)
        theta = np.empty(k1 - k0)
        for mu in range(lo, p):
            theta[:] = 0.0
            plus = 0
            for i in range(n):
                if x[mu, i] > 0:
                    plus += 1
                    for k in range(k0, k1):
                        theta[k - k0] += w[i, k]
            norm = beta * plus / n
            for k in range(k0, k1):
                th = theta[k - k0]
                if kind == TRIG:
                    t1[k] += math.cos(th)
                    t2[k] += math.sin(th)
                else:
                    t1[k] += math.exp(th - norm)
                    t2[k] += math.exp(-th - norm)


@njit(**PARALLEL)
def trig_scale(tab1, tab2, t1, t2, out):
    """scale_i = sum_k (|tab1_ik| + |tab2_ik|) sqrt(t1_k^2 + t2_k^2) for every unit (trig only)."""
    n, y = tab1.shape
    r = np.sqrt(t1 * t1 + t2 * t2)
    for i in prange(n):
        acc = 0.0
        for k in range(y):
            acc += (abs(tab1[i, k]) + abs(tab2[i, k])) * r[k]
        out[i] = acc


@njit(inline="always", **SERIAL)
def state_terms(theta, kind, t1, t2, a, b):
    """Fill a, b of the state with angles theta; return sum_k a_k (trig: Y times the score) or
    sum_k (a_k + b_k) (positive: the score up to a positive factor)."""
    total = 0.0
    for k in range(theta.shape[0]):
        th = theta[k]
        if kind == TRIG:
            c = math.cos(th)
            s = math.sin(th)
            a[k] = c * t1[k] + s * t2[k]
            b[k] = s * t1[k] - c * t2[k]
            total += a[k]
        else:
            a[k] = math.exp(th) * t1[k]
            b[k] = math.exp(-th) * t2[k]
            total += a[k] + b[k]
    return total


@njit(inline="always", **SERIAL)
def unit_gain(i, yi, kind, tab1, tab2, a, b, total, scale, up, down):
    """(gain, bound) of flipping unit i with state yi: the unit flips when gain > bound.
    trig: (G_i, TIE_RTOL scale_i); positive: (D_i - s, TIE_RTOL (D_i + s)); ``up`` = e^(beta/N),
    ``down`` = e^(-beta/N)."""
    r1 = tab1[i]
    r2 = tab2[i]
    acc1 = 0.0
    acc2 = 0.0
    if kind == TRIG:
        for k in range(a.shape[0]):
            acc1 += r1[k] * a[k]
            acc2 += r2[k] * b[k]
        return acc1 + yi * acc2, TIE_RTOL * scale[i]
    if yi > 0:  # theta' = theta - W: e^theta' = e^theta tab2, e^-theta' = e^-theta tab1
        for k in range(a.shape[0]):
            acc1 += a[k] * r2[k] + b[k] * r1[k]
        d = up * acc1
    else:
        for k in range(a.shape[0]):
            acc1 += a[k] * r1[k] + b[k] * r2[k]
        d = down * acc1
    return d - total, TIE_RTOL * (d + total)


@njit(**SERIAL)
def flip_gains(y, kind, w, tab1, tab2, t1, t2, scale, up, down, gains, bounds):
    """Every unit's (gain, bound) of the state y (see :func:`unit_gain`), O(N Y) in all."""
    theta = np.empty(w.shape[1])
    a = np.empty(w.shape[1])
    b = np.empty(w.shape[1])
    angles(y, w, theta)
    total = state_terms(theta, kind, t1, t2, a, b)
    for i in range(w.shape[0]):
        gains[i], bounds[i] = unit_gain(i, y[i], kind, tab1, tab2, a, b, total, scale, up, down)


@njit(**SERIAL)
def stable_rows(first, step, x, p, kind, w, tab1, tab2, t1, t2, scale, up, down, allowed_failures,
                failures, stable, margin):
    """Check patterns first, first + step, ... < p: stable[nu] = 1 when no unit of x[nu] flips, and
    margin[nu] = the largest gain - bound over its units (> 0 exactly when it is unstable).
    Adds this group's failures to failures[first]; stops once all groups' failures exceed
    ``allowed_failures``."""
    n, y = w.shape
    theta = np.empty(y)
    a = np.empty(y)
    b = np.empty(y)
    for nu in range(first, p, step):
        if failures.sum() > allowed_failures:
            return
        row = x[nu]
        angles(row, w, theta)
        total = state_terms(theta, kind, t1, t2, a, b)
        ok = 1
        worst = -np.inf
        for i in range(n):
            g, bound = unit_gain(i, row[i], kind, tab1, tab2, a, b, total, scale, up, down)
            if g > bound:
                ok = 0
            excess = g - bound
            if excess > worst:
                worst = excess
        stable[nu] = ok
        margin[nu] = worst
        if ok == 0:
            failures[first] += 1


@njit(**PARALLEL)
def stable_prefix(x, p, kind, w, tab1, tab2, t1, t2, scale, up, down, allowed_failures, groups,
                  stable, margin):
    """:func:`stable_rows` over ``groups`` strided pattern groups in one parallel region; returns the
    failures found (all of them when they do not exceed ``allowed_failures``)."""
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        stable_rows(j, groups, x, p, kind, w, tab1, tab2, t1, t2, scale, up, down, allowed_failures,
                    failures, stable, margin)
    return failures.sum()


@njit(**SERIAL)
def relax(y, kind, w, tab1, tab2, t1, t2, scale, up, down, state, max_sweeps):
    """Asynchronous sweeps from y (int64, modified in place) in random order (the binary family's
    order stream), until a sweep flips nothing or ``max_sweeps`` ran. A flip moves every angle by
    -y_i W[i, :] (O(Y)) and refreshes a, b. Returns (sweeps run, converged)."""
    n, nf = w.shape
    theta = np.empty(nf)
    a = np.empty(nf)
    b = np.empty(nf)
    angles(y, w, theta)
    total = state_terms(theta, kind, t1, t2, a, b)
    order = np.arange(n)
    for sweep in range(max_sweeps):
        shuffle_inplace(order, state)
        flips = 0
        for j in range(n):
            i = order[j]
            yi = y[i]
            g, bound = unit_gain(i, yi, kind, tab1, tab2, a, b, total, scale, up, down)
            if g > bound:
                y[i] = -yi
                row = w[i]
                for k in range(nf):
                    theta[k] -= yi * row[k]
                total = state_terms(theta, kind, t1, t2, a, b)
                flips += 1
        if flips == 0:
            return sweep + 1, True
    return max_sweeps, False


@njit(**SERIAL)
def relax_rows(first, step, x, p, kind, w, tab1, tab2, t1, t2, scale, up, down, n_flip,
               target_overlap, max_sweeps, seed, allowed_failures, failures, final_overlap, sweeps,
               converged):
    """Relax patterns first, first + step, ... < p from their cues (round(noise N) flips drawn from
    the pattern's own stream, as kernels.dynamics.relax_pattern); a pattern fails when its final
    overlap is below ``target_overlap``. Stops once all groups' failures exceed the allowed number."""
    n = x.shape[1]
    for nu in range(first, p, step):
        if failures.sum() > allowed_failures:
            return
        state = stream_state(seed, nu)
        y = x[nu].astype(np.int64)
        flip_distinct(y, n_flip, state)
        used, done = relax(y, kind, w, tab1, tab2, t1, t2, scale, up, down, state, max_sweeps)
        m = 0
        for i in range(n):
            m += y[i] * x[nu, i]
        final_overlap[nu] = m
        sweeps[nu] = used
        converged[nu] = done
        if m < target_overlap:
            failures[first] += 1


@njit(**PARALLEL)
def relax_prefix(x, p, kind, w, tab1, tab2, t1, t2, scale, up, down, n_flip, target_overlap,
                 max_sweeps, seed, allowed_failures, groups, final_overlap, sweeps, converged):
    """:func:`relax_rows` over ``groups`` strided pattern groups in one parallel region; returns the
    failures found (complete outputs when they do not exceed ``allowed_failures``)."""
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        relax_rows(j, groups, x, p, kind, w, tab1, tab2, t1, t2, scale, up, down, n_flip,
                   target_overlap, max_sweeps, seed, allowed_failures, failures, final_overlap,
                   sweeps, converged)
    return failures.sum()
