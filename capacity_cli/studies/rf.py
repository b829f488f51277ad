"""Study profile ``rf`` (make reproduce-rf, results/rf/): the random-feature DAM's capacity against
the number of features Y, beta and the feature kind, against its exact counterpart
(capacity_cli/configs/rf.csv; docs/theory.md section 9).

* ``features`` (batch): P_max against Y at beta = 10 for N = 16, 24, 32, with the exact model's P_max
  (``exp`` at beta / (4N), same pattern sequences) as horizontal lines, and the capacity per
  parameter P_max N / (2Y) (:func:`draw_features`);
* ``beta`` (batch): the same against Y at N = 16 for beta = 5..50 and both feature kinds
  (:func:`draw_beta`);
* ``agreement`` (:func:`extra`): the per-pattern stability decisions of rf against the exact model on
  the features study's trials, at P = 2 x (that trial's exact P_max), against Y;
* :func:`notes`: the plain answers.

"Reaches the exact model" at a Y means: for that Y and every larger Y measured, the paired
difference P_max(rf) - P_max(exact) over the trials (same patterns) has a 95% interval reaching 0
or above, i.e. rf is no longer measurably below the exact model.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import PatternSpec, pattern_source, trial_entropy
from ..fit import fit_law
from ..measure import dynamics_seed
from ..plotting import _save
from ..reproduce import LawRow
from ..results import load_results
from ..stats import summarize

#: The agreement study's P, per trial: this multiple of the trial's exact P_max (where the exact
#: model keeps some patterns and loses others).
AGREEMENT_P_FACTOR = 2


def _exact_beta(row_beta: float, n: int) -> float:
    """The paper's beta of an exact-counterpart row (exp at beta / (4N))."""
    return round(row_beta * 4 * n, 9)


def _split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    rf = df[df["model"] == "rf"].copy()
    exact = df[df["model"] == "exp"].copy()
    exact["paper_beta"] = [_exact_beta(b, int(n)) for b, n in zip(exact["beta"], exact["n"], strict=True)]
    return rf, exact


def paired_difference(rf: pd.DataFrame, exact: pd.DataFrame):
    """summarize(P_max(rf) - P_max(exact)) over the trials both have (same trial: same patterns)."""
    merged = rf[["trial", "p_max"]].merge(exact[["trial", "p_max"]], on="trial", suffixes=("", "_x"))
    return summarize(merged["p_max"] - merged["p_max_x"])


def reach(rf: pd.DataFrame, exact: pd.DataFrame) -> int | None:
    """The smallest Y from which rf is not measurably below the exact model (module docstring)."""
    found = None
    for y in sorted(rf["features"].unique(), reverse=True):
        s = paired_difference(rf[rf["features"] == y], exact)
        upper = s.ci_high if s.trials > 1 else s.mean
        if not (upper >= 0 or s.mean >= 0):
            break
        found = int(y)
    return found


def _curves(ax, rf: pd.DataFrame, label: str, color, per_parameter: bool = False) -> None:
    ys = np.sort(rf["features"].unique())
    n = int(rf["n"].iloc[0])
    stats = []
    for y in ys:
        values = rf.loc[rf["features"] == y, "p_max"].to_numpy(dtype=float)
        stats.append(summarize(values * n / (2 * y) if per_parameter else values))
    mean = np.array([s.mean for s in stats])
    low = np.array([s.ci_low if s.trials > 1 else s.mean for s in stats])
    high = np.array([s.ci_high if s.trials > 1 else s.mean for s in stats])
    ax.errorbar(ys, mean, yerr=[mean - low, high - mean], fmt="o-", ms=3, capsize=3, color=color,
                label=label)


def _exact_line(ax, exact: pd.DataFrame, color, label: str) -> None:
    s = summarize(exact["p_max"])
    ax.axhline(s.mean, color=color, ls="--", lw=1, label=label)
    if s.trials > 1:
        ax.axhspan(s.ci_low, s.ci_high, color=color, alpha=0.12)


