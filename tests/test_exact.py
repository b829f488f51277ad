"""Exact decisions at every degree and beta in range (docs/theory.md section 1, "Exact decisions").

Adversarial near-ties, built so that float64 cannot tell their sign, against the exact twins of
tests/naive.py (Python integers; exp netted per overlap value and summed with 400 digits):

* poly/rectpoly, a = 8..30: y = xi, its distance-1 partner (cancels the self term exactly) and one more
  pattern at overlap 0 or 1 (N odd): the flip gain of the shared unit is -+ 2^a (or 3^a - 1), against
  terms of about a N^(a-1) (2^59 at a = 8, N = 256: float64 rounds by more than the gain itself).
* exp, beta = 1..50: {x, x', x'} (x' = x with one bit flipped) and q = e^(2 beta) next to a root of an
  integer polynomial: two patterns agreeing and one disagreeing at the same overlap make the gain
  proportional to q^j (2 - q); at beta = ln(2)/2 rounded to float64 (either neighbour) its sign is
  decided only by exact arithmetic.
"""

from __future__ import annotations

import math
import zlib
from decimal import Decimal, localcontext

import numpy as np
import pytest

from capacity_cli.criteria import Retrieve, Stable
from capacity_cli.kernels.exact import UNDECIDED, table_sign
from capacity_cli.models import (
    BinaryDAM,
    exact_signs,
    exp_polynomial_sign,
    gain_arithmetic,
    level_table,
    levels,
)
from capacity_cli.search import DynamicsChecker, StabilityChecker, capacity_of_sequence, largest_storable

try:  # tests/ as a package
    from . import naive
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    import naive

LN2_HALF = math.log(2) / 2  # float64: e^(2 beta) lies just below 2


def with_flips(x: np.ndarray, units) -> np.ndarray:
    y = x.copy()
    y[list(units)] *= -1
    return y


def near_tie_poly_set(n: int, sign: int, seed: int = 0) -> np.ndarray:
    """[xi, xi with unit 0 flipped, z]: at y = xi the gain of unit 0 is g(N) - g(N) + term(z), with z
    at overlap 0 (1 for odd N) disagreeing (sign -1) or agreeing (sign +1, overlap 2 or 3) at unit 0."""
    rng = np.random.default_rng(seed)
    xi = rng.choice(np.array([-1, 1], dtype=np.int8), size=n)
    m = 0 if n % 2 == 0 else 1
    if sign > 0:
        m += 2
    d = (n - m) // 2  # Hamming distance of z from xi
    others = rng.permutation(np.arange(1, n))
    z = with_flips(xi, [0, *others[: d - 1]]) if sign < 0 else with_flips(xi, others[:d])
    return np.array([xi, with_flips(xi, [0]), z], dtype=np.int8)


def prefix_source(x: np.ndarray):
    return lambda q: x[:q]


@pytest.mark.parametrize("name", ["poly", "rectpoly"])
@pytest.mark.parametrize("degree,n", [(8, 256), (11, 64), (20, 32), (30, 16), (30, 33), (13, 255)])
@pytest.mark.parametrize("sign", [-1, 1])
def test_poly_near_tie_is_decided_exactly(name, degree, n, sign):
    model = BinaryDAM(name, degree=degree)
    x = near_tie_poly_set(n, sign, seed=degree + n)
    gain = naive.flip_gain(model, x, x[0], 0)
    assert gain != 0 and (gain > 0) == (sign > 0)
    assert abs(gain) * 2**40 < abs(naive.F(name, degree, None, n))  # far below float64's resolution
    checker = StabilityChecker(model, Stable(), prefix_source(x), n, 3)
    expected = naive.stable_mask(model, x)
    assert checker(3) == bool(expected.all())
    if expected.all():
        np.testing.assert_array_equal(checker.stable, expected)
    assert bool(expected[0]) == (sign > 0)


