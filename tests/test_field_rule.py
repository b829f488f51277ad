"""The field rule (Krotov & Hopfield 2021, modern.md D): y_i <- sign(sum_mu xi_mu,i F'(xi_mu . y)), ties
keep the state. Kernels and checkers against the exact twins of tests/naive.py, decision for decision.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from capacity_cli.criteria import Overlap, Retrieve, Stable, cue_flips
from capacity_cli.models import BinaryDAM
from capacity_cli.search import DynamicsChecker, StabilityChecker, capacity_of_sequence, largest_storable

try:  # tests/ as a package
    from . import naive
except ImportError:
    import naive

PM1 = np.array([-1, 1], dtype=np.int8)
FIELD_MODELS = [BinaryDAM("hebbian", rule="field"), BinaryDAM("poly", degree=2, rule="field"),
                BinaryDAM("poly", degree=3, rule="field"), BinaryDAM("poly", degree=4, rule="field"),
                BinaryDAM("rectpoly", degree=3, rule="field"), BinaryDAM("exp", beta=0.5, rule="field"),
                BinaryDAM("exp", beta=2.0, rule="field"), BinaryDAM("poly", degree=30, rule="field"),
                BinaryDAM("exp", beta=30.0, rule="field")]
IDS = [m.label.replace(" ", "-") for m in FIELD_MODELS]


def source(x):
    return lambda q: x[:q]


def tie_cases(n: int, rng) -> list[np.ndarray]:
    xi = rng.choice(PM1, size=n)
    near = xi.copy()
    near[0] *= -1
    return [np.array([xi, -xi], dtype=np.int8),  # odd degree: F' even, every h_i = 0
            np.array([xi, xi, near], dtype=np.int8),  # duplicates and a distance-1 partner
            np.array([xi], dtype=np.int8)]


#: (model, which cases): every case for the exact-integer models; the exp models' cases of more than
#: 100 entries (400-digit twins) in the slow suite.
STABILITY_RUNS = [pytest.param(m, "all", id=i) for m, i in zip(FIELD_MODELS, IDS, strict=True)
                  if m.name != "exp"] + \
    [pytest.param(m, size, id=f"{i}-{size}", marks=pytest.mark.slow if size == "large" else ())
     for m, i in zip(FIELD_MODELS, IDS, strict=True) if m.name == "exp" for size in ("small", "large")]


@pytest.mark.parametrize("model,size", STABILITY_RUNS)
def test_stability_matches_naive(model, size):
    rng = np.random.default_rng(zlib.crc32(model.label.encode()))
    cases = tie_cases(9, rng) + tie_cases(64, rng)
    for n, p in [(5, 3), (8, 12), (13, 20), (33, 30), (65, 9)]:
        cases.append(rng.choice(PM1, size=(p, n)))
    if size != "all":
        cases = [x for x in cases if (x.size <= 100) == (size == "small")]
    for x in cases:
        p, n = x.shape
        expected = naive.stable_mask(model, x)
        checker = StabilityChecker(model, Stable(threshold=1 / p), source(x), n, p)
        stored = checker(p)
        assert stored == bool(expected.any())
        if stored:
            np.testing.assert_array_equal(checker.stable, expected)


def test_hebbian_field_rule_is_the_network_with_its_diagonal():
    """h = X^T X y keeps W_ii = P: more patterns are fixed points than under the energy rule."""
    rng = np.random.default_rng(3)
    differs = 0
    for _ in range(40):
        x = rng.choice(PM1, size=(int(rng.integers(2, 25)), int(rng.integers(4, 30))))
        p, n = x.shape
        checker = StabilityChecker(BinaryDAM("hebbian", rule="field"),
                                   Stable(threshold=1 / p), source(x), n, p)
        mask = naive.hebbian_diagonal_stable_mask(x)
        assert checker(p) == bool(mask.any())
        if mask.any():
            np.testing.assert_array_equal(checker.stable, mask)
        energy = naive.hebbian_stable_mask(x)
        assert (mask | ~energy).all()  # every energy-rule fixed point is a field-rule fixed point
        differs += int((mask != energy).sum())
    assert differs > 0


@pytest.mark.parametrize("model", [  # exp beta = 2 and 30 (400-digit twins) in the slow suite
    pytest.param(m, id=i, marks=pytest.mark.slow if m.name == "exp" and m.beta > 1 else ())
    for m, i in zip(FIELD_MODELS, IDS, strict=True)])
@pytest.mark.parametrize("criterion", [Retrieve(noise=0.2, max_sweeps=20, threshold=0.05),
                                       Overlap(min_overlap=0.9, noise=0.1, max_sweeps=3, threshold=0.05)],
                         ids=["retrieve", "overlap"])
def test_dynamics_match_naive(model, criterion):
    rng = np.random.default_rng(zlib.crc32(f"{model.label} {criterion.name}".encode()))
    for n, p in [(7, 4), (16, 10), (25, 6)]:
        x = rng.choice(PM1, size=(p, n))
        checker = DynamicsChecker(model, criterion, source(x), n, p, seed=11)
        checker(p)
        final, sweeps, converged = naive.relax_prefix(model, x, p, cue_flips(criterion.noise, n),
                                                      criterion.max_sweeps, int(checker.seed))
        if len(checker.final_overlap) == p:  # stored: every output is complete
            np.testing.assert_array_equal(checker.final_overlap, final)
            np.testing.assert_array_equal(checker.sweeps, sweeps)
            np.testing.assert_array_equal(checker.converged, converged)


@pytest.mark.parametrize("model,p,n", [
    (BinaryDAM("poly", degree=3, rule="field"), 60, 12),
    (BinaryDAM("exp", beta=1.0, rule="field"), 24, 8),
    pytest.param(BinaryDAM("exp", beta=1.0, rule="field"), 60, 12, marks=pytest.mark.slow),
    (BinaryDAM("poly", degree=30, rule="field"), 60, 12)], ids=lambda v: getattr(v, "label", v))
def test_whole_search_matches_naive(model, p, n):
    for trial in range(3):
        x = np.random.default_rng([9, trial]).choice(PM1, size=(p, n))
        got = capacity_of_sequence(model, Stable(), source(x), n, len(x)).p_max
        want = largest_storable(lambda p, x=x: bool(naive.stable_mask(model, x[:p]).all()), len(x)).p_max
        assert got == want


def test_rules_differ_and_energy_rule_matches_naive():
    """Same pattern sequences, both rules: each P_max is the naive twin's for that rule (the energy
    rule's from literal energy differences, naive.flip_gain; the field rule's from y_i h_i), found by
    testing P = 1, 2, ... in turn; and the two rules give different P_max."""
    assert BinaryDAM("poly", degree=3) == BinaryDAM("poly", degree=3, rule="energy")  # the default
    x = np.random.default_rng(5).choice(PM1, size=(400, 16))
    got: dict[str, list[int]] = {"energy": [], "field": []}
    for k in range(5):
        xs = x[k * 40:]
        for rule, found in got.items():
            model = BinaryDAM("poly", degree=3, rule=rule)
            p_max = capacity_of_sequence(model, Stable(), source(xs), 16, 360).p_max
            want, capped = naive.largest_storable_linear(
                lambda p, model=model, xs=xs: bool(naive.stable_mask(model, xs[:p]).all()), 360)
            assert not capped and p_max == want, (rule, k)
            found.append(p_max)
    assert got["energy"] != got["field"]
