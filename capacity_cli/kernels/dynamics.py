"""Asynchronous dynamics of binary DAMs (theory.md sections 1-2), overlaps kept up to date.

Unit i compares the energy with y_i flipped: with s_mu = xi_mu,i y_i and g(m) = F(m) - F(m-2),

    dE_i = sum_mu [F(m_mu) - F(m_mu - 2 s_mu)] = sum_mu (s_mu > 0 ? g(m_mu) : -g(m_mu + 2)),

O(P) per unit from the overlaps m_mu = xi_mu . y; a flip updates them in O(P). Tables that are
*shiftable* (the exp energy: g(m + s) = e^(beta s) g(m)) are read at m + s with s = N - max_mu m_mu,
which scales every term by the same positive factor: decisions are unchanged, and the terms near the
largest overlap never underflow however far the state is from every pattern. The unit flips only
when dE_i < 0 strictly (exact ties keep the state), decided exactly: by integer sums, or by float64
sums outside their rounding bound, or else by kernels.exact. Randomness (cue bits, sweep order)
comes from a splitmix64 stream seeded by (seed, pattern
index), so results do not depend on the thread count or on P.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .exact import UNDECIDED, rounding_bound, table_sign

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
def unit_gain_counts(m, col, yi, n, p, field, counts):
    """Level counts (kernels.exact) of the decision sum of a unit whose pattern column is ``col`` and
    state ``yi``, from the overlaps m: +1 at the level of m_mu, -1 at that of m_mu - 2 s_mu (energy
    rule); s_mu at the level of m_mu (field rule)."""
    counts[:] = 0
    for mu in range(p):
        k = (m[mu] + n + 2) // 2
        if field:
            counts[k] += col[mu] * yi
        else:
            counts[k] += 1
            counts[k - col[mu] * yi] -= 1


@njit(inline="always", **SERIAL)
def start_overlaps(y, xt, p, n):
    """The overlaps m_mu = sum_i xi_mu,i y_i (mu < p) of the state y, from xt = X^T."""
    m = np.zeros(p, dtype=np.int64)
    for i in range(n):
        col = xt[i]
        yi = y[i]
        for mu in range(p):
            m[mu] += col[mu] * yi
    return m


@njit(inline="always", **SERIAL)
def decision_sum(yi, col, m, p, n, shift, gain, lookahead):
    """Unit i's decision sum and its magnitude from the overlaps m: pattern mu adds gain[m + n +
    shift] where xi_mu,i y_i > 0, else -gain[m + n + shift + lookahead] (lookahead 2: the energy
    rule's g(m + 2); 0: the field rule). Returns (sum, sum of absolute terms), in gain's type."""
    de = gain[0] * 0
    scale = gain[0] * 0
    for mu in range(p):
        mm = m[mu] + n + shift
        if col[mu] * yi > 0:
            term = gain[mm]
        else:
            term = -gain[mm + lookahead]
        de += term
        scale += abs(term)
    return de, scale


@njit(**SERIAL)
def relax(y, xt, p, n, gain, field, exact, shiftable, table, ratio_form, forced, state, max_sweeps,
          pending):
    """Run asynchronous sweeps in random order from y (modified in place) until a sweep flips
    nothing or ``max_sweeps`` sweeps ran. ``xt`` is the (N, >= p) transposed pattern matrix;
    ``shiftable`` allows the lookup shift described in the module docstring. ``gain`` is the model's
    gain table: g(m) for the energy rule (a unit adds g(m) where s = +1, -g(m + 2) where s = -1, the
    flip gain dE_i), F'(m) for the field rule (``field``: +-F'(m), the sum y_i h_i); the unit flips
    when that sum is < 0.

    Decisions: exact tables by the sign of dE; float tables outside kernels.exact.rounding_bound,
    else by the level counts (kernels.exact.table_sign), else by ``forced``: the exact signs of the
    first len(forced) such decisions, computed by the caller. When a further decision needs exact
    arithmetic, its level counts are written to ``pending`` and the relaxation stops.

    Returns (overlaps m_mu for mu < p, sweeps run, converged, needs_exact).
    """
    m = start_overlaps(y, xt, p, n)
    order = np.arange(n)
    shift = n - m.max() if shiftable else 0
    counts = np.zeros(n + 3, dtype=np.int64)
    used_forced = 0
    lookahead = 0 if field else 2
    for sweep in range(max_sweeps):
        shuffle_inplace(order, state)
        flips = 0
        for j in range(n):
            i = order[j]
            yi = y[i]
            col = xt[i]
            de, scale = decision_sum(yi, col, m, p, n, shift, gain, lookahead)
            if exact:
                flip = de < 0
            else:
                err = rounding_bound(p, scale)
                if de < -err:
                    flip = True
                elif de > err:
                    flip = False
                else:
                    unit_gain_counts(m, col, yi, n, p, field, counts)
                    sign = table_sign(counts, table, ratio_form)
                    if sign == UNDECIDED:
                        if used_forced == forced.shape[0]:
                            pending[:] = counts
                            return m, sweep, False, True
                        sign = forced[used_forced]
                        used_forced += 1
                    flip = sign < 0
            if flip:
                y[i] = -yi
                for mu in range(p):
                    m[mu] -= 2 * col[mu] * yi
                if shiftable:
                    shift = n - m.max()
                flips += 1
        if flips == 0:
            return m, sweep + 1, True, False
    return m, max_sweeps, False, False


@njit(**SERIAL)
def relax_pattern(nu, x, xt, p, gain, field, exact, shiftable, table, ratio_form, forced, n_flip, seed,
                  max_sweeps, pending):
    """Relax pattern nu from its cue (round(noise N) flips from its own random stream); see
    :func:`relax`. Returns (final overlap with xi_nu, sweeps, converged, needs_exact)."""
    state = stream_state(seed, nu)
    y = x[nu].astype(np.int64)
    flip_distinct(y, n_flip, state)
    m, used, done, needs = relax(y, xt, p, x.shape[1], gain, field, exact, shiftable, table, ratio_form,
                                 forced, state, max_sweeps, pending)
    return m[nu], used, done, needs


@njit(**SERIAL)
def relax_rows(first, step, x, xt, p, gain, field, exact, shiftable, table, ratio_form, n_flip,
               target_overlap, max_sweeps, seed, allowed_failures, failures, final_overlap, sweeps,
               converged, needs_exact):
    """Relax patterns first, first + step, ... < p from their cues (see :func:`relax_prefix`);
    adds this group's failures to ``failures[first]`` and stops once all groups' failures exceed
    ``allowed_failures``. A pattern whose relaxation needs an exact decision is marked in
    ``needs_exact`` and not counted (the caller finishes it)."""
    none_forced = np.zeros(0, dtype=np.int8)
    pending = np.zeros(x.shape[1] + 3, dtype=np.int64)
    for nu in range(first, p, step):
        if failures.sum() > allowed_failures:
            return
        final, used, done, needs = relax_pattern(nu, x, xt, p, gain, field, exact, shiftable, table,
                                                 ratio_form, none_forced, n_flip, seed, max_sweeps,
                                                 pending)
        final_overlap[nu] = final
        sweeps[nu] = used
        converged[nu] = done
        needs_exact[nu] = needs
        if not needs and final < target_overlap:
            failures[first] += 1


@njit(**PARALLEL)
def relax_prefix(x, xt, p, gain, field, exact, shiftable, table, ratio_form, n_flip, target_overlap,
                 max_sweeps, seed, allowed_failures, groups, final_overlap, sweeps, converged,
                 needs_exact):
    """Relax every pattern nu < p from a cue with ``n_flip`` random flips; a pattern succeeds when
    its final overlap with xi_nu is >= ``target_overlap`` (= n: exact retrieval).

    One parallel region over ``groups`` strided pattern groups. Returns the number of failures
    found; when it exceeds ``allowed_failures`` the work may have stopped early (not stored either
    way), otherwise every pattern was relaxed (or marked ``needs_exact``) and the outputs are
    complete.
    """
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        relax_rows(j, groups, x, xt, p, gain, field, exact, shiftable, table, ratio_form, n_flip,
                   target_overlap, max_sweeps, seed, allowed_failures, failures, final_overlap,
                   sweeps, converged, needs_exact)
    return failures.sum()


# --------------------------------------------------------------------------------------------------
# Update schemes and temperature (docs/theory.md section 15). The default (random order, T = 0)
# stays :func:`relax` above; these kernels add sequential (index order) and synchronous updates, and
# Glauber dynamics at T > 0, with the same decision machinery at T = 0.
# --------------------------------------------------------------------------------------------------

#: Update schemes, as the kernels number them (criteria.UPDATE_SCHEMES in this order).
RANDOM, SEQUENTIAL, SYNC = 0, 1, 2


@njit(inline="always", **SERIAL)
def uniform01(state: np.ndarray) -> float:
    """A uniform float64 in [0, 1) from the top 53 bits of the next output."""
    return np.float64(splitmix64_next(state) >> _S11) * (1.0 / 9007199254740992.0)


@njit(**SERIAL)
def glauber_flips(de: float, temperature: float, u: float) -> bool:
    """Glauber's rule: flip with probability 1 / (1 + exp(dE / T)), dE the flip's energy change in
    the model's units; ``u`` uniform in [0, 1)."""
    x = de / temperature
    if x > 700.0:
        return False
    return u * (1.0 + np.exp(x)) < 1.0