@pytest.mark.parametrize("beta", [1.0, 5.0, 12.0, 20.0, 35.0, 50.0])
@pytest.mark.parametrize("n", [8, 9, 64])
def test_exp_duplicate_of_distance1_partner(beta, n):
    """{x, x', x'}: x is unstable (its flipped unit loses g(N) twice, gains it once) at every beta."""
    model = BinaryDAM("exp", beta=beta)
    xi = np.random.default_rng(n).choice(np.array([-1, 1], dtype=np.int8), size=n)
    x = np.array([xi, with_flips(xi, [3]), with_flips(xi, [3])], dtype=np.int8)
    expected = naive.stable_mask(model, x)
    assert expected.tolist() == [False, True, True]
    assert StabilityChecker(model, Stable(), prefix_source(x), n, 3)(3) is False
    checker = StabilityChecker(model, Stable(), prefix_source(x[1:]), n, 2)
    assert checker(2) is True and checker.stable.tolist() == [True, True]


def near_root_exp_set(n: int) -> np.ndarray:
    """At y = xi, unit 0: self and the distance-1 partner cancel; two patterns agreeing and one
    disagreeing at unit 0, all at overlap N - 4, leave dE proportional to q^j (2 - q)."""
    xi = np.ones(n, dtype=np.int8)
    agree = with_flips(xi, [1, 2])
    return np.array([xi, with_flips(xi, [0]), agree, agree, with_flips(xi, [0, 3])], dtype=np.int8)


@pytest.mark.parametrize("beta", [LN2_HALF, np.nextafter(LN2_HALF, 1.0), np.nextafter(LN2_HALF, 0.0)])
def test_exp_gain_next_to_a_root_of_its_polynomial(beta):
    n = 12
    model = BinaryDAM("exp", beta=float(beta))
    x = near_root_exp_set(n)
    q = Decimal(2.0 * float(beta)).exp()
    with localcontext() as ctx:
        ctx.prec = 400
        gain = naive.flip_gain(model, x, x[0], 0)
    assert gain != 0 and (gain > 0) == (q < 2)
    expected = naive.stable_mask(model, x)
    checker = StabilityChecker(model, Stable(threshold=0.2), prefix_source(x), n, len(x))
    assert checker(len(x)) is True  # some pattern is stable: the check runs to the end
    np.testing.assert_array_equal(checker.stable, expected)


@pytest.mark.parametrize("beta", [LN2_HALF, np.nextafter(LN2_HALF, 1.0)])
def test_exp_dynamics_near_a_root_match_naive(beta):
    """Relaxations whose first decision needs exact arithmetic (the forced-decision rerun loop)."""
    n = 12
    model = BinaryDAM("exp", beta=float(beta))
    x = near_root_exp_set(n)
    p = len(x)
    checker = DynamicsChecker(model, Retrieve(noise=0.0, threshold=0.2, max_sweeps=20),
                              prefix_source(x), n, p, seed=5)
    assert checker(p) is True
    final, sweeps, converged = naive.relax_prefix(model, x, p, 0, 20, int(checker.seed))
    np.testing.assert_array_equal(checker.final_overlap, final)
    np.testing.assert_array_equal(checker.sweeps, sweeps)
    np.testing.assert_array_equal(checker.converged, converged)


def naive_capacity(model, x: np.ndarray) -> int:
    return largest_storable(lambda p: bool(naive.stable_mask(model, x[:p]).all()), len(x)).p_max


@pytest.mark.parametrize("model", [BinaryDAM("exp", beta=5.0), BinaryDAM("exp", beta=20.0),
                                   BinaryDAM("exp", beta=50.0), BinaryDAM("poly", degree=30),
                                   BinaryDAM("poly", degree=100), BinaryDAM("rectpoly", degree=300)],
                         ids=lambda m: m.label)
def test_capacity_at_large_beta_and_degree_matches_naive(model):
    """The hostile tester's cases (exp beta = 5 and 20 at N = 8; poly a = 30 and 100 at N = 16; a = 300
    crashed): whole searches against the exact twin."""
    n = 8 if model.name == "exp" else 16
    for trial in range(3):
        x = np.random.default_rng([7, trial, n]).choice(np.array([-1, 1], dtype=np.int8),
                                                        size=(120 if n == 16 else 40, n))
        got = capacity_of_sequence(model, Stable(), prefix_source(x), n, len(x))
        assert got.p_max == naive_capacity(model, x)


