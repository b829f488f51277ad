"""Slow, obviously-correct twins of the rf family's kernels (docs/theory.md section 9; modern.md C),
straight from the definitions: u = (1 + y) / (2 sqrt N), phi(u) with the paper's normalisation,
T = sum_mu phi(u_mu), and every flipped state's score phi(u').T recomputed from scratch.

Nothing here uses the package's kernels. The tie rule is the kernels' (a unit flips when its gain
exceeds TIE_RTOL times the stated scale), with the scale recomputed here in the paper's units.
"""

from __future__ import annotations

import math

import numpy as np

try:  # tests/ as a package
    from . import naive
except ImportError:
    import naive

TIE_RTOL = 1e-9


def encode(y: np.ndarray) -> np.ndarray:
    """u = (1 + y) / (2 sqrt N)."""
    y = np.asarray(y, dtype=np.float64)
    return (1.0 + y) / (2.0 * math.sqrt(len(y)))


def phi(omega: np.ndarray, beta: float, kind: str, y: np.ndarray) -> np.ndarray:
    """The feature vector (2Y) of the state y: trig Y^-1/2 [cos, sin](omega . sqrt(beta) u),
    positive exp(-beta |u|^2) (2Y)^-1/2 [exp(+-omega . sqrt(beta) u)]."""
    u = encode(y)
    theta = np.array([float(np.dot(w, math.sqrt(beta) * u)) for w in omega])
    count = len(omega)
    if kind == "trig":
        return np.concatenate([np.cos(theta), np.sin(theta)]) / math.sqrt(count)
    pre = math.exp(-beta * float(u @ u)) / math.sqrt(2 * count)
    return pre * np.concatenate([np.exp(theta), np.exp(-theta)])


def memory(omega, beta, kind, X) -> np.ndarray:
    """T = sum_mu phi(u_mu), summed in pattern order."""
    t = np.zeros(2 * len(omega))
    for row in X:
        t = t + phi(omega, beta, kind, row)
    return t


def score(omega, beta, kind, T, y) -> float:
    """phi(u) . T (the energy is -(1/beta) log of it)."""
    return float(phi(omega, beta, kind, y) @ T)


def energy(omega, beta, kind, T, y, tiny: float = 1e-300) -> float:
    return -math.log(max(score(omega, beta, kind, T, y), tiny)) / beta


def trig_scale(omega, beta, T) -> np.ndarray:
    """The trig bound's scale per unit, in score units: (1/Y) sum_k (|cos W_ik - 1| + |sin W_ik|)
    |T_k| with W_ik = sqrt(beta / N) omega_k,i and |T_k| the norm of the k-th (cos, sin) pair of
    sqrt(Y) T."""
    count, n = omega.shape
    w = math.sqrt(beta / n) * omega  # (Y, N)
    tk = math.sqrt(count) * np.hypot(T[:count], T[count:])
    return ((np.abs(np.cos(w) - 1.0) + np.abs(np.sin(w))) * tk[:, None]).sum(axis=0) / count


def flip_gains(omega, beta, kind, T, y) -> tuple[np.ndarray, np.ndarray]:
    """(gain_i, bound_i) for every unit: gain = phi(u').T - phi(u).T with u' the state with unit i
    flipped (from scratch); the unit flips when gain > bound."""
    y = np.asarray(y, dtype=np.int64)
    s = score(omega, beta, kind, T, y)
    gains, bounds = [], []
    scale = trig_scale(omega, beta, T) if kind == "trig" else None
    for i in range(len(y)):
        flipped = y.copy()
        flipped[i] = -flipped[i]
        s2 = score(omega, beta, kind, T, flipped)
        gains.append(s2 - s)
        bounds.append(TIE_RTOL * (scale[i] if kind == "trig" else s2 + s))
    return np.array(gains), np.array(bounds)


def stable_mask(omega, beta, kind, X) -> np.ndarray:
    """Per pattern of X: no unit flips (T = all of X)."""
    T = memory(omega, beta, kind, X)
    out = []
    for row in X:
        g, b = flip_gains(omega, beta, kind, T, row)
        out.append(not np.any(g > b))
    return np.array(out, dtype=bool)


def relax(omega, beta, kind, T, y, orders, max_sweeps: int):
    """Asynchronous sweeps in the given orders; unit i flips when its gain (from scratch) exceeds
    its bound. Returns (final y, sweeps, converged)."""
    y = np.array(y, dtype=np.int64)
    scale = trig_scale(omega, beta, T) if kind == "trig" else None
    orders = iter(orders)
    for sweep in range(max_sweeps):
        order = next(orders)
        flips = 0
        for i in order:
            s = score(omega, beta, kind, T, y)
            flipped = y.copy()
            flipped[i] = -flipped[i]
            s2 = score(omega, beta, kind, T, flipped)
            bound = TIE_RTOL * (scale[i] if kind == "trig" else s2 + s)
            if s2 - s > bound:
                y = flipped
                flips += 1
        if flips == 0:
            return y, sweep + 1, True
    return y, max_sweeps, False


def relax_prefix(omega, beta, kind, X, p: int, n_flip: int, max_sweeps: int, seed: int):
    """Every pattern nu < p from its cue (the binary family's cue and sweep-order streams, tests/
    naive.py). Returns (final overlaps, sweeps, converged)."""
    X = np.asarray(X)[:p]
    T = memory(omega, beta, kind, X)
    final, sweeps, converged = [], [], []
    for nu in range(p):
        rng = naive.SplitMix64(seed, nu)
        y = naive.flip_distinct(X[nu], n_flip, rng)
        y, used, done = relax(omega, beta, kind, T, y, naive.sweep_orders(X.shape[1], rng), max_sweeps)
        final.append(int(np.dot(X[nu].astype(np.int64), y)))
        sweeps.append(used)
        converged.append(done)
    return np.array(final, dtype=np.int64), np.array(sweeps, dtype=np.int64), np.array(converged)


def kernel(beta: float, y: np.ndarray, v: np.ndarray) -> float:
    """k(u, v) = exp(-(beta/2) |u - v|^2) of two +-1 states."""
    d = encode(y) - encode(v)
    return math.exp(-beta / 2 * float(d @ d))
