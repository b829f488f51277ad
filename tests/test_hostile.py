"""Hostile input, case by case: every reported runaway, traceback and silently wrong result, and the
class it stands for, ends in a one-line ``Error: ...`` (exit 2, tests/test_fuzz.py ``check``) or in a
correct result. The cases that take more than a couple of seconds are marked slow (make test-slow);
each has a quick sibling here.

| class                              | where it is refused or handled                               |
|------------------------------------|--------------------------------------------------------------|
| decompression bombs (.npz/.npy)    | datasets.load_array_file: header sizes vs limits.check_memory |
| FIFOs, devices, dangling links     | paths.check_file, through options.FilePath and check_writable |
| memory beyond the machine          | measure.largest_check_bytes, census.census_bytes, curves      |
| hours of work                      | limits P_CAP_MAX, MAX_TRIES_MAX, CURVE_POINTS_MAX, WORK_MAX   |
| float overflow from options/files  | limits ranges (options.Real), results.parse_cell, patterns    |
| the same trial in two files        | results.read_checked                                         |
| zero-width intervals, empty plots  | fit.fit_law (nan), hopcap plot's note                        |
| results rows into another table    | results._read_header (curve, trace, outcomes files)          |
| Dask scheduler addresses           | options.SchedulerAddress, distributed.dask_client            |
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import struct
import time
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity_cli.cli import main
from capacity_cli.errors import HopcapError

try:
    from .test_fuzz import check
except ImportError:  # pytest's default (prepend) import mode puts tests/ itself on sys.path
    from test_fuzz import check

GIB = 2**30


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def refused(*args) -> str:
    """The one error line of a command that must be refused (exit 2, no traceback)."""
    result = invoke(*args)
    check(result, allowed_ok=False)
    return result.output.strip().splitlines()[-1]


@pytest.fixture(autouse=True)
def no_hang():
    """A case that regresses into a hang (a FIFO opened, a runaway search) fails instead."""
    def hung(*_):
        raise TimeoutError("hostile case did not end within 120 s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def memory(monkeypatch):
    """The machine's memory as the checks see it (limits.physical_memory), fixed for the test."""
    def set_to(total: int) -> None:
        monkeypatch.setattr("capacity_cli.limits.physical_memory", lambda: total)

    set_to(16 * GIB)
    return set_to


@pytest.fixture(scope="module")
def results_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "a.csv"
    result = invoke("measure", "--model", "poly", "--degree", "2", "--n", "12,16,24", "--trials", "3",
                    "--no-progress", "-o", path)
    assert result.exit_code == 0, result.output
    return path


# ------------------ 2. FIFOs and dangling links

