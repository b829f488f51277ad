"""Slow, obviously-correct twins of the census kernels (capacity_cli/kernels/census.py) and of its
classification, built on tests/naive.py's exact energies and dynamics. Nothing here uses the
package's kernels or tables."""

from __future__ import annotations

import itertools
from decimal import Decimal, localcontext

import numpy as np

try:
    from . import naive
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    import naive


def relax_starts(model, X: np.ndarray, starts: np.ndarray, seed: int, max_sweeps: int):
    """Start s relaxed by naive.relax with sweep orders from SplitMix64(seed, s).
    Returns (finals, sweeps, converged)."""
    n = X.shape[1]
    finals, sweeps, converged = [], [], []
    for s, start in enumerate(starts):
        rng = naive.SplitMix64(seed, s)
        y, used, done = naive.relax(model, X, start, naive.sweep_orders(n, rng), max_sweeps)
        finals.append(y)
        sweeps.append(used)
        converged.append(done)
    return (np.array(finals, dtype=np.int8).reshape(len(starts), n), np.array(sweeps, dtype=np.int64),
            np.array(converged, dtype=bool))


def is_fixed_point(model, X: np.ndarray, y: np.ndarray) -> bool:
    """No single flip strictly lowers the energy (exact)."""
    return all(g >= 0 for g in naive.flip_gains(model, X, y))


def all_states(n: int) -> np.ndarray:
    """Every +-1 state of n units (2^n rows, int8)."""
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    return np.where(bits == 1, 1, -1).astype(np.int8)


def fixed_points(model, X: np.ndarray) -> set[bytes]:
    """Every fixed point of the model, by checking every state (small N only)."""
    return {y.tobytes() for y in all_states(X.shape[1]) if is_fixed_point(model, X, y)}


def hebbian_fixed_points(X: np.ndarray) -> set[bytes]:
    """Hopfield 1982: W = X^T X, zero diagonal; y is a fixed point iff y_i (W y)_i >= 0 for every i.
    Every state checked, in exact integers (vectorised; N <= 16)."""
    X = np.asarray(X, dtype=np.int64)
    W = X.T @ X
    np.fill_diagonal(W, 0)
    S = all_states(X.shape[1]).astype(np.int64)
    ok = ((S @ W) * S >= 0).all(axis=1)
    return {y.astype(np.int8).tobytes() for y in S[ok]}


def stabilities(model, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """e_i = dE_i / 2 (exact flip gains); for exp multiplied by e^(-beta max_mu m_mu), the kernel's
    per-state scale."""
    gains = naive.flip_gains(model, X, y)
    if model.name != "exp":
        return np.array([float(g) / 2 for g in gains])
    top = int(naive.overlaps(X, y).max())
    with localcontext() as ctx:
        ctx.prec = naive.EXP_DIGITS
        scale = (-Decimal(model.beta) * top).exp()
        return np.array([float(Decimal(g) * scale / 2) for g in gains])


def hebbian_field_stabilities(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y_i h_i with h = W y, W = X^T X with zero diagonal (exact integers)."""
    X = np.asarray(X, dtype=np.int64)
    W = X.T @ X
    np.fill_diagonal(W, 0)
    y = np.asarray(y, dtype=np.int64)
    return y * (W @ y)


def is_mixture(y: np.ndarray, X: np.ndarray, k: int) -> bool:
    """y = sign(sum_j e_j xi_j) for some k distinct patterns and signs: every subset, every sign."""
    X = np.asarray(X, dtype=np.int64)
    for subset in itertools.combinations(range(X.shape[0]), k):
        for signs in itertools.product((1, -1), repeat=k):
            total = sum(e * X[j] for e, j in zip(signs, subset, strict=True))
            if np.array_equal(np.sign(total), np.asarray(y, dtype=np.int64)):
                return True
    return False


CLASSES = ("stored", "reversed", "prototype", "mixture3", "mixture5", "other")


def classify(y: np.ndarray, X: np.ndarray, prototypes=None) -> str:
    """The first class of CLASSES that y belongs to."""
    y = np.asarray(y)
    if any(np.array_equal(y, row) for row in X):
        return "stored"
    if any(np.array_equal(y, -row) for row in X):
        return "reversed"
    if prototypes is not None and any(np.array_equal(y, s * row) for row in prototypes for s in (1, -1)):
        return "prototype"
    if len(X) >= 3 and is_mixture(y, X, 3):
        return "mixture3"
    if len(X) >= 5 and is_mixture(y, X, 5):
        return "mixture5"
    return "other"