def _rows(study: str, rf: pd.DataFrame, exact: pd.DataFrame, what: str) -> list[LawRow]:
    """Summary rows of one rf curve: the exact P_max, the Y it is reached at, the growth of P_max
    with Y below that, and P_max and its paired difference to exact at every Y."""
    rows = []
    n = int(rf["n"].iloc[0])
    e = summarize(exact["p_max"])
    rows.append(LawRow(study, f"exact (exp at beta/(4N)), {what}", "mean P_max", e.mean, e.ci_low,
                       e.ci_high, float("nan"), str(n), e.trials))
    y_reach = reach(rf, exact)
    rows.append(LawRow(study, f"rf {what}", "Y from which rf is not below exact (paired 95%)",
                       float("nan") if y_reach is None else y_reach, float("nan"), float("nan"),
                       float("nan"), str(n), len(rf)))
    top = y_reach if y_reach is not None else int(rf["features"].max())
    rising = rf[(rf["features"] <= top) & ~rf["capped"].fillna(False).astype(bool)]
    # a power law only where every Y stores a pattern on average (zeros cannot be logged)
    f = fit_law(rising["features"], rising["p_max"], "power") \
        if rising.groupby("features")["p_max"].mean().min() >= 1 else None
    if f is not None:
        rows.append(LawRow(study, f"rf {what}", "k in P_max ~ Y^k", f.slope, f.ci_low, f.ci_high,
                           float("nan"), f"Y={f.n_min}-{f.n_max}, N={n}", f.trials))
    for y in sorted(rf["features"].unique()):
        sub = rf[rf["features"] == y]
        s = summarize(sub["p_max"])
        d = paired_difference(sub, exact)
        rows.append(LawRow(study, f"rf {what}, Y={int(y)}", "mean P_max", s.mean, s.ci_low, s.ci_high,
                           e.mean, str(n), s.trials))
        rows.append(LawRow(study, f"rf {what}, Y={int(y)}", "mean P_max(rf) - P_max(exact), paired",
                           d.mean, d.ci_low, d.ci_high, 0.0, str(n), d.trials))
    return rows