@pytest.fixture
def odd_paths(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere" / "x.csv")
    to_fifo = tmp_path / "to_fifo"
    to_fifo.symlink_to(fifo)
    return {"fifo": fifo, "dangling": dangling, "to_fifo": to_fifo, "device": "/dev/null",
            "folder": tmp_path}


#: Every file option and argument, as a command with PATH where the file goes.
FILE_USES = [
    ("measure", "--model", "poly", "--n", "12", "--trials", "1", "--no-progress", "-o", "PATH"),
    ("measure", "--model", "poly", "--trials", "1", "--no-progress", "--patterns", "PATH"),
    ("measure", "--model", "hebbian", "--n", "12", "--trials", "1", "--no-progress", "-o", "OUT",
     "--outcomes", "PATH"),
    ("measure", "--model", "hebbian", "--n", "12", "--trials", "1", "--no-progress", "-o", "OUT",
     "--outcomes", "OUT2", "--trace", "PATH"),
    ("measure", "--model", "kernel", "--feature-map", "learned", "--n", "8", "--trials", "1",
     "--no-progress", "--save-map", "PATH"),
    ("curve", "--model", "hebbian", "--n", "12", "--p", "1:3", "--trials", "1", "--no-progress", "-o",
     "PATH"),
    ("predict", "--model", "poly", "--n", "12", "-o", "PATH"),
    ("gen", "--n", "12", "--p", "3", "-o", "PATH"),
    ("census", "--patterns", "PATH"),
    ("census", "--n", "12", "--p", "2", "--starts", "4", "--profiles", "PATH"),
    ("info", "PATH"),
    ("fit", "PATH"),
    ("plot", "PATH"),
    ("plot", "RESULTS", "-o", "PATH"),
    ("plot", "RESULTS", "--predict", "PATH"),
]


@pytest.mark.parametrize("kind", ["fifo", "dangling", "to_fifo", "device"])
@pytest.mark.parametrize("use", FILE_USES, ids=lambda u: " ".join(u[:1] + u[-2:-1]))
def test_file_options_take_regular_files_only(tmp_path, odd_paths, results_csv, use, kind):
    target = str(odd_paths[kind])
    suffix = {"--save-map": ".npz", "--profiles": ".npz"}.get(use[-2], "")
    if suffix:  # these options check their suffix first: make the odd path carry it
        link = tmp_path / f"odd{suffix}"
        link.symlink_to(odd_paths[kind]) if kind != "dangling" else link.symlink_to(tmp_path / "no.npz")
        target = str(link)
    fill = {"PATH": target, "OUT": str(tmp_path / "r.csv"), "OUT2": str(tmp_path / "o.csv"),
            "RESULTS": str(results_csv)}
    line = refused(*[fill.get(a, a) for a in use])
    assert target in line or os.path.basename(target) in line
    assert any(word in line for word in ("FIFO", "dangling", "device", "regular file")), line


def test_a_regular_file_behind_a_link_is_still_fine(tmp_path, results_csv):
    link = tmp_path / "link.csv"
    link.symlink_to(results_csv)
    result = invoke("fit", link)
    assert result.exit_code == 0, result.output


# ------------------ 3. memory beyond the machine

def test_exp_at_large_n_is_refused_with_its_estimate(memory):
    start = time.perf_counter()
    line = refused("measure", "--model", "exp", "--n", "100000", "--no-progress")
    assert time.perf_counter() - start < 10
    assert "N=100000: the check at P=100000 (--p-max" in line and "needs about 104 GiB" in line
    assert "16 GiB memory" in line and "--p-max" in line


def test_the_estimate_follows_p_max(memory):
    """The same N fits when --p-max keeps the largest check small (refused for work or run)."""
    line = refused("measure", "--model", "exp", "--n", "100000", "--p-max", "100000", "--no-progress")
    assert "needs about" in line
    from capacity_cli.measure import configs_from_options

    configs = configs_from_options({"model": "exp", "n": [100000], "p_max": 1000})
    assert configs[0].p_cap == 1000  # accepted: about 1 GB


@pytest.mark.parametrize("args, what", [
    (("--model", "pairwise", "--n", "100000"), "N=100000"),  # 240 GB of couplings
    (("--model", "softmax", "--n", "200000", "--p-max", "1000000"), "P=1000000"),
    (("--model", "rf", "--features", "1048576", "--n", "2000"), "N=2000"),  # 80 GB of frequencies
    (("--model", "kernel", "--feature-map", "random", "--features", "1048576", "--n", "2000"),
     "N=2000"),
])
def test_every_family_states_its_memory(memory, args, what):
    line = refused("measure", *args, "--no-progress")
    assert what in line and "needs about" in line


@pytest.mark.parametrize("args", [("--n", "20000", "--starts", "100000"),
                                  ("--n", "100000", "--starts", "10000"),
                                  ("--n", "100", "--starts", str(10**12)),
                                  ("--n", "100", "--starts", "10", "--radius-cues", str(10**11))])
def test_census_beyond_memory_is_refused(memory, args):
    line = refused("census", *args)
    assert "a census of" in line and "needs about" in line


def test_prototype_tasks_beyond_memory_are_refused(tmp_path, memory):
    line = refused("gen", "--n", "10", "--p", 10**9, "--prototypes", "2", "-o", tmp_path / "p.npz")
    assert "1000000000 examples of N=10 needs about" in line


def test_census_at_n_20000_is_within_memory():
    """Measured: 1000 starts at N = 20000 peak at 0.36 GB resident; the estimate says under 1 GB."""
    from capacity_cli.census import census_bytes

    assert census_bytes(20000, 10, 1000, 20) < GIB


# ------------------ 4. hours of work

def test_p_max_beyond_its_limit_is_refused_naming_it():
    line = refused("measure", "--model", "poly", "--p-max", 2**40)
    assert "'--p-max'" in line and "10^9" in line
    assert "Range: 1..10^9" in " ".join(invoke("measure", "--help").output.split())


def test_max_tries_beyond_its_limit_is_refused_naming_it():
    for command in (("measure", "--model", "poly"), ("gen", "--n", "12", "--p", "3", "-o", "x.npz")):
        line = refused(*command, "--min-distance", "2", "--max-tries", 10**15)
        assert "'--max-tries'" in line and "10^8" in line
    assert "Range: 1..10^8" in " ".join(invoke("measure", "--help").output.split())


def test_sweep_caps_are_bounded():
    """At T > 0 every recall runs all its sweeps: 10^9 of them was hours at N = 12."""
    base = ("measure", "--model", "hebbian", "--temperature", "1", "--n", "12")
    line = refused(*base, "--criterion", "overlap", "--max-sweeps", 10**9)
    assert "'--max-sweeps'" in line and "1..100000" in line
    line = refused(*base, "--criterion", "overlap-mean", "--sweeps", 4 * 10**8)
    assert "'--sweeps'" in line and "50000" in line


def test_census_classify_is_bounded():
    line = refused("census", "--classify", 10**9, "--prototypes", "2", "--p", "4", "--n", "12")
    assert "'--classify'" in line and "1..1000" in line


def test_curve_grids_are_bounded():
    line = refused("curve", "--model", "hebbian", "--n", "100", "--p", "1:1e9", "--no-progress")
    assert "1000000000 points; at most 10000" in line and "CURVE_POINTS_MAX" in line
    line = refused("curve", "--model", "hebbian", "--n", "100", "--p", "1e9", "--trials", "1",
                   "--no-progress")
    assert "the curve's check at P=1000000000 needs about" in line
    assert "at most 10000 points" in " ".join(invoke("curve", "--help").output.split())


def test_a_search_that_stores_everything_is_refused_before_it_starts():
    """softmax at beta 1000: the other patterns' weights are below e^-2000, every prefix is stored,
    and each trial would run dense checks up to --p-max 100000 (the reported 'no exit')."""
    start = time.perf_counter()
    line = refused("measure", "--model", "softmax", "--beta", "1000", "--no-progress")
    assert time.perf_counter() - start < 10
    assert "stores every P up to --p-max 100000" in line and "WORK_MAX" in line
    for beta in ("1e4/N", "300/sqrtN"):  # rules that reach such a beta at the default sizes
        assert "WORK_MAX" in refused("measure", "--model", "softmax", "--beta", beta, "--n", "16",
                                     "--no-progress")
    # with a --p-max that bounds the work, the same model is measured (and stores every prefix)
    result = invoke("measure", "--model", "softmax", "--beta", "1000", "--n", "12", "--p-max", "64",
                    "--trials", "2", "--no-progress")
    assert result.exit_code == 0 and "(2 capped)" in result.output, result.output


def test_the_work_guard_stops_a_search_that_goes_on_storing(monkeypatch):
    """The search refuses the check that would take the command past the budget (here a small one:
    the real budget is met by the slow sibling below)."""
    monkeypatch.setattr("capacity_cli.measure.WORK_MAX", 10**8)
    line = refused("measure", "--model", "softmax", "--beta", "4", "--n", "12", "--trials", "2",
                   "--no-progress")
    assert "stored every prefix the search checked below P=2048" in line and "WORK_MAX" in line


@pytest.mark.slow
def test_the_work_guard_at_the_real_budget():
    """softmax beta 4 at N = 12 stores every prefix (about 30 s to the refusal on 2 cores)."""
    line = refused("measure", "--model", "softmax", "--beta", "4", "--n", "12", "--no-progress")
    assert "below P=65536" in line and "WORK_MAX" in line


# ------------------ 1. decompression bombs

def npy_header(shape, descr="|i1") -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": False, "shape": shape})
    return out.getvalue()


def forged_npz(path, shape=(2**40,)) -> None:
    """A small .npz whose 'patterns' header promises ``shape`` (1 TiB of int8 by default)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("patterns.npy", npy_header(shape))


def deflate_bomb(path, inflated: int, chunk: int = 2**20) -> None:
    """A genuine .npz decompression bomb: a valid 'patterns' member of int8 zeros that inflates to
    ``inflated`` bytes (< 4 GiB) from about inflated / 1000 bytes on disk (one deflated chunk of
    zeros, repeated after full flushes, so the stream stays valid)."""
    head = npy_header((inflated // 64, 64))
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = first.compress(head) + first.flush(zlib.Z_FULL_FLUSH)
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = zeros.compress(bytes(chunk)) + zeros.flush(zlib.Z_FULL_FLUSH)
    data = body + block * (inflated // chunk) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = zlib.crc32(head)
    for _ in range(inflated // chunk):
        crc = zlib.crc32(bytes(chunk), crc)
    size, name = len(head) + inflated, b"patterns.npy"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(name), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                          len(name), 0, 0, 0, 0, 0, 0)
    offset = len(local) + len(name) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), offset, 0)
    with open(path, "wb") as f:
        f.write(local + name + data + central + name + end)


@pytest.mark.parametrize("command", [("info",), ("measure", "--model", "poly", "--no-progress",
                                                 "--patterns"), ("census", "--patterns")])
def test_npz_whose_header_promises_a_terabyte_is_refused_at_once(tmp_path, command):
    path = tmp_path / "bomb.npz"
    forged_npz(path)
    start = time.perf_counter()
    line = refused(*command, path)
    assert time.perf_counter() - start < 5
    assert "needs about 3 TiB" in line and "memory" in line and str(path) in line


def test_npy_whose_header_promises_more_than_the_file_holds_is_refused(tmp_path):
    path = tmp_path / "short.npy"
    path.write_bytes(npy_header((2**40,)) + b"\x01" * 64)
    assert "truncated" in refused("info", path)


def test_every_array_file_reader_checks_the_size(tmp_path, memory):
    """Every place hopcap np.loads a user's file goes through datasets.load_array_file."""
    from capacity_cli.audit import read_back
    from capacity_cli.census import load_prototypes
    from capacity_cli.datasets import load_any_patterns
    from capacity_cli.families.kernel.model import map_report

    path = tmp_path / "bomb.npz"
    forged_npz(path)
    for read in (load_any_patterns, load_prototypes, map_report, read_back):
        with pytest.raises(HopcapError, match="needs about 3 TiB"):
            read(path)


def test_a_genuine_deflate_bomb_is_refused_without_inflating(tmp_path, memory):
    """64 KiB on disk inflating to 64 MiB, on a machine said to have 256 MiB: refused from the
    headers (reading it takes three copies, 192 MiB); on a larger machine it is an ordinary set."""
    path = tmp_path / "bomb.npz"
    deflate_bomb(path, 64 * 2**20)
    assert path.stat().st_size < 2**17
    memory(256 * 2**20)
    line = refused("info", path)
    assert "reading its arrays (decompressed) needs about 192 MiB, more than half" in line
    memory(16 * GIB)  # all zeros: the 0/1 set of -1 rows
    from capacity_cli.datasets import load_patterns

    assert load_patterns(path).shape == (2**20, 64)


def test_a_two_gigabyte_deflate_bomb_is_refused_by_every_reader(tmp_path, memory):
    """2 MiB on disk, 2 GiB inflated (about a second to build): refused in a moment by every command
    that reads pattern files, on an 8 GiB machine."""
    path = tmp_path / "bomb.npz"
    deflate_bomb(path, 2 * GIB)
    memory(8 * GIB)
    start = time.perf_counter()
    for command in (("info",), ("measure", "--model", "poly", "--no-progress", "--patterns"),
                    ("census", "--patterns")):
        assert "needs about 6 GiB" in refused(*command, path)
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("value, message", [(1e300, "must lie in"), (1e-300, "is zero in float32")])
def test_real_patterns_beyond_float32_are_refused(tmp_path, value, message):
    x = np.random.default_rng(0).standard_normal((20, 16))
    x[3] = value
    path = tmp_path / "x.npy"
    np.save(path, x)
    for command in (("info",), ("measure", "--model", "softmax", "--no-progress", "--patterns")):
        assert message in refused(*command, path)


# ------------------ 5 and 7. float overflow

@pytest.mark.parametrize("args, option", [
    (("--model", "softmax", "--beta", "1e306"), "--beta"),
    (("--model", "softmax", "--beta", "1e300/sqrtN"), "--beta"),
    (("--model", "kernel", "--beta", "1e5"), "--beta"),
    (("--model", "softmax", "--eps", "1e308"), "'--eps'"),
    (("--model", "kernel", "--feature-map", "learned", "--tau", "1e-300"), "'--tau'"),
    (("--model", "kernel", "--feature-map", "learned", "--tau", "1e300"), "'--tau'"),
    (("--model", "pairwise", "--rule", "palimpsest", "--forget-eps", "1e308"), "'--forget-eps'"),
    (("--model", "pairwise", "--unlearn", "2", "--unlearn-eps", "1e308"), "'--unlearn-eps'"),
    (("--model", "pairwise", "--rule", "perceptron", "--margin", "1e308"), "'--margin'"),
])
def test_real_options_outside_their_range_are_refused_naming_it(args, option):
    line = refused("measure", *args, "--n", "16", "--no-progress")
    assert option in line and ("range" in line or "must be in" in line), line


def test_the_library_checks_the_same_ranges():
    from capacity_cli.families.kernel.model import KernelModel
    from capacity_cli.families.pairwise.model import PairwiseModel
    from capacity_cli.families.softmax.model import RetrieveEps, SoftmaxModel

    for make in (lambda: PairwiseModel("palimpsest", forget_eps=1e308),
                 lambda: PairwiseModel("hebbian", unlearn=1, unlearn_eps=1e308),
                 lambda: PairwiseModel("perceptron", margin=1e308),
                 lambda: KernelModel(1.0, feature_map="learned", tau=1e-300),
                 lambda: RetrieveEps(1e308),
                 lambda: SoftmaxModel(1e306),
                 lambda: SoftmaxModel("1e300/sqrtN").beta.value(16)):
        with pytest.raises(HopcapError, match="must be in"):
            make()


def test_the_edges_of_the_ranges_still_run():
    """The largest forget-eps (lambda underflows to 0 at small N: only the newest pattern is kept),
    unlearn-eps, margin and the smallest tau end in a result."""
    for args in (("--model", "pairwise", "--rule", "palimpsest", "--forget-eps", "1000", "--search",
                  "recency", "--p", "30"),
                 ("--model", "pairwise", "--unlearn", "2", "--unlearn-eps", "1"),
                 ("--model", "pairwise", "--rule", "perceptron", "--margin", "100", "--max-epochs", "5"),
                 ("--model", "kernel", "--feature-map", "learned", "--tau", "0.001", "--learn-steps",
                  "5", "--p-max", "16"),
                 ("--model", "hebbian", "--criterion", "overlap", "--temperature", "1e308")):
        result = invoke("measure", *args, "--n", "12", "--trials", "1", "--no-progress")
        assert result.exit_code == 0 and "nan" not in result.output, (args, result.output)


def test_results_with_a_p_max_beyond_float64_are_refused(tmp_path, results_csv):
    df = pd.read_csv(results_csv).astype({"p_max": object})
    df.loc[0, "p_max"] = 10**400
    path = tmp_path / "huge.csv"
    df.to_csv(path, index=False)
    for command in (("fit",), ("plot", "-o", tmp_path / "fig")):
        line = refused(*command, path)
        assert "line 2, column p_max: must be at most 2^53" in line and "(401 digits)" in line


def test_curve_files_with_a_p_beyond_float64_are_refused(tmp_path):
    path = tmp_path / "c.csv"
    assert invoke("curve", "--model", "hebbian", "--n", "20", "--p", "1:3", "--trials", "1",
                  "--no-progress", "-o", path).exit_code == 0
    df = pd.read_csv(path).astype({"p": object})
    df.loc[0, "p"] = 10**400
    df.to_csv(path, index=False)
    assert "line 2: column p: must be at most 2^53" in refused("plot", path, "-o", tmp_path / "f")


# ------------------ 6. the same trial twice

def test_fit_counts_a_trial_given_twice_once(tmp_path, results_csv):
    copy = tmp_path / "copy.csv"
    copy.write_bytes(results_csv.read_bytes())
    alone = invoke("fit", results_csv)
    for paths in ((results_csv, copy), (results_csv, results_csv)):
        twice = invoke("fit", *paths)
        assert twice.exit_code == 0
        assert twice.stdout == alone.stdout  # the same fit, the same interval
        assert f"9 trial(s) already read from {results_csv}" in twice.stderr


@pytest.mark.slow
def test_plot_counts_a_trial_given_twice_once(tmp_path, results_csv):
    """plot reads through the same results.read_checked as fit (about 3 s: a figure)."""
    copy = tmp_path / "copy.csv"
    copy.write_bytes(results_csv.read_bytes())
    drawn = invoke("plot", results_csv, copy, "-o", tmp_path / "fig")
    assert drawn.exit_code == 0 and "already read from" in drawn.stderr


def test_two_files_with_different_trials_are_both_counted(tmp_path, results_csv):
    df = pd.read_csv(results_csv)
    more = tmp_path / "more.csv"
    df.assign(trial=df["trial"] + 3).to_csv(more, index=False)
    from capacity_cli.results import read_checked

    rows, notes = read_checked([results_csv, more])
    assert len(rows) == 2 * len(df) and not notes


# ------------------ 8. silently wrong results

def test_fit_on_one_trial_per_n_says_the_interval_is_undefined(tmp_path):
    path = tmp_path / "one.csv"
    assert invoke("measure", "--model", "poly", "--n", "12,16,20", "--trials", "1", "--no-progress",
                  "-o", path).exit_code == 0
    result = invoke("fit", path)
    assert result.exit_code == 0
    line = result.stdout.splitlines()[1]
    assert "[" not in line and "interval undefined: needs at least 2 trials at every N" in line
    from capacity_cli.fit import fit_law

    f = fit_law([12, 16, 20, 20], [3, 5, 7, 8])
    assert f.slope > 0 and not f.interval_defined


def test_plot_of_all_zero_p_max_says_it_draws_nothing(tmp_path, results_csv):
    path = tmp_path / "zeros.csv"
    pd.read_csv(results_csv).assign(p_max=0).to_csv(path, index=False)
    result = invoke("plot", path, "-o", tmp_path / "fig")
    assert result.exit_code == 0
    assert "no trial has P_max > 0, so it draws no point" in result.stderr


@pytest.mark.parametrize("table", ["curve", "trace", "outcomes"])
def test_results_rows_are_never_written_into_another_table(tmp_path, table):
    out = tmp_path / "t.csv"
    if table == "curve":
        made = invoke("curve", "--model", "hebbian", "--n", "20", "--p", "1:3", "--trials", "1",
                      "--no-progress", "-o", out)
    else:
        files = {"outcomes": out, "trace": tmp_path / "trace.csv"}
        if table == "trace":
            files = {"outcomes": tmp_path / "o.csv", "trace": out}
        made = invoke("measure", "--model", "hebbian", "--n", "20", "--trials", "1", "--no-progress",
                      "-o", tmp_path / "r.csv", "--outcomes", files["outcomes"], "--trace",
                      files["trace"])
    assert made.exit_code == 0, made.output
    before = hashlib.sha1(out.read_bytes()).hexdigest()
    for extra in ((), ("--repair",)):
        line = refused("measure", "--model", "hebbian", "--n", "20", "--trials", "1", "--no-progress",
                       "-o", out, *extra)
        assert f"a hopcap {table} file, not a results file" in line
    assert hashlib.sha1(out.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("address, message", [
    ("tls://127.0.0.1:8786", "tcp:// only"), ("127.0.0.1", "expected tcp://HOST:PORT"),
    ("tcp://host:99999", "expected tcp://HOST:PORT"), ("inproc://x", "tcp:// only")])
def test_scheduler_addresses_are_checked_when_parsed(address, message):
    line = refused("measure", "--model", "poly", "--executor", "dask", "--scheduler", address)
    assert "'--scheduler'" in line and message in line


def test_an_unreachable_scheduler_fails_fast():
    pytest.importorskip("distributed")
    start = time.perf_counter()
    line = refused("measure", "--model", "poly", "--n", "12", "--trials", "1", "--no-progress",
                   "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1")
    assert time.perf_counter() - start < 8
    assert line.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