def exact_value(model, n: int, counts) -> Decimal | int:
    """sum_j counts[j] F(m_j): Python ints, or 400-digit Decimal for exp."""
    if model.is_integer:
        return sum(int(c) * naive.F(model.name, model.degree, None, m) for c, m in zip(counts, levels(n),
                                                                                         strict=True))
    with localcontext() as ctx:
        ctx.prec = 400
        return sum((int(c) * naive.F("exp", None, model.beta, m) for c, m in zip(counts, levels(n),
                                                                                 strict=True) if c),
                   Decimal(0))


@pytest.mark.parametrize("model", [BinaryDAM("poly", degree=3), BinaryDAM("poly", degree=40),
                                   BinaryDAM("rectpoly", degree=7), BinaryDAM("hebbian"),
                                   BinaryDAM("exp", beta=1e-4), BinaryDAM("exp", beta=0.5),
                                   BinaryDAM("exp", beta=LN2_HALF), BinaryDAM("exp", beta=50.0)],
                         ids=lambda m: m.label)
def test_level2_and_level3_signs_match_exact_values(model):
    """table_sign never contradicts the exact value (it may only abstain), exact_signs always agrees;
    random level counts with many exact cancellations, zero vectors included."""
    rng = np.random.default_rng(zlib.crc32(model.label.encode()))
    n = 10
    table = level_table(model, n)
    rows = []
    for case in range(300):
        counts = np.zeros(n + 3, dtype=np.int64)
        for _ in range(rng.integers(0, 6)):
            j = rng.integers(1, n + 2)
            counts[j] += 1
            counts[j + rng.choice([-1, 1])] -= 1
        if case % 3 == 0:  # a pair of +-1 at neighbouring levels: q^j (q - 1) type terms
            counts[rng.integers(0, n + 3)] += rng.integers(-3, 4)
        rows.append(counts)
    rows = np.array(rows)
    exact = exact_signs(model, n, rows)
    abstained = 0
    for counts, sign in zip(rows, exact, strict=True):
        value = exact_value(model, n, counts)
        assert sign == (value > 0) - (value < 0)
        level2 = table_sign(counts, table.table, table.ratio_form)
        if level2 == UNDECIDED:
            abstained += 1
        else:
            assert level2 == sign
    assert abstained < len(rows) // 2


@pytest.mark.parametrize("coefficients,q_vs", [([-2, 1], "q<2"), ([2, -1], "q<2"), ([0, 0, 0], None),
                                               ([0, -2, 1, 0], "q<2"), ([3, 0, -1], "q^2<3")])
def test_exp_polynomial_sign_near_algebraic_roots(coefficients, q_vs):
    for beta in (LN2_HALF, math.log(3) / 4, 1.0, 7.5):
        with localcontext() as ctx:
            ctx.prec = 400
            q = Decimal(2.0 * beta).exp()
            value = sum((c * q**j for j, c in enumerate(coefficients)), Decimal(0))
        assert exp_polynomial_sign(coefficients, beta) == (value > 0) - (value < 0)


def test_integer_energies_use_exact_int64_at_the_defaults():
    """The fast exact path is kept where it applies: hebbian, poly 3 and rectpoly 3 at N = 1024."""
    for model in (BinaryDAM("hebbian"), BinaryDAM("poly", degree=3), BinaryDAM("rectpoly", degree=3)):
        assert gain_arithmetic(model, 1024, 100_000).exact
    assert not gain_arithmetic(BinaryDAM("poly", degree=8), 256, 3).exact
    assert not gain_arithmetic(BinaryDAM("exp", beta=1.0), 20, 3).exact


@pytest.mark.parametrize("kwargs", [dict(name="poly", degree=1), dict(name="poly", degree=1001),
                                    dict(name="exp", beta=0.0), dict(name="exp", beta=51.0),
                                    dict(name="exp", beta=float("nan")), dict(name="exp", beta=1e-5)])
def test_parameters_outside_the_exact_range_are_refused(kwargs):
    from capacity_cli.errors import HopcapError

    with pytest.raises(HopcapError, match="--degree|--beta"):
        BinaryDAM(**kwargs)


