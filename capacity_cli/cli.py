"""The ``hopcap`` command line: parses options and calls the library (capacity_cli.*).

Every error in the input ends in a one-line message and exit status 2 (``--debug`` shows the
traceback). Heavy modules are imported inside the commands so ``hopcap --help`` is instant.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.core import ParameterSource

from .options import (
    MEASURE_OPTIONS,
    FilePath,
    census_options,
    click_options,
    curve_options,
    gen_options,
    predict_options,
)


class HopcapGroup(click.Group):
    """Turns library errors into one-line messages with a non-zero exit."""

    def invoke(self, ctx):
        from .errors import HopcapError

        try:
            return super().invoke(ctx)
        except HopcapError as err:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {err}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("Interrupted; completed trials are saved, rerun the command to resume.", err=True)
            sys.exit(130)
        except MemoryError:
            click.echo("Error: out of memory; lower --p-max or --n", err=True)
            sys.exit(2)
        except OSError as err:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), err=True)
            sys.exit(2)


def _given() -> set[str]:
    """The options of the running command that the user gave (not at their defaults): the only ones
    an option-applicability check may refuse (capacity_cli.families.misplaced_options)."""
    ctx = click.get_current_context()
    return {name for name in ctx.params
            if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)}


def _print_version(ctx: click.Context, _param, value: bool) -> None:
    """``hopcap --version``: the code revision (from git in a checkout), looked up only when asked."""
    if not value or ctx.resilient_parsing:
        return
    from .provenance import code_version, installed_version

    version, installed = code_version(), installed_version()
    click.echo(f"hopcap, version {version}" + (f" (installed as {installed})" if installed != version
                                                 else ""))
    ctx.exit()


@click.group(cls=HopcapGroup, context_settings={"help_option_names": ["-h", "--help"],
                                                "show_default": True})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version (the git revision in a checkout) and exit.")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Storage capacity of Hopfield networks and dense associative memories.

    \b
    hopcap gen      make a binary pattern set (bias, feature correlation, separation)
    hopcap measure  largest storable P by binary search, over many trials -> CSV
    hopcap predict  predicted P_max under stable at finite N (no measurement)
    hopcap plot     P_max against N with theory laws and fitted exponents
    hopcap fit      fitted exponents with 95% intervals for any results CSV
    hopcap curve    fraction of the stored patterns retrieved at each P (the textbook curve)
    hopcap census   what a network settles into: attractor classes, basins, energy profiles
    hopcap info     what a pattern file holds; for a CSV, its code versions and environments

    Example: hopcap measure --model poly --degree 3 -o poly3.csv
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.command()
@click_options(gen_options())
def gen(n, p, dataset, bias, correlation, min_distance, max_tries, code, kind, seed, output, prototypes,
        example_noise):
    """Generate P patterns of length N and report what they achieved.

    Binary patterns (--kind pm1): each unit is +1 with probability --bias; unit i copies unit i-1
    with probability --correlation; with --min-distance d every pair of patterns differs in at least
    d units. Requests that no set can meet (Plotkin/Hamming bounds) fail at once. --kind sphere:
    i.i.d. Gaussian rows rescaled to norm sqrt(N) (float32), for the continuous models.
    --code bch|rm: distinct random codewords of a code with distance >= --min-distance.
    """
    from .datasets import PatternSpec, dataset_patterns, generate_patterns, pattern_stats, save_patterns
    from .families import pattern_source, refuse_misplaced
    from .provenance import code_version
    from .results import check_writable

    params = click.get_current_context().params
    refuse_misplaced(None, {**params, "source": pattern_source(params)}, _given(), gen_options())
    check_writable(output)
    if dataset:
        x = dataset_patterns(dataset)[:p]
        stats = pattern_stats(x)
        save_patterns(output, x, dataset=dataset, hopcap_version=code_version(),
                      achieved_bias=stats.bias, achieved_correlation=stats.mean_abs_correlation,
                      achieved_min_distance=stats.min_distance,
                      achieved_mean_distance=stats.mean_distance)
        click.echo(f"wrote {output}: {dataset}, P={x.shape[0]} N={x.shape[1]}")
        _echo_stats(stats)
        return
    if n is None or p is None:
        raise click.UsageError("gen needs --n and --p (or --dataset)")
    if prototypes is not None:
        from .census import prototype_set

        ps = prototype_set(n, p, prototypes, example_noise, seed)
        save_patterns(output, ps.examples, prototypes=ps.prototypes, prototype_of=ps.prototype_of,
                      example_noise=example_noise, n=n, p=p, seed=seed, hopcap_version=code_version())
        click.echo(f"wrote {output}: P={p} N={n}, examples of {prototypes} prototypes "
                   f"(example noise {example_noise:g})")
        return
    spec = PatternSpec(n, bias=bias, correlation=correlation, min_distance=min_distance,
                       max_tries=max_tries, kind=kind, code=code)
    if kind == "sphere":
        from .datasets import sphere_patterns

        x = sphere_patterns(n, p, seed=seed)
        save_patterns(output, x, n=n, p=p, kind=kind, seed=seed, hopcap_version=code_version())
        click.echo(f"wrote {output}: P={p} N={n}, sphere")
        _echo_geometry(x)
        return
    x = generate_patterns(spec, p, seed=seed)
    stats = pattern_stats(x)
    described = {"max_tries": max_tries} if spec.min_distance and not code else {}  # (it applied)
    if code:
        from .codes import code_metadata

        described = code_metadata(spec)
    save_patterns(output, x, n=n, p=p, bias=bias, correlation=spec.correlation,
                  min_distance=spec.min_distance, seed=seed, hopcap_version=code_version(),
                  achieved_bias=stats.bias, achieved_correlation=stats.mean_abs_correlation,
                  achieved_min_distance=stats.min_distance, achieved_mean_distance=stats.mean_distance,
                  **described)
    click.echo(f"wrote {output}: P={p} N={n}")
    if code:
        click.echo(f"  code                   [{described['code_n']}, {described['code_k']}, "
                   f"{described['code_d']}] {described['code_name']}")
    _echo_stats(stats)


def _echo_geometry(x) -> None:
    from .families.softmax.model import pattern_kind_stats

    g = pattern_kind_stats(x)
    click.echo(f"  row norms              {g.min_norm:.4f} .. {g.max_norm:.4f}")
    click.echo(f"  min pairwise angle     {g.min_angle_deg:.2f} degrees")


def _echo_stats(stats) -> None:
    click.echo(f"  fraction +1            {stats.bias:.4f}")
    click.echo(f"  mean |feature corr|    {stats.mean_abs_correlation:.4f}")
    click.echo(f"  min pairwise distance  {stats.min_distance}")
    click.echo(f"  mean pairwise distance {stats.mean_distance:.2f}")


@main.command()
@click.argument("path", type=FilePath())
def info(path):
    """Show the shape, parameters and achieved statistics of a .npy/.npz pattern file.

    For a CSV that hopcap wrote (results, curves, predictions, ...): its rows and configurations,
    the code versions (hopcap_version) of its rows and, for each, the environment record of the
    CSV's folder (environment.json: code revision, dependency versions, CPU, threads).
    """
    if path.lower().endswith(".csv"):
        from .provenance import csv_report

        for line in csv_report(path):
            click.echo(line)
        return
    from .datasets import load_any_patterns, load_array_file, pattern_stats

    x, kind = load_any_patterns(path)
    real = ", real (sphere) rows" if kind == "sphere" else ""
    click.echo(f"{path}: P={x.shape[0]} N={x.shape[1]}{real}")
    if path.endswith(".npz"):
        with load_array_file(path) as data:
            for name in data.files:
                if name != "patterns":
                    try:
                        value = data[name]
                        if value.ndim >= 2:  # e.g. a saved feature map: its shape, not its entries
                            value = f"array of shape {value.shape}"
                    except ValueError:  # object arrays need pickle, which hopcap never loads
                        value = "(not readable without pickle)"
                    click.echo(f"  {name:<22} {value}")
    click.echo("measured now:")
    if path.endswith(".npz"):
        from .families.kernel.model import is_map_file, map_report

        with load_array_file(path) as data:
            learned = is_map_file(data)
        if learned:  # a learned feature map (hopcap measure --save-map): its spherical code
            for line in map_report(path).lines():
                click.echo(line)
    if kind == "sphere":
        _echo_geometry(x)
    else:
        _echo_stats(pattern_stats(x))


@main.command()
@click_options(MEASURE_OPTIONS)
def measure(threads, output, progress, repair, outcomes, trace, executor, scheduler, **values):
    """Largest number of patterns P a model stores, by binary search over P, over many trials.

    Capacity of one trial is the largest prefix P of its pattern sequence that is stored (at least
    --threshold of its patterns succeed under --criterion); P is stored and P+1 is not, unless the
    cap is reached (column `capped`). Prints mean, standard deviation and 95% interval per N with
    the matching theory value, and writes tidy CSV with -o. A batch table
    (capacity_cli/configs/*.csv) takes the same options as columns.

    \b
    Examples:
      hopcap measure --model poly --degree 3
      hopcap measure --model hebbian --criterion overlap --threshold 0.9 --n 200,400,800 -o h.csv
      hopcap measure --model exp --criterion retrieve --noise 0.1 --n 12,16,20,24
      hopcap measure --model poly --degree 2,3,4 --n 32 --min-distance 0,6,8 --correlation 0,0.5
      hopcap measure --model poly --search degree --patterns set.npz
    """
    from .measure import configs_from_options, run_measurements, summarize_rows
    from .results import check_writable, load_results, repair_results

    run = dict(threads=threads, output=output, progress=progress, repair=repair, outcomes=outcomes,
               trace=trace, executor=executor, scheduler=scheduler)
    configs = configs_from_options({**values, **run}, given=_given())
    if output:
        check_writable(output)
    if outcomes:
        from .curves import check_outcome_configs

        for path in (outcomes, trace):
            if path:
                check_writable(path)
        check_outcome_configs(configs)
    if repair and Path(output).exists():
        invalid, duplicates = repair_results(output)
        click.echo(f"repaired {output}: dropped {invalid} invalid and {duplicates} duplicated rows")
    rows = run_measurements(configs, output=output, threads=threads, progress=progress,
                            executor=executor, scheduler=scheduler)
    if output:
        rows = load_results(output).records  # valid rows, each trial once
    _echo_summaries(summarize_rows(configs, rows))
    if output:
        click.echo(f"rows in {output}; draw them with: hopcap plot {output} -o figure")
    if outcomes:
        from .curves import measure_outcomes

        count, failed = measure_outcomes(configs, rows, outcomes, trace)
        click.echo(f"wrote {outcomes}: {count} per-pattern outcomes at P_max and P_max + 1"
                   + (f"; traces in {trace}" if trace else ""))
        if failed:
            click.echo("failed recalls at P_max + 1 ended as: " + ", ".join(
                f"{name} {failed[name]}" for name in sorted(failed, key=failed.get, reverse=True)))


@main.command()
@click_options(predict_options())
def predict(output, **values):
    """Predicted capacity under --criterion stable at finite N, without measuring.

    For hebbian, poly, rectpoly and exp with i.i.d. unbiased patterns: the exact law of one
    crosstalk term, the probability that one unit is unstable (exact convolution or saddlepoint),
    and units taken as independent for the law of P_max (docs/theory.md section 14). Prints the
    predicted mean, sd and quantiles of P_max beside the asymptotic law; draw it beside measurements
    with hopcap plot RESULTS.csv --predict PREDICTED.csv.

    \b
    Example: hopcap predict --model poly --degree 3 --n 32,64,128,256,512,1024
    """
    from .predict import prediction_configs, prediction_row, write_predictions
    from .results import check_writable

    configs = prediction_configs(values, given=_given() - {"output"})
    if output:
        check_writable(output)
    click.echo(f"{'configuration':<26} {'N':>6} {'mean P_max':>12} {'sd':>10} {'5%':>9} {'50%':>9} "
               f"{'95%':>9}  {'method':<24} asymptotic law")
    rows = []
    for config in configs:
        row = prediction_row(config)
        rows.append(row)
        law = f"{row['law_value']:.4g} = {row['law']}" if row["law"] else "-"
        what = f"{config.model.label}, stable" + \
            (f", q={config.criterion.threshold:g}" if config.criterion.threshold != 1 else "")
        click.echo(f"{what:<26} {config.n:>6} {row['predicted_mean']:>12.1f} {row['predicted_sd']:>10.1f} "
                   f"{row['predicted_q05']:>9} {row['predicted_q50']:>9} {row['predicted_q95']:>9}  "
                   f"{row['method']:<24} {law}")
    if output:
        write_predictions(rows, output)
        click.echo(f"wrote {output}")


def _echo_summaries(summaries) -> None:
    from .families import family_laws
    from .plotting import label_parts

    degree = summaries and summaries[0].config.search == "degree"
    recency = summaries and summaries[0].config.search == "recency"
    quantity = "min degree" if degree else "mean recent" if recency else "mean P_max"
    click.echo(f"{'configuration':<40} {'N':>6} {'trials':>6} {quantity:>11} {'std':>8} "
               f"{'95% interval':>19}  theory")
    for s in summaries:
        c, st = s.config, s.summary
        laws = [] if degree or not _iid_unbiased(c) else family_laws(c.family, c.model, c.criterion)
        theory = f"{float(laws[0](c.n)):.4g} = {laws[0].label}" if laws else \
            "- (laws are for i.i.d. unbiased patterns)" if not degree and not _iid_unbiased(c) else "-"
        parts = label_parts(c.columns(), model_label=c.model.name if degree else None)
        if degree:
            parts.insert(2, f"P={c.set_size or len(c.patterns)}")
        if recency:
            parts.insert(2, f"stream {c.stream_length}")
        what = ", ".join(parts)
        interval = f"[{st.ci_low:.1f}, {st.ci_high:.1f}]" if st.trials > 1 else "-"
        spread = f"{st.std:.1f}" if st.trials > 1 else "-"
        capped = f"  ({s.capped} capped)" if s.capped else ""
        if s.missing:
            capped += f"  ({s.missing} not stored by any degree <= {c.max_degree})"
        if s.unlearned:
            capped += f"  ({s.unlearned} left out: learning did not decrease the loss)"
        click.echo(f"{what:<40} {c.n:>6} {st.trials:>6} {st.mean:>11.1f} {spread:>8} "
                   f"{interval:>19}  {theory}{capped}")


def _iid_unbiased(config) -> bool:
    from .plotting import iid_unbiased

    return iid_unbiased(config.columns())


def _read_for_figures(paths):
    """Valid rows of the files (an invalid row is an error), warning of duplicates and noting files
    that are not results files (skipped) on stderr."""
    from .results import read_checked

    df, notes = read_checked(paths, skip_foreign=True)
    for note in notes:
        click.echo(note, err=True)
    return df


@main.command()
@click.argument("csv", nargs=-1, required=True, type=FilePath())
@click.option("-o", "--output", type=FilePath(), default="capacity",
              help="Figure path; writes PATH.png and PATH.pdf (a .png or .pdf typed is dropped).")
@click.option("--title", default=None, help="Figure title.")
@click.option("--predict", "predict_csv", multiple=True, type=FilePath(),
              help="A CSV of hopcap predict -o: draw the predicted mean P_max (5-95% band) of each "
                   "matching configuration too (repeatable).")
def plot(csv, output, title, predict_csv):
    """Draw P_max against N from one or more results CSVs, with theory laws and fitted slopes."""
    from .plotting import figure_stem, plot_capacity

    output = figure_stem(output)
    if _plot_curve_files(csv, output, title):
        return
    df = _read_for_figures(csv)
    from .plotting import configuration_groups, group_label

    for key, sub in configuration_groups(df):
        if not (sub["p_max"] > 0).any():
            click.echo(f"note: {group_label(key)}: no trial has P_max > 0, so it draws no point on "
                       "the log axes", err=True)
    predictions = None
    if predict_csv:
        from .predict import read_predictions

        predictions = read_predictions(list(predict_csv))
    for path in plot_capacity(df, output, title=title, predictions=predictions):
        click.echo(f"wrote {path}")


def _plot_curve_files(paths, output, title) -> bool:
    """Draw curve or trace CSVs (hopcap curve, --trace); False for other files."""
    from .curves import file_kind, plot_curves, plot_traces
    from .errors import HopcapError

    kinds = {file_kind(p) for p in paths}
    if not kinds & {"curve", "trace", "outcomes"}:
        return False
    if len(kinds) > 1 or "outcomes" in kinds:
        raise HopcapError("plot draws curve files or trace files, one kind at a time (outcomes "
                          "files are tables)")
    draw = plot_curves if kinds == {"curve"} else plot_traces
    for path in draw(paths, output, title):
        click.echo(f"wrote {path}")
    return True


@main.command()
@click_options(curve_options())
def curve(threads, output, progress, p, p_over_n, trace, **values):
    """Fraction of the stored patterns that succeed at each P of a grid, per trial: a retrieval curve.

    The capacity search's own check runs at every P (no bisection); each trial's P_max from the
    search is written beside it, and `hopcap plot` draws the mean fraction with its 95% interval
    against alpha = P/N, the capacity marked. --trace FILE writes the energy after each sweep of every
    recall. Binary family; trials are those of `hopcap measure` (same seeds, same patterns).

    \b
    Examples:
      hopcap curve --model hebbian --n 400 --p-over-n 0.05:0.25:0.01 --trials 20 -o c.csv
      hopcap curve --model poly --degree 3 --n 64 --p 10:200:10 --criterion retrieve
    """
    from .curves import curve_summary, make_grid, run_curves
    from .measure import configs_from_options
    from .results import check_writable

    grid = make_grid(p, p_over_n)
    configs = configs_from_options(values, given=_given() & set(values), options=curve_options())
    for path in (output, trace):
        if path:
            check_writable(path)
    rows = run_curves(configs, grid, output=output, trace=trace, threads=threads, progress=progress)
    for label, n, points, cap in curve_summary(rows):
        click.echo(f"{label}, N={n}: P_max/N = {cap.mean:.4f}"
                   + (f" [{cap.ci_low:.4f}, {cap.ci_high:.4f}]" if cap.trials > 1 else "")
                   + f" over {cap.trials} trials")
        click.echo(f"  {'alpha':>8} {'fraction':>9} {'95% interval':>17}")
        for alpha, s in points:
            interval = f"[{max(s.ci_low, 0):.3f}, {min(s.ci_high, 1):.3f}]" if s.trials > 1 else "-"
            click.echo(f"  {alpha:>8.4f} {s.mean:>9.3f} {interval:>17}")
    if output:
        click.echo(f"rows in {output}; draw them with: hopcap plot {output} -o figure")


@main.command()
@click.argument("csv", nargs=-1, required=True, type=FilePath())
@click.option("--form", type=click.Choice(["auto", "power", "power_ln", "exp2", "linear", "alpha_inv_n"]),
              default="auto", help="Law to fit (auto: exp2 for exp, power otherwise); see capacity_cli.fit.")
@click.option("--intercept", is_flag=True,
              help="Report the fitted intercept instead of the slope; with --form alpha_inv_n that is "
                   "alpha = P/N extrapolated to N -> infinity (the summaries' alpha rows).")
def fit(csv, form, intercept):
    """Fitted exponents with 95% bootstrap intervals, per configuration, for results CSVs.

    Files that are not results files (summary.csv) are skipped with a note, so a results folder
    can be given as results/quick/*.csv. Every fitted number of a summary.md comes from here:
    slopes with --form power, power_ln or exp2, the alpha rows with --form alpha_inv_n --intercept.
    """
    from .fit import fit_trials
    from .plotting import configuration_groups, group_label, growth_of

    df = _read_for_figures(csv)
    value = "intercept" if intercept else "slope"
    click.echo(f"{'configuration':<40} {'form':<11} {value:>9} {'95% interval':>20} {'N range':>12}")
    for key, sub in configuration_groups(df):
        use = form if form != "auto" else ("exp2" if growth_of(key) == "exp" else "power")
        f, n_capped = fit_trials(sub, use)
        note = f"  ({n_capped} capped trials left out)" if n_capped else ""
        if f is None:
            click.echo(f"{group_label(key):<40} {use:<11} {'-':>9}  (needs two N with P_max > 0){note}")
            continue
        v, low, high = (f.intercept, f.intercept_low, f.intercept_high) if intercept \
            else (f.slope, f.ci_low, f.ci_high)
        interval = f"[{low:.4f}, {high:.4f}]" if f.interval_defined else "-"
        if not f.interval_defined:
            note += "  (95% interval undefined: needs at least 2 trials at every N)"
        click.echo(f"{group_label(key):<40} {use:<11} {v:>9.4f} "
                   f"{interval:>20} {f'{f.n_min}-{f.n_max}':>12}{note}")


@main.command()
@click_options(census_options())
def census(model, degree, beta, n, p, patterns, dataset, prototypes, example_noise, starts, from_cues,
           max_sweeps, radius_cues, profiles, classify, seed, threads):
    """Attractor census: relax from many starts, classify the fixed points reached.

    Classes: stored, reversed, prototype, mixture3/mixture5 (sign of a signed sum of 3 or 5 stored
    patterns, checked exactly), other. Per class: distinct states, basin (fraction of starts),
    energy mean and spread; the mean basin radius of the stored patterns.

    Example: hopcap census --model hebbian --n 100 --p 10 --starts 10000
    """
    from . import census as lib
    from .errors import HopcapError
    from .families import family_of, pattern_source, refuse_misplaced

    params = click.get_current_context().params
    refuse_misplaced(family_of(model), {**params, "source": pattern_source(params)}, _given(),
                     census_options())
    if profiles is not None and not profiles.endswith(".npz"):
        raise HopcapError("--profiles must end in .npz")
    if threads is not None and threads < 1:
        raise HopcapError(f"--threads must be >= 1, got {threads}")
    plan = lib.census_plan(model, degree, beta, n, p, patterns, dataset, prototypes, example_noise,
                           starts, from_cues, max_sweeps, radius_cues, classify, seed)
    with lib.threads_context(threads):
        result = lib.run_plan(plan)
        click.echo(lib.format_table(result))
        if profiles:
            lib.write_profiles(profiles, result)
            click.echo(f"wrote {profiles}")
        if classify:
            task = (plan.x.shape[0], prototypes, example_noise)
            rows = lib.classification_table(plan.model, plan.x.shape[1], [task], classify, starts, seed,
                                            max_sweeps)
            click.echo(lib.format_accuracy(rows))


if __name__ == "__main__":  # pragma: no cover
    main()
