"""Kernels of the pairwise family (docs/theory.md section 11): h = W y, unit i stable when
y_i h_i >= 0 (an exact tie keeps the state).

* :func:`relax` runs asynchronous sweeps in random order with the local fields kept up to date:
  O(N^2) once for h = W y, then O(N) per flip (h += 2 y_i W[:, i]). Cues and sweep orders come
  from the binary family's splitmix64 streams (kernels.dynamics), so for W = X^T X with zero
  diagonal the decisions are the binary ``hebbian`` model's, flip for flip.
* :func:`relax_rows` / :func:`relax_prefix`: every stored pattern from its cue (the dynamics
  criteria), serially or over strided pattern groups in parallel (each pattern owns its stream).
* :func:`storkey_add`: one pattern of Storkey's (1997) incremental rule, O(N^2).
* :func:`perceptron_rows`: each unit's couplings learned to margin kappa (O(epochs P N) per unit).
* :func:`unlearn`: K steps of Hopfield-Feinstein-Palmer (1983) unlearning.

Coupling matrices are float64 (integer rules hold integers, exact in float64 while |h| < 2^53).
**Ties in the dynamics.** |y_i h_i| <= tau = TIE_RTOL max_k sum_j |W_kj| counts as a tie (the state
is kept). The width is the matrix's scale, the same for every unit: a unit whose row is zero in
exact arithmetic (pinv's units with P_ii = 1, some of Storkey's at small P) holds rounding residue
of about 1e-16 of that scale, which a width taken from its own ~0 row would not absorb. For
integer couplings tau < 1, so only exact ties are ties and every decision is exact; for float
couplings (storkey, pinv, unlearning, palimpsest) it absorbs the rounding of h (incremental or
recomputed), so ties that are exact in real arithmetic are decided as ties however h was summed.
(The ``stable`` criterion decides exactly for every rule: families.pairwise.model.stable_patterns.)
The fields of the dynamics take ``wt`` = W transposed (column i of W as a contiguous row); for a
symmetric W pass W itself.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .dynamics import (
    RANDOM,
    SYNC,
    flip_distinct,
    glauber_flips,
    shuffle_inplace,
    splitmix64_next,
    stream_state,
    uniform01,
)
from .exact import UNIT_ROUNDOFF

_S63 = np.uint64(63)
#: Relative width of the tie zone (see the module docstring).
TIE_RTOL = 1e-9


@njit(**SERIAL)
def tie_widths(w):
    """tau_i = TIE_RTOL max_k sum_j |W_kj| (the same for every unit): |y_i h_i| <= tau_i is a tie."""
    n = w.shape[0]
    scale = 0.0
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += abs(w[i, j])
        scale = max(scale, acc)
    return np.full(n, TIE_RTOL * scale)


@njit(**SERIAL)
def fields(w, y):
    """h = W y (float64), O(N^2)."""
    n = y.shape[0]
    h = np.zeros(n, dtype=np.float64)
    for i in range(n):
        acc = 0.0
        row = w[i]
        for j in range(n):
            acc += row[j] * y[j]
        h[i] = acc
    return h


@njit(**SERIAL)
def fields_and_magnitudes(w, y):
    """h = W y and a_i = sum_j |W_ij| in one pass over W."""
    n = y.shape[0]
    h = np.empty(n, dtype=np.float64)
    a = np.empty(n, dtype=np.float64)
    for i in range(n):
        acc = 0.0
        size = 0.0
        row = w[i]
        for j in range(n):
            acc += row[j] * y[j]
            size += abs(row[j])
        h[i] = acc
        a[i] = size
    return h, a


@njit(**SERIAL)
def fields_and_tie_widths(w, y):
    """h = W y and the tie widths tau_i = TIE_RTOL max_k sum_j |W_kj| (:func:`tie_widths`) in one
    pass over W."""
    h, a = fields_and_magnitudes(w, y)
    scale = 0.0
    for i in range(a.shape[0]):
        scale = max(scale, a[i])
    return h, np.full(a.shape[0], TIE_RTOL * scale)


@njit(inline="always", **SERIAL)
def flip_unit(i, y, h, wt):
    """Flip unit i of y and update the fields h = W y: h += 2 y_i(new) W[:, i] (wt = W^T, rows
    contiguous)."""
    y[i] = -y[i]
    step = 2.0 * y[i]
    col = wt[i]
    for k in range(h.shape[0]):
        h[k] += step * col[k]


@njit(**SERIAL)
def relax(y, w, wt, state, max_sweeps):
    """Asynchronous sweeps in random order (a Fisher-Yates shuffle of the units per sweep, drawn
    from ``state``) from y (int64, modified in place) until a sweep flips nothing or ``max_sweeps``
    sweeps ran. Unit i flips when y_i h_i < -tau_i (below the tie zone); h is updated in O(N) per
    flip.

    Returns (sweeps run, converged)."""
    n = y.shape[0]
    h, tau = fields_and_tie_widths(w, y)
    order = np.arange(n)
    for sweep in range(max_sweeps):
        shuffle_inplace(order, state)
        flips = 0
        for j in range(n):
            i = order[j]
            if y[i] * h[i] < -tau[i]:
                flip_unit(i, y, h, wt)
                flips += 1
        if flips == 0:
            return sweep + 1, True
    return max_sweeps, False


@njit(**SERIAL)
def relax_pattern(nu, x, w, wt, n_flip, seed, max_sweeps):
    """Relax pattern nu from its cue (``n_flip`` distinct flips from its own stream, the binary
    family's). Returns (final overlap with xi_nu, sweeps, converged)."""
    state = stream_state(seed, nu)
    y = x[nu].astype(np.int64)
    flip_distinct(y, n_flip, state)
    used, done = relax(y, w, wt, state, max_sweeps)
    m = 0
    for i in range(y.shape[0]):
        m += y[i] * x[nu, i]
    return m, used, done


@njit(**SERIAL)
def relax_rows(first, step, x, w, wt, p, n_flip, target_overlap, max_sweeps, seed, allowed_failures,
               failures, final_overlap, sweeps, converged):
    """Relax patterns first, first + step, ... < p from their cues; adds this group's failures
    (final overlap < ``target_overlap``) to ``failures[first]`` and stops once all groups' failures
    exceed ``allowed_failures``."""
    for nu in range(first, p, step):
        if failures.sum() > allowed_failures:
            return
        final, used, done = relax_pattern(nu, x, w, wt, n_flip, seed, max_sweeps)
        final_overlap[nu] = final
        sweeps[nu] = used
        converged[nu] = done
        if final < target_overlap:
            failures[first] += 1


@njit(**PARALLEL)
def relax_prefix(x, w, wt, p, n_flip, target_overlap, max_sweeps, seed, allowed_failures, groups,
                 final_overlap, sweeps, converged):
    """:func:`relax_rows` over ``groups`` strided pattern groups in one parallel region; returns
    the failures found (complete outputs when it does not exceed ``allowed_failures``)."""
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        relax_rows(j, groups, x, w, wt, p, n_flip, target_overlap, max_sweeps, seed, allowed_failures,
                   failures, final_overlap, sweeps, converged)
    return failures.sum()


@njit(**SERIAL)
def storkey_add(w, xi):
    """Add one pattern by Storkey's (1997) rule, in place (W symmetric, zero diagonal):

        W_ij += (xi_i xi_j - xi_i h_ji - h_ij xi_j) / N,   h_ij = sum_{k != i, j} W_ik xi_k,

    for i != j. With a zero diagonal h_ij = h_i - W_ij xi_j, so the update is
    (xi_i xi_j - xi_i h_j - h_i xi_j + 2 W_ij) / N: O(N^2).

    Returns a bound on the Frobenius norm of this step's fresh rounding error R (the computed W'
    minus the exact step applied to the W it was given). Entry by entry, the rounded fields
    (|dh_i| <= gamma_N a_i, a_i = sum_j |W_ij|, for any summation order), the four-term
    expression, the product with fl(1/N) and the final addition give (u = 2^-53; Higham,
    Accuracy and Stability, ch. 3)

        |R_ij| <= [gamma_N (a_i + a_j) + 6u (1 + |h_i| + |h_j| + 2 |W_ij|)] / N + u |W'_ij|
               <= alpha_i + alpha_j + (12 u / N) |W_ij| + u |W'_ij|,
        alpha_i = [gamma_N a_i + 6u (1/2 + |h_i|)] / N,

    and with S = (sum_i a_i^2)^(1/2) >= ||W||_F and |W'_ij| <= (1 + 2/N) |W_ij| + (1 + |h_i| +
    |h_j|) / N (to rounding), Minkowski's inequality gives

        ||R||_F <= 2 sqrt(N) ||alpha||_2 + (12 u / N) S + 1.01 u [(1 + 2/N) S + 1 + 2 ||h||_2 / sqrt(N)],

    from O(N) numbers, so the O(N^2) loop is the plain update. The bound's own float evaluation
    errs by under N u relative (the caller inflates it: families.pairwise.model)."""
    n = xi.shape[0]
    h, a = fields_and_magnitudes(w, xi)
    inv = 1.0 / n
    for i in range(n):  # row by row (contiguous); the expression is symmetric in i, j exactly
        row = w[i]
        for j in range(n):
            if j != i:
                row[j] += (xi[i] * xi[j] - (xi[i] * h[j] + h[i] * xi[j]) + 2.0 * row[j]) * inv
    u = UNIT_ROUNDOFF
    gamma = n * u / (1.0 - n * u)
    alpha2 = 0.0
    s2 = 0.0
    h2 = 0.0
    for i in range(n):
        alpha = (gamma * a[i] + 6.0 * u * (0.5 + abs(h[i]))) * inv
        alpha2 += alpha * alpha
        s2 += a[i] * a[i]
        h2 += h[i] * h[i]
    s = np.sqrt(s2)
    return 2.0 * np.sqrt(n * alpha2) + 12.0 * u * inv * s \
        + 1.01 * u * ((1.0 + 2.0 * inv) * s + 1.0 + 2.0 * np.sqrt(h2 * inv))


@njit(**PARALLEL)
def perceptron_rows(x, p, margin, max_epochs, w, epochs):
    """Perceptron learning of each unit's couplings (row i of W, W_ii = 0, no symmetry imposed),
    all units in parallel. For unit i, epoch after epoch over mu = 0..p-1 in order: when
    xi_i^mu (w_i . xi^mu) <= margin |w_i| (always at w_i = 0), w_i += xi_i^mu xi^mu (j != i).
    A unit is done after an epoch without an update (every stability > margin |w_i|) or after
    ``max_epochs`` epochs. Writes W (float64, integer entries) and ``epochs[i]`` = epochs run,
    negative when the unit did not converge."""
    n = x.shape[1]
    for i in prange(n):
        row = np.zeros(n, dtype=np.int64)
        norm2 = 0
        done = False
        used = 0
        for epoch in range(max_epochs):
            updates = 0
            for mu in range(p):
                xi_i = x[mu, i]
                s = 0
                for j in range(n):
                    s += row[j] * x[mu, j]
                s *= xi_i
                if s <= 0 or s * s <= margin * margin * norm2:
                    for j in range(n):
                        if j != i:
                            delta = xi_i * x[mu, j]
                            norm2 += 2 * row[j] * delta + 1
                            row[j] += delta
                    updates += 1
            used = epoch + 1
            if updates == 0:
                done = True
                break
        for j in range(n):
            w[i, j] = row[j]
        epochs[i] = used if done else -used


@njit(**SERIAL)
def random_state(n, state):
    """A uniformly random +-1 state (int64), one splitmix64 output bit per unit."""
    y = np.empty(n, dtype=np.int64)
    for i in range(n):
        y[i] = 1 if (splitmix64_next(state) >> _S63) == 1 else -1
    return y


@njit(**SERIAL)
def unlearn(w, steps, eps, seed, max_sweeps):
    """Hopfield, Feinstein & Palmer (1983) unlearning, in place on a symmetric zero-diagonal W:
    for k = 0..steps-1, relax a uniformly random state (stream k of ``seed``) to s and set
    W <- W - eps s s^T, diagonal kept at zero. Returns the number of relaxations that hit the
    sweep cap (their end state is unlearned all the same)."""
    n = w.shape[0]
    capped = 0
    for k in range(steps):
        state = stream_state(seed, k)
        y = random_state(n, state)
        _, done = relax(y, w, w, state, max_sweeps)
        if not done:
            capped += 1
        for i in range(n):
            for j in range(n):
                if i != j:
                    w[i, j] -= eps * y[i] * y[j]
    return capped


# --------------------------------------------------------------------------------------------------
# Update schemes and temperature (docs/theory.md section 15): the default (random order, T = 0)
# stays :func:`relax`; these add sequential and synchronous updates and Glauber dynamics.
# --------------------------------------------------------------------------------------------------


@njit(**SERIAL)
def relax_scheme(y, w, wt, state, max_sweeps, scheme, temperature, xi, window):
    """:func:`relax` under an update scheme (kernels.dynamics.RANDOM, SEQUENTIAL, SYNC) and a
    temperature, as kernels.dynamics.relax_scheme: at T = 0 unit i flips when y_i h_i < -tau_i; at
    T > 0 with Glauber probability 1 / (1 + exp(2 y_i h_i / T)) (one uniform draw per unit and
    sweep, ``max_sweeps`` sweeps always). SYNC decides every unit from the same h, then flips; at
    T = 0 a return to the state before the last update is a 2-cycle. ``window`` > 0: the sum of the
    overlaps with ``xi`` after the last ``window`` sweeps.

    Returns (sweeps run, converged, cycled, overlap sum)."""
    n = y.shape[0]
    h, tau = fields_and_tie_widths(w, y)
    order = np.arange(n)
    flip = np.zeros(n, dtype=np.bool_)
    before = y.copy()
    prev = y.copy()
    total = 0
    for sweep in range(max_sweeps):
        if scheme == RANDOM:
            shuffle_inplace(order, state)
        flips = 0
        for j in range(n):
            i = order[j]
            if temperature > 0:
                f = glauber_flips(2.0 * y[i] * h[i], temperature, uniform01(state))
            else:
                f = y[i] * h[i] < -tau[i]
            if scheme == SYNC:
                flip[i] = f
            elif f:
                flip_unit(i, y, h, wt)
                flips += 1
        if scheme == SYNC:
            before[:] = y
            for i in range(n):
                if flip[i]:
                    flip_unit(i, y, h, wt)
                    flips += 1
        m = 0
        if window > 0:
            for i in range(n):
                m += y[i] * xi[i]
        if sweep >= max_sweeps - window:
            total += m
        if temperature == 0 and flips == 0:
            total += (max_sweeps - max(sweep + 1, max_sweeps - window)) * m
            return sweep + 1, True, False, total
        if temperature == 0 and scheme == SYNC and window == 0 and sweep > 0 and \
                np.array_equal(y, prev):  # the state two updates back: a 2-cycle
            return sweep + 1, False, True, total
        if scheme == SYNC:
            prev[:] = before
    return max_sweeps, False, False, total


@njit(**SERIAL)
def relax_pattern_scheme(nu, x, w, wt, n_flip, seed, max_sweeps, scheme, temperature, window):
    """Pattern nu from its cue by :func:`relax_scheme` (its own stream, as :func:`relax_pattern`).
    Returns (score, sweeps, converged, cycled): the final overlap, or the window's overlap sum."""
    state = stream_state(seed, nu)
    y = x[nu].astype(np.int64)
    flip_distinct(y, n_flip, state)
    used, done, cycled, total = relax_scheme(y, w, wt, state, max_sweeps, scheme, temperature, x[nu],
                                             window)
    if window > 0:
        return total, used, done, cycled
    m = 0
    for i in range(y.shape[0]):
        m += y[i] * x[nu, i]
    return m, used, done, cycled


@njit(**SERIAL)
def relax_rows_scheme(first, step, x, w, wt, p, n_flip, target, max_sweeps, seed, scheme, temperature,
                      window, allowed_failures, failures, score, sweeps, converged, cycled):
    """:func:`relax_rows` under a scheme and a temperature: a pattern fails when its score is below
    ``target`` or its synchronous dynamics fell into a 2-cycle."""
    for nu in range(first, p, step):
        if failures.sum() > allowed_failures:
            return
        s, used, done, cyc = relax_pattern_scheme(nu, x, w, wt, n_flip, seed, max_sweeps, scheme,
                                                  temperature, window)
        score[nu] = s
        sweeps[nu] = used
        converged[nu] = done
        cycled[nu] = cyc
        if s < target or cyc:
            failures[first] += 1


@njit(**PARALLEL)
def relax_prefix_scheme(x, w, wt, p, n_flip, target, max_sweeps, seed, scheme, temperature, window,
                        allowed_failures, groups, score, sweeps, converged, cycled):
    """:func:`relax_rows_scheme` over ``groups`` strided pattern groups in one parallel region."""
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        relax_rows_scheme(j, groups, x, w, wt, p, n_flip, target, max_sweeps, seed, scheme, temperature,
                          window, allowed_failures, failures, score, sweeps, converged, cycled)
    return failures.sum()
