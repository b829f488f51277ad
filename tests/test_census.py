"""The attractor census (capacity_cli.census, kernels.census) against its naive twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from capacity_cli import census as lib
from capacity_cli._compile import thread_count
from capacity_cli.cli import main
from capacity_cli.errors import HopcapError
from capacity_cli.models import BinaryDAM

try:
    from . import naive_census as naive
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    import naive_census as naive

PM1 = np.array([-1, 1], dtype=np.int8)
MODELS = [BinaryDAM("hebbian"), BinaryDAM("poly", degree=3), BinaryDAM("poly", degree=2),
          BinaryDAM("rectpoly", degree=3), BinaryDAM("exp", beta=1.0), BinaryDAM("exp", beta=0.3),
          BinaryDAM("poly", degree=12), BinaryDAM("exp", beta=math.log(2) / 2)]


def patterns(seed: int, p: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(PM1, size=(p, n))


def run(cmd: list) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in cmd])
    return result.exit_code, result.output


# ---------------------------------------------------------------------------------------------
# Relaxation: kernel against the naive twin, decision for decision
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.label)
@pytest.mark.parametrize("n, p", [(9, 1), (10, 3), (11, 5), (12, 2)])
def test_relax_matches_naive(model, n, p):
    x = patterns(n * 31 + p, p, n)
    starts = lib.random_starts(n, 12, seed=n + p)
    starts[0] = x[0]  # a stored pattern
    starts[1] = -x[0]
    got = lib.binary_dynamics(model, x).relax(starts, np.arange(12), 77, 30)
    finals, sweeps, converged = naive.relax_starts(model, x, starts, 77, 30)
    np.testing.assert_array_equal(got.finals, finals)
    np.testing.assert_array_equal(got.sweeps, sweeps)
    np.testing.assert_array_equal(got.converged, converged)


def test_relax_ties_keep_state():
    """Two opposite patterns: every flip gain at every state is 0 (hebbian, even N), nothing moves."""
    x = np.array([[1] * 8, [-1] * 8], dtype=np.int8)
    x[1] = -x[0]
    starts = lib.random_starts(8, 20, seed=3)
    got = lib.binary_dynamics(BinaryDAM("hebbian"), x).relax(starts, np.arange(20), 1, 10)
    finals, _, _ = naive.relax_starts(BinaryDAM("hebbian"), x, starts, 1, 10)
    np.testing.assert_array_equal(got.finals, finals)


def test_same_result_at_any_thread_count():
    x = patterns(5, 12, 80)
    d = lib.binary_dynamics(BinaryDAM("hebbian"), x)
    starts = lib.random_starts(80, 400, seed=9)
    with thread_count(1):
        one = lib.run_census(d, x, starts, 4, 50, None, 4)
    with thread_count(None):
        many = lib.run_census(d, x, starts, 4, 50, None, 4)
    np.testing.assert_array_equal(one.states, many.states)
    np.testing.assert_array_equal(one.hits, many.hits)
    np.testing.assert_array_equal(one.radius, many.radius)


# ---------------------------------------------------------------------------------------------
# Every fixed point, by brute force
# ---------------------------------------------------------------------------------------------

def census_fixed_points(model, x) -> set[bytes]:
    n = x.shape[1]
    c = lib.run_census(lib.binary_dynamics(model, x), x, naive.all_states(n), 0, 10_000)
    assert c.not_converged == 0
    return {row.tobytes() for row in c.states}


@pytest.mark.parametrize("n, p", [(16, 3), (15, 2), (16, 5), (13, 1)])
def test_hebbian_census_finds_every_fixed_point(n, p):
    """Starts covering all 2^N states: the census's set is exactly the set of fixed points."""
    x = patterns(100 + n + p, p, n)
    assert census_fixed_points(BinaryDAM("hebbian"), x) == naive.hebbian_fixed_points(x)


@pytest.mark.parametrize("model", [BinaryDAM("poly", degree=3), BinaryDAM("rectpoly", degree=3),
                                   BinaryDAM("exp", beta=1.0), BinaryDAM("poly", degree=2)],
                         ids=lambda m: m.label)
@pytest.mark.parametrize("n, p", [(9, 4), (10, 6)])
def test_dam_census_finds_every_fixed_point(model, n, p):
    x = patterns(200 + n + p, p, n)
    assert census_fixed_points(model, x) == naive.fixed_points(model, x)


# ---------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------

