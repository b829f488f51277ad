"""Fits recover known laws from synthetic data with known noise; theory values match theory.md."""

from __future__ import annotations

import math

import numpy as np
import pytest

from capacity_cli.fit import fit_law
from capacity_cli.stats import summarize, t_quantile_975
from capacity_cli.theory import (
    double_factorial,
    kh_all_patterns,
    kh_no_error,
    mceliece_all,
    mceliece_each,
    mutual_information_rate,
)


@pytest.mark.parametrize("form, truth, make", [
    ("power", 2.0, lambda n, e: 3 * n**2 * e),
    ("power_ln", 3.0, lambda n, e: 0.5 * n**3 / np.log(n) * e),
    ("exp2", 0.5, lambda n, e: 2 ** (0.5 * n + 1) * e),
])
def test_fit_recovers_known_exponent(form, truth, make):
    """Log-normal noise of 10% per trial, 30 trials per N: the 95% interval must cover the truth in
    most seeds; we check 20 seeds and require coverage >= 16 (with a true 95% interval,
    P(binomial(20, 0.95) < 16) = 0.26%) and an estimate within 0.05 every time."""
    covered = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n = np.repeat(np.array([16, 24, 32, 48, 64], dtype=float), 30)
        p = make(n, np.exp(rng.normal(0, 0.1, n.size)))
        f = fit_law(n, p, form, n_boot=400, seed=seed)
        assert abs(f.slope - truth) < 0.05
        covered += f.ci_low <= truth <= f.ci_high
    assert covered >= 16


def test_alpha_extrapolation_recovers_intercept():
    rng = np.random.default_rng(0)
    n = np.repeat(np.array([100, 200, 400, 800], dtype=float), 40)
    p = 0.14 * n - 4 + rng.normal(0, 2, n.size)
    f = fit_law(n, p, "alpha_inv_n")
    assert f.intercept_low <= 0.14 <= f.intercept_high
    assert abs(f.slope + 4) < 1


def test_fit_needs_two_sizes():
    assert fit_law([16, 16], [3, 4], "power") is None


def test_t_quantiles():
    assert t_quantile_975(1) == pytest.approx(12.706, abs=1e-3)
    assert t_quantile_975(20) == pytest.approx(2.0860, abs=2e-3)
    assert t_quantile_975(100) == pytest.approx(1.9840, abs=1e-3)
    s = summarize([1, 2, 3, 4])
    assert s.mean == 2.5 and s.std == pytest.approx(math.sqrt(5 / 3))
    assert s.ci_high - s.mean == pytest.approx(3.1824 * s.std / 2)


def test_theory_table_values():
    """The numbers of theory.md section 3."""
    assert mceliece_each()(100) == pytest.approx(10.9, abs=0.05)
    assert mceliece_all()(1000) == pytest.approx(36.2, abs=0.05)
    assert kh_no_error(3)(100) == pytest.approx(362, abs=1)
    assert kh_no_error(3)(1000) == pytest.approx(24130, abs=10)
    assert kh_all_patterns(3)(100) == pytest.approx(121, abs=0.5)
    assert kh_all_patterns(2)(100) == pytest.approx(mceliece_all()(100))
    assert double_factorial(5) == 15 and double_factorial(-1) == 1
    for rho, rate in [(0.05, 0.2473), (0.1, 0.1840), (0.2, 0.0964)]:
        assert mutual_information_rate(1 - 2 * rho) / 2 == pytest.approx(rate, abs=2e-4)
