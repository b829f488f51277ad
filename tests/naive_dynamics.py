"""Plain twins of the update schemes and Glauber dynamics (docs/theory.md section 15), built on the
exact flip gains of tests/naive.py and the coupling fields of tests/naive_pairwise.py.

Straight from the definitions: random (a fresh Fisher-Yates shuffle of one persistent order per
sweep), sequential (units 0..N-1), sync (every unit decided from the same state, then all flipped;
at T = 0 a return to the state before the last update is a 2-cycle). At T = 0 a unit flips when its
exact decision sum is < 0 (ties keep the state); at T > 0 it flips when u (1 + exp(dE / T)) < 1, u
the next uniform of the pattern's stream, one per unit visited, dE the energy change in the model's
units computed exactly and rounded once to float64.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np

try:  # tests/ as a package
    from . import naive, naive_pairwise
except ImportError:
    import naive
    import naive_pairwise

SCHEMES = ("random", "sequential", "sync")


def uniform(rng: naive.SplitMix64) -> float:
    return float(rng.next() >> 11) * (1.0 / 9007199254740992.0)


def glauber(de: float, temperature: float, u: float) -> bool:
    """Flip with probability 1 / (1 + exp(dE / T))."""
    x = de / temperature
    if x > 700.0:
        return False
    return u * (1.0 + math.exp(x)) < 1.0


def energy_change(model, X, y, i) -> float:
    """dE_i in the model's units (float64): the exact flip gain (energy rule), or 2 y_i h_i (field
    rule); exp in units of e^(beta N)."""
    g = naive.flip_gain(model, X, y, i)
    if getattr(model, "rule", "energy") == "field":
        g = 2 * g
    if model.name == "exp":
        with localcontext() as ctx:
            ctx.prec = naive.EXP_DIGITS
            return float(Decimal(g) / (Decimal(model.beta) * X.shape[1]).exp())
    return float(g)


def _run(decide, y, rng, n, scheme, max_sweeps, temperature, score, window):
    """The scheme's sweeps; decide(i, y) -> flip. Returns (y, sweeps, converged, cycled, total)."""
    order = list(range(n))
    prev = y.copy()
    total = 0
    for sweep in range(max_sweeps):
        if scheme == "random":
            naive.shuffle(order, rng)
        flips = 0
        if scheme == "sync":
            decisions = [decide(i, y) for i in range(n)]
            before = y.copy()
            for i in range(n):
                if decisions[i]:
                    y[i] = -y[i]
                    flips += 1
        else:
            for i in (order if scheme == "random" else range(n)):
                if decide(i, y):
                    y[i] = -y[i]
                    flips += 1
        if sweep >= max_sweeps - window:
            total += score(y)
        if temperature == 0 and flips == 0:
            total += (max_sweeps - max(sweep + 1, max_sweeps - window)) * score(y)
            return y, sweep + 1, True, False, total
        if temperature == 0 and scheme == "sync" and window == 0 and sweep > 0 and \
                np.array_equal(y, prev):
            return y, sweep + 1, False, True, total
        if scheme == "sync":
            prev = before
    return y, max_sweeps, False, False, total


def relax_prefix(model, X, p, n_flip, max_sweeps, seed, scheme, temperature=0.0, window=0):
    """Binary model: every pattern nu < p from its cue (SplitMix64(seed, nu), as naive.relax_prefix).
    Returns (scores, sweeps, converged, cycled): the final overlap, or with ``window`` > 0 the sum
    of the overlaps after the last ``window`` sweeps."""
    X = np.asarray(X, dtype=np.int64)[:p]
    n = X.shape[1]
    out = []
    for nu in range(p):
        rng = naive.SplitMix64(seed, nu)
        y = naive.flip_distinct(X[nu], n_flip, rng)

        def decide(i, y, rng=rng):
            if temperature > 0:
                u = uniform(rng)
                return glauber(energy_change(model, X, y, i), temperature, u)
            return naive.flip_gain(model, X, y, i) < 0

        y, used, done, cyc, total = _run(decide, y, rng, n, scheme, max_sweeps, temperature,
                                         lambda y, nu=nu: int(X[nu] @ y), window)
        out.append((total if window else int(X[nu] @ y), used, done, cyc))
    return tuple(np.array(v) for v in zip(*out, strict=True))


def relax_prefix_pairwise(w, X, n_flip, max_sweeps, seed, scheme, temperature=0.0, window=0):
    """Couplings W: as :func:`relax_prefix` with h = W y recomputed at every visit; T = 0 flips
    when y_i h_i < -tie, T > 0 by Glauber with dE = 2 y_i h_i."""
    X = np.asarray(X, dtype=np.int64)
    n = X.shape[1]
    out = []
    for nu in range(len(X)):
        rng = naive.SplitMix64(seed, nu)
        y = naive.flip_distinct(X[nu], n_flip, rng)

        def decide(i, y, rng=rng):
            field = y[i] * float(w[i] @ y)
            if temperature > 0:
                return glauber(2.0 * field, temperature, uniform(rng))
            return field < -naive_pairwise.tie(w, i)

        y, used, done, cyc, total = _run(decide, y, rng, n, scheme, max_sweeps, temperature,
                                         lambda y, nu=nu: int(X[nu] @ y), window)
        out.append((total if window else int(X[nu] @ y), used, done, cyc))
    return tuple(np.array(v) for v in zip(*out, strict=True))
