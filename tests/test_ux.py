"""What a new user meets first (issue 14): start-up imports, progress without a terminal, fit on a
results folder, the alpha rows of a summary, labels, theory only where it applies, many-group plots,
the estimate printed before a batch."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from capacity_cli.cli import main
from capacity_cli.measure import PlainProgress, WorkLeft, format_left
from capacity_cli.reproduce import batch_configs, estimate_batch, read_batch, run_batch
from capacity_cli.results import load_results, read_checked
from capacity_cli.timing import TimingTable

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "matplotlib", "sklearn", "galois", "tqdm", "scipy.optimize", "scipy.stats")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def imported_by(args: list[str]) -> list[str]:
    """The HEAVY modules a hopcap command leaves in sys.modules, run in a fresh interpreter."""
    code = ("import sys, json\nfrom capacity_cli.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps([m for m in {HEAVY + ('numba', 'numpy')!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_neither_numba_nor_numpy_nor_any_heavy_library():
    assert imported_by(["--help"]) == []


def test_one_trial_measure_imports_only_what_it_uses():
    found = imported_by(["measure", "--model", "hebbian", "--n", "32", "--trials", "1", "--no-progress"])
    assert "numba" in found  # the kernels (the check would pass vacuously if the run had failed)
    assert [m for m in found if m not in ("numba", "numpy")] == []


def test_plain_progress_prints_a_line_per_configuration_with_the_rate():
    out = io.StringIO()
    with PlainProgress(3, interval_s=1e9, stream=out, quiet_s=0) as bar:
        bar.set_description("hebbian stable N=16")
        bar.update()
        bar.update()
        bar.set_description("hebbian stable N=32")
        bar.update()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[2/3 trials, ") and "trial/s" in lines[0]
    assert lines[0].endswith("hebbian stable N=16: done (2 trials)")
    assert lines[1].startswith("[3/3 trials, ") and lines[1].endswith("N=32: done (1 trials)")


def test_plain_progress_is_silent_for_short_runs_and_reports_long_configurations():
    quiet = io.StringIO()
    with PlainProgress(2, stream=quiet) as bar:  # default quiet_s: a run of milliseconds says nothing
        bar.set_description("x")
        bar.update(2)
    assert quiet.getvalue() == ""
    out = io.StringIO()
    with PlainProgress(5, interval_s=0, stream=out, quiet_s=0) as bar:
        bar.set_description("long")
        bar.update()
    assert "long: running (1 trials)" in out.getvalue() and "about" in out.getvalue()


def test_measure_without_a_terminal_reports_progress_on_stderr(tmp_path, monkeypatch):
    monkeypatch.setattr(PlainProgress.__init__, "__defaults__", (30.0, None, 0.0))
    result = CliRunner().invoke(main, ["measure", "--model", "hebbian", "--n", "16,20", "--trials", "2"])
    assert result.exit_code == 0, result.output
    assert "N=16: done (2 trials)" in result.stderr and "[4/4 trials" in result.stderr
    assert "no-progress" not in result.stderr
    quiet = CliRunner().invoke(main, ["measure", "--model", "hebbian", "--n", "16", "--trials", "2",
                                      "--no-progress"])
    assert quiet.stderr == ""


def _results(tmp_path, *args) -> Path:
    path = tmp_path / "r.csv"
    result = run("measure", *args, "-o", path, "--no-progress")
    assert result.exit_code == 0, result.output
    return path


def test_fit_skips_files_that_are_not_results_with_a_note(tmp_path):
    path = _results(tmp_path, "--model", "poly", "--degree", "3", "--n", "12,16", "--trials", "2")
    summary = tmp_path / "summary.csv"
    summary.write_text("study,configuration,quantity\nx,y,z\n")
    result = run("fit", path, summary)
    assert result.exit_code == 0
    assert f"note: skipped {summary}: not a hopcap results file" in result.output
    assert "poly a=3, stable" in result.output
    df, notes = read_checked([path, summary], skip_foreign=True)
    assert len(df) == 4 and len(notes) == 1
    alone = run("fit", summary)  # nothing left: an error, not an empty table
    assert alone.exit_code == 2 and "not a hopcap results file" in alone.output


def test_fit_reproduces_the_alpha_rows_of_a_summary(tmp_path):
    batch = tmp_path / "alpha.csv"
    batch.write_text("study,model,criterion,min_overlap,threshold,n,trials\n"
                     "hebbian,hebbian,overlap,0.95,0.9,24 32 40,3\n")
    summary = run_batch("alpha", tmp_path, progress=False, batch=batch)
    (row,) = [r for r in summary if r.quantity.startswith("alpha")]
    result = run("fit", tmp_path / "alpha" / "hebbian.csv", tmp_path / "alpha" / "summary.csv",
                 "--form", "alpha_inv_n", "--intercept")
    assert result.exit_code == 0, result.output
    assert f"{row.measured:.4f}" in result.output
    assert f"[{row.ci_low:.4f}, {row.ci_high:.4f}]" in result.output
    assert "intercept" in result.output.splitlines()[1]


def test_measure_rows_name_threshold_overlap_and_noise():
    overlap = run("measure", "--model", "hebbian", "--criterion", "overlap", "--threshold", "0.9",
                  "--min-overlap", "0.8", "--n", "24", "--trials", "2", "--no-progress")
    assert "hebbian, overlap, m>=0.8, q=0.9" in overlap.output
    retrieve = run("measure", "--model", "exp", "--criterion", "retrieve", "--noise", "0.1",
                   "--n", "10", "--trials", "2", "--no-progress")
    assert "exp beta=1, retrieve, rho=0.1" in retrieve.output


def test_one_trial_and_one_set_print_no_nan(tmp_path):
    one = run("measure", "--model", "hebbian", "--n", "24", "--trials", "1", "--no-progress")
    assert one.exit_code == 0 and "nan" not in one.output
    patterns = tmp_path / "set.npz"
    assert run("gen", "--n", "16", "--p", "6", "-o", patterns).exit_code == 0
    degree = run("measure", "--model", "poly", "--search", "degree", "--patterns", patterns,
                 "--trials", "1", "--no-progress")
    assert degree.exit_code == 0, degree.output
    assert "nan" not in degree.output


def test_theory_is_printed_only_for_iid_unbiased_patterns(tmp_path):
    iid = run("measure", "--model", "poly", "--degree", "3", "--n", "16", "--trials", "2", "--no-progress")
    assert "N^2 / (18 ln N)" in iid.output
    patterns = tmp_path / "set.npz"
    assert run("gen", "--n", "16", "--p", "40", "-o", patterns).exit_code == 0
    for args in (["--patterns", patterns], ["--n", "16", "--bias", "0.3"],
                 ["--n", "16", "--correlation", "0.5"], ["--n", "16", "--min-distance", "4"]):
        result = run("measure", "--model", "poly", "--degree", "3", *args, "--trials", "2",
                     "--no-progress")
        assert result.exit_code == 0, result.output
        assert "ln N" not in result.output and "laws are for i.i.d. unbiased patterns" in result.output


def test_gen_help_makes_no_claim_about_lists():
    result = run("gen", "--help")
    assert result.exit_code == 0
    assert "list" not in result.output.lower() and "sweep" not in result.output.lower()
    assert run("gen", "--n", "10,20", "--p", "3", "-o", "x.npz").exit_code == 2


def test_many_groups_are_faceted_with_labels_that_name_what_differs():
    from capacity_cli.plotting import MAX_PER_PANEL, capacity_panels, configuration_groups, group_label

    df, _ = read_checked([REPO / "results" / "structured" / "structured.csv"])
    groups = configuration_groups(df)
    assert len(groups) > 3 * MAX_PER_PANEL
    assert len({group_label(key) for key, _ in groups}) == len(groups)  # digits != bias 0.29 i.i.d.
    panels = capacity_panels(groups)
    assert sum(len(members) for _, _, members in panels) == len(groups)
    named = set()
    for _, heading, members in panels:
        assert 1 <= len(members) <= MAX_PER_PANEL
        labels = [label for _, _, label in members]
        assert len(set(labels)) == len(labels)
        named.add((heading, tuple(labels)))
    assert len(named) == len(panels)
    few = groups[:MAX_PER_PANEL]  # a figure with few configurations keeps one panel, full labels
    (only,) = capacity_panels(few)
    assert only[1] == "" and [label for _, _, label in only[2]] == [group_label(k) for k, _ in few]


def test_a_law_shared_by_poly_and_rectpoly_is_drawn_once_and_names_both():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from capacity_cli.plotting import _draw_group, _name_shared_laws, configuration_groups

    df, _ = read_checked([REPO / "results" / "quick" / "poly.csv"])
    mine = [(k, s) for k, s in configuration_groups(df) if int(k["degree"]) == 3]
    assert {k["model"] for k, _ in mine} == {"poly", "rectpoly"}
    fig, ax = plt.subplots()
    laws: dict = {}
    for key, sub in mine:
        _draw_group(ax, key, sub, "power", "C0", laws)
    _name_shared_laws(laws)
    labels = [line.get_label() for line in ax.get_lines() if line.get_label().startswith("theory")]
    plt.close(fig)
    assert len(labels) == 2  # two laws of degree 3, each once
    assert all(label.endswith(": poly a=3, rectpoly a=3") for label in labels)


def test_estimate_counts_pending_trials_at_their_recorded_times(tmp_path):
    batch = tmp_path / "tiny.csv"
    batch.write_text("study,model,degree,criterion,n,trials\npoly,poly,3,stable,12 16,3\n")
    run_batch("tiny", tmp_path / "ref", progress=False, batch=batch)
    studies: dict = {}
    for study, config in batch_configs(read_batch(batch)):
        studies.setdefault(study, []).append(config)
    recorded = sum(r["elapsed_s"] for r in load_results(tmp_path / "ref" / "tiny" / "poly.csv").records)
    fresh = estimate_batch(studies, tmp_path / "empty", tmp_path / "ref" / "tiny")
    assert fresh.trials == 6 and fresh.untimed == 0
    assert np.isclose(fresh.seconds, recorded)
    assert "6 trials to run" in fresh.line() and "recorded in " in fresh.line()
    done = estimate_batch(studies, tmp_path / "ref" / "tiny", tmp_path / "ref" / "tiny")
    assert done.trials == 0 and "already recorded" in done.line()
    unknown = estimate_batch(studies, tmp_path / "empty", tmp_path / "nowhere", table=TimingTable())
    assert unknown.trials == 6 and unknown.untimed == 2 and unknown.seconds == 0
    modelled = estimate_batch(studies, tmp_path / "empty", None)  # poly a=3 N=12, 16: not in the table
    assert modelled.untimed == 0 and modelled.seconds > 0
    assert "from the cost model (timings table, in N)" in [where for where, _ in modelled.sources]


def test_a_long_legend_goes_under_its_panel_and_a_short_one_stays_inside():
    """results/full's poly figure has 13 entries (5 configurations, 8 theory curves): inside, the
    legend covered the a = 4 and a = 5 points; under the axes it covers nothing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from capacity_cli.plotting import LEGEND_INSIDE_MAX, _capacity_legend

    for entries in (3, LEGEND_INSIDE_MAX, LEGEND_INSIDE_MAX + 1, 13):
        fig, ax = plt.subplots()
        for k in range(entries):
            ax.plot([1, 2], [k, k + 1], label=f"line {k}")
        lines = _capacity_legend(ax, fig.bbox.width)
        fig.canvas.draw()
        legend = ax.get_legend().get_window_extent()
        axes = ax.get_window_extent()
        if entries <= LEGEND_INSIDE_MAX:
            assert lines == 0 and legend.y0 >= axes.y0
        else:
            assert lines == -(-entries // 2) and legend.y1 <= axes.y0  # wholly under the axes
        plt.close(fig)
    # labels too long for two columns side by side: one column, still within the figure
    fig, ax = plt.subplots()
    for k in range(10):
        ax.plot([1, 2], [k, k + 1],
                label=f"softmax beta={k}, retrieve-eps, sphere: slope 0.818/N [0.788, 0.848]")
    assert _capacity_legend(ax, fig.bbox.width) == 10
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= 0 and legend.x1 <= fig.bbox.width
    plt.close(fig)


_COMPILE_ONE_KERNEL = """
import numpy as np
from capacity_cli.kernels.bits import overlap_matrix, pack_rows
packed = pack_rows(np.ones((2, 70), dtype=np.int8))
overlap_matrix(packed, packed, 70)
print("stdout only")
"""


def test_compiling_is_said_once_on_the_real_stderr(tmp_path):
    """The first command of a fresh install compiles for tens of seconds: it says so once, on stderr
    (never stdout), and not when every kernel it needs is cached."""
    import os

    from capacity_cli._compile import COMPILE_NOTICE

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "HOPCAP_NUMBA_CACHE": "1"}
    notice = COMPILE_NOTICE.format(where=tmp_path / "cache")
    cold = subprocess.run([sys.executable, "-c", _COMPILE_ONE_KERNEL], env=env, capture_output=True,
                          text=True, check=True)
    assert cold.stdout == "stdout only\n"
    assert cold.stderr.count("hopcap: compiling") == 1 and notice in cold.stderr  # two kernels, once
    warm = subprocess.run([sys.executable, "-c", _COMPILE_ONE_KERNEL], env=env, capture_output=True,
                          text=True, check=True)
    assert "compiling" not in warm.stderr
    off = subprocess.run([sys.executable, "-c", _COMPILE_ONE_KERNEL],
                         env={**env, "NUMBA_CACHE_DIR": str(tmp_path / "other"), "HOPCAP_NUMBA_CACHE": "0"},
                         capture_output=True, text=True, check=True)
    assert "compiling" not in off.stderr  # no cache: nothing is "once"


