"""Certified pruning of the exp energy's stability check (capacity_cli/kernels/pruned.py, docs/theory.md
section 1, "Certified pruning for the exponential energy").

Pruned decisions must be identical to the full check's (kernels.stability + kernels.exact) and to the
exact twin of tests/naive.py, row by row: random sets at several N (odd and even) and beta, both rules,
growing prefixes (the state kept between checks), and adversarial sets whose patterns sit at Hamming
distance 1, 2 and 3 of each other (near patterns that matter), duplicates, and gains next to a root of
their exp polynomial (decided only by exact arithmetic).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from capacity_cli.criteria import Stable
from capacity_cli.models import BinaryDAM
from capacity_cli.search import (
    PrunedStabilityChecker,
    StabilityChecker,
    capacity_of_sequence,
    make_checker,
)

try:  # tests/ as a package
    from . import naive
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    import naive

LN2_HALF = math.log(2) / 2
#: Threshold low enough that a check visits every row unless none is stable (then the rows are
#: compared through the return value only).
EVERY_ROW = Stable(threshold=1e-9)


def source(x: np.ndarray):
    return lambda q: x[:q]


def masks(model: BinaryDAM, x: np.ndarray, prefixes) -> list:
    """For each prefix p (growing, on one checker of each kind): (pruned result, full result,
    pruned mask, full mask); a mask is None when the check stored nothing."""
    n = x.shape[1]
    pruned = PrunedStabilityChecker(model, EVERY_ROW, source(x), n, len(x))
    full = StabilityChecker(model, EVERY_ROW, source(x), n, len(x))
    out = []
    for p in prefixes:
        a, b = pruned(p), full(p)
        out.append((a, b, pruned.stable.copy() if a else None, full.stable.copy() if b else None))
    return out


def assert_same(model: BinaryDAM, x: np.ndarray, prefixes, with_naive: bool) -> None:
    for p, (a, b, ma, mb) in zip(prefixes, masks(model, x, prefixes), strict=True):
        assert a == b, f"p={p}: pruned {a}, full {b}"
        if a:
            np.testing.assert_array_equal(ma, mb, err_msg=f"p={p}")
        if with_naive and p == prefixes[-1]:  # the twin is slow: the last prefix only
            expected = naive.stable_mask(model, x[:p])
            assert a == bool(expected.any())
            if a:
                np.testing.assert_array_equal(ma, expected, err_msg=f"p={p} vs naive")


def random_set(seed, p: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(np.array([-1, 1], dtype=np.int8), size=(p, n))


@pytest.mark.parametrize("rule", ["energy", "field"])
@pytest.mark.parametrize("beta", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("n", [7, 8, 11])
def test_random_prefixes_match_full_and_naive(n, beta, rule):
    model = BinaryDAM("exp", beta=beta, rule=rule)
    x = random_set([n, int(beta * 10), rule == "field"], 30, n)
    # the field rule's twin is slow: against it at N <= 8 only (against the full check everywhere)
    assert_same(model, x, [1, 2, 3, 9, 17, 30], with_naive=rule == "energy" or n <= 8)
    assert_same(model, x[:9], [1, 9], with_naive=True)


@pytest.mark.parametrize("rule", ["energy", "field"])
@pytest.mark.parametrize("n,p", [(20, 900), (23, 1500), (30, 3000)])
def test_larger_random_sets_match_full_check(n, p, rule):
    """Sizes where pruning decides most rows from the self term alone (checked below) and the rows
    that need a lower cut or the exact fallback are few."""
    model = BinaryDAM("exp", beta=1.0, rule=rule)
    x = random_set([n, p], p, n)
    prefixes = [p // 8, p // 4, p // 2, 3 * p // 4, p - 1, p]
    assert_same(model, x, prefixes, with_naive=False)


def test_most_rows_are_decided_by_their_nearest_patterns():
    """The mechanism: at N = 30 with P = 3000 the first cut keeps a handful of near patterns per row
    (those within a Hamming distance of about 6) and decides every row with them; the state's
    histogram counts exactly the near columns."""
    n, p = 30, 3000
    x = random_set([n, p], p, n)
    checker = PrunedStabilityChecker(BinaryDAM("exp", beta=1.0), EVERY_ROW, source(x), n, p)
    assert checker(p)
    near = checker.hist.sum(axis=1)
    assert np.median(near) <= 5 and near.min() >= 1  # the row itself is always near
    levels = (x.astype(np.int64) @ x.T.astype(np.int64) + n) // 2
    expected = (levels >= checker.cut[:, None]).sum(axis=1)
    np.testing.assert_array_equal(near, expected)
    assert (checker.hist * (np.arange(n + 1) < checker.cut[:, None])).sum() == 0


def cluster_set(n: int, distances, copies: int, extra: int, seed) -> np.ndarray:
    """Patterns at Hamming distance ``distances`` (1, 2, 3) from a few centres and from each other,
    centre duplicates included, shuffled with ``extra`` random patterns."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(copies):
        centre = rng.choice(np.array([-1, 1], dtype=np.int8), size=n)
        rows.append(centre)
        for d in distances:
            for _ in range(2):
                y = centre.copy()
                y[rng.choice(n, size=d, replace=False)] *= -1
                rows.append(y)
        rows.append(centre.copy())  # a duplicate
    rows.extend(rng.choice(np.array([-1, 1], dtype=np.int8), size=(extra, n)))
    x = np.array(rows, dtype=np.int8)
    return x[rng.permutation(len(x))]


