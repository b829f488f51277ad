"""Plain numpy implementations of hopcap's ``stable`` capacity search, for benchmarking.

Both baselines decide "is the prefix of P patterns stored?" (every one of the first P patterns is a
fixed point: no single flip strictly lowers E(y) = -sum_mu F(xi_mu . y), theory.md section 1) and are
plugged into :func:`capacity_cli.search.largest_storable`, so they test exactly the same sequence of
P values as hopcap and must return the same ``p_max`` and ``checks``.

* :func:`straightforward_checker`: per pattern nu, the flip gains of all N units from a P x N array,
  ``dE_i = sum_mu F(m_mu) - F(m_mu - 2 xi_mu,i y_i)`` with ``m = X y``.
* :func:`blocked_checker`: the two-matrix-product form
  ``dE_nu,i = D_nu + xi_nu,i (C X)_nu,i`` in row blocks with float64 BLAS, stopping at the first
  block that holds an unstable pattern, recomputed from scratch for every P.

Neither reuses anything between the P values the search tests (hopcap does: see
``capacity_cli.search.StabilityChecker``). Only the all-patterns criterion (threshold 1.0) is
implemented.

Arithmetic: float64 throughout. For the integer energies (hebbian, poly, rectpoly) every value is an
integer and :func:`float64_exact_limit` checks that no sum can pass 2^53, so decisions are exact. For
``exp`` the sign of the float64 sum decides, as a notebook would (F scaled by exp(-beta N) as hopcap
does); hopcap decides exactly, and the runner asserts that both agree on these random sets.

F is evaluated with repeated multiplication for integer powers, not ``x ** a`` on floats (numpy's
float power is about 40x slower than ``x * x * x`` and would flatter hopcap).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from capacity_cli.models import BinaryDAM

#: Rows of the blocked check per BLAS call.
BLOCK_ROWS = 256
_EXACT_FLOAT = 2.0**53


def _int_power(x: np.ndarray, a: int) -> np.ndarray:
    """x**a for a >= 1 by repeated squaring (exact for float64 integers below 2^53)."""
    result = None
    base = x
    while a:
        if a & 1:
            result = base if result is None else result * base
        a >>= 1
        if a:
            base = base * base
    return result


def energy(model: BinaryDAM, n: int) -> Callable[[np.ndarray], np.ndarray]:
    """F as a vectorised float64 function, scaled as hopcap scales it (decisions are scale-free).

    hebbian: x^2 (F = x^2/2 up to a factor 2), poly: x^a, rectpoly: max(x, 0)^a,
    exp: exp(beta (x - n)).
    """
    if model.name == "hebbian":
        return lambda x: x * x
    if model.name == "poly":
        return lambda x: _int_power(np.asarray(x, dtype=np.float64), model.degree)
    if model.name == "rectpoly":
        return lambda x: _int_power(np.maximum(np.asarray(x, dtype=np.float64), 0.0), model.degree)
    beta = model.beta
    return lambda x: np.exp(beta * (np.asarray(x, dtype=np.float64) - n))


def float64_exact_limit(model: BinaryDAM, n: int) -> int:
    """Largest P for which float64 sums of the integer energies' gains stay exact (< 2^53).

    Raises ValueError for integer models whose F itself leaves the exact float64 range at this N.
    Returns a huge number for ``exp`` (float64 throughout, see the module docstring).
    """
    if not model.is_integer:
        return 2**62
    f = energy(model, n)
    top = float(np.abs(f(np.arange(-n - 2, n + 3, dtype=np.float64))).max())
    if top >= _EXACT_FLOAT:
        raise ValueError(f"{model.label} at N={n}: F reaches {top:.3g}, beyond exact float64")
    # |gain term| <= 2 * top; a row's sums (D, C X) add at most P such terms.
    return int(_EXACT_FLOAT // (4 * top))


def _gain_tables(model: BinaryDAM, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """c(m) = (a + b)/2, d(m) = (a - b)/2, s(m) = max(|a|, |b|) at index m + n, m in [-n, n].

    a = F(m) - F(m-2) (the gain of a unit with xi_mu,i y_i = +1), b = F(m+2) - F(m).
    """
    f = energy(model, n)
    ms = np.arange(-n, n + 1, dtype=np.float64)
    fm = f(ms)
    a = fm - f(ms - 2)
    b = f(ms + 2) - fm
    return (a + b) / 2, (a - b) / 2, np.maximum(np.abs(a), np.abs(b))


def _check_exact(model: BinaryDAM, n: int, p: int) -> None:
    if p > float64_exact_limit(model, n):
        raise ValueError(f"{model.label} at N={n}: P={p} may leave exact float64 arithmetic")


def straightforward_checker(model: BinaryDAM, x: np.ndarray, n: int) -> Callable[[int], bool]:
    """is_stored(P) by the direct flip-gain formula, one P x N array per stored pattern.

    For nu = 0..P-1 with y = xi_nu: ``m = X_P y`` (P overlaps), ``S = X_P * y`` (S_mu,i =
    xi_mu,i y_i), gains ``g_i = sum_mu F(m_mu) - F(m_mu - 2 S_mu,i)`` (vectorised over i); pattern nu
    is stable iff every g_i >= 0 . Stops at the first unstable
    pattern. Cost O(P^2 N) per P with a large constant (several passes over a P x N array per nu).
    """
    f = energy(model, n)
    xf = np.ascontiguousarray(x, dtype=np.float64)

    def is_stored(p: int) -> bool:
        _check_exact(model, n, p)
        xp = xf[:p]
        for nu in range(p):
            y = xp[nu]
            m = xp @ y
            fm = f(m)
            gains = (fm[:, None] - f(m[:, None] - 2.0 * (xp * y))).sum(axis=0)
            if gains.min() < 0:
                return False
        return True

    return is_stored


def blocked_checker(model: BinaryDAM, x: np.ndarray, n: int,
                    block: int = BLOCK_ROWS) -> Callable[[int], bool]:
    """is_stored(P) by the two-matrix-product form in row blocks (float64 BLAS).

    For each block B of at most ``block`` rows: ``M_B = X_B X_P^T`` (overlaps, BLAS),
    ``C_B = c(M_B)``, ``D_B = sum_mu d(M_B)`` (c, d looked up in tables of (a+b)/2 and (a-b)/2 over
    m in [-N, N], identical to evaluating F on M), then ``dE_B = D_B + X_B * (C_B @ X_P)`` (BLAS);
    stop at the first block with a negative gain. Nothing is kept between P values.
    """
    c_tab, d_tab, _ = _gain_tables(model, n)
    xf = np.ascontiguousarray(x, dtype=np.float64)

    def is_stored(p: int) -> bool:
        _check_exact(model, n, p)
        xp = xf[:p]
        for start in range(0, p, block):
            xb = xp[start:start + block]
            idx = (xb @ xp.T).astype(np.intp)
            idx += n
            de = xb * (c_tab[idx] @ xp)
            de += d_tab[idx].sum(axis=1)[:, None]
            if de.min() < 0:
                return False
        return True

    return is_stored