def test_compile_notice_skips_other_libraries_and_goes_to_dunder_stderr(tmp_path, monkeypatch):
    import types

    import numba

    from capacity_cli import _compile

    real = io.StringIO()
    monkeypatch.setattr(sys, "__stderr__", real)
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "absent"))
    monkeypatch.setattr(_compile, "CACHE", True)

    def event(module):
        func = types.SimpleNamespace(__module__=module)
        return types.SimpleNamespace(data={"dispatcher": types.SimpleNamespace(py_func=func)})

    notice = _compile.CompileNotice()
    notice.on_start(event("galois._fields"))  # another library's function: not ours to announce
    assert real.getvalue() == "" and not notice.decided
    notice.on_start(event("capacity_cli.kernels.bits"))
    notice.on_start(event("capacity_cli.kernels.census"))
    assert real.getvalue().count("hopcap: compiling") == 1


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_time_left_follows_the_cost_of_the_remaining_trials_not_their_count():
    """Ten cheap trials (cost 1, 0.1 s each) then one costing 1000: after the cheap ones, 1 trial of
    11 is left but 1000 of 1010 units of work, at 10 units a second: about 100 s, not 0.1 s."""
    clock, out = FakeClock(), io.StringIO()
    with PlainProgress(11, interval_s=1e9, stream=out, quiet_s=0, work=10 * 1 + 1000, clock=clock) as bar:
        bar.set_description("hebbian overlap N=100")
        for _ in range(10):
            clock.now += 0.1
            bar.update(1, work=1)
        assert bar.left.seconds_left() == pytest.approx(100.0)
        bar.set_description("hebbian overlap N=3200")
        clock.now += 100.0
        bar.update(1, work=1000)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[10/11 trials, 10.00 trial/s, about 100 s left] hebbian overlap N=100")
    assert lines[1].startswith("[11/11 trials, ") and "left" not in lines[1]  # nothing left


