"""The kernel family (capacity_cli.families.kernel) against the softmax family and its naive twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from capacity_cli.cli import main
from capacity_cli.errors import HopcapError
from capacity_cli.families.kernel import model as km
from capacity_cli.families.softmax import (
    FixedPoint,
    RetrieveEps,
    SignRetrieve,
    SoftmaxChecker,
    SoftmaxModel,
)
from capacity_cli.measure import ConfigSummary, configs_from_options, run_trial, summarize_rows
from capacity_cli.search import capacity_of_sequence, largest_storable

try:
    from . import naive_kernel as naive
    from .test_softmax import near_boundary, random_criterion, random_patterns
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    import naive_kernel as naive
    from test_softmax import near_boundary, random_criterion, random_patterns

SEED = 0x0DDB_A11_5EED


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def logged(checker):
    log = []

    def is_stored(p):
        got = checker(p)
        log.append((p, got))
        return got

    return is_stored, log


# --------------------------------------------------------------------------------------------------
# identity = softmax, decision for decision
# --------------------------------------------------------------------------------------------------

def test_identity_map_is_the_softmax_model_decision_for_decision(rng):
    decisions = []
    for case in range(120):
        kind = "pm1" if case % 2 else "sphere"
        p_all, n = int(rng.integers(1, 60)), int(rng.integers(2, 40))
        beta = float(10 ** rng.uniform(-2, 2))
        crit = random_criterion(rng, kind)
        x = random_patterns(rng, p_all, n, kind)
        dtype = str(rng.choice(["float64", "float32"]))
        block = int(rng.choice([1, 3, 1024]))
        plain = SoftmaxChecker(SoftmaxModel(beta, dtype), crit, lambda p, x=x: x[:p], n, p_all,
                               seed=SEED, block=block)
        kern = km.KernelChecker(km.KernelModel(beta, dtype=dtype), crit, lambda p, x=x: x[:p], n,
                                p_all, seed=SEED, block=block)
        f1, log1 = logged(plain)
        f2, log2 = logged(kern)
        assert largest_storable(f1, p_all) == largest_storable(f2, p_all)
        assert log1 == log2, case
        # and at prefixes off the search's path
        for p in rng.integers(1, p_all + 1, size=3):
            assert plain(int(p)) == kern(int(p))
        decisions += [d for _, d in log1]
    assert 0 < sum(decisions) < len(decisions)


def test_identity_map_measures_what_softmax_measures():
    common = dict(beta=[1.0], n=[10, 14], criterion="retrieve-eps", eps=0.05, noise=0.1, trials=3,
                  kind="sphere", p_max=400)
    soft = configs_from_options({**common, "model": "softmax"})
    kern = configs_from_options({**common, "model": "kernel", "feature_map": "identity"})
    for a, b in zip(soft, kern, strict=True):
        for t in range(3):
            ra, rb = run_trial(a, t), run_trial(b, t)
            assert (ra.outcome.p_max, ra.outcome.capped) == (rb.outcome.p_max, rb.outcome.capped)


# --------------------------------------------------------------------------------------------------
# random and learned maps against the naive twin
# --------------------------------------------------------------------------------------------------

def _kernel_criterion(rng, kind):
    while True:
        crit = random_criterion(rng, kind)
        if not isinstance(crit, FixedPoint):
            return crit


@pytest.mark.parametrize("feature_map", ["random", "learned"])
def test_checker_matches_twin_along_searches(rng, feature_map):
    compared = skipped = 0
    outcomes = []
    for case in range(40 if feature_map == "random" else 16):
        kind = "pm1" if case % 2 else "sphere"
        p_all, n = int(rng.integers(1, 24)), int(rng.integers(2, 16))
        d = int(rng.integers(1, 2 * n + 1)) if feature_map == "random" or case % 3 else None
        beta = float(10 ** rng.uniform(-1, 1.5))
        crit = _kernel_criterion(rng, kind)
        x = random_patterns(rng, p_all, n, kind)
        model = km.KernelModel(beta, feature_map, features=d, tau=0.2, learn_steps=15)
        checker = km.KernelChecker(model, crit, lambda p, x=x: x[:p], n, p_all, seed=SEED,
                                   block=int(rng.choice([1, 4, 1024])))
        f, log = logged(checker)
        largest_storable(f, p_all)
        for p, got in log:
            w = checker.current_map(p)
            stored, results = naive.is_stored(x[:p], w, beta, crit, SEED, kind)
            if near_boundary([(ok, r, True, 1) for ok, r in results], crit):
                skipped += 1
                continue
            compared += 1
            outcomes.append(got)
            assert got == stored, (case, p, crit, beta, d)
    assert compared > 5 * max(skipped, 1)
    assert 0 < sum(outcomes) < len(outcomes)


def test_features_twin_and_norm(rng):
    for _ in range(20):
        n, d = int(rng.integers(2, 12)), int(rng.integers(1, 15))
        w = rng.standard_normal((d, n))
        v = rng.standard_normal((5, n)) * 3
        got = km.features(w, v)
        for i in range(5):
            np.testing.assert_allclose(got[i], naive.phi(w, v[i]), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), np.linalg.norm(v, axis=1), rtol=1e-12)
    assert (km.features(np.zeros((3, 4)), np.ones((2, 4))) == 0).all()  # no image, no score


def test_random_map_is_drawn_from_the_seed_only():
    a, b, c = km.random_map(5, 7, 11), km.random_map(5, 7, 11), km.random_map(5, 7, 12)
    assert a.shape == (5, 7) and (a == b).all() and not (a == c).all()
    assert km.initial_map(km.KernelModel(1.0, "learned"), 7, 11).tolist() == np.eye(7).tolist()
    assert (km.initial_map(km.KernelModel(1.0, "learned", features=5), 7, 11) == a).all()
    assert km.initial_map(km.KernelModel(1.0), 7, 11) is None


# --------------------------------------------------------------------------------------------------
# stage I: loss, gradient, optimiser
# --------------------------------------------------------------------------------------------------

def test_loss_matches_twin_and_gradient_matches_finite_differences(rng):
    """Central differences with step h = 1e-6 have truncation error O(h^2 L\'\'\') and rounding
    error about eps |L| / h (eps = 2.2e-16): we ask 1e-6 of the largest entry plus 50 times that
    rounding floor (which matters only where the gradient itself is ~1e-9)."""
    for case in range(12):
        p, n, d = int(rng.integers(2, 12)), int(rng.integers(2, 9)), int(rng.integers(1, 9))
        tau = float(rng.choice([0.05, 0.1, 1.0]))
        x = random_patterns(rng, p, n, "pm1" if case % 2 else "sphere").astype(np.float64)
        w = rng.standard_normal((d, n))
        loss, grad = km.separation_loss(w, x, tau)
        assert loss == pytest.approx(naive.separation_loss(w, x, tau), rel=1e-12, abs=1e-12)
        assert km.separation_loss(w, x, tau, grad=False) == loss
        h = 1e-6
        fd = np.empty_like(w)
        for i in range(d):
            for j in range(n):
                e = np.zeros_like(w)
                e[i, j] = h
                fd[i, j] = (km.separation_loss(w + e, x, tau, grad=False) -
                            km.separation_loss(w - e, x, tau, grad=False)) / (2 * h)
        scale = max(np.abs(fd).max(), 1e-12)
        floor = 50 * np.finfo(float).eps * max(abs(loss), 1.0) / h
        np.testing.assert_allclose(grad, fd, rtol=0, atol=1e-6 * scale + floor)
    with pytest.raises(HopcapError):
        km.separation_loss(np.eye(3), np.ones((1, 3)), 0.1)


@pytest.mark.parametrize("p, d", [(2, 3), (3, 2), (4, 3), (6, 5), (9, 8), (8, 8)])
def test_learned_features_reach_the_simplex_angle(rng, p, d):
    """For P <= D + 1 the regular simplex minimises the loss (sum of Gram entries >= -P, exp
    convex), and W can reach it when the patterns are independent (N >= P). Tolerance 1 degree (the
    issue's); tau = 0.05."""
    n = 12
    x = random_patterns(rng, p, n, "pm1").astype(np.float64)
    w0 = km.random_map(d, n, 3)
    result = km.learn_map(x, w0, 0.05, 2000)
    assert result.decreased and result.loss < result.loss_start
    angles = km.pair_angles_deg(km.unit_features(result.w, x))
    target = km.simplex_angle_deg(p)
    assert abs(angles.min() - target) < 1.0 and abs(angles.max() - target) < 1.0, (angles, target)


def test_learning_that_cannot_decrease_is_reported(monkeypatch):
    x = np.array([[1.0, 1.0], [1.0, -1.0]])
    # already stationary (two antipodal features): nothing to decrease, not a failure
    flat = np.array([[1.0, 0.0]])
    res = km.learn_map(np.array([[1.0, 0.0], [-1.0, 0.0]]), flat, 0.1, 50)
    assert res.decreased
    # an optimiser that ends higher than it started: reported, and W stays the start
    import scipy.optimize

    class Bad:
        x = np.full(4, 7.0)
        fun = 10.0
        nit = 3
        message = "made up"

    monkeypatch.setattr(scipy.optimize, "minimize", lambda *a, **k: Bad())
    res = km.learn_map(x, np.eye(2), 0.1, 50)
    assert not res.decreased and (res.w == np.eye(2)).all() and res.loss == res.loss_start
    checker = km.KernelChecker(km.KernelModel(1.0, "learned"), RetrieveEps(0.5), lambda p: x[:p],
                               2, 2)
    out = capacity_of_sequence(checker.kmodel, checker.criterion, lambda p: x[:p], 2, 2,
                               checker_factory=lambda *a: checker)
    assert out.extra["learn_converged"] is False and checker.learn_failed == [2]


def test_summaries_leave_out_trials_whose_learning_failed():
    config = configs_from_options({"model": "kernel", "feature_map": "learned", "n": [8],
                                   "trials": 3})[0]
    base = config.columns()
    rows = [{**base, "trial": t, "p_max": 10 * (t + 1), "capped": False, "learn_converged": ok}
            for t, ok in enumerate([True, False, True])]
    (s,) = summarize_rows([config], rows)
    assert isinstance(s, ConfigSummary) and s.unlearned == 1
    assert s.summary.trials == 2 and s.summary.mean == 20.0


def test_search_relearns_per_prefix_warm_started_and_caches(monkeypatch):
    x = random_patterns(np.random.default_rng(5), 40, 10, "pm1")
    calls = []
    real = km.learn_map

    def spy(xs, w0, tau, steps):
        calls.append((len(xs), w0.copy()))
        return real(xs, w0, tau, steps)

    monkeypatch.setattr(km, "learn_map", spy)
    model = km.KernelModel(2.0, "learned", learn_steps=10)
    checker = km.KernelChecker(model, RetrieveEps(0.01), lambda p: x[:p], 10, 40, seed=1)
    f, log = logged(checker)
    largest_storable(f, 40)
    tried = [p for p, _ in log]
    assert [c[0] for c in calls] == tried  # one learning run per prefix tried
    stored = []
    for (p, got), (_, w0) in zip(log, calls, strict=True):
        below = [q for q in stored if q < p]
        expected = checker.maps[max(below)].w if below else np.eye(10)
        np.testing.assert_array_equal(w0, expected)
        if got:
            stored.append(p)
    for p, _ in log:  # revisits are cached
        checker.map_for(p)
        checker(p)
    assert len(calls) == len(tried)


# --------------------------------------------------------------------------------------------------
# spherical codes
# --------------------------------------------------------------------------------------------------

def test_bounds():
    assert km.simplex_angle_deg(2) == pytest.approx(180.0)
    assert km.simplex_angle_deg(3) == pytest.approx(120.0)
    assert km.simplex_angle_deg(4) == pytest.approx(math.degrees(math.acos(-1 / 3)))
    assert km.rankin_angle_deg(4, 3) == km.simplex_angle_deg(4)
    assert km.rankin_angle_deg(5, 3) == 90.0 and km.rankin_angle_deg(100, 3) == 90.0
    # KL rate: 0 at 90 degrees, decreasing; its inverse solves D R(theta) = log2 P
    assert km.kl_rate(math.pi / 2) == pytest.approx(0.0, abs=1e-12)
    rates = [km.kl_rate(math.radians(t)) for t in (10, 20, 40, 60)]
    assert rates == sorted(rates, reverse=True)
    for p, d in [(10**4, 4), (10**6, 8), (2**40, 16)]:
        theta = km.kl_angle_deg(p, d)
        assert 0 < theta < km.KL_MAX_ANGLE_DEG
        assert d * km.kl_rate(math.radians(theta)) == pytest.approx(math.log2(p), rel=1e-9)
    assert math.isnan(km.kl_angle_deg(100, 64))  # log2 P / D below the rate at theta*


def test_code_report_matches_twin(rng):
    f = rng.standard_normal((9, 4))
    r = km.code_report(f)
    assert r.p == 9 and r.d == 4
    assert r.min_angle == pytest.approx(naive.min_angle_deg(f), abs=1e-9)
    assert r.rankin == 90.0 and r.simplex == pytest.approx(km.simplex_angle_deg(9))
    assert r.min_angle <= r.rankin


# --------------------------------------------------------------------------------------------------
# the command line: compare, CSV columns, save-map and info, bad input
# --------------------------------------------------------------------------------------------------

def test_measure_compare_identity_prints_both_and_writes_columns(tmp_path):
    out = tmp_path / "k.csv"
    args = ("measure", "--model", "kernel", "--feature-map", "learned", "--beta", "1", "--criterion",
            "retrieve-eps", "--eps", "0.01", "--steps", "1", "--n", "12", "--correlation", "0.8",
            "--compare", "identity", "--trials", "2", "--learn-steps", "20", "--p-max", "64",
            "--no-progress", "-o", out)
    r = run(*args)
    assert r.exit_code == 0, r.output
    assert "kernel learned tau=0.1 beta=1" in r.output and "kernel identity beta=1" in r.output
    import pandas as pd

    df = pd.read_csv(out)
    assert sorted(df["feature_map"]) == ["identity", "identity", "learned", "learned"]
    learned = df[df["feature_map"] == "learned"]
    assert learned["learn_converged"].all() and learned["min_angle_deg"].notna().all()
    assert df.loc[df["feature_map"] == "identity", "learn_converged"].isna().all()
    again = run(*args)  # resume: nothing to run
    assert again.exit_code == 0 and len(pd.read_csv(out)) == 4


def test_save_map_and_info(tmp_path):
    path = tmp_path / "map.npz"
    r = run("measure", "--model", "kernel", "--feature-map", "learned", "--features", "6", "--n", "10",
            "--trials", "1", "--learn-steps", "30", "--p-max", "40", "--save-map", path, "--no-progress")
    assert r.exit_code == 0, r.output
    info = run("info", path)
    assert info.exit_code == 0, info.output
    assert "spherical code" in info.output and "Rankin bound" in info.output
    assert "Kabatiansky-Levenshtein" in info.output and "D=6" in info.output
    report = km.map_report(str(path))
    with np.load(path) as data:
        assert report.p == int(data["p"]) and data["feature_map"].shape == (6, 10)


@pytest.mark.parametrize("args, message", [
    (["--feature-map", "learned", "--features", "0"], "--features"),
    (["--feature-map", "learned", "--tau", "0"], "--tau"),
    (["--feature-map", "learned", "--tau", "-0.1"], "--tau"),
    (["--feature-map", "learned", "--learn-steps", "-1"], "--learn-steps"),
    (["--feature-map", "learned", "--criterion", "fixed-point"], "--feature-map learned works with"),
    (["--feature-map", "learned", "--criterion", "stable"], "does not apply to --model kernel"),
    (["--features", "5"], "--features does not apply to --feature-map identity"),
    (["--feature-map", "random", "--tau", "0.2"], "--tau does not apply to --feature-map random"),
    (["--compare", "identity"], "--compare does not apply to --feature-map identity"),
    (["--feature-map", "learned", "--save-map", "m.txt", "--trials", "1"], "ending in .npz"),
    (["--feature-map", "learned", "--save-map", "m.npz", "--trials", "3"], "--save-map writes one"),
    (["--feature-map", "random", "--save-map", "m.npz", "--trials", "1"], "--save-map"),
])
def test_bad_input_is_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("measure", "--model", "kernel", *args, "--n", "8", "--no-progress")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and message in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_softmax_options_stay_refused_for_other_families():
    r = run("measure", "--model", "softmax", "--features", "4", "--n", "8", "--no-progress")
    assert r.exit_code == 2 and "an option of the rf and kernel families" in r.output  # --features
    with pytest.raises(HopcapError, match="does not apply"):
        km.check_criterion(km.KernelModel(1.0), object())
    assert isinstance(SignRetrieve(), SignRetrieve)


@pytest.mark.parametrize("values", [
    dict(model="kernel", feature_map="learned", beta=["1/sqrtN", 2.0], n=[8, 12], tau=0.05,
         learn_steps=7, criterion="sign", steps=2, noise=0.25),
    dict(model="kernel", feature_map="random", features=5, beta=[1.0], n=[8], criterion="fixed-point",
         eps=0.02, max_steps=9, dtype="float32", compare="none"),
    dict(model="kernel", feature_map="learned", features=8, compare="identity", beta=[1.0], n=[8, 16]),
])
def test_columns_read_back_into_the_same_configuration(values):
    from capacity_cli.families import family_of

    configs = configs_from_options(values)
    compared = values.get("compare") != "none"  # random and learned maps compare by default
    assert len(configs) == len(values["beta"]) * len(values["n"]) * (2 if compared else 1)
    assert sum(c.model.feature_map == "identity" for c in configs) == \
        (len(values["beta"]) * len(values["n"]) if compared else 0)
    for config in configs:
        row = config.columns()
        model, criterion = family_of("kernel").read(row)
        assert family_of("kernel").describe(model, criterion, config.n) == \
            family_of("kernel").describe(config.model, config.criterion, config.n)
        d = config.model.dim(config.n)  # D is blank when it equals N (one configuration over N)
        assert row["features"] == (None if d == config.n else d)


def test_learned_maps_default_cap_and_refuse_huge_caps():
    learned = configs_from_options({"model": "kernel", "feature_map": "learned", "n": [8]})[0]
    plain = configs_from_options({"model": "kernel", "n": [8]})[0]
    given = configs_from_options({"model": "kernel", "feature_map": "learned", "n": [8],
                                  "p_max": 300})[0]
    from capacity_cli.families.kernel import LEARNED_P_CAP
    from capacity_cli.limits import DEFAULT_P_CAP

    assert (learned.p_cap, plain.p_cap, given.p_cap) == (LEARNED_P_CAP, DEFAULT_P_CAP, 300)
    r = run("measure", "--model", "kernel", "--feature-map", "learned", "--n", "8", "--p-max", 10**5,
            "--trials", "1", "--no-progress")
    assert r.exit_code == 2 and "learns on at most" in r.output and "Traceback" not in r.output


def test_gain_table_pairs_trials_and_leaves_out_failed_learning():
    import pandas as pd

    from capacity_cli.studies.kernel import gain_table, loglog_slope

    base = dict(beta_rule="1", criterion="retrieve-eps", kind="pm1", correlation=0.0, patterns=None,
                n=16, min_angle_deg=1.0)
    rows = []
    for t, (pl, pi, ok) in enumerate([(40, 10, True), (90, 30, True), (5, 50, False)]):
        rows.append({**base, "feature_map": "learned", "trial": t, "p_max": pl, "capped": False,
                     "learn_converged": ok})
        rows.append({**base, "feature_map": "identity", "trial": t, "p_max": pi, "capped": False,
                     "learn_converged": None})
    (row,) = gain_table(pd.DataFrame(rows)).to_dict("records")
    assert row["trials"] == 2 and row["learn_failed"] == 1
    assert row["gain"] == pytest.approx(math.sqrt(4 * 3))  # geometric mean of 4 and 3
    assert row["gain_low"] < row["gain"] < row["gain_high"]
    x = np.array([10, 20, 40, 80, 160])
    k, low, high = loglog_slope(x, 3 * x**1.5)
    assert k == pytest.approx(1.5) and low == pytest.approx(1.5) and high == pytest.approx(1.5)


def test_same_numbers_at_any_thread_count(tmp_path):
    rows = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}.csv"
        r = run("measure", "--model", "kernel", "--feature-map", "learned", "--n", "12",
                "--correlation", "0.5", "--trials", "3", "--learn-steps", "30", "--p-max", "128",
                "--threads", threads, "--no-progress", "-o", out)
        assert r.exit_code == 0, r.output
        import pandas as pd

        rows.append(pd.read_csv(out)[["feature_map", "trial", "p_max", "min_angle_deg"]])
    assert rows[0].equals(rows[1])