@njit(**SERIAL)
def unit_decision(i, y, xt, m, p, n, gain, field, exact, shift, table, ratio_form, forced, used_forced,
                  pending, counts, temperature, unit, beta_shift, state):
    """Whether unit i flips, from the overlaps m: at T = 0 the certified sign of its decision sum
    (as :func:`relax`; returns needs_exact when it needs a sign beyond ``forced``), at T > 0 Glauber
    with dE = float64 sum x ``unit`` x exp(-beta_shift shift). Returns (flip, forced used,
    needs_exact)."""
    yi = y[i]
    col = xt[i]
    de, scale = decision_sum(yi, col, m, p, n, shift, gain, 0 if field else 2)
    if temperature > 0:
        u = uniform01(state)
        value = np.float64(de) * unit
        if beta_shift != 0.0:
            value *= np.exp(-beta_shift * shift)
        return glauber_flips(value, temperature, u), used_forced, False
    if exact:
        return de < 0, used_forced, False
    err = rounding_bound(p, scale)
    if de < -err:
        return True, used_forced, False
    if de > err:
        return False, used_forced, False
    unit_gain_counts(m, col, yi, n, p, field, counts)
    sign = table_sign(counts, table, ratio_form)
    if sign == UNDECIDED:
        if used_forced == forced.shape[0]:
            pending[:] = counts
            return False, used_forced, True
        sign = forced[used_forced]
        used_forced += 1
    return sign < 0, used_forced, False


