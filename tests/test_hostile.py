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

import os
import signal

import pytest
from click.testing import CliRunner

from capacity_cli.cli import main

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