def test_time_left_after_an_expensive_trial_and_without_costs():
    clock = FakeClock()
    left = WorkLeft(1000 + 10 * 1, clock)
    assert left.seconds_left() is None  # nothing done yet: no rate
    clock.now = 50.0
    left.add(1000)  # the expensive trial first: 20 units a second
    assert left.seconds_left() == pytest.approx(0.5)
    out = io.StringIO()
    with PlainProgress(4, interval_s=0, stream=out, quiet_s=0, clock=clock) as bar:  # no costs: count
        bar.set_description("x")
        clock.now += 30.0
        bar.update()
    assert "about 90 s left" in out.getvalue()
    assert format_left(7200) == "about 120 min left" and format_left(3 * 3600 + 1) == "about 3.0 h left"


def test_trial_weights_come_from_the_timing_table_and_fall_back_to_counting(monkeypatch):
    from capacity_cli import timing
    from capacity_cli.measure import configs_from_options
    from capacity_cli.results import config_key
    from capacity_cli.timing import TimingTable, trial_weights

    configs = configs_from_options({"model": "hebbian", "criterion": "overlap", "min_overlap": 0.95,
                                    "threshold": 0.9, "n": [100, 1600, 3200]})
    keys = [config_key(c.columns()) for c in configs]
    weights = trial_weights(configs, keys)
    assert weights[0] < weights[1] < weights[2] and weights[2] / weights[0] > 100
    monkeypatch.setattr(timing, "shipped_table", lambda: TimingTable())  # nothing known: count trials
    assert trial_weights(configs, keys) == [1.0, 1.0, 1.0]


