"""Numba kernels against the plain twins of tests/naive.py: exact agreement on booleans and integers.

Small seeded random cases plus hand-made ties (duplicates, Hamming distance 1, antipodal pairs, zero
overlaps), P = 1, odd and even N, N not a multiple of 64 and N > 64, all four models, thresholds 1 and
below 1, int32 wrap-around rows, thread counts 1 and 2.
"""

from __future__ import annotations

import functools
import math
import os

import numba
import numpy as np
import pytest

from capacity_cli._compile import max_threads, thread_count
from capacity_cli.criteria import Retrieve, Stable, allowed_failures, cue_flips, target_overlap
from capacity_cli.kernels.bits import distance_at_least, overlap_matrix, pack_rows, pairwise_distance_stats
from capacity_cli.kernels.dynamics import (
    flip_distinct,
    relax,
    relax_prefix,
    relax_rows,
    shuffle_inplace,
    stream_state,
)
from capacity_cli.kernels.exact import UNDECIDED
from capacity_cli.kernels.stability import TILE, extend_rows, extend_stability
from capacity_cli.models import BinaryDAM, exact_signs, gain_arithmetic, stability_tables
from capacity_cli.search import (
    PARALLEL_MIN_WORK,
    StabilityChecker,
    capacity_of_sequence,
    decide_undecided_rows,
    largest_storable,
    make_checker,
)

try:  # tests/ as a package
    from . import naive
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    import naive

PM1 = np.array([-1, 1], dtype=np.int8)

MODELS = (
    [BinaryDAM("hebbian")]
    + [BinaryDAM("poly", degree=a) for a in (2, 3, 4, 5)]
    + [BinaryDAM("rectpoly", degree=a) for a in (2, 3, 4)]
    + [BinaryDAM("exp", beta=b) for b in (0.5, 1.0, 2.0)]
)
MODEL_IDS = [m.label.replace(" ", "-") for m in MODELS]
SOME_MODELS = [BinaryDAM("hebbian"), BinaryDAM("poly", degree=3), BinaryDAM("rectpoly", degree=2),
               BinaryDAM("exp", beta=1.0)]
SOME_IDS = [m.label.replace(" ", "-") for m in SOME_MODELS]


def random_patterns(rng: np.random.Generator, p: int, n: int) -> np.ndarray:
    return rng.choice(PM1, size=(p, n))


def cluster_patterns(rng: np.random.Generator, n: int, p_cluster: int, flips: int, p_random: int):
    """p_cluster patterns within `flips` bits of one base pattern, plus p_random i.i.d. ones, shuffled."""
    base = rng.choice(PM1, size=n)
    rows = []
    for _ in range(p_cluster):
        r = base.copy()
        r[rng.choice(n, size=flips, replace=False)] *= -1
        rows.append(r)
    rows += list(random_patterns(rng, p_random, n))
    x = np.array(rows, dtype=np.int8)
    return x[rng.permutation(len(x))]


def _sentinel(dtype):
    return np.iinfo(dtype).min if np.issubdtype(dtype, np.integer) else np.nan


def extend_direct(model, x, *, lo=0, old=None, allowed=None, mode="both", groups=3, p_limit=None):
    """One stability check of the prefix x (rows 0..hi-1), growing the sums ``old`` of prefix lo.

    mode "serial": extend_rows(0, 1, ...), the path StabilityChecker takes for small work;
    "parallel": extend_stability with ``groups`` strided row groups (dynamic scheduling, as the
    checker runs it); "both": run both, assert identical outputs, return them.
    Returns (unstable rows found, stable flags, (acc, tot, diff, bound)). ``tot`` starts as a
    sentinel, so rows never reached after an early exit can be told apart.
    """
    hi, n = x.shape
    t = stability_tables(model, n, p_limit or hi)
    packed = pack_rows(np.ascontiguousarray(x, dtype=np.int8))
    sel = (x > 0).astype(t.acc_dtype)
    if old is None:
        old = (np.zeros((0, n), t.acc_dtype), np.zeros(0, t.c_sum.dtype), np.zeros(0, t.c_sum.dtype),
               np.zeros(0, t.c_bound.dtype))
    allowed = hi + 1 if allowed is None else allowed
    if mode == "both":
        one = extend_direct(model, x, lo=lo, old=old, allowed=allowed, mode="serial", p_limit=p_limit)
        two = extend_direct(model, x, lo=lo, old=old, allowed=allowed, mode="parallel", groups=groups,
                            p_limit=p_limit)
        assert one[0] == two[0]
        np.testing.assert_array_equal(one[1], two[1])
        for a, b in zip(one[2], two[2], strict=True):
            np.testing.assert_array_equal(a, b)
        return one
    acc = np.zeros((hi, n), t.acc_dtype)
    tot = np.full(hi, _sentinel(t.c_sum.dtype), t.c_sum.dtype)
    diff = np.zeros(hi, t.c_sum.dtype)
    bound = np.zeros(hi, t.c_bound.dtype)
    status = np.zeros(hi, dtype=np.int8)
    order = np.arange(hi)  # rows in index order (the checker puts low-margin old rows first)
    args = (packed, sel, n, t.c_acc, t.c_sum, t.c_diff, t.c_bound, t.exact, lo, hi, *old, allowed, order)
    outputs = (acc, tot, diff, bound, status, np.zeros(hi))
    if mode == "serial":
        failures = np.zeros(1, dtype=np.int64)
        extend_rows(0, 1, *args, failures, *outputs)
        n_bad = failures[0]
    else:
        with numba.parallel_chunksize(1):
            n_bad = extend_stability(*args, groups, *outputs)
    if t.exact:
        assert not (status == UNDECIDED).any()
    # Rows the float sums leave open are decided exactly, as StabilityChecker does.
    decide_undecided_rows(model, n, packed, (x > 0).astype(np.int8), hi, t.levels, status)
    return int(n_bad), status.astype(bool), (acc, tot, diff, bound)


def _reached(tot: np.ndarray) -> np.ndarray:
    """Rows an early-exiting check actually decided (their tot was written)."""
    sentinel = _sentinel(tot.dtype)
    return ~np.isnan(tot) if np.isnan(sentinel) else tot != sentinel


# ==================================================================================================
# kernels.bits
# ==================================================================================================

