"""Slow, obviously-correct plain-numpy twins of hopcap's kernels, straight from theory.md sections 1-2.

Nothing here uses the package's kernels or gain tables. ``model`` is a ``BinaryDAM`` (or anything with
``name``, ``degree`` and ``beta``); only those three fields are read. F is computed from its
definition, unscaled:

| model    | F(x)           | arithmetic here                                             |
|----------|----------------|-------------------------------------------------------------|
| hebbian  | x^2 / 2        | exact (fractions.Fraction)                                  |
| poly a   | x^a            | exact (Python ints)                                         |
| rectpoly | max(x, 0)^a    | exact (Python ints)                                         |
| exp beta | exp(beta x)    | decimal.Decimal with 400 significant digits (no overflow or |
|          |                | underflow at any N: Decimal exponents reach +-999999)       |

Exact energies make ties exact. For exp, a flip gain's terms are first netted per overlap value (a
Counter of exact integer counts): it is exactly 0 when every net count is 0 (e^(beta x) at distinct x
are linearly independent over the integers for rational beta != 0), and otherwise its value is
summed with 400 digits, far beyond any near-tie a test builds.

(A float64 twin using the package's scaled form exp(beta (x - N)) would underflow to 0 for every
term once beta (N - max_mu m_mu) > ~745, making every flip a "tie": the twin must not share that.)
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

#: Significant digits of the exp energy.
EXP_DIGITS = 400


# --------------------------------------------------------------------------------------------------
# Energies and flip gains
# --------------------------------------------------------------------------------------------------

def overlaps(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """m_mu = xi_mu . y, exact integers."""
    return np.asarray(X, dtype=np.int64) @ np.asarray(y, dtype=np.int64)


@functools.cache
def F(name: str, degree: int | None, beta: float | None, x: int):
    """F(x) from its definition: Fraction / int (exact), or Decimal (exp, 50 digits)."""
    x = int(x)
    if name == "hebbian":
        return Fraction(x * x, 2)
    if name == "poly":
        return x**degree
    if name == "rectpoly":
        return max(x, 0) ** degree
    if name == "exp":
        with localcontext() as ctx:
            ctx.prec = EXP_DIGITS
            return (Decimal(beta) * x).exp()
    raise ValueError(name)


def F_terms(model, m: Iterable[int]) -> list:
    """[F(m_mu)] for each overlap."""
    return [F(model.name, model.degree, model.beta, int(v)) for v in m]


def _sum(terms: list):
    if terms and isinstance(terms[0], Decimal):
        with localcontext() as ctx:
            ctx.prec = EXP_DIGITS
            return sum(terms, Decimal(0))
    return sum(terms)


def energy(model, X: np.ndarray, y: np.ndarray):
    """E(y) = -sum_mu F(xi_mu . y), unscaled (exact for integer models, 50 digits for exp)."""
    return -_sum(F_terms(model, overlaps(X, y)))


def F_prime(name: str, degree: int | None, beta: float | None, x: int):
    """F'(x) from its definition (exact; exp as a 400-digit Decimal)."""
    x = int(x)
    if name == "hebbian":
        return x
    if name == "poly":
        return degree * x ** (degree - 1)
    if name == "rectpoly":
        return degree * max(x, 0) ** (degree - 1)
    with localcontext() as ctx:
        ctx.prec = EXP_DIGITS
        return Decimal(beta) * (Decimal(beta) * x).exp()


