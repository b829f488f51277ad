"""Asymptotic capacity laws to draw beside measurements (theory.md section 3; natural logs).

Each law is a function of N. ``laws_for`` picks the ones that answer the question a measurement asked
(model and criterion); the first one it returns is the headline value for summaries.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .criteria import Criterion, Overlap, OverlapMean, Retrieve, Stable
from .models import BinaryDAM

AGS_ALPHA = 0.138
#: KH2016 capacity with 0.5% bit errors, alpha_a N^(a-1), a = 2..5.
KH_ALPHA_ERRORS = {2: 0.151, 3: 0.050, 4: 0.0100, 5: 0.00144}


def double_factorial(k: int) -> int:
    """k!! with (-1)!! = 0!! = 1."""
    return math.prod(range(k, 0, -2)) if k > 0 else 1


def mutual_information_rate(x: float) -> float:
    """I(x) = [(1+x) ln(1+x) + (1-x) ln(1-x)] / 2 (Demircigil et al. 2017)."""
    terms = [(1 + s * x) * math.log(1 + s * x) for s in (1, -1) if 1 + s * x > 0]
    return sum(terms) / 2


@dataclass(frozen=True)
class Law:
    """A named asymptotic law P(N) with its source and the exponent a log-log fit should show."""

    label: str
    value: Callable[[np.ndarray], np.ndarray]
    source: str

    def __call__(self, n):
        return self.value(np.asarray(n, dtype=np.float64))


def ags(alpha: float = AGS_ALPHA) -> Law:
    return Law(f"{alpha:g} N (AGS)", lambda n: alpha * n, "Amit, Gutfreund & Sompolinsky 1985")


def mceliece_each() -> Law:
    return Law("N / (2 ln N)", lambda n: n / (2 * np.log(n)), "McEliece et al. 1987")


def mceliece_all() -> Law:
    return Law("N / (4 ln N)", lambda n: n / (4 * np.log(n)), "McEliece et al. 1987")


def kh_no_error(a: int) -> Law:
    k = 2 * double_factorial(2 * a - 3)
    return Law(f"N^{a - 1} / ({k} ln N) (KH2016)", lambda n: n ** (a - 1) / (k * np.log(n)),
               "Krotov & Hopfield 2016")


def kh_all_patterns(a: int) -> Law:
    k = 2 * a * double_factorial(2 * a - 3)
    return Law(f"N^{a - 1} / ({k} ln N) (all patterns)", lambda n: n ** (a - 1) / (k * np.log(n)),
               "heuristic; N/(4 ln N) at a=2")


def demircigil_stable() -> Law:
    return Law("2^(N/2)", lambda n: np.exp(n * math.log(2) / 2), "Demircigil et al. 2017")


def demircigil_retrieve(rho: float) -> Law:
    rate = mutual_information_rate(1 - 2 * rho) / 2
    return Law(f"exp({rate:.4f} N)", lambda n: np.exp(rate * n), "Demircigil et al. 2017")


#: Above this degree the constants (2a-3)!! of the polynomial laws leave float64: no law is drawn.
THEORY_MAX_DEGREE = 100


def laws_for(model: BinaryDAM, criterion: Criterion) -> list[Law]:
    """The laws that match this model and criterion, most relevant first (may be empty). The field
    rule and degrees above THEORY_MAX_DEGREE have none here."""
    a = 2 if model.name == "hebbian" else model.degree
    if model.rule != "energy" or (a is not None and a > THEORY_MAX_DEGREE):
        return []
    if getattr(criterion, "temperature", 0.0) > 0:
        return []  # AGS's 0.138 is the T = 0 value (alpha_c(T): capacity_cli.ags, theory.md 15)
    if isinstance(criterion, Overlap | OverlapMean):
        return [ags()] if a == 2 else []
    if isinstance(criterion, Stable):
        if model.name == "exp":
            return [demircigil_stable()]
        if a == 2:
            return [mceliece_all(), mceliece_each()] if criterion.threshold == 1.0 else \
                [mceliece_each(), mceliece_all()]
        return [kh_all_patterns(a), kh_no_error(a)] if criterion.threshold == 1.0 else \
            [kh_no_error(a), kh_all_patterns(a)]
    if isinstance(criterion, Retrieve) and model.name == "exp":
        return [demircigil_retrieve(criterion.noise)]
    return []


def expected_loglog_slope(model: BinaryDAM) -> float | None:
    """The exponent of N in the power law (a - 1), or None for the exponential energy."""
    if model.name == "exp":
        return None
    return 1.0 if model.name == "hebbian" else float(model.degree - 1)