@pytest.mark.parametrize("n", [1, 2, 5, 63, 64, 65, 127, 128, 129, 200])
def test_pack_rows_bit_layout(n):
    rng = np.random.default_rng([1, n])
    x = random_patterns(rng, 7, n)
    packed = pack_rows(x)
    assert packed.dtype == np.uint64 and packed.shape == (7, (n + 63) // 64)
    for r in range(7):
        for w in range(packed.shape[1]):
            word = int(packed[r, w])
            for j in range(64):
                i = 64 * w + j
                expected = 1 if i < n and x[r, i] > 0 else 0
                assert (word >> j) & 1 == expected, (r, i)


@pytest.mark.parametrize("n", [1, 6, 7, 64, 65, 130, 200])
def test_overlap_matrix_equals_matmul(n):
    rng = np.random.default_rng([2, n])
    a = random_patterns(rng, 9, n)
    b = np.concatenate([random_patterns(rng, 4, n), a[:2], -a[2:3]])  # equal and antipodal rows
    got = overlap_matrix(pack_rows(a), pack_rows(b), n)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, a.astype(np.int64) @ b.T.astype(np.int64))
    np.testing.assert_array_equal(overlap_matrix(pack_rows(a), pack_rows(a), n),
                                  a.astype(np.int64) @ a.T.astype(np.int64))


@pytest.mark.parametrize("p,n,dup", [(2, 3, False), (2, 64, True), (3, 65, False), (10, 9, False),
                                     (10, 130, True), (70, 33, False), (70, 200, True)])
def test_pairwise_distance_stats_brute_force(p, n, dup):
    rng = np.random.default_rng([3, p, n])
    x = random_patterns(rng, p, n)
    if dup:
        x[-1] = x[0]
    dmin, dmean = pairwise_distance_stats(pack_rows(x))
    emin, emean = naive.pairwise_distance_stats(x)
    assert int(dmin) == emin
    assert float(dmean) == emean  # total / pairs, both correctly rounded
    if dup:
        assert emin == 0


@pytest.mark.parametrize("n", [5, 64, 65, 150])
def test_distance_at_least_brute_force(n):
    rng = np.random.default_rng([4, n])
    x = random_patterns(rng, 12, n)
    packed = pack_rows(x)
    candidates = list(random_patterns(rng, 3, n)) + [x[5].copy(), -x[0]]
    near = x[3].copy()
    near[[0, n - 1]] *= -1
    candidates.append(near)
    for cand in candidates:
        cpk = pack_rows(cand[None, :])[0]
        for count in (0, 1, 4, 6, 12):
            dists = [naive.hamming(x[r], cand) for r in range(count)]
            thresholds = {0, 1, 2, n} | ({min(dists), min(dists) + 1} if dists else set())
            for d in sorted(thresholds):
                assert distance_at_least(packed, count, cpk, d) == naive.distance_at_least(x, count, cand, d)


# ==================================================================================================
# kernels.stability
# ==================================================================================================

RANDOM_STABILITY_CASES = [(7, 1), (7, 3), (8, 4), (16, 5), (33, 8), (64, 6), (65, 9), (130, 10)]


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("n,p", RANDOM_STABILITY_CASES)
def test_extend_stability_random_matches_naive(model, n, p):
    rng = np.random.default_rng([5, n, p])
    x = random_patterns(rng, p, n)
    n_bad, stable, _ = extend_direct(model, x, allowed=p)
    expected = naive.stable_mask(model, x)
    np.testing.assert_array_equal(stable, expected)
    assert n_bad == int((~expected).sum())


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_extend_stability_small_n_ties_match_naive(model):
    """Tiny N makes exact ties common: decisions must match the exact twin, and ties count as stable."""
    ties = unstable = 0
    for seed in range(40):
        rng = np.random.default_rng([7, seed])
        n, p = int(rng.integers(3, 10)), int(rng.integers(1, 9))
        x = random_patterns(rng, p, n)
        gains = naive.min_gains(model, x)
        expected = np.array([g >= 0 for g in gains])
        ties += sum(g == 0 for g in gains)
        unstable += sum(g < 0 for g in gains)
        _, stable, _ = extend_direct(model, x, allowed=p)
        np.testing.assert_array_equal(stable, expected, err_msg=f"seed {seed}: {x.tolist()}")
    assert ties > 0 and unstable > 0  # the batch really exercises both


def _hand_made(name: str) -> np.ndarray:
    xi = np.array([1, -1, -1, 1, 1, -1, 1], dtype=np.int8)  # N = 7
    if name == "single":
        return xi[None, :]
    if name == "duplicate":
        return np.array([xi, xi, [1, 1, 1, -1, -1, -1, 1]], dtype=np.int8)
    if name == "distance1":
        other = xi.copy()
        other[2] *= -1
        return np.array([xi, other], dtype=np.int8)
    if name == "distance1_even":
        a = np.array([1, 1, -1, -1, 1, -1, 1, 1], dtype=np.int8)
        b = a.copy()
        b[7] *= -1
        return np.array([a, b, -a], dtype=np.int8)
    if name == "antipodal":
        return np.array([xi, -xi], dtype=np.int8)
    if name == "orthogonal_even":  # N = 8, every overlap 0
        return np.array([[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, -1, -1, -1, -1],
                         [1, 1, -1, -1, 1, 1, -1, -1], [1, -1, 1, -1, 1, -1, 1, -1]], dtype=np.int8)
    if name == "symmetric_p2":  # N = 4, overlap 0: every flip of the first has the same structure
        return np.array([[1, 1, 1, 1], [1, 1, -1, -1]], dtype=np.int8)
    if name == "triangle":  # N = 6, pairwise overlaps all -2
        return np.array([[1, 1, 1, 1, 1, 1], [-1, -1, 1, 1, -1, 1], [1, -1, -1, -1, 1, -1]],
                        dtype=np.int8)
    if name == "dense_ties":  # N = 4: every sign pattern of the first three units, heavy ties
        return np.array([[1, 1, 1, 1], [1, 1, -1, 1], [1, -1, 1, 1], [-1, 1, 1, 1], [1, 1, 1, -1]],
                        dtype=np.int8)
    raise ValueError(name)


HAND_MADE = ["single", "duplicate", "distance1", "distance1_even", "antipodal", "orthogonal_even",
             "symmetric_p2", "triangle", "dense_ties"]


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("case", HAND_MADE)
def test_extend_stability_hand_made_matches_naive(model, case):
    x = _hand_made(case)
    _, stable, _ = extend_direct(model, x)
    np.testing.assert_array_equal(stable, naive.stable_mask(model, x))


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_hand_made_ties_are_stable(model):
    """Distance 1: the differing unit has dE = 0 exactly (a tie), so both patterns are fixed points.
    Antipodal pair: stable for every model (odd poly: E = 0 identically, every flip a tie)."""
    x = _hand_made("distance1")
    assert naive.flip_gain(model, x, x[0], 2) == 0
    assert naive.flip_gain(model, x, x[1], 2) == 0
    assert extend_direct(model, x)[1].tolist() == [True, True]
    x = _hand_made("antipodal")
    if model.name == "poly" and model.degree % 2 == 1:
        assert all(g == 0 for g in naive.flip_gains(model, x, x[0]))
    assert extend_direct(model, x)[1].tolist() == [True, True]
    assert extend_direct(model, _hand_made("single"))[1].tolist() == [True]


