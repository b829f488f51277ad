"""Code-based pattern sets (capacity_cli/codes.py): the distance promise, refusals, reproducibility."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from click.testing import CliRunner

from capacity_cli.cli import main
from capacity_cli.codes import (
    CONWAY,
    CodeStream,
    bch_code,
    bch_generator_polynomial,
    bch_plans,
    bose_distance,
    code_for,
    copy_sources,
    encode,
    message_bits,
    minimum_weight,
    reed_muller_code,
    systematic_generator,
)
from capacity_cli.datasets import PatternSpec, generate_patterns, pattern_source, pattern_stats
from capacity_cli.errors import HopcapError
from capacity_cli.measure import configs_from_options, run_measurements


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def naive_min_distance(x: np.ndarray) -> int:
    """Minimum pairwise Hamming distance by comparing every pair of rows."""
    return min(int((a != b).sum()) for a, b in itertools.combinations(x, 2))


def naive_encode(generator: np.ndarray, message: np.ndarray) -> np.ndarray:
    """One codeword: the XOR of the generator rows the message selects, as units (-1)^bit."""
    word = np.zeros(generator.shape[1], dtype=np.int64)
    for bit, row in zip(message, generator, strict=True):
        if bit:
            word ^= row
    return 1 - 2 * word


# ------------------------------------------------------------------------------ construction


@pytest.mark.slow
def test_generator_matches_galois_on_every_bch_code_of_length_7_and_15():
    """Independent reference: the galois package's BCH codes over the same field (Conway
    polynomial), every Bose distance of lengths 7 and 15 (exact matrix equality;
    galois compiles each field for several seconds; longer codes are covered by the textbook
    dimensions and the exhaustive distance checks below)."""
    galois = pytest.importorskip("galois")
    compared = 0
    for m in range(3, 5):
        n0 = 2**m - 1
        field = galois.GF(2**m, irreducible_poly=galois.Poly.Int(CONWAY[m]))
        for delta in range(3, n0 + 1, 2):
            if bose_distance(n0, delta) != delta:
                continue
            ours = systematic_generator(n0, bch_generator_polynomial(n0, delta))
            theirs = np.asarray(galois.BCH(n0, d=delta, extension_field=field).G)
            assert np.array_equal(ours, theirs), (n0, delta)
            compared += 1
    assert compared == 2 + 4  # the Bose distances of lengths 7 and 15


@pytest.mark.parametrize("n, d, k", [(7, 3, 4), (15, 5, 7), (15, 7, 5), (31, 7, 16), (31, 11, 11),
                                     (63, 27, 10), (127, 31, 36), (127, 43, 29), (255, 21, 179),
                                     (16, 6, 7), (32, 8, 16), (64, 28, 10), (128, 32, 36)])
def test_textbook_bch_dimensions(n, d, k):
    """[n, k, d] of primitive BCH codes and their extensions (MacWilliams & Sloane, Appendix A)."""
    code = bch_code(n, d)
    assert (code.n, code.k, code.d) == (n, k, d)


def test_minimum_distance_promise_is_exhaustively_true_for_small_codes():
    """Every offered BCH code of length 6..24 and every requested d: the least nonzero codeword
    weight (all 2^k - 1 of them) is >= the guaranteed d >= the requested d."""
    checked = 0
    for n in range(6, 25):
        for d in range(3, n + 1):
            if not bch_plans(n, d):
                with pytest.raises(HopcapError, match="no BCH code"):
                    code_for("bch", n, d)
                continue
            code = code_for("bch", n, d)
            assert code.n == n and code.generator.shape == (code.k, n)
            assert np.array_equal(code.generator[:, : code.k], np.eye(code.k))  # systematic: rank k
            assert minimum_weight(code) >= code.d >= d, (n, d, code.label)
            checked += 1
    assert checked > 100


def test_generator_has_full_rank_over_gf2():
    """2^k distinct codewords: encoding every message of a small code gives no repeats."""
    for n, d in [(15, 3), (16, 4), (20, 5), (12, 3)]:
        code = code_for("bch", n, d)
        words = encode(code, message_bits(np.arange(code.size, dtype=np.int64), code.k))
        assert len(np.unique(words, axis=0)) == code.size


@pytest.mark.parametrize("m", [2, 3, 4, 5, 6])
def test_reed_muller_first_order_is_exactly_n_over_2(m):
    code = reed_muller_code(2**m, 1)
    assert (code.n, code.k, code.d) == (2**m, m + 1, 2 ** (m - 1))
    assert minimum_weight(code) == 2 ** (m - 1)


def test_encode_matches_the_naive_xor_of_rows(rng):
    for n, d in [(15, 5), (31, 7), (64, 28), (100, 9)]:
        code = code_for("bch", n, d)
        messages = rng.integers(0, 2, size=(40, code.k), dtype=np.uint8)
        fast = encode(code, messages)
        for message, row in zip(messages, fast, strict=True):
            assert np.array_equal(row, naive_encode(code.generator, message))


# ------------------------------------------------------------------------------ sampling


@pytest.mark.parametrize("n, d, p", [(127, 31, 300), (127, 55, 300), (63, 27, 300), (64, 28, 200),
                                     (100, 21, 300), (255, 63, 200)])
def test_sampled_sets_keep_the_distance(n, d, p):
    x = generate_patterns(PatternSpec(n, min_distance=d, code="bch"), p, seed=3)
    assert x.shape == (p, n) and x.dtype == np.int8
    assert pattern_stats(x).min_distance >= d
    assert len(np.unique(x, axis=0)) == p  # distinct codewords


def test_sampled_set_distance_matches_naive_pairs():
    x = generate_patterns(PatternSpec(31, min_distance=11, code="bch"), 60, seed=1)
    assert pattern_stats(x).min_distance == naive_min_distance(x) >= 11


def test_rm_samples_up_to_sign_are_orthogonal():
    """RM(1, m) holds N words up to sign (Hadamard rows): every pair at distance exactly N/2."""
    x = generate_patterns(PatternSpec(32, min_distance=16, code="rm"), 32, seed=2)
    dist = (x[:, None, :] != x[None, :, :]).sum(-1)[np.triu_indices(32, 1)]
    assert set(np.unique(dist).tolist()) == {16}


@pytest.mark.parametrize("n, d, p", [(63, 27, 512), (64, 28, 512), (127, 31, 3000), (15, 5, 64)])
def test_no_sample_holds_a_word_and_its_complement(n, d, p):
    spec = PatternSpec(n, min_distance=d, code="bch")
    stream = CodeStream(spec, (1, 2))
    assert stream.code.complement is not None  # these codes hold the all-ones word
    x = np.array(stream.take(p))
    assert len(x) == min(p, stream.code.available)
    assert pattern_stats(x).min_distance >= d
    keys = {row.tobytes() for row in x}
    assert not any((-row).tobytes() in keys for row in x)
    assert 0.3 < (x[:, 0] > 0).mean() < 0.7  # the pivot unit takes both signs (fair coin)


def test_shortened_codes_have_no_complements_and_use_every_codeword():
    stream = CodeStream(PatternSpec(12, min_distance=4, code="bch"), (0, 0))
    assert stream.code.complement is None and stream.code.available == stream.code.size == 2**7
    x = np.array(stream.take(1000))
    assert len(np.unique(x, axis=0)) == 128 and stream.exhausted


@pytest.mark.parametrize("n, d, c", [(63, 11, 0.3), (64, 9, 0.5), (40, 5, 0.25), (127, 21, 0.1)])
def test_correlation_by_copying_keeps_distance_and_copies_units(n, d, c):
    spec = PatternSpec(n, min_distance=d, code="bch", correlation=c)
    stream = CodeStream(spec, (5, 0))
    x = np.array(stream.take(200))
    copies = int(round(c * (n - 1)))
    assert stream.code.n == n - copies
    assert pattern_stats(x).min_distance >= d
    same_as_before = [i for i in range(1, n) if np.array_equal(x[:, i], x[:, i - 1])]
    assert len(same_as_before) >= copies  # the copied units (a code unit may repeat by chance too)


def test_copy_sources_shape_and_counts(rng):
    for n, code_n in [(10, 10), (10, 1), (63, 44), (2, 1)]:
        sources = copy_sources(n, code_n, rng)
        assert sources[0] == 0 and sources[-1] == code_n - 1
        steps = np.diff(sources)
        assert set(steps.tolist()) <= {0, 1} and int((steps == 0).sum()) == n - code_n


def test_same_seed_same_set_and_prefix_stable():
    for spec in (PatternSpec(63, min_distance=15, code="bch"),  # k = 24: random messages
                 PatternSpec(63, min_distance=27, code="bch"),  # k = 10: a permutation
                 PatternSpec(63, min_distance=11, code="bch", correlation=0.2)):
        whole = np.array(pattern_source(spec, (7, 3))(1500))
        stream = pattern_source(spec, (7, 3))
        small = np.array(stream(10))
        assert np.array_equal(small, whole[:10])
        assert np.array_equal(np.array(stream(1500)), whole)
        assert not np.array_equal(np.array(pattern_source(spec, (7, 4))(10)), small)
        assert np.array_equal(generate_patterns(spec, 50, seed=9), generate_patterns(spec, 50, seed=9))


def test_small_code_ends_after_every_codeword_up_to_sign():
    stream = CodeStream(PatternSpec(8, min_distance=4, code="rm"), (0, 0))
    x = np.array(stream.take(100))
    assert x.shape == (8, 8) and stream.exhausted
    assert len(np.unique(np.concatenate([x, -x]), axis=0)) == 16  # all 16 codewords, one per pair


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize("kwargs, p, message", [
    (dict(n=63, min_distance=27, code="bch"), 1025, "only 2\\^10 = 1024 codewords"),
    (dict(n=63, min_distance=40, code="bch"), 3, "\\[63, 1, 63\\] BCH code has only 2\\^1"),
    (dict(n=40, min_distance=35, code="bch"), 2, "no BCH code of length 40"),
    (dict(n=64, min_distance=33, code="rm"), 2, "beyond it"),
    (dict(n=48, min_distance=8, code="rm"), 2, "N = 2\\^m"),
    (dict(n=16, min_distance=8, code="rm"), 17, "only 2\\^5 = 32 codewords, 2\\^4 = 16 up to sign"),
    (dict(n=63, min_distance=2, code="bch"), 2, ">= 3"),
    (dict(n=63, min_distance=9, code="bch", bias=0.3), 2, "no --bias"),
    (dict(n=64, min_distance=9, code="rm", correlation=0.2), 2, "no --correlation"),
    (dict(n=2000, min_distance=9, code="bch"), 2, "N in \\[3, 1024\\]"),
    (dict(n=63, min_distance=9, code="hamming"), 2, "one of bch, rm"),
    (dict(n=63, min_distance=21, code="bch", correlation=0.5), 3, "\\[32, 1, 32\\] extended"),
])
def test_impossible_requests_fail_with_the_reason(kwargs, p, message):
    with pytest.raises(HopcapError, match=message):
        generate_patterns(PatternSpec(**kwargs), p)


def test_gen_cli_refusals_end_in_one_error_line():
    for args in (["--code", "bch", "--n", "63", "--min-distance", "27", "--p", "2000"],
                 ["--code", "rm", "--n", "63", "--min-distance", "8", "--p", "20"],
                 ["--code", "bch", "--dataset", "digits", "--p", "20"]):
        result = run("gen", *args, "-o", "unused.npz")
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines()[-1].startswith("Error: ")
        assert "Traceback" not in result.output


def test_gen_and_info_report_the_code(tmp_path):
    out = tmp_path / "s.npz"
    result = run("gen", "--code", "bch", "--n", 127, "--min-distance", 31, "--p", 2000, "-o", out)
    assert result.exit_code == 0, result.output
    assert "[127, 36, 31] BCH" in result.output
    info = run("info", out)
    assert info.exit_code == 0
    assert "code_k                 36" in info.output and "code_d                 31" in info.output
    measured = int(info.output.split("min pairwise distance")[-1].split()[0])
    assert measured >= 31


def test_measure_with_a_code_records_it_and_caps_at_the_code_size(tmp_path):
    out = tmp_path / "m.csv"
    configs = configs_from_options({"model": "poly", "degree": [4], "n": [16], "min_distance": [8],
                                    "code": "rm", "trials": 2})
    rows = run_measurements(configs, output=str(out), progress=False)
    for row in rows:
        assert row["code"] == "rm" and row["achieved_min_distance"] >= 8
        assert row["p_max"] <= 16 and (row["p_max"] < 16 or row["capped"])


def test_measure_refuses_code_with_given_patterns_and_oversized_degree_sets(tmp_path):
    with pytest.raises(HopcapError, match="not a given set"):
        configs_from_options({"model": "poly", "dataset": "digits", "code": "bch"})
    with pytest.raises(HopcapError, match="--max-tries does not apply"):
        configs_from_options({"model": "poly", "n": [63], "min_distance": [11], "code": "bch",
                              "max_tries": 5})
    with pytest.raises(HopcapError, match="only 2\\^10"):
        configs_from_options({"model": "poly", "search": "degree", "p": 2000, "n": [63],
                              "min_distance": [27], "code": "bch"})