@njit(**SERIAL)
def relax_scheme(y, xt, p, n, gain, field, exact, shiftable, table, ratio_form, forced, state,
                 max_sweeps, pending, scheme, temperature, unit, beta_shift, nu, window):
    """:func:`relax` under an update scheme and a temperature. ``scheme``: RANDOM (a fresh shuffle
    per sweep, as :func:`relax`), SEQUENTIAL (units 0..N-1) or SYNC (every unit decided from the
    same state, then all flipped). T = 0: decisions as :func:`relax` (ties keep the state); stops
    after a sweep without flips (converged) or, SYNC, when the state returns to the one before the
    last update (a 2-cycle: not converged). T > 0: Glauber (:func:`unit_decision`; one uniform
    draw per unit and sweep), always ``max_sweeps`` sweeps. ``window`` > 0: the sum of the overlap
    with pattern ``nu`` after each of the last ``window`` sweeps (a fixed point repeats its overlap).

    Returns (overlaps m, sweeps run, converged, needs_exact, cycled, overlap sum).
    """
    m = start_overlaps(y, xt, p, n)
    order = np.arange(n)
    shift = n - m.max() if shiftable else 0
    counts = np.zeros(n + 3, dtype=np.int64)
    used_forced = 0
    flip = np.zeros(n, dtype=np.bool_)
    before = y.copy()  # SYNC: the state before the last update
    prev = y.copy()  # SYNC: the state before that
    total = 0
    for sweep in range(max_sweeps):
        flips = 0
        if scheme == SYNC:
            for i in range(n):
                f, used_forced, needs = unit_decision(
                    i, y, xt, m, p, n, gain, field, exact, shift, table, ratio_form, forced,
                    used_forced, pending, counts, temperature, unit, beta_shift, state)
                if needs:
                    return m, sweep, False, True, False, total
                flip[i] = f
            before[:] = y
            for i in range(n):
                if flip[i]:
                    yi = y[i]
                    y[i] = -yi
                    col = xt[i]
                    for mu in range(p):
                        m[mu] -= 2 * col[mu] * yi
                    flips += 1
            if shiftable:
                shift = n - m.max()
        else:
            if scheme == RANDOM:
                shuffle_inplace(order, state)
            for j in range(n):
                i = order[j]
                f, used_forced, needs = unit_decision(
                    i, y, xt, m, p, n, gain, field, exact, shift, table, ratio_form, forced,
                    used_forced, pending, counts, temperature, unit, beta_shift, state)
                if needs:
                    return m, sweep, False, True, False, total
                if f:
                    yi = y[i]
                    y[i] = -yi
                    col = xt[i]
                    for mu in range(p):
                        m[mu] -= 2 * col[mu] * yi
                    if shiftable:
                        shift = n - m.max()
                    flips += 1
        if sweep >= max_sweeps - window:
            total += m[nu]
        if temperature == 0 and flips == 0:
            total += (max_sweeps - max(sweep + 1, max_sweeps - window)) * m[nu]
            return m, sweep + 1, True, False, False, total
        if temperature == 0 and scheme == SYNC and window == 0 and sweep > 0 and \
                np.array_equal(y, prev):  # the state two updates back: a 2-cycle
            return m, sweep + 1, False, False, True, total
        if scheme == SYNC:
            prev[:] = before
    return m, max_sweeps, False, False, False, total


