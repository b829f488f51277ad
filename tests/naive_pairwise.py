"""Slow, obviously-correct twins of the pairwise family's kernels and rules (docs/theory.md
section 11), straight from the definitions: fields recomputed at every visit, the literature's
formulas written out with explicit sums, pure-Python PRNG (tests/naive.py).

Nothing here uses the package's kernels. Ties in the float decisions: |y_i h_i| <= TIE_RTOL
max_k sum_j |W_kj| (the matrix's scale, the same for every unit) keeps the state (the package's
convention for the dynamics, docs/theory.md section 11).
"""

from __future__ import annotations

from fractions import Fraction

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


def relax_prefix(w: np.ndarray, X: np.ndarray, n_flip: int, max_sweeps: int, seed: int, relax_one=None):
    """Every pattern from its cue (the binary family's cues and sweep orders, tests/naive.py), relaxed
    by ``relax_one`` (default :func:`relax`). Returns (final overlaps, sweeps, converged)."""
    relax_one = relax_one or relax
    X = np.asarray(X, dtype=np.int64)
    n = X.shape[1]
    final, sweeps, converged = [], [], []
    for nu in range(len(X)):
        rng = naive.SplitMix64(seed, nu)
        y = naive.flip_distinct(X[nu], n_flip, rng)
        y, used, done = relax_one(w, y, naive.sweep_orders(n, rng), max_sweeps)
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


# --------------------------------------------------------------------------------------------------
# exact twins: the rules' couplings and the decisions in rational arithmetic (fractions.Fraction)
# --------------------------------------------------------------------------------------------------


def independent_rows(X: np.ndarray) -> list[int]:
    """Indices of a maximal set of linearly independent rows of X (in order), by exact
    elimination: a row is kept when its remainder against the kept rows is not zero."""
    kept: list[list[Fraction]] = []  # reduced kept rows, each with its pivot column
    pivots: list[int] = []
    out = []
    for r, row in enumerate(np.asarray(X, dtype=np.int64)):
        v = [Fraction(int(a)) for a in row]
        for piv, k in zip(pivots, kept, strict=True):
            if v[piv] != 0:
                f = v[piv] / k[piv]
                v = [a - f * b for a, b in zip(v, k, strict=True)]
        nonzero = [j for j, a in enumerate(v) if a != 0]
        if nonzero:
            kept.append(v)
            pivots.append(nonzero[0])
            out.append(r)
    return out


def inverse(G: list[list[Fraction]]) -> list[list[Fraction]]:
    """The inverse of a non-singular square matrix by Gauss-Jordan elimination in fractions."""
    n = len(G)
    a = [[Fraction(v) for v in row] + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(G)]
    for c in range(n):
        piv = next(r for r in range(c, n) if a[r][c] != 0)
        a[c], a[piv] = a[piv], a[c]
        lead = a[c][c]
        a[c] = [v / lead for v in a[c]]
        for r in range(n):
            if r != c and a[r][c] != 0:
                f = a[r][c]
                a[r] = [v - f * w for v, w in zip(a[r], a[c], strict=True)]
    return [row[n:] for row in a]


def pinv_exact(X: np.ndarray) -> list[list[Fraction]]:
    """The projector onto the span of the patterns, B^T (B B^T)^-1 B for B the independent rows
    of X (any basis of the span gives the same projector), zero diagonal, in fractions."""
    X = np.asarray(X, dtype=np.int64)
    B = [[int(a) for a in X[r]] for r in independent_rows(X)]
    n = X.shape[1]
    G = [[sum(a * b for a, b in zip(u, v, strict=True)) for v in B] for u in B]
    Ginv = inverse(G)
    r = len(B)
    # P_ij = sum_ab B_ai Ginv_ab B_bj
    left = [[sum(B[a][i] * Ginv[a][b] for a in range(r)) for b in range(r)] for i in range(n)]
    return [[Fraction(0) if i == j else sum(left[i][b] * B[b][j] for b in range(r)) for j in range(n)]
            for i in range(n)]


def pinv_diagonal_exact(X: np.ndarray) -> list[Fraction]:
    """P_ii of the projector onto the span (before the diagonal is zeroed)."""
    X = np.asarray(X, dtype=np.int64)
    B = [[int(a) for a in X[r]] for r in independent_rows(X)]
    G = [[sum(a * b for a, b in zip(u, v, strict=True)) for v in B] for u in B]
    Ginv = inverse(G)
    r = len(B)
    return [sum(B[a][i] * Ginv[a][b] * B[b][i] for a in range(r) for b in range(r))
            for i in range(X.shape[1])]


def storkey_exact(X: np.ndarray) -> list[list[Fraction]]:
    """:func:`storkey` in fractions: the literal formula with the explicit sums h_ij."""
    X = np.asarray(X, dtype=np.int64)
    n = X.shape[1]
    w = [[Fraction(0)] * n for _ in range(n)]
    for xi in X:
        xi = [int(a) for a in xi]
        h = [[sum((w[i][k] * xi[k] for k in range(n) if k != i and k != j), Fraction(0)) for j in range(n)]
             for i in range(n)]
        w = [[w[i][j] + (Fraction(xi[i] * xi[j]) - xi[i] * h[j][i] - h[i][j] * xi[j]) / n if i != j
              else Fraction(0) for j in range(n)] for i in range(n)]
    return w


def palimpsest_exact(X: np.ndarray, lam: float) -> list[list[Fraction]]:
    """:func:`palimpsest` in fractions, lambda the float64 ``lam`` exactly."""
    X = np.asarray(X, dtype=np.int64)
    n = X.shape[1]
    lam = Fraction(lam)
    w = [[Fraction(0)] * n for _ in range(n)]
    for xi in X:
        w = [[lam * w[i][j] + int(xi[i]) * int(xi[j]) if i != j else Fraction(0) for j in range(n)]
             for i in range(n)]
    return w


def exact_stabilities(w, X: np.ndarray) -> list[list[Fraction]]:
    """y_i (W y)_i in exact arithmetic (W a matrix of ints or fractions) for each row y of X."""
    X = np.asarray(X, dtype=np.int64)
    n = X.shape[1]
    return [[int(y[i]) * sum((w[i][j] * int(y[j]) for j in range(n)), Fraction(0)) for i in range(n)]
            for y in X]


def exact_stable_mask(w, X: np.ndarray) -> np.ndarray:
    """Per pattern: y_i (W y)_i >= 0 for every unit in exact arithmetic (an exact tie keeps the
    state)."""
    return np.array([all(e >= 0 for e in row) for row in exact_stabilities(w, X)], dtype=bool)


def relax_exact(w, y: np.ndarray, orders, max_sweeps: int):
    """:func:`relax` with exact fields: unit i flips when y_i (W y)_i < 0 exactly."""
    y = [int(a) for a in y]
    n = len(y)
    orders = iter(orders)
    for sweep in range(max_sweeps):
        flips = 0
        for i in next(orders):
            if y[i] * sum((w[i][j] * y[j] for j in range(n)), Fraction(0)) < 0:
                y[i] = -y[i]
                flips += 1
        if flips == 0:
            return np.array(y), sweep + 1, True
    return np.array(y), max_sweeps, False


def relax_prefix_exact(w, X: np.ndarray, n_flip: int, max_sweeps: int, seed: int):
    """:func:`relax_prefix` with exact fields (:func:`relax_exact`)."""
    return relax_prefix(w, X, n_flip, max_sweeps, seed, relax_one=relax_exact)