def test_constructed_mixtures_are_recognised():
    rng = np.random.default_rng(7)
    for _trial in range(30):
        n, p = int(rng.integers(20, 60)), int(rng.integers(5, 12))
        x = rng.choice(PM1, size=(p, n))
        idx = rng.choice(p, size=3, replace=False)
        signs = rng.choice([-1, 1], size=3)
        y = np.sign((signs[:, None] * x[idx].astype(np.int64)).sum(axis=0)).astype(np.int8)
        is_mix, found, gave_up = lib.mixtures(y[None, :], x, 3)
        assert not gave_up[0]
        assert is_mix[0]
        comp = found[0]
        rebuilt = np.sign(sum(np.sign(c) * x[abs(c) - 1].astype(np.int64) for c in comp))
        np.testing.assert_array_equal(rebuilt, y)
        assert len({abs(int(c)) for c in comp}) == 3
        label = lib.classify_states(y[None, :], x)[0][0]
        assert lib.CLASSES[label] in ("mixture3", "stored", "reversed")


@pytest.mark.parametrize("k", [3, 5])
def test_mixture_kernel_matches_brute_force(k):
    rng = np.random.default_rng(k)
    for _trial in range(25):
        n, p = int(rng.integers(5, 14)), int(rng.integers(k, 8))
        x = rng.choice(PM1, size=(p, n))
        states = [rng.choice(PM1, size=n) for _ in range(4)]
        for kk in (3, 5):
            if p >= kk:
                idx = rng.choice(p, size=kk, replace=False)
                s = rng.choice([-1, 1], size=kk)
                states.append(np.sign((s[:, None] * x[idx].astype(np.int64)).sum(axis=0)).astype(np.int8))
        states = np.array(states, dtype=np.int8)
        is_mix, _, gave_up = lib.mixtures(states, x, k)
        assert not gave_up.any()
        expected = [naive.is_mixture(y, x, k) for y in states]
        np.testing.assert_array_equal(is_mix, expected)


def test_classify_matches_naive():
    rng = np.random.default_rng(11)
    for _trial in range(15):
        n, p = int(rng.integers(6, 12)), int(rng.integers(1, 7))
        x = rng.choice(PM1, size=(p, n))
        protos = rng.choice(PM1, size=(2, n))
        states = np.concatenate([x, -x, protos, -protos, rng.choice(PM1, size=(10, n))]).astype(np.int8)
        labels, unchecked = lib.classify_states(states, x, protos)
        assert not unchecked.any()
        expected = [naive.classify(y, x, protos) for y in states]
        assert [lib.CLASSES[c] for c in labels] == expected


# ---------------------------------------------------------------------------------------------
# Energies, profiles, basins
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.label)
def test_stabilities_match_naive(model):
    n, p = 11, 4
    x = patterns(3, p, n)
    states = np.concatenate([x, lib.random_starts(n, 6, 1)])
    got = lib.binary_dynamics(model, x).stabilities(states)
    expected = np.array([naive.stabilities(model, x, y) for y in states])
    # float64 sums of at most 2P terms, each within a few ulps of the exact value
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_hebbian_stability_is_y_times_field():
    """e_i = y_i h_i, h = W y, W = X^T X with zero diagonal: exactly (integers)."""
    x = patterns(4, 7, 30)
    states = lib.random_starts(30, 20, 2)
    got = lib.binary_dynamics(BinaryDAM("hebbian"), x).stabilities(states)
    expected = np.array([naive.hebbian_field_stabilities(x, y) for y in states])
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("model", MODELS[:5], ids=lambda m: m.label)
def test_energies_match_naive(model):
    x = patterns(8, 5, 12)
    states = lib.random_starts(12, 5, 4)
    got = lib.binary_dynamics(model, x).energy(states)
    for y, e in zip(states, got, strict=True):
        exact = naive.naive.energy(model, x, y)
        if model.name == "exp":  # scaled by e^(-beta N)
            exact = float(exact) * math.exp(-model.beta * 12)
        assert e == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize("sweeps", [1, 2, 100])
def test_basins_sum_to_one(sweeps):
    x = patterns(21, 14, 60)
    c = lib.run_census(lib.binary_dynamics(BinaryDAM("hebbian"), x), x, lib.random_starts(60, 500, 5),
                       5, sweeps)
    total = sum(cl.basin for cl in c.classes) + c.not_converged_fraction
    assert total == pytest.approx(1.0, abs=1e-12)
    assert sum(cl.starts for cl in c.classes) + c.not_converged == 500
    assert c.hits.sum() == 500 - c.not_converged
    assert sum(cl.states for cl in c.classes) == len(c.states)
    if sweeps == 1:
        assert c.not_converged > 0
    # every state reached is a fixed point: all stabilities >= 0
    assert (c.stabilities >= 0).all()


