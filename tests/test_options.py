"""Options that do not apply are refused, never silently ignored.

Where an option applies is declared once, with the option (options.Option.applies: the model, the
criterion, the search, the pattern source or another option it needs) and by the families (which
family owns it, which criteria it serves: families.Family.options, criterion_options). Every command
checks it through families.misplaced_options. The walk below gives every option of every command,
for every model the command takes and a few other contexts (a search, a given set, a rule, a map),
with a valid value, on top of a base command that runs; the expensive call is replaced by a stand-in
that records what it was asked to do, so only parsing and checking run. Each run must either be
refused in one line naming the option, or be accepted and change what is run (the configurations,
or the run's own arguments) -- an accepted option that changes nothing is an option silently
ignored. The refused set must be exactly what the declarations say (read here by a small evaluator
of their own), and every option needs a test value here, so a new option without a declaration
fails. Then one regression test per reported case.
"""

from __future__ import annotations

import contextlib
import hashlib
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from capacity_cli import census as census_lib
from capacity_cli import curves, measure, predict, results
from capacity_cli.cli import census, curve, gen, main
from capacity_cli.cli import measure as measure_command
from capacity_cli.cli import predict as predict_command
from capacity_cli.families import families, family_of
from capacity_cli.options import (
    Given,
    census_options,
    curve_options,
    gen_options,
    measure_options,
    parse_row,
    predict_options,
)

BINARY = ("hebbian", "poly", "rectpoly", "exp")
#: A value that only restates what the option's default already does (accepted, changes nothing).
SAME = object()


def value_of(command: str, model: str | None, name: str):
    """The arguments after the option's flag: a valid value for this command and model (a list:
    extra options the value needs follow it), SAME + value for a restated default, or None (no
    valid value exists: predict's --patterns)."""
    family = family_of(model).name if model else None
    soft = family in ("softmax", "kernel")
    if command == "predict":
        fixed = {"rule": [SAME, "energy"], "criterion": [SAME, "stable"], "bias": [SAME, "0.5"],
                 "correlation": [SAME, "0"], "min_distance": [SAME, "0"], "patterns": None,
                 "dataset": None}
        if name in fixed:
            return fixed[name]
    if command in ("census", "gen"):
        own = {"n": "20", "p": "5", "starts": "50", "from_cues": "0.1", "max_sweeps": "7",
               "radius_cues": "3", "prototypes": "2", "example_noise": "0.2", "classify": "2",
               "beta": "2", "degree": "4", "profiles": "prof.npz", "threads": "1", "seed": "5",
               "output": "other.npz", "kind": "sphere"}
        if name in own:
            return [own[name]]
        if command == "gen" and name == "code":
            return ["bch", "--min-distance", "3"]
    values = {
        "beta": "2", "noise": "0.2", "threshold": "0.9", "degree": "4",
        "rule": "storkey" if family == "pairwise" else "field", "min_overlap": "0.8",
        "max_sweeps": "7", "update": "sync", "temperature": "0.5", "sweeps": "4", "eps": "0.05",
        "steps": "2", "max_steps": "50", "dtype": "float32", "features": "32",
        "feature_kind": "positive", "features_seed": "3", "margin": "0.5", "max_epochs": "30",
        "unlearn": "5", "unlearn_eps": "0.02", "forget_eps": "3", "feature_map": "random",
        "tau": "0.2", "learn_steps": "7", "save_map": ["m.npz", "--n", "8"], "compare": "none",
        "n": "12",
        "trials": "3", "p_max": "50", "p": "6", "max_degree": "9", "bias": "0.4",
        "correlation": "0.3", "min_distance": "2", "max_tries": "77",
        "code": ["bch", "--min-distance", "3"],
        "patterns": "set.npy", "dataset": "digits", "shuffle": [], "seed": "5", "threads": "1",
        "output": "out.csv" if command != "predict" else "p.csv", "progress": [], "repair": [],
        "outcomes": "o.csv", "trace": "t.csv",
        "executor": "dask", "scheduler": "tcp://127.0.0.1:1",
        "criterion": "sign" if soft else "retrieve",
        "kind": "sphere" if soft else [SAME, "pm1"],
        "search": ["degree", "--p", "6"] if model in ("poly", "rectpoly") else
        ["recency", "--rule", "palimpsest"] if family == "pairwise" else [SAME, "p"],
    }
    value = values[name]  # KeyError: a new option needs a test value (and a declaration)
    return value if isinstance(value, list) else [value]


