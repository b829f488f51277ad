"""Binary dense associative memories, E(y) = -sum_mu F(xi_mu . y) (theory.md section 1).

A model is a small frozen dataclass; everything the kernels need from it is its *gain table*
g(m) = F(m) - F(m-2) on m in [-N, N+2]. Adding a binary energy means adding a case to
:func:`energy_integer` or :func:`energy_scaled`; the kernels never change.

| model    | F(x)             | source                              |
|----------|------------------|-------------------------------------|
| hebbian  | x^2 / 2          | Hopfield 1982 (W = X^T X, zero diagonal) |
| poly     | x^a, a >= 2      | Krotov & Hopfield 2016              |
| rectpoly | max(x, 0)^a      | Krotov & Hopfield 2016              |
| exp      | exp(beta x)      | Demircigil et al. 2017              |

Decisions are invariant to a positive scale of F, so hebbian uses x^2 (integers) and exp uses
exp(beta (x - N)) (no overflow at any N).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import HopcapError

BINARY_MODELS = ("hebbian", "poly", "rectpoly", "exp")
#: Relative tie tolerance for float tables (the exp energy): a flip gain within RTOL of a bound on
#: sum_mu |term_mu| counts as an exact tie. The dynamics use sum_mu |term_mu| itself; the stability
#: check uses its per-pattern bound S_nu = 2 sum_mu max(|g(m)|, |g(m+2)|) >= sum_mu |term_mu| (for
#: every unit at once; for exp at most e^(2 beta) times the sum): at beta = 1 a window of at most
#: 7.4e-10 of the summed magnitudes.
#: float64 sums of P terms err by at most about P * 1.1e-16 of sum |terms|, below 1e-10 for P < 1e6.
RTOL_FLOAT = 1e-10
#: Largest |value| we let an int64 sum reach (headroom for the 2A - T combination).
INT64_SAFE = 2**61


@dataclass(frozen=True)
class BinaryDAM:
    """A binary dense associative memory E(y) = -sum_mu F(xi_mu . y).

    Parameters
    ----------
    name : one of ``hebbian``, ``poly``, ``rectpoly``, ``exp``.
    degree : the power a of ``poly`` / ``rectpoly`` (a >= 2); ignored otherwise.
    beta : the inverse temperature of ``exp`` (beta > 0); ignored otherwise.
    """

    name: str
    degree: int | None = None
    beta: float | None = None

    def __post_init__(self) -> None:
        if self.name not in BINARY_MODELS:
            raise HopcapError(f"unknown model {self.name!r}; choose one of {', '.join(BINARY_MODELS)}")
        if self.name in ("poly", "rectpoly"):
            if self.degree is None or int(self.degree) != self.degree or self.degree < 2:
                raise HopcapError(f"--degree must be an integer >= 2 for {self.name}, got {self.degree}")
            object.__setattr__(self, "degree", int(self.degree))
            object.__setattr__(self, "beta", None)
        elif self.name == "exp":
            beta = 1.0 if self.beta is None else float(self.beta)
            if not (beta > 0 and math.isfinite(beta)) or beta > 50:
                raise HopcapError(f"--beta must be in (0, 50] for exp, got {self.beta}")
            object.__setattr__(self, "beta", beta)
            object.__setattr__(self, "degree", None)
        else:
            object.__setattr__(self, "degree", None)
            object.__setattr__(self, "beta", None)

    @property
    def is_integer(self) -> bool:
        """True when F takes integer values on integers, so decisions can be exact."""
        return self.name != "exp"

    @property
    def label(self) -> str:
        """Short human label, e.g. ``poly a=3`` or ``exp beta=1``."""
        if self.degree is not None:
            return f"{self.name} a={self.degree}"
        if self.beta is not None:
            return f"{self.name} beta={self.beta:g}"
        return self.name

    def gain_table(self, n: int) -> np.ndarray:
        """g(m) = F(m) - F(m-2) at index m + n, m in [-n, n+2] (length 2n+3).

        int64 (exact) for integer energies whose gains fit, float64 otherwise.
        """
        ms = range(-n, n + 3)
        if self.is_integer:
            values = [energy_integer(self, m) - energy_integer(self, m - 2) for m in ms]
            if max(abs(v) for v in values) < INT64_SAFE:
                return np.array(values, dtype=np.int64)
            return np.array([float(v) for v in values], dtype=np.float64)
        factor = -math.expm1(-2.0 * self.beta)
        return np.array([factor * math.exp(self.beta * (m - n)) for m in ms], dtype=np.float64)


def energy_integer(model: BinaryDAM, m: int) -> int:
    """F(m) in exact integer arithmetic (Python ints) for the integer energies."""
    if model.name == "hebbian":
        return m * m
    if model.name == "poly":
        return m**model.degree
    if model.name == "rectpoly":
        return max(m, 0) ** model.degree
    raise ValueError(f"{model.name} has no integer energy")


@dataclass(frozen=True)
class GainArithmetic:
    """How a kernel sums gains for a given model, N and number of patterns P.

    ``gain`` is the table the dynamics use; ``rtol`` is 0 for exact arithmetic.
    """

    gain: np.ndarray
    rtol: float
    shiftable: bool = False  # g(m + s) = e^(beta s) g(m): lookups may be shifted (exp only)

    @property
    def exact(self) -> bool:
        return self.rtol == 0.0


def gain_arithmetic(model: BinaryDAM, n: int, p: int) -> GainArithmetic:
    """Pick exact int64 arithmetic when P * max|g| stays below 2^61, else float64 with a tolerance."""
    gain = model.gain_table(n)
    if gain.dtype == np.int64 and p * int(np.abs(gain).max()) < INT64_SAFE:
        return GainArithmetic(gain, 0.0)
    return GainArithmetic(gain.astype(np.float64), RTOL_FLOAT, shiftable=model.name == "exp")


@dataclass(frozen=True)
class StabilityTables:
    """The tables of kernels.stability.extend_stability, indexed by m + n for m in [-n, n]."""

    c_acc: np.ndarray  # c(m) = g(m) + g(m+2) in the accumulator dtype (int32 wraps)
    c_sum: np.ndarray  # c(m) exact (int64) or float64
    c_diff: np.ndarray  # g(m) - g(m+2)
    c_bound: np.ndarray  # 2 max(|g(m)|, |g(m+2)|)
    rtol: float

    @property
    def acc_dtype(self) -> np.dtype:
        return self.c_acc.dtype


def stability_tables(model: BinaryDAM, n: int, p: int) -> StabilityTables:
    """Tables for the two-product stability check of up to ``p`` patterns of length ``n``."""
    arith = gain_arithmetic(model, n, 2 * p)
    g = arith.gain
    lower, upper = g[:-2], g[2:]
    c_sum = lower + upper
    c_diff = lower - upper
    c_bound = 2 * np.maximum(np.abs(lower), np.abs(upper))
    if arith.exact:
        c_acc = (c_sum & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
    else:
        c_acc = c_sum
    return StabilityTables(c_acc, c_sum, c_diff, c_bound, arith.rtol)