def test_census_counts_match_naive():
    """Class counts and hits of a whole census against the naive relaxation + classification."""
    n, p = 12, 4
    x = patterns(99, p, n)
    model = BinaryDAM("hebbian")
    starts = lib.random_starts(n, 60, 8)
    c = lib.run_census(lib.binary_dynamics(model, x), x, starts, 8, 50)
    finals, _, converged = naive.relax_starts(model, x, starts, 8, 50)
    counts: dict[str, int] = {}
    for y in finals[converged]:
        name = naive.classify(y, x)
        counts[name] = counts.get(name, 0) + 1
    assert {cl.name: cl.starts for cl in c.classes if cl.starts} == counts


def test_basin_radius_small_cases():
    """P = 1: every cue with k < N/2 flips relaxes to the pattern (hebbian): radius = largest k < N/2;
    a pattern that is not a fixed point gets -1."""
    for n in (9, 10, 21):
        x = patterns(n, 1, n)
        r = lib.basin_radii(lib.binary_dynamics(BinaryDAM("hebbian"), x), x, 6, 0, 50)
        assert r[0] == (n - 1) // 2
    # hebbian: x0 = (+,+,+,+), x1 = x2 = (-,-,-,+) pull unit 3 one way: x0 is not a fixed point
    x = np.array([[1, 1, 1, 1], [-1, -1, -1, 1], [-1, -1, -1, 1]], dtype=np.int8)
    assert not naive.is_fixed_point(BinaryDAM("hebbian"), x, x[0])
    r = lib.basin_radii(lib.binary_dynamics(BinaryDAM("hebbian"), x), x, 4, 0, 50)
    assert r[0] == -1


def test_basin_radius_is_largest_half_success():
    """Against a linear scan of the same cue success test (same seeded cues)."""
    x = patterns(2, 6, 40)
    d = lib.binary_dynamics(BinaryDAM("hebbian"), x)
    r = lib.basin_radii(d, x, 8, 3, 50)
    for mu in range(6):
        ks = np.arange(0, 21)
        ok = lib._retrieval_ok(d, x, np.full(21, mu), ks, 8, 3, 50)
        if not ok[0]:
            assert r[mu] == -1
            continue
        first_fail = int(np.argmin(ok)) if not ok.all() else 21
        if ok[:first_fail].all() and not ok[first_fail:].any():  # monotone: binary search is exact
            assert r[mu] == first_fail - 1


# ---------------------------------------------------------------------------------------------
# Prototype sets, profiles, classifiers
# ---------------------------------------------------------------------------------------------

def test_prototype_set():
    ps = lib.prototype_set(50, 12, 3, 0.2, seed=4)
    assert ps.examples.shape == (12, 50) and ps.prototypes.shape == (3, 50)
    np.testing.assert_array_equal(ps.prototype_of, np.arange(12) % 3)
    again = lib.prototype_set(50, 12, 3, 0.2, seed=4)
    np.testing.assert_array_equal(ps.examples, again.examples)
    exact = lib.prototype_set(50, 6, 3, 0.0, seed=4)
    np.testing.assert_array_equal(exact.examples, exact.prototypes[np.arange(6) % 3])
    flipped = (ps.examples != ps.prototypes[ps.prototype_of]).mean()
    assert 0.1 < flipped < 0.3  # 600 Bernoulli(0.2) draws: 10 standard deviations wide


def test_prototype_class_found():
    """Hebbian, many low-noise examples of one prototype: the prototype is the dominant attractor."""
    ps = lib.prototype_set(64, 15, 1, 0.15, seed=1)
    c = lib.run_census(lib.binary_dynamics(BinaryDAM("hebbian"), ps.examples), ps.examples,
                       lib.random_starts(64, 200, 1), 1, 100, ps.prototypes)
    assert c.basin("prototype") > 0.9


