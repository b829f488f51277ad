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


def test_same_seed_same_numbers_any_thread_count(tmp_path, monkeypatch):
    """With the parallel threshold at 0 every check of the 2-thread run takes the parallel kernel."""
    from capacity_cli import search

    monkeypatch.setattr(search, "PARALLEL_MIN_WORK", 0)
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


def test_min_distance_set_reaching_the_bound_is_capped_not_an_error(tmp_path):
    """N = 4, d = 4: at most 2 words (Plotkin) exist, so every trial's sequence ends at 2 patterns."""
    out = tmp_path / "r.csv"
    r = run("measure", "--model", "poly", "--degree", "3", "--n", "4", "--min-distance", "4",
            "--trials", "3", "--no-progress", "-o", out)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert (df["p_max"] <= 2).all() and df["capped"].all()


def test_repeated_sweep_values_run_once(tmp_path):
    out = tmp_path / "r.csv"
    r = run("measure", "--model", "poly", "--degree", "3,3", "--n", "16,16", "--trials", "2",
            "--no-progress", "-o", out)
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(out)) == 2
    assert r.output.count("poly a=3, stable") == 1


def test_degree_search_rejects_p_beyond_the_set(tmp_path):
    path = tmp_path / "s.npy"
    np.save(path, np.ones((5, 8), dtype=np.int8))
    r = run("measure", "--model", "poly", "--search", "degree", "--patterns", path, "--p", "50",
            "--no-progress")
    assert r.exit_code == 2 and "only 5 patterns" in r.output


def test_plot_and_fit_refuse_files_without_p_max(tmp_path):
    out = tmp_path / "d.csv"
    assert run("measure", "--model", "poly", "--search", "degree", "--p", "20", "--n", "16",
               "--trials", "2", "--no-progress", "-o", out).exit_code == 0
    header_only = tmp_path / "h.csv"
    header_only.write_text(",".join(COLUMNS) + "\n")
    for csv in (out, header_only):
        for command in ("plot", "fit"):
            r = run(command, csv)
            assert r.exit_code == 2 and "no P_max values" in r.output, (command, csv, r.output)


def test_results_with_malformed_trials_are_rerun_with_a_warning(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("model,n,criterion,trial,p_max\npoly,16,stable,,3\n")
    r = run("measure", "--model", "poly", "--n", "16", "--trials", "1", "--no-progress", "-o", bad)
    assert r.exit_code == 0, r.output
    assert "1 invalid row(s)" in r.output and "line 2, column trial" in r.output
    assert " 16      1 " in r.output  # the trial was measured; the bad row is not counted
    for command in ("plot", "fit"):
        refused = run(command, bad)
        assert refused.exit_code == 2 and f"{bad} line 2, column trial: is blank" in refused.output


def test_unwritable_output_fails_before_the_run(tmp_path):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    r = run("measure", "--model", "poly", "--n", "16", "--trials", "1", "--no-progress", "-o", folder)
    assert r.exit_code == 2 and "is a directory" in r.output
    r = run("gen", "--n", "8", "--p", "3", "-o", folder)
    assert r.exit_code == 2 and "is a directory" in r.output


def test_info_on_npz_with_object_metadata(tmp_path):
    path = tmp_path / "o.npz"
    np.savez(path, patterns=np.ones((2, 4), dtype=np.int8), note=np.array([{"a": 1}], dtype=object))
    r = run("info", path)
    assert r.exit_code == 0 and "not readable without pickle" in r.output


def test_cli_copies_of_library_constants_agree():
    """The family declarations keep their own copies so `hopcap --help` imports no numpy; they must
    not drift from the libraries."""
    import click

    from capacity_cli.cli import measure
    from capacity_cli.criteria import CRITERIA, DEFAULT_MAX_SWEEPS
    from capacity_cli.families import binary, softmax
    from capacity_cli.families.softmax import model as softmax_model
    from capacity_cli.measure import DEFAULT_P_CAP
    from capacity_cli.models import BINARY_MODELS, UPDATE_RULES

    assert binary.MODELS == BINARY_MODELS and binary.CRITERIA == CRITERIA and binary.RULES == UPDATE_RULES
    assert softmax.CRITERIA == softmax_model.CRITERIA
    defaults = {p.name: p.default for p in measure.params if isinstance(p, click.Option)}
    assert defaults["p_max"] == DEFAULT_P_CAP and defaults["max_sweeps"] == DEFAULT_MAX_SWEEPS