@pytest.mark.parametrize("threshold", [0.7000000000001, 0.7, 0.9, 0.1 + 0.2, 1 / 3, 0.999999999999,
                                       0.5000000000000001, 1.0, 1e-9])
def test_allowed_failures_reads_the_threshold_exactly(threshold):
    """P - allowed_failures successes are exactly what naive.set_is_stored asks (found in review:
    a relative slack of 1e-12 let 7/10 pass a threshold of 0.7000000000001)."""
    from capacity_cli.criteria import allowed_failures

    for p in range(1, 60):
        k = allowed_failures(threshold, p)
        assert naive.set_is_stored(p - k, p, threshold) or p - k == 1
        assert p - k == 1 or not naive.set_is_stored(p - k - 1, p, threshold)


def test_checkers_refuse_p_beyond_their_limit():
    """The arithmetic is chosen for p_limit (int64 exactness): a larger P is a usage error, not a
    silent overflow (found in review: poly a=10, N=64, 25 copies of one pattern with p_limit 2)."""
    x = np.repeat(np.ones((1, 64), dtype=np.int8), 25, axis=0)
    for make in (lambda: StabilityChecker(BinaryDAM("poly", degree=10), Stable(), prefix_source(x), 64, 2),
                 lambda: DynamicsChecker(BinaryDAM("poly", degree=10), Retrieve(), prefix_source(x), 64, 2,
                                         seed=0)):
        with pytest.raises(ValueError, match="p_limit"):
            make()(25)
    assert StabilityChecker(BinaryDAM("poly", degree=10), Stable(), prefix_source(x), 64, 25)(25)


def naive_level_counts(x: np.ndarray, y: np.ndarray, field: bool) -> np.ndarray:
    """The level counts of every unit's decision sum, straight from the definition: energy rule
    F(m_mu) - F(m_mu - 2 s_mu,i) (+1 at m, -1 at m - 2 s), field rule s_mu,i F'(m_mu) (s at m);
    level j holds m_j = -N - 2 + 2 j."""
    p, n = x.shape
    counts = np.zeros((n, n + 3), dtype=np.int64)
    m = x.astype(np.int64) @ y.astype(np.int64)
    for i in range(n):
        for mu in range(p):
            s = int(x[mu, i]) * int(y[i])
            level = (int(m[mu]) + n + 2) // 2
            if field:
                counts[i, level] += s
            else:
                counts[i, level] += 1
                counts[i, (int(m[mu]) - 2 * s + n + 2) // 2] -= 1
    return counts


@pytest.mark.parametrize("field", [False, True], ids=["energy", "field"])
def test_level_counts_match_their_definition(field):
    """kernels.exact.flip_gain_counts (stability rows) and kernels.dynamics.unit_gain_counts (one unit
    of a relaxing state) against the naive definition, duplicates and N across a word boundary."""
    from capacity_cli.kernels.bits import pack_rows
    from capacity_cli.kernels.dynamics import unit_gain_counts
    from capacity_cli.kernels.exact import flip_gain_counts

    rng = np.random.default_rng(11)
    for n, p in [(3, 1), (7, 5), (16, 9), (65, 12), (130, 4)]:
        x = rng.choice(np.array([-1, 1], dtype=np.int8), size=(p, n))
        if p > 2:
            x[2] = x[0]  # a duplicate
        packed, sel = pack_rows(x), (x > 0).astype(np.int8)
        counts = np.empty((n, n + 3), dtype=np.int64)
        for r in range(p):
            flip_gain_counts(r, p, packed, sel, n, field, counts)
            np.testing.assert_array_equal(counts, naive_level_counts(x, x[r], field))
        y = rng.choice(np.array([-1, 1], dtype=np.int64), size=n)
        m = x.astype(np.int64) @ y
        xt = np.ascontiguousarray(x.T)
        expected = naive_level_counts(x, y, field)
        one = np.empty(n + 3, dtype=np.int64)
        for i in range(n):
            unit_gain_counts(m, xt[i], y[i], n, p, field, one)
            np.testing.assert_array_equal(one, expected[i])