def test_stability_ratio_and_threshold():
    e = np.array([[1.0, 2.0, 4.0], [0.0, 3.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(lib.stability_ratio(e), [0.25, 0.0, 0.0])
    np.testing.assert_array_equal(lib.profile_features(e)[0], [0.25, 0.5, 1.0])
    ratio = np.array([0.1, 0.2, 0.6, 0.7])
    t = lib.threshold_fit(ratio, np.array([False, False, True, True]))
    assert 0.2 < t < 0.6


def test_compare_classifiers_on_separable_profiles():
    rng = np.random.default_rng(0)
    learned = 10 + rng.random((40, 20))
    spurious = np.concatenate([rng.random((40, 3)) * 0.1, 10 + rng.random((40, 17))], axis=1)
    e = np.concatenate([learned, spurious])
    y = np.array([0] * 40 + [2] * 40)
    rows = lib.compare_classifiers(e, y, e, y)
    methods = {r.method.split(" >=")[0]: r for r in rows if r.task == "learned vs rest"}
    assert methods["stability ratio"].test_accuracy == 1.0
    assert methods["logistic regression"].test_accuracy == 1.0
    assert methods["majority class"].test_accuracy == 0.5


def test_write_profiles(tmp_path):
    x = patterns(1, 5, 30)
    c = lib.run_census(lib.binary_dynamics(BinaryDAM("hebbian"), x), x, lib.random_starts(30, 100, 1))
    lib.write_profiles(tmp_path / "p.npz", c)
    with np.load(tmp_path / "p.npz") as f:
        np.testing.assert_array_equal(f["patterns"], c.states)
        np.testing.assert_array_equal(f["labels"], c.labels)
        np.testing.assert_array_equal(f["sorted_stabilities"], np.sort(c.stabilities, axis=1))
        assert list(f["classes"]) == list(lib.CLASSES)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def test_cli_census_table():
    code, out = run(["census", "--n", 40, "--p", 4, "--starts", 300, "--radius-cues", 4])
    assert code == 0, out
    assert "stored" in out and "mixture3" in out and "basin radius" in out


def test_cli_gen_prototypes_roundtrip(tmp_path):
    path = tmp_path / "proto.npz"
    code, out = run(["gen", "--n", 40, "--p", 9, "--prototypes", 3, "--example-noise", 0.1,
                     "-o", path])
    assert code == 0, out
    with np.load(path) as f:
        assert f["prototypes"].shape == (3, 40)
    np.testing.assert_array_equal(lib.load_prototypes(path), lib.prototype_set(40, 9, 3, 0.1, 0).prototypes)
    code, out = run(["census", "--patterns", path, "--starts", 200, "--radius-cues", 0,
                     "--profiles", tmp_path / "prof.npz"])
    assert code == 0, out
    assert "N=40 P=9" in out  # the whole file by default
    with np.load(tmp_path / "prof.npz") as f:
        x = lib.prototype_set(40, 9, 3, 0.1, 0)
        states, labels = f["patterns"], f["labels"]
        for y, c in zip(states, labels, strict=True):  # prototype labels come from the file's prototypes
            is_proto = any(np.array_equal(y, s * q) for q in x.prototypes for s in (1, -1))
            is_stored = any(np.array_equal(y, s * q) for q in x.examples for s in (1, -1))
            assert (lib.CLASSES[c] == "prototype") == (is_proto and not is_stored)
    assert (tmp_path / "prof.npz").exists()


@pytest.mark.parametrize("args, message", [
    (["census", "--starts", 0], "--starts must be an integer >= 1"),
    (["census", "--starts", -5], "--starts must be an integer >= 1"),
    (["census", "--prototypes", 2, "--example-noise", 0.6], "--example-noise must be in [0, 0.5]"),
    (["census", "--prototypes", 2, "--example-noise", -0.1], "--example-noise must be in [0, 0.5]"),
    (["census", "--prototypes", 2, "--example-noise", "nan"], "--example-noise must be in [0, 0.5]"),
    (["census", "--prototypes", 0], "--prototypes must be in [1, P=10]"),
    (["census", "--prototypes", 11], "--prototypes must be in [1, P=10]"),
    (["census", "--model", "softmax"], "has no fixed-point dynamics"),
    (["census", "--model", "nosuch"], "unknown model"),
    (["census", "--from-cues", 0.7], "--from-cues must be in [0, 0.5]"),
    (["census", "--classify", 2], "--classify needs --prototypes"),
    (["census", "--max-sweeps", 0], "--max-sweeps must be in"),
    (["census", "--p", 0], "--p must be >= 1"),
    (["census", "--threads", 0], "--threads must be >= 1"),
    (["census", "--n", 1], "--n must be in [2, 100000]"),
    (["census", "--model", "exp", "--beta", "nan"], "--beta must be in"),
    (["census", "--radius-cues", -1], "--radius-cues must be >= 0"),
    (["census", "--profiles", "out.txt"], "--profiles must end in .npz"),
    (["census", "--dataset", "digits", "--prototypes", 2], "--prototypes does not apply to --dataset"),
    (["census", "--patterns", "missing.npz"], "no such file"),
    (["census", "--model", "poly"], "--degree must be"),
    (["gen", "--n", 20, "--p", 5, "--prototypes", 6, "-o", "x.npz"], "--prototypes must be in [1, P=5]"),
    (["gen", "--n", 20, "--p", 5, "--example-noise", 0.2, "-o", "x.npz"],
     "--example-noise needs --prototypes"),
    (["gen", "--dataset", "digits", "--prototypes", 2, "-o", "x.npz"],
     "--prototypes does not apply to --dataset"),
    (["gen", "--n", 20, "--p", 5, "--prototypes", 2, "--example-noise", 0.9, "-o", "x.npz"],
     "--example-noise must be in [0, 0.5]"),
])
def test_cli_bad_input_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = run(args)
    assert code != 0
    lines = [line for line in out.strip().splitlines() if line]
    assert len(lines) == 1 and message in lines[0], out
    assert "Traceback" not in out


def test_library_refuses_bad_requests():
    with pytest.raises(HopcapError):
        lib.random_starts(10, 0)
    with pytest.raises(HopcapError):
        lib.prototype_set(10, 5, 0, 0.1)
    with pytest.raises(HopcapError):
        lib.binary_dynamics(BinaryDAM("hebbian", rule="field"), patterns(1, 2, 5))


def test_mixture_budget_gives_up_honestly():
    """P >> N: many candidate sets; a budget of 1 gives up (neither proven nor refuted), a large one
    decides exactly as brute force."""
    rng = np.random.default_rng(5)
    x = rng.choice(PM1, size=(40, 7))
    states = rng.choice(PM1, size=(6, 7))
    _, _, gave_up = lib.mixtures(states, x, 3, budget=1)
    assert gave_up.any()
    is_mix, _, gave_up = lib.mixtures(states, x, 3, budget=10**9)
    assert not gave_up.any()
    np.testing.assert_array_equal(is_mix, [naive.is_mixture(y, x, 3) for y in states])


def near_root_exp_set(n: int) -> np.ndarray:
    """tests/test_exact.py's set: at y = xi_0, unit 0's exp gain is proportional to q^j (2 - q),
    q = e^(2 beta), so at beta = ln(2)/2 (+- one ulp) only exact arithmetic decides it."""
    xi = np.ones(n, dtype=np.int8)

    def flips(units):
        y = xi.copy()
        y[units] = -1
        return y

    agree = flips([1, 2])
    return np.array([xi, flips([0]), agree, agree, flips([0, 3])], dtype=np.int8)


@pytest.mark.parametrize("beta", [math.log(2) / 2, float(np.nextafter(math.log(2) / 2, 1.0)),
                                  float(np.nextafter(math.log(2) / 2, 0.0))])
def test_census_level3_decisions_match_naive(beta):
    """Starts whose decisions need level 3 (exact arithmetic): the kernel flags them, the census
    reruns them with exact signs and ends where the exact naive dynamics end."""
    from capacity_cli.kernels.census import relax_starts
    from capacity_cli.models import gain_arithmetic

    n = 12
    model = BinaryDAM("exp", beta=beta)
    x = near_root_exp_set(n)
    starts = np.concatenate([x, lib.random_starts(n, 20, 3)]).astype(np.int8)
    a = gain_arithmetic(model, n, len(x))
    needs = np.zeros(len(starts), dtype=np.bool_)
    relax_starts(starts, np.arange(len(starts)), np.ascontiguousarray(x.T), len(x), a.gain, False, a.exact,
                 a.shiftable, a.levels.table, a.levels.ratio_form, np.uint64(9), 20,
                 np.empty_like(starts), np.zeros(len(starts), dtype=np.int64),
                 np.zeros(len(starts), dtype=np.bool_), needs)
    assert needs[0]  # the level-3 path is exercised
    got = lib.binary_dynamics(model, x).relax(starts, np.arange(len(starts)), 9, 20)
    finals, sweeps, converged = naive.relax_starts(model, x, starts, 9, 20)
    np.testing.assert_array_equal(got.finals, finals)
    np.testing.assert_array_equal(got.sweeps, sweeps)
    np.testing.assert_array_equal(got.converged, converged)


def test_cli_from_cues():
    code, out = run(["census", "--n", 50, "--p", 3, "--starts", 60, "--from-cues", 0.1, "--radius-cues", 0])
    assert code == 0, out
    # three well-separated patterns at alpha = 0.06, cues with 5 flipped bits: every start retrieves
    assert "stored           3       60   1.0000" in out
