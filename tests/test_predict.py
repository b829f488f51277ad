"""Tests of the finite-N prediction (capacity_cli.predict, docs/theory.md section 14)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from capacity_cli.criteria import Stable
from capacity_cli.errors import HopcapError
from capacity_cli.models import BinaryDAM
from capacity_cli.predict import (
    crosstalk_law,
    exact_support,
    log_stored,
    predict_capacity,
    unit_failure,
    unit_failure_conditioned,
    unit_failure_curve,
    unit_failure_exact,
    unit_failure_saddlepoint,
)
from capacity_cli.search import make_checker

try:  # tests/ as a package
    from . import naive_predict
except ImportError:
    import naive_predict

INTEGER_MODELS = [BinaryDAM("hebbian"), BinaryDAM("poly", degree=2), BinaryDAM("poly", degree=3),
                  BinaryDAM("poly", degree=4), BinaryDAM("rectpoly", degree=3),
                  BinaryDAM("rectpoly", degree=2)]
TINY = [(2, 3), (3, 2), (3, 3), (4, 3), (5, 3), (6, 3), (4, 4), (3, 5), (2, 6), (5, 4)]


@pytest.mark.parametrize("model", INTEGER_MODELS, ids=lambda m: m.label)
@pytest.mark.parametrize("n,p", TINY)
def test_exact_convolution_matches_enumeration(model, n, p):
    # the only error of the lattice convolution is the FFT's rounding: 1e-12 relative
    expected = naive_predict.unit_failure_enumerated(model, n, p)
    got = math.exp(unit_failure_exact(crosstalk_law(model, n), p))
    if expected == 0:
        assert got == 0.0
    else:
        assert got == pytest.approx(float(expected), rel=1e-12)


@pytest.mark.parametrize("beta", [1.0, 0.3, 0.05, math.log(2) / 2])
@pytest.mark.parametrize("n,p", [(2, 3), (3, 3), (4, 3), (3, 4), (4, 4), (5, 3), (2, 6)])
def test_exp_level_convolution_matches_enumeration(beta, n, p):
    # every level and every term conditioned on: exact up to float sums (ties decided exactly)
    model = BinaryDAM("exp", beta=beta)
    expected = naive_predict.unit_failure_enumerated(model, n, p)
    got = math.exp(unit_failure_conditioned(crosstalk_law(model, n), p, big_levels=n, big_terms=p - 1))
    assert got == pytest.approx(float(expected), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("model", INTEGER_MODELS, ids=lambda m: m.label)
@pytest.mark.parametrize("n,p", [(3, 3), (4, 3), (3, 4), (5, 3), (2, 6)])
def test_integer_level_enumeration_matches_enumeration(model, n, p):
    # every level and term conditioned on: exact integer decisions, float sums of probabilities
    expected = naive_predict.unit_failure_enumerated(model, n, p)
    got = math.exp(unit_failure_conditioned(crosstalk_law(model, n), p, big_levels=n, big_terms=p - 1))
    assert got == pytest.approx(float(expected), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("model,n,ps", [
    (BinaryDAM("rectpoly", degree=7), 10, [13, 20]),
    pytest.param(BinaryDAM("poly", degree=8), 12, [10], marks=pytest.mark.slow),
    (BinaryDAM("poly", degree=5), 16, [20, 40, 60]),
], ids=["rectpoly7", "poly8", "poly5"])
def test_conditioned_saddlepoint_against_convolution_at_high_degree(model, n, ps):
    # Lugannani-Rice alone is low by a factor 2-3 here (single large jumps make the tail); with the
    # top levels enumerated the error measures <= 3% at these P: 5% allowed.
    law = crosstalk_law(model, n)
    for p in ps:
        exact = unit_failure_exact(law, p)
        assert unit_failure_conditioned(law, p) == pytest.approx(exact, abs=0.05)


def test_hebbian_and_poly2_have_the_same_law():
    for n in (5, 16, 33):
        a, b = crosstalk_law(BinaryDAM("hebbian"), n), crosstalk_law(BinaryDAM("poly", degree=2), n)
        assert a.lattice == b.lattice and a.margin == b.margin
        assert unit_failure(a, 7) == unit_failure(b, 7)


def test_crosstalk_law_is_normalised_and_matches_the_gain_table():
    for model in [*INTEGER_MODELS, BinaryDAM("exp", beta=0.7)]:
        n = 21
        law = crosstalk_law(model, n)
        assert np.exp(law.log_weight).sum() == pytest.approx(1.0, rel=1e-13)
        table = model.gain_table(n).astype(np.float64)  # g(m) at index m + n
        g = table[[m + n for m in range(n, -n, -2)]]
        assert law.magnitude == pytest.approx(np.abs(g) / g[0], rel=1e-13, abs=1e-300)  # T = +-|g|


@pytest.mark.parametrize("model,n,ps", [
    (BinaryDAM("hebbian"), 256, [10, 20, 40, 80]),
    (BinaryDAM("poly", degree=3), 64, [20, 100, 300]),
    (BinaryDAM("rectpoly", degree=3), 64, [50, 200]),
], ids=["hebbian", "poly3", "rectpoly3"])
def test_saddlepoint_tail_against_convolution(model, n, ps):
    # Lugannani-Rice's relative error is O(1/(P-1)) beyond the continuity correction; here (tails
    # 1e-10..1e-2) it measures below 0.7%: a 1% tolerance fails on any error in the tilt or lattice.
    law = crosstalk_law(model, n)
    for p in ps:
        exact = unit_failure_exact(law, p)
        assert 1e-10 < math.exp(exact) < 0.05
        assert unit_failure_saddlepoint(law, p)[0] == pytest.approx(exact, abs=0.01)


def test_method_switch():
    law = crosstalk_law(BinaryDAM("poly", degree=3), 1024)
    assert exact_support(law, 100) > 1 << 17
    assert unit_failure_curve(law, np.array([100]))[1] == "conditioned saddlepoint"
    assert unit_failure_curve(crosstalk_law(BinaryDAM("hebbian"), 64), np.array([8]))[1] == "exact"
    assert unit_failure_curve(crosstalk_law(BinaryDAM("exp"), 12), np.array([8]))[1] == \
        "conditioned saddlepoint"
    assert unit_failure(law, 1) == -math.inf  # one pattern is always stable


def _simulate_unit(model: BinaryDAM, n: int, p: int, reps: int, seed: int) -> float:
    """Frequency of dE < 0 at unit 0 of pattern 0 among p random patterns, straight from F."""
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([-1, 1]), size=(reps, p, n))
    x *= x[:, :1, :]  # pattern 0 -> all ones (gauge), the others stay uniform
    m = x[:, 1:, :].sum(axis=2).astype(np.float64)
    s = x[:, 1:, 0].astype(np.float64)
    beta = model.beta

    def f(v):
        return np.exp(beta * (v - n))

    de = (f(n) - f(n - 2)) + (f(m) - f(m - 2 * s)).sum(axis=1)
    return float((de < -1e-12 * (f(n) - f(n - 2))).mean())


@pytest.mark.parametrize("beta,n,p", [(1.0, 12, 32), (2.0, 12, 64), (0.3, 12, 32), (0.1, 16, 48)])
def test_exp_conditioned_saddlepoint_against_simulation(beta, n, p):
    # 4 binomial standard errors of the simulation plus 5% for the saddlepoint of the small terms
    # (measured up to ~3% against 400 000 draws at these sizes).
    model = BinaryDAM("exp", beta=beta)
    reps = 40_000
    sim = _simulate_unit(model, n, p, reps, seed=11)
    pred = math.exp(unit_failure_conditioned(crosstalk_law(model, n), p))
    assert abs(pred - sim) <= 4 * math.sqrt(sim * (1 - sim) / reps) + 0.05 * pred


def _stored_fraction(model, n, p, threshold, reps, seed):
    rng = np.random.default_rng(seed)
    ok = 0
    for _ in range(reps):
        x = rng.choice(np.array([-1, 1], dtype=np.int8), size=(p, n))
        ok += make_checker(model, Stable(threshold), lambda q, x=x: x[:q], n, p)(p)
    return ok / reps


@pytest.mark.parametrize("model,n,p,threshold,gap", [
    (BinaryDAM("exp", beta=1.0), 12, 12, 1.0, 0.0),
    (BinaryDAM("exp", beta=1.0), 12, 24, 1.0, 0.0),
    (BinaryDAM("hebbian"), 128, 12, 1.0, 0.12),
    (BinaryDAM("poly", degree=3), 32, 24, 1.0, 0.12),
    (BinaryDAM("hebbian"), 64, 10, 0.8, 0.12),
], ids=["exp-12", "exp-24", "hebbian", "poly3", "hebbian-q0.8"])
def test_stored_prefix_against_simulation(model, n, p, threshold, gap):
    """s(P) against the binary checker on random sets (the exact criterion hopcap measures).

    Tolerance: 4 binomial standard errors, plus ``gap`` on one side. The independence of the
    (pattern, unit) events is an approximation: units of one pattern share its overlaps, a common
    factor of relative size ~sqrt(2/N) that clumps failures, so P(no failure) is larger than the
    product (docs/theory.md section 14). Measured gaps at these sizes are 0.03-0.07 (0.12 allowed);
    for exp, whose failures come from single near-duplicate patterns, none (two-sided).
    """
    reps = 1500
    sim = _stored_fraction(model, n, p, threshold, reps, seed=3)
    law = crosstalk_law(model, n)
    lu, _ = unit_failure_curve(law, np.array([p]))
    pred = float(np.exp(log_stored(lu, np.array([p]), n, threshold))[0])
    assert 0.05 < sim < 0.95
    sigma = math.sqrt(sim * (1 - sim) / reps)
    assert sim - 4 * sigma - gap <= pred <= sim + 4 * sigma


def test_capacity_distribution_is_consistent():
    pred = predict_capacity(BinaryDAM("poly", degree=3), 64)
    assert np.all(np.diff(pred.survival) <= 0)
    assert pred.survival[0] == 1.0 and pred.survival[-1] < 1e-12
    qs = [q for _, q in pred.quantiles]
    assert qs == sorted(qs)
    assert pred.quantile(0.05) < pred.mean < pred.quantile(0.95)
    assert 0 < pred.sd < pred.mean
    # the same number twice (deterministic)
    assert predict_capacity(BinaryDAM("poly", degree=3), 64).mean == pred.mean


def test_lower_threshold_stores_more():
    model = BinaryDAM("hebbian")
    assert predict_capacity(model, 128, 0.9).mean > predict_capacity(model, 128, 1.0).mean


def test_field_rule_is_refused():
    with pytest.raises(HopcapError):
        crosstalk_law(BinaryDAM("poly", degree=3, rule="field"), 16)


def _cli(*args):
    from click.testing import CliRunner

    from capacity_cli.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_prints_and_writes_measure_columns(tmp_path):
    import pandas as pd

    from capacity_cli.results import CONFIG_COLUMNS

    out = tmp_path / "pred.csv"
    result = _cli("predict", "--model", "poly", "--degree", "2,3", "--n", "16,32", "-o", out)
    assert result.exit_code == 0, result.output
    assert "N^2 / (18 ln N)" in result.output and "conditioned saddlepoint" in result.output
    frame = pd.read_csv(out)
    assert len(frame) == 4
    assert [c for c in frame.columns if c in CONFIG_COLUMNS] == \
        [c for c in CONFIG_COLUMNS if c in frame.columns]
    assert set(frame["degree"]) == {2, 3} and set(frame["n"]) == {16, 32}
    row = frame[(frame["degree"] == 3) & (frame["n"] == 32)].iloc[0]
    assert row["predicted_mean"] == pytest.approx(predict_capacity(BinaryDAM("poly", degree=3), 32).mean)
    assert row["predicted_q05"] <= row["predicted_q50"] <= row["predicted_q95"]


def test_cli_plot_draws_predictions(tmp_path):
    pred = tmp_path / "pred.csv"
    assert _cli("predict", "--model", "hebbian", "--n", "100,200", "-o", pred).exit_code == 0
    measured = tmp_path / "m.csv"
    assert _cli("measure", "--model", "hebbian", "--n", "100,200", "--trials", "3", "--no-progress",
                "-o", measured).exit_code == 0
    result = _cli("plot", measured, "--predict", pred, "-o", tmp_path / "fig")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fig.png").exists()
    bad = _cli("plot", measured, "--predict", measured, "-o", tmp_path / "fig2")
    assert bad.exit_code == 2 and "not a hopcap predict CSV" in bad.output


@pytest.mark.filterwarnings("error")
def test_far_tail_raises_no_numpy_warning():
    """hebbian at N = 1600: every large level's weight underflows to 0, which once gave 0 / 0 shares
    (a RuntimeWarning on every hopcap predict at that N); the capacity is unchanged by the fix."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = _cli("predict", "--model", "hebbian", "--n", "800,1600,3200")
        assert result.exit_code == 0, result.output
        assert "conditioned saddlepoint" in result.output
        law = crosstalk_law(BinaryDAM("hebbian"), 1600)
        assert np.exp(law.log_weight[:3]).sum() == 0.0  # the three largest levels underflow
        assert math.isfinite(unit_failure_conditioned(law, 80))
        assert predict_capacity(BinaryDAM("hebbian"), 1600).mean == pytest.approx(82.2, abs=0.05)


@pytest.mark.parametrize("args,message", [
    (["--model", "hebbian", "--criterion", "retrieve"], "stable only"),
    (["--model", "poly", "--correlation", "0.3"], "i.i.d. unbiased"),
    (["--model", "poly", "--min-distance", "4"], "i.i.d. unbiased"),
    (["--model", "poly", "--bias", "0.3"], "i.i.d. unbiased"),
    (["--model", "poly", "--rule", "field"], "energy rule"),
    (["--model", "softmax"], "binary models"),
    (["--model", "poly", "--degree", "3", "--threshold", "0"], "threshold"),
])
def test_cli_bad_input_is_one_line(args, message):
    result = _cli("predict", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
