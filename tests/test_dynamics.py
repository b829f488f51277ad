"""Update schemes and finite temperature (docs/theory.md section 15): the kernels against their
naive twins (tests/naive_dynamics.py), sync 2-cycles on constructed cases, thread independence,
the default scheme unchanged, CSV columns and their legacy values, and bad input."""

from __future__ import annotations

import math

import naive
import naive_dynamics
import naive_pairwise
import numba
import numpy as np
import pytest
from click.testing import CliRunner
from scipy import optimize

from capacity_cli.cli import main
from capacity_cli.criteria import (
    Overlap,
    OverlapMean,
    Retrieve,
    cue_flips,
    make_criterion,
    target_overlap,
)
from capacity_cli.errors import HopcapError
from capacity_cli.families import binary, family_of
from capacity_cli.families.pairwise.model import pattern_successes, relax_patterns
from capacity_cli.kernels.dynamics import relax_prefix, relax_prefix_scheme, relax_rows_scheme
from capacity_cli.models import BinaryDAM, gain_arithmetic, glauber_unit
from capacity_cli.results import check_row, config_key
from capacity_cli.search import DynamicsChecker

MODELS = (BinaryDAM("hebbian"), BinaryDAM("poly", degree=3), BinaryDAM("rectpoly", degree=3),
          BinaryDAM("exp", beta=0.5), BinaryDAM("hebbian", rule="field"),
          BinaryDAM("poly", degree=3, rule="field"))
IDS = [m.label.replace(" ", "-") for m in MODELS]
SCHEMES = naive_dynamics.SCHEMES
#: (N, P, flipped cue bits, sweep cap): odd and even N, P = 1, one-sweep recall.
CASES = [(6, 1, 1, 5), (7, 3, 2, 10), (10, 4, 3, 1), (13, 5, 3, 8), (16, 6, 5, 12)]


def patterns(seed, p, n):
    rng = np.random.default_rng(seed)
    return np.where(rng.random((p, n)) < 0.5, 1, -1).astype(np.int8)


def kernel(model, x, p, n_flip, max_sweeps, seed, scheme, temperature=0.0, window=0, groups=3):
    """relax_rows_scheme serially and relax_prefix_scheme over ``groups`` groups, asserted equal
    (one stream per pattern: the thread count cannot matter). Returns (score, sweeps, converged,
    cycled)."""
    n = x.shape[1]
    a = gain_arithmetic(model, n, p)
    unit = glauber_unit(model, n, a.gain) if temperature > 0 else 1.0
    beta_shift = float(model.beta) if a.shiftable else 0.0
    args = (x, np.ascontiguousarray(x.T), p, a.gain, model.field, a.exact, a.shiftable, a.levels.table,
            a.levels.ratio_form, n_flip, -(10**9), max_sweeps, np.uint64(seed),
            SCHEMES.index(scheme), float(temperature), unit, beta_shift, window, p + 1)
    runs = []
    for parallel in (False, True):
        outs = (np.zeros(p, np.int64), np.zeros(p, np.int64), np.zeros(p, np.bool_),
                np.zeros(p, np.bool_), np.zeros(p, np.bool_))
        if parallel:
            with numba.parallel_chunksize(1):
                relax_prefix_scheme(*args, groups, *outs)
        else:
            relax_rows_scheme(0, 1, *args, np.zeros(1, np.int64), *outs)
        assert not outs[3].any()  # level 2 decides these random cases
        runs.append((outs[0], outs[1], outs[2], outs[4]))
    for a_, b_ in zip(*runs, strict=True):
        np.testing.assert_array_equal(a_, b_)
    return runs[0]


def assert_same(got, want):
    for a_, b_ in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(a_), np.asarray(b_))


@pytest.mark.parametrize("model", MODELS, ids=IDS)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("n,p,n_flip,max_sweeps", CASES)
def test_schemes_at_zero_temperature_match_naive(model, scheme, n, p, n_flip, max_sweeps):
    x = patterns([31, n, p], p, n)
    seed = 500 + n
    got = kernel(model, x, p, n_flip, max_sweeps, seed, scheme)
    assert_same(got, naive_dynamics.relax_prefix(model, x, p, n_flip, max_sweeps, seed, scheme))