def flag_args(option, value: list, base: list[str]) -> list[str]:
    if option.flag:  # the switch away from its default
        off = option.name == "progress" or (option.name == "shuffle" and "--dataset" in base)
        return ["--no-" + option.flag_name[2:]] if off else [option.flag_name]
    return [option.short or option.flag_name, *value]


# ------------------------------------------------------------------------------------------- reading
# the declarations: the expected refusals, independently of families.misplaced_options


def settings_of(params: dict, family) -> dict:
    """What the declarations speak of, from the command's parsed parameters (click's, defaults
    included): every parameter but other families' options, the family's own options at its
    defaults, the criterion and the pattern source; a setting the command does not have is
    absent."""
    out = dict(params)
    if family is not None:  # another family's option is no setting of this one's models
        own = {o.name for o in family.options} | set(family.borrowed)
        for name in {o.name for f in families() for o in f.options} - own:
            out.pop(name, None)
        for option in family.options:
            if out.get(option.name) is None and option.name in out:
                out[option.name] = option.default
        if "criterion" in out:
            out["criterion"] = out["criterion"] or family.default_criterion
    out["source"] = "patterns" if params.get("patterns") else \
        "dataset" if params.get("dataset") else "generated"
    return out


def declared_refused(option, family, settings: dict) -> bool:
    """Whether the declarations say ``option``, given, does not apply under ``settings``."""
    if family is not None:
        owners = [f for f in families() if any(o.name == option.name for o in f.options)]
        own = {o.name for o in family.options} | set(family.borrowed)
        if owners and option.name not in own:
            return True
        allowed = family.criterion_options.get(option.name)
        if allowed is not None and "criterion" in settings and settings["criterion"] not in allowed:
            return True
    for setting, allowed in option.applies.items():
        if setting not in settings:
            continue
        value = settings[setting]
        ok = allowed.matches(value) if isinstance(allowed, Given) else value in allowed
        if not ok:
            return True
    return False


# -------------------------------------------------------------------------------------------- the walk


def digest(x) -> str:
    return "-" if x is None else hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()[:12]


def config_signature(configs) -> list:
    return [(repr(c.columns()), c.trials, repr(c.model), repr(c.criterion)) for c in configs]


@pytest.fixture
def stand_ins(monkeypatch, tmp_path):
    """The expensive calls replaced by recorders; ``record`` holds what the last run asked for."""
    record = {}
    monkeypatch.chdir(tmp_path)
    x = np.where(np.random.default_rng(0).random((6, 8)) < 0.5, -1, 1).astype(np.int8)
    np.save(tmp_path / "set.npy", x)

    def run_measurements(configs, output=None, threads=None, progress=True, executor="local",
                         scheduler=None, **_):
        record["run"] = (config_signature(configs), output, threads, progress, executor, scheduler)
        return []

    def run_curves(configs, grid, output=None, trace=None, threads=None, progress=True):
        for config in configs:
            curves.check_curve_config(config)
        record["run"] = (config_signature(configs), grid.text, output, trace, threads, progress)
        return []

    def prediction_row(config):
        record.setdefault("run", []).append(config_signature([config]))
        return {"predicted_mean": 1.0, "predicted_sd": 0.0, "predicted_q05": 1, "predicted_q50": 1,
                "predicted_q95": 1, "method": "-", "law": "", "law_value": 0.0}

    def run_plan(plan):
        record["run"] = (repr(plan.model), digest(plan.x), digest(plan.prototypes),
                         digest(plan.starts), plan.seed, plan.max_sweeps, plan.radius_cues)

    @contextlib.contextmanager
    def threads_context(threads):
        record["threads"] = threads
        yield

    monkeypatch.setattr(measure, "run_measurements", run_measurements)
    monkeypatch.setattr(measure, "summarize_rows", lambda configs, rows: [])
    monkeypatch.setattr(results, "load_results", lambda path: SimpleNamespace(records=[]))
    monkeypatch.setattr(curves, "measure_outcomes", lambda configs, rows, path, trace=None:
                        record.update(outcomes=(path, trace)) or (0, {}))
    monkeypatch.setattr(results, "repair_results", lambda path: record.update(repaired=path) or (0, 0))
    (tmp_path / "out.csv").write_text("")  # (so that --repair has a file to repair)
    monkeypatch.setattr(curves, "run_curves", run_curves)
    monkeypatch.setattr(predict, "prediction_row", prediction_row)
    monkeypatch.setattr(predict, "write_predictions", lambda rows, path: record.update(written=path))
    monkeypatch.setattr(census_lib, "run_plan", run_plan)
    monkeypatch.setattr(census_lib, "format_table", lambda result: "")
    monkeypatch.setattr(census_lib, "threads_context", threads_context)
    monkeypatch.setattr(census_lib, "write_profiles", lambda path, result: record.update(profiles=path))
    monkeypatch.setattr(census_lib, "classification_table",
                        lambda *args: record.update(classify=args[3]) or [])
    monkeypatch.setattr(census_lib, "format_accuracy", lambda rows: "")
    return record