@njit(**SERIAL)
def relax_pattern_scheme(nu, x, xt, p, gain, field, exact, shiftable, table, ratio_form, forced, n_flip,
                         seed, max_sweeps, pending, scheme, temperature, unit, beta_shift, window):
    """Relax pattern nu from its cue (its own stream, as :func:`relax_pattern`) by
    :func:`relax_scheme`; the Glauber draws continue the same stream. Returns (score, sweeps,
    converged, needs_exact, cycled): the score is the final overlap with xi_nu, or with ``window``
    > 0 the sum of its overlaps after the last ``window`` sweeps."""
    state = stream_state(seed, nu)
    y = x[nu].astype(np.int64)
    flip_distinct(y, n_flip, state)
    m, used, done, needs, cycled, total = relax_scheme(
        y, xt, p, x.shape[1], gain, field, exact, shiftable, table, ratio_form, forced, state,
        max_sweeps, pending, scheme, temperature, unit, beta_shift, nu, window)
    return (total if window > 0 else m[nu]), used, done, needs, cycled


@njit(**SERIAL)
def relax_rows_scheme(first, step, x, xt, p, gain, field, exact, shiftable, table, ratio_form, n_flip,
                      target, max_sweeps, seed, scheme, temperature, unit, beta_shift, window,
                      allowed_failures, failures, score, sweeps, converged, needs_exact, cycled):
    """:func:`relax_rows` under a scheme and a temperature: a pattern fails when its score is below
    ``target`` or its synchronous dynamics fell into a 2-cycle."""
    none_forced = np.zeros(0, dtype=np.int8)
    pending = np.zeros(x.shape[1] + 3, dtype=np.int64)
    for nu in range(first, p, step):
        if failures.sum() > allowed_failures:
            return
        s, used, done, needs, cyc = relax_pattern_scheme(
            nu, x, xt, p, gain, field, exact, shiftable, table, ratio_form, none_forced, n_flip, seed,
            max_sweeps, pending, scheme, temperature, unit, beta_shift, window)
        score[nu] = s
        sweeps[nu] = used
        converged[nu] = done
        needs_exact[nu] = needs
        cycled[nu] = cyc
        if not needs and (s < target or cyc):
            failures[first] += 1


@njit(**PARALLEL)
def relax_prefix_scheme(x, xt, p, gain, field, exact, shiftable, table, ratio_form, n_flip, target,
                        max_sweeps, seed, scheme, temperature, unit, beta_shift, window,
                        allowed_failures, groups, score, sweeps, converged, needs_exact, cycled):
    """:func:`relax_rows_scheme` over ``groups`` strided pattern groups in one parallel region
    (as :func:`relax_prefix`); returns the failures found."""
    failures = np.zeros(groups, dtype=np.int64)
    for j in prange(groups):
        relax_rows_scheme(j, groups, x, xt, p, gain, field, exact, shiftable, table, ratio_form, n_flip,
                          target, max_sweeps, seed, scheme, temperature, unit, beta_shift, window,
                          allowed_failures, failures, score, sweeps, converged, needs_exact, cycled)
    return failures.sum()
