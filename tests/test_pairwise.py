"""The pairwise family (capacity_cli.families.pairwise, kernels.pairwise) against its naive twins,
the binary family (hebbian, decision for decision) and the literature's guarantees."""

from __future__ import annotations

import csv
import zlib

import naive
import naive_pairwise
import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from capacity_cli.cli import main
from capacity_cli.criteria import Overlap, Retrieve, Stable, cue_flips, target_overlap
from capacity_cli.datasets import PatternSpec, pattern_source
from capacity_cli.errors import HopcapError
from capacity_cli.families.pairwise import gardner_alpha
from capacity_cli.families.pairwise.model import (
    PairwiseChecker,
    PairwiseModel,
    coupling_matrix,
    extend_state,
    initial_state,
    perceptron_couplings,
    recency_outcome,
    recent_retrievable,
    relax_patterns,
    stable_patterns,
    unlearn_seed,
)
from capacity_cli.kernels import pairwise as ker
from capacity_cli.measure import configs_from_options
from capacity_cli.models import BinaryDAM
from capacity_cli.results import COLUMNS, _csv_line, check_row, load_results
from capacity_cli.search import capacity_of_sequence, make_checker


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def patterns(p: int, n: int, *key) -> np.ndarray:
    return rng_for("x", p, n, *key).choice(np.array([-1, 1], dtype=np.int8), size=(p, n))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


CASES = [(1, 7), (1, 8), (3, 9), (5, 16), (8, 17), (12, 24)]  # (P, N): P = 1, odd and even N


# --------------------------------------------------------------------------------------------------
# rules against their twins
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p,n", CASES)
@pytest.mark.parametrize("rule", ["hebbian", "hebbian-diag"])
def test_hebbian_couplings_match_the_twin_exactly(p, n, rule):
    x = patterns(p, n, rule)
    w = coupling_matrix(PairwiseModel(rule), x)
    assert np.array_equal(w, naive_pairwise.hebbian(x, diagonal=rule == "hebbian-diag"))


@pytest.mark.parametrize("p,n", CASES)
def test_storkey_matches_the_twin(p, n):
    """Summation orders differ (h_ij = h_i - W_ij xi_j against the explicit sum over k != i, j):
    agreement to 1e-12 relative, far below any decision margin at these sizes."""
    x = patterns(p, n, "storkey")
    w = coupling_matrix(PairwiseModel("storkey"), x)
    twin = naive_pairwise.storkey(x)
    assert np.allclose(w, twin, rtol=1e-12, atol=1e-12)
    assert np.array_equal(w, w.T) and not w.diagonal().any()


def test_storkey_is_incremental_and_order_dependent():
    x = patterns(20, 16, "order")
    model = PairwiseModel("storkey")
    whole = coupling_matrix(model, x)
    state = extend_state(model, initial_state(model, 16), x[:7])
    state = extend_state(model, state, x[7:])
    assert np.array_equal(state.matrix, whole)  # same operations in the same order
    assert not np.allclose(coupling_matrix(model, x[::-1]), whole)