def run_once(record: dict, args: list[str]):
    """(exit code, output, what was run) of one command line."""
    record.clear()
    result = CliRunner().invoke(main, args)
    if args[0] == "gen" and result.exit_code == 0:  # gen writes its file: what it holds
        path = args[len(args) - 1 - args[::-1].index("-o") + 1]
        with np.load(path) as data:
            record["file"] = (path, {k: digest(data[k]) for k in sorted(data.files)})
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        (args, result.output, repr(result.exception))
    return result.exit_code, result.output, repr(sorted(record.items(), key=str))


def bases(command: str) -> list[tuple[str | None, list[str]]]:
    """(model, base arguments) the options are walked on: every model the command takes, and more
    contexts (searches, given sets, rules, maps, a code, a results file, a prototype task)."""
    if command == "measure":
        extra = [("poly", ["--search", "degree", "--p", "6"]),
                 ("pairwise", ["--rule", "palimpsest", "--search", "recency"]),
                 ("pairwise", ["--rule", "perceptron"]),
                 ("poly", ["--patterns", "set.npy"]),
                 ("exp", ["--dataset", "digits"]),
                 ("softmax", ["--kind", "sphere"]),
                 ("kernel", ["--feature-map", "learned"]),
                 ("poly", ["--code", "bch", "--n", "15", "--min-distance", "3"]),
                 ("rectpoly", ["--min-distance", "2"]),
                 ("hebbian", ["-o", "out.csv", "--outcomes", "o.csv", "--executor", "dask"])]
        return [(m, ["--model", m]) for f in families() for m in f.models] + \
            [(m, ["--model", m, *a]) for m, a in extra]
    if command == "curve":
        return [(m, ["--model", m, "--p", "4:8:2"]) for m in BINARY]
    if command == "predict":
        return [(m, ["--model", m]) for m in BINARY]
    if command == "census":
        plain = [(m, ["--model", m, *(["--degree", "3"] if m in ("poly", "rectpoly") else [])])
                 for m in BINARY]
        return plain + [("hebbian", ["--prototypes", "2"]), ("hebbian", ["--patterns", "set.npy"]),
                        ("hebbian", ["--dataset", "digits"])]
    assert command == "gen"
    return [(None, ["--n", "10", "--p", "4"]), (None, ["--n", "10", "--p", "4", "--min-distance", "2"]),
            (None, ["--dataset", "digits"]),
            (None, ["--n", "10", "--p", "4", "--prototypes", "2"]),
            (None, ["--n", "10", "--p", "4", "--kind", "sphere"]),
            (None, ["--n", "15", "--p", "4", "--code", "bch", "--min-distance", "3"])]