def test_tied_cases_are_covered():
    """Even N hebbian with few patterns has exact ties (dE = 0): the twins agree on them above."""
    x = patterns([31, 16, 6], 6, 16)
    gains = [naive.flip_gain(BinaryDAM("hebbian"), x, x[nu], i) for nu in range(6) for i in range(16)]
    assert any(g == 0 for g in gains)


#: T in the model's units, of the order of the flip gains at retrieval (so both outcomes occur).
TEMPERATURES = {"hebbian": 8.0, "poly a=3": 300.0, "rectpoly a=3": 300.0, "exp beta=0.5": 0.3,
                "hebbian field": 8.0, "poly a=3 field": 300.0}


@pytest.mark.parametrize("model", MODELS, ids=IDS)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("n,p,window", [(7, 2, 0), (12, 3, 3), (9, 1, 2)])
def test_glauber_matches_naive(model, scheme, n, p, window):
    x = patterns([37, n, p], p, n)
    t = TEMPERATURES[model.label]
    max_sweeps = 6
    got = kernel(model, x, p, 1, max_sweeps, 77, scheme, t, window)
    want = naive_dynamics.relax_prefix(model, x, p, 1, max_sweeps, 77, scheme, t, window)
    assert_same(got, want)
    assert (got[1] == max_sweeps).all() and not got[2].any()  # T > 0 runs every sweep


def test_glauber_flips_some_units_and_not_others():
    """The T > 0 cases above are not degenerate: states differ from the T = 0 ones and between
    seeds."""
    x = patterns([37, 12, 3], 3, 12)
    model = BinaryDAM("hebbian")
    cold = kernel(model, x, 3, 1, 6, 77, "random")[0]
    hot = [kernel(model, x, 3, 1, 6, seed, "random", 8.0)[0] for seed in range(5)]
    assert any(not np.array_equal(h, cold) for h in hot)
    assert len({tuple(h) for h in hot}) > 1


@pytest.mark.parametrize("model", MODELS[:4], ids=IDS[:4])
@pytest.mark.parametrize("n,p,n_flip,max_sweeps", CASES)
def test_random_scheme_kernel_is_the_default_kernel(model, n, p, n_flip, max_sweeps):
    """relax_scheme with RANDOM at T = 0 makes the decisions of kernels.dynamics.relax, flip for flip."""
    x = patterns([41, n, p], p, n)
    a = gain_arithmetic(model, n, p)
    outs = (np.zeros(p, np.int64), np.zeros(p, np.int64), np.zeros(p, np.bool_), np.zeros(p, np.bool_))
    relax_prefix(x, np.ascontiguousarray(x.T), p, a.gain, model.field, a.exact, a.shiftable,
                 a.levels.table, a.levels.ratio_form, n_flip, -(10**9), max_sweeps, np.uint64(9),
                 p + 1, 2, *outs)
    got = kernel(model, x, p, n_flip, max_sweeps, 9, "random")
    assert_same(got[:3], outs[:3])
    assert not got[3].any()


