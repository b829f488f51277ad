"""Hostile input: every command driven with random option values, files and batch tables.

Each example must end in exit status 0 with the command's normal output, or in exit status 2 with
one ``Error: ...`` line (after click's usage lines for a usage error), never a traceback. Values
that would make a valid run are drawn small (N, P, trials, sweeps), so no example runs long; the
hostile values (out of range, NaN/inf, huge, empty, malformed text, odd paths, corrupt files) are
meant to be refused. ``HOPCAP_FUZZ_EXAMPLES=500`` runs more (random) examples than the suite's
fixed, derandomised ones.

Below the fuzz tests: one explicit regression test per case a hostile tester reported.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity_cli.cli import main
from capacity_cli.errors import HopcapError

EXAMPLES = int(os.environ.get("HOPCAP_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=EXAMPLES or 30, deadline=None, derandomize=not EXAMPLES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                database=None)

#: Text no numeric option may accept.
BAD_NUMBERS = ["", " ", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "abc", "1,,2", ",", "0x10",
               "1/2", "--", "\u00e9", "1e-400", str(10**30), str(-(10**30)), "1" * 400]


def number_text(valid: st.SearchStrategy) -> st.SearchStrategy:
    """A cheap valid value (as text) or a hostile one."""
    return st.one_of(valid.map(str), st.sampled_from(BAD_NUMBERS),
                     st.integers(-(10**25), 10**25).map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr))


def lists_of(valid: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(valid, min_size=1, max_size=3).map(lambda v: ",".join(map(str, v))),
                     number_text(valid))


def check(result, allowed_ok: bool = True, header_first: bool = False) -> None:
    """Exit 0, or exit 2 with a single Error line (click's usage lines before it) and no traceback.

    ``header_first``: the command may print its table header before the error (``fit`` validates
    each group as it goes; moving that check up is the plot/fit validation branch's).
    """
    text = result.output
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    if result.exit_code == 0:
        assert allowed_ok, text
        return
    assert result.exit_code == 2, (result.exit_code, text)
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], text
    if not text.startswith("Usage:") and not header_first:
        assert len(lines) == 1, text  # a library error is exactly one line


def invoke(args: list[str]):
    return CliRunner().invoke(main, args, catch_exceptions=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Pattern files and result CSVs, good and corrupt, shared by the examples."""
    d = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    good = rng.choice(np.array([-1, 1], dtype=np.int8), size=(12, 10))
    np.save(d / "good.npy", good)
    np.savez(d / "good.npz", patterns=(good > 0).astype(np.int8), n=10)
    np.save(d / "three_d.npy", np.ones((2, 3, 4)))
    np.save(d / "ternary.npy", np.array([[0, 1, 2], [1, 1, 0]]))
    np.save(d / "nan.npy", np.full((3, 4), np.nan))
    np.save(d / "strings.npy", np.array([["a", "b"], ["c", "d"]]))
    np.save(d / "one_unit.npy", np.ones((3, 1)))
    np.save(d / "empty.npy", np.ones((0, 4)))
    np.savez(d / "no_patterns.npz", other=np.ones(3))
    np.savez(d / "object.npz", patterns=np.ones((2, 4), dtype=np.int8),
             note=np.array([{"a": 1}], dtype=object))
    (d / "garbage.npy").write_bytes(b"\x93NUMPY garbage")
    (d / "garbage.npz").write_bytes(b"PK\x03\x04 not a zip")
    with open(d / "good.npy", "rb") as f:
        (d / "truncated.npy").write_bytes(f.read()[:90])
    (d / "folder").mkdir()
    result = invoke(["measure", "--model", "poly", "--degree", "2", "--n", "12,16,24", "--trials", "3",
                     "--p-max", "200", "--no-progress", "-o", str(d / "good.csv")])
    assert result.exit_code == 0, result.output
    csv = (d / "good.csv").read_text()
    (d / "truncated.csv").write_text(csv[: len(csv) // 2])
    (d / "header.csv").write_text(csv.splitlines()[0] + "\n")
    (d / "garbage.csv").write_bytes(b"\x00\xff\xfe,,,\n\"unclosed")
    (d / "empty.csv").write_text("")
    (d / "other.csv").write_text("a,b\n1,2\n")
    df = pd.read_csv(d / "good.csv")
    df.assign(p_max="many").to_csv(d / "text_pmax.csv", index=False)
    df.assign(n=np.nan).to_csv(d / "nan_n.csv", index=False)
    df.assign(trial=1.5).to_csv(d / "fraction_trial.csv", index=False)
    return d


PATTERN_FILES = ["good.npy", "good.npz", "three_d.npy", "ternary.npy", "nan.npy", "strings.npy",
                 "one_unit.npy", "empty.npy", "no_patterns.npz", "object.npz", "garbage.npy",
                 "garbage.npz", "truncated.npy", "folder", "missing.npy", ""]
#: Result files that every command must read or refuse in one line on this branch.
CSV_FILES = ["good.csv", "header.csv", "empty.csv", "other.csv", "garbage.csv", "folder",
             "missing.csv", "fraction_trial.csv", "truncated.csv"]
#: Results files with invalid rows, and the column of their first problem (on line 2): fit and plot
#: must refuse each in one line naming the file, the line and the column (results.read_checked).
CSV_FILES_INVALID_ROWS = {"text_pmax.csv": "p_max", "nan_n.csv": "n", "fraction_trial.csv": "trial"}

MEASURE_VALUES = {
    "--model": st.sampled_from(["hebbian", "poly", "rectpoly", "exp", "POLY", "", "x"]),
    "--degree": lists_of(st.integers(-2, 6)),
    "--beta": lists_of(st.floats(-1, 3)),
    "--criterion": st.sampled_from(["stable", "retrieve", "overlap", "bogus"]),
    "--noise": number_text(st.floats(-0.1, 0.6)),
    "--min-overlap": number_text(st.floats(-1.5, 1.5)),
    "--threshold": number_text(st.floats(-0.1, 1.1)),
    "--max-sweeps": number_text(st.integers(-1, 20)),
    "--n": lists_of(st.integers(-1, 24)),
    "--trials": number_text(st.integers(-1, 2)),
    "--p-max": number_text(st.integers(-1, 64)),
    "--search": st.sampled_from(["p", "degree", "q"]),
    "--p": number_text(st.integers(-1, 24)),
    "--max-degree": number_text(st.integers(0, 6)),
    "--bias": number_text(st.floats(-0.1, 1.1)),
    "--correlation": lists_of(st.floats(-0.1, 1.1)),
    "--min-distance": lists_of(st.integers(-1, 8)),
    "--max-tries": number_text(st.integers(-1, 50)),
    "--seed": number_text(st.integers(-1, 10**40)),
    "--threads": number_text(st.integers(-1, 3)),
}


@FUZZ
@given(data=st.data())
def test_fuzz_measure(files, data):
    args = ["measure", "--no-progress"]
    chosen = data.draw(st.lists(st.sampled_from(sorted(MEASURE_VALUES)), unique=True, max_size=8))
    for flag in ["--model", *chosen]:
        args += [flag, data.draw(MEASURE_VALUES[flag])]
    if "--p-max" not in chosen:
        args += ["--p-max", "64"]  # keep valid runs small
    if "--n" not in chosen:
        args += ["--n", "12"]
    if "--trials" not in chosen:
        args += ["--trials", "1"]
    source = data.draw(st.sampled_from([None, None, None, "patterns", "dataset"]))
    if source == "patterns":
        args += ["--patterns", str(files / data.draw(st.sampled_from(PATTERN_FILES)))]
    elif source == "dataset":
        args += ["--dataset", data.draw(st.sampled_from(["digits", "mnist"]))]
    output = data.draw(st.sampled_from([None, "out.csv", "folder", "garbage.csv", "no/such/dir/o.csv"]))
    if output:
        args += ["-o", str(files / output)]
    check(invoke(args))


@FUZZ
@given(data=st.data())
def test_fuzz_gen_and_info(files, data):
    args = ["gen"]
    values = {"--n": number_text(st.integers(-1, 64)), "--p": number_text(st.integers(-1, 64)),
              "--bias": MEASURE_VALUES["--bias"], "--correlation": number_text(st.floats(-0.1, 1.1)),
              "--min-distance": number_text(st.integers(-1, 8)),
              "--max-tries": MEASURE_VALUES["--max-tries"], "--seed": MEASURE_VALUES["--seed"]}
    for flag in data.draw(st.lists(st.sampled_from(sorted(values)), unique=True)):
        args += [flag, data.draw(values[flag])]
    if data.draw(st.booleans()):
        args += ["--dataset", data.draw(st.sampled_from(["digits", "nope"]))]
    name = data.draw(st.sampled_from(["set.npz", "set.npy", "set.txt", "folder", "no/dir/x.npz", ""]))
    args += ["-o", str(files / name) if name else ""]
    check(invoke(args))
    target = data.draw(st.sampled_from([name, *PATTERN_FILES]))
    check(invoke(["info", str(files / target)]))


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_fuzz_fit_and_plot(files, data):
    csvs = data.draw(st.lists(st.sampled_from(CSV_FILES), min_size=1, max_size=2))
    paths = [str(files / c) for c in csvs]
    form = data.draw(st.sampled_from(["auto", "power", "power_ln", "exp2", "linear", "alpha_inv_n",
                                      "cubic", ""]))
    check(invoke(["fit", *paths, "--form", form]), header_first=True)
    title = data.draw(st.sampled_from([None, "", "t\u00e9st", "$x^2$", "%s", "$\\foo$", "$x^", "a\nb"]))
    out = data.draw(st.sampled_from(["fig", "folder", "no/dir/fig"]))
    args = ["plot", *paths, "-o", str(files / out)] + (["--title", title] if title is not None else [])
    check(invoke(args))


@pytest.mark.parametrize("name", CSV_FILES_INVALID_ROWS)
def test_fit_and_plot_refuse_broken_results(files, name):
    """Exit 2 and exactly one line, ``Error: FILE line 2, column C: ...``; never a fit or a figure
    of the rows that remain."""
    path = files / name
    for command in (["fit"], ["plot", "-o", str(files / "refused")]):
        result = invoke([*command, str(path)])
        check(result, allowed_ok=False)
        assert result.output.startswith(f"Error: {path} line 2, column {CSV_FILES_INVALID_ROWS[name]}: "), \
            result.output
    assert not list(files.glob("refused*"))


BATCH_HEADER = "study,model,n,trials,p_max"
CELLS = ["", " ", "nan", "inf", "-1", "0", "1.5", "1e400", str(10**30), "abc", "16 x", "8 12",
         "1,2", "true", "digits"]


@FUZZ
@given(data=st.data())
def test_fuzz_batch_tables(files, data, tmp_path_factory):
    """Any cell of any option column: configurations, or one HopcapError naming file, row, column."""
    from capacity_cli.options import MEASURE_OPTIONS
    from capacity_cli.reproduce import batch_configs, read_batch

    columns = data.draw(st.lists(st.sampled_from([o.name for o in MEASURE_OPTIONS] + ["sizes"]),
                                 unique=True, max_size=4))
    columns = [c for c in columns if c not in BATCH_HEADER.split(",")]
    cells = [data.draw(st.sampled_from(CELLS)) for _ in columns]
    path = tmp_path_factory.mktemp("batch") / "b.csv"
    path.write_text(f"{BATCH_HEADER}{''.join(',' + c for c in columns)}\n"
                    f"s,poly,12,1,64{''.join(',' + c for c in cells)}\n")
    try:
        configs = batch_configs(read_batch(path))
    except HopcapError as err:
        message = str(err)
        assert "\n" not in message and message.startswith(str(path)), message
        return
    assert configs and all(study == "s" for study, _ in configs)


# Regression tests: one per reported case.

def one_line_error(*args) -> str:
    result = invoke([str(a) for a in args])
    check(result, allowed_ok=False)
    return result.output


def test_n_beyond_any_memory_is_refused_at_parse_time():
    assert "'--n'" in one_line_error("measure", "--model", "poly", "--n", 10**20)


def test_large_n_is_refused_quickly_with_the_memory_it_needs():
    start = time.perf_counter()
    out = one_line_error("measure", "--model", "poly", "--n", 2**24, "--no-progress")
    assert time.perf_counter() - start < 10
    assert "needs about" in out and "memory" in out and "--n" in out


def test_huge_sweep_cap_is_refused():
    assert "'--max-sweeps'" in one_line_error("measure", "--model", "exp", "--criterion", "retrieve",
                                              "--max-sweeps", 10**30)


def test_huge_trial_count_is_refused_before_any_work():
    assert "'--trials'" in one_line_error("measure", "--model", "poly", "--trials", 10**20)


def test_threshold_that_one_success_meets_is_refused():
    out = one_line_error("measure", "--model", "poly", "--threshold", "1e-300")
    assert "--threshold" in out and "single" in out


def test_min_overlap_minus_one_is_refused():
    out = one_line_error("measure", "--model", "hebbian", "--criterion", "overlap", "--min-overlap", -1)
    assert "--min-overlap" in out and "every" in out


@pytest.mark.parametrize("flag", ["--noise", "--min-overlap", "--threshold", "--bias", "--beta",
                                  "--correlation"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_floats_are_refused(flag, value):
    out = one_line_error("measure", "--model", "exp", "--criterion", "overlap", flag, value)
    assert f"'{flag}'" in out


def test_huge_seed_is_exact(tmp_path):
    out = tmp_path / "r.csv"
    seed = 10**30 + 1
    result = invoke(["measure", "--model", "poly", "--n", "12", "--trials", "1", "--seed", str(seed),
                     "--no-progress", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert str(seed) in out.read_text()


def test_library_checks_apply_to_batch_tables(tmp_path):
    from capacity_cli.reproduce import batch_configs, read_batch

    path = tmp_path / "b.csv"
    for row, message in [("s,poly,16,1e-300", r"row 1 \(line 2\): --threshold"),
                         ("s,poly,16 x,1", r"row 1 \(line 2\), column .n."),
                         ("s,poly,99999999999,1", r"row 1 \(line 2\), column 'n'")]:
        path.write_text(f"study,model,n,threshold\n{row}\n")
        with pytest.raises(HopcapError, match=message):
            batch_configs(read_batch(path))
    path.write_text("study,model,sizes\ns,poly,16\n")
    with pytest.raises(HopcapError, match="column 'sizes' is not an option"):
        read_batch(path)
    path.write_text("study,model,threads\ns,poly,2\n")
    with pytest.raises(HopcapError, match="option of one run"):
        read_batch(path)


def test_batch_tables_take_every_configuration_option(tmp_path):
    """A row with every option the CLI has gives the configurations the same command line gives (the
    options that do not apply to poly under --search p, such as beta, p and max_degree, blank)."""
    from capacity_cli.cli import measure
    from capacity_cli.measure import configs_from_options
    from capacity_cli.options import MEASURE_OPTIONS
    from capacity_cli.reproduce import batch_configs, read_batch

    cells = {"model": "poly", "degree": "2 3", "beta": "", "criterion": "overlap", "noise": "0.05",
             "min_overlap": "0.9", "threshold": "0.9", "max_sweeps": "7", "n": "16 24", "trials": "3",
             "p_max": "500", "search": "p", "p": "", "max_degree": "", "bias": "0.4",
             "correlation": "0 0.3", "min_distance": "0 2", "max_tries": "77", "patterns": "",
             "dataset": "", "shuffle": "", "seed": "12345678901234567890123", "rule": "field",
             "kind": "pm1", "eps": "", "steps": "", "max_steps": "", "dtype": ""}
    cells.update({"features": "", "feature_kind": "", "features_seed": ""})  # the rf family's, blank
    cells.update({"margin": "", "max_epochs": "", "unlearn": "", "unlearn_eps": "", "forget_eps": ""})
    cells["code"] = ""
    cells.update({"feature_map": "", "tau": "", "learn_steps": "", "save_map": "", "compare": ""})
    cells.update({"update": "sequential", "temperature": "", "sweeps": ""})  # theory.md 15
    assert set(cells) == {o.name for o in MEASURE_OPTIONS if o.batch}
    path = tmp_path / "b.csv"
    path.write_text("study," + ",".join(cells) + "\ns," + ",".join(cells.values()) + "\n")
    from_table = [c for _, c in batch_configs(read_batch(path))]
    args = [arg for name, cell in cells.items() if cell
            for arg in (f"--{name.replace('_', '-')}", ",".join(cell.split()))]
    parsed = measure.make_context("measure", args).params  # what the command line parses
    batch_names = {o.name for o in MEASURE_OPTIONS if o.batch}
    from_cli = configs_from_options({k: v for k, v in parsed.items() if k in batch_names})
    assert from_table == from_cli
    assert len(from_table) == 2 * 2 * 2 * 2
    first = from_table[0]
    assert first.spec.max_tries == 77 and first.criterion.max_sweeps == 7 and first.p_cap == 500
    assert first.model.rule == "field" and first.criterion.update == "sequential"


def test_degree_beyond_the_cap_is_refused():
    """Degrees up to 1000 are decided exactly at any N (tests/test_exact.py); beyond, a clear error."""
    assert "'--degree'" in one_line_error("measure", "--model", "poly", "--degree", 1001)
    assert "'--degree'" in one_line_error("measure", "--model", "poly", "--degree", 10**21)