COMMANDS = {"measure": (measure_command, measure_options),
            "curve": (curve, curve_options),
            "predict": (predict_command, predict_options),
            "census": (census, census_options),
            "gen": (gen, gen_options)}


def command_options(name: str) -> tuple:
    return tuple(COMMANDS[name][1]())


#: Options that exclude one another (not a question of applying): a base giving one walks not the other.
CONFLICTS = {"patterns": "--dataset", "dataset": "--patterns"}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_option_applies_or_is_refused_as_declared(command, stand_ins):
    pytest.importorskip("sklearn")  # --dataset digits (in the test extra)
    click_command = COMMANDS[command][0]
    table = command_options(command)
    walked = 0
    for model, base in bases(command):
        family = family_of(model) if model else None
        base_args = [command, *base, *(["-o", "x.npz"] if command == "gen" else [])]
        code, text, ran = run_once(stand_ins, base_args)
        assert code == 0, (base_args, text)
        for option in table:
            if option.name == "model" or option.flag_name in base_args or option.short in base_args \
                    or CONFLICTS.get(option.name) in base_args:
                continue  # the base gives it (and runs: it applies there)
            if command == "curve" and option.name in ("p", "p_over_n"):
                continue  # the grid: exactly one of them (tests/test_curve.py)
            value = value_of(command, model, option.name)
            label = (command, model, " ".join(base), option.name)
            if value is None:  # no valid value: every value is refused, naming the option
                code, text, _ = run_once(stand_ins, [*base_args, *flag_args(option, ["x"], base)])
                assert code == 2 and option.flag_name in text, (label, text)
                continue
            same = bool(value) and value[0] is SAME
            value = value[1:] if same else value
            args = [*base_args, *flag_args(option, value, base)]
            ctx = click_command.make_context(command, args[1:])
            given = [o for o in table if ctx.get_parameter_source(o.name).name != "DEFAULT"]
            settings = settings_of(ctx.params, family)
            refusing = [o for o in given if declared_refused(o, family, settings)]
            code, text, what = run_once(stand_ins, args)
            walked += 1
            if refusing:  # this option, or one of the base's that it turns off
                lines = [line for line in text.splitlines() if line.strip()]
                assert code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), (label, text)
                assert any((o.short or o.flag_name) in lines[0] or o.flag_name in lines[0]
                           for o in refusing), (label, [o.name for o in refusing], text)
            else:
                assert code == 0, (label, "declared to apply, but refused:", text)
                assert same or what != ran, (label, "accepted but changed nothing: silently ignored")
    assert walked > 20


@pytest.mark.parametrize("model", [m for f in families() for m in f.models])
def test_batch_rows_refuse_what_the_declarations_refuse(model):
    """The batch tables parse rows through the same table and check: every configuration option,
    under every criterion of the model's family."""
    family = family_of(model)
    table = measure_options()
    for criterion in family.criteria:
        base = {"model": model, "criterion": criterion}
        ran = config_signature(measure.configs_from_options(parse_row(base), given=set(base)))
        for option in table:
            if not option.batch or option.name in base:
                continue
            if option.name == "patterns":
                continue  # a file; the given-set source is walked with --dataset
            value = value_of("measure", model, option.name)
            if option.name == "kind" and criterion == "sign":
                value = [SAME, "pm1"]  # sign recalls +-1 patterns only
            same = bool(value) and value[0] is SAME
            value = value[1:] if same else value
            row = {**base, option.name: "true" if option.flag else " ".join(value[:1])}
            if len(value) > 1:  # the extra options the value needs
                row.update({value[k].lstrip("-").replace("-", "_"): value[k + 1]
                            for k in range(1, len(value), 2)})
            values = parse_row(row)
            settings = settings_of({**{o.name: o.default for o in table if o.batch}, **values}, family)
            expected = any(declared_refused(o, family, settings) for o in table if o.name in values)
            try:
                configs = measure.configs_from_options(values, given=set(values))
            except Exception as err:  # noqa: BLE001 -- HopcapError, or a test bug shown below
                assert expected and option.flag_name in str(err), (model, criterion, option.name, err)
                continue
            assert not expected, (model, criterion, option.name, "declared refused, accepted")
            assert same or config_signature(configs) != ran, (model, criterion, option.name)


