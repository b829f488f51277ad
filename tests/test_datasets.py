"""Generators honour their requests, bounds reject impossible ones fast, files load or fail clearly."""

from __future__ import annotations

import time

import numpy as np
import pytest

from capacity_cli.datasets import (
    PatternSpec,
    PatternStream,
    as_pm1,
    generate_patterns,
    load_patterns,
    max_code_size,
    pattern_stats,
    save_patterns,
)
from capacity_cli.errors import HopcapError


def brute_max_code(n: int, d: int) -> int:
    """Largest code by exhaustive search (tiny n only)."""
    words = np.array([[(w >> i) & 1 for i in range(n)] for w in range(2**n)])
    dist = (words[:, None, :] != words[None, :, :]).sum(-1)
    best = 0

    def grow(chosen, start):
        nonlocal best
        best = max(best, len(chosen))
        for w in range(start, 2**n):
            if all(dist[w, c] >= d for c in chosen):
                grow(chosen + [w], w + 1)

    grow([], 0)
    return best


@pytest.mark.parametrize("n, d", [(4, 2), (4, 3), (5, 3), (5, 4), (6, 4), (6, 5), (5, 5)])
def test_code_size_bound_is_an_upper_bound(n, d):
    assert max_code_size(n, d) >= brute_max_code(n, d)


@pytest.mark.parametrize("n, d", [(4, 3), (5, 3), (6, 4), (5, 5), (4, 2)])
def test_code_size_bound_is_tight_where_plotkin_or_hamming_is(n, d):
    """Cases where the Plotkin/Hamming bound is attained: the bound must equal the true A(n, d)."""
    assert max_code_size(n, d) == brute_max_code(n, d)


def test_known_bound_values():
    assert max_code_size(8, 5) == 4  # Plotkin via A(9, 6) <= 2 * floor(6 / 3)
    assert max_code_size(10, 1) == 1024
    assert max_code_size(10, 11) == 1
    assert max_code_size(7, 3) == 16  # Hamming code is perfect


def test_impossible_request_fails_fast():
    start = time.perf_counter()
    with pytest.raises(HopcapError, match="at most 4 exist"):
        generate_patterns(PatternSpec(8, min_distance=5), 100)
    assert time.perf_counter() - start < 1.0


def test_stalled_rejection_reports_placed_count():
    # A(16, 7) <= 64 by the bounds, but greedy random search places far fewer within 200 tries.
    with pytest.raises(HopcapError, match=r"placed only \d+ of 60"):
        generate_patterns(PatternSpec(16, min_distance=7, max_tries=200), 60)


@pytest.mark.parametrize("d", [1, 4, 9])
def test_min_distance_is_honoured(d):
    x = generate_patterns(PatternSpec(40, min_distance=d), 60, seed=d)
    assert pattern_stats(x).min_distance >= d


def test_same_seed_same_set_and_prefix_stable():
    spec = PatternSpec(24, correlation=0.4, min_distance=5)
    a = generate_patterns(spec, 50, seed=9)
    b = generate_patterns(spec, 50, seed=9)
    np.testing.assert_array_equal(a, b)
    stream = PatternStream(spec, (9, 0))
    stream.take(7)
    stream.take(19)
    np.testing.assert_array_equal(stream.take(50), a)
    assert not np.array_equal(generate_patterns(spec, 50, seed=10), a)


def test_bias_is_honoured():
    x = generate_patterns(PatternSpec(200, bias=0.8), 400, seed=1)
    # 80000 Bernoulli(0.8) draws: standard error 0.0014; 0.01 is 7 standard errors.
    assert abs((x > 0).mean() - 0.8) < 0.01


def test_correlation_grows_with_c_and_matches_markov_chain():
    achieved = []
    for c in (0.0, 0.3, 0.6, 0.9):
        x = generate_patterns(PatternSpec(32, correlation=c), 4000, seed=2)
        achieved.append(pattern_stats(x).mean_abs_correlation)
        xf = x.astype(float)
        lag1 = np.mean([np.corrcoef(xf[:, i], xf[:, i + 1])[0, 1] for i in range(31)])
        # 4000 samples: the standard error of a correlation is about 1/sqrt(4000) = 0.016.
        assert abs(lag1 - c) < 0.03
    assert achieved == sorted(achieved)
    assert achieved[0] < 0.02  # sampling noise only: E|r| = sqrt(2/(pi P)) = 0.0126


def test_as_pm1_accepts_binary_and_rejects_others():
    np.testing.assert_array_equal(as_pm1(np.array([[0, 1], [1, 0]]), "x"), [[-1, 1], [1, -1]])
    with pytest.raises(HopcapError, match="binary"):
        as_pm1(np.array([[0, 2], [1, 0]]), "x")
    with pytest.raises(HopcapError, match="2-D"):
        as_pm1(np.array([1, -1]), "x")


def test_save_load_round_trip(tmp_path):
    x = generate_patterns(PatternSpec(20), 5, seed=0)
    save_patterns(tmp_path / "a.npz", x, seed=0)
    save_patterns(tmp_path / "a.npy", x)
    np.testing.assert_array_equal(load_patterns(tmp_path / "a.npz"), x)
    np.testing.assert_array_equal(load_patterns(tmp_path / "a.npy"), x)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "a.npz"]  # no temp files left


@pytest.mark.parametrize("kwargs", [dict(n=1), dict(n=10, bias=0.0), dict(n=10, correlation=-0.1),
                                    dict(n=10, min_distance=11), dict(n=10, max_tries=0)])
def test_spec_validation(kwargs):
    with pytest.raises(HopcapError):
        PatternSpec(**kwargs)