@pytest.mark.parametrize("p,n", [(1, 8), (5, 9), (15, 16), (30, 31), (40, 64)])
def test_pinv_rank_one_updates_match_a_from_scratch_pseudo_inverse(p, n):
    """The projector by Greville's rank-one steps (Gram-Schmidt twice) against numpy's SVD
    pseudo-inverse: both are the projector to rounding; 1e-9 absolute on entries of size <= 1."""
    x = patterns(p, n, "pinv")
    model = PairwiseModel("pinv")
    twin = naive_pairwise.pinv(x)
    assert np.allclose(coupling_matrix(model, x), twin, atol=1e-9)
    for split in (0, 1, p // 2):  # extending the state of a prefix gives the same matrix
        state = extend_state(model, extend_state(model, initial_state(model, n), x[:split]), x[split:])
        w = state.matrix.T @ state.matrix
        np.fill_diagonal(w, 0)
        assert np.allclose(w, twin, atol=1e-9)


def test_pinv_handles_linearly_dependent_patterns():
    x = patterns(6, 12, "dep")
    x = np.vstack([x, x[0], -x[3]])  # repeats add nothing to the span
    state = extend_state(PairwiseModel("pinv"), initial_state(PairwiseModel("pinv"), 12), x)
    assert state.matrix.shape[0] == np.linalg.matrix_rank(x.astype(float))
    assert np.allclose(coupling_matrix(PairwiseModel("pinv"), x), naive_pairwise.pinv(x), atol=1e-9)


@pytest.mark.parametrize("n", [16, 33, 64])
def test_pinv_stores_every_pattern_below_n(n):
    """Personnaz et al.: every pattern of a random set with P < N is a fixed point (y_i h_i =
    1 - W_ii > 0 of the projector); the checker says so for every prefix, and at P = N refuses."""
    for trial in range(3):
        x = patterns(n, n, "pinv-store", trial)
        checker = PairwiseChecker(PairwiseModel("pinv"), Stable(), lambda q, x=x: x[:q], n, n)
        for p in range(1, n):
            assert checker(p), (n, trial, p)
        w = coupling_matrix(PairwiseModel("pinv"), x[: n - 1])
        assert naive_pairwise.stable_mask(w, x[: n - 1]).all()
        assert not checker(n)  # P >= N: declared not stored (W = 0 at full rank)


@pytest.mark.parametrize("p,n,lam", [(1, 8, 0.9), (10, 9, 0.5), (40, 16, 0.95)])
def test_palimpsest_matches_the_twin(p, n, lam):
    x = patterns(p, n, "palimpsest")
    eps = float(np.sqrt(-2 * n * np.log(lam)))
    model = PairwiseModel("palimpsest", forget_eps=eps)
    assert np.allclose(coupling_matrix(model, x), naive_pairwise.palimpsest(x, model.decay(n)),
                       rtol=1e-12, atol=1e-12)  # summation order only


@pytest.mark.parametrize("p,n", [(1, 7), (4, 8), (10, 9), (20, 12), (30, 12)])
@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 2.0])
def test_perceptron_matches_the_twin_exactly(p, n, margin):
    """Integer couplings; margins whose squares are exact, so both stopping tests are exact."""
    x = patterns(p, n, "perceptron", margin)
    w, epochs = perceptron_couplings(x, margin, 50)
    tw, te = naive_pairwise.perceptron(x, margin, 50)
    assert np.array_equal(w, tw) and np.array_equal(epochs, te)
    done = epochs > 0
    if done.all():  # converged: every stability exceeds margin |w_i|
        e = x * (x.astype(float) @ w.T)
        assert (e > margin * np.linalg.norm(w, axis=1) - 1e-9).all() and (e > 0).all()


def test_perceptron_reports_non_convergence():
    x = patterns(60, 16, "overload")  # alpha = 3.75 > 2: no solution exists
    _, epochs = perceptron_couplings(x, 0.0, 20)
    assert (epochs < 0).any()
    checker = PairwiseChecker(PairwiseModel("perceptron", max_epochs=20), Stable(),
                              lambda q: x[:q], 16, 60)
    assert not checker(60)
    assert checker.outcome(59) == {"epoch_capped": True}  # 60 failed by the epoch cap
    assert checker(5) and checker.outcome(10) == {"epoch_capped": False}  # 11 was never refused
    assert checker.outcome(60) == {}  # capped: nothing refused


@pytest.mark.parametrize("n,steps,eps", [(7, 5, 0.1), (8, 20, 0.01), (13, 30, 0.05)])
def test_unlearning_matches_the_twin_exactly(n, steps, eps):
    x = patterns(3, n, "unlearn")
    w0 = naive_pairwise.hebbian(x)
    w = w0.copy()
    seed = unlearn_seed(12345)
    ker.unlearn(w, steps, eps, seed, 50)
    assert np.array_equal(w, naive_pairwise.unlearn(w0, steps, eps, int(seed), 50))