def test_declarations_name_real_settings():
    """Every ``applies`` speaks of a setting some command has, and model names that exist."""
    from capacity_cli.families import all_criteria, all_models

    names = {o.name for t in (measure_options(), curve_options(), census_options(), gen_options())
             for o in t} | {"source"}
    for table in (measure_options(), census_options(), gen_options()):
        for option in table:
            for setting, allowed in option.applies.items():
                assert setting in names, (option.name, setting)
                if setting == "model":
                    assert set(allowed) <= set(all_models()), option.name
                if setting == "criterion":
                    assert set(allowed) <= set(all_criteria()), option.name
                if setting == "source":
                    assert set(allowed) <= {"generated", "patterns", "dataset"}, option.name


# --------------------------------------------------------------------------- one per reported case


def refused(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and lines and lines[-1].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    if not result.output.startswith("Usage:"):
        assert len(lines) == 1, result.output
    return lines[-1]


@pytest.fixture
def set_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "set.npy", np.where(np.random.default_rng(1).random((6, 8)) < 0.5, -1, 1))
    return "set.npy"


@pytest.mark.parametrize("args, message", [
    (["measure", "--model", "hebbian", "--degree", "3"],
     "--degree does not apply to --model hebbian (degree belongs to poly and rectpoly)"),
    (["measure", "--model", "poly", "--beta", "2"], "--beta does not apply to --model poly"),
    (["measure", "--model", "exp", "--degree", "3"], "--degree does not apply to --model exp"),
    (["measure", "--model", "poly", "--p", "30"], "--p does not apply to --search p"),
    (["measure", "--model", "poly", "--search", "p", "--p", "30"], "--p does not apply to --search p"),
    (["measure", "--model", "poly", "--patterns", "set.npy", "--correlation", "0.3"],
     "--correlation does not apply to --patterns"),
    (["measure", "--model", "poly", "--shuffle"], "--shuffle does not apply to generated patterns"),
    (["measure", "--model", "poly", "--patterns", "set.npy", "--n", "16"],
     "--n does not apply to --patterns"),
    (["measure", "--model", "poly", "--patterns", "set.npy", "--kind", "pm1"],
     "--kind does not apply to --patterns"),
    (["measure", "--model", "poly", "--max-degree", "9"], "--max-degree does not apply to --search p"),
    (["measure", "--model", "poly", "--search", "degree", "--p", "5", "--p-max", "9"],
     "--p-max does not apply to --search degree"),
    (["measure", "--model", "poly", "--search", "degree", "--p", "5", "--degree", "4"],
     "--degree does not apply to --search degree"),
    (["measure", "--model", "pairwise", "--rule", "palimpsest", "--search", "recency",
      "--threshold", "0.9"], "--threshold does not apply to --search recency"),
    (["measure", "--model", "softmax", "--kind", "sphere", "--bias", "0.3"],
     "--bias does not apply to --kind sphere"),
    (["measure", "--model", "kernel", "--tau", "0.3"], "--tau does not apply to --feature-map identity"),
    (["measure", "--model", "pairwise", "--forget-eps", "3"], "--forget-eps does not apply to --rule"),
    (["measure", "--model", "poly", "--scheduler", "tcp://127.0.0.1:1"],
     "--scheduler does not apply to --executor local"),
    (["census", "--model", "hebbian", "--degree", "3"], "--degree does not apply to --model hebbian"),
    (["census", "--model", "poly", "--degree", "3", "--beta", "2"],
     "--beta does not apply to --model poly"),
    (["census", "--example-noise", "0.2"], "--example-noise needs --prototypes"),
    (["census", "--patterns", "set.npy", "--n", "50"], "--n does not apply to --patterns"),
    (["predict", "--model", "poly", "--beta", "2"], "--beta does not apply to --model poly"),
    (["curve", "--model", "hebbian", "--p", "4:8:2", "--degree", "3"],
     "--degree does not apply to --model hebbian"),
    (["gen", "--dataset", "digits", "--n", "20", "-o", "x.npz"], "--n does not apply to --dataset"),
    (["gen", "--dataset", "digits", "--seed", "3", "-o", "x.npz"],
     "--seed does not apply to --dataset"),
    (["gen", "--n", "10", "--p", "4", "--prototypes", "2", "--correlation", "0.3", "-o", "x.npz"],
     "--correlation does not apply to --prototypes"),
    (["gen", "--n", "10", "--p", "4", "--max-tries", "5", "-o", "x.npz"],
     "--max-tries needs --min-distance d > 0"),
    (["measure", "--model", "poly", "--max-tries", "5"], "--max-tries needs --min-distance d > 0"),
])
def test_reported_option_that_does_not_apply_is_refused(args, message, set_file):
    assert message in refused(*args)


