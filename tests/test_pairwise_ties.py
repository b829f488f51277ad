"""Exact ties of the pairwise family (docs/theory.md section 11): the ``stable`` decisions of every
rule against twins in exact rational arithmetic (tests/naive_pairwise.py, fractions.Fraction),
on constructed ties (pinv units with P_ii = 1, Storkey's zero rows, duplicated patterns) and on
many small random sets; the dynamics' tie band on the same kind of sets; the CLI's pinv capacity."""

from __future__ import annotations

import zlib
from fractions import Fraction

import naive_pairwise
import numpy as np
import pytest
from click.testing import CliRunner

from capacity_cli.cli import main
from capacity_cli.criteria import Overlap, Retrieve, Stable, cue_flips
from capacity_cli.datasets import PatternSpec, pattern_source
from capacity_cli.families.pairwise import exact
from capacity_cli.families.pairwise import model as lib
from capacity_cli.families.pairwise.model import (
    PairwiseChecker,
    PairwiseModel,
    learn,
    relax_patterns,
    stability_error_bound,
    stable_patterns,
    unit_stabilities,
)
from capacity_cli.results import load_results

RULES = ["hebbian", "hebbian-diag", "storkey", "pinv", "perceptron", "palimpsest"]


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def model_for(rule: str, forget_eps: float = 2.0) -> PairwiseModel:
    if rule == "palimpsest":
        return PairwiseModel(rule, forget_eps=forget_eps)
    return PairwiseModel(rule)


def exact_couplings(model: PairwiseModel, x: np.ndarray):
    """The rule's W in exact arithmetic (ints or fractions), from tests/naive_pairwise.py."""
    n = x.shape[1]
    if model.rule in ("hebbian", "hebbian-diag"):
        return naive_pairwise.hebbian(x, diagonal=model.rule == "hebbian-diag").astype(np.int64).tolist()
    if model.rule == "perceptron":
        return naive_pairwise.perceptron(x, model.margin, model.max_epochs)[0].astype(np.int64).tolist()
    if model.rule == "storkey":
        return naive_pairwise.storkey_exact(x)
    if model.rule == "pinv":
        return naive_pairwise.pinv_exact(x)
    return naive_pairwise.palimpsest_exact(x, model.decay(n))


def tied_set(rng: np.random.Generator, p: int, n: int) -> np.ndarray:
    """p random +-1 patterns, one of them a copy (or negation) of an earlier one, and one that
    differs from an earlier one in a single unit (pinv: that unit's e_i lies in the span)."""
    x = rng.choice(np.array([-1, 1], dtype=np.int8), size=(p, n))
    if p >= 2:
        x[1] = x[0]
        x[1, rng.integers(n)] *= -1
    if p >= 4:
        x[3] = x[int(rng.integers(3))] * rng.choice([-1, 1])
    return x


def assert_exact(model: PairwiseModel, x: np.ndarray) -> int:
    """The library's stable decisions equal the exact twin's; returns the number of exact ties."""
    w, state = learn(model, x)
    twin = exact_couplings(model, x)
    exact_e = naive_pairwise.exact_stabilities(twin, x)
    assert np.array_equal(stable_patterns(w, x, model, state), naive_pairwise.exact_stable_mask(twin, x)), \
        (model.rule, x.tolist())
    if model.rule != "pinv":  # the float product is within its certified bound, unit by unit
        e = unit_stabilities(w, x)
        bound = stability_error_bound(model, w, state)
        for r, row in enumerate(exact_e):
            for i, v in enumerate(row):
                assert abs(Fraction(float(e[r, i])) - v) <= Fraction(float(bound[i])), (model.rule, r, i)
    return sum(v == 0 for row in exact_e for v in row)


# --------------------------------------------------------------------------------------------------
# constructed ties
# --------------------------------------------------------------------------------------------------


def test_pinv_unit_in_the_span_is_an_exact_tie_and_stable():
    """Patterns that differ in unit 0 only put e_0 in the span: P_00 = 1, unit 0's zero-diagonal
    row is exactly 0 and y_0 h_0 = 1 - P_00 = 0, a tie that keeps the state."""
    for n in (5, 8, 12):
        x = np.ones((2, n), dtype=np.int8)
        x[1, 0] = -1
        x = np.vstack([x, rng_for("span", n).choice(np.array([-1, 1], dtype=np.int8), size=(n - 3, n))])
        assert naive_pairwise.pinv_diagonal_exact(x)[0] == 1
        assert all(v == 0 for v in naive_pairwise.pinv_exact(x)[0])
        assert assert_exact(PairwiseModel("pinv"), x) >= len(x)  # unit 0 ties in every pattern
        checker = PairwiseChecker(PairwiseModel("pinv"), Stable(), lambda q, x=x: x[:q], n, n)
        assert all(checker(p) for p in range(1, len(x) + 1))


