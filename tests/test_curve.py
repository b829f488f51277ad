"""Retrieval curves, per-pattern outcomes and energy traces (capacity_cli.curves) against naive twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from capacity_cli import curves
from capacity_cli.cli import main
from capacity_cli.criteria import Overlap, Retrieve, Stable, allowed_failures, cue_flips, target_overlap
from capacity_cli.datasets import PatternSpec
from capacity_cli.errors import HopcapError
from capacity_cli.measure import MeasureConfig, dynamics_seed, trial_source
from capacity_cli.models import BinaryDAM
from capacity_cli.search import make_checker

try:
    from . import naive, naive_curve
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    import naive
    import naive_curve

PM1 = np.array([-1, 1], dtype=np.int8)
MODELS = [BinaryDAM("hebbian"), BinaryDAM("poly", degree=3), BinaryDAM("rectpoly", degree=2),
          BinaryDAM("exp", beta=0.7), BinaryDAM("hebbian", rule="field")]


def patterns(seed: int, p: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(PM1, size=(p, n))


def run(cmd: list) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in cmd])
    return result.exit_code, result.output


# ---------------------------------------------------------------------------------------------
# The checkers' success counts: the curve, against a naive recomputation at every P
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.label)
@pytest.mark.parametrize("n", [8, 9, 12])
def test_stable_successes_equal_naive_at_every_p(model, n):
    # even N and small P make exact ties (dE = 0) common: ties count as stable in both
    for seed in range(3):
        x = patterns(100 * n + seed, 10, n)
        checker = make_checker(model, Stable(), lambda q, x=x: x[:q], n, 10)
        ps = [1, 2, 3, 5, 6, 8, 10]
        got = [checker.successes(p) for p in ps]  # increasing P: the checker extends its sums
        assert got == naive_curve.curve_successes(model, x, ps, "stable")


@pytest.mark.parametrize("model", MODELS[:3], ids=lambda m: m.label)
@pytest.mark.parametrize("criterion", [Retrieve(noise=0.2, max_sweeps=20),
                                       Overlap(min_overlap=0.5, noise=0.3, max_sweeps=20)],
                         ids=["retrieve", "overlap"])
def test_dynamics_successes_equal_naive_at_every_p(model, criterion):
    for n, seed in ((9, 1), (10, 2)):
        x = patterns(seed, 7, n)
        checker = make_checker(model, criterion, lambda q, x=x: x[:q], n, 7, seed=seed)
        ps = [1, 2, 4, 5, 7]
        got = [checker.successes(p) for p in ps]
        assert got == naive_curve.curve_successes(model, x, ps, "dynamics", cue_flips(criterion.noise, n),
                                                  target_overlap(criterion, n), 20, seed)


def test_successes_do_not_change_the_binary_decision():
    # the same checker answering counts and is_stored in any order gives the fresh checker's answers
    model, n = BinaryDAM("hebbian"), 16
    x = patterns(5, 12, n)
    for criterion in (Stable(threshold=0.8), Retrieve(noise=0.1, threshold=0.8)):
        fresh = [make_checker(model, criterion, lambda q: x[:q], n, 12, seed=3)(p) for p in range(1, 13)]
        mixed = make_checker(model, criterion, lambda q: x[:q], n, 12, seed=3)
        answers = []
        for p in range(1, 13):
            k = mixed.successes(p)
            answers.append(mixed(p))
            assert answers[-1] == (p - k <= allowed_failures(criterion.threshold, p))
        assert answers == fresh


@pytest.mark.parametrize("criterion", [Stable(threshold=0.9), Overlap(min_overlap=0.9, threshold=0.9)],
                         ids=["stable", "overlap"])
def test_curve_at_capacity_agrees_with_the_search(criterion):
    config = MeasureConfig(BinaryDAM("hebbian"), criterion, spec=PatternSpec(40), trials=4, seed=7)
    ps = list(range(1, 25))
    for trial in range(config.trials):
        rows = curves.curve_trial(config, trial, ps).rows
        by_p = {r["p"]: r["successes"] for r in rows}
        p_max = rows[0]["p_max"]
        assert 1 <= p_max < ps[-1]
        assert p_max - by_p[p_max] <= allowed_failures(criterion.threshold, p_max)  # stored
        assert p_max + 1 - by_p[p_max + 1] > allowed_failures(criterion.threshold, p_max + 1)  # not
        assert all(r["fraction"] == r["successes"] / r["p"] and r["alpha"] == r["p"] / 40 for r in rows)


# ---------------------------------------------------------------------------------------------
# Per-pattern outcomes
# ---------------------------------------------------------------------------------------------

def test_classes_of_constructed_states():
    rng = np.random.default_rng(0)
    x = rng.choice(PM1, size=(5, 41))
    mixture = np.sign(x[0].astype(int) - x[2] + x[4]).astype(np.int8)
    # the symmetric 3-mixture of a Hebbian network of 3 patterns is a fixed point at large enough N
    three = x[:3]
    fixed = np.sign(three.astype(int).sum(axis=0)).astype(np.int8)
    assert all(g >= 0 for g in naive.flip_gains(BinaryDAM("hebbian"), three, fixed))
    other = rng.choice(PM1, size=41)
    finals = np.array([x[0], -x[1], mixture, other, x[3]])
    classes, mixes, nearest = curves.final_classes(finals, x)
    # row 4 ends on another stored pattern: other, with that pattern as the nearest
    assert classes == ["pattern", "reversed", "mixture3", "other", "other"]
    assert mixes[2] == "+0-2+4" and mixes[0] == mixes[3] == ""
    assert nearest[0] == 0 and nearest[1] == 1 and nearest[4] == 3
    classes, mixes, _ = curves.final_classes(np.array([x[0], x[1], fixed]), three)
    assert classes[2] == "mixture3" and mixes[2] == "+0+1+2"
    assert [naive_curve.final_class(f, x, nu) for nu, f in enumerate(finals)] == \
        ["pattern", "reversed", "mixture3", "other", "other"]


def test_recall_outcomes_pattern_reversed_and_a_mixture_fixed_point():
    model = BinaryDAM("hebbian")
    # one pattern, N odd, noise 1/2: round(N/2) = (N+1)/2 flips leave overlap -1, and every descent
    # step moves away from the pattern (the opposite flip is an exact tie, which keeps the state)
    x = patterns(3, 1, 9)
    out = curves.pattern_outcomes(model, Retrieve(noise=0.5), x, seed=11)
    assert out[0].outcome == "reversed" and not out[0].succeeded and out[0].overlap == -1.0
    # noise 0: a stored fixed point stays where it is
    x = patterns(4, 3, 101)
    out = curves.pattern_outcomes(model, Overlap(min_overlap=1.0), x, seed=0)
    assert [o.outcome for o in out] == ["pattern"] * 3 and all(o.succeeded for o in out)
    assert all(o.sweeps == 1 and o.converged and o.overlap == 1.0 for o in out)
    # store the symmetric mixture M of three patterns and a fourth pattern equal to M with two units
    # flipped: its recall (noise 0) falls into M, a fixed point that is a 3-mixture
    three = patterns(8, 3, 41)
    fixed = np.sign(three.astype(int).sum(axis=0)).astype(np.int8)
    for flipped in ((0, 1), (5, 9), (2, 30)):
        fourth = fixed.copy()
        fourth[list(flipped)] *= -1
        x = np.vstack([three, fourth])
        out = curves.pattern_outcomes(model, Stable(), x, seed=1)
        finals = curves.Recalls(model, Stable(), x, seed=1).finals
        assert [naive_curve.final_class(f, x, nu) for nu, f in enumerate(finals)] == \
            [o.outcome for o in out]
        if out[3].outcome == "mixture3":
            assert not out[3].succeeded
            signs = [(1 if t[0] == "+" else -1, int(t[1:])) for t in
                     out[3].mixture.replace("+", " +").replace("-", " -").split()]
            assert np.array_equal(np.sign(sum(e * x[k].astype(int) for e, k in signs)), finals[3])
            break
    else:
        pytest.fail("no constructed case fell into the mixture")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.label)
def test_outcomes_equal_naive_recalls(model):
    for n, p, noise, seed in ((9, 4, 0.3, 1), (10, 6, 0.2, 2), (11, 5, 0.5, 3), (12, 1, 0.1, 4)):
        x = patterns(seed, p, n)
        criterion = Retrieve(noise=noise, max_sweeps=15)
        out = curves.pattern_outcomes(model, criterion, x, seed=seed)
        for nu, o in enumerate(out):
            states, sweeps, done = naive_curve.recall_trace(model, x, nu, cue_flips(noise, n), 15, seed)
            final = states[-1]
            assert o.overlap == int(np.dot(final, x[nu])) / n
            assert (o.sweeps, o.converged) == (sweeps, done)
            assert o.succeeded == bool(np.array_equal(final, x[nu]))
            assert o.outcome == naive_curve.final_class(final, x, nu)
            m = np.abs(x.astype(int) @ final)
            assert m[o.nearest] == m.max()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.label)
def test_stable_outcomes_are_the_stability_decision(model):
    for n in (8, 9, 16):
        x = patterns(n, 9, n)
        out = curves.pattern_outcomes(model, Stable(), x, seed=5)
        assert [o.succeeded for o in out] == list(naive.stable_mask(model, x))
        assert all(o.outcome == "pattern" for o in out if o.succeeded)
        assert all(o.outcome != "pattern" for o in out if not o.succeeded)


def test_outcomes_equal_the_checkers_decisions():
    model, n = BinaryDAM("poly", degree=3), 30
    x = patterns(9, 40, n)
    criterion = Overlap(min_overlap=0.8, noise=0.2)
    checker = make_checker(model, criterion, lambda q: x[:q], n, 40, seed=12)
    for p in (10, 25, 40):
        assert sum(o.succeeded for o in curves.pattern_outcomes(model, criterion, x[:p], 12)) == \
            checker.successes(p)
        assert np.array_equal([round(o.overlap * n) for o in curves.pattern_outcomes(
            model, criterion, x[:p], 12)], checker.final_overlap)


def test_other_dynamics_are_refused():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Sync:  # a criterion of another update scheme, as the dynamics options describe one
        name: str = "overlap"
        update: str = "sync"
        temperature: float = 0.0
        threshold: float = 1.0

    @dataclass(frozen=True)
    class Hot(Sync):
        update: str = "random"
        temperature: float = 0.5

    for criterion in (Sync(), Hot()):
        with pytest.raises(HopcapError, match="default dynamics only"):
            curves.recall_plan(BinaryDAM("hebbian"), criterion)


def test_outcomes_refuse_models_without_recall_dynamics():
    from capacity_cli.families.softmax.model import SoftmaxModel

    with pytest.raises(HopcapError, match="binary family"):
        curves.pattern_outcomes(SoftmaxModel(1.0), Stable(), patterns(0, 2, 8))


# ---------------------------------------------------------------------------------------------
# Energy traces
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.label)
def test_traces_equal_naive_energies(model):
    for n, p, noise, seed in ((9, 4, 0.4, 1), (12, 5, 0.3, 2)):
        x = patterns(seed + 20, p, n)
        recalls = curves.Recalls(model, Retrieve(noise=noise, max_sweeps=15), x, seed)
        for nu in range(p):
            states, sweeps, _ = naive_curve.recall_trace(model, x, nu, cue_flips(noise, n), 15, seed)
            want = [float(naive.energy(model, x, s)) for s in states]
            if model.name == "exp":
                want = [w * math.exp(-model.beta * n) for w in want]
            got = recalls.trace(nu)
            assert len(got) == sweeps + 1
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)  # float64 sums of exact terms
            if not model.field:
                assert all(b <= a for a, b in zip(got, got[1:], strict=False))  # descent


# ---------------------------------------------------------------------------------------------
# Commands, files and bad input
# ---------------------------------------------------------------------------------------------

def test_curve_command_writes_resumes_and_plots(tmp_path):
    out, trace = tmp_path / "c.csv", tmp_path / "t.csv"
    cmd = ["curve", "--model", "hebbian", "--n", 30, "--p-over-n", "0.05:0.3:0.05", "--trials", 3,
           "--criterion", "overlap", "--min-overlap", 0.9, "-o", out, "--trace", trace, "--no-progress"]
    code, text = run(cmd)
    assert code == 0, text
    rows = curves.read_curves([out])
    assert len(rows) == 3 * 6 and {r["p"] for r in rows} == {2, 3, 5, 6, 8, 9}  # round half up
    before = out.read_bytes()
    code, _ = run(cmd)
    assert code == 0 and out.read_bytes() == before  # every trial present: nothing rerun
    traces = curves.read_table(trace, curves.TRACE_COLUMNS, "trace")
    assert {(r["trial"], r["p"]) for r in traces} == {(r["trial"], r["p"]) for r in rows}
    for path, kind in ((out, "curve"), (trace, "trace")):
        code, text = run(["plot", path, "-o", tmp_path / kind])
        assert code == 0 and (tmp_path / f"{kind}.png").exists(), text
    with open(out, "a") as f:
        f.write("hebbian,1")  # a truncated write
    code, text = run(["plot", out, "-o", tmp_path / "x"])
    assert code == 2 and "line" in text and "Traceback" not in text


def test_curve_rows_match_measure_trials(tmp_path):
    # the same trial of measure and curve: the same patterns, the same P_max
    out = tmp_path / "m.csv"
    code, _ = run(["measure", "--model", "poly", "--degree", 3, "--n", 16, "--trials", 3, "-o", out,
                   "--no-progress"])
    assert code == 0
    from capacity_cli.results import load_results

    p_max = {r["trial"]: r["p_max"] for r in load_results(out).records}
    config = MeasureConfig(BinaryDAM("poly", degree=3), Stable(), spec=PatternSpec(16), trials=3)
    for trial in range(3):
        rows = curves.curve_trial(config, trial, [1, 40]).rows
        assert rows[0]["p_max"] == p_max[trial]


def test_measure_outcomes_file(tmp_path):
    out, trace = tmp_path / "o.csv", tmp_path / "t.csv"
    code, text = run(["measure", "--model", "hebbian", "--n", 40, "--trials", 2, "--criterion",
                      "retrieve", "--outcomes", out, "--trace", trace, "--no-progress"])
    assert code == 0, text
    rows = curves.read_table(out, curves.OUTCOME_COLUMNS, "outcomes")
    config = MeasureConfig(BinaryDAM("hebbian"), Retrieve(), spec=PatternSpec(40), trials=2)
    for trial in range(2):
        mine = [r for r in rows if r["trial"] == trial]
        p_max = mine[0]["p_max"]
        assert sorted({r["p"] for r in mine}) == [p_max, p_max + 1]
        at = [r for r in mine if r["p"] == p_max]
        assert len(at) == p_max and all(r["succeeded"] for r in at)  # threshold 1 at P_max
        assert not all(r["succeeded"] for r in mine if r["p"] == p_max + 1)
        want = curves.pattern_outcomes(config.model, config.criterion,
                                       trial_source(config, trial)(p_max + 1), dynamics_seed(0, trial))
        assert [r["outcome"] for r in mine if r["p"] == p_max + 1] == [o.outcome for o in want]
    assert curves.file_kind(trace) == "trace"


@pytest.mark.parametrize("args, message", [
    (["curve", "--model", "hebbian", "--n", 20, "--p", "10:5:1"], "empty range"),
    (["curve", "--model", "hebbian", "--n", 20, "--p", "1:10:-1"], "decreasing"),
    (["curve", "--model", "hebbian", "--n", 20, "--p", "1:10:0"], "step must be > 0"),
    (["curve", "--model", "hebbian", "--n", 20, "--p-over-n", "0.3:0.1:0.01"], "empty range"),
    (["curve", "--model", "hebbian", "--n", 20, "--p-over-n", "a:b:c"], "not a number"),
    (["curve", "--model", "hebbian", "--n", 20, "--p", "1.5:3"], "whole numbers"),
    (["curve", "--model", "hebbian", "--n", 20, "--p-over-n", "0.001"], "no P >= 1"),
    (["curve", "--model", "hebbian", "--n", 20], "needs one of --p"),
    (["curve", "--model", "hebbian", "--n", 20, "--p", "5", "--p-over-n", "0.1"], "needs one of --p"),
    (["curve", "--model", "softmax", "--n", 20, "--p", "1:5"], "binary family"),
    (["measure", "--model", "softmax", "--n", 8, "--outcomes", "o.csv"],
     "--outcomes does not apply to --model softmax"),
    (["measure", "--model", "hebbian", "--n", 8, "--trace", "t.csv"], "needs --outcomes"),
    (["measure", "--model", "poly", "--search", "degree", "--p", 5, "--n", 8, "--outcomes", "o.csv"],
     "--outcomes does not apply to --search degree"),
])
def test_bad_input_is_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, text = run(args)
    assert code != 0 and message in text, text
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1


def test_curve_file_shared_by_configurations(tmp_path):
    # a second configuration appended to the same file; each command reports its own rows only
    out = tmp_path / "c.csv"
    base = ["curve", "--model", "hebbian", "--n", 20, "--p", "2:6:2", "--trials", 2, "-o", out,
            "--no-progress"]
    assert run(base)[0] == 0
    code, text = run(base[:-3] + ["--criterion", "overlap", "--min-overlap", 0.9, "-o", out,
                                  "--no-progress"])
    assert code == 0 and "stable" not in text and "overlap" in text
    assert len(curves.read_curves([out])) == 2 * 2 * 3
    code, text = run(base[:5] + ["--p", "2:4:2", "--trials", 1, "-o", out, "--no-progress"])
    assert code == 0 and text.count("\n  ") == 3  # header and P = 2, 4 of trial 0, nothing rerun
    code, _ = run(["plot", out, "-o", tmp_path / "both"])
    assert code == 0 and (tmp_path / "both.png").exists()


def test_same_numbers_at_any_thread_count():
    from capacity_cli._compile import thread_count

    model = BinaryDAM("poly", degree=3)
    x = patterns(21, 30, 25)
    config = MeasureConfig(BinaryDAM("hebbian"), Overlap(min_overlap=0.9, noise=0.1),
                           spec=PatternSpec(60), trials=1, seed=4)
    results = []
    for threads in (1, 2):
        with thread_count(threads):
            r = curves.Recalls(model, Retrieve(noise=0.2), x, seed=9)
            rows = curves.curve_trial(config, 0, [2, 5, 9, 14]).rows
            results.append((r.finals.copy(), r.sweeps.copy(), [(d["successes"], d["p_max"]) for d in rows]))
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])
    assert results[0][2] == results[1][2]
