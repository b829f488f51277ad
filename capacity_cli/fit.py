"""Fitting capacity laws to measured P_max, with bootstrap confidence intervals.

Each form is a straight-line least-squares fit to the per-N mean of P_max:

| form       | fitted line                      | compare the slope with                   |
|------------|----------------------------------|------------------------------------------|
| ``power``  | ln P = k ln N + c                | a - 1 (degree a), 1 for Hebbian          |
| ``power_ln`` | ln(P ln N) = k ln N + c (P = e^c N^k / ln N) | a - 1, without the slow ln N factor |
| ``exp2``   | log2 P = s N + c                 | 1/2 (stable), I(1-2 rho)/(2 ln 2) (retrieve) |
| ``linear`` | P = alpha N + c                  | 0.138 (AGS, overlap criterion)           |
| ``alpha_inv_n`` | P / N = alpha_inf + b / N (intercept!) | 0.138: alpha extrapolated to N -> inf |

The interval resamples trials with replacement within each N (percentile bootstrap, fixed seed),
so it reflects the trial-to-trial spread of the measurement, not only the scatter about the line.
With a single trial at some N there is no spread to resample there: the interval is undefined (nan;
``hopcap fit`` says it needs at least two trials per N) rather than a zero-width one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FORMS = ("power", "power_ln", "exp2", "linear", "alpha_inv_n")
#: Trials every fitted N needs for a bootstrap interval (one trial has no spread to resample).
MIN_TRIALS_FOR_INTERVAL = 2


@dataclass(frozen=True)
class Fit:
    """A fitted line: slope with its 95% bootstrap interval, intercept, and the data range. The
    intervals are nan when some N has a single trial (:attr:`interval_defined`)."""

    form: str
    slope: float
    ci_low: float
    ci_high: float
    intercept: float
    intercept_low: float
    intercept_high: float
    n_min: int
    n_max: int
    sizes: int  # number of distinct N
    trials: int  # total trials used

    @property
    def interval_defined(self) -> bool:
        return not np.isnan(self.ci_low)

    def predict(self, n) -> np.ndarray:
        """P at N from the fitted line."""
        n = np.asarray(n, dtype=np.float64)
        if self.form == "power":
            return np.exp(self.intercept) * n**self.slope
        if self.form == "power_ln":
            return np.exp(self.intercept) * n**self.slope / np.log(n)
        if self.form == "exp2":
            return 2.0 ** (self.slope * n + self.intercept)
        if self.form == "alpha_inv_n":
            return n * self.intercept + self.slope
        return self.slope * n + self.intercept


def _transform(form: str, n: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if form == "power":
        return np.log(n), np.log(p)
    if form == "power_ln":
        return np.log(n), np.log(p * np.log(n))
    if form == "exp2":
        return n, np.log2(p)
    if form == "linear":
        return n, p
    if form == "alpha_inv_n":
        return 1.0 / n, p / n
    raise ValueError(f"unknown fit form {form!r}; choose one of {', '.join(FORMS)}")


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def fit_law(n, p_max, form: str = "power", n_boot: int = 2000, seed: int = 0) -> Fit | None:
    """Fit ``form`` to trials (n[i], p_max[i]); None with fewer than two distinct N.

    The line goes through the per-N means of P_max; trials with P_max = 0 are kept in the means (a
    mean of 0 cannot be logged, and such N are dropped from log forms).
    """
    n = np.asarray(n, dtype=np.float64)
    p = np.asarray(p_max, dtype=np.float64)
    sizes = np.unique(n)
    groups = [p[n == s] for s in sizes]
    means = np.array([g.mean() for g in groups])
    logged = form in ("power", "power_ln", "exp2")
    keep = means > 0 if logged else np.ones_like(means, dtype=bool)
    if keep.sum() < 2:
        return None
    sizes, groups, means = sizes[keep], [g for g, k in zip(groups, keep, strict=True) if k], means[keep]
    x, y = _transform(form, sizes, means)
    slope, intercept = _line(x, y)
    trials = int(sum(g.size for g in groups))
    if min(g.size for g in groups) < MIN_TRIALS_FOR_INTERVAL:
        nan = float("nan")
        return Fit(form, slope, nan, nan, intercept, nan, nan, int(sizes.min()), int(sizes.max()),
                   int(sizes.size), trials)
    rng = np.random.default_rng(seed)
    boots = np.empty((n_boot, 2))
    for b in range(n_boot):
        resampled = np.array([rng.choice(g, size=g.size).mean() for g in groups])
        if logged:
            resampled = np.maximum(resampled, 0.5)
        boots[b] = _line(*_transform(form, sizes, resampled))
    (s_low, i_low), (s_high, i_high) = np.percentile(boots, [2.5, 97.5], axis=0)
    return Fit(form, slope, float(s_low), float(s_high), intercept, float(i_low), float(i_high),
               int(sizes.min()), int(sizes.max()), int(sizes.size), int(sum(g.size for g in groups)))


def fit_trials(trials, form: str, x: str = "n") -> tuple[Fit | None, int]:
    """Fit ``form`` to the rows of a results frame (x column ``x``, y = p_max), leaving out capped
    trials: their P_max is only a lower bound. Returns (fit or None, number of capped trials left out).
    """
    capped = trials["capped"].fillna(False).astype(bool) if "capped" in trials else None
    free = trials if capped is None else trials[~capped]
    n_capped = 0 if capped is None else int(capped.sum())
    return fit_law(free[x], free["p_max"], form), n_capped
