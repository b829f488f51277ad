"""The family seam: one registry; each family's options, CSV columns and read-back agree; the softmax
family runs through measure, CSV, resume, fit and plot; bad combinations end in one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity_cli.cli import main
from capacity_cli.families import all_criteria, all_models, families, family_of
from capacity_cli.measure import configs_from_options
from capacity_cli.options import measure_options
from capacity_cli.results import COLUMN_KINDS, COLUMNS, CONFIG_COLUMNS, load_results


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_registry_declarations_are_consistent():
    names = [f.name for f in families()]
    assert names[:2] == ["binary", "softmax"] and {"rf", "pairwise", "kernel"} <= set(names)
    assert len(all_models()) == len(set(all_models()))
    assert len(all_criteria()) == len(set(all_criteria()))
    options = {o.name for o in measure_options()}
    for family in families():
        assert family.default_criterion in family.criteria
        for column, kind in family.columns.items():
            assert column in CONFIG_COLUMNS and COLUMN_KINDS[column] == kind
        assert {o.name for o in family.options} <= options
        for model in family.models:
            assert family_of(model) is family


@pytest.mark.parametrize("values", [
    dict(model="poly", degree=[3, 30], n=[16], criterion="stable"),
    dict(model="exp", beta=[2.5], n=[12], criterion="retrieve", noise=0.2, max_sweeps=7, rule="field"),
    dict(model="hebbian", n=[32], criterion="overlap", min_overlap=0.8, threshold=0.9),
    dict(model="softmax", beta=["0.5/sqrtN", 2.0], n=[16], criterion="retrieve-eps", eps=0.05, steps=3,
         noise=0.1, kind="sphere"),
    dict(model="softmax", beta=["1/N"], n=[16], criterion="fixed-point", eps=0.02, max_steps=50,
         dtype="float32"),
    dict(model="softmax", beta=[1.0], n=[16], criterion="sign", steps=2, noise=0.25),
])
def test_rows_read_back_into_the_same_model_and_criterion(values):
    """describe and read are inverses through a CSV cell round trip (every family, every criterion)."""
    import csv

    from capacity_cli.results import _csv_line, check_row

    for config in configs_from_options(values):
        row = {**config.columns(), "trial": 0, "p_max": 1}
        cells = next(csv.reader([_csv_line([row.get(c) for c in COLUMNS])]))
        parsed, problems = check_row(COLUMNS, cells, 2)
        assert not problems, problems
        model, criterion = config.family.read(parsed)
        assert (model, criterion) == (config.model, config.criterion)


def test_softmax_measure_csv_resume_fit_and_plot(tmp_path):
    out = tmp_path / "s.csv"
    args = ("measure", "--model", "softmax", "--beta", "1", "--criterion", "retrieve-eps", "--eps", "0.01",
            "--steps", "1", "--kind", "sphere", "--n", "8,12,16", "--trials", "4", "--no-progress", "-o", out)
    first = run(*args)
    assert first.exit_code == 0, first.output
    assert "Theorem 3 bound" in first.output and "softmax beta=1, retrieve-eps" in first.output
    df = pd.read_csv(out)
    assert list(df.columns) == COLUMNS and len(df) == 12
    assert set(df["kind"]) == {"sphere"} and set(df["beta_rule"].astype(str)) == {"1"}
    assert (df["p_max"] >= 1).all() and df["converged"].notna().all()
    again = run(*args)
    assert again.exit_code == 0 and len(pd.read_csv(out)) == 12  # resumed: nothing rerun
    fitted = run("fit", out)
    assert fitted.exit_code == 0 and "exp2" in fitted.output, fitted.output
    drawn = run("plot", out, "-o", tmp_path / "fig")
    assert drawn.exit_code == 0, drawn.output
    assert (tmp_path / "fig.png").stat().st_size > 0


def test_softmax_same_numbers_at_any_thread_count(tmp_path):
    rows = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}.csv"
        r = run("measure", "--model", "softmax", "--beta", "2", "--noise", "0.2", "--n", "10,14",
                "--trials", "3", "--seed", "5", "--threads", threads, "--no-progress", "-o", out)
        assert r.exit_code == 0, r.output
        rows.append(pd.read_csv(out)["p_max"].tolist())
    assert rows[0] == rows[1]


def test_beta_rule_is_one_configuration_across_n(tmp_path):
    out = tmp_path / "a.csv"
    r = run("measure", "--model", "softmax", "--beta", "1/sqrtN", "--n", "16,32", "--trials", "2",
            "--no-progress", "-o", out)
    assert r.exit_code == 0, r.output
    df = load_results(out).rows
    assert sorted(df["beta"]) == [0.17677669529663687] * 2 + [0.25] * 2
    from capacity_cli.plotting import configuration_groups

    assert len(configuration_groups(df)) == 1


@pytest.mark.parametrize("args,message", [
    (["--model", "softmax", "--criterion", "sign", "--kind", "sphere"], "sign needs +-1 patterns"),
    (["--model", "softmax", "--criterion", "retrieve"], "does not apply to --model softmax"),
    (["--model", "softmax", "--criterion", "stable"], "does not apply to --model softmax"),
    (["--model", "poly", "--criterion", "retrieve-eps"], "does not apply to --model poly"),
    (["--model", "softmax", "--eps", "0"], "--eps"),
    (["--model", "softmax", "--eps", "-1"], "--eps"),
    (["--model", "softmax", "--steps", "0"], "--steps"),
    (["--model", "softmax", "--beta", "nan"], "--beta"),
    (["--model", "softmax", "--beta", "inf"], "--beta"),
    (["--model", "softmax", "--beta", "-1/sqrtN"], "--beta"),
    (["--model", "softmax", "--kind", "sphere", "--min-distance", "3"], "--kind sphere"),
    (["--model", "poly", "--kind", "sphere"], "sphere patterns do not apply"),
    (["--model", "poly", "--eps", "0.1"], "--eps does not apply"),
    (["--model", "softmax", "--rule", "field"], "--rule does not apply"),
    (["--model", "exp", "--beta", "1/sqrtN"], "rule in N"),
    # options given explicitly that do not apply are refused, even at their default value
    (["--model", "softmax", "--rule", "energy"], "--rule does not apply"),
    (["--model", "softmax", "--criterion", "fixed-point", "--steps", "3"], "--steps does not apply"),
    (["--model", "softmax", "--criterion", "sign", "--eps", "0.01"], "--eps does not apply"),
    (["--model", "softmax", "--criterion", "retrieve-eps", "--max-steps", "9"], "--max-steps does not"),
    (["--model", "poly", "--criterion", "stable", "--noise", "0.1"], "--noise does not apply"),
    (["--model", "hebbian", "--criterion", "retrieve", "--min-overlap", "0.9"], "--min-overlap does"),
    (["--model", "hebbian", "--dtype", "float64"], "--dtype does not apply"),
])
def test_bad_combinations_are_one_line_errors(args, message):
    r = run("measure", *args, "--n", "8", "--trials", "1", "--no-progress")
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.strip().splitlines() if line.startswith("Error")]
    assert len(lines) == 1 and message in lines[0], r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_gen_and_info_for_sphere_patterns_and_measuring_the_file(tmp_path):
    path = tmp_path / "s.npz"
    r = run("gen", "--kind", "sphere", "--n", "12", "--p", "40", "--seed", "3", "-o", path)
    assert r.exit_code == 0 and "min pairwise angle" in r.output, r.output
    x = np.load(path)["patterns"]
    assert x.dtype == np.float32 and np.allclose(np.linalg.norm(x, axis=1), np.sqrt(12), rtol=1e-6)
    info = run("info", path)
    assert info.exit_code == 0 and "row norms" in info.output and "sphere" in info.output
    measured = run("measure", "--model", "softmax", "--patterns", path, "--no-progress")
    assert measured.exit_code == 0, measured.output
    refused = run("measure", "--model", "poly", "--patterns", path, "--no-progress")
    assert refused.exit_code == 2 and "binary" in refused.output


def test_review_findings(tmp_path):
    """A tiny beta prints no traceback; a real file whose first row is +-1 and a {-1, 0, 1} real file
    are sphere sets; --kind with a given set is refused; sphere rows leave the +-1 generator's columns
    blank (and its options, such as --max-tries, are refused); a beta sweep keeps numbers and rules in
    N apart."""
    tiny = run("measure", "--model", "softmax", "--beta", "1e-260", "--n", "8", "--trials", "1",
               "--p-max", "20", "--no-progress")
    assert tiny.exit_code == 0 and "nan = Theorem 3" in tiny.output, tiny.output
    rng = np.random.default_rng(1)
    mixed = rng.standard_normal((30, 12)).astype(np.float32)
    mixed[0] = 1.0
    np.save(tmp_path / "mixed.npy", mixed)
    ternary = rng.integers(-1, 2, size=(10, 6)).astype(np.float64)
    np.save(tmp_path / "ternary.npy", ternary)
    for name in ("mixed.npy", "ternary.npy"):
        r = run("measure", "--model", "softmax", "--patterns", tmp_path / name, "--noise", "0.1",
                "--p-max", "30", "--no-progress")
        assert r.exit_code == 0, r.output
    assert "--kind does not apply to --patterns" in run("measure", "--model", "softmax", "--patterns",
                                                        tmp_path / "mixed.npy", "--kind", "sphere",
                                                        "--no-progress").output
    out = tmp_path / "s.csv"
    base = ("measure", "--model", "softmax", "--kind", "sphere", "--n", "8", "--trials", "2",
            "--no-progress", "-o", out)
    assert run(*base).exit_code == 0
    refused = run(*base, "--max-tries", "5")  # the +-1 generator's option: sphere rows have no use for it
    assert refused.exit_code == 2 and "--max-tries does not apply to --kind sphere" in refused.output
    df = pd.read_csv(out)
    assert len(df) == 2 and df[["bias", "max_tries", "min_distance"]].isna().all().all()
    sweep = tmp_path / "b.csv"
    assert run("measure", "--model", "softmax", "--beta", "0.5,2/sqrtN", "--n", "16", "--trials", "2",
               "--kind", "sphere", "--no-progress", "-o", sweep).exit_code == 0
    from capacity_cli.plotting import sweep_groups

    groups = sweep_groups(load_results(sweep).rows, "beta")
    assert sorted(len(sub) for _, sub in groups) == [2, 2]