def test_unlearning_is_k_steps_per_pattern_from_the_trial_seed():
    x = patterns(4, 16, "k")
    model = PairwiseModel("hebbian", unlearn=3, unlearn_eps=0.02)
    w = coupling_matrix(model, x, seed=7)
    twin = naive_pairwise.unlearn(naive_pairwise.hebbian(x), 12, 0.02, int(unlearn_seed(7)), 100)
    assert np.array_equal(w, twin)
    assert not np.array_equal(w, coupling_matrix(model, x, seed=8))


# --------------------------------------------------------------------------------------------------
# decisions and dynamics against the twins
# --------------------------------------------------------------------------------------------------


def _w(kind: str, n: int, x: np.ndarray) -> np.ndarray:
    if kind == "hebbian":
        return naive_pairwise.hebbian(x)
    g = rng_for("w", kind, n).standard_normal((n, n))
    if kind == "symmetric":
        g = g + g.T
    np.fill_diagonal(g, 0)
    return g


@pytest.mark.parametrize("p,n", CASES)
@pytest.mark.parametrize("kind", ["hebbian", "symmetric", "asymmetric"])
def test_stability_matches_the_twin(p, n, kind):
    x = patterns(p, n, "stab", kind)
    w = _w(kind, n, x)
    assert np.array_equal(stable_patterns(w, x), naive_pairwise.stable_mask(w, x))


@pytest.mark.parametrize("p,n", CASES + [(20, 31), (6, 40)])
@pytest.mark.parametrize("kind", ["hebbian", "symmetric", "asymmetric"])
@pytest.mark.parametrize("noise", [0.0, 0.2])
def test_relaxation_matches_the_twin_exactly(p, n, kind, noise):
    """Incremental fields (O(N) per flip) against fields recomputed at each visit: integer W is
    exact; Gaussian W drifts by ~1e-15, and no |h| that small arises in these cases."""
    x = patterns(p, n, "relax", kind)
    w = _w(kind, n, x)
    crit = Overlap(min_overlap=0.5, noise=noise, max_sweeps=6)
    seed = 99 + p
    _, final, sweeps, conv = relax_patterns(w, x, crit, seed)
    tf, ts, tc = naive_pairwise.relax_prefix(w, x, cue_flips(noise, n), 6, seed)
    assert np.array_equal(final, tf) and np.array_equal(sweeps, ts) and np.array_equal(conv, tc)


def test_parallel_relaxation_equals_serial():
    x = patterns(40, 48, "par")
    w = naive_pairwise.hebbian(x)
    args = (x, w, w, 40, 5, 48, 20, np.uint64(3), 40)
    serial = [np.zeros(40, np.int64), np.zeros(40, np.int64), np.zeros(40, np.bool_)]
    ker.relax_rows(0, 1, *args, np.zeros(1, np.int64), *serial)
    parallel = [np.zeros(40, np.int64), np.zeros(40, np.int64), np.zeros(40, np.bool_)]
    ker.relax_prefix(*args, 7, *parallel)
    for a, b in zip(serial, parallel, strict=True):
        assert np.array_equal(a, b)


# --------------------------------------------------------------------------------------------------
# the binary family, decision for decision
# --------------------------------------------------------------------------------------------------


CRITERIA = [Stable(), Overlap(min_overlap=0.9, max_sweeps=20), Retrieve(noise=0.1, max_sweeps=20),
            Overlap(min_overlap=0.95, noise=0.15, threshold=0.8, max_sweeps=5)]