@pytest.mark.parametrize("n", [2, 4, 8, 16])
def test_sync_two_cycle_detected(n):
    """One all-ones pattern, cue with half the units flipped: every unit's field opposes it, so
    sync negates the whole state and back (a 2-cycle); asynchronous dynamics converge."""
    x = np.ones((1, n), dtype=np.int8)
    score, sweeps, converged, cycled = kernel(BinaryDAM("hebbian"), x, 1, n // 2, 50, 3, "sync")
    assert cycled[0] and not converged[0] and sweeps[0] == 2
    assert_same((score, sweeps, converged, cycled),
                naive_dynamics.relax_prefix(BinaryDAM("hebbian"), x, 1, n // 2, 50, 3, "sync"))
    for scheme in ("random", "sequential"):
        _, _, conv, cyc = kernel(BinaryDAM("hebbian"), x, 1, n // 2, 50, 3, scheme)
        assert conv[0] and not cyc[0]
    crit = Retrieve(noise=0.5, max_sweeps=50, update="sync")
    checker = DynamicsChecker(BinaryDAM("hebbian"), crit, lambda q: x[:q], n, 1, seed=3)
    assert checker(1) is False  # a 2-cycle fails even where it passes through the pattern
    w = naive_pairwise.hebbian(x)
    bad, _, pw_sweeps, pw_conv = relax_patterns(w, x, crit, 3)
    assert bad == 1 and not pw_conv[0] and pw_sweeps[0] == 2
    assert not pattern_successes(w, x, crit, 3)[0]


def test_sync_two_cycle_between_distinct_states_of_random_patterns():
    """Random cases where sync falls into 2-cycles (found by the naive twin) are flagged the same."""
    model, found = BinaryDAM("hebbian"), 0
    for seed in range(40):
        x = patterns([seed, 11], 4, 11)
        want = naive_dynamics.relax_prefix(model, x, 4, 3, 30, seed, "sync")
        assert_same(kernel(model, x, 4, 3, 30, seed, "sync"), want)
        found += int(want[3].sum())
    assert found > 0


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("model", [BinaryDAM("hebbian"), BinaryDAM("exp", beta=1.0)],
                         ids=["hebbian", "exp"])
def test_one_sweep_recall_through_the_checker(scheme, model):
    n, p = 15, 4
    x = patterns([5, n], p, n)
    crit = Retrieve(noise=0.2, max_sweeps=1, threshold=0.25, update=scheme)
    checker = DynamicsChecker(model, crit, lambda q: x[:q], n, p, seed=11)
    want = naive_dynamics.relax_prefix(model, x, p, cue_flips(0.2, n), 1, 11, scheme)
    ok = (want[0] >= n) & ~want[3]
    assert checker(p) is (int((~ok).sum()) <= 3)
    if checker(p):
        np.testing.assert_array_equal(checker.final_overlap, want[0])
        assert (checker.sweeps == 1).all()


@pytest.mark.parametrize("scheme", ["sequential", "sync"])
def test_exact_decisions_under_schemes(scheme):
    """Relaxations whose decisions need exact arithmetic (tests/test_exact.py's near-root set) take
    the forced-decision rerun loop under every scheme."""
    from test_exact import LN2_HALF, near_root_exp_set

    n = 12
    model = BinaryDAM("exp", beta=float(LN2_HALF))
    x = near_root_exp_set(n)
    p = len(x)
    crit = Retrieve(noise=0.0, threshold=0.2, max_sweeps=20, update=scheme)
    checker = DynamicsChecker(model, crit, lambda q: x[:q], n, p, seed=5)
    want = naive_dynamics.relax_prefix(model, x, p, 0, 20, int(checker.seed), scheme)
    ok = (want[0] >= n) & ~want[3]
    assert checker(p) is (int(ok.sum()) >= 1)
    np.testing.assert_array_equal(checker.final_overlap, want[0])
    np.testing.assert_array_equal(checker.sweeps, want[1])


@pytest.mark.parametrize("diagonal", [False, True])
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("temperature,window", [(0.0, 0), (0.0, 3), (6.0, 0), (6.0, 2)])
def test_pairwise_schemes_match_naive(diagonal, scheme, temperature, window):
    n, p = 11, 3
    x = patterns([43, n, int(diagonal)], p, n)
    w = naive_pairwise.hebbian(x, diagonal=diagonal)
    if window:
        crit = OverlapMean(min_overlap=-0.5, noise=0.2, sweeps=window, update=scheme,
                           temperature=temperature)
    else:
        crit = Overlap(min_overlap=-0.5, noise=0.2, max_sweeps=7, update=scheme, temperature=temperature)
    _, score, sweeps, conv = relax_patterns(w, x, crit, 13)
    want = naive_dynamics.relax_prefix_pairwise(w, x, cue_flips(0.2, n), crit.max_sweeps, 13, scheme,
                                                temperature, window)
    assert_same((score, sweeps, conv), want[:3])


def test_pairwise_hebbian_equals_binary_hebbian_under_every_scheme():
    n, p = 13, 4
    x = patterns([47, n], p, n)
    w = naive_pairwise.hebbian(x)
    for scheme in SCHEMES:
        crit = Overlap(min_overlap=0.5, noise=0.2, max_sweeps=9, update=scheme)
        _, score, sweeps, conv = relax_patterns(w, x, crit, 21)
        got = kernel(BinaryDAM("hebbian"), x, p, cue_flips(0.2, n), 9, 21, scheme)
        assert_same((score, sweeps, conv), got[:3])


def test_overlap_mean_window_at_a_fixed_point():
    """At T = 0 from a stable pattern the mean over S sweeps is N exactly (the fixed point repeats)."""
    x = patterns([3, 64], 2, 64)
    for scheme in SCHEMES:
        score, sweeps, converged, _ = kernel(BinaryDAM("hebbian"), x, 2, 0, 10, 1, scheme, 0.0, 5)
        np.testing.assert_array_equal(score, [5 * 64, 5 * 64])
        assert converged.all() and (sweeps == 1).all()
    assert target_overlap(OverlapMean(min_overlap=0.9, sweeps=5), 64) == math.ceil(0.9 * 64 * 5)


def test_glauber_single_pattern_matches_mean_field():
    """One stored pattern (Curie-Weiss): at T = N T' the mean overlap solves m = tanh(m / T') for
    N -> inf. N = 400, 300 sweeps averaged after 300 of burn-in: thermal fluctuations of m are
    O(N^-1/2) = 0.05 per sample and the 1/N corrections (no self-coupling) about 0.003, so the mean
    of 300 samples sits within 0.01 of the mean-field value."""
    n, t_ags = 400, 0.5
    m_star = optimize.brentq(lambda m: m - math.tanh(m / t_ags), 0.1, 1.0)
    x = np.ones((1, n), dtype=np.int8)
    for scheme in ("random", "sequential"):
        score = kernel(BinaryDAM("hebbian"), x, 1, 0, 600, 8, scheme, n * t_ags, 300)[0]
        assert abs(score[0] / (300 * n) - m_star) < 0.01


def test_glauber_unit_per_model():
    """The factor from the kernels' sums to dE in the model's units (theory.md section 15)."""
    n = 10
    assert glauber_unit(BinaryDAM("hebbian"), n, BinaryDAM("hebbian").gain_table(n)) == 0.5
    field = BinaryDAM("hebbian", rule="field")
    assert glauber_unit(field, n, field.gain_table(n)) == 1.0
    poly = BinaryDAM("poly", degree=3)
    assert glauber_unit(poly, n, poly.gain_table(n)) == 1.0
    assert glauber_unit(poly, n, gain_arithmetic(poly, n, 10**17).gain) == 1.0  # float table


def test_default_criterion_columns_equal_legacy_values():
    """A file written before --update/--temperature resumes with zero reruns: its rows' filled-in
    legacy values equal what today's default configuration describes."""
    for model, crit in [("hebbian", Overlap()), ("hebbian", Retrieve()), ("pairwise", Overlap()),
                        ("hebbian", make_criterion("stable"))]:
        fam = family_of(model)
        m = BinaryDAM("hebbian") if model == "hebbian" else fam.build(
            {"criterion": crit.name, "threshold": 1.0, "noise": None, "min_overlap": 0.95,
             "max_sweeps": 100, "unlearn": [0]})[0][0]
        described = fam.describe(m, crit, 50)
        old = {k: v for k, v in described.items() if k not in ("update", "temperature", "sweeps_mean")}
        old.update(n=50, trial=0, p_max=5)
        header = list(old)
        row, problems = check_row(header, [str("" if v is None else v) for v in old.values()], 2)
        assert not problems
        assert row["update"] == described["update"] and row["temperature"] == described["temperature"]
        cells = [str("" if v is None else v) for v in described.values()] + ["50", "0", "5"]
        new_row, _ = check_row(list(described) + ["n", "trial", "p_max"], cells, 2)
        assert config_key(row) == config_key(new_row)
    rf_row = {"model": "rf", "criterion": "overlap"}
    assert binary.LEGACY["update"](rf_row) is None and binary.LEGACY["temperature"](rf_row) is None


@pytest.mark.parametrize("args,message", [
    (["--criterion", "overlap", "--temperature", "-1"], "--temperature"),
    (["--criterion", "overlap", "--update", "zigzag"], "--update"),
    (["--temperature", "1"], "does not apply to --criterion stable"),
    (["--criterion", "retrieve", "--temperature", "1"], "does not apply to --criterion retrieve"),
    (["--criterion", "overlap", "--sweeps", "4"], "does not apply to --criterion overlap"),
    (["--criterion", "overlap-mean", "--sweeps", "0"], "--sweeps"),
    (["--criterion", "stable", "--update", "sync"], "does not apply to --criterion stable"),
])
def test_bad_input_one_line(args, message):
    result = CliRunner().invoke(main, ["measure", "--model", "hebbian", "--n", "20", "--trials", "1",
                                       "--no-progress", *args])
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_library_refusals():
    with pytest.raises(HopcapError, match="temperature"):
        Overlap(temperature=-0.5)
    with pytest.raises(HopcapError, match="update"):
        Retrieve(update="backwards")
    with pytest.raises(HopcapError, match="no finite-temperature"):
        make_criterion("retrieve", temperature=1.0)
    with pytest.raises(HopcapError, match="sweeps"):
        OverlapMean(sweeps=0)


def test_cli_schemes_write_columns(tmp_path):
    out = tmp_path / "r.csv"
    for extra in (["--criterion", "retrieve", "--update", "sync"],
                  ["--criterion", "overlap-mean", "--sweeps", "3", "--temperature", "2", "--min-overlap",
                   "0.5"]):
        result = CliRunner().invoke(main, ["measure", "--model", "hebbian", "--n", "24", "--trials", "2",
                                           "--no-progress", "-o", str(out), *extra])
        assert result.exit_code == 0, result.output
    text = out.read_text().splitlines()
    header = text[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in text[1:]]
    assert [r["update"] for r in rows] == ["sync", "sync", "random", "random"]
    assert [r["temperature"] for r in rows[2:]] == ["2.0", "2.0"] and rows[0]["temperature"] == ""
    assert [r["sweeps_mean"] for r in rows] == ["", "", "3", "3"]
    assert rows[2]["converged"] == ""  # no fixed point at T > 0
    again = CliRunner().invoke(main, ["measure", "--model", "hebbian", "--n", "24", "--trials", "2",
                                      "--no-progress", "-o", str(out), "--criterion", "retrieve",
                                      "--update", "sync"])
    assert again.exit_code == 0 and len(out.read_text().splitlines()) == 5  # resumed: nothing rerun


# --------------------------------------------------------------------------------------------------
# The AGS line (capacity_cli.ags) and the dynamics profile's table
# --------------------------------------------------------------------------------------------------


def test_ags_zero_temperature_values():
    """AGS's T = 0 numbers: alpha_c = 0.138 (0.1379 to 4 digits), m = 0.967 at alpha_c."""
    from capacity_cli.ags import alpha_c

    a, m = alpha_c(0.0)
    assert abs(a - 0.1379) < 2e-4 and abs(m - 0.967) < 1e-3


def test_ags_solution_solves_the_saddle_point_equations():
    """At T = 0.5 the returned (alpha, m) with its q satisfy all three RS equations (independent
    Gaussian averages by scipy quad), and alpha_c falls with T to AGS's asymptote
    1 - T = 1.95 sqrt(alpha_c) near T = 1 (5%: the asymptote's own next order)."""
    from scipy import integrate

    from capacity_cli.ags import alpha_c

    t = 0.5
    a, m = alpha_c(t)
    beta = 1 / t

    def avg(f):
        return integrate.quad(lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -12, 12,
                              epsabs=1e-12, limit=200)[0]

    # solve q and r at this (alpha, m) by iteration, then check m
    q = 0.9
    for _ in range(500):
        r = q / (1 - beta * (1 - q)) ** 2
        q = avg(lambda z, r=r: math.tanh(beta * (m + math.sqrt(a * r) * z)) ** 2)
    r = q / (1 - beta * (1 - q)) ** 2
    assert abs(avg(lambda z: math.tanh(beta * (m + math.sqrt(a * r) * z))) - m) < 1e-5
    values = [alpha_c(v)[0] for v in (0.0, 0.3, 0.6, 0.9)]
    assert all(x > y for x, y in zip(values, values[1:], strict=False))
    assert abs((1 - 0.95) / math.sqrt(alpha_c(0.95)[0]) - 1.95) < 0.1
    assert alpha_c(1.0) == (0.0, 0.0)


def test_dynamics_profile_table_matches_its_definition():
    """capacity_cli/configs/dynamics.csv: temperature = N T_AGS, min_overlap = round(0.98 m_c(T), 2)."""
    import pandas as pd

    from capacity_cli.ags import alpha_c
    from capacity_cli.reproduce import CONFIG_DIR

    table = pd.read_csv(CONFIG_DIR / "dynamics.csv", comment="#")
    t = (table["temperature"] / table["n"]).round(6)
    assert sorted(t.unique()) == [k / 10 for k in range(9)]
    assert sorted(table["threshold"].unique()) == [0.5, 0.9]
    for tv in (0.0, 0.4, 0.8):
        assert (table.loc[t == tv, "min_overlap"] == round(0.98 * alpha_c(tv)[1], 2)).all()