@pytest.mark.parametrize("n", [3, 5, 7, 8])
def test_storkey_zero_row_is_an_exact_tie(n):
    """Two Storkey patterns that differ in one unit leave that unit's row exactly zero (float64:
    about 1e-16): the tie keeps the state in both patterns."""
    x = np.ones((2, n), dtype=np.int8)
    x[1, n - 1] = -1
    twin = naive_pairwise.storkey_exact(x)
    assert all(v == 0 for v in twin[n - 1])
    assert assert_exact(PairwiseModel("storkey"), x) == 2
    w, state = learn(PairwiseModel("storkey"), x)
    assert stable_patterns(w, x, PairwiseModel("storkey"), state).all()


@pytest.mark.parametrize("rule", RULES)
def test_duplicated_and_one_unit_apart_patterns(rule):
    model = model_for(rule)
    ties = 0
    for n in (4, 6, 9, 12):
        for p in (2, 4, n - 1):
            ties += assert_exact(model, tied_set(rng_for("dup", rule, n, p), p, n))
    if rule in ("pinv", "storkey", "hebbian"):
        assert ties > 0  # the sets do hold exact ties


def test_pinv_n_minus_one_sets_with_ties():
    """P = N - 1 random sets (N = 6..12) whose span holds some e_i (found by the exact twin; most
    of them at these sizes): every pattern is stable. The float product with a band relative to
    the unit's own row called every one of them unstable."""
    found = 0
    for n in range(6, 13):
        for trial in range(5):
            x = pattern_source(PatternSpec(n), (0, trial))(n - 1)
            if any(v == 1 for v in naive_pairwise.pinv_diagonal_exact(x)):
                found += 1
                assert assert_exact(PairwiseModel("pinv"), x) > 0
    assert found >= 20


# --------------------------------------------------------------------------------------------------
# random small sets, decision for decision
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES)
def test_random_small_sets_match_the_exact_twin(rule):
    rng = rng_for("random", rule)
    for _ in range(25):
        n = int(rng.integers(4, 13))
        p = int(rng.integers(1, n if rule == "pinv" else 2 * n))
        x = rng.choice(np.array([-1, 1], dtype=np.int8), size=(p, n))
        if rng.random() < 0.5:
            x = tied_set(rng, p, n)
        assert_exact(model_for(rule, float(rng.choice([0.5, 4.1, 9.0]))), x)


@pytest.mark.parametrize("rule", ["storkey", "palimpsest"])
def test_exact_fallback_decides_every_open_unit(rule, monkeypatch):
    """With the error bound forced huge every unit is left open, so every decision comes from the
    exact integer arithmetic (families.pairwise.exact); they still equal the twin's."""
    monkeypatch.setattr(lib, "stability_error_bound", lambda model, w, state: np.full(w.shape[0], np.inf))
    rng = rng_for("fallback", rule)
    for _ in range(15):
        n = int(rng.integers(3, 11))
        p = int(rng.integers(1, 2 * n))
        assert_exact(model_for(rule, float(rng.choice([0.5, 4.1]))), tied_set(rng, p, n))


def test_exact_helpers_match_the_fraction_twins():
    rng = rng_for("helpers")
    for _ in range(10):
        n = int(rng.integers(3, 9))
        p = int(rng.integers(1, 7))
        x = tied_set(rng, p, n)
        v = exact.storkey_scaled(x)
        twin = naive_pairwise.storkey_exact(x)
        assert all(v[i, j] == twin[i][j] * n**p for i in range(n) for j in range(n))
        lam = PairwiseModel("palimpsest", forget_eps=3.0).decay(n)
        pal = naive_pairwise.exact_stabilities(naive_pairwise.palimpsest_exact(x, lam), x)
        sto = naive_pairwise.exact_stabilities(twin, x)
        for r in range(p):
            for i in range(n):
                assert exact.palimpsest_sign(x, lam, x[r], i) == (pal[r][i] > 0) - (pal[r][i] < 0)
                assert exact.storkey_sign(v, x[r], i) == (sto[r][i] > 0) - (sto[r][i] < 0)


