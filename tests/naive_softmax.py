"""Slow, obviously-correct twins of the softmax family's kernels (docs/theory.md section 5), straight
from the definitions: one pattern at a time, one numpy vector per update, float64, pure-Python PRNG.

Nothing here uses the package's kernels. Decisions compare r with eps directly; the kernels compute r
with a different summation order (BLAS blocks, online softmax), so the two may disagree only when
|r - eps| is within a few ulps of the sum's size: tests skip cases with |r - eps| <= BOUNDARY_RTOL eps.
"""

from __future__ import annotations

import math

import numpy as np

try:  # tests/ as a package
    from . import naive
except ImportError:
    import naive

#: Width of the tolerance zone around the eps boundary (relative to eps) where twins may disagree.
BOUNDARY_RTOL = 1e-9


class SplitMix64(naive.SplitMix64):
    """The binary family's twin stream (tests/naive.py), with a uniform float in [0, 1)."""

    def uniform(self) -> float:
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)


def pm1_cue(x: np.ndarray, noise: float, seed: int, index: int) -> np.ndarray:
    """x with round(noise N) distinct units flipped (partial Fisher-Yates, halves round up)."""
    y = np.array(x, dtype=np.float64)
    n = len(y)
    k = int(math.floor(noise * n + 0.5))
    rng = SplitMix64(seed, index)
    idx = list(range(n))
    for j in range(k):
        r = j + rng.below(n - j)
        idx[j], idx[r] = idx[r], idx[j]
        y[idx[j]] = -y[idx[j]]
    return y


def sphere_cue(x: np.ndarray, noise: float, seed: int, index: int) -> np.ndarray:
    """x + noise |x| g / |g|, g standard normal by Box-Muller from the pattern's stream."""
    xf = np.asarray(x, dtype=np.float64)
    rng = SplitMix64(seed, index)
    g = []
    while len(g) < len(xf):
        u1 = 1.0 - rng.uniform()
        u2 = rng.uniform()
        r = math.sqrt(-2.0 * math.log(u1))
        g += [r * math.cos(2 * math.pi * u2), r * math.sin(2 * math.pi * u2)]
    g = np.array(g[: len(xf)])
    return xf + noise * np.linalg.norm(xf) / np.linalg.norm(g) * g


def cue(x: np.ndarray, noise: float, seed: int, index: int, kind: str) -> np.ndarray:
    if noise == 0:
        return np.asarray(x, dtype=np.float64).copy()
    return (pm1_cue if kind == "pm1" else sphere_cue)(x, noise, seed, index)


def softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max())
    return e / e.sum()


def update(X: np.ndarray, xi: np.ndarray, beta: float) -> np.ndarray:
    """X^T softmax(beta X xi) for one state."""
    Xf = np.asarray(X, dtype=np.float64)
    return Xf.T @ softmax(beta * (Xf @ xi))


def energy(X: np.ndarray, xi: np.ndarray, beta: float) -> float:
    """-lse(beta, X xi) + xi.xi / 2 (the constant dropped)."""
    s = beta * (np.asarray(X, dtype=np.float64) @ xi)
    top = s.max()
    return -(top + math.log(np.exp(s - top).sum())) / beta + 0.5 * float(xi @ xi)


def rel_error(state: np.ndarray, x: np.ndarray) -> float:
    xf = np.asarray(x, dtype=np.float64)
    return float(np.linalg.norm(state - xf) / np.linalg.norm(xf))


def run_pattern(X, i, beta, criterion, seed, kind):
    """(success, r, converged, steps) of pattern i under ``criterion`` (duck-typed: name, eps,
    steps, noise, max_steps, tol)."""
    X = np.asarray(X, dtype=np.float64)
    name = criterion.name
    state = cue(X[i], getattr(criterion, "noise", 0.0), seed, i, kind)
    limit = criterion.max_steps if name == "fixed-point" else criterion.steps
    tol = criterion.tol if name == "fixed-point" else 1e-12
    moved = math.inf
    done = 0
    while done < limit:
        new = update(X, state, beta)
        moved = np.linalg.norm(new - state) / np.linalg.norm(state)
        state = new
        done += 1
        if name == "fixed-point" and moved < tol:
            break
    r = rel_error(state, X[i])
    converged = moved < tol
    if name == "sign":
        ok = bool(np.all(state * X[i] > 0))
    elif name == "fixed-point":
        ok = converged and r <= criterion.eps
    else:
        ok = r <= criterion.eps
    return ok, r, converged, done


def is_stored(X, beta, criterion, seed, kind):
    """(stored, per-pattern results) for the whole set X."""
    results = [run_pattern(X, i, beta, criterion, seed, kind) for i in range(len(X))]
    successes = sum(ok for ok, *_ in results)
    needed = max(math.ceil(criterion.threshold * len(X) * (1 - 1e-12)), 1)
    return successes >= needed, results


def separation(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    out = []
    for i in range(len(X)):
        others = [float(X[i] @ X[j]) for j in range(len(X)) if j != i]
        out.append(float(X[i] @ X[i]) - max(others) if others else math.inf)
    return np.array(out)


def min_hamming(X) -> int:
    """The smallest Hamming distance between two +-1 rows, counted position by position (exact).
    Their largest cosine is (N - 2 d) / N: x_i.x_j = N - 2 d(i, j) and |x_i|^2 = N."""
    X = np.asarray(X)
    assert np.isin(X, (-1, 1)).all()
    return min(naive.hamming(X[i], X[j]) for i in range(len(X)) for j in range(i + 1, len(X)))


def max_cosine(X) -> float:
    """The largest cosine between two rows, pair by pair in float64: x_i.x_j / (|x_i| |x_j|)."""
    X = np.asarray(X, dtype=np.float64)
    return max(float(X[i] @ X[j]) / (math.sqrt(X[i] @ X[i]) * math.sqrt(X[j] @ X[j]))
               for i in range(len(X)) for j in range(i + 1, len(X)))
