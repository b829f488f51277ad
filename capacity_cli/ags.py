"""The Amit-Gutfreund-Sompolinsky retrieval line alpha_c(T) of the Hebbian network (docs/theory.md
section 15), from the replica-symmetric saddle point (Amit, Gutfreund & Sompolinsky 1987, Ann. Phys.
173, 30, eqs. 4.13-4.15), in their units: couplings J_ij = (1/N) sum_mu xi_i xi_j, Glauber dynamics
at T = 1/beta on h_i = sum_j J_ij S_j. With one condensed pattern,

    m = <tanh(beta (m + sqrt(alpha r) z))>_z,   q = <tanh^2(beta (m + sqrt(alpha r) z))>_z,
    r = q / (1 - beta (1 - q))^2,

z standard normal. At fixed s = sqrt(alpha r) the first two equations no longer involve alpha:
m(s) is the largest root of m = <tanh(beta (m + s z))>, q(s) follows, and alpha = s^2 (1 - beta
(1 - q))^2 / q. alpha_c(T) is the largest alpha on that branch (the retrieval state's saddle-node).
At T = 0: m = erf(m / (sqrt(2) s)), C = beta (1 - q) -> sqrt(2 / pi) exp(-m^2 / (2 s^2)) / s,
alpha = s^2 (1 - C)^2 (alpha_c(0) = 0.138).

hopcap's hebbian energy uses the unnormalised X^T X (E = -sum_mu m_mu^2 / 2), so its temperature is
T_hopcap = N T_AGS (docs/theory.md section 15).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

#: Gaussian average on a uniform grid (the trapezoid rule is spectrally accurate for a smooth
#: integrand under exp(-z^2/2); the grid resolves tanh's width 1 / (beta s) down to T = 0.02).
_Z = np.linspace(-9.0, 9.0, 4001)
_W = np.exp(-_Z**2 / 2)
_W /= _W.sum()


def _m_of(m: float, s: float, beta: float) -> float:
    return float(_W @ np.tanh(beta * (m + s * _Z)))


def _q_of(m: float, s: float, beta: float) -> float:
    return float(_W @ np.tanh(beta * (m + s * _Z)) ** 2)


def _largest_root(f, grid: np.ndarray) -> float | None:
    """The largest m in (0, 1] with f(m) = 0 and f < 0 above it (f(1) < 0), by a scan then brentq."""
    values = [f(m) for m in grid]  # grid descending from 1
    for k in range(1, len(grid)):
        if values[k - 1] < 0 <= values[k]:
            return optimize.brentq(f, grid[k], grid[k - 1], xtol=1e-13)
    return None


def retrieval_alpha(s: float, temperature: float) -> tuple[float, float] | None:
    """(alpha, m) of the retrieval solution at s = sqrt(alpha r), or None when there is none."""
    grid = np.geomspace(1.0, 1e-4, 120)
    if temperature == 0:
        m = _largest_root(lambda m: special.erf(m / (math.sqrt(2) * s)) - m, grid)
        if m is None:
            return None
        c = math.sqrt(2 / math.pi) * math.exp(-m * m / (2 * s * s)) / s
        return (s * s * (1 - c) ** 2, m) if c < 1 else None
    beta = 1.0 / temperature
    m = _largest_root(lambda m: _m_of(m, s, beta) - m, grid)
    if m is None:
        return None
    q = _q_of(m, s, beta)
    g = 1 - beta * (1 - q)
    return (s * s * g * g / q, m) if g > 0 and q > 0 else None


def alpha_c(temperature: float) -> tuple[float, float]:
    """(alpha_c(T), m at alpha_c) of the replica-symmetric retrieval state, T in AGS units (< 1);
    alpha_c = 0 for T >= 1."""
    if temperature >= 1:
        return 0.0, 0.0

    def minus_alpha(log_s: float) -> float:
        found = retrieval_alpha(math.exp(log_s), temperature)
        return 1.0 if found is None else -found[0]

    grid = np.linspace(math.log(1e-3), math.log(2.0), 80)
    values = [minus_alpha(v) for v in grid]
    k = int(np.argmin(values))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    best = optimize.minimize_scalar(minus_alpha, bounds=(lo, hi), method="bounded",
                                    options={"xatol": 1e-10})
    s = math.exp(best.x) if best.fun < values[k] else math.exp(grid[k])
    found = retrieval_alpha(s, temperature)
    return (found[0], found[1]) if found is not None else (0.0, 0.0)


def alpha_c_curve(temperatures) -> np.ndarray:
    """alpha_c at each temperature (AGS units)."""
    return np.array([alpha_c(float(t))[0] for t in temperatures])
