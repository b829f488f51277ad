"""Slow, obviously-correct twins of the kernel family (docs/theory.md section 10), straight from the
definitions: one pattern at a time, features by explicit normalisation, the separation loss by an
explicit loop over pairs. Cues come from tests/naive_softmax.py (pure-Python PRNG).
"""

from __future__ import annotations

import math

import numpy as np

try:  # tests/ as a package
    from . import naive_softmax as nsm
except ImportError:
    import naive_softmax as nsm


def phi(w, v) -> np.ndarray:
    """|v| W v / |W v| (v itself when w is None)."""
    v = np.asarray(v, dtype=np.float64)
    if w is None:
        return v.copy()
    img = w @ v
    norm = math.sqrt(float(img @ img))
    return img * (math.sqrt(float(v @ v)) / norm) if norm > 0 else np.zeros_like(img)


def update(X, w, xi, beta) -> np.ndarray:
    """X^T softmax(beta <phi(x_mu), phi(xi)>) for one state."""
    X = np.asarray(X, dtype=np.float64)
    f = phi(w, xi)
    s = np.array([beta * float(phi(w, x) @ f) for x in X])
    return X.T @ nsm.softmax(s)


def run_pattern(X, w, i, beta, criterion, seed, kind):
    """(success, r) of pattern i under retrieve-eps or sign (K updates from the cue)."""
    X = np.asarray(X, dtype=np.float64)
    state = nsm.cue(X[i], getattr(criterion, "noise", 0.0), seed, i, kind)
    for _ in range(criterion.steps):
        state = update(X, w, state, beta)
    r = nsm.rel_error(state, X[i])
    ok = bool(np.all(state * X[i] > 0)) if criterion.name == "sign" else r <= criterion.eps
    return ok, r


def is_stored(X, w, beta, criterion, seed, kind):
    results = [run_pattern(X, w, i, beta, criterion, seed, kind) for i in range(len(X))]
    successes = sum(ok for ok, _ in results)
    needed = max(math.ceil(criterion.threshold * len(X) * (1 - 1e-12)), 1)
    return successes >= needed, results


def separation_loss(w, X, tau) -> float:
    """(1/P) log[ 2/(P(P-1)) sum_{mu<nu} exp(<f_mu, f_nu>/tau) ], summed pair by pair."""
    X = np.asarray(X, dtype=np.float64)
    f = [w @ x / np.linalg.norm(w @ x) for x in X]
    p = len(X)
    total = 0.0
    for a in range(p):
        for b in range(a + 1, p):
            total += math.exp(float(f[a] @ f[b]) / tau)
    return math.log(2.0 * total / (p * (p - 1))) / p


def min_angle_deg(F) -> float:
    best = math.inf
    for a in range(len(F)):
        for b in range(a + 1, len(F)):
            c = F[a] @ F[b] / (np.linalg.norm(F[a]) * np.linalg.norm(F[b]))
            best = min(best, math.degrees(math.acos(max(-1.0, min(1.0, c)))))
    return best