MAKE_PROFILES = ["quick", "structured", "modern", "rf", "kernel", "learning", "census", "separation",
                 "curves", "dynamics", "predict"]


def test_an_empty_results_folder_is_estimated_from_the_shipped_table(tmp_path, monkeypatch, capsys):
    """The user's case: results/ emptied (or an installed copy, no results/ at all). Every profile of
    make reproduce has a time, its source is named, the module work counts, and the total is the
    calibrated fresh-clone run (13 min 42 s on 2 idle cores with 44 s of set-up; predict measured)."""
    from capacity_cli import reproduce

    monkeypatch.setattr(reproduce, "RESULTS_DIR", None)
    total = reproduce.print_estimates(MAKE_PROFILES, tmp_path / "results")
    out = capsys.readouterr().out
    assert "no time" not in out and "not estimated" not in out and " 0 s" not in out
    lines = {line.split(":")[0]: line for line in out.splitlines()}
    for profile in MAKE_PROFILES:
        assert "from the timings table" in lines[profile]
    assert "census: estimate: no capacity batch; its module's own work about 16 s" in out
    assert "its module's own work about" in lines["predict"]
    table = TimingTable.read()
    calibrated = sum(table.run[p].seconds for p in MAKE_PROFILES if p in table.run) + \
        sum(table.module[p].seconds for p in ("census", "curves"))
    assert abs(total - calibrated) < 0.01 * calibrated
    assert 12 * 60 < total < 15 * 60
    assert out.splitlines()[-1].startswith(f"in all about {total / 60:.1f} min: ")


