"""Validation of ``hopcap predict`` (make reproduce-predict; docs/theory.md section 14).

The batch ``capacity_cli/configs/predict.csv`` measures a small check (study ``check``: poly a = 5, exp
beta = 2, and threshold 0.9 under stable, with seed 1 so the sets are new). :func:`extra` then reads
every committed measurement under ``results/`` that the prediction covers (binary energy-rule models,
``stable``, i.i.d. unbiased patterns: results/quick, results/modern's rules study, results/structured's
unstructured rows, and the check) and writes

- ``validation.csv``: per configuration and N, measured mean P_max with its 95% interval, sd and
  trials, against the predicted mean, sd and 5-95% quantiles; relative error; inside or not;
- ``slopes.csv``: the fitted slope of the committed summaries (same form: ``power_ln`` for the power
  laws, ``exp2`` for exp) against the same line fitted to the predicted means at the same N, and
  the predicted local slope further out (between N = 2048 and 4096 for the power laws, 48 and 56 for
  exp);
- ``validation.png/.pdf`` (measured / predicted against N) and ``<study>.png/.pdf`` (measurement,
  prediction and asymptotic law together, for the quick studies).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..fit import _line, _transform, fit_trials
from ..models import BinaryDAM
from ..plotting import _save, configuration_groups, group_label, model_of, plot_capacity
from ..predict import predict_capacity
from ..reproduce import LawRow, summarize_study
from ..results import is_blank, load_results
from ..stats import summarize

RESULTS = Path(__file__).resolve().parents[2] / "results"
#: Committed measurements read (relative to results/), with the study label used in the tables.
SOURCES = {"quick/hebbian.csv": "quick", "quick/poly.csv": "quick", "quick/exp.csv": "quick",
           "modern/rules.csv": "modern", "structured/structured.csv": "structured"}
#: Sizes at which the predicted slope is followed beyond the measured range.
FAR_POWER = (2048, 4096)
FAR_EXP = (48, 56)


def _covered(df: pd.DataFrame) -> pd.DataFrame:
    """Rows the prediction covers: binary energy-rule models under stable, i.i.d. unbiased
    generated patterns, searched over P."""
    keep = df["model"].isin(["hebbian", "poly", "rectpoly", "exp"]) & (df["criterion"] == "stable")
    for column, value in (("rule", "energy"), ("search", "p")):
        if column in df.columns:
            keep &= df[column].isna() | (df[column] == value)
    for column, value in (("bias", 0.5), ("correlation", 0.0), ("min_distance", 0)):
        if column in df.columns:
            keep &= df[column].isna() | (df[column] == value)
    if "patterns" in df.columns:
        keep &= df["patterns"].isna()
    return df[keep]


def _model(key: dict) -> BinaryDAM:
    return model_of(key)


def _predict(key: dict, n: int):
    threshold = 1.0 if is_blank(key.get("threshold")) else float(key["threshold"])
    return predict_capacity(_model(key), int(n), threshold)


def _form(model: BinaryDAM) -> tuple[str, str]:
    return ("exp2", "d log2 P / dN") if model.name == "exp" else ("power_ln", "k in P ~ N^k / ln N")


def _slope(form: str, sizes, means) -> float:
    x, y = _transform(form, np.asarray(sizes, dtype=np.float64), np.asarray(means, dtype=np.float64))
    return _line(x, y)[0]


def draw_check(df: pd.DataFrame, stem: Path) -> list[LawRow]:
    """The check study: measurement, prediction and law together; the default summary rows."""
    plot_capacity(df, stem, title="Check (seed 1): measured, predicted, law",
                  predictions=_prediction_frame(df))
    return summarize_study("check", df)


DRAW = {"check": draw_check}


def _prediction_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Prediction rows (the columns plotting matches on) for every configuration and N of df."""
    rows = []
    for key, sub in configuration_groups(df):
        for n in sorted(sub["n"].unique()):
            pred = _predict(key, n)
            rows.append({**key, "n": n, "predicted_mean": pred.mean, "predicted_sd": pred.sd,
                         "predicted_q05": pred.quantile(0.05), "predicted_q95": pred.quantile(0.95)})
    return pd.DataFrame(rows)


def _measured_frames(frames: dict[str, pd.DataFrame]) -> list[tuple[str, pd.DataFrame]]:
    out = []
    for relative, label in SOURCES.items():
        path = RESULTS / relative
        if path.exists():
            out.append((label, _covered(load_results(path).rows)))
    for study, df in frames.items():
        out.append((study, _covered(df)))
    return out


