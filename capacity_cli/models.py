"""Binary dense associative memories, E(y) = -sum_mu F(xi_mu . y) (theory.md section 1).

A model is a small frozen dataclass; everything the kernels need from it is its *gain table*
g(m) = F(m) - F(m-2) on m in [-N, N+2] and, for the decisions float64 cannot certify, its values at the
overlap levels (kernels.exact). Adding a binary energy means adding a case to :func:`energy_integer`
(and :func:`derivative_integer`); the kernels never change.

| model    | F(x)             | source                              |
|----------|------------------|-------------------------------------|
| hebbian  | x^2 / 2          | Hopfield 1982 (W = X^T X, zero diagonal) |
| poly     | x^a, a >= 2      | Krotov & Hopfield 2016              |
| rectpoly | max(x, 0)^a      | Krotov & Hopfield 2016              |
| exp      | exp(beta x)      | Demircigil et al. 2017              |

Decisions are invariant to a positive scale of F, so hebbian uses x^2 (integers) and exp uses
exp(beta (x - N)) (no overflow at any N). Every decision is exact (docs/theory.md section 1,
"Exact decisions") for every model in range: degree <= MAX_DEGREE, beta in [BETA_MIN, BETA_MAX].
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, localcontext

import numpy as np

from .errors import HopcapError
from .limits import MAX_DEGREE_MAX

BINARY_MODELS = ("hebbian", "poly", "rectpoly", "exp")
UPDATE_RULES = ("energy", "field")
#: Degrees of poly/rectpoly that hopcap accepts (limits.py). Decisions are exact at every degree
#: (level 3 uses Python integers); the cap only keeps tables (m^a for |m| <= N + 2) and run times sane.
MAX_DEGREE = MAX_DEGREE_MAX
#: Inverse temperatures of exp that hopcap accepts. Decisions are exact for every beta; below
#: BETA_MIN nearly every gain is a near-cancellation (e^(beta x) is nearly linear) and would need
#: exact arithmetic, above BETA_MAX the model is a nearest-pattern rule with e^(2 beta) > 10^43.
BETA_MIN, BETA_MAX = 1e-4, 50.0
#: Largest |value| we let an int64 sum reach (headroom for the 2A - T combination).
INT64_SAFE = 2**61
#: Float tables of integer energies are scaled by a power of two so that their largest entry is below
#: 2^FLOAT_TABLE_BITS: P such entries still sum without overflow.
FLOAT_TABLE_BITS = 960


@dataclass(frozen=True)
class BinaryDAM:
    """A binary dense associative memory E(y) = -sum_mu F(xi_mu . y).

    Parameters
    ----------
    name : one of ``hebbian``, ``poly``, ``rectpoly``, ``exp``.
    degree : the power a of ``poly`` / ``rectpoly`` (a >= 2); ignored otherwise.
    beta : the inverse temperature of ``exp`` (beta > 0); ignored otherwise.
    rule : ``energy`` (flip when E strictly drops, theory.md section 1) or ``field`` (Krotov &
        Hopfield 2021's hidden-neuron form: y_i <- sign(sum_mu xi_mu,i F'(xi_mu . y)), ties keep the
        state; modern.md D). Both compare an "agree" and a "disagree" term per pattern, see
        :meth:`gain_table`.
    """

    name: str
    degree: int | None = None
    beta: float | None = None
    rule: str = "energy"

    def __post_init__(self) -> None:
        if self.name not in BINARY_MODELS:
            raise HopcapError(f"unknown model {self.name!r}; choose one of {', '.join(BINARY_MODELS)}")
        if self.rule not in UPDATE_RULES:
            raise HopcapError(f"unknown --rule {self.rule!r}; choose one of {', '.join(UPDATE_RULES)}")
        if self.name in ("poly", "rectpoly"):
            if self.degree is None or int(self.degree) != self.degree or \
                    not 2 <= self.degree <= MAX_DEGREE:
                raise HopcapError(f"--degree must be an integer in [2, {MAX_DEGREE}] for {self.name}, "
                                  f"got {self.degree}")
            object.__setattr__(self, "degree", int(self.degree))
            object.__setattr__(self, "beta", None)
        elif self.name == "exp":
            beta = 1.0 if self.beta is None else float(self.beta)
            if not BETA_MIN <= beta <= BETA_MAX:  # also rejects NaN
                raise HopcapError(f"--beta must be in [{BETA_MIN:g}, {BETA_MAX:g}] for exp, got {self.beta}")
            object.__setattr__(self, "beta", beta)
            object.__setattr__(self, "degree", None)
        else:
            object.__setattr__(self, "degree", None)
            object.__setattr__(self, "beta", None)

    @property
    def is_integer(self) -> bool:
        """True when F takes integer values on integers (every model but exp)."""
        return self.name != "exp"

    @property
    def label(self) -> str:
        """Short human label, e.g. ``poly a=3``, ``exp beta=1`` or ``poly a=3 field``."""
        if self.degree is not None:
            label = f"{self.name} a={self.degree}"
        elif self.beta is not None:
            label = f"{self.name} beta={self.beta:g}"
        else:
            label = self.name
        return label if self.rule == "energy" else f"{label} {self.rule}"

    @property
    def field(self) -> bool:
        """True for the field rule."""
        return self.rule == "field"

    @property
    def lookahead(self) -> int:
        """Offset of the "disagree" term in the gain table: 2 for the energy rule, 0 for the field."""
        return 0 if self.field else 2

    def gain_table(self, n: int) -> np.ndarray:
        """The decision terms at index m + n, m in [-n, n+2]: g(m) = F(m) - F(m-2) (energy rule) or
        F'(m) (field rule); see :func:`_gain_table`."""
        return _gain_table(self, n)