def test_the_shipped_table_lists_every_shipped_configuration():
    from capacity_cli.reproduce import profile_studies
    from capacity_cli.results import config_key

    table = TimingTable.read()
    for profile in MAKE_PROFILES + ["full"]:
        for study, configs in profile_studies(profile).items():
            for config in configs:
                assert table.exact(config_key(config.columns()), profile) is not None, (profile, study)


def _row(n, seconds, model="hebbian", **cells):
    from capacity_cli.timing import TimedRow, key_digest

    columns = {"model": model, "n": str(n), "criterion": "stable", **cells}
    return TimedRow("trial", "p", "s", columns, key_digest((model, n, tuple(cells.items()))), 10,
                    seconds, seconds)


def test_cost_model_interpolates_in_log_n_and_in_n_for_exponential_models():
    table = TimingTable([_row(100, 1.0), _row(400, 16.0), _row(200, 50.0, threshold="0.9")])
    model = table.model
    assert model({"model": "hebbian", "criterion": "stable", "n": 200}) == pytest.approx(4.0)  # N^2
    assert model({"model": "hebbian", "criterion": "stable", "n": 800}) == pytest.approx(64.0)
    assert model({"model": "hebbian", "criterion": "stable", "n": 50}) == pytest.approx(0.25)
    # the row agreeing in more columns (threshold 0.9) is the neighbour, scaled by the model's slope 2
    assert model({"model": "hebbian", "criterion": "stable", "n": 400, "threshold": 0.9}) == \
        pytest.approx(200.0)
    assert model({"model": "poly", "degree": 3, "criterion": "stable", "n": 64}) is None  # no group
    exp = TimingTable([_row(20, 1.0, "exp"), _row(30, 8.0, "exp")])  # x = N: doubling every 5
    assert exp.model({"model": "exp", "criterion": "stable", "n": 25}) == pytest.approx(2 ** 1.5)
    assert exp.model({"model": "exp", "criterion": "stable", "n": 40}) == pytest.approx(64.0)