def extra(out_dir: Path, seed: int, threads, progress: bool, frames: dict) -> list[LawRow]:
    """Predicted against measured mean P_max and slopes; writes validation.csv, slopes.csv and the
    figures (see the module docstring)."""
    out_dir = Path(out_dir)
    table, slopes, summary = [], [], []
    seen = set()  # results/modern's rules and results/structured repeat some of quick's trials (seed 0)
    for source, df in _measured_frames(frames):
        if df.empty:
            continue
        for key, sub in configuration_groups(df):
            model = _model(key)
            label = group_label(key)
            free = sub[~sub["capped"].fillna(False).astype(bool)]
            sizes = sorted(free["n"].unique())
            predicted = {}
            for n in sizes:
                m = summarize(free.loc[free["n"] == n, "p_max"])
                same = (label, int(n), m.trials, m.mean)
                if same in seen:
                    continue
                seen.add(same)
                pred = predict_capacity(model, int(n), 1.0 if is_blank(key.get("threshold"))
                                        else float(key["threshold"]))
                predicted[n] = pred.mean
                table.append({"source": source, "configuration": label, "n": int(n),
                              "trials": m.trials, "measured_mean": m.mean, "ci_low": m.ci_low,
                              "ci_high": m.ci_high, "measured_sd": m.std,
                              "predicted_mean": pred.mean, "predicted_sd": pred.sd,
                              "predicted_q05": pred.quantile(0.05),
                              "predicted_q95": pred.quantile(0.95),
                              "relative_error": pred.mean / m.mean - 1.0,
                              "inside": bool(m.ci_low <= pred.mean <= m.ci_high),
                              "method": pred.method})
            if len(sizes) < 2:
                continue
            for n in sizes:
                if n not in predicted:
                    predicted[n] = _predict(key, n).mean
            form, quantity = _form(model)
            fit, _ = fit_trials(free, form)
            pred_slope = _slope(form, sizes, [predicted[n] for n in sizes])
            far = FAR_EXP if model.name == "exp" else FAR_POWER
            threshold = 1.0 if is_blank(key.get("threshold")) else float(key["threshold"])
            far_means = [predict_capacity(model, n, threshold).mean for n in far]
            local = _slope(form, far[-2:], far_means[-2:])
            theory = 0.5 if model.name == "exp" else (1.0 if model.name == "hebbian"
                                                       else float(model.degree - 1))
            slopes.append({"source": source, "configuration": label, "form": form,
                           "n_range": f"{int(sizes[0])}-{int(sizes[-1])}",
                           "measured_slope": fit.slope, "ci_low": fit.ci_low, "ci_high": fit.ci_high,
                           "predicted_slope": pred_slope,
                           "predicted_local_slope_far": local,
                           "far_n": f"{far[-2]}-{far[-1]}", "asymptotic": theory})
            summary.append(LawRow("slopes", f"{label} [{source}]", f"{quantity}: measured vs predicted",
                                  fit.slope, fit.ci_low, fit.ci_high, pred_slope,
                                  f"{int(sizes[0])}-{int(sizes[-1])}", fit.trials))
    validation = pd.DataFrame(table)
    validation.to_csv(out_dir / "validation.csv", index=False, float_format="%.6g")
    pd.DataFrame(slopes).to_csv(out_dir / "slopes.csv", index=False, float_format="%.6g")
    for source, group in validation.groupby("source", sort=False):
        inside = int(group["inside"].sum())
        err = group["relative_error"].abs()
        summary.append(LawRow("validation", f"{source}: {len(group)} (configuration, N)",
                              "median |predicted/measured - 1|", float(err.median()),
                              float("nan"), float("nan"), float("nan"),
                              f"{inside}/{len(group)} inside the 95% interval", int(group["trials"].sum())))
    _draw_validation(validation, out_dir / "validation")
    _draw_quick(out_dir)
    return summary