@functools.lru_cache(maxsize=256)
def _gain_table(model: BinaryDAM, n: int) -> np.ndarray:
    """The decision terms at index m + n, m in [-n, n+2] (length 2n+3). A unit with s_mu =
    xi_mu,i y_i adds table[m + n] when s_mu = +1 and subtracts table[m + n + lookahead] when -1:

    * energy rule: g(m) = F(m) - F(m-2), so the sum is dE_i (theory.md section 1);
    * field rule: F'(m), so the sum is y_i h_i, h_i = sum_mu xi_mu,i F'(m_mu).

    int64 (exact) for integer energies whose terms fit; otherwise float64, each entry the exact value
    correctly rounded (integer energies scaled by a power of two, exp by e^(-beta n)). Read-only:
    computed once per model and N (the exact exp entries take Decimal arithmetic).
    """
    ms = range(-n, n + 3)
    if model.is_integer:
        if model.field:
            values = [derivative_integer(model, m) for m in ms]
        else:
            values = [energy_integer(model, m) - energy_integer(model, m - 2) for m in ms]
        table = np.array(values, dtype=np.int64) if max(abs(v) for v in values) < INT64_SAFE \
            else scaled_floats(values)
    else:
        with localcontext() as ctx:
            ctx.prec = 40
            beta = Decimal(model.beta)
            factor = beta if model.field else 1 - (-2 * beta).exp()
            table = np.array([float(factor * (beta * (m - n)).exp()) for m in ms], dtype=np.float64)
    table.flags.writeable = False
    return table


def energy_integer(model: BinaryDAM, m: int) -> int:
    """F(m) in exact integer arithmetic (Python ints) for the integer energies (hebbian as m^2)."""
    if model.name == "hebbian":
        return m * m
    if model.name == "poly":
        return m**model.degree
    if model.name == "rectpoly":
        return max(m, 0) ** model.degree
    raise ValueError(f"{model.name} has no integer energy")


def derivative_integer(model: BinaryDAM, m: int) -> int:
    """F'(m) in exact integers (hebbian as 2m, consistent with F = m^2)."""
    if model.name == "hebbian":
        return 2 * m
    if model.name == "poly":
        return model.degree * m ** (model.degree - 1)
    if model.name == "rectpoly":
        return model.degree * max(m, 0) ** (model.degree - 1)
    raise ValueError(f"{model.name} has no integer energy")


def scaled_floats(values: list[int]) -> np.ndarray:
    """Exact integers divided by one power of two (decisions are scale-free) so that the largest is
    below 2^FLOAT_TABLE_BITS, each correctly rounded to float64 (tiny ones may underflow)."""
    shift = max(0, max(abs(v) for v in values).bit_length() - FLOAT_TABLE_BITS)
    return np.array([v / (1 << shift) for v in values], dtype=np.float64)  # int / int rounds correctly