def test_palimpsest_bound_survives_prefix_extension():
    """The checker extends the palimpsest state prefix by prefix (lambda^k scaling each time): the
    carried bound still covers the float error, and decisions equal the twin's."""
    n = 9
    model = PairwiseModel("palimpsest", forget_eps=1.5)
    x = tied_set(rng_for("extend"), 30, n)
    state = lib.initial_state(model, n)
    for stop in (1, 2, 5, 11, 20, 30):
        state = lib.extend_state(model, state, x[state.p:stop])
        w = lib.couplings_of_state(model, state, x[:stop])
        twin = naive_pairwise.palimpsest_exact(x[:stop], model.decay(n))
        err = np.abs(np.array([[float(v) for v in row] for row in twin]) - w).max()
        assert err <= state.extra["err"]
        assert np.array_equal(stable_patterns(w, x[:stop], model, state),
                              naive_pairwise.exact_stable_mask(twin, x[:stop]))


def test_palimpsest_with_underflowing_powers():
    """lambda about 1e-49 (N = 4, eps = 30): old patterns' weights underflow to subnormals and 0;
    the bound's subnormal terms cover that, and the decisions are the twin's."""
    model = PairwiseModel("palimpsest", forget_eps=30.0)
    for trial in range(5):
        x = tied_set(rng_for("underflow", trial), 12, 4)
        assert_exact(model, x)


def test_stable_patterns_needs_the_state_of_exactly_those_patterns():
    x = tied_set(rng_for("state"), 5, 8)
    w, state = learn(PairwiseModel("storkey"), x)
    with pytest.raises(ValueError, match="learning state"):
        stable_patterns(w, x[:4], PairwiseModel("storkey"), state)


# --------------------------------------------------------------------------------------------------
# the dynamics: the tie band at the matrix's scale
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["pinv", "storkey"])
@pytest.mark.parametrize("criterion", [Retrieve(noise=0.25, max_sweeps=8),
                                       Overlap(min_overlap=0.5, max_sweeps=8)], ids=lambda c: c.name)
def test_relaxation_with_exact_ties_matches_the_exact_twin(rule, criterion):
    """Relaxations under couplings with exactly zero rows (float64: ~1e-16) flip, sweep and
    converge as with exact fields: the zero row's unit never flips. (With a band relative to the
    unit's own row, half of these cases differed.)"""
    rng = rng_for("relax", rule, criterion.name)
    for _ in range(8):
        n = int(rng.integers(5, 11))
        x = tied_set(rng, n - 2 if rule == "pinv" else 3, n)
        model = PairwiseModel(rule)
        w, _ = learn(model, x)
        _, final, sweeps, conv = relax_patterns(w, x, criterion, 21)
        tf, ts, tc = naive_pairwise.relax_prefix_exact(exact_couplings(model, x), x,
                                                       cue_flips(criterion.noise, n), 8, 21)
        assert np.array_equal(final, tf) and np.array_equal(sweeps, ts) and np.array_equal(conv, tc)


def test_band_twin_relaxation_agrees_on_zero_rows():
    """tests/naive_pairwise.relax (float fields, the package's band) agrees with the kernel."""
    n = 7
    x = np.ones((2, n), dtype=np.int8)
    x[1, 3] = -1
    w, _ = learn(PairwiseModel("storkey"), x)
    _, final, sweeps, conv = relax_patterns(w, x, Retrieve(noise=0.3, max_sweeps=5), 4)
    tf, ts, tc = naive_pairwise.relax_prefix(w, x, cue_flips(0.3, n), 5, 4)
    assert np.array_equal(final, tf) and np.array_equal(sweeps, ts) and np.array_equal(conv, tc)


# --------------------------------------------------------------------------------------------------
# the CLI: pinv stores N - 1 in every trial
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [12, 16])
def test_cli_pinv_stores_n_minus_one_in_every_trial(n, tmp_path):
    """The issue's command (at 20 trials; 100 by hand): before exact ties, 74 of 100 trials at
    N = 12 fell below N - 1 = 11."""
    out = tmp_path / "pinv.csv"
    result = CliRunner().invoke(main, ["measure", "--model", "pairwise", "--rule", "pinv", "--n", str(n),
                                       "--trials", "20", "--seed", "0", "--threads", "1", "--no-progress",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [r["p_max"] for r in load_results(out).records] == [n - 1] * 20