def _draw_validation(validation: pd.DataFrame, stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for (source, label), g in validation.groupby(["source", "configuration"], sort=False):
        g = g.sort_values("n")
        ratio = g["measured_mean"] / g["predicted_mean"]
        low = g["ci_low"] / g["predicted_mean"]
        high = g["ci_high"] / g["predicted_mean"]
        ax.errorbar(g["n"], ratio, yerr=[ratio - low, high - ratio], fmt="o-", ms=3, capsize=2, lw=0.8,
                    label=f"{label} [{source}]")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (units)")
    ax.set_ylabel("measured mean P_max / predicted (95% interval)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=6, ncol=2)
    _save(fig, stem, "Finite-N prediction under stable: measured / predicted mean P_max")


def _draw_quick(out_dir: Path) -> None:
    """results/quick's stable studies redrawn with the prediction beside measurement and law."""
    for study in ("hebbian", "poly", "exp"):
        path = RESULTS / "quick" / f"{study}.csv"
        if not path.exists():
            continue
        df = _covered(load_results(path).rows)
        if df.empty:
            continue
        plot_capacity(df, out_dir / study, title=f"quick/{study} (stable): measured, predicted, law",
                      predictions=_prediction_frame(df))


def notes(out_dir: Path, summary: list[LawRow]) -> str:
    """The plain answers, from validation.csv and slopes.csv."""
    v = pd.read_csv(Path(out_dir) / "validation.csv")
    s = pd.read_csv(Path(out_dir) / "slopes.csv")
    ones = v[~v["configuration"].str.contains("q=")]
    inside = int(ones["inside"].sum())
    err = ones["relative_error"]
    large = ones[(ones["n"] >= 128) & ~ones["configuration"].str.startswith("exp")]
    lines = ["## Answers", ""]
    lines.append(f"- Threshold 1 (every pattern a fixed point), {len(ones)} distinct (configuration, N) "
                 f"measurements: the predicted mean lies inside the measured 95% interval at {inside}; "
                 f"median |predicted/measured - 1| = {err.abs().median():.1%}; for the power laws at "
                 f"N >= 128 the largest is {large['relative_error'].abs().max():.1%}.")
    out = ones[~ones["inside"]].sort_values("n")
    if not out.empty:
        lines.append("- Outside the interval: " + "; ".join(
            f"{r.configuration} N={r.n} ({r.relative_error:+.0%})" for r in out.itertuples()) + ".")
    low = out[out["relative_error"] < 0]["relative_error"]
    lines.append(
        "- Where it fails, and why: at small N (N <= 200 for hebbian, N <= 64 for poly a=2, N <= 24 "
        f"for a >= 3) the prediction is low by {-low.max():.0%}-{-low.min():.0%}. It takes the N x P "
        "unit events as independent, but the units of one pattern share its overlaps with the others "
        "(a common factor of relative size ~sqrt(2/N)), and a pattern with one large overlap fails "
        "with its partner: failures clump, so P(no failure) exceeds the product. The per-unit "
        "probability itself is exact (tests/test_predict.py), and the gap closes as N grows. exp's "
        "single-N deviations (+41% at N=28 in quick, -11% at the same N in the 40-trial check) are "
        "the measurements' own spread: its P_max has sd about half its mean.")
    for r in s.itertuples():
        if r.source != "quick":
            continue
        verdict = "inside" if r.ci_low <= r.predicted_slope <= r.ci_high else "outside"
        lines.append(f"- {r.configuration} ({r.form}, N {r.n_range}): measured slope "
                     f"{r.measured_slope:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}], predicted at the same N "
                     f"{r.predicted_slope:.3f} ({verdict} the interval); predicted local slope at N "
                     f"{r.far_n}: {r.predicted_local_slope_far:.3f} (asymptotic {r.asymptotic:g}).")
    lines.append("- Does the prediction explain 1.93 and 0.469? Yes: fitted the same way over the same N, "
                 "the predicted means give slopes inside both measured intervals, and the predicted "
                 "local slope approaches a - 1 (or 1/2) only slowly beyond the measured range: the "
                 "shortfall is finite-size physics of the exact crosstalk law, not a bug. Where the "
                 "predicted slope lies above the measured interval (hebbian, poly a=2, poly a=4), the "
                 "cause is the small-N under-prediction above: the lowest N pull the predicted line down "
                 "at its left end, steepening it.")
    tq = v[v["configuration"].str.contains("q=0.9")]
    if not tq.empty:
        ratio = tq["predicted_sd"] / tq["measured_sd"]
        lines.append(f"- Threshold 0.9: the mean is within {tq['relative_error'].abs().max():.0%} (low at "
                     f"small N as above), but the predicted sd is {ratio.median():.2f} of the measured one "
                     f"(median; down to {ratio.min():.2f}): the number of failing patterns is treated "
                     "as a fresh binomial at each P, whereas the real count is cumulative (a failed "
                     "pattern stays failed), so below threshold 1 trust the mean, not the spread.")
    return "\n".join(lines) + "\n"