def levels(n: int) -> range:
    """The overlap levels m_j = -n - 2 + 2 j, j = 0..n+2, at which flip gains evaluate F."""
    return range(-n - 2, n + 3, 2)


@dataclass(frozen=True)
class LevelTable:
    """The level-2 table of kernels.exact.table_sign for one model, N and rule."""

    table: np.ndarray
    ratio_form: bool


@functools.lru_cache(maxsize=256)
def level_values(model: BinaryDAM, n: int) -> tuple[int, ...]:
    """F(m_j) (F'(m_j) for the field rule) at the levels of :func:`levels`, exact Python integers
    (integer energies only); computed once per model and N."""
    f = derivative_integer if model.field else energy_integer
    return tuple(f(model, m) for m in levels(n))


@functools.lru_cache(maxsize=256)
def level_table(model: BinaryDAM, n: int) -> LevelTable:
    """F(m_j) (F'(m_j) for the field rule) at the levels of :func:`levels`: integer energies as
    correctly rounded, scaled floats; exp in ratio form, table[k] = q^-k with q = e^(2 beta) (F(m_j)
    and F'(m_j) are both proportional to q^j)."""
    if model.is_integer:
        return LevelTable(scaled_floats(list(level_values(model, n))), False)
    with localcontext() as ctx:
        ctx.prec = 40
        r = (Decimal(-2.0 * model.beta)).exp()
        return LevelTable(np.array([float(r**k) for k in range(n + 3)], dtype=np.float64), True)


