"""Slow, obviously-correct twins of the pairwise family's kernels and rules (docs/theory.md
section 11), straight from the definitions: fields recomputed at every visit, the literature's
formulas written out with explicit sums, pure-Python PRNG (tests/naive.py).

Nothing here uses the package's kernels. Ties in the float decisions: |y_i h_i| <= TIE_RTOL
max_k sum_j |W_kj| (the matrix's scale, the same for every unit) keeps the state (the package's
convention for the dynamics, docs/theory.md section 11).
"""

from __future__ import annotations

import numpy as np

try:  # tests/ as a package
    from . import naive
except ImportError:
    import naive

TIE_RTOL = 1e-9


def tie(w: np.ndarray, i: int) -> float:
    """The tie width of unit i: TIE_RTOL times the largest sum_j |W_kj| over the rows k."""
    return TIE_RTOL * max(float(sum(abs(v) for v in row)) for row in np.asarray(w))


def hebbian(X: np.ndarray, diagonal: bool = False) -> np.ndarray:
    """W_ij = sum_mu xi_mu,i xi_mu,j, W_ii = 0 (or P with ``diagonal``)."""
    X = np.asarray(X, dtype=np.int64)
    p, n = X.shape
    w = np.zeros((n, n))
    for mu in range(p):
        for i in range(n):
            for j in range(n):
                if i != j or diagonal:
                    w[i, j] += X[mu, i] * X[mu, j]
    return w


def storkey(X: np.ndarray) -> np.ndarray:
    """Storkey (1997): for each pattern in order, for i != j,
    W_ij += (xi_i xi_j - xi_i h_ji - h_ij xi_j) / N with h_ij = sum_{k != i, j} W_ik xi_k
    (all h from the W before this pattern)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[1]
    w = np.zeros((n, n))
    for xi in X:
        h = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                h[i, j] = sum(w[i, k] * xi[k] for k in range(n) if k != i and k != j)
        new = w.copy()
        for i in range(n):
            for j in range(n):
                if i != j:
                    new[i, j] += (xi[i] * xi[j] - xi[i] * h[j, i] - h[i, j] * xi[j]) / n
        w = new
    return w


def pinv(X: np.ndarray) -> np.ndarray:
    """The projector onto the patterns' span, X^+ X (numpy's SVD pseudo-inverse), zero diagonal."""
    X = np.asarray(X, dtype=np.float64)
    w = np.linalg.pinv(X) @ X
    np.fill_diagonal(w, 0.0)
    return w


def palimpsest(X: np.ndarray, lam: float) -> np.ndarray:
    """W = sum_t lam^(L-1-t) xi_t xi_t^T (pattern t of L, newest weight 1), zero diagonal."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[1]
    w = np.zeros((n, n))
    for xi in X:
        w = lam * w + np.outer(xi, xi)
    np.fill_diagonal(w, 0.0)
    return w


def perceptron(X: np.ndarray, margin: float, max_epochs: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit i: epochs over the patterns in order; when xi_i (w . xi) <= margin |w|, w += xi_i xi
    (w_ii stays 0); stop after an epoch without an update. Returns (W, epochs, negative = not
    converged)."""
    X = np.asarray(X, dtype=np.int64)
    p, n = X.shape
    w = np.zeros((n, n))
    epochs = np.zeros(n, dtype=np.int64)
    for i in range(n):
        row = np.zeros(n, dtype=np.int64)
        done = False
        used = 0
        for epoch in range(max_epochs):
            updates = 0
            for mu in range(p):
                s = X[mu, i] * int(row @ X[mu])
                if s <= margin * np.sqrt(float(row @ row)):
                    row += X[mu, i] * X[mu]
                    row[i] = 0
                    updates += 1
            used = epoch + 1
            if updates == 0:
                done = True
                break
        w[i] = row
        epochs[i] = used if done else -used
    return w, epochs


def stable_mask(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Per pattern: xi_i (W xi)_i >= 0 for every unit, one unit at a time."""
    X = np.asarray(X, dtype=np.int64)
    out = []
    for xi in X:
        out.append(all(xi[i] * sum(w[i, j] * xi[j] for j in range(len(xi))) >= -tie(w, i)
                       for i in range(len(xi))))
    return np.array(out, dtype=bool)


def relax(w: np.ndarray, y: np.ndarray, orders, max_sweeps: int):
    """Sweeps in the given orders; unit i flips when y_i (W y)_i < -tie (h recomputed at each visit).
    Returns (final y, sweeps, converged)."""
    y = np.array(y, dtype=np.int64)
    orders = iter(orders)
    for sweep in range(max_sweeps):
        flips = 0
        for i in next(orders):
            if y[i] * float(w[i] @ y) < -tie(w, i):
                y[i] = -y[i]
                flips += 1
        if flips == 0:
            return y, sweep + 1, True
    return y, max_sweeps, False


def relax_prefix(w: np.ndarray, X: np.ndarray, n_flip: int, max_sweeps: int, seed: int):
    """Every pattern from its cue (the binary family's cues and sweep orders, tests/naive.py).
    Returns (final overlaps, sweeps, converged)."""
    X = np.asarray(X, dtype=np.int64)
    n = X.shape[1]
    final, sweeps, converged = [], [], []
    for nu in range(len(X)):
        rng = naive.SplitMix64(seed, nu)
        y = naive.flip_distinct(X[nu], n_flip, rng)
        y, used, done = relax(w, y, naive.sweep_orders(n, rng), max_sweeps)
        final.append(int(X[nu] @ y))
        sweeps.append(used)
        converged.append(done)
    return np.array(final), np.array(sweeps), np.array(converged)


def random_state(n: int, rng: naive.SplitMix64) -> np.ndarray:
    """+-1 per unit from the top bit of each splitmix64 output."""
    return np.array([1 if rng.next() >> 63 else -1 for _ in range(n)], dtype=np.int64)


def unlearn(w: np.ndarray, steps: int, eps: float, seed: int, max_sweeps: int) -> np.ndarray:
    """Hopfield, Feinstein & Palmer (1983): step k relaxes a random state (stream k of seed) to s,
    then W -= eps s s^T off the diagonal."""
    w = np.array(w, dtype=np.float64)
    n = w.shape[0]
    for k in range(steps):
        rng = naive.SplitMix64(seed, k)
        y = random_state(n, rng)
        s, _, _ = relax(w, y, naive.sweep_orders(n, rng), max_sweeps)
        delta = eps * np.outer(s, s)
        np.fill_diagonal(delta, 0.0)
        w = w - delta
    return w
