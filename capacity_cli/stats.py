"""Summary statistics of capacity trials: mean, spread and a Student-t 95% interval of the mean."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_Z975 = 1.959963984540054


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with df degrees of freedom (Cornish-Fisher, error < 1e-3
    for df >= 3; exact table below)."""
    table = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 6: 2.4469, 7: 2.3646,
             8: 2.3060, 9: 2.2622, 10: 2.2281}
    if df in table:
        return table[df]
    z = _Z975
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


@dataclass(frozen=True)
class Summary:
    """Trials, mean, sample standard deviation and the 95% t-interval of the mean."""

    trials: int
    mean: float
    std: float
    ci_low: float
    ci_high: float

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def summarize(values) -> Summary:
    """Summary of a sample (std and interval are nan for fewer than two values)."""
    v = np.asarray(values, dtype=np.float64)
    n = v.size
    if n == 0:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan)
    mean = float(v.mean())
    if n < 2:
        return Summary(1, mean, float("nan"), float("nan"), float("nan"))
    std = float(v.std(ddof=1))
    half = t_quantile_975(n - 1) * std / math.sqrt(n)
    return Summary(n, mean, std, mean - half, mean + half)