def exact_signs(model: BinaryDAM, n: int, counts: np.ndarray) -> np.ndarray:
    """Level 3: the exact sign of sum_j counts[r, j] F(m_j) (F'(m_j) for the field rule) for every
    row r.

    Integer energies: Python integers. exp: sign of sum_j counts[r, j] q^j, q = e^(2 beta), from
    :func:`exp_polynomial_sign`.
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(-1, n + 3)
    if model.is_integer:
        sums = counts.astype(object) @ np.array(level_values(model, n), dtype=object)
        return np.array([(v > 0) - (v < 0) for v in sums], dtype=np.int8)
    return np.array([exp_polynomial_sign([int(c) for c in row], model.beta) for row in counts],
                    dtype=np.int8)


#: Digits of the first bracket of q in :func:`exp_polynomial_sign`; doubled until the sign is decided.
_FIRST_DIGITS = 60
_MAX_DIGITS = 1 << 20


def exp_polynomial_sign(coefficients: list[int], beta: float) -> int:
    """Exact sign of p(q) = sum_j c_j q^j at q = e^(2 beta), for integer c_j.

    beta is a float, hence a non-zero rational, so q is transcendental (Lindemann-Weierstrass) and
    p(q) = 0 only when every c_j is 0. Otherwise q is bracketed as [q_lo, q_hi] from Python's decimal
    exp (correctly rounded), p = p+ - p- splits into polynomials with non-negative coefficients,
    increasing in q > 0, so p(q) lies in [p+(q_lo) - p-(q_hi), p+(q_hi) - p-(q_lo)], evaluated in
    exact integers; the precision doubles until that interval excludes 0.
    """
    nonzero = [j for j, c in enumerate(coefficients) if c]
    if not nonzero:
        return 0
    low = nonzero[0]
    c = coefficients[low: nonzero[-1] + 1]  # dividing by q^low keeps the sign
    top = len(c) - 1
    digits = _FIRST_DIGITS
    while digits <= _MAX_DIGITS:
        with localcontext() as ctx:
            ctx.prec = digits + 10
            q = Decimal(2.0 * beta).exp()  # 2 beta is exact in binary and in Decimal
        _, mantissa_digits, scale = q.as_tuple()
        mantissa = int("".join(map(str, mantissa_digits)))
        # q = mantissa 10^scale within half a unit of the last digit: bracket it with one unit.
        lo, hi = mantissa - 1, mantissa + 1
        values = []
        for x in (lo, hi):  # p(x 10^scale), times 10^(-scale top) when scale < 0: integers
            pos = neg = 0
            for j, cj in enumerate(c):
                if cj:
                    term = abs(cj) * x**j * 10 ** (scale * (j - top) if scale < 0 else scale * j)
                    if cj > 0:
                        pos += term
                    else:
                        neg += term
            values.append((pos, neg))
        (pos_lo, neg_lo), (pos_hi, neg_hi) = values
        if pos_lo - neg_hi > 0:
            return 1
        if pos_hi - neg_lo < 0:
            return -1
        digits *= 2
    raise HopcapError(f"could not decide the sign of an exp flip gain at beta={beta} "
                      f"with {_MAX_DIGITS} digits")


@dataclass(frozen=True)
class GainArithmetic:
    """How a kernel sums gains for a given model, N and number of patterns P.

    ``gain`` is the table the dynamics use; ``exact`` when it is int64 and P of its entries cannot
    overflow (then every decision is a plain integer sign); otherwise float64 with a rigorous error
    bound, and ``levels`` decides what the bound leaves open (kernels.exact).
    """

    gain: np.ndarray
    exact: bool
    levels: LevelTable
    shiftable: bool = False  # g(m + s) = e^(beta s) g(m): lookups may be shifted (exp only)


def gain_arithmetic(model: BinaryDAM, n: int, p: int) -> GainArithmetic:
    """Exact int64 arithmetic when P * max|g| stays below 2^61, else float64 with certified decisions."""
    gain = model.gain_table(n)
    table = level_table(model, n)
    if gain.dtype == np.int64 and p * int(np.abs(gain).max()) < INT64_SAFE:
        return GainArithmetic(gain, True, table)
    return GainArithmetic(gain.astype(np.float64), False, table, shiftable=model.name == "exp")


@dataclass(frozen=True)
class StabilityTables:
    """The tables of kernels.stability.extend_stability, indexed by m + n for m in [-n, n]. With g
    the agree term and g' the disagree term of :meth:`BinaryDAM.gain_table`, 2 x (decision sum) =
    sum_mu (g - g') + sum_mu s_mu (g + g')."""

    c_acc: np.ndarray  # c(m) = g(m) + g(m+2) in the accumulator dtype (int32 wraps)
    c_sum: np.ndarray  # c(m) exact (int64) or float64
    c_diff: np.ndarray  # g(m) - g(m+2)
    c_bound: np.ndarray  # 2 max(|g(m)|, |g(m+2)|)
    exact: bool
    levels: LevelTable

    @property
    def acc_dtype(self) -> np.dtype:
        return self.c_acc.dtype


def stability_tables(model: BinaryDAM, n: int, p: int) -> StabilityTables:
    """Tables for the two-product stability check of up to ``p`` patterns of length ``n``."""
    arith = gain_arithmetic(model, n, 2 * p)
    g = arith.gain
    # the "agree" term at m and the "disagree" term (theory.md's a and b for the energy rule)
    lower, upper = g[:-2], g[model.lookahead: len(g) - 2 + model.lookahead]
    c_sum = lower + upper
    c_diff = lower - upper
    c_bound = 2 * np.maximum(np.abs(lower), np.abs(upper))
    if arith.exact:
        c_acc = (c_sum & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
    else:
        c_acc = c_sum
    return StabilityTables(c_acc, c_sum, c_diff, c_bound, arith.exact, arith.levels)


def glauber_unit(model: BinaryDAM, n: int, gain: np.ndarray) -> float:
    """The energy change, in the model's units, per unit of the kernels' decision sum over ``gain``
    (its own table: integer energies may be scaled, hebbian uses F = x^2): Glauber's dE_i is that sum
    times this factor (docs/theory.md section 15). Energy rule: dE_i = E(y with y_i flipped) - E(y)
    with F as the model table states (hebbian x^2 / 2); field rule: 2 y_i h_i (h_i = sum_mu xi_mu,i
    F'(m_mu)). exp is in units of e^(beta N) (its tables are scaled by e^(-beta N); the kernels also
    undo the lookup shift)."""
    from fractions import Fraction

    reference = gain[2 * n]  # the term at m = N: g(N) > 0 or F'(N) > 0
    if not model.is_integer:
        exact = Fraction(2) if model.field else Fraction(1)
        return float(exact)
    halve = 2 if model.name == "hebbian" else 1
    if model.field:
        true = Fraction(2 * derivative_integer(model, n), halve)
    else:
        true = Fraction(energy_integer(model, n) - energy_integer(model, n - 2), halve)
    ref = Fraction(int(reference)) if gain.dtype == np.int64 else Fraction(float(reference))
    try:
        return float(true / ref)
    except OverflowError:
        raise HopcapError(f"--temperature: the energy scale of {model.label} at N = {n} leaves "
                          "float64") from None
