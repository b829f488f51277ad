"""The reproduction batch: the three classical scaling laws, as data.

A batch is a CSV table (``capacity_cli/configs/<profile>.csv``, shipped with the package), one row per
run: ``study`` (the figure it belongs to) and any option of ``hopcap measure`` as a column of the same
name (underscores for dashes: ``n``, ``max_sweeps``, ``p_max``, ...), parsed and checked exactly like the
option; lists are space-separated (``n`` = ``16 32 64``), a blank cell takes the option's default, and a
``patterns`` path is relative to the working directory.
:func:`run_batch` measures every row into ``<results>/<profile>/<study>.csv`` (resumable:
finished trials are skipped), then draws ``<study>.png/.pdf`` and writes ``summary.csv`` and
``summary.md`` with the fitted laws against theory.

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
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

import click
import numpy as np
import pandas as pd

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
from .results import load_results
from .stats import summarize
from .theory import expected_loglog_slope, mutual_information_rate

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
    """What a batch has left to run: trials, the trial time they took when recorded, and the
    configurations with no recorded time (new ones, or ones a newer version keys differently)."""

    trials: int
    seconds: float
    untimed: int
    source: str

    def line(self) -> str:
        if self.trials == 0:
            return "estimate: every trial is already recorded; drawing and summarising only"
        untimed = f"; {self.untimed} configuration(s) have no recorded time and are not counted" \
            if self.untimed else ""
        return (f"estimate: {self.trials} trials to run, about {self.seconds / 60:.1f} min of trial time "
                f"as recorded in {self.source} (its elapsed_s; the time depends on the machine and on "
                f"what else runs on it){untimed}")


def estimate_batch(studies: dict[str, list[MeasureConfig]], out_dir: Path,
                   reference_dir: Path | None) -> Estimate:
    """The trials of ``studies`` not yet in ``out_dir``, timed by the mean elapsed_s of the same
    configuration in ``out_dir`` or, failing that, in ``reference_dir`` (the committed results)."""
    from .results import config_key, is_blank

    def rows(path: Path) -> list[dict]:
        try:
            return load_results(path).records if path.is_file() else []
        except HopcapError:
            return []

    trials, seconds, untimed = 0, 0.0, 0
    for study, configs in studies.items():
        done: dict[tuple, set[int]] = {}
        times: dict[tuple, list[float]] = {}
        for where in (out_dir, reference_dir) if reference_dir is not None else (out_dir,):
            for row in rows(where / f"{study}.csv"):
                key = config_key(row)
                if where == out_dir:
                    done.setdefault(key, set()).add(row["trial"])
                if not is_blank(row.get("elapsed_s")):
                    times.setdefault(key, []).append(float(row["elapsed_s"]))
        for config in configs:
            key = config_key(config.columns())
            left = sum(1 for t in range(config.trials) if t not in done.get(key, ()))
            trials += left
            if left and key in times:
                seconds += left * sum(times[key]) / len(times[key])
            elif left:
                untimed += 1
    source = str(reference_dir or out_dir)
    try:
        source = str(Path(source).relative_to(Path.cwd()))
    except ValueError:
        pass
    return Estimate(trials, seconds, untimed, source)


def profile_studies(profile: str, seed: int = 0) -> dict[str, list[MeasureConfig]]:
    """The batch configurations of a profile by study ({} for a profile without a batch table)."""
    path = CONFIG_DIR / f"{profile}.csv"
    if not path.exists() and profile_module(profile) is not None:
        return {}
    studies: dict[str, list[MeasureConfig]] = {}
    for study, config in batch_configs(read_batch(path), seed=seed):
        studies.setdefault(study, []).append(config)
    return studies


def print_estimates(profiles: list[str], results: str | Path, seed: int = 0) -> None:
    """One estimate line per profile and their total (what ``make reproduce`` prints first)."""
    total = 0.0
    for profile in profiles:
        studies = profile_studies(profile, seed)
        if not studies:
            print(f"{profile}: no capacity batch; the work of its study module is not estimated")
            continue
        estimate = estimate_batch(studies, Path(results) / profile, _reference(profile))
        total += estimate.seconds
        print(f"{profile}: {estimate.line()}")
    print(f"in all about {total / 60:.0f} min of recorded trial time, not counting the study modules' "
          "own work (census, comparisons) nor drawing", flush=True)


def run_batch(profile: str = "quick", results: str | Path = "results", seed: int = 0,
              threads: int | None = None, progress: bool = True, batch: str | Path | None = None,
              executor: str = "local", scheduler: str | None = None) -> list[LawRow]:
    """Measure, draw and summarise a batch (and run the profile's own module, if it has one:
    see the module docstring); returns the summary rows. ``executor``/``scheduler``: where the
    batch's trials run (measure.run_measurements; a profile module's extra() runs locally)."""
    module = None if batch else profile_module(profile)
    path = Path(batch) if batch else CONFIG_DIR / f"{profile}.csv"
    if module is not None and not path.exists():
        table = None
    else:
        table = read_batch(path)
    out_dir = Path(results) / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    studies: dict[str, list[MeasureConfig]] = {}
    if table is not None:
        for study, config in batch_configs(table, seed=seed):
            studies.setdefault(study, []).append(config)
    if studies:
        print(estimate_batch(studies, out_dir, _reference(profile)).line(), flush=True)
    custom = getattr(module, "DRAW", {})
    summary: list[LawRow] = []
    frames: dict[str, pd.DataFrame] = {}
    for study, configs in studies.items():
        csv = out_dir / f"{study}.csv"
        start = time.perf_counter()
        run_measurements(configs, output=str(csv), threads=threads, progress=progress,
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
    if hasattr(module, "extra"):
        summary.extend(module.extra(out_dir, seed, threads, progress, frames))
    frame = pd.DataFrame([r.__dict__ for r in summary])
    frame.to_csv(out_dir / "summary.csv", index=False, float_format="%.5g")
    text = summary_markdown(summary)
    if hasattr(module, "notes"):
        text += "\n" + module.notes(out_dir, summary)
    (out_dir / "summary.md").write_text(text)
    print(text)
    return summary


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
                        help="only print how long these profiles would take, from recorded times")
    parser.add_argument("--executor", choices=["local", "dask"], default="local",
                        help="where the batch's trials run (dask: pip install 'hopcap[dask]')")
    parser.add_argument("--scheduler", default=None,
                        help="with --executor dask: a running scheduler's address (default: a LocalCluster)")
    args = parser.parse_args(argv)
    if args.estimate:
        try:
            print_estimates(args.estimate, args.results, args.seed)
        except HopcapError as err:
            raise SystemExit(f"Error: {err}") from None
        return
    start = time.perf_counter()
    try:
        run_batch(args.profile, args.results, args.seed, args.threads, not args.no_progress,
                  args.batch, args.executor, args.scheduler)
    except HopcapError as err:
        raise SystemExit(f"Error: {err}") from None
    except OSError as err:
        raise SystemExit(f"Error: {err}") from None
    print(f"batch {args.profile} done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
