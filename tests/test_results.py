"""Result files that cannot silently lie: concurrent appends, shared trials, validated reading,
exact resume keys, repairs, and old files that still resume."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacity_cli import measure as measure_module
from capacity_cli.cli import main
from capacity_cli.criteria import Retrieve, Stable
from capacity_cli.datasets import PatternSpec
from capacity_cli.measure import MeasureConfig, run_measurements
from capacity_cli.models import BinaryDAM
from capacity_cli.results import (
    COLUMNS,
    SharedResults,
    append_rows,
    completed_trials,
    config_key,
    load_results,
    repair_results,
)

ROOT = Path(__file__).resolve().parent.parent
FORK = mp.get_context("fork")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def poly_config(trials: int = 6, **options) -> MeasureConfig:
    spec_options = {k: options.pop(k) for k in ("max_tries", "min_distance") if k in options}
    return MeasureConfig(BinaryDAM("poly", degree=3), Stable(), spec=PatternSpec(16, **spec_options),
                         trials=trials, **options)


# ------------------------------------------------------------------------------- concurrent writers


def _append_worker(path: str, worker: int, rows: int, batch: int) -> None:
    for start in range(0, rows, batch):
        append_rows(path, [{"model": "poly", "degree": 3, "n": 16, "criterion": "stable", "search": "p",
                            "seed": worker, "trial": t, "p_max": t % 50}
                           for t in range(start, min(start + batch, rows))])


def test_concurrent_appends_keep_every_row(tmp_path):
    path = str(tmp_path / "r.csv")
    workers = [FORK.Process(target=_append_worker, args=(path, w, 3000, 25)) for w in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    result = load_results(path)
    assert not result.problems and result.duplicates == 0
    assert len(result.records) == 9000
    assert len(pd.read_csv(path)) == 9000
    assert {(r["seed"], r["trial"]) for r in result.records} == \
        {(w, t) for w in range(3) for t in range(3000)}


def _measure_worker(path: str, barrier, counts) -> None:
    real = measure_module.run_trial

    def slow(config, trial):
        time.sleep(0.05)
        return real(config, trial)

    measure_module.run_trial = slow
    barrier.wait()
    counts.put(len(run_measurements([poly_config(trials=12)], output=path, progress=False)))


def test_same_configuration_in_two_processes_shares_the_trials(tmp_path):
    path = str(tmp_path / "r.csv")
    barrier, counts = FORK.Barrier(2), FORK.Queue()
    workers = [FORK.Process(target=_measure_worker, args=(path, barrier, counts)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    assert counts.get() + counts.get() == 12  # each trial measured once, by one of the two
    df = pd.read_csv(path)
    assert sorted(df["trial"]) == list(range(12))
    assert not (tmp_path / ".r.csv.claims").exists()  # every claim was dropped


def test_claims_of_dead_processes_are_ignored(tmp_path):
    path = tmp_path / "r.csv"
    config = poly_config(trials=3)
    key = config_key(config.columns())
    dead = FORK.Process(target=lambda: None)
    dead.start()
    dead.join()
    claims = tmp_path / ".r.csv.claims"
    shared = SharedResults(path)
    import json
    import socket

    claims.write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid, "key": list(key),
                                  "trial": 0}) + "\n")
    assert shared.claim_next(key, 3) == 0
    shared.release(key, 0)
    rows = run_measurements([config], output=str(path), progress=False)
    assert [r["trial"] for r in rows] == [0, 1, 2]


def test_trials_are_taken_lazily(tmp_path, monkeypatch):
    """10^12 trials (the most --trials allows): nothing builds a list of them; an interruption keeps
    the finished rows."""
    real, calls = measure_module.run_trial, {"n": 0}

    def stop_after_three(config, trial):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(config, trial)

    monkeypatch.setattr(measure_module, "run_trial", stop_after_three)
    path = tmp_path / "r.csv"
    with pytest.raises(KeyboardInterrupt):
        run_measurements([poly_config(trials=10**12)], output=str(path), progress=False)
    assert sorted(pd.read_csv(path)["trial"]) == [0, 1, 2]
    assert not (tmp_path / ".r.csv.claims").exists()  # the interrupted trial was given back
    key = config_key(poly_config(trials=10**12).columns())
    assert list(itertools.islice(SharedResults(path).pending(key, 10**12), 1)) == [3]


# ------------------------------------------------------------------------------ appends and schema


def test_truncated_last_line_is_not_glued_to_the_next_row(tmp_path):
    path = tmp_path / "r.csv"
    run_measurements([poly_config(trials=2)], output=str(path), progress=False)
    text = path.read_text()
    path.write_text(text[:-20])  # the last row cut mid-line, no newline
    append_rows(path, run_measurements([poly_config(trials=1, seed=5)], progress=False))
    result = load_results(path)
    assert [p[:2] for p in result.problems] == [(3, "*")]
    assert len(result.records) == 2  # trial 0 and the appended row
    assert path.read_text().endswith("\n")


def test_rows_follow_the_files_own_column_order(tmp_path):
    path = tmp_path / "r.csv"
    rows = run_measurements([poly_config(trials=2)], progress=False)
    pd.DataFrame(rows[:1], columns=COLUMNS[::-1]).to_csv(path, index=False)
    append_rows(path, rows[1:])
    df = pd.read_csv(path)
    assert list(df.columns) == COLUMNS[::-1]
    assert list(df["trial"]) == [0, 1] and list(df["p_max"]) == [r["p_max"] for r in rows]


def test_dynamics_diagnostics_columns(tmp_path):
    path = tmp_path / "r.csv"
    dynamics = MeasureConfig(BinaryDAM("exp"), Retrieve(noise=0.1), spec=PatternSpec(10), trials=2)
    run_measurements([dynamics, poly_config(trials=2)], output=str(path), progress=False)
    df = pd.read_csv(path)
    retrieve, stable = df[df["criterion"] == "retrieve"], df[df["criterion"] == "stable"]
    assert retrieve["converged"].notna().all() and (retrieve["sweeps"] >= 1).all()
    assert stable["converged"].isna().all() and stable["sweeps"].isna().all()


# ------------------------------------------------------------------------------------ bad rows


def _cut_p_max(lines: list[str]) -> list[str]:
    """The last line truncated inside p_max (31 becomes 3)."""
    cells = lines[-1].split(",")
    at = COLUMNS.index("p_max")
    cells[at] = "31"
    lines[-1] = ",".join(cells)
    return lines[:-1] + [lines[-1][:len(",".join(cells[:at])) + 2]]


def _set(column: str, value: str):
    def mutate(lines: list[str]) -> list[str]:
        cells = lines[4].split(",")
        cells[COLUMNS.index(column)] = value
        lines[4] = ",".join(cells)
        return lines
    return mutate


CORRUPTIONS = [
    # (mutation of the lines, line number of the bad row, its column, its trial)
    (_cut_p_max, 7, "*", 5),
    (lambda lines: lines[:-1] + [lines[-1][:25]], 7, "*", 5),
    (_set("p_max", ""), 5, "p_max", 3),
    (_set("p_max", "nan"), 5, "p_max", 3),
    (_set("p_max", "-5"), 5, "p_max", 3),
    (_set("p_max", "inf"), 5, "p_max", 3),
    (_set("p_max", "abc"), 5, "p_max", 3),
    (_set("trial", "1.5"), 5, "trial", 3),
    (_set("n", "0"), 5, "n", 3),
]


@pytest.mark.parametrize("mutate, line, column, trial", CORRUPTIONS)
def test_invalid_rows_are_rerun_refused_and_repaired(tmp_path, mutate, line, column, trial):
    path = tmp_path / "r.csv"
    config = poly_config(trials=6)
    run_measurements([config], output=str(path), progress=False)
    lines = path.read_text().splitlines()
    bad = mutate(lines)
    path.write_text("\n".join(bad) + ("\n" if column != "*" else ""))
    result = load_results(path)
    assert result.problems[0][:2] == (line, column) and len(result.records) == 5
    assert trial not in completed_trials(path)[config_key(config.columns())]
    for command in ("fit", "plot"):
        refused = run(command, path)
        assert refused.exit_code == 2 and "Traceback" not in refused.output
        assert refused.output.startswith(f"Error: {path} line {line}, column {column}:"), refused.output
    # resume reruns exactly the bad trial, and the summary counts six trials
    resumed = run("measure", "--model", "poly", "--degree", "3", "--n", "16", "--trials", "6",
                  "--no-progress", "-o", path)
    assert resumed.exit_code == 0, resumed.output
    assert f"1 invalid row(s) not counted (first: line {line}, column {column}" in resumed.output
    assert " 16      6 " in resumed.output
    assert len(load_results(path).records) == 6
    repaired = run("measure", "--model", "poly", "--degree", "3", "--n", "16", "--trials", "6",
                   "--no-progress", "--repair", "-o", path)
    assert "dropped 1 invalid and 0 duplicated rows" in repaired.output
    clean = load_results(path)
    assert not clean.problems and sorted(r["trial"] for r in clean.records) == list(range(6))
    assert run("fit", path).exit_code == 0


def test_duplicated_rows_count_once(tmp_path):
    path = tmp_path / "r.csv"
    run("measure", "--model", "poly", "--degree", "3", "--n", "16,24", "--trials", "3", "--no-progress",
        "-o", path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + lines[1:3]) + "\n")
    assert load_results(path).duplicates == 2
    again = run("measure", "--model", "poly", "--degree", "3", "--n", "16,24", "--trials", "3",
                "--no-progress", "-o", path)
    assert again.exit_code == 0 and "2 duplicated trial(s) counted once" in again.output
    assert again.output.count("      3 ") == 2  # three trials per N in the summary, not four
    fitted = run("fit", path)
    assert fitted.exit_code == 0 and "duplicated" in fitted.output
    assert repair_results(path) == (0, 2)
    assert len(pd.read_csv(path)) == 6


def test_header_without_hopcap_columns_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n")
    r = run("fit", path)
    assert r.exit_code == 2 and "not a hopcap results file" in r.output


# ------------------------------------------------------------------------------- the resume key


def test_huge_seeds_are_compared_exactly(tmp_path):
    path = tmp_path / "r.csv"
    a, b = poly_config(trials=2, seed=2**60), poly_config(trials=2, seed=2**60 + 1)
    assert config_key(a.columns()) != config_key(b.columns())
    assert len(run_measurements([a], output=str(path), progress=False)) == 2
    assert len(run_measurements([b], output=str(path), progress=False)) == 2
    assert len(run_measurements([a, b], output=str(path), progress=False)) == 0
    assert {r["seed"] for r in load_results(path).records} == {2**60, 2**60 + 1}


@pytest.mark.parametrize("option", [
    ("--max-tries", "500", "--min-distance", "1"), ("--max-sweeps", "20"), ("--p-max", "50"),
    ("--search", "degree", "--p", "4"),
    ("--seed", str(2**64 + 1)),
])
def test_every_option_that_changes_a_result_reruns(tmp_path, option):
    path = tmp_path / "r.csv"
    base = ("measure", "--model", "poly", "--criterion", "retrieve", "--n", "12", "--trials", "2",
            "--no-progress", "-o", path)  # (degree 3; --degree and --p would not apply to both searches)
    assert run(*base).exit_code == 0
    assert len(pd.read_csv(path)) == 2
    assert run(*base).exit_code == 0 and len(pd.read_csv(path)) == 2  # same options: nothing reruns
    changed = run(*base, *option)
    assert changed.exit_code == 0, changed.output
    assert len(pd.read_csv(path)) == 4


def test_committed_results_resume_with_zero_reruns():
    """Every trial of every configuration of every shipped batch (configs/*.csv) is in
    results/<profile>/, so rerunning a profile reruns nothing: a batch table whose rows no longer
    make the configurations results/ was measured with fails here. structured.csv measures the
    digits, which need scikit-learn: it is in the test extra, so its absence, like any other error,
    fails here."""
    from capacity_cli.reproduce import CONFIG_DIR, batch_configs, batch_profiles, read_batch

    profiles = batch_profiles()
    assert {"quick", "full", "structured"} <= set(profiles)
    for profile in profiles:
        configs = batch_configs(read_batch(CONFIG_DIR / f"{profile}.csv"))
        assert configs, profile
        for study in {s for s, _ in configs}:
            done = completed_trials(ROOT / "results" / profile / f"{study}.csv")
            for s, config in configs:
                if s == study:
                    got = done.get(config_key(config.columns()), set())
                    assert set(range(config.trials)) <= got, (study, config.n)


def test_old_file_is_migrated_once_and_still_resumes(tmp_path):
    old = ROOT / "results" / "quick" / "poly.csv"
    path = tmp_path / "poly.csv"
    shutil.copy(old, path)
    before = completed_trials(path)
    config = MeasureConfig(BinaryDAM("poly", degree=2), Stable(), spec=PatternSpec(32), trials=21)
    rows = run_measurements([config], output=str(path), progress=False)
    assert [r["trial"] for r in rows] == [20]  # the committed 20 trials are not rerun
    df = pd.read_csv(path)
    assert set(COLUMNS) <= set(df.columns) and len(df) == len(pd.read_csv(old)) + 1
    assert (df.loc[df["patterns"].isna(), "max_tries"] == 10_000).all()
    after = completed_trials(path)
    key = config_key(config.columns())
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}


def test_fit_and_plot_take_degenerate_but_valid_data(tmp_path):
    """One N only, or every P_max zero: no fit line, no traceback."""
    one = tmp_path / "one.csv"
    run_measurements([poly_config(trials=3)], output=str(one), progress=False)
    zero = tmp_path / "zero.csv"
    rows = run_measurements([poly_config(trials=2), MeasureConfig(
        BinaryDAM("poly", degree=3), Stable(), spec=PatternSpec(24), trials=2)], progress=False)
    append_rows(zero, [{**r, "p_max": 0} for r in rows])
    for path in (one, zero):
        fitted = run("fit", path)
        assert fitted.exit_code == 0 and "needs two N" in fitted.output, fitted.output
        drawn = run("plot", path, "-o", tmp_path / path.stem)
        assert drawn.exit_code == 0, drawn.output


def test_repair_needs_an_output_file():
    r = run("measure", "--model", "poly", "--n", "16", "--trials", "1", "--repair", "--no-progress")
    assert r.exit_code == 2 and "--repair needs -o FILE" in r.output


def test_every_column_has_a_kind():
    """A new column without an entry in COLUMN_KINDS would compare as text ("3" != "3.0")."""
    from capacity_cli.results import COLUMN_KINDS, LEGACY_VALUES, LOWER_BOUNDS

    assert set(COLUMNS) == set(COLUMN_KINDS) and len(COLUMNS) == len(set(COLUMNS))
    assert set(COLUMN_KINDS.values()) <= {"int", "float", "bool", "text"}
    assert set(LOWER_BOUNDS) <= set(COLUMNS) and set(LEGACY_VALUES) <= set(COLUMNS)