@pytest.mark.parametrize("beta", [0.2, 1.0, 3.0, 20.0])
@pytest.mark.parametrize("distances", [(1,), (2,), (3,), (1, 2, 3)])
def test_adversarial_clusters_match_full_and_naive(distances, beta):
    n = 10
    x = cluster_set(n, distances, copies=3, extra=12, seed=[len(distances), distances[0], int(beta)])
    assert_same(BinaryDAM("exp", beta=beta), x, [2, 5, 11, len(x)], with_naive=True)


@pytest.mark.parametrize("rule", ["energy", "field"])
@pytest.mark.parametrize("distances", [(1,), (2,), (3,), (1, 2, 3)])
def test_adversarial_clusters_in_a_large_random_set(distances, rule):
    """Near patterns hidden in a crowd: their rows need a lower cut (a rescan) and some the exact
    fallback; decisions equal the full check's at every prefix."""
    n = 24
    x = cluster_set(n, distances, copies=20, extra=1200, seed=[n, len(distances), distances[0]])
    model = BinaryDAM("exp", beta=1.0, rule=rule)
    assert_same(model, x, [len(x) // 3, 2 * len(x) // 3, len(x)], with_naive=False)
    checker = PrunedStabilityChecker(model, EVERY_ROW, source(x), n, len(x))
    assert checker(len(x))
    assert (checker.cut < n).any()  # some row needed a lower cut than the first one


def with_flips(x: np.ndarray, units) -> np.ndarray:
    y = x.copy()
    y[list(units)] *= -1
    return y


@pytest.mark.parametrize("beta", [LN2_HALF, float(np.nextafter(LN2_HALF, 1.0)),
                                  float(np.nextafter(LN2_HALF, 0.0))])
@pytest.mark.parametrize("n", [12, 13])
def test_gain_next_to_a_root_is_decided_exactly(beta, n):
    """Self and a distance-1 partner cancel at unit 0; two patterns agreeing and one disagreeing at
    the same overlap leave dE proportional to 2 - e^(2 beta): only exact arithmetic decides it."""
    xi = np.ones(n, dtype=np.int8)
    agree = with_flips(xi, [1, 2])
    x = np.array([xi, with_flips(xi, [0]), agree, agree, with_flips(xi, [0, 3])], dtype=np.int8)
    noise = random_set([n, 99], 30, n)
    x = np.concatenate([x, noise])
    assert_same(BinaryDAM("exp", beta=beta), x, [5, len(x)], with_naive=True)


@pytest.mark.parametrize("beta", [1.0, 12.0, 50.0])
def test_exact_ties_of_duplicates(beta):
    """{x, x', x'} with x' at distance 1: x is unstable at every beta, x' stable (a tie of counts)."""
    n = 9
    xi = np.random.default_rng(n).choice(np.array([-1, 1], dtype=np.int8), size=n)
    x = np.array([with_flips(xi, [3]), with_flips(xi, [3]), xi], dtype=np.int8)
    assert_same(BinaryDAM("exp", beta=beta), x, [1, 2, 3], with_naive=True)


@pytest.mark.parametrize("n", [16, 21, 26])
def test_whole_searches_match_the_full_check(n):
    model = BinaryDAM("exp", beta=1.0)
    for trial in range(4):
        x = random_set([n, trial, 5], 6000, n)
        pruned = capacity_of_sequence(model, Stable(), source(x), n, len(x))
        full = capacity_of_sequence(model, Stable(), source(x), n, len(x),
                                    checker_factory=lambda m, c, s, nn, lim, seed: StabilityChecker(
                                        m, c, s, nn, lim))
        assert pruned == full
        assert not pruned.capped


def test_exp_stability_uses_pruning_and_others_do_not():
    x = random_set(0, 4, 8)
    assert isinstance(make_checker(BinaryDAM("exp", beta=1.0), Stable(), source(x), 8, 4),
                      PrunedStabilityChecker)
    for model in (BinaryDAM("poly", degree=3), BinaryDAM("hebbian")):
        checker = make_checker(model, Stable(), source(x), 8, 4)
        assert type(checker) is StabilityChecker
    with pytest.raises(ValueError, match="pruning"):
        PrunedStabilityChecker(BinaryDAM("poly", degree=3), Stable(), source(x), 8, 4)


# --- the scanning kernels against plain numpy (kernels/pruned.py: has_byte_below, count_near,
# gather, slack_first_order)


def test_has_byte_below_matches_a_byte_by_byte_test():
    """Words of distance bytes (0..64, padding 255), every limit 0..65: the bit trick says "some
    byte < limit" exactly when a byte is, including borrows next to a hit and padding bytes."""
    from capacity_cli.kernels.pruned import has_byte_below

    rng = np.random.default_rng(11)
    values = np.concatenate([np.arange(65), [255]]).astype(np.uint8)
    for _ in range(400):
        size = rng.integers(1, 9)
        byte_rows = rng.choice(values, size=(64, 8))
        byte_rows[:, size:] = 255  # padding
        words = byte_rows.view(np.uint64).ravel()
        for limit in range(66):
            expected = (byte_rows < limit).any(axis=1)
            got = np.array([has_byte_below(w, limit) for w in words])
            np.testing.assert_array_equal(got, expected, err_msg=f"limit {limit}")


def naive_gather(x: np.ndarray, r: int, lo: int, hi: int, c_sum: np.ndarray, k_min: int, k_max: int):
    """Histogram and A_near contributions of the columns [lo, hi) of row r at levels [k_min, k_max)."""
    n = x.shape[1]
    levels = n - (x[lo:hi] != x[r]).sum(axis=1)
    near = np.flatnonzero((levels >= k_min) & (levels < k_max))
    hist = np.bincount(levels[near], minlength=n + 1)
    anear = (c_sum[2 * levels[near]][:, None] * (x[lo + near] > 0)).sum(axis=0)
    return len(near), hist, anear


@pytest.mark.parametrize("n", [7, 28, 63, 64, 65, 100])
def test_gather_and_count_near_match_numpy(n):
    """Ranges of every length class (empty, < 8, not a multiple of 8, across the 256-column group
    boundary) and level windows from the row alone to everything, against :func:`naive_gather`."""
    from capacity_cli.kernels.bits import pack_rows
    from capacity_cli.kernels.pruned import count_near, gather

    rng = np.random.default_rng([n, 3])
    p = 700
    # many near columns: copies of a few centres with 0-4 flips among random rows
    centres = rng.choice(np.array([-1, 1], dtype=np.int8), size=(5, n))
    x = rng.choice(np.array([-1, 1], dtype=np.int8), size=(p, n))
    for j in rng.choice(p, size=300, replace=False):
        y = centres[rng.integers(5)].copy()
        y[rng.choice(n, size=rng.integers(0, 5), replace=False)] *= -1
        x[j] = y
    packed, sel = pack_rows(x), (x > 0).astype(np.int8)
    c_sum = rng.random(4 * n + 1) + 0.5
    blocks = np.empty(p // 8 + 2, dtype=np.uint64)
    dist = blocks.view(np.uint8)
    for _ in range(60):
        r = int(rng.integers(p))
        lo = int(rng.integers(p))
        hi = int(min(p, lo + rng.choice([0, 1, 5, 8, 13, 255, 256, 257, 600])))
        if rng.random() < 0.3:
            lo = 0
        k_max = int(rng.choice([n + 1, n - 1, n - 3]))
        k_min = int(rng.integers(max(k_max - 8, 0), k_max + 1))
        hist = np.zeros((p, n + 1), dtype=np.int32)
        anear = np.zeros((p, n), dtype=np.float64)
        added = gather(r, lo, hi, packed, sel, n, c_sum, k_min, k_max, hist, anear, dist, blocks)
        count, exp_hist, exp_anear = naive_gather(x, r, lo, hi, c_sum, k_min, k_max)
        where = f"r={r} [{lo},{hi}) levels [{k_min},{k_max})"
        assert added == count, where
        np.testing.assert_array_equal(hist[r], exp_hist, err_msg=where)
        np.testing.assert_allclose(anear[r], exp_anear, rtol=1e-12, err_msg=where)
        assert not hist[np.arange(p) != r].any() and not anear[np.arange(p) != r].any()
        if n <= 64 and k_max == n + 1:
            assert count_near(packed, r, lo, hi, n - k_min) == count, where


def test_slack_first_order_is_a_permutation_with_suspects_and_least_slack_first():
    from capacity_cli.search import SLACK_HEAD, slack_first_order

    rng = np.random.default_rng(2)
    for lo, p in [(0, 5), (10, 12), (300, 300), (1000, 1400)]:
        margin = rng.random(lo)
        suspects = rng.choice(p, size=min(3, p), replace=False)
        order = slack_first_order(margin, suspects, p)
        np.testing.assert_array_equal(np.sort(order), np.arange(p))
        np.testing.assert_array_equal(order[:len(suspects)], suspects)
        # then the SLACK_HEAD old rows of least margin (distinct here) that are not suspects,
        # ascending, then every other row in index order
        head = [r for r in np.argsort(margin)[:SLACK_HEAD] if r not in suspects]
        k = len(suspects) + len(head)
        np.testing.assert_array_equal(order[len(suspects):k], head)
        assert (np.diff(order[k:]) > 0).all()


@pytest.mark.parametrize("distances", [(1,), (1, 2, 3)])
def test_clusters_beyond_one_word_match_full_check(distances):
    """N > 64 (two packed words: gather's general path) with near patterns that matter."""
    n = 70
    x = cluster_set(n, distances, copies=6, extra=150, seed=[n, len(distances)])
    assert_same(BinaryDAM("exp", beta=0.05), x, [7, 40, len(x) // 2, len(x)], with_naive=False)


def test_many_small_prefix_steps_match_full_check():
    """A bisection's steps: one to a few hundred new columns per check, so old rows take the
    path that decides them from their kept sums and the one that gathers new near columns."""
    n = 22
    x = cluster_set(n, (1, 2), copies=30, extra=1500, seed=[n, 9])
    steps = [200, 201, 203, 210, 230, 300, 517, 600, 601, 1000, 1256, 1257, 1500, len(x)]
    assert_same(BinaryDAM("exp", beta=1.0), x, steps, with_naive=False)
