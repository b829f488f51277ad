"""Naive twins of retrieval curves, per-pattern outcomes and energy traces (capacity_cli.curves),
from the definitions in docs/theory.md sections 1, 2 and 16, on top of tests/naive.py.

Nothing here uses the package's kernels: recalls are naive.relax's asynchronous sweeps with the
documented splitmix64 stream, mixtures are found by trying every triple and every sign pattern, and
a curve is recomputed from scratch at every P.
"""

from __future__ import annotations

import itertools

import numpy as np

try:
    from . import naive
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    import naive

CLASSES = ("pattern", "reversed", "mixture3", "other")


def recall_trace(model, X: np.ndarray, nu: int, n_flip: int, max_sweeps: int, seed: int):
    """Recall of pattern nu over all rows of X: the cue (n_flip flips from SplitMix64(seed, nu)),
    then asynchronous sweeps. Returns (states after sweep 0 (the cue), 1, ..., sweeps, converged)."""
    X = np.asarray(X)
    n = X.shape[1]
    rng = naive.SplitMix64(seed, nu)
    y = naive.flip_distinct(X[nu], n_flip, rng)
    orders = naive.sweep_orders(n, rng)
    states = [y.copy()]
    for sweep in range(max_sweeps):
        order = next(orders)
        flips = 0
        for i in order:
            if naive.flip_gain(model, X, y, int(i)) < 0:
                y[i] = -y[i]
                flips += 1
        states.append(y.copy())
        if flips == 0:
            return states, sweep + 1, True
    return states, max_sweeps, False


def is_mixture3(state: np.ndarray, X: np.ndarray) -> bool:
    """state == sign(e_a xi_a + e_b xi_b + e_c xi_c) for some distinct a, b, c and signs e."""
    X = np.asarray(X, dtype=np.int64)
    for a, b, c in itertools.combinations(range(len(X)), 3):
        for e in itertools.product((1, -1), repeat=3):
            if np.array_equal(np.sign(e[0] * X[a] + e[1] * X[b] + e[2] * X[c]), state):
                return True
    return False


def final_class(state: np.ndarray, X: np.ndarray, nu: int) -> str:
    """The class of pattern nu's final state (first match wins)."""
    if np.array_equal(state, X[nu]):
        return "pattern"
    if np.array_equal(state, -np.asarray(X[nu])):
        return "reversed"
    return "mixture3" if is_mixture3(state, X) else "other"


def curve_successes(model, X: np.ndarray, ps, criterion: str, n_flip: int = 0, target: int | None = None,
                    max_sweeps: int = 100, seed: int = 0) -> list[int]:
    """Successes at every P of ps, each recomputed from scratch over the prefix X[:P]: fixed points
    (stable), or recalls whose final overlap reaches ``target``."""
    out = []
    for p in ps:
        if criterion == "stable":
            out.append(int(naive.stable_mask(model, X[:p]).sum()))
        else:
            final, _, _ = naive.relax_prefix(model, X, p, n_flip, max_sweeps, seed)
            out.append(int((final >= target).sum()))
    return out