@pytest.mark.parametrize("args, flag", [
    (["measure", "--model", "poly", "-o", ""], "'-o' / '--output'"),
    (["measure", "--model", "poly", "-o", "  "], "'-o' / '--output'"),
    (["measure", "--model", "poly", "--outcomes", ""], "'--outcomes'"),
    (["curve", "--model", "hebbian", "--p", "4:8:2", "-o", ""], "'-o' / '--output'"),
    (["predict", "--model", "poly", "-o", ""], "'-o' / '--output'"),
    (["gen", "--n", "8", "--p", "3", "-o", ""], "'-o' / '--output'"),
    (["census", "--profiles", ""], "'--profiles'"),
    (["plot", "r.csv", "-o", ""], "'-o' / '--output'"),
    (["measure", "--model", "poly", "--patterns", ""], "'--patterns'"),
])
def test_reported_empty_output_path_is_refused(args, flag, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = refused(*args)
    assert flag in line and "empty" in line
    assert not list(tmp_path.iterdir())  # nothing written


def test_reported_scheduler_empty_is_refused_not_a_local_cluster():
    line = refused("measure", "--model", "poly", "--executor", "dask", "--scheduler", "")
    assert "'--scheduler'" in line and "empty" in line


@pytest.mark.parametrize("name", ["m.txt", "m", "m.NPZ"])
def test_reported_save_map_not_ending_in_npz_is_refused(name, tmp_path, monkeypatch):
    """numpy would write m.txt.npz; the map is written exactly where asked, so the name must end in
    .npz (on the command line and in a batch table)."""
    monkeypatch.chdir(tmp_path)
    line = refused("measure", "--model", "kernel", "--feature-map", "learned", "--trials", "1",
                   "--n", "8", "--save-map", name)
    assert "'--save-map'" in line and "ending in .npz" in line
    from capacity_cli.errors import HopcapError
    from capacity_cli.reproduce import batch_configs, read_batch

    (tmp_path / "b.csv").write_text(f"study,model,feature_map,trials,n,save_map\ns,kernel,learned,1,8,"
                                    f"{name}\n")
    with pytest.raises(HopcapError, match="column 'save_map': expected a file name ending in .npz"):
        batch_configs(read_batch(tmp_path / "b.csv"))


@pytest.mark.parametrize("output, message", [
    (".png", "give a figure path"), ("figs/.pdf", "give a figure path"), ("fig.svg", "without an extension"),
])
def test_reported_plot_output_that_names_no_figure_is_refused(output, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert message in refused("plot", "r.csv", "-o", output)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("output", ["fig", "fig.png", "fig.PDF"])
def test_plot_output_with_a_figure_extension_writes_png_and_pdf_beside(output):
    from capacity_cli.plotting import figure_stem

    assert figure_stem(output) == "fig"


def test_defaults_never_refuse():
    """Options the user did not give (a batch row's blank cells, flags not typed) are never
    refused, although their defaults are set where they would not apply if given."""
    blank = {o.name: "" for o in measure_options() if o.batch}
    for model in ("hebbian", "softmax", "pairwise", "kernel", "rf"):
        values = parse_row({**blank, "model": model})
        assert measure.configs_from_options(values, given=set(values))
    assert CliRunner().invoke(main, ["census", "--n", "20", "--starts", "5", "--radius-cues", "0"]) \
        .exit_code == 0