def _wrap_case(kind: str):
    if kind == "poly5-n110-random":
        return BinaryDAM("poly", degree=5), random_patterns(np.random.default_rng(1), 12, 110)
    if kind == "poly5-n140-cluster":
        return BinaryDAM("poly", degree=5), cluster_patterns(np.random.default_rng(2), 140, 10, 6, 10)
    if kind == "poly4-n520-cluster":
        return BinaryDAM("poly", degree=4), cluster_patterns(np.random.default_rng(6), 520, 8, 20, 6)
    if kind == "poly4-n200-cluster":
        return BinaryDAM("poly", degree=4), cluster_patterns(np.random.default_rng(5), 200, 30, 3, 10)
    raise ValueError(kind)


def _int32_only_decisions(model, x) -> np.ndarray:
    """What an int32 accumulator without the int64 redo would decide: min_i wrap32(2 dE_i) >= 0
    (poly's integer F is the package's unscaled one)."""
    assert model.name == "poly"
    out = []
    for nu in range(len(x)):
        gains = naive.flip_gains(model, x, x[nu])
        out.append(min(((2 * int(g) + 2**31) % 2**32) - 2**31 for g in gains) >= 0)
    return np.array(out)


@pytest.mark.parametrize("kind,redo_decides", [("poly5-n110-random", True), ("poly5-n140-cluster", True),
                                               ("poly4-n520-cluster", True), ("poly4-n200-cluster", False)])
def test_extend_stability_int32_wrap_rows(kind, redo_decides):
    """Rows whose bound S_nu >= 2^31 go through the int64 redo; the flags must still be exact."""
    model, x = _wrap_case(kind)
    p = len(x)
    expected = naive.stable_mask(model, x)
    bounds = [naive.row_bound(model, x, nu) for nu in range(p)]
    assert any(b >= 2**31 for b in bounds) and expected.any()
    if redo_decides:  # int32 arithmetic alone would get some row wrong
        assert np.any(_int32_only_decisions(model, x) != expected)
    else:
        assert not expected.all()
    n_bad, stable, (_, _, _, bound) = extend_direct(model, x, allowed=p)
    assert bound.tolist() == bounds
    np.testing.assert_array_equal(stable, expected)
    assert n_bad == int((~expected).sum())


INCREMENTAL_CASES = [
    ("hebbian", 40, (3, 6, 9)),
    ("poly 3", 33, (4, 11, 25)),
    ("poly 3", 65, (5, 30, 70)),  # N = 65: two words per packed row
    ("rectpoly 3", 130, (2, 5, 12)),
    ("exp 1", 20, (3, 8, 16)),
    ("exp 0.5", 12, (2, 9, 15)),
    ("poly5-n140-cluster", None, (7, 14, 20)),
    ("poly4-n520-cluster", None, (5, 9, 14)),
    ("poly5-n110-random", None, (2, 5, 12)),
]


def _model_from(spec: str) -> BinaryDAM:
    name, _, arg = spec.partition(" ")
    if name == "exp":
        return BinaryDAM("exp", beta=float(arg))
    return BinaryDAM(name, degree=int(arg) if arg else None)


def _incremental_case(spec, n, seed):
    if n is None:
        return _wrap_case(spec)
    rng = np.random.default_rng([8, seed, n])
    return _model_from(spec), random_patterns(rng, 70, n)


@pytest.mark.parametrize("spec,n,prefixes", INCREMENTAL_CASES)
def test_stability_checker_incremental_matches_naive(spec, n, prefixes):
    """StabilityChecker on growing prefixes reuses the sums of the last stored prefix (lo > 0)."""
    model, x = _incremental_case(spec, n, 0)
    n = x.shape[1]
    checker = StabilityChecker(model, Stable(threshold=1e-9), lambda q: x[:q], n, prefixes[-1])
    last = 0
    for p in prefixes:
        expected = naive.stable_mask(model, x[:p])
        assert expected.any()  # so the call succeeds and the next one reuses its sums
        assert checker.lo == last
        assert checker(p) is True
        assert checker.lo == p
        np.testing.assert_array_equal(checker.stable, expected)
        last = p


@pytest.mark.parametrize("spec,n,prefixes", INCREMENTAL_CASES)
def test_extend_stability_from_old_sums_equals_from_scratch(spec, n, prefixes):
    """Direct calls: extending lo -> hi gives the same sums and flags as computing hi from scratch."""
    model, x = _incremental_case(spec, n, 0)
    p_limit = prefixes[-1]
    _, _, sums = extend_direct(model, x[: prefixes[0]], p_limit=p_limit)
    for lo, hi in zip(prefixes, prefixes[1:], strict=False):
        n_bad, stable, new_sums = extend_direct(model, x[:hi], lo=lo, old=sums, p_limit=p_limit)
        s_bad, s_stable, scratch = extend_direct(model, x[:hi], p_limit=p_limit)
        np.testing.assert_array_equal(stable, s_stable)
        np.testing.assert_array_equal(stable, naive.stable_mask(model, x[:hi]))
        assert n_bad == s_bad == int((~stable).sum())
        for a, b in zip(new_sums, scratch, strict=True):
            np.testing.assert_array_equal(a, b)
        sums = new_sums


@pytest.mark.parametrize("threshold", [1.0, 0.8, 0.5])
def test_stability_checker_after_failed_calls(threshold):
    """A search-like call sequence with failures in between: each answer matches the naive set rule,
    and a failed call leaves the reusable state of the last stored prefix intact."""
    model = BinaryDAM("hebbian")
    rng = np.random.default_rng([9, int(threshold * 10)])
    x = random_patterns(rng, 24, 30)
    masks = {p: naive.hebbian_stable_mask(x[:p]) for p in range(1, 25)}
    checker = StabilityChecker(model, Stable(threshold=threshold), lambda q: x[:q], 30, 24)
    outcomes = set()
    for p in (2, 4, 8, 6, 5, 7, 16, 12, 10, 11, 24, 20, 13):
        if p <= checker.lo:
            continue
        before = checker.lo
        state = [a.copy() for a in (checker.acc, checker.tot, checker.diff, checker.bound,
                                    checker.margin, checker.stable)]
        expected = naive.set_is_stored(int(masks[p].sum()), p, threshold)
        got = checker(p)
        assert got == expected, p
        outcomes.add(got)
        if got:
            assert checker.lo == p
            np.testing.assert_array_equal(checker.stable, masks[p])
        else:
            assert checker.lo == before
            after = (checker.acc, checker.tot, checker.diff, checker.bound, checker.margin,
                     checker.stable)
            for old, new in zip(state, after, strict=True):
                np.testing.assert_array_equal(old, new)
    assert outcomes == {True, False}