def test_save_timings_calibrates_to_a_run_and_takes_module_time_from_run_time(tmp_path, monkeypatch):
    from capacity_cli import reproduce
    from capacity_cli.results import config_key
    from capacity_cli.timing import TimedRow

    batch = tmp_path / "configs" / "tiny.csv"
    batch.parent.mkdir()
    batch.write_text("study,model,degree,criterion,n,trials\npoly,poly,3,stable,12 16,3\n")
    monkeypatch.setattr(reproduce, "CONFIG_DIR", batch.parent)
    results = tmp_path / "results"
    monkeypatch.setattr(reproduce, "_load", lambda: 5.0)  # a busy machine: not a calibration run
    run_batch("tiny", results, progress=False)
    recorded = sum(r["elapsed_s"] for r in load_results(results / "tiny" / "poly.csv").records)
    run = reproduce.read_run_time(results / "tiny")
    assert run["trials_run"] == 6 == run["trials_total"] and run["module_s"] is None
    assert run["trial_s"] == pytest.approx(recorded, rel=1e-3) and run["load_start"] == 5.0
    path = tmp_path / "timings.csv"
    TimingTable([TimedRow("run", "tiny", seconds=100.0, note="measured")]).write(path)
    table = reproduce.save_timings(["tiny"], results, path)
    assert TimingTable.read(path).run["tiny"].seconds == 100.0  # kept: the run above was loaded
    per = {r.columns["n"]: r for r in table.trial_rows}
    assert set(per) == {"12", "16"}
    studies = reproduce.profile_studies("tiny")
    total = sum(table.exact(config_key(c.columns()), "tiny") * c.trials for c in studies["poly"])
    assert total == pytest.approx(table.run["tiny"].seconds, rel=1e-3)  # calibrated to the run
    estimate = estimate_batch(studies, tmp_path / "empty", None, TimingTable.read(path), "tiny")
    assert estimate.seconds == pytest.approx(table.run["tiny"].seconds, rel=2e-3)
    assert estimate.sources[0][0] == "from the timings table"
    monkeypatch.setattr(reproduce, "_load", lambda: 0.1)  # a complete run on an idle machine: the target
    run_batch("tiny", tmp_path / "idle", progress=False)
    idle = reproduce.save_timings(["tiny"], tmp_path / "idle", path)
    wall = reproduce.read_run_time(tmp_path / "idle" / "tiny")["seconds"]
    assert idle.run["tiny"].seconds == pytest.approx(wall)
    assert "complete run at load 0.1" in idle.run["tiny"].note


def test_a_profile_module_records_its_time_and_the_next_estimate_uses_it(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from capacity_cli import reproduce

    module = SimpleNamespace(extra=lambda out_dir, seed, threads, progress, frames: [])
    monkeypatch.setattr(reproduce, "profile_module", lambda profile: module)
    monkeypatch.setattr(reproduce, "CONFIG_DIR", tmp_path)
    reproduce.run_batch("alone", tmp_path / "results", progress=False)
    run = reproduce.read_run_time(tmp_path / "results" / "alone")
    assert run["module_s"] is not None and run["module_s"] >= 0 and run["cores"] >= 1
    estimate = reproduce.estimate_profile("alone", tmp_path / "results", table=TimingTable())
    assert not estimate.batch and estimate.module == run["module_s"]
    assert "run_time.csv" in estimate.line() and "no capacity batch" in estimate.line()
    unknown = reproduce.estimate_profile("alone", tmp_path / "elsewhere", table=TimingTable())
    assert "not estimated" in unknown.line()


def test_a_measurement_weighs_its_trials_by_cost_on_the_bar_and_in_plain_lines(monkeypatch):
    from capacity_cli import measure

    seen = {}

    class Recorder(measure._NoProgress):
        def update(self, n: int = 1, work: float | None = None) -> None:
            seen.setdefault("work", []).append(work)

    def bar(total, progress, work=None):
        seen["total"], seen["planned"] = total, work
        return Recorder()

    monkeypatch.setattr(measure, "_progress_bar", bar)
    configs = measure.configs_from_options({"model": "hebbian", "n": [16, 48], "trials": 2})
    measure.run_measurements(configs, progress=True)
    small, large = seen["work"][0], seen["work"][-1]
    assert seen["total"] == 4 and large > small > 0 and seen["work"] == [small, small, large, large]
    assert seen["planned"] == pytest.approx(2 * small + 2 * large)
    cost_bar = measure._CostBar(3, 1 + 1 + 1000)  # the terminal's bar: tqdm, our time left
    with cost_bar:
        cost_bar.update(1, work=1)
        assert "left" in cost_bar.bar.postfix