def field_value(model, X: np.ndarray, y: np.ndarray, i: int):
    """y_i h_i with h_i = sum_mu xi_mu,i F'(xi_mu . y) (Krotov & Hopfield 2021, the field rule): unit i
    flips when it is < 0. Exact; for exp the terms are netted per overlap value first (0 exactly when
    they cancel), then summed with 400 digits."""
    X = np.asarray(X, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    m = X @ y
    s = X[:, i] * y[i]
    if model.name != "exp":
        return sum(int(sk) * F_prime(model.name, model.degree, None, mk) for sk, mk in zip(s, m, strict=True))
    net = Counter()
    for sk, mk in zip(s, m, strict=True):
        net[int(mk)] += int(sk)
    if not any(net.values()):
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = EXP_DIGITS
        return sum((c * F_prime("exp", None, model.beta, x) for x, c in net.items() if c), Decimal(0))


def flip_gain(model, X: np.ndarray, y: np.ndarray, i: int):
    """dE_i = E(y with y_i flipped) - E(y), by literally flipping and recomputing both energies; for a
    model with ``rule == "field"`` the field rule's y_i h_i instead (:func:`field_value`).

    Exact (int / Fraction) for integer models. For exp a Decimal: exactly 0 when the terms cancel
    overlap value by overlap value, else their sum to 400 digits.
    """
    if getattr(model, "rule", "energy") == "field":
        return field_value(model, X, y, i)
    y = np.asarray(y, dtype=np.int64)
    flipped = y.copy()
    flipped[i] = -flipped[i]
    m_before, m_after = overlaps(X, y), overlaps(X, flipped)
    if model.name != "exp":
        return (-_sum(F_terms(model, m_after))) - (-_sum(F_terms(model, m_before)))
    net = Counter(int(v) for v in m_before)
    net.subtract(int(v) for v in m_after)
    if not any(net.values()):
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = EXP_DIGITS
        return sum((count * F("exp", None, model.beta, x) for x, count in net.items() if count),
                   Decimal(0))


def flip_gains(model, X: np.ndarray, y: np.ndarray) -> list:
    """[dE_i for i in range(N)] (see :func:`flip_gain`)."""
    return [flip_gain(model, X, y, i) for i in range(np.asarray(X).shape[1])]


def stable_mask(model, X: np.ndarray) -> np.ndarray:
    """Pattern nu is stable iff no single flip strictly lowers the energy at y = xi_nu (ties stable)."""
    X = np.asarray(X)
    return np.array([all(g >= 0 for g in flip_gains(model, X, X[nu])) for nu in range(X.shape[0])],
                    dtype=bool)


def min_gains(model, X: np.ndarray) -> list:
    """min_i dE_nu,i for every stored pattern nu (exact for integer models)."""
    X = np.asarray(X)
    return [min(flip_gains(model, X, X[nu])) for nu in range(X.shape[0])]


def hebbian_stable_mask(X: np.ndarray) -> np.ndarray:
    """Hopfield 1982: W = X^T X with zero diagonal, h = W y; y = xi_nu is stable iff y_i h_i >= 0."""
    X = np.asarray(X, dtype=np.int64)
    W = X.T @ X
    np.fill_diagonal(W, 0)
    out = []
    for y in X:
        h = W @ y
        out.append(bool(np.all(y * h >= 0)))
    return np.array(out, dtype=bool)


def hebbian_diagonal_stable_mask(X: np.ndarray) -> np.ndarray:
    """W = X^T X *with* its diagonal (W_ii = P), h = W y: y = xi_nu is a fixed point of y <- sign(h)
    (ties keep the state) iff y_i h_i >= 0 (modern.md E's named variant; the hebbian field rule)."""
    X = np.asarray(X, dtype=np.int64)
    W = X.T @ X
    return np.array([bool(np.all(y * (W @ y) >= 0)) for y in X], dtype=bool)


def row_bound(model, X: np.ndarray, nu: int) -> int:
    """S_nu = 2 sum_mu max(|g(m)|, |g(m+2)|), g(m) = F(m) - F(m-2), m = xi_mu . xi_nu, for an
    integer model with F scaled to integers (hebbian: x^2): a bound on |2 dE_nu,i| for every i."""
    total = 0
    for m in overlaps(X, np.asarray(X)[nu]):
        f = [2 * v if model.name == "hebbian" else v for v in F_terms(model, [m - 2, m, m + 2])]
        total += 2 * max(abs(f[1] - f[0]), abs(f[2] - f[1]))
    return int(total)


# --------------------------------------------------------------------------------------------------
# Dynamics
# --------------------------------------------------------------------------------------------------

def relax(model, X: np.ndarray, y: np.ndarray, order_per_sweep: Iterable, max_sweeps: int):
    """Asynchronous sweeps: sweep s visits units in the order ``order_per_sweep[s]`` (any iterable,
    consumed lazily) and flips unit i only when dE_i < 0 strictly. Stops after a sweep with no flip
    or after ``max_sweeps`` sweeps.

    Returns (final y, sweeps run, converged).
    """
    y = np.array(y, dtype=np.int64)
    orders = iter(order_per_sweep)
    for sweep in range(max_sweeps):
        order = next(orders)
        flips = 0
        for i in order:
            if flip_gain(model, X, y, int(i)) < 0:
                y[i] = -y[i]
                flips += 1
        if flips == 0:
            return y, sweep + 1, True
    return y, max_sweeps, False


# splitmix64, the package's documented random stream, in Python integers.
_MASK = 2**64 - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


class SplitMix64:
    """Python twin of the per-pattern splitmix64 stream: state = seed ^ (index * MIX2), advanced once."""

    def __init__(self, seed: int, index: int):
        self.state = (int(seed) ^ ((int(index) * _MIX2) & _MASK)) & _MASK
        self.next()

    def next(self) -> int:
        self.state = (self.state + _GOLDEN) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * _MIX1) & _MASK
        z = ((z ^ (z >> 27)) * _MIX2) & _MASK
        return z ^ (z >> 31)

    def below(self, bound: int) -> int:
        """Uniform integer in [0, bound) from the top 53 bits."""
        u = float(self.next() >> 11) * (1.0 / 9007199254740992.0)
        return int(u * bound)


