"""The softmax family (capacity_cli.families.softmax, kernels.softmax) against its naive twins."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from capacity_cli.errors import HopcapError
from capacity_cli.families.softmax import (
    BetaRule,
    FixedPoint,
    RetrieveEps,
    SignRetrieve,
    SoftmaxChecker,
    SoftmaxModel,
    SpherePatternStream,
    check_compatible,
    cues_of,
    lambert_w0_exp,
    parse_beta,
    pattern_kind_stats,
    separation,
    softmax_capacity,
    sphere_patterns,
    theorem3,
    theorem3_bound,
)
from capacity_cli.kernels import softmax as ker
from capacity_cli.kernels.dynamics import flip_distinct, stream_state
from capacity_cli.search import largest_storable

try:
    from . import naive_softmax as naive
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    import naive_softmax as naive

SEED = 0x1234_5678_9ABC_DEF0


def random_patterns(rng, p, n, kind):
    if kind == "pm1":
        return rng.choice(np.array([-1, 1], dtype=np.int8), size=(p, n))
    g = rng.standard_normal((p, n))
    return (g * math.sqrt(n) / np.linalg.norm(g, axis=1, keepdims=True)).astype(np.float32)


def random_criterion(rng, kind):
    eps = float(rng.choice([1e-6, 1e-3, 0.05, 0.3, 0.8]))
    noise = float(rng.choice([0.0, 0.0, 0.1, 0.25]))
    pick = rng.integers(0, 4 if kind == "pm1" else 3)
    if pick == 0:
        return RetrieveEps(eps, steps=1, noise=noise)
    if pick == 1:
        return RetrieveEps(eps, steps=int(rng.integers(2, 4)), noise=noise,
                           threshold=float(rng.choice([1.0, 0.75])))
    if pick == 2:
        return FixedPoint(eps, max_steps=int(rng.choice([3, 50])))
    return SignRetrieve(steps=int(rng.integers(1, 3)), noise=noise)


def near_boundary(results, criterion) -> bool:
    eps = getattr(criterion, "eps", None)
    for _ok, r, _conv, _steps in results:
        if eps is not None and abs(r - eps) <= naive.BOUNDARY_RTOL * eps:
            return True
    return False


# --------------------------------------------------------------------------------------------------
# beta, model and criteria
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, per, coef, label, at16", [
    ("2", "", 2.0, "2", 2.0),
    (" 0.5/sqrtN ", "sqrtN", 0.5, "0.5/sqrtN", 0.125),
    ("1/sqrt(N)", "sqrtN", 1.0, "1/sqrtN", 0.25),
    ("1/N", "N", 1.0, "1/N", 1 / 16),
    ("3/n", "N", 3.0, "3/N", 3 / 16),
    ("1e-2", "", 0.01, "0.01", 0.01),
])
def test_parse_beta(text, per, coef, label, at16):
    rule = parse_beta(text)
    assert (rule.per, rule.coef, rule.label) == (per, coef, label)
    assert rule.value(16) == pytest.approx(at16, rel=1e-15)
    assert parse_beta(rule.label) == rule


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "1/sqrtM", "abc", "1/", "", "0/N", "-2/sqrtN"])
def test_parse_beta_rejects(text):
    with pytest.raises(HopcapError) as err:
        parse_beta(text)
    assert "\n" not in str(err.value)


def test_model_normalises_beta():
    assert SoftmaxModel(2).beta == BetaRule(2.0)
    assert SoftmaxModel("1/sqrtN").beta.value(64) == 0.125
    with pytest.raises(HopcapError):
        SoftmaxModel(1.0, dtype="float16")


@pytest.mark.parametrize("make", [
    lambda: RetrieveEps(0.0), lambda: RetrieveEps(math.nan), lambda: RetrieveEps(0.1, steps=0),
    lambda: RetrieveEps(0.1, noise=-0.1), lambda: RetrieveEps(0.1, noise=math.inf),
    lambda: RetrieveEps(0.1, threshold=0.0), lambda: RetrieveEps(0.1, threshold=1.5),
    lambda: SignRetrieve(steps=0), lambda: FixedPoint(0.1, max_steps=0), lambda: FixedPoint(0.1, tol=0),
])
def test_criteria_validate(make):
    with pytest.raises(HopcapError) as err:
        make()
    assert "\n" not in str(err.value)


def test_kind_compatibility():
    check_compatible(RetrieveEps(0.1, noise=2.0), "sphere")  # sphere noise may exceed 0.5
    with pytest.raises(HopcapError):
        check_compatible(RetrieveEps(0.1, noise=0.6), "pm1")
    with pytest.raises(HopcapError):
        check_compatible(SignRetrieve(), "sphere")
    x = sphere_patterns(8, 4)
    with pytest.raises(HopcapError):
        SoftmaxChecker(SoftmaxModel(1), SignRetrieve(), lambda p: x[:p], 8, 4)(2)


# --------------------------------------------------------------------------------------------------
# kernels against twins
# --------------------------------------------------------------------------------------------------

def test_update_matches_twin(rng):
    for _ in range(50):
        p, n = int(rng.integers(1, 41)), int(rng.integers(2, 41))
        beta = float(10 ** rng.uniform(-2, 2))
        x = random_patterns(rng, p, n, "sphere").astype(np.float64)
        states = rng.standard_normal((7, n)) * math.sqrt(n)
        got = ker.update(states, x, beta, block=3)
        want = np.array([naive.update(x, s, beta) for s in states])
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12 * math.sqrt(n))


def test_update_never_raises_energy(rng):
    x = random_patterns(rng, 30, 12, "sphere").astype(np.float64)
    state = rng.standard_normal((1, 12)) * 3
    for _ in range(10):
        new = ker.update(state, x, 0.7)
        assert naive.energy(x, new[0], 0.7) <= naive.energy(x, state[0], 0.7) + 1e-12
        state = new


def test_softmax_finite_at_beta_100_n_1024(rng):
    n, p = 1024, 64
    x = random_patterns(rng, p, n, "pm1").astype(np.float64)
    cues = cues_of(x, 0.2, SEED, "pm1")
    out = ker.update(cues, x, 100.0)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, x)  # every other weight underflows to exactly 0
    scores = cues @ x.T
    m, z, scale = np.full(p, -np.inf), np.zeros(p), np.empty(p)
    ker.softmax_extend(scores, 100.0, m, z, scale)
    assert np.isfinite(scores).all() and np.isfinite(z).all() and (z >= 1).all()


def test_online_softmax_chunks_equal_whole(rng):
    s = rng.standard_normal((5, 30)) * 40
    whole = s.copy()
    m1, z1, sc = np.full(5, -np.inf), np.zeros(5), np.empty(5)
    ker.softmax_extend(whole, 1.3, m1, z1, sc)
    a, b = s[:, :11].copy(), s[:, 11:].copy()
    m2, z2 = np.full(5, -np.inf), np.zeros(5)
    ker.softmax_extend(a, 1.3, m2, z2, sc)
    ker.softmax_extend(b, 1.3, m2, z2, sc)
    got = np.hstack([a * sc[:, None], b]) / z2[:, None]
    np.testing.assert_allclose(got, whole / z1[:, None], rtol=1e-13, atol=1e-300)
    np.testing.assert_array_equal(m1, m2)


def test_sign_zero_is_a_failure():
    ok = np.zeros(3, dtype=np.bool_)
    ker.sign_matches(np.array([[1.0, 0.0, 2.0], [1.0, 1e-300, 2.0], [-0.0, 1.0, 1.0]]),
                     np.ones((3, 3)), ok)
    assert ok.tolist() == [False, True, False]
    # Both cues (one flip of 2) are orthogonal to both patterns: the state is exactly 0.
    x = np.array([[1, 1], [-1, -1]], dtype=np.int8)
    crit = SignRetrieve(noise=0.5, threshold=0.5)
    checker = SoftmaxChecker(SoftmaxModel(1.0), crit, lambda p: x[:p], 2, 2, seed=SEED)
    assert checker(1)
    assert not checker(2)
    stored, results = naive.is_stored(x, 1.0, crit, SEED, "pm1")
    assert not stored and [ok for ok, *_ in results] == [False, False]


def test_cues_match_binary_family_and_twin(rng):
    x = random_patterns(rng, 20, 33, "pm1")
    cues = cues_of(x, 0.2, SEED)
    for i in range(20):
        y = x[i].astype(np.int64)
        flip_distinct(y, round(0.2 * 33), stream_state(np.uint64(SEED), i))
        np.testing.assert_array_equal(cues[i], y)
        np.testing.assert_array_equal(cues[i], naive.pm1_cue(x[i], 0.2, SEED, i))
    s = random_patterns(rng, 20, 9, "sphere")
    cues = cues_of(s, 0.3, SEED)
    for i in range(20):
        np.testing.assert_allclose(cues[i], naive.sphere_cue(s[i], 0.3, SEED, i), rtol=1e-12)
        noise = np.linalg.norm(cues[i] - s[i].astype(np.float64))
        assert noise == pytest.approx(0.3 * np.linalg.norm(s[i].astype(np.float64)), rel=1e-12)


def test_cues_prefix_stable(rng):
    for kind in ("pm1", "sphere"):
        x = random_patterns(rng, 40, 16, kind)
        np.testing.assert_array_equal(cues_of(x[:7], 0.25, SEED), cues_of(x, 0.25, SEED)[:7])


def test_sphere_stream_prefix_stable_and_normed():
    whole = SpherePatternStream(12, (3, 4)).take(2500)
    grown = SpherePatternStream(12, (3, 4))
    for p in (1, 5, 1024, 1025, 2500):
        np.testing.assert_array_equal(grown.take(p), whole[:p])
    assert whole.dtype == np.float32 and not whole.flags.writeable
    np.testing.assert_allclose(np.linalg.norm(whole.astype(np.float64), axis=1), math.sqrt(12), rtol=1e-6)
    np.testing.assert_array_equal(sphere_patterns(12, 30, seed=3), SpherePatternStream(12, (3, 0)).take(30))
    assert not np.array_equal(whole[:10], SpherePatternStream(12, (3, 5)).take(10))


def test_separation_and_geometry(rng):
    for kind in ("pm1", "sphere"):
        x = random_patterns(rng, 25, 10, kind)
        np.testing.assert_allclose(separation(x, block=4), naive.separation(x), rtol=1e-12, atol=1e-9)
    # +-1 rows: the largest cosine is exactly (N - 2 d_min) / N from the integer minimum Hamming
    # distance, so it is compared for equality (int / int is correctly rounded), and so is the angle
    # it gives; a duplicated row (d_min = 0, the case whose arccos turned 1 - 2^-53 into 1e-6
    # degrees) must give exactly 0 degrees.
    for dup in (False, True):
        for n in (10, 33, 64):
            x = random_patterns(rng, 25, n, "pm1")
            if dup:
                x[11] = x[4]
            d = naive.min_hamming(x)
            assert (d == 0) == dup
            geo = pattern_kind_stats(x, block=4) if n == 33 else pattern_kind_stats(x)
            assert geo.max_cos == (n - 2 * d) / n
            assert geo.min_angle_deg == math.degrees(math.acos((n - 2 * d) / n))
            assert (geo.min_angle_deg == 0.0) == dup
    # Real rows: float32 entries, so every product is exact in float64 and a dot product of N terms
    # is off by at most (N - 1) u |x_i| |x_j| (u = eps / 2, Cauchy-Schwarz); each squared norm by as
    # much relatively, the square roots and the division add 3 u: each side's cosine is within
    # (2 N + 2) u = (N + 1) eps of the true one, so they differ by at most 2 (N + 1) eps.
    for n in (2, 10, 300):
        x = random_patterns(rng, 25, n, "sphere")
        tol = 2 * (n + 1) * np.finfo(np.float64).eps
        assert abs(pattern_kind_stats(x).max_cos - naive.max_cosine(x)) <= tol
    x = random_patterns(rng, 25, 10, "pm1")
    d = (10 - x.astype(np.int64) @ x.T.astype(np.int64)) // 2
    np.fill_diagonal(d, 99)
    np.testing.assert_array_equal(separation(x), 2 * d.min(axis=1))
    assert separation(x[:1])[0] == math.inf
    assert math.isnan(pattern_kind_stats(x[:1]).min_angle_deg)
    assert math.isnan(pattern_kind_stats(x[:1]).max_cos)


# --------------------------------------------------------------------------------------------------
# the checker against the twin
# --------------------------------------------------------------------------------------------------

def test_checker_matches_twin_along_searches(rng):
    compared = skipped = 0
    outcomes = []
    for case in range(160):
        kind = "pm1" if case % 2 else "sphere"
        p_all, n = int(rng.integers(1, 41)), int(rng.integers(2, 41))
        beta = float(10 ** rng.uniform(-2, 2))
        crit = random_criterion(rng, kind)
        x = random_patterns(rng, p_all, n, kind)
        checker = SoftmaxChecker(SoftmaxModel(beta), crit, lambda p, x=x: x[:p], n, p_all, seed=SEED,
                                 block=int(rng.choice([1, 3, 1024])))
        log = []

        def is_stored(p, checker=checker, log=log):
            got = checker(p)
            log.append((p, got))
            return got

        largest_storable(is_stored, p_all)
        for p, got in log:
            stored, results = naive.is_stored(x[:p], beta, crit, SEED, kind)
            if near_boundary(results, crit):
                skipped += 1
                continue
            compared += 1
            outcomes.append(got)
            assert got == stored, (case, p, crit, beta)
        if checker.lo:
            _, results = naive.is_stored(x[:checker.lo], beta, crit, SEED, kind)
            r = np.array([res[1] for res in results])
            np.testing.assert_allclose(checker.final_error, r, rtol=1e-8, atol=1e-12)
            if not isinstance(crit, FixedPoint):
                assert (checker.steps == crit.steps).all()
    assert compared > 10 * max(skipped, 1)
    assert 0 < sum(outcomes) < len(outcomes)  # both decisions occur


def test_incremental_equals_fresh(rng):
    x = sphere_patterns(14, 3000, seed=7)
    crit = RetrieveEps(0.01, noise=0.1)
    checker = SoftmaxChecker(SoftmaxModel(1.0), crit, lambda p: x[:p], 14, 3000, seed=SEED, block=256)
    out = largest_storable(checker, 3000)
    assert 0 < out.p_max < 3000 and checker.lo == out.p_max
    fresh = SoftmaxChecker(SoftmaxModel(1.0), crit, lambda p: x[:p], 14, 3000, seed=SEED)
    assert fresh(out.p_max) and not fresh(out.p_max + 1)
    np.testing.assert_allclose(checker.final_error, fresh.final_error, rtol=1e-10, atol=1e-15)
    assert softmax_capacity(SoftmaxModel(1.0), crit, lambda p: x[:p], 14, 3000, seed=SEED) == out


def test_fixed_point_converges_and_caps(rng):
    x = random_patterns(rng, 10, 30, "pm1")
    converging = SoftmaxChecker(SoftmaxModel(0.5), FixedPoint(1e-3), lambda p: x[:p], 30, 10)
    assert converging(10)
    assert converging.converged.all() and (converging.steps >= 1).all()
    assert (converging.final_error <= 1e-3).all()
    # tol so small that only an exact fixed point converges: the cap stops the iteration
    capped = SoftmaxChecker(SoftmaxModel(0.05), FixedPoint(0.9, max_steps=4, tol=1e-300),
                            lambda p: x[:p], 30, 10)
    assert not capped(10)
    stored, results = naive.is_stored(x, 0.05, FixedPoint(0.9, max_steps=4, tol=1e-300), 0, "pm1")
    assert not stored and all(steps == 4 and not conv for _, _, conv, steps in results)


def test_thread_count_independent(rng):
    x = sphere_patterns(20, 600, seed=1)
    crit = RetrieveEps(0.05, steps=2, noise=0.2)
    outs = []
    previous = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            checker = SoftmaxChecker(SoftmaxModel(2.0), crit, lambda p: x[:p], 20, 600, seed=SEED)
            res = largest_storable(checker, 600)
            outs.append((res, checker.final_error.copy()))
    finally:
        numba.set_num_threads(previous)
    assert outs[0][0] == outs[1][0]
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


def test_float32_agrees_away_from_boundary(rng):
    x = sphere_patterns(16, 200, seed=2)
    f64 = SoftmaxChecker(SoftmaxModel(1.0), RetrieveEps(0.05), lambda p: x[:p], 16, 200)
    f32 = SoftmaxChecker(SoftmaxModel(1.0, "float32"), RetrieveEps(0.05), lambda p: x[:p], 16, 200)
    for p in (5, 20, 60, 200):
        a, b = f64(p), f32(p)
        if a and b:
            np.testing.assert_allclose(f32.final_error, f64.final_error, rtol=1e-3, atol=1e-5)
        r = naive.is_stored(x[:p], 1.0, RetrieveEps(0.05), 0, "sphere")[1]
        if min(abs(res[1] - 0.05) for res in r) > 1e-4:
            assert a == b


# --------------------------------------------------------------------------------------------------
# Theorem 3
# --------------------------------------------------------------------------------------------------

def test_theorem3_paper_examples():
    t = theorem3(20, 1.0, 0.001, K=3.0)
    assert t.c == pytest.approx(3.1546, abs=1e-4)
    assert t.a + math.log(t.b) > 1.27
    assert t.bound == pytest.approx(7.4, abs=0.05) and t.holds
    t = theorem3(75, 1.0, 0.001, K=1.0)
    assert t.c == pytest.approx(1.3718, abs=1e-4)
    assert t.a + math.log(t.b) < -0.94
    # hopcap's patterns have norm sqrt(N): K = sqrt(N / (N - 1)) by default
    assert theorem3_bound(40, 1.0) == theorem3(40, 1.0, 0.001, K=math.sqrt(40 / 39)).bound
    with pytest.raises(HopcapError):
        theorem3(20, 0.0)


def test_lambert_w0():
    scipy_special = pytest.importorskip("scipy.special")
    for log_x in (-700, -30, -5, -0.94, 0, 0.5, 1.0, 1.27, 3, 50, 700, 1e5):
        w = lambert_w0_exp(log_x)
        if log_x < 700:
            assert w == pytest.approx(scipy_special.lambertw(math.exp(log_x)).real, rel=1e-14, abs=1e-300)
        assert w + math.log(w) == pytest.approx(log_x, rel=1e-14, abs=1e-13)
    assert lambert_w0_exp(1.0) == pytest.approx(1.0, rel=1e-15)  # W(e) = 1
