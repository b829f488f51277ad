"""The reproduction batch: the three classical scaling laws, as data.

A batch is a CSV table (``capacity_cli/configs/<profile>.csv``, shipped with the package), one row per
run: ``study`` (the figure it belongs to) and any option of ``hopcap measure`` as a column of the same
name (underscores for dashes: ``n``, ``max_sweeps``, ``p_max``, ...), parsed and checked exactly like the
option; lists are space-separated (``n`` = ``16 32 64``), a blank cell takes the option's default, and a
``patterns`` path is relative to the working directory.
:func:`run_batch` measures every row into ``<results>/<profile>/<study>.csv`` (resumable:
finished trials are skipped), then draws ``<study>.png/.pdf`` and writes ``summary.csv`` and
``summary.md`` with the fitted laws against theory. ``<results>/<profile>/environment.json`` records
the environment of the run (capacity_cli.provenance).

Run it with ``make reproduce`` (``PROFILE=full`` for the long profile) or
``python -m capacity_cli.reproduce --profile quick``.

A profile may also have a module of its own, ``capacity_cli/studies/<profile>.py``, for figures
that are not capacity-against-N plots or that come from work other than a capacity search (a
family's comparisons, a census). It may define any of:

- ``DRAW``: study name -> ``draw(df, stem) -> list[LawRow]``, which draws ``<stem>.png/.pdf`` and
  summarises that study's rows instead of the default drawing;
- ``extra(out_dir, seed, threads, progress, frames) -> list[LawRow]``: run after the batch (or
  alone, when the profile has no ``capacity_cli/configs/<profile>.csv``), writing its own files under
  ``out_dir``; ``frames`` maps each batch study to its loaded rows;
- ``notes(out_dir, summary) -> str``: Markdown appended to ``summary.md`` (the plain answers).

Before a run, ``--estimate`` (and each run's first line) says how long each profile will take, every
number with its source: :func:`estimate_batch` for the batch, the module's time for ``extra()``
(capacity_cli.timing: the shipped timing table ``capacity_cli/configs/timings.csv``, calibrated to
2 idle cores, and its cost model). Each run leaves ``<results>/<profile>/run_time.csv``;
``--save-timings`` (``make timings``) rewrites the table from the committed results.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

import click
import numpy as np
import pandas as pd

from ._compile import max_threads
from .errors import HopcapError
from .families import family_of
from .fit import fit_trials
from .measure import MeasureConfig, configs_from_options, run_measurements
from .options import MEASURE_OPTIONS, option_named, parse_row
from .plotting import (
    configuration_groups,
    group_label,
    growth_of,
    laws_of,
    model_of,
    plot_capacity,
    plot_structure,
    plot_sweep,
    sweep_groups,
    sweep_label,
)
from .provenance import note_environment
from .results import load_results
from .stats import summarize
from .theory import expected_loglog_slope, mutual_information_rate
from .timing import TIMINGS_PATH, TimingTable, shipped_table, trial_mean

#: The batch tables (and the timing table), shipped inside the package.
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
#: Columns a batch table must have; every other column is an option of ``hopcap measure``.
BATCH_REQUIRED = ["study", "model"]
STUDY_TITLES = {
    "hebbian": "Hebbian network: 0.138 N under overlap, N/(4 ln N) under stable",
    "poly": "Polynomial energies: P_max ~ N^(a-1) (KH2016)",
    "exp": "Exponential energy: log2 P_max linear in N (Demircigil et al. 2017)",
    "structured": "Capacity against separation and feature correlation (cf. Bielmeier & Friedland)",
    "growth": "Softmax (Ramsauer et al. 2020): P_max against N, Theorem 3 bounds",
    "attention": "Softmax at the attention scaling beta = 1/sqrt(N)",
    "beta": "Softmax: capacity against beta at fixed N",
    "separation": "Softmax, +-1 patterns: capacity against minimum Hamming distance",
    "rules": "Energy rule against the field rule (Krotov & Hopfield 2021)",
}
#: Studies drawn against separation / correlation instead of N.
STRUCTURE_STUDIES = ("structured",)
#: Studies drawn against another swept column at fixed N: study -> (column, axis label).
SWEEP_STUDIES = {"beta": ("beta", "beta (inverse temperature)"),
                 "separation": ("min_distance", "requested minimum pairwise Hamming distance d")}
#: Growth rates against separation are fitted from this requested distance on: below it the
#: constraint does not bind at N = 32 (a random set of the sizes measured there already has minimum
#: distance of about 4-8), and including the flat part would understate the growth.
STRUCTURE_FIT_MIN_D = 6


def batch_profiles() -> list[str]:
    """The profiles with a shipped batch table (``configs/<profile>.csv``; the timing table that
    lives beside them is no batch)."""
    from .timing import TIMINGS_PATH

    return sorted(p.stem for p in CONFIG_DIR.glob("*.csv") if p.name != TIMINGS_PATH.name)


def read_batch(path: str | Path) -> pd.DataFrame:
    """Read a batch table and check its columns (``table.attrs["path"]`` names it in errors)."""
    try:
        table = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    except Exception as err:
        raise HopcapError(f"{path}: not a readable batch table ({type(err).__name__})") from err
    missing = [c for c in BATCH_REQUIRED if c not in table.columns]
    if missing:
        raise HopcapError(f"{path}: batch table lacks columns {', '.join(missing)}")
    options = {o.name: o for o in MEASURE_OPTIONS}
    for column in table.columns:
        if column == "study":
            continue
        if column not in options:
            raise HopcapError(f"{path}: column {column!r} is not an option of hopcap measure "
                              f"(columns use the option names with _ for -, e.g. max_sweeps)")
        if not options[column].batch:
            raise HopcapError(f"{path}: column {column!r} is an option of one run, not of a "
                              f"configuration; give it to the batch runner instead")
    table.attrs["path"] = str(path)
    table.attrs["lines"] = _data_lines(path, len(table))
    return table


def _data_lines(path: str | Path, rows: int) -> list[int] | None:
    """The file line of each data row (comments and blank lines skipped), or None when quoted
    multi-line cells make them ambiguous."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return None
    lines = [k for k, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")][1:]
    return lines if len(lines) == rows else None


def batch_configs(table: pd.DataFrame, seed: int = 0) -> list[tuple[str, MeasureConfig]]:
    """(study, configuration) for every row of a batch table, in order: each row's option cells
    are parsed by :func:`capacity_cli.options.parse_row` and turned into configurations by
    :func:`capacity_cli.measure.configs_from_options`, exactly as ``hopcap measure`` does with the
    same options. ``seed`` is the seed of rows without a ``seed`` cell."""
    path = table.attrs.get("path", "batch table")
    lines = table.attrs.get("lines")
    out = []
    for number, row in enumerate(table.to_dict("records"), start=1):
        where = f"{path}: row {number}" + (f" (line {lines[number - 1]})" if lines else "")
        study = str(row.pop("study", "")).strip()
        if not study:
            raise HopcapError(f"{where}, column 'study': blank")
        try:
            values = parse_row(row)
        except KeyError as err:
            raise HopcapError(f"{where}: column {err.args[0]!r} is not an option of hopcap measure") \
                from None
        except click.BadParameter as err:
            raise HopcapError(f"{where}, column {err.param_hint!r}: {err.message}") from None
        try:
            configs = configs_from_options({"seed": seed, **values}, given=set(values))
        except HopcapError as err:
            raise HopcapError(f"{where}: {err}") from None
        out.extend((study, config) for config in configs)
    return out


@dataclass(frozen=True)
class LawRow:
    """One line of the summary table."""

    study: str
    configuration: str
    quantity: str
    measured: float
    ci_low: float
    ci_high: float
    theory: float
    n_range: str
    trials: int


def summarize_study(study: str, df: pd.DataFrame) -> list[LawRow]:
    """Fitted laws for every configuration of one study's results."""
    rows = []
    for key, sub in configuration_groups(df):
        label = group_label(key)
        model = model_of(key)
        wanted = []
        if family_of(key["model"]).name != "binary":  # the classical laws below are the binary ones
            rows.extend(_growth_rows(study, label, key, sub))
            continue
        if key["criterion"] == "overlap":
            wanted.append(("alpha_inv_n", "alpha = P/N extrapolated in 1/N", 0.138, True))
        elif model.name == "exp":
            if key["criterion"] == "stable":
                wanted.append(("exp2", "d log2 P / dN", 0.5, False))
            else:
                rho = float(key["noise"])
                wanted.append(("exp2", f"d log2 P / dN (rho={rho:g})",
                               mutual_information_rate(1 - 2 * rho) / (2 * math.log(2)), False))
        else:
            a1 = expected_loglog_slope(model)
            wanted.append(("power", "k in P ~ N^k", a1, False))
            wanted.append(("power_ln", "k in P ~ N^k / ln N", a1, False))
        for form, quantity, theory, use_intercept in wanted:
            f, _ = fit_trials(sub, form)
            if f is None:
                continue
            value, low, high = (f.intercept, f.intercept_low, f.intercept_high) if use_intercept \
                else (f.slope, f.ci_low, f.ci_high)
            rows.append(LawRow(study, label, quantity, value, low, high, theory,
                               f"{f.n_min}-{f.n_max}", f.trials))
    return rows


def _growth_rows(study: str, label: str, key: dict, sub: pd.DataFrame) -> list[LawRow]:
    """Any family but the binary one: the growth rate on the family's axes (d ln P / dN for
    exponential growth, k in P ~ N^k for a power law) with its 95% interval, and the smallest ratio
    of mean P_max to the family's headline law over the sizes measured (for softmax, Ramsauer's
    Theorem 3 lower bound: >= 1 means every measured point lies above it)."""
    rows = []
    exponential = growth_of(key) == "exp"
    f, _ = fit_trials(sub, "exp2" if exponential else "power")
    if f is not None:
        scale = math.log(2) if exponential else 1.0
        rows.append(LawRow(study, label, "d ln P / dN" if exponential else "k in P ~ N^k",
                           f.slope * scale, f.ci_low * scale, f.ci_high * scale,
                           float("nan"), f"{f.n_min}-{f.n_max}", f.trials))
    laws = laws_of(key)
    if laws:
        sizes = sorted(sub["n"].unique())
        ratios = [sub.loc[sub["n"] == n, "p_max"].mean() / float(laws[0](n)) for n in sizes]
        worst = int(np.argmin(ratios))
        rows.append(LawRow(study, label, f"min over N of mean P_max / {laws[0].label}", ratios[worst],
                           float("nan"), float("nan"), 1.0, f"{int(sizes[0])}-{int(sizes[-1])} "
                           f"(min at N={int(sizes[worst])})", len(sub)))
    return rows


def summarize_sweep(study: str, df: pd.DataFrame, column: str) -> list[LawRow]:
    """Mean P_max with its 95% interval at every value of the swept column, per configuration."""
    rows = []
    for key, sub in sweep_groups(df, column):
        label = sweep_label(key, column)
        for value in sorted(sub[column].unique()):
            s = summarize(sub.loc[sub[column] == value, "p_max"])
            rows.append(LawRow(study, label, f"mean P_max at {column}={value:g}",
                               s.mean, s.ci_low, s.ci_high, float("nan"), str(int(key["n"])), s.trials))
    return rows


def summarize_structure(study: str, df: pd.DataFrame) -> list[LawRow]:
    """Mean P_max of unswept sets, and the growth of log2 P_max per unit of requested minimum
    distance per model, N and correlation, fitted over d >= STRUCTURE_FIT_MIN_D where no trial was
    capped by the generator."""
    rows = []
    generated = df[df["patterns"].isna()] if "patterns" in df.columns else df
    swept = generated.groupby("n")["min_distance"].transform("nunique") > 1
    for values, sub in generated[~swept].groupby(["model", "degree", "n", "bias"]):
        rows.append(_mean_row(study, f"{values[0]} a={int(values[1])}, N={int(values[2])}, i.i.d. "
                                     f"bias {values[3]:g}", sub))
    if "patterns" in df.columns:
        for values, sub in df[df["patterns"].notna()].groupby(["model", "degree", "patterns"]):
            rows.append(_mean_row(study, f"{values[0]} a={int(values[1])}, {values[2]} "
                                         f"(N={int(sub['n'].iloc[0])})", sub))
    keys = ["model", "degree", "n", "correlation"]
    for values, sub in generated[swept].groupby(keys, dropna=False):
        key = dict(zip(keys, values, strict=True))
        f, _ = fit_trials(sub[sub["min_distance"] >= STRUCTURE_FIT_MIN_D], "exp2", x="min_distance")
        if f is None:
            continue
        label = f"{key['model']} a={int(key['degree'])}, N={int(key['n'])}, c={key['correlation']:g}"
        rows.append(LawRow(study, label, "d log2 P / d d_min", f.slope, f.ci_low, f.ci_high,
                           float("nan"), f"d={f.n_min}-{f.n_max}", f.trials))
    return rows


def _mean_row(study: str, label: str, sub: pd.DataFrame) -> LawRow:
    s = summarize(sub["p_max"])
    return LawRow(study, label, "mean P_max", s.mean, s.ci_low, s.ci_high, float("nan"),
                  str(int(sub["n"].iloc[0])), s.trials)


def summary_markdown(rows: list[LawRow]) -> str:
    """The summary as a Markdown table."""
    lines = ["| configuration | quantity | measured | 95% interval | theory | N | trials |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        theory = "-" if math.isnan(r.theory) else f"{r.theory:.3f}"
        interval = "-" if math.isnan(r.ci_low) else f"[{r.ci_low:.3f}, {r.ci_high:.3f}]"
        lines.append(f"| {r.configuration} | {r.quantity} | {r.measured:.3f} | {interval} | {theory} "
                     f"| {r.n_range} | {r.trials} |")
    return "\n".join(lines) + "\n"


def profile_module(profile: str):
    """``capacity_cli.studies.<profile>`` when that module exists, else None."""
    name = f"{__package__}.studies.{profile}"
    if not profile.isidentifier() or find_spec(f"{__package__}.studies") is None \
            or find_spec(name) is None:
        return None
    return import_module(name)


def checkout_results() -> Path | None:
    """The committed ``results/`` of the source checkout this package runs from (an editable install
    or ``python -m`` in the checkout), or None for an installed copy (``pip install .``: no
    ``results/`` beside site-packages' ``capacity_cli``)."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "results").is_dir():
        return root / "results"
    return None


#: Where the committed results (and their recorded times) of each profile live; None when installed.
RESULTS_DIR = checkout_results()


def _reference(profile: str) -> Path | None:
    return RESULTS_DIR / profile if RESULTS_DIR is not None else None


@dataclass(frozen=True)
class Estimate:
    """What a profile has left to run: the trials of its batch, their seconds by where each time came
    from (see :func:`estimate_batch`), the configurations no source times, and the profile module's
    own work (None: the profile has no module, or no time is known for it)."""

    trials: int
    seconds: float
    untimed: int
    sources: tuple[tuple[str, float], ...] = ()
    module: float | None = None
    module_source: str = ""
    batch: bool = True  # whether the profile has a capacity batch
    has_module: bool = False  # whether it has module work of its own (extra())

    @property
    def total(self) -> float:
        return self.seconds + (self.module or 0.0)

    def line(self) -> str:
        module = ""
        if self.has_module:
            module = f"its module's own work about {_minutes(self.module)} ({self.module_source})" \
                if self.module is not None else "its module's own work not estimated (no time known)"
        if not self.batch:
            return f"estimate: no capacity batch; {module}"
        module = f"; {module}" if module else ""
        if self.trials == 0:
            return "estimate: every trial is already recorded; drawing and summarising only" + module
        parts = ", ".join(f"{_minutes(s)} {where}" for where, s in self.sources)
        untimed = f"; {self.untimed} configuration(s) have no time anywhere and are not counted" \
            if self.untimed else ""
        return (f"estimate: {self.trials} trials to run, about {_minutes(self.seconds)} of trials "
                f"({parts}){untimed}{module}")


def _minutes(seconds: float) -> str:
    """``40 s`` under 1.5 min, else ``4.9 min``."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def estimate_batch(studies: dict[str, list[MeasureConfig]], out_dir: Path,
                   reference_dir: Path | None, table: TimingTable | None = None,
                   profile: str | None = None) -> Estimate:
    """The trials of ``studies`` not yet in ``out_dir`` and their seconds, each configuration's time per
    trial from the first of:

    1. the mean elapsed_s of the same configuration recorded in ``out_dir`` (this machine, this run);
    2. the same in ``reference_dir`` (the checkout's committed results, when it is another folder),
       scaled by the profile's calibration factor in the timing table;
    3. the timing table (``table``; the shipped capacity_cli/configs/timings.csv by default);
    4. the table's cost model (capacity_cli.timing: interpolated in N within the model's group).

    A configuration none of them times is counted in ``untimed``."""
    from .results import config_key, is_blank

    table = shipped_table() if table is None else table

    def recorded(path: Path) -> dict[tuple, list[tuple[int, float]]]:
        try:
            records = load_results(path).records if path.is_file() else []
        except HopcapError:
            records = []
        out: dict[tuple, list[tuple[int, float]]] = {}
        for row in records:
            if not is_blank(row.get("elapsed_s")):
                out.setdefault(config_key(row), []).append((row["trial"], float(row["elapsed_s"])))
        return out

    same = reference_dir is not None and out_dir.resolve() == reference_dir.resolve()
    scale = table.scale(profile) if profile is not None else 1.0
    labels = {"own": f"as recorded in {_relative(out_dir)}",
              "reference": f"as recorded in {_relative(reference_dir) if reference_dir else ''}"
                           + (f", calibrated x{scale:.2g}" if scale != 1.0 else ""),
              "table": "from the timings table", "model": "from the cost model (timings table, in N)"}
    by_source: dict[str, float] = {}
    trials, untimed = 0, 0
    for study, configs in studies.items():
        own = recorded(out_dir / f"{study}.csv")
        reference = recorded(reference_dir / f"{study}.csv") if reference_dir is not None and not same \
            else {}
        for config in configs:
            columns = config.columns()
            key = config_key(columns)
            done = {t for t, _ in own.get(key, ())}
            left = sum(1 for t in range(config.trials) if t not in done)
            if not left:
                continue
            trials += left
            if key in own:
                per, source = trial_mean(own[key]), "own"
            elif key in reference:
                per, source = trial_mean(reference[key]) * scale, "reference"
            else:
                per, source = table.seconds(columns, key, profile)
            if per is None:
                untimed += 1
                continue
            by_source[source] = by_source.get(source, 0.0) + left * per
    sources = tuple((labels[s], by_source[s]) for s in labels if s in by_source)
    return Estimate(trials, sum(by_source.values()), untimed, sources)


def profile_studies(profile: str, seed: int = 0) -> dict[str, list[MeasureConfig]]:
    """The batch configurations of a profile by study ({} for a profile without a batch table)."""
    path = CONFIG_DIR / f"{profile}.csv"
    if not path.exists() and profile_module(profile) is not None:
        return {}
    studies: dict[str, list[MeasureConfig]] = {}
    for study, config in batch_configs(read_batch(path), seed=seed):
        studies.setdefault(study, []).append(config)
    return studies


def estimate_profile(profile: str, results: str | Path, seed: int = 0,
                     table: TimingTable | None = None,
                     studies: dict[str, list[MeasureConfig]] | None = None) -> Estimate:
    """A profile's :class:`Estimate` into ``results``: its batch (:func:`estimate_batch`) and its
    module's own work (the module time the last run in ``results/<profile>`` recorded, else the timing
    table's)."""
    table = shipped_table() if table is None else table
    studies = profile_studies(profile, seed) if studies is None else studies
    out_dir = Path(results) / profile
    estimate = estimate_batch(studies, out_dir, _reference(profile), table, profile) if studies \
        else Estimate(0, 0.0, 0, batch=False)
    if not hasattr(profile_module(profile), "extra"):
        return estimate
    module, source = None, ""
    recorded = read_run_time(out_dir)
    if recorded is not None and recorded.get("module_s") is not None:
        module, source = recorded["module_s"], f"as recorded in {_relative(out_dir / RUN_TIME)}"
    elif profile in table.module:
        module, source = table.module[profile].seconds, "from the timings table"
    return Estimate(estimate.trials, estimate.seconds, estimate.untimed, estimate.sources, module,
                    source, estimate.batch, has_module=True)


def print_estimates(profiles: list[str], results: str | Path, seed: int = 0) -> float:
    """One estimate line per profile and their total (what ``make reproduce`` prints first); returns
    the total in seconds."""
    table = shipped_table()
    trials = modules = 0.0
    for profile in profiles:
        try:
            estimate = estimate_profile(profile, results, seed, table)
        except HopcapError as err:
            print(f"{profile}: no estimate ({err})")
            continue
        trials += estimate.seconds
        modules += estimate.module or 0.0
        print(f"{profile}: {estimate.line()}")
    print(f"in all about {_minutes(trials + modules)}: {_minutes(trials)} of trials and "
          f"{_minutes(modules)} of the study modules' own work. Times from the timings table are "
          f"calibrated to a fresh-clone run on 2 idle cores (start-up, compiling and drawing included); "
          f"{_load_note()}", flush=True)
    return trials + modules


def _load_note() -> str:
    """What the machine's load means for the estimate."""
    import os

    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return "a busy machine takes longer (make reproduce: 13 min 42 s idle, 55 min loaded)."
    busy = "expect up to 4x longer" if load > cores / 2 else "close to idle"
    return (f"this machine's load is {load:.1f} on {cores} cores now: {busy} (make reproduce took "
            f"13 min 42 s on 2 idle cores, 55 min on a loaded machine).")


def run_batch(profile: str = "quick", results: str | Path = "results", seed: int = 0,
              threads: int | None = None, progress: bool = True, batch: str | Path | None = None,
              executor: str = "local", scheduler: str | None = None, measure: bool = True
              ) -> list[LawRow]:
    """Measure, draw and summarise a batch (and run the profile's own module, if it has one:
    see the module docstring); returns the summary rows. ``executor``/``scheduler``: where the
    batch's trials run (measure.run_measurements; a profile module's extra() runs locally).
    ``measure=False`` draws and summarises recorded trials only: a pending trial is an error."""
    began, load_start = time.perf_counter(), _load()
    module = None if batch else profile_module(profile)
    path = Path(batch) if batch else CONFIG_DIR / f"{profile}.csv"
    if module is not None and not path.exists():
        table = None
    else:
        table = read_batch(path)
    out_dir = Path(results) / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    # the environment record of out_dir (environment.json), once, for every file of the batch: the
    # study modules' own tables too (with the numba threads the batch's measurements run with); a
    # pass that measures nothing makes no record
    if measure:
        note_environment(out_dir, threads=min(threads or max_threads(), max_threads()))
    studies: dict[str, list[MeasureConfig]] = {}
    if table is not None:
        for study, config in batch_configs(table, seed=seed):
            studies.setdefault(study, []).append(config)
    if not measure and studies:
        pending = estimate_batch(studies, out_dir, None).trials
        if pending:
            raise HopcapError(f"{out_dir}: {pending} trial(s) of profile {profile} are not "
                              "recorded; --no-measure only draws and summarises recorded trials")
    if batch and studies:  # a batch table of one's own: no profile module, no calibration
        print(estimate_batch(studies, out_dir, None).line(), flush=True)
    elif studies or hasattr(module, "extra"):
        print(estimate_profile(profile, results, seed, studies=studies).line(), flush=True)
    custom = getattr(module, "DRAW", {})
    summary: list[LawRow] = []
    frames: dict[str, pd.DataFrame] = {}
    measured: list[dict] = []
    for study, configs in studies.items():
        csv = out_dir / f"{study}.csv"
        start = time.perf_counter()
        measured += run_measurements(configs, output=str(csv), threads=threads, progress=progress,
                                     executor=executor, scheduler=scheduler)
        print(f"{study}: measured in {time.perf_counter() - start:.0f} s -> {csv}", flush=True)
        loaded = load_results(csv)  # valid rows, each trial once
        if loaded.warning():
            print(loaded.warning(), flush=True)
        df = frames[study] = loaded.rows
        if study in custom:
            summary.extend(custom[study](df, out_dir / study))
        elif study in STRUCTURE_STUDIES:
            plot_structure(df, out_dir / study, title=STUDY_TITLES.get(study))
            summary.extend(summarize_structure(study, df))
        elif study in SWEEP_STUDIES:
            column, label = SWEEP_STUDIES[study]
            plot_sweep(df, column, out_dir / study, title=STUDY_TITLES.get(study), xlabel=label)
            summary.extend(summarize_sweep(study, df, column))
        else:
            plot_capacity(df, out_dir / study, title=STUDY_TITLES.get(study))
            summary.extend(summarize_study(study, df))
    module_s = None
    if hasattr(module, "extra"):
        start = time.perf_counter()
        summary.extend(module.extra(out_dir, seed, threads, progress, frames))
        module_s = time.perf_counter() - start
        print(f"{profile} module: its own work took {module_s:.0f} s", flush=True)
    frame = pd.DataFrame([r.__dict__ for r in summary])
    frame.to_csv(out_dir / "summary.csv", index=False, float_format="%.5g")
    text = summary_markdown(summary)
    if hasattr(module, "notes"):
        text += "\n" + module.notes(out_dir, summary)
    (out_dir / "summary.md").write_text(text)
    print(text)
    if measure:  # a --no-measure pass times drawing only: it leaves the record of the run that measured
        write_run_time(out_dir, {
            "seconds": time.perf_counter() - began, "module_s": module_s, "trials_run": len(measured),
            "trials_total": sum(c.trials for configs in studies.values() for c in configs),
            "trial_s": sum(float(r["elapsed_s"]) for r in measured), "load_start": load_start,
            "load_end": _load(), "cores": os.cpu_count()})
    return summary


#: The file a run leaves in results/<profile>/: how long it took (see write_run_time).
RUN_TIME = "run_time.csv"
RUN_TIME_COLUMNS = ["seconds", "module_s", "trials_run", "trials_total", "trial_s", "load_start",
                    "load_end", "cores", "hopcap_version"]


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def write_run_time(out_dir: Path, values: dict) -> None:
    """Record the last run of a profile in ``<out_dir>/run_time.csv`` (one row, replaced by each run
    that measured a trial or has no batch: a rerun that only redraws keeps the record of the run that
    measured): its wall seconds, its module's (``extra()``), the trials it measured out of the batch's
    and their elapsed_s sum, the 1-minute load at its start and end, and the cores. ``--save-timings``
    takes the module time from it, and a complete run at low load as the profile's calibration.
    The file is machine-local (ignored by git): ``make timings`` turns it into the shipped table."""
    from . import __version__

    if values.get("trials_total") and not values.get("trials_run") and (out_dir / RUN_TIME).exists():
        return

    row = {**values, "hopcap_version": __version__}
    cells = ["" if row.get(c) is None else f"{row[c]:.6g}" if isinstance(row[c], float) else str(row[c])
             for c in RUN_TIME_COLUMNS]
    (out_dir / RUN_TIME).write_text(",".join(RUN_TIME_COLUMNS) + "\n" + ",".join(cells) + "\n")


def read_run_time(out_dir: Path) -> dict | None:
    """The row :func:`write_run_time` left in ``out_dir`` (numbers as floats, blanks None), or None."""
    try:
        lines = (out_dir / RUN_TIME).read_text().splitlines()
        header, cells = lines[0].split(","), lines[1].split(",")
    except (OSError, IndexError):
        return None
    out: dict = {}
    for name, cell in zip(header, cells, strict=False):
        try:
            out[name] = float(cell) if cell else None
        except ValueError:
            out[name] = cell
    return out


def idle_complete_run(run: dict | None) -> bool:
    """Whether a recorded run measured its whole batch from an empty folder at a load below half the
    cores (a calibration run)."""
    if not run or not run.get("cores") or run.get("trials_total") is None:
        return False
    loads = [run.get("load_start"), run.get("load_end")]
    return run.get("trials_run") == run["trials_total"] and \
        all(x is not None and x < run["cores"] / 2 for x in loads)


def save_timings(profiles: list[str] | None = None, results: Path | None = None,
                 path: Path | None = None) -> TimingTable:
    """Write the timing table (capacity_cli/configs/timings.csv; see capacity_cli.timing) from the
    recorded results: a trial row per configuration of each profile's batch with a recorded
    elapsed_s, a module row per profile module (its time from the last low-load run's run_time.csv,
    else kept), a run row per calibrated profile (kept, or a complete low-load run's), and every
    trial row's seconds = recorded_s x (run - module) / (the profile's recorded batch seconds)."""
    from .results import config_key, is_blank
    from .timing import TIMINGS_PATH, TimedRow, cells, key_digest

    results = RESULTS_DIR if results is None else Path(results)
    if results is None:
        raise HopcapError("--save-timings reads the committed results/ of a checkout; give --results")
    path = TIMINGS_PATH if path is None else Path(path)
    old = TimingTable.read(path)
    if profiles is None:
        names = set(batch_profiles())
        names |= {p.stem for p in (Path(__file__).resolve().parent / "studies").glob("*.py")
                  if not p.stem.startswith("_")}
        profiles = sorted(names)
    rows: list[TimedRow] = []
    for profile in profiles:
        out_dir = results / profile
        studies = profile_studies(profile) if (CONFIG_DIR / f"{profile}.csv").exists() else {}
        run = read_run_time(out_dir)
        calibrated = idle_complete_run(run)
        trial_rows: list[TimedRow] = []
        for study, configs in studies.items():
            times: dict[tuple, list[tuple[int, float]]] = {}
            csv = out_dir / f"{study}.csv"
            for row in load_results(csv).records if csv.is_file() else []:
                if not is_blank(row.get("elapsed_s")):
                    times.setdefault(config_key(row), []).append((row["trial"], float(row["elapsed_s"])))
            for config in configs:
                columns = config.columns()
                key = config_key(columns)
                mean = trial_mean(times.get(key, ()))
                if mean is not None:
                    trial_rows.append(TimedRow("trial", profile, study, cells(columns), key_digest(key),
                                               config.trials, mean, mean))
        module = old.module.get(profile)
        if hasattr(profile_module(profile), "extra") and run and run.get("module_s") is not None \
                and run.get("cores") and (run.get("load_start") or 0) < run["cores"] / 2:
            module = TimedRow("module", profile, seconds=run["module_s"],
                              note=f"{RUN_TIME} of a run at load {run['load_start']:.1f}")
        target = old.run.get(profile)
        if calibrated:
            target = TimedRow("run", profile, seconds=run["seconds"],
                              note=f"{RUN_TIME}: a complete run at load {run['load_start']:.1f}")
        recorded = sum(r.recorded_s * r.trials for r in trial_rows)
        if target is not None and recorded > 0:
            scale = max(target.seconds - (module.seconds if module else 0.0), 0.0) / recorded
            trial_rows = [TimedRow("trial", r.profile, r.study, r.columns, r.key, r.trials,
                                   r.recorded_s, r.recorded_s * scale) for r in trial_rows]
        rows += trial_rows
        rows += [r for r in (module, target) if r is not None]
    table = TimingTable(rows)
    table.write(path)
    shipped_table.cache_clear()
    return table


def check_results(results: str | Path) -> None:
    """Read every file under ``results`` back (:func:`capacity_cli.audit.read_back_tree`) and
    check that no profile's batch has a pending trial; HopcapError naming the first problem."""
    from .audit import pending_trials, read_back_tree

    profiles = batch_profiles()
    checks = read_back_tree(results, profiles)
    pending = {p: n for p, n in pending_trials(results, profiles).items() if n}
    if pending:
        raise HopcapError(f"{results}: trials not recorded: " + ", ".join(
            f"{p} {n}" for p, n in pending.items()))
    kinds: dict[str, int] = {}
    for c in checks:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    print(f"{results}: {len(checks)} files read back ("
          + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + f"); no pending trial in "
          f"{', '.join(profiles)}")


def _checked(name: str):
    """An argparse type that checks a value like the ``hopcap measure`` option ``name``."""
    option = option_named(name)

    def convert(text: str):
        try:
            return option.type.convert(text, None, None)
        except click.BadParameter as err:
            raise argparse.ArgumentTypeError(err.message) from None

    convert.__name__ = name
    return convert


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick",
                        help="capacity_cli/configs/<profile>.csv (quick, full or a study profile)")
    parser.add_argument("--batch", default=None, help="a batch table to run instead of a profile")
    parser.add_argument("--results", default="results", help="output folder")
    parser.add_argument("--seed", type=_checked("seed"), default=0)
    parser.add_argument("--threads", type=_checked("threads"), default=None)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--estimate", nargs="+", metavar="PROFILE", default=None,
                        help="only print how long these profiles would take (recorded times, else the "
                             "timing table capacity_cli/configs/timings.csv and its cost model)")
    parser.add_argument("--save-timings", nargs="*", metavar="PROFILE", default=None,
                        help="write capacity_cli/configs/timings.csv from the recorded results "
                             "(--results, default the checkout's results/) of these profiles (default all)")
    parser.add_argument("--executor", choices=["local", "dask"], default="local",
                        help="where the batch's trials run (dask: pip install 'hopcap[dask]')")
    parser.add_argument("--scheduler", default=None,
                        help="with --executor dask: a running scheduler's address (default: a LocalCluster)")
    parser.add_argument("--no-measure", action="store_true",
                        help="draw and summarise recorded trials only; a pending trial is an error")
    parser.add_argument("--check", action="store_true",
                        help="read every file under --results back with the batch's readers and "
                             "check that no profile has a pending trial; measures and draws nothing")
    args = parser.parse_args(argv)
    if args.check:
        try:
            check_results(args.results)
        except HopcapError as err:
            raise SystemExit(f"Error: {err}") from None
        return
    if args.save_timings is not None:
        try:
            table = save_timings(args.save_timings or None,
                                 Path(args.results) if args.results != "results" or RESULTS_DIR is None
                                 else RESULTS_DIR)
        except HopcapError as err:
            raise SystemExit(f"Error: {err}") from None
        print(f"wrote {_relative(TIMINGS_PATH)}: {len(table.trial_rows)} configurations, "
              f"{len(table.module)} module times, {len(table.run)} calibrated profiles")
        return
    if args.estimate:
        try:
            print_estimates(args.estimate, args.results, args.seed)
        except HopcapError as err:
            raise SystemExit(f"Error: {err}") from None
        return
    start = time.perf_counter()
    try:
        run_batch(args.profile, args.results, args.seed, args.threads, not args.no_progress,
                  args.batch, args.executor, args.scheduler, measure=not args.no_measure)
    except HopcapError as err:
        raise SystemExit(f"Error: {err}") from None
    except OSError as err:
        raise SystemExit(f"Error: {err}") from None
    print(f"batch {args.profile} done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
