"""Exact arithmetic for the pairwise family's ``stable`` decisions (docs/theory.md section 11).

The float64 check (one BLAS product) decides every unit whose |y_i h_i| exceeds a rigorous bound
on its error; the units it leaves open are decided here, in Python integers, from the rule's
definition in exact arithmetic (the rule's parameters taken as the float64 numbers they are):

* storkey: N^P W_P is an integer matrix V_P (:func:`storkey_scaled`), so y_i h_i has the sign of
  y_i (V_P y)_i;
* palimpsest: y_i h_i = sum_t c_t lambda^(L-1-t) with integers c_t = y_i xi_t,i (xi_t . y -
  xi_t,i y_i) and lambda = a / 2^k a dyadic rational (:func:`palimpsest_sign`). For a stored
  pattern an exact tie is impossible once 2^k > N - 1 (its own c_t = N - 1 is non-zero, and by the
  rational-root theorem 2^k would divide the leading coefficient, some |c_t| <= N - 1), but the
  near-ties the float bound leaves open are decided here all the same.

hebbian, hebbian-diag and perceptron couplings are integers, decided exactly in float64; pinv's
stored patterns need no arithmetic (y_i h_i = 1 - P_ii >= 0: families.pairwise.model).
"""

from __future__ import annotations

import numpy as np


def storkey_scaled(x: np.ndarray) -> np.ndarray:
    """V_P = N^P W_P (object array of Python integers) for Storkey's rule on the rows of x in
    order. From W_p = W + (xi xi^T - xi h^T - h xi^T + 2 W) / N off the diagonal, h = W xi:

        V_p = (N + 2) V_{p-1} + N^(p-1) xi xi^T - xi (V_{p-1} xi)^T - (V_{p-1} xi) xi^T,   V_0 = 0.
    """
    x = np.asarray(x, dtype=np.int64)
    n = x.shape[1]
    v = np.zeros((n, n), dtype=object)
    scale = 1
    for row in x:
        xi = row.astype(object)
        h = v.dot(xi)
        v = (n + 2) * v + scale * np.multiply.outer(xi, xi) - np.multiply.outer(xi, h) \
            - np.multiply.outer(h, xi)
        np.fill_diagonal(v, 0)
        scale *= n
    return v


def storkey_sign(v: np.ndarray, y: np.ndarray, i: int) -> int:
    """Sign of y_i h_i under Storkey's couplings, from V_P = N^P W_P (:func:`storkey_scaled`)."""
    total = int(y[i]) * sum(v[i, j] * int(y[j]) for j in range(len(y)) if j != i)
    return (total > 0) - (total < 0)


def palimpsest_sign(x: np.ndarray, lam: float, y: np.ndarray, i: int) -> int:
    """Sign of y_i h_i for W = sum_t lambda^(L-1-t) xi_t xi_t^T (zero diagonal) over the rows xi_t
    of x, lambda the float64 ``lam`` exactly. With lambda = a / b (b a power of two) and D = L - 1,
    b^D y_i h_i = sum_d c_d a^d b^(D-d) (c_d the coefficient of lambda^d), by Horner's rule in
    integers."""
    x = np.asarray(x, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    c = y[i] * x[:, i] * (x @ y - x[:, i] * y[i])  # |c| <= N: exact in int64
    a, b = float(lam).as_integer_ratio()
    shift = b.bit_length() - 1  # b = 2^shift
    coeffs = [int(v) for v in c]  # coeffs[t] multiplies lambda^(D - t)
    total = coeffs[0]
    for step, ct in enumerate(coeffs[1:], start=1):  # lambda^(D - step), weight b^step
        total = total * a + (ct << (shift * step))
    return (total > 0) - (total < 0)