@functools.cache
def _early_exit_case():
    """40 patterns of N = 300 under hebbian (= poly 2) with a handful of unstable ones."""
    x = random_patterns(np.random.default_rng(10), 40, 300)
    flags = naive.hebbian_stable_mask(x)
    assert 5 < (~flags).sum() < 30
    return x, flags


@pytest.mark.parametrize("allowed", [0, 2, 5, 30])
def test_extend_rows_serial_early_exit(allowed):
    """Serial rows 0, 1, ... in tiles of TILE rows: the check stops at the end of the tile holding the
    unstable row that makes the count exceed `allowed`; rows up to there are decided exactly, later
    rows are never touched."""
    x, flags = _early_exit_case()
    bad_rows = np.flatnonzero(~flags)
    last = bad_rows[allowed] if len(bad_rows) > allowed else len(x) - 1
    last = min((last // TILE + 1) * TILE - 1, len(x) - 1)
    n_bad, stable, (_, tot, _, _) = extend_direct(BinaryDAM("poly", degree=2), x, allowed=allowed,
                                                  mode="serial")
    assert n_bad == np.count_nonzero(bad_rows <= last)
    assert n_bad > allowed or last == len(x) - 1
    np.testing.assert_array_equal(_reached(tot), np.arange(len(x)) <= last)
    np.testing.assert_array_equal(stable[: last + 1], flags[: last + 1])


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
def test_extend_rows_strided_groups(step):
    """Groups first, first + step, ... run one after another cover every row once; each group counts
    its own unstable rows in failures[first]."""
    x, flags = _early_exit_case()
    model = BinaryDAM("hebbian")
    hi, n = x.shape
    t = stability_tables(model, n, hi)
    old = (np.zeros((0, n), t.acc_dtype), np.zeros(0, t.c_sum.dtype), np.zeros(0, t.c_sum.dtype),
           np.zeros(0, t.c_bound.dtype))
    tot = np.full(hi, _sentinel(t.c_sum.dtype), t.c_sum.dtype)
    outputs = (np.zeros((hi, n), t.acc_dtype), tot, np.zeros(hi, t.c_sum.dtype),
               np.zeros(hi, t.c_bound.dtype), np.zeros(hi, dtype=np.int8), np.zeros(hi))
    failures = np.zeros(step, dtype=np.int64)
    for first in range(step):
        extend_rows(first, step, pack_rows(x), (x > 0).astype(t.acc_dtype), n, t.c_acc, t.c_sum,
                    t.c_diff, t.c_bound, t.exact, 0, hi, *old, hi, np.arange(hi), failures, *outputs)
    assert _reached(tot).all()
    np.testing.assert_array_equal(outputs[4], flags)
    assert failures.tolist() == [int((~flags[j::step]).sum()) for j in range(step)]


@pytest.mark.parametrize("groups", [1, 3, 16])
@pytest.mark.parametrize("allowed", [0, 2, 5, 30])
def test_extend_stability_parallel_early_exit(groups, allowed):
    """Parallel groups may stop at different rows, but the decision (found > allowed) is exact, the
    count is exact when not exceeded, and every row that was reached is decided exactly."""
    x, flags = _early_exit_case()
    true_bad = int((~flags).sum())
    n_bad, stable, (_, tot, _, _) = extend_direct(BinaryDAM("poly", degree=2), x, allowed=allowed,
                                                  mode="parallel", groups=groups)
    assert (n_bad > allowed) == (true_bad > allowed)
    reached = _reached(tot)
    np.testing.assert_array_equal(stable[reached], flags[reached])
    assert n_bad == int((~stable[reached]).sum())
    if true_bad <= allowed:
        assert reached.all() and n_bad == true_bad


@pytest.mark.parametrize("n,p,seed", [(8, 3, 0), (8, 6, 1), (10, 5, 2), (15, 4, 3), (16, 8, 4),
                                      (33, 10, 5), (64, 12, 6), (65, 20, 7), (100, 30, 8)])
def test_hebbian_equals_poly2_equals_hopfield(n, p, seed):
    rng = np.random.default_rng([11, seed])
    x = random_patterns(rng, p, n)
    hopfield = naive.hebbian_stable_mask(x)
    _, heb, _ = extend_direct(BinaryDAM("hebbian"), x)
    _, poly2, _ = extend_direct(BinaryDAM("poly", degree=2), x)
    np.testing.assert_array_equal(heb, poly2)
    np.testing.assert_array_equal(heb, hopfield)
    if n <= 33:
        np.testing.assert_array_equal(naive.stable_mask(BinaryDAM("hebbian"), x), hopfield)
        np.testing.assert_array_equal(naive.stable_mask(BinaryDAM("poly", degree=2), x), hopfield)


def test_hebbian_equals_poly2_small_batch_with_ties():
    heb_model, poly_model = BinaryDAM("hebbian"), BinaryDAM("poly", degree=2)
    zero_fields = 0
    for seed in range(60):
        rng = np.random.default_rng([12, seed])
        n, p = int(rng.integers(2, 9)), int(rng.integers(1, 7))
        x = random_patterns(rng, p, n)
        hopfield = naive.hebbian_stable_mask(x)
        w = x.T.astype(np.int64) @ x.astype(np.int64)
        np.fill_diagonal(w, 0)
        zero_fields += int(np.any(x.astype(np.int64) * (x @ w) == 0))
        np.testing.assert_array_equal(extend_direct(heb_model, x)[1], hopfield)
        np.testing.assert_array_equal(extend_direct(poly_model, x)[1], hopfield)
        np.testing.assert_array_equal(naive.stable_mask(heb_model, x), hopfield)
    assert zero_fields > 0


# ==================================================================================================
# kernels.dynamics
# ==================================================================================================

@pytest.mark.parametrize("seed,index", [(0, 0), (1, 5), (2**64 - 1, 3), (12345678901234567, 999)])
def test_random_stream_twin(seed, index):
    state = stream_state(np.uint64(seed), index)
    rng = naive.SplitMix64(seed, index)
    assert int(state[0]) == rng.state
    for n in (1, 2, 7, 64, 100):
        order = np.arange(n)
        twin = list(range(n))
        shuffle_inplace(order, state)
        naive.shuffle(twin, rng)
        assert order.tolist() == twin
        assert int(state[0]) == rng.state
    for n, n_flip in ((10, 0), (10, 3), (10, 10), (101, 50)):
        y0 = np.random.default_rng(n_flip).choice(np.array([-1, 1]), size=n).astype(np.int64)
        y = y0.copy()
        flip_distinct(y, n_flip, state)
        np.testing.assert_array_equal(y, naive.flip_distinct(y0, n_flip, rng))
        assert int((y != y0).sum()) == n_flip
        assert int(state[0]) == rng.state


def _relax_inputs(model, n, p, n_flip, seed):
    rng = np.random.default_rng([13, n, p, seed])
    x = random_patterns(rng, p + 2, n)  # two extra rows that relax must ignore
    y = x[0].astype(np.int64)
    y[rng.choice(n, size=n_flip, replace=False)] *= -1
    arith = gain_arithmetic(model, n, p)
    state = stream_state(np.uint64(seed), 0)
    return x, np.ascontiguousarray(x.T), y, arith, state


def run_relax(model, y, xt, p, n, arith, state, max_sweeps):
    """kernels.dynamics.relax with every decision the float sums and level counts leave open decided
    in exact arithmetic (the rerun loop of DynamicsChecker); y and state advance as relax's would."""
    forced: list[int] = []
    pending = np.zeros(n + 3, dtype=np.int64)
    while True:
        y_run, state_run = y.copy(), state.copy()
        m, sweeps, converged, needs = relax(y_run, xt, p, n, arith.gain, model.field, arith.exact,
                                            arith.shiftable,
                                            arith.levels.table, arith.levels.ratio_form,
                                            np.array(forced, dtype=np.int8), state_run, max_sweeps,
                                            pending)
        if not needs:
            y[:], state[:] = y_run, state_run
            return m, sweeps, converged
        forced.append(int(exact_signs(model, n, pending)[0]))


def _kernel_orders(state: np.ndarray, n: int):
    """The sweep orders relax will use: shuffle_inplace on a copy of its state, one order kept."""
    state = state.copy()
    order = np.arange(n)
    while True:
        shuffle_inplace(order, state)
        yield order.copy()


RELAX_CASES = [(5, 1, 2, 0), (9, 3, 3, 1), (16, 4, 6, 2), (24, 6, 8, 3), (31, 5, 12, 4), (40, 9, 10, 5)]


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("n,p,n_flip,seed", RELAX_CASES)
def test_relax_matches_naive(model, n, p, n_flip, seed):
    x, xt, y0, arith, state = _relax_inputs(model, n, p, n_flip, seed)
    ey, esweeps, econv = naive.relax(model, x[:p], y0, _kernel_orders(state, n), 30)
    y = y0.copy()
    m, sweeps, converged = run_relax(model, y, xt, p, n, arith, state, 30)
    np.testing.assert_array_equal(y, ey)
    np.testing.assert_array_equal(m, x[:p].astype(np.int64) @ ey)
    assert (int(sweeps), bool(converged)) == (esweeps, econv)


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_relax_energy_never_increases(model):
    """relax with max_sweeps = 1, 2, ... from the same start: E non-increasing, strictly lower after a
    sweep that changed the state; a converged end state is a fixed point (all naive gains >= 0)."""
    n, p = 21, 7
    x, xt, y0, arith, state0 = _relax_inputs(model, n, p, 8, 42)
    energies, states = [naive.energy(model, x[:p], y0)], [y0]
    for k in range(1, 9):
        y = y0.copy()
        _, sweeps, converged = run_relax(model, y, xt, p, n, arith, state0.copy(), k)
        energies.append(naive.energy(model, x[:p], y))
        states.append(y)
        if converged:
            assert sweeps <= k
            assert all(g >= 0 for g in naive.flip_gains(model, x[:p], y))
            break
        assert sweeps == k
    assert converged
    for k in range(1, len(energies)):
        assert energies[k] <= energies[k - 1]
        if not np.array_equal(states[k], states[k - 1]):
            assert energies[k] < energies[k - 1]
    assert len(states) > 2 and not np.array_equal(states[1], states[0])  # something moved


@pytest.mark.parametrize("model", [BinaryDAM("poly", degree=3), BinaryDAM("poly", degree=5)],
                         ids=["poly-a=3", "poly-a=5"])
def test_relax_all_ties_never_moves(model):
    """X = [xi, -xi] with an odd power: E = 0 for every state, every flip is an exact tie: no flips."""
    rng = np.random.default_rng(14)
    xi = rng.choice(PM1, size=17)
    x = np.array([xi, -xi], dtype=np.int8)
    xt = np.ascontiguousarray(x.T)
    arith = gain_arithmetic(model, 17, 2)
    for start in random_patterns(rng, 5, 17):
        y = start.astype(np.int64)
        m, sweeps, converged = run_relax(model, y, xt, 2, 17, arith, stream_state(np.uint64(3), 0), 10)
        np.testing.assert_array_equal(y, start)
        assert (int(sweeps), bool(converged)) == (1, True)
        assert m.tolist() == [int(xi.astype(np.int64) @ start), -int(xi.astype(np.int64) @ start)]


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_relax_from_distance1_tie_stays(model):
    """At xi_1 of a distance-1 pair the differing unit is an exact tie: the state must not move."""
    x = _hand_made("distance1")
    arith = gain_arithmetic(model, 7, 2)
    for nu in range(2):
        y = x[nu].astype(np.int64)
        _, sweeps, converged = run_relax(model, y, np.ascontiguousarray(x.T), 2, 7, arith,
                                         stream_state(np.uint64(nu), 0), 5)
        np.testing.assert_array_equal(y, x[nu])
        assert (int(sweeps), bool(converged)) == (1, True)


FINAL_SENTINEL = -(10**9)


def _relax_prefix_kernel(model, x, p, n_flip, target, max_sweeps, seed, allowed=None, mode="both",
                         groups=3, p_limit=None):
    """relax_rows(0, 1, ...) (mode "serial", the checker's path for small work), relax_prefix with
    ``groups`` strided groups ("parallel"), or both with identical outputs asserted ("both").
    Returns (failures found, final overlaps, sweeps, converged); unreached patterns keep
    final = FINAL_SENTINEL."""
    if mode == "both":
        one = _relax_prefix_kernel(model, x, p, n_flip, target, max_sweeps, seed, allowed, "serial",
                                   p_limit=p_limit)
        two = _relax_prefix_kernel(model, x, p, n_flip, target, max_sweeps, seed, allowed, "parallel",
                                   groups, p_limit)
        assert one[0] == two[0]
        for a, b in zip(one[1:], two[1:], strict=True):
            np.testing.assert_array_equal(a, b)
        return one
    n = x.shape[1]
    arith = gain_arithmetic(model, n, p_limit or p)
    needs_exact = np.zeros(p, dtype=np.bool_)
    outputs = (np.full(p, FINAL_SENTINEL, dtype=np.int64), np.zeros(p, dtype=np.int64),
               np.zeros(p, dtype=np.bool_))
    args = (x, np.ascontiguousarray(x.T), p, arith.gain, model.field, arith.exact, arith.shiftable,
            arith.levels.table, arith.levels.ratio_form, n_flip, target, max_sweeps, np.uint64(seed),
            p + 1 if allowed is None else allowed)
    if mode == "serial":
        failures = np.zeros(1, dtype=np.int64)
        relax_rows(0, 1, *args, failures, *outputs, needs_exact)
        n_bad = failures[0]
    else:
        with numba.parallel_chunksize(1):
            n_bad = relax_prefix(*args, groups, *outputs, needs_exact)
    assert not needs_exact.any()  # level 2 decides every gain of these random cases
    return (int(n_bad), *outputs)


RELAX_PREFIX_CASES = [(6, 1, 2, 5), (11, 4, 3, 10), (20, 3, 5, 10), (32, 6, 8, 3), (47, 8, 12, 20)]


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("n,p,n_flip,max_sweeps", RELAX_PREFIX_CASES)
def test_relax_prefix_matches_naive(model, n, p, n_flip, max_sweeps):
    rng = np.random.default_rng([15, n, p])
    x = random_patterns(rng, p + 3, n)  # rows beyond p must be ignored
    seed = 1000 + n
    n_bad, final, sweeps, converged = _relax_prefix_kernel(model, x, p, n_flip, n, max_sweeps, seed)
    efinal, esweeps, econv = naive.relax_prefix(model, x, p, n_flip, max_sweeps, seed)
    np.testing.assert_array_equal(final, efinal)
    np.testing.assert_array_equal(sweeps, esweeps)
    np.testing.assert_array_equal(converged, econv)
    assert n_bad == int((efinal < n).sum())


@functools.cache
def _relax_early_case():
    n, p, n_flip, target = 40, 14, 6, 30
    x = random_patterns(np.random.default_rng(16), p, n)
    efinal, _, _ = naive.relax_prefix(BinaryDAM("hebbian"), x, p, n_flip, 10, 77)
    assert 3 < (efinal < target).sum() < 11
    return x, efinal, (n_flip, target)


@pytest.mark.parametrize("allowed", [0, 3, 11])
def test_relax_rows_serial_early_exit(allowed):
    x, efinal, (n_flip, target) = _relax_early_case()
    bad = np.flatnonzero(efinal < target)
    last = bad[allowed] if len(bad) > allowed else len(x) - 1
    n_bad, final, _, _ = _relax_prefix_kernel(BinaryDAM("hebbian"), x, len(x), n_flip, target, 10, 77,
                                              allowed=allowed, mode="serial")
    assert n_bad == min(len(bad), allowed + 1)
    np.testing.assert_array_equal(final != FINAL_SENTINEL, np.arange(len(x)) <= last)
    np.testing.assert_array_equal(final[: last + 1], efinal[: last + 1])


@pytest.mark.parametrize("groups", [1, 4, 32])
@pytest.mark.parametrize("allowed", [0, 3, 11])
def test_relax_prefix_parallel_early_exit(groups, allowed):
    x, efinal, (n_flip, target) = _relax_early_case()
    true_bad = int((efinal < target).sum())
    n_bad, final, _, _ = _relax_prefix_kernel(BinaryDAM("hebbian"), x, len(x), n_flip, target, 10, 77,
                                              allowed=allowed, mode="parallel", groups=groups)
    assert (n_bad > allowed) == (true_bad > allowed)
    reached = final != FINAL_SENTINEL
    np.testing.assert_array_equal(final[reached], efinal[reached])
    assert n_bad == int((final[reached] < target).sum())
    if true_bad <= allowed:
        assert reached.all() and n_bad == true_bad


@pytest.mark.parametrize("beta,n,n_flip", [(50.0, 40, 10), (2.0, 1000, 200), (1.0, 1000, 380)])
def test_exp_relax_far_cue_single_pattern_is_retrieved(beta, n, n_flip):
    """One stored pattern, cue with n_flip wrong bits: every wrong bit has dE = F(m) - F(m+2) < 0, so
    one sweep fixes them all. The scaled gains exp(beta (m - N)) must not underflow into fake ties."""
    model = BinaryDAM("exp", beta=beta)
    x = random_patterns(np.random.default_rng([17, n]), 1, n)
    efinal, esweeps, econv = naive.relax_prefix(model, x, 1, n_flip, 10, 5)
    assert (efinal.tolist(), esweeps.tolist(), econv.tolist()) == ([n], [2], [True])
    _, final, sweeps, converged = _relax_prefix_kernel(model, x, 1, n_flip, n, 10, 5)
    assert (final.tolist(), sweeps.tolist(), converged.tolist()) == ([n], [2], [True])


# ==================================================================================================
# search
# ==================================================================================================

def _check_guarantee(outcome, stored, limit):
    """largest_storable's promise, against the naive stored(P)."""
    p = outcome.p_max
    if limit < 1:
        assert (p, outcome.capped) == (0, True)
        return
    if p == 0:
        assert not stored(1) and not outcome.capped
        return
    assert 1 <= p <= limit
    assert stored(p)
    assert outcome.capped == (p == limit)
    if p < limit:
        assert not stored(p + 1)


def test_largest_storable_guarantee_random_predicates():
    rng = np.random.default_rng(18)
    for trial in range(1500):
        limit = int(rng.integers(0, 70))
        if trial % 2 == 0:  # monotone: stored up to a cut
            cut = int(rng.integers(0, limit + 2))
            table = [None] + [p <= cut for p in range(1, limit + 1)]
        else:  # arbitrary
            table = [None] + [bool(v) for v in rng.random(limit) < rng.random()]
        calls = []

        def is_stored(p, table=table, calls=calls):
            calls.append(p)
            return table[p]

        out = largest_storable(is_stored, limit)
        assert all(1 <= c <= limit for c in calls)
        assert out.checks == len(calls)
        _check_guarantee(out, table.__getitem__, limit)
        if trial % 2 == 0:
            assert (out.p_max, out.capped) == naive.largest_storable_linear(lambda p, t=table: t[p], limit)
            assert out.checks <= 2 * math.ceil(math.log2(limit + 1)) + 2


SEARCH_N = {"hebbian": 24, "poly": 12, "rectpoly": 12, "exp": 8}


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("threshold", [1.0, 0.75])
def test_capacity_of_sequence_stable_matches_naive(model, threshold):
    n, limit = SEARCH_N[model.name], 24
    compared = 0
    for seed in range(2):
        x = random_patterns(np.random.default_rng([19, seed]), limit, n)

        @functools.cache
        def stored(p, x=x):
            return naive.set_is_stored(int(naive.stable_mask(model, x[:p]).sum()), p, threshold)

        out = capacity_of_sequence(model, Stable(threshold=threshold), lambda q, x=x: x[:q], n, limit)
        table = naive.stored_table(stored, limit)
        _check_guarantee(out, stored, limit)
        lin = naive.largest_storable_linear(stored, limit)
        if all(table[1:lin[0] + 1]) and not any(table[lin[0] + 1:]):  # monotone: one right answer
            assert (out.p_max, out.capped) == lin
            compared += 1
        # every answer the checker gives inside the search matches the naive rule
        checker = StabilityChecker(model, Stable(threshold=threshold), lambda q, x=x: x[:q], n, limit)
        asked = []

        def recording(p, checker=checker, asked=asked):
            asked.append((p, checker(p)))
            return asked[-1][1]

        again = largest_storable(recording, limit)
        assert again == out
        assert all(got == table[p] for p, got in asked)
    assert compared >= 1


@pytest.mark.parametrize("model", [BinaryDAM("hebbian"), BinaryDAM("poly", degree=2)],
                         ids=["hebbian", "poly-a=2"])
@pytest.mark.parametrize("threshold", [1.0, 0.9, 0.5])
def test_capacity_of_sequence_large_checks(model, threshold):
    """Prefixes big enough for the checker's parallel path (threshold 0.5 checks P = 128: P^2 N is
    above PARALLEL_MIN_WORK); the Hopfield form is the twin."""
    n, limit = 800, 160
    x = random_patterns(np.random.default_rng([20, int(threshold * 10)]), limit, n)

    @functools.cache
    def stored(p):
        return naive.set_is_stored(int(naive.hebbian_stable_mask(x[:p]).sum()), p, threshold)

    out = capacity_of_sequence(model, Stable(threshold=threshold), lambda q: x[:q], n, limit)
    _check_guarantee(out, stored, limit)
    if threshold == 0.5:
        assert out.p_max > 64 and 128**2 * n >= PARALLEL_MIN_WORK


def test_capacity_of_sequence_sequence_end():
    """A source with fewer rows than the limit: the search restarts at what exists; a stored end is
    reported as capped."""
    rng = np.random.default_rng(21)
    x = random_patterns(rng, 10, 30)
    model = BinaryDAM("poly", degree=5)
    assert naive.stable_mask(model, x).all()
    out = capacity_of_sequence(model, Stable(), lambda q: x[:q], 30, 50)
    assert (out.p_max, out.capped) == (10, True)
    heb = BinaryDAM("hebbian")
    x = random_patterns(rng, 40, 16)
    out = capacity_of_sequence(heb, Stable(), lambda q: x[:q], 16, 100)
    _check_guarantee(out, lambda p: bool(naive.hebbian_stable_mask(x[:p]).all()), 40)
    assert not out.capped


@pytest.mark.parametrize("model", SOME_MODELS, ids=SOME_IDS)
def test_capacity_of_sequence_retrieve_matches_naive(model):
    n, limit = 16, 12
    crit = Retrieve(noise=0.125, threshold=0.75, max_sweeps=20)
    x = random_patterns(np.random.default_rng(22), limit, n)
    n_flip, target = cue_flips(crit.noise, n), target_overlap(crit, n)
    assert (n_flip, target) == (2, n)

    @functools.cache
    def stored(p):
        final, _, _ = naive.relax_prefix(model, x, p, n_flip, crit.max_sweeps, 7)
        return naive.set_is_stored(int((final >= target).sum()), p, crit.threshold)

    out = capacity_of_sequence(model, crit, lambda q: x[:q], n, limit, seed=7)
    _check_guarantee(out, stored, limit)


THRESHOLDS = [1.0, 0.999, 0.99, 0.95, 0.9, 0.8, 0.75, 0.7, 0.6, 0.5, 0.3, 0.1, 1 / 3, 2 / 3, 0.01]


def test_allowed_failures_matches_definition():
    for threshold in THRESHOLDS:
        for p in range(1, 1001):
            k = allowed_failures(threshold, p)
            assert naive.set_is_stored(p - k, p, threshold), (threshold, p)
            assert k == p or not naive.set_is_stored(p - k - 1, p, threshold), (threshold, p)


@pytest.mark.parametrize("threshold", [1e-9, 1e-12])
def test_allowed_failures_tiny_threshold_needs_one_success(threshold):
    """Any threshold > 0 needs at least one success: 0 / p >= threshold is false."""
    for p in (1, 2, 10):
        assert not naive.set_is_stored(0, p, threshold)
        assert allowed_failures(threshold, p) == p - 1, (threshold, p)


# ==================================================================================================
# Thread counts
# ==================================================================================================

#: model -> ((P, N) for the direct kernel calls, N for the checkers, checker prefixes, dynamics P),
#: chosen so that decisions are mixed and the checkers take their parallel path with 2 threads.
THREAD_SIZES = {"hebbian": ((40, 300), 1000, (100, 150), 100),
                "poly": ((150, 40), 100, (200, 300), 150),
                "rectpoly": ((60, 200), 1000, (100, 150), 100),
                "exp": ((150, 12), 100, (200, 300), 150)}


def _thread_run(model, threads):
    """Everything parallel, under `threads` numba threads: kernels called directly (full runs and
    early exits) and the checkers (big enough for their parallel path when threads > 1)."""
    (p_d, n_d), n_c, prefixes, p_dyn = THREAD_SIZES[model.name]
    assert prefixes[0] ** 2 * n_c >= PARALLEL_MIN_WORK and 2 * p_dyn**2 * n_c >= PARALLEL_MIN_WORK
    with thread_count(threads) as got:
        assert got == threads
        small = random_patterns(np.random.default_rng(23), p_d, n_d)
        packed = pack_rows(small)
        out = {"overlaps": overlap_matrix(packed, packed, n_d),
               "distances": pairwise_distance_stats(packed)}
        n_bad, stable, sums = extend_direct(model, small, mode="parallel", groups=16)
        out["extend"] = (n_bad, stable, *sums)
        out["extend_early"] = extend_direct(model, small, mode="parallel", groups=16, allowed=3)[0] > 3
        p_r, flips = min(p_d, 90), n_d // 10
        out["relax"] = _relax_prefix_kernel(model, small, p_r, flips, n_d, 15, 99, mode="parallel",
                                            groups=16)
        out["relax_early"] = _relax_prefix_kernel(model, small, p_r, flips, n_d, 15, 99, allowed=2,
                                                  mode="parallel", groups=16)[0] > 2
        x = random_patterns(np.random.default_rng(24), prefixes[1], n_c)
        checker = StabilityChecker(model, Stable(threshold=0.2), lambda q: x[:q], n_c, prefixes[1])
        out["checker"] = [checker(p) for p in prefixes]
        out["checker_stable"] = checker.stable
        dyn = make_checker(model, Retrieve(noise=0.1, threshold=0.2), lambda q: x[:q], n_c, p_dyn,
                           seed=4)
        out["dyn"] = dyn(p_dyn)
        out["dyn_final"] = dyn.final_overlap if out["dyn"] else None
    return out


def _assert_same(a, b, path="result"):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            _assert_same(u, v, f"{path}[{i}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    else:
        assert a == b, path


@pytest.mark.parametrize("model", SOME_MODELS, ids=SOME_IDS)
def test_results_do_not_depend_on_thread_count(model):
    if max_threads() < 2:
        pytest.skip("numba was started with one thread")
    one, two = _thread_run(model, 1), _thread_run(model, 2)
    _assert_same(one, two)
    # the runs decide something: mixed flags in the direct check, a stored checker prefix
    assert 0 < one["extend"][0] < len(one["extend"][1])
    assert one["checker"][0] and one["dyn"]
    if model.name == "hebbian":  # the checker's flags against the Hopfield twin
        _, n_c, prefixes, _ = THREAD_SIZES["hebbian"]
        x = random_patterns(np.random.default_rng(24), prefixes[1], n_c)
        last = prefixes[1] if one["checker"][1] else prefixes[0]
        np.testing.assert_array_equal(one["checker_stable"], naive.hebbian_stable_mask(x[:last]))


# ==================================================================================================
# exp at large N
# ==================================================================================================

@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_exp_n1000_no_overflow_and_stable(beta):
    model = BinaryDAM("exp", beta=beta)
    n = 1000
    gain = model.gain_table(n)
    assert gain.dtype == np.float64 and np.all(np.isfinite(gain)) and np.all(gain >= 0)
    x = random_patterns(np.random.default_rng([24, int(beta * 10)]), 5, n)
    for p in (1, 5):
        t = stability_tables(model, n, p)
        for table in (t.c_acc, t.c_sum, t.c_diff, t.c_bound):
            assert np.all(np.isfinite(table))
        checker = StabilityChecker(model, Stable(), lambda q: x[:q], n, p)
        assert checker(p) is True
        assert checker.stable.tolist() == [True] * p
        for arr in (checker.tot, checker.diff, checker.bound):
            assert np.all(np.isfinite(arr))
    np.testing.assert_array_equal(naive.stable_mask(model, x), np.ones(5, dtype=bool))
    # from the patterns themselves nothing moves
    _, final, sweeps, converged = _relax_prefix_kernel(model, x, 5, 0, n, 5, 1)
    assert final.tolist() == [n] * 5 and sweeps.tolist() == [1] * 5 and converged.all()


def test_checker_widens_to_int64_and_stays_exact():
    """poly 5 at N = 120: the self term alone makes S_nu > 2^31, so the first check runs int32 with
    the per-row int64 redo, and the next one predicts overflow and switches to int64 accumulators
    (a recomputation from scratch). Every decision must still equal the naive twin's."""
    from capacity_cli.criteria import Stable

    model = BinaryDAM("poly", degree=5)
    rng = np.random.default_rng(31)
    x = rng.choice(PM1, size=(12, 120))
    x[7] = x[3]  # a duplicate
    x[9] = x[2]
    x[9, :3] *= -1  # a near neighbour
    checker = StabilityChecker(model, Stable(threshold=1e-9), lambda p: x[:p], 120, 12)
    dtypes = []
    for p in (3, 6, 12):
        assert checker(p)
        dtypes.append(checker.acc.dtype)
        np.testing.assert_array_equal(checker.stable, naive.stable_mask(model, x[:p]))
    assert dtypes[0] == np.int32 and dtypes[-1] == np.int64


@pytest.mark.parametrize("degree", [2, 3, 4])
def test_checker_margins_match_naive(degree):
    """After each stored prefix, margin[r] = min_i 2 dE_r,i / max(S_r, 1): the slack that orders the
    old rows of the next check (least slack first). For poly F = x^a the kernel's 2 dE is twice the
    naive dE, exactly."""
    from capacity_cli.criteria import Stable

    model = BinaryDAM("poly", degree=degree)
    rng = np.random.default_rng(40 + degree)
    n = 23
    x = rng.choice(PM1, size=(14, n))
    x[11] = x[4]
    x[12] = x[5]
    x[12, 0] *= -1  # a distance-1 neighbour: an exact tie, margin 0 where nothing else is negative
    checker = StabilityChecker(model, Stable(threshold=1e-9), lambda p: x[:p], n, 14)
    for p in (4, 9, 14):
        assert checker(p)
        gains = naive.min_gains(model, x[:p])
        expected = [2 * g / max(naive.row_bound(model, x[:p], r), 1) for r, g in enumerate(gains)]
        np.testing.assert_array_equal(checker.margin, np.array(expected, dtype=np.float64))


def test_numba_cache_folder_follows_every_kernel_source(tmp_path):
    """numba keys a cache on the kernel's own file only; hopcap's cache folder is named by a digest
    of all kernel modules, so a change to any of them (e.g. dynamics, which census calls) starts a
    fresh cache instead of loading stale machine code."""
    import numba

    from capacity_cli import _compile

    if _compile.CACHE and not os.environ.get("NUMBA_CACHE_DIR"):
        assert numba.config.CACHE_DIR.endswith(f"numba-{_compile.kernel_sources_digest()}")
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("x = 1\n")
    before = _compile.kernel_sources_digest(tmp_path)
    assert _compile.kernel_sources_digest(tmp_path) == before
    (tmp_path / "b.py").write_text("x = 2\n")
    assert _compile.kernel_sources_digest(tmp_path) != before