def shuffle(order: list, rng: SplitMix64) -> None:
    """Fisher-Yates, in place, j = n-1 .. 1."""
    for j in range(len(order) - 1, 0, -1):
        k = rng.below(j + 1)
        order[j], order[k] = order[k], order[j]


def flip_distinct(y: np.ndarray, n_flip: int, rng: SplitMix64) -> np.ndarray:
    """Copy of y with n_flip distinct units flipped (partial Fisher-Yates over unit indices)."""
    y = np.array(y, dtype=np.int64)
    idx = list(range(len(y)))
    for j in range(n_flip):
        k = j + rng.below(len(y) - j)
        idx[j], idx[k] = idx[k], idx[j]
        y[idx[j]] = -y[idx[j]]
    return y


def sweep_orders(n: int, rng: SplitMix64):
    """The endless sequence of sweep orders: one order array, reshuffled in place before each sweep."""
    order = list(range(n))
    while True:
        shuffle(order, rng)
        yield list(order)


def relax_prefix(model, X: np.ndarray, p: int, n_flip: int, max_sweeps: int, seed: int):
    """For each nu < p: cue = xi_nu with n_flip random flips, then :func:`relax` over the first p
    patterns, randomness from SplitMix64(seed, nu). Returns (final overlaps m_nu, sweeps, converged)."""
    X = np.asarray(X)[:p]
    n = X.shape[1]
    final, sweeps, converged = [], [], []
    for nu in range(p):
        rng = SplitMix64(seed, nu)
        y = flip_distinct(X[nu], n_flip, rng)
        y, used, done = relax(model, X, y, sweep_orders(n, rng), max_sweeps)
        final.append(int(np.dot(X[nu].astype(np.int64), y)))
        sweeps.append(used)
        converged.append(done)
    return np.array(final, dtype=np.int64), np.array(sweeps, dtype=np.int64), np.array(converged)


# --------------------------------------------------------------------------------------------------
# Bits and distances
# --------------------------------------------------------------------------------------------------

def hamming(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.sum(np.asarray(a) != np.asarray(b)))


def pairwise_distance_stats(X: np.ndarray) -> tuple[int, float]:
    """(min, mean) Hamming distance over all pairs r < s."""
    X = np.asarray(X)
    ds = [hamming(X[r], X[s]) for r in range(len(X)) for s in range(r + 1, len(X))]
    return min(ds), sum(ds) / len(ds)


def distance_at_least(X: np.ndarray, count: int, candidate: np.ndarray, min_distance: int) -> bool:
    return all(hamming(X[r], candidate) >= min_distance for r in range(count))


# --------------------------------------------------------------------------------------------------
# Criteria and search
# --------------------------------------------------------------------------------------------------

def set_is_stored(n_success: int, p: int, threshold: float) -> bool:
    """Success fraction n_success / p >= threshold, the threshold read as the decimal it is written as."""
    return Fraction(n_success, p) >= Fraction(repr(float(threshold)))


def stored_table(is_stored: Callable[[int], bool], limit: int) -> list:
    """[None, is_stored(1), ..., is_stored(limit)]."""
    return [None] + [bool(is_stored(p)) for p in range(1, limit + 1)]


def largest_storable_linear(is_stored: Callable[[int], bool], limit: int) -> tuple[int, bool]:
    """Test P = 1, 2, ... in turn: the largest P <= limit such that every prefix 1..P is stored, and
    whether that is the limit itself (capped). For a monotone predicate this is the unique P with
    P stored and P + 1 not stored (or P = limit)."""
    p = 0
    while p < limit and is_stored(p + 1):
        p += 1
    return p, p == limit