def draw_features(df: pd.DataFrame, stem: Path) -> list[LawRow]:
    """Left: mean P_max against Y per N, exact P_max as dashed lines (band: 95% interval). Right:
    capacity per parameter P_max N / (2Y)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rf, exact = _split(df)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.8, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    rows: list[LawRow] = []
    for j, n in enumerate(sorted(rf["n"].unique())):
        color = colors[j % len(colors)]
        mine, ex = rf[rf["n"] == n], exact[exact["n"] == n]
        beta = float(mine["beta"].iloc[0])
        _curves(left, mine, f"rf N={int(n)}", color)
        _exact_line(left, ex, color, f"exact N={int(n)} (exp beta={beta:g}/{4 * int(n)})")
        _curves(right, mine, f"N={int(n)}", color, per_parameter=True)
        rows += _rows("features", mine, ex, f"beta={beta:g} trig, N={int(n)}")
        for y in sorted(mine["features"].unique()):
            s = summarize(mine.loc[mine["features"] == y, "p_max"] * n / (2 * y))
            rows.append(LawRow("features", f"rf beta={beta:g} trig, N={int(n)}, Y={int(y)}",
                               "P_max N / (2Y)", s.mean, s.ci_low, s.ci_high, float("nan"),
                               str(int(n)), s.trials))
    left.set_ylabel("mean P_max (stable), 95% interval")
    right.set_ylabel("capacity per parameter P_max N / (2Y)")
    right.set_yscale("log")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("Y (random frequencies; 2Y features)")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=7)
    _save(fig, stem, "Random-feature DAM (trig, beta=10) against the exact model")
    return rows


def draw_beta(df: pd.DataFrame, stem: Path) -> list[LawRow]:
    """P_max against Y at N = 16 for every beta (colour) and feature kind (panel), exact dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rf, exact = _split(df)
    kinds = sorted(rf["feature_kind"].unique(), reverse=True)  # trig first
    fig, axes = plt.subplots(1, len(kinds), figsize=(6.4 * len(kinds), 4.8), sharey=True)
    axes = np.atleast_1d(axes)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    rows: list[LawRow] = []
    n = int(rf["n"].iloc[0])
    for ax, kind in zip(axes, kinds, strict=True):
        for j, beta in enumerate(sorted(rf["beta"].unique())):
            color = colors[j % len(colors)]
            mine = rf[(rf["feature_kind"] == kind) & (rf["beta"] == beta)]
            ex = exact[exact["paper_beta"] == round(beta, 9)]
            _curves(ax, mine, f"rf beta={beta:g}", color)
            _exact_line(ax, ex, color, f"exact beta={beta:g}")
            rows += _rows("beta", mine, ex, f"beta={beta:g} {kind}, N={n}")
        ax.set_title(f"{kind} features, N={n}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("symlog", base=2, linthresh=1)
        ax.set_xlabel("Y (random frequencies; 2Y features)")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("mean P_max (stable); dashed: exact model")
    _save(fig, stem, "Random-feature DAM: beta and feature kind")
    return rows


DRAW = {"features": draw_features, "beta": draw_beta}


def agreement_table(frames: dict, seed: int, progress: bool = True) -> pd.DataFrame:
    """Per trial of the features study, N and Y: the fraction of the first P = AGREEMENT_P_FACTOR x
    (exact P_max) patterns whose rf stability decision equals the exact model's (same patterns, same
    frequencies as the capacity trial)."""
    from ..families.rf.model import RandomFeatureDAM, exact_stable_patterns, stable_patterns

    rf, exact = _split(frames["features"])
    out = []
    for n in sorted(rf["n"].unique()):
        n = int(n)
        mine = rf[rf["n"] == n]
        beta = float(mine["beta"].iloc[0])
        for _, row in exact[exact["n"] == n].sort_values("trial").iterrows():
            trial = int(row["trial"])
            p = max(2, AGREEMENT_P_FACTOR * int(row["p_max"]))
            x = pattern_source(PatternSpec(n), trial_entropy(int(row["seed"]), trial))(p)
            truth = exact_stable_patterns(beta, x)
            for y in sorted(mine["features"].unique()):
                model = RandomFeatureDAM(beta, int(y))
                got = stable_patterns(model, x, dynamics_seed(int(row["seed"]), trial))
                out.append({"n": n, "beta": beta, "features": int(y), "trial": trial, "p": p,
                            "exact_stable": float(truth.mean()), "rf_stable": float(got.mean()),
                            "agreement": float((got == truth).mean())})
        if progress:
            print(f"agreement: N={n} done", flush=True)
    return pd.DataFrame(out)


def extra(out_dir: Path, seed: int, threads, progress, frames: dict) -> list[LawRow]:
    """The agreement study: agreement.csv, agreement.png/pdf and its summary rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .._compile import thread_count

    with thread_count(threads):
        table = agreement_table(frames, seed, progress)
    table.to_csv(out_dir / "agreement.csv", index=False, float_format="%.6g")
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    rows = []
    for n, sub in table.groupby("n"):
        ys = np.sort(sub["features"].unique())
        stats = [summarize(sub.loc[sub["features"] == y, "agreement"]) for y in ys]
        mean = np.array([s.mean for s in stats])
        ax.errorbar(ys, mean, yerr=[mean - [s.ci_low for s in stats], [s.ci_high for s in stats] - mean],
                    fmt="o-", ms=3, capsize=3, label=f"N={int(n)}")
        for y, s in zip(ys, stats, strict=True):
            rows.append(LawRow("agreement", f"rf beta=10 trig, N={int(n)}, Y={int(y)}",
                               f"decision agreement with exact at P={AGREEMENT_P_FACTOR}x exact P_max",
                               s.mean, s.ci_low, s.ci_high, 1.0, str(int(n)), s.trials))
    ax.set_xscale("log", base=2)
    ax.set_xlabel("Y (random frequencies)")
    ax.set_ylabel(f"per-pattern agreement with exact (P = {AGREEMENT_P_FACTOR} x exact P_max)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7)
    _save(fig, out_dir / "agreement", "Stability decisions of rf against the exact model")
    return rows


def _find(summary: list[LawRow], study: str, configuration: str, quantity: str) -> LawRow | None:
    for row in summary:
        if row.study == study and row.configuration == configuration and row.quantity == quantity:
            return row
    return None


def notes(out_dir: Path, summary: list[LawRow]) -> str:
    """The plain answers, from the summary rows and the study CSVs."""
    lines = ["## Answers", ""]
    features = load_results(out_dir / "features.csv").rows
    rf, exact = _split(features)
    lines.append("**How capacity grows with Y** (trig features, beta = 10, stable, "
                 f"{int(rf['trial'].nunique())} trials per point, same patterns for rf and exact):")
    lines.append("")
    for n in sorted(rf["n"].unique()):
        n = int(n)
        what = f"beta=10 trig, N={n}"
        mine, ex = rf[rf["n"] == n], exact[exact["n"] == n]
        y_reach = reach(mine, ex)
        k = _find(summary, "features", f"rf {what}", "k in P_max ~ Y^k")
        means = mine.groupby("features")["p_max"].mean()
        e = summarize(ex["p_max"])
        text = (f"- N = {n}: mean P_max {means.iloc[0]:.1f} at Y = {int(means.index[0])}, "
                f"{means.loc[min(4096, means.index.max())]:.1f} at Y = {min(4096, int(means.index.max()))}, "
                f"{means.iloc[-1]:.1f} at Y = {int(means.index[-1])}; exact model {e.mean:.1f} "
                f"[{e.ci_low:.1f}, {e.ci_high:.1f}]. ")
        if k is not None:
            text += (f"Below that, P_max ~ Y^{k.measured:.2f} [{k.ci_low:.2f}, {k.ci_high:.2f}] "
                     f"(Y = {k.n_range.split(',')[0][2:]}). ")
        text += ("rf reaches the exact model (not measurably below it, paired 95% interval) from "
                 f"Y = {y_reach}." if y_reach is not None else
                 "rf stays measurably below the exact model at every Y measured.")
        lines.append(text)
    lines.append("")
    lines.append("Capacity per parameter P_max N / (2Y) falls with Y throughout (the memory's 2Y "
                 "numbers are far more than the P N bits stored once Y is large): " + ", ".join(
                     f"N = {int(n)}: {float(g.loc[g['features'] == g['features'].min(), 'p_max'].mean()) * n / (2 * g['features'].min()):.3g}"  # noqa: E501
                     f" at Y = {int(g['features'].min())} to "
                     f"{float(g.loc[g['features'] == g['features'].max(), 'p_max'].mean()) * n / (2 * g['features'].max()):.2g}"  # noqa: E501
                     f" at Y = {int(g['features'].max())}" for n, g in rf.groupby("n")) + ".")
    lines.append("")
    agreement = pd.read_csv(out_dir / "agreement.csv")
    parts = []
    for n, sub in agreement.groupby("n"):
        m = sub.groupby("features")["agreement"].mean()
        parts.append(f"N = {int(n)}: {m.iloc[0]:.2f} at Y = {int(m.index[0])}, {m.iloc[-1]:.2f} at "
                     f"Y = {int(m.index[-1])}")
    lines.append(f"**Decision agreement** with the exact model, per pattern at P = "
                 f"{AGREEMENT_P_FACTOR} x (the trial's exact P_max): " + "; ".join(parts) + ".")
    lines.append("")
    beta = load_results(out_dir / "beta.csv").rows
    rf_b, exact_b = _split(beta)
    lines.append("**beta and feature kind** (N = 16):")
    lines.append("")
    for kind in ("trig", "positive"):
        parts = []
        for b in sorted(rf_b["beta"].unique()):
            mine = rf_b[(rf_b["feature_kind"] == kind) & (rf_b["beta"] == b)]
            ex = exact_b[exact_b["paper_beta"] == round(b, 9)]
            if mine.empty or ex.empty:
                continue
            y_reach = reach(mine, ex)
            top = mine.groupby("features")["p_max"].mean()
            parts.append(f"beta = {b:g}: exact {ex['p_max'].mean():.1f}, rf {top.iloc[-1]:.1f} at "
                         f"Y = {int(top.index[-1])}, reached from "
                         + (f"Y = {y_reach}" if y_reach is not None else "no Y measured"))
        lines.append(f"- {kind}: " + "; ".join(parts) + ".")
    lines.append("")
    lines.append(_kind_note())
    return "\n".join(lines) + "\n"


def _kind_note() -> str:
    """Why positive features fail at these beta (docs/theory.md 9)."""
    example = math.exp(5.0)
    return ("Positive (Performer) features estimate exp(-(beta/2)|u - v|^2) through E[exp(w.a)] with "
            "|a|^2 = beta |u + v|^2, about 2 beta near a memory (|u + v|^2 = 4 |u|^2 = 2 for a "
            "balanced pattern); each feature's relative standard deviation is then "
            "sqrt(exp(|a|^2) - 1), about exp(beta) "
            f"({example:.0f} at beta = 5), so Y = 2^16 features cannot resolve a flip "
            "gain of a few per cent: at the paper's beta they do not store even one pattern "
            "reliably, while trig features (bounded, relative error ~ 1/sqrt(Y)) do.")