@pytest.mark.parametrize("criterion", CRITERIA, ids=lambda c: c.name)
@pytest.mark.parametrize("n", [15, 16, 31, 64])
@pytest.mark.parametrize("rule,binary_rule", [("hebbian", "energy"), ("hebbian-diag", "field")])
def test_hebbian_agrees_with_the_binary_family_decision_for_decision(criterion, n, rule, binary_rule):
    """pairwise hebbian is the binary hebbian (flip gain 2 y_i h_i); pairwise hebbian-diag is the
    binary hebbian under the field rule (W_ii = P): every prefix's decision, and the searches'
    capacities and diagnostics, are equal."""
    for trial in range(3):
        source = pattern_source(PatternSpec(n), (11, trial))
        seed = 1000 + trial
        ours = PairwiseChecker(PairwiseModel(rule), criterion, source, n, 2 * n, seed)
        theirs = make_checker(BinaryDAM("hebbian", rule=binary_rule), criterion, source, n, 2 * n, seed)
        for p in range(1, 2 * n + 1, max(1, n // 8)):
            assert ours(p) == theirs(p), (trial, p)
        a = capacity_of_sequence(PairwiseModel(rule), criterion, source, n, 2 * n, seed,
                                 checker_factory=lambda *args: PairwiseChecker(*args))
        b = capacity_of_sequence(BinaryDAM("hebbian", rule=binary_rule), criterion, source, n, 2 * n, seed)
        assert (a.p_max, a.capped, a.checks, a.converged, a.sweeps) == \
            (b.p_max, b.capped, b.checks, b.converged, b.sweeps)


def test_pairwise_dynamics_match_the_binary_twin():
    """The relaxation outcome of every pattern equals tests/naive.py's binary hebbian dynamics."""
    x = patterns(9, 21, "bin")
    _, final, sweeps, conv = relax_patterns(naive_pairwise.hebbian(x), x, Retrieve(0.2, max_sweeps=9), 5)
    tf, ts, tc = naive.relax_prefix(BinaryDAM("hebbian"), x, 9, cue_flips(0.2, 21), 9, 5)
    assert np.array_equal(final, tf) and np.array_equal(sweeps, ts) and np.array_equal(conv, tc)


# --------------------------------------------------------------------------------------------------
# the literature
# --------------------------------------------------------------------------------------------------


def _capacities(rule: str, n: int, trials: int) -> np.ndarray:
    out = []
    for trial in range(trials):
        source = pattern_source(PatternSpec(n), (2024, trial))
        out.append(capacity_of_sequence(PairwiseModel(rule), Stable(), source, n, n, 0,
                                        checker_factory=lambda *a: PairwiseChecker(*a)).p_max)
    return np.array(out)


def test_storkey_stores_more_than_hebbian_at_n_100():
    """20 trials each at N = 100 under ``stable``: a one-sided Mann-Whitney test at the 0.1% level
    (the expected values, about 33 against about 9, make a chance failure of a correct Storkey rule
    negligible, while a Storkey rule that had collapsed to Hebbian would fail it)."""
    storkey, hebbian = _capacities("storkey", 100, 20), _capacities("hebbian", 100, 20)
    test = stats.mannwhitneyu(storkey, hebbian, alternative="greater")
    assert test.pvalue < 1e-3, (storkey.mean(), hebbian.mean(), test.pvalue)


def test_gardner_alpha():
    assert gardner_alpha(0.0) == pytest.approx(2.0)
    assert gardner_alpha(1.0) < gardner_alpha(0.5) < 2.0


# --------------------------------------------------------------------------------------------------
# palimpsests and recency
# --------------------------------------------------------------------------------------------------


def test_recent_retrievable_counts_the_run_from_the_newest():
    assert recent_retrievable(np.array([True, True, False, True])) == 2
    assert recent_retrievable(np.array([False, True])) == 0
    assert recent_retrievable(np.array([True, True])) == 2


@pytest.mark.parametrize("criterion", [Stable(), Overlap(min_overlap=0.9, max_sweeps=10)],
                         ids=lambda c: c.name)
def test_recency_matches_the_twin(criterion):
    n, length = 40, 120
    model = PairwiseModel("palimpsest")
    for trial in range(3):
        source = pattern_source(PatternSpec(n), (5, trial))
        x = source(length)
        w = naive_pairwise.palimpsest(x, model.decay(n))
        if isinstance(criterion, Stable):
            ok = naive_pairwise.stable_mask(w, x)
        else:
            final, _, _ = naive_pairwise.relax_prefix(w, x, 0, 10, 77)
            ok = final >= target_overlap(criterion, n)
        expected = recent_retrievable(ok[::-1])
        assert recency_outcome(model, criterion, source, n, length, 77).recent_retrievable == expected


def test_recency_refuses_rules_that_do_not_forget():
    with pytest.raises(HopcapError, match="forgets"):
        recency_outcome(PairwiseModel("storkey"), Stable(), lambda q: patterns(q, 8), 8, 10)


# --------------------------------------------------------------------------------------------------
# the seam: options, CSV, resume, bad input
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [
    dict(model="pairwise", rule="storkey", n=[16], criterion="stable"),
    dict(model="pairwise", rule="perceptron", margin=0.5, max_epochs=30, n=[16], criterion="overlap",
         min_overlap=0.8, max_sweeps=7),
    dict(model="pairwise", rule="hebbian", unlearn=[0, 5], unlearn_eps=0.02, n=[16],
         criterion="retrieve", noise=0.2),
    dict(model="pairwise", rule="palimpsest", forget_eps=3.0, n=[16], search="recency", p=50),
])
def test_rows_read_back(values):
    for config in configs_from_options(values):
        row = {**config.columns(), "trial": 0, "p_max": 1, "recent_retrievable": 1}
        cells = next(csv.reader([_csv_line([row.get(c) for c in COLUMNS])]))
        parsed, problems = check_row(COLUMNS, cells, 2)
        assert not problems, problems
        assert config.family.read(parsed) == (config.model, config.criterion)


def test_measure_writes_resumes_and_reports(tmp_path):
    out = tmp_path / "r.csv"
    for search in ("p", "recency"):
        rule = "palimpsest" if search == "recency" else "perceptron"
        args = ["measure", "--model", "pairwise", "--rule", rule, "--n", "24", "--trials", "3",
                "--search", search, "--threads", "1", "--no-progress", "-o", out]
        first = run(*args)
        assert first.exit_code == 0, first.output
        rows = load_results(out).records
        again = run(*args)
        assert again.exit_code == 0 and len(load_results(out).records) == len(rows)
        assert ("mean recent" in again.output) == (search == "recency")
    records = load_results(out).records
    recency = [r for r in records if r["search"] == "recency"]
    assert len(recency) == 3 and all(r["p_max"] is None and r["recent_retrievable"] >= 0 for r in recency)
    assert all(r["set_size"] == 240 for r in recency)  # 10 N by default
    learned = [r for r in records if r["rule"] == "perceptron"]
    assert len(learned) == 3 and all(r["epoch_capped"] in (True, False) for r in learned)


@pytest.mark.parametrize("args,message", [
    (["--rule", "bogus"], "Invalid value for '--rule'"),
    (["--rule", "energy"], "unknown --rule 'energy' for --model pairwise"),
    (["--unlearn", "-1"], "Invalid value for '--unlearn'"),
    (["--unlearn", "5", "--unlearn-eps", "-0.1"], "Invalid value for '--unlearn-eps'"),
    (["--unlearn-eps", "0.1"], "--unlearn-eps needs --unlearn K > 0"),
    (["--rule", "storkey", "--search", "recency"], "needs a rule that forgets"),
    (["--rule", "storkey", "--margin", "1"], "--margin does not apply to --rule storkey"),
    (["--rule", "perceptron", "--unlearn", "3"], "--unlearn does not apply to --rule perceptron"),
    (["--rule", "hebbian", "--forget-eps", "2"], "--forget-eps does not apply to --rule hebbian"),
    (["--beta", "2"], "--beta"),
])
def test_bad_input_is_one_line(args, message):
    result = run("measure", "--model", "pairwise", "--n", "16", "--trials", "1", "--no-progress", *args)
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def test_binary_models_refuse_learning_rules_and_keep_their_default():
    result = run("measure", "--model", "hebbian", "--rule", "storkey", "--n", "16", "--trials", "1")
    assert result.exit_code != 0 and "unknown --rule 'storkey'" in result.output
    result = run("measure", "--model", "hebbian", "--margin", "1", "--n", "16", "--trials", "1")
    assert result.exit_code != 0 and "pairwise family" in result.output
    (config,) = configs_from_options({"model": "hebbian", "n": [16]})
    assert config.model.rule == "energy"
