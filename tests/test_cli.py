"""The command line through Click's runner: happy paths, resume, and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity_cli.cli import main
from capacity_cli.results import COLUMNS


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def test_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("gen", "measure", "plot", "fit", "info"):
        assert command in result.output


def test_measure_writes_tidy_csv_and_resumes(tmp_path):
    out = tmp_path / "r.csv"
    args = ("measure", "--model", "poly", "--degree", "3", "--n", "16,24", "--trials", "3",
            "--no-progress", "-o", out)
    first = run(*args)
    assert first.exit_code == 0, first.output
    assert "poly a=3, stable" in first.output and "N^2" in first.output
    df = pd.read_csv(out)
    assert list(df.columns) == COLUMNS
    assert len(df) == 6 and set(df["n"]) == {16, 24}
    assert (df["p_max"] >= 1).all() and not df["capped"].any()
    second = run(*args)
    assert second.exit_code == 0
    again = pd.read_csv(out)
    assert len(again) == 6  # nothing duplicated, header once
    pd.testing.assert_frame_equal(df, again)
    more = run(*args[:-5], "--trials", "5", "--no-progress", "-o", out)
    assert more.exit_code == 0
    grown = pd.read_csv(out)
    assert len(grown) == 10
    pd.testing.assert_frame_equal(grown.iloc[:6], df)


def test_same_seed_same_numbers_any_thread_count(tmp_path):
    rows = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}.csv"
        r = run("measure", "--model", "exp", "--criterion", "retrieve", "--n", "12", "--trials", "4",
                "--seed", "7", "--threads", threads, "--no-progress", "-o", out)
        assert r.exit_code == 0, r.output
        rows.append(pd.read_csv(out)["p_max"].tolist())
    assert rows[0] == rows[1]


def test_gen_info_and_measure_given_patterns(tmp_path):
    path = tmp_path / "set.npz"
    r = run("gen", "--n", "32", "--p", "40", "--min-distance", "8", "--correlation", "0.3",
            "--seed", "3", "-o", path)
    assert r.exit_code == 0, r.output
    with np.load(path) as data:
        x = data["patterns"]
        assert x.dtype == np.int8 and x.shape == (40, 32)
        assert int(data["achieved_min_distance"]) >= 8
    info = run("info", path)
    assert info.exit_code == 0 and "P=40 N=32" in info.output
    m = run("measure", "--model", "poly", "--degree", "3", "--patterns", path, "--no-progress")
    assert m.exit_code == 0, m.output
    assert "poly a=3, stable" in m.output


def test_plot_and_fit(tmp_path):
    out = tmp_path / "r.csv"
    assert run("measure", "--model", "poly", "--degree", "2", "--n", "16,32,64", "--trials", "3",
               "--no-progress", "-o", out).exit_code == 0
    r = run("plot", out, "-o", tmp_path / "fig")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "fig.png").stat().st_size > 1000 and (tmp_path / "fig.pdf").exists()
    f = run("fit", out)
    assert f.exit_code == 0 and "power" in f.output


@pytest.mark.parametrize("args, message", [
    (("measure", "--model", "poly", "--degree", "1"), "--degree"),
    (("measure", "--model", "rectpoly", "--degree", "0"), "--degree"),
    (("measure", "--model", "poly", "--n", "1"), "--n"),
    (("measure", "--model", "poly", "--n", "16,x"), "--n"),
    (("measure", "--model", "poly", "--trials", "-2"), "--trials"),
    (("measure", "--model", "poly", "--trials", "0"), "--trials"),
    (("measure", "--model", "poly", "--threshold", "0"), "--threshold"),
    (("measure", "--model", "poly", "--threshold", "1.5"), "--threshold"),
    (("measure", "--model", "exp", "--criterion", "retrieve", "--noise", "0.6"), "--noise"),
    (("measure", "--model", "exp", "--criterion", "retrieve", "--noise", "-0.1"), "--noise"),
    (("measure", "--model", "exp", "--beta", "-1"), "--beta"),
    (("measure", "--model", "hebbian", "--criterion", "overlap", "--min-overlap", "2"),
     "--min-overlap"),
    (("measure", "--model", "poly", "--max-sweeps", "0", "--criterion", "retrieve"), "--max-sweeps"),
    (("measure", "--model", "poly", "--p-max", "0"), "--p-max"),
    (("measure", "--model", "nonsense"), "--model"),
    (("measure", "--model", "poly", "--bias", "1.0"), "--bias"),
    (("measure", "--model", "poly", "--correlation", "1.0"), "--correlation"),
    (("measure", "--model", "poly", "--n", "16", "--min-distance", "17"), "--min-distance"),
    (("measure", "--model", "poly", "--patterns", "/no/such/file.npy"), "no such file"),
    (("gen", "--n", "8", "--p", "100", "--min-distance", "5", "-o", "x.npz"), "Plotkin"),
    (("gen", "--n", "8", "--p", "10", "-o", "x.txt"), ".npy or .npz"),
    (("gen", "--n", "1", "--p", "10", "-o", "x.npz"), "--n"),
    (("info", "/no/such/file.npz"), "no such file"),
    (("plot", "/no/such.csv"), "no such file"),
])
def test_bad_input_is_one_line_and_nonzero(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("content, message", [
    (b"not a numpy file at all", "not a readable"),
    (None, "binary"),
    ("bad_npz", "no 'patterns'"),
])
def test_bad_pattern_files(tmp_path, content, message):
    path = tmp_path / "p.npy"
    if content is None:
        np.save(path, np.array([[0, 2, 1], [1, 1, 0]]))
    elif content == "bad_npz":
        path = tmp_path / "p.npz"
        np.savez(path, other=np.ones((2, 3)))
    else:
        path.write_bytes(content)
    result = run("measure", "--model", "poly", "--patterns", path, "--no-progress")
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_corrupt_results_csv(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = run("measure", "--model", "poly", "--n", "16", "--trials", "1", "-o", bad,
                 "--no-progress")
    assert result.exit_code == 2 and "not a hopcap results file" in result.output
    assert bad.read_text() == "a,b\n1,2\n"  # nothing lost
