"""Profile ``separation`` (``make reproduce-separation``): capacity against the separation of sets of
codewords of error-correcting codes (docs/theory.md section 13; Bielmeier & Friedland 2025).

Batch: ``capacity_cli/configs/separation.csv``. Studies ``codes63`` and ``codes127``: P_max of poly
a = 2..5 against the code's guaranteed minimum distance d (d = 0: i.i.d. baseline). ``degree``: the
smallest storing degree of sets of fixed size against d. ``correlation``: fixed guaranteed d with
units copied from a shorter code, beside the Markov generator's sets at the same c.

Growth against d is fitted (log2 P_max = s d + c, 95% bootstrap interval, capped trials left out) only
over the distances where the code *binds*: where the stored sets' achieved minimum distance (median
over trials) is at most d + 1, i.e. the sample reaches the code's own minimum. Below that the sets
are as separated as i.i.d. sets of their size and d is only a promise that nothing tests.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..codes import code_for
from ..fit import fit_trials
from ..plotting import _save
from ..reproduce import LawRow
from ..stats import summarize

#: A distance binds when the median achieved minimum distance of the stored sets is at most d + this.
BINDING_SLACK = 1


def _is_code(df: pd.DataFrame) -> pd.Series:
    return df["code"].notna() if "code" in df.columns else pd.Series(False, index=df.index)


def _capped(sub: pd.DataFrame) -> int:
    return int(sub["capped"].fillna(False).astype(bool).sum())


def binding(sub: pd.DataFrame) -> bool:
    """True when the median achieved minimum distance of these trials is within BINDING_SLACK of d."""
    achieved = sub["achieved_min_distance"].dropna()
    return not achieved.empty and float(achieved.median()) <= float(sub["min_distance"].iloc[0]) \
        + BINDING_SLACK


def _label(degree, n, code, d) -> str:
    what = f"poly a={int(degree)}, N={int(n)}"
    return f"{what}, {code} d>={int(d)}" if isinstance(code, str) else f"{what}, i.i.d. baseline"


def summarize_distances(study: str, df: pd.DataFrame) -> list[LawRow]:
    """Per degree and N: mean P_max at each d (with the achieved distances and |correlation|), and the
    fitted growth of log2 P_max per unit d over the binding, uncapped distances."""
    rows = []
    for (degree, n), group in df.groupby(["degree", "n"]):
        for (code, d), sub in group.groupby([group["code"].fillna(""), "min_distance"]):
            s = summarize(sub["p_max"])
            achieved = sub["achieved_min_distance"].dropna()
            extra = ""
            if not achieved.empty:
                extra = (f" (achieved d_min {achieved.mean():.1f}, mean |r| "
                         f"{sub['achieved_correlation'].mean():.3f}"
                         f"{', binds' if binding(sub) else ''})")
            capped = _capped(sub)
            quantity = "mean P_max" + (f", {capped} capped (= every available word)" if capped else "")
            rows.append(LawRow(study, _label(degree, n, code or None, d) + extra, quantity, s.mean,
                               s.ci_low, s.ci_high, math.nan, str(int(n)), s.trials))
        codes = group[_is_code(group)]
        bound = [d for d, sub in codes.groupby("min_distance") if binding(sub)]
        f, n_capped = fit_trials(codes[codes["min_distance"].isin(bound)], "exp2", x="min_distance")
        if f is not None:
            rows.append(LawRow(study, f"poly a={int(degree)}, N={int(n)}, bch (binding d only)",
                               "d log2 P / d d" + (f" ({n_capped} capped left out)" if n_capped else ""),
                               f.slope, f.ci_low, f.ci_high, math.nan, f"d={f.n_min}-{f.n_max}", f.trials))
    return rows


def draw_distances(df: pd.DataFrame, stem: Path) -> list[LawRow]:
    """Mean P_max (95% interval) against d per degree, log2 axis; hollow markers: every available
    codeword stored (capped); filled squares at d = 0: the i.i.d. baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    codes = df[_is_code(df) & (df["code"] == "bch")]
    for i, (degree, group) in enumerate(codes.groupby("degree")):
        color = colors[i % len(colors)]
        grouped = group.groupby("min_distance")
        d = np.array(list(grouped.groups.keys()), dtype=float)
        stats = [summarize(sub["p_max"]) for _, sub in grouped]
        mean = np.array([s.mean for s in stats])
        err = np.array([[s.mean - s.ci_low, s.ci_high - s.mean] if s.trials > 1 else [0, 0]
                        for s in stats]).T
        capped = np.array([_capped(sub) > 0 for _, sub in grouped])
        ax.errorbar(d, mean, yerr=np.nan_to_num(err), color=color, lw=1, capsize=2,
                    label=f"a={int(degree)}")
        ax.scatter(d[~capped], mean[~capped], color=color, s=16, zorder=3)
        ax.scatter(d[capped], mean[capped], facecolors="white", edgecolors=color, s=36, zorder=3)
        base = df[~_is_code(df) & (df["degree"] == degree)]
        if not base.empty:
            ax.scatter([0], [base["p_max"].mean()], marker="s", color=color, s=24, zorder=3)
    n = int(codes["n"].iloc[0]) if not codes.empty else 0
    if not codes.empty:
        ds = sorted(codes["min_distance"].unique())
        ceiling = [code_for("bch", n, int(d)).available for d in ds]
        ax.plot(ds, ceiling, ":", color="grey", label="available codewords (2^(k-1))")
    ax.set_yscale("log", base=2)
    ax.set_xlabel("guaranteed minimum distance d of the BCH code (0: i.i.d. baseline)")
    ax.set_ylabel("mean P_max (hollow: every available codeword stored)")
    top = max(codes["p_max"].max() if not codes.empty else 1, df["p_max"].max()) * 4
    ax.set_ylim(top=top)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    _save(fig, stem, f"Capacity against separation, N = {n} (BCH codeword sets)")
    return summarize_distances(stem.name, df)


def draw_degree(df: pd.DataFrame, stem: Path) -> list[LawRow]:
    """Smallest storing degree (mean, 95% interval) against d, per N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    rows = []
    for n, group in df.groupby("n"):
        xs, means = [], []
        for (code, d), sub in group.groupby([group["code"].fillna(""), "min_distance"]):
            s = summarize(sub["min_degree"].dropna())
            missing = int(sub["min_degree"].isna().sum())
            rows.append(LawRow("degree", _label(0, n, code or None, d).replace("poly a=0, ", "") +
                               f", P={int(sub['set_size'].iloc[0])}",
                               "mean smallest storing degree" +
                               (f" ({missing} not stored by any degree)" if missing else ""),
                               s.mean, s.ci_low, s.ci_high, math.nan, str(int(n)), s.trials))
            xs.append(d)
            means.append(s.mean)
        ax.plot(xs, means, "o-", label=f"N={int(n)}, P={int(group['set_size'].iloc[0])}")
    ax.set_xlabel("guaranteed minimum distance d (0: i.i.d. baseline)")
    ax.set_ylabel("smallest storing degree a (mean)")
    ax.grid(True, alpha=0.25)
    ax.legend(fontsize=8)
    _save(fig, stem, "Smallest storing degree against separation")
    return rows


def draw_correlation(df: pd.DataFrame, stem: Path) -> list[LawRow]:
    """Mean P_max against the achieved mean |feature correlation|: code sets at fixed guaranteed d
    (units copied) and Markov sets, per degree."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    rows = []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (degree, group) in enumerate(df.groupby("degree")):
        for is_code, style in ((True, "o-"), (False, "s--")):
            part = group[_is_code(group) == is_code]
            if part.empty:
                continue
            xs, ys = [], []
            for c, sub in part.groupby("correlation"):
                s = summarize(sub["p_max"])
                r = sub["achieved_correlation"].mean()
                dmin = sub["achieved_min_distance"].mean()
                what = f"bch d>={int(sub['min_distance'].iloc[0])}" if is_code else "Markov, no code"
                detail = f" (achieved d_min {dmin:.1f}, mean |r| {r:.3f})" if is_code else \
                    f" (mean |r| {r:.3f})" if r == r else ""
                rows.append(LawRow("correlation", f"poly a={int(degree)}, N={int(sub['n'].iloc[0])}, "
                                                  f"{what}, c={c:g}{detail}", "mean P_max", s.mean,
                                   s.ci_low, s.ci_high, math.nan, str(int(sub["n"].iloc[0])), s.trials))
                xs.append(c)
                ys.append(s.mean)
            ax.plot(xs, ys, style, color=colors[i % len(colors)],
                    label=f"a={int(degree)}, {'bch, units copied' if is_code else 'Markov'}")
    ax.set_yscale("log", base=2)
    ax.set_xlabel("correlation knob c (fraction of units copying their left neighbour)")
    ax.set_ylabel("mean P_max")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    _save(fig, stem, "Capacity against feature correlation at fixed guaranteed distance")
    return rows


DRAW = {"codes63": draw_distances, "codes127": draw_distances, "degree": draw_degree,
        "correlation": draw_correlation}


def _frame(out_dir: Path, study: str) -> pd.DataFrame | None:
    from ..results import load_results

    path = Path(out_dir) / f"{study}.csv"
    return load_results(path).rows if path.exists() else None


def _disjoint_above(s, base) -> bool:
    return s.trials > 1 and base.trials > 1 and s.ci_low > base.ci_high


def _overlaps(s, base) -> bool:
    return s.ci_low <= base.ci_high and base.ci_low <= s.ci_high


def distance_answers(df: pd.DataFrame) -> tuple[list[str], list[float], int, int, int]:
    """Per degree and N: where P_max leaves the i.i.d. baseline, by how much, where every available
    codeword is stored, and the growth of log2 P_max between consecutive binding distances. Returns
    the sentences, the rise points d/N, how many (degree, N) show a binding distance with P_max
    indistinguishable from the baseline, how many were compared, and in how many the last step's
    rate exceeds the first's (accelerating growth)."""
    lines, rises, flat_binding, compared, accelerating = [], [], 0, 0, 0
    for (degree, n), group in df.groupby(["degree", "n"]):
        base_rows = group[~_is_code(group)]
        codes = group[_is_code(group) & (group["code"] == "bch")]
        if base_rows.empty or codes.empty:
            continue
        base = summarize(base_rows["p_max"])
        compared += 1
        flat, rise, capped_from, steps, previous, rates = [], None, None, [], None, []
        flat_while_binding = False
        for d, sub in codes.groupby("min_distance"):
            s = summarize(sub["p_max"])
            if _capped(sub):
                capped_from = capped_from or int(d)
                continue
            if _overlaps(s, base) and rise is None:
                flat.append(int(d))
                flat_while_binding |= binding(sub)
            elif _disjoint_above(s, base) and rise is None:
                rise = (int(d), s.mean / base.mean)
            if binding(sub):
                if previous is not None:
                    rates.append((math.log2(s.mean) - math.log2(previous[1])) / (d - previous[0]))
                    steps.append(f"{previous[0]}->{int(d)}: {rates[-1]:.3f}")
                previous = (int(d), s.mean)
        text = f"- a={int(degree)}, N={int(n)}: i.i.d. baseline {base.mean:.1f} [{base.ci_low:.1f}, " \
               f"{base.ci_high:.1f}]; "
        text += f"P_max indistinguishable from it (overlapping 95% intervals) at d = " \
                f"{', '.join(map(str, flat))}; " if flat else ""
        if rise:
            rises.append(rise[0] / n)
            text += f"above it from d = {rise[0]} (d/N = {rise[0] / n:.2f}, x{rise[1]:.2f}); "
        else:
            text += "never above it before the code's size caps the set; "
        if capped_from:
            text += f"every available codeword stored from d = {capped_from}"
        text += (f"; log2 P_max per unit d between consecutive binding distances: {'; '.join(steps)}"
                 if steps else "")
        lines.append(text + ".")
        flat_binding += flat_while_binding
        accelerating += len(rates) >= 2 and rates[-1] > rates[0]
    return lines, rises, flat_binding, compared, accelerating


def correlation_answers(df: pd.DataFrame) -> list[str]:
    """Per degree and construction: P_max at the largest c against c = 0, with achieved |r| and
    minimum distance."""
    lines = []
    for degree, group in df.groupby("degree"):
        for is_code in (True, False):
            part = group[_is_code(group) == is_code]
            if part.empty:
                continue
            cs = sorted(part["correlation"].unique())
            lo, hi = part[part["correlation"] == cs[0]], part[part["correlation"] == cs[-1]]
            a, b = summarize(lo["p_max"]), summarize(hi["p_max"])
            what = f"bch d>={int(part['min_distance'].iloc[0])}, units copied" if is_code else \
                "Markov generator, no code"
            dist = f", achieved d_min {lo['achieved_min_distance'].mean():.1f} -> " \
                   f"{hi['achieved_min_distance'].mean():.1f}" if is_code else ""
            lines.append(f"- a={int(degree)}, {what}: c = {cs[0]:g} -> {cs[-1]:g} takes P_max from "
                         f"{a.mean:.1f} [{a.ci_low:.1f}, {a.ci_high:.1f}] to {b.mean:.1f} "
                         f"[{b.ci_low:.1f}, {b.ci_high:.1f}] (/{a.mean / b.mean:.2f}; mean |r| "
                         f"{hi['achieved_correlation'].mean():.3f}{dist})")
    return lines


def notes(out_dir: Path, summary: list[LawRow]) -> str:
    """The plain answers, computed from the measured rows."""
    lines = ["## Answers (computed from the rows above)", ""]
    frames = [f for f in (_frame(out_dir, s) for s in ("codes63", "codes127")) if f is not None]
    if frames:
        sentences, rises, flat_binding, compared, accelerating = \
            distance_answers(pd.concat(frames, ignore_index=True))
        lines += ["**Capacity against the code's guaranteed distance d** (bch; a distance *binds* when "
                  "the stored sets' median minimum distance is d or d + 1):", ""] + sentences + [""]
        growth = [r for r in summary if r.quantity.startswith("d log2 P / d d")]
        if growth:
            lines.append("One straight line log2 P_max = s d + c over the binding, uncapped distances "
                         "(for comparison with the exponential claim; the per-step rates above show "
                         "whether one rate fits): " + "; ".join(
                             f"{r.configuration.split(', bch')[0]}: s = {r.measured:.3f} "
                             f"[{r.ci_low:.3f}, {r.ci_high:.3f}] over {r.n_range}" for r in growth) + ".")
            lines.append("")
        if rises:
            lines.append(f"Separation first raises P_max above the i.i.d. baseline at d/N = "
                         f"{min(rises):.2f}..{max(rises):.2f} across the degrees and sizes where it "
                         f"rises before the code's size caps the set ({len(rises)} of {compared}).")
            lines.append("")
        if 2 * flat_binding >= compared:
            lines.append(f"**Verdict on the exponential claim.** In {flat_binding} of {compared} (degree, "
                         f"N) pairs the stored sets reach the code's distance (it binds) while P_max "
                         f"stays at the i.i.d. value, so log2 P_max is not one straight line in d over "
                         f"the binding range: separation leaves capacity unchanged until d is a sizeable "
                         f"fraction of N, then raises it (the per-step rate grows with d in "
                         f"{accelerating} of {compared}) until every available codeword is stored. "
                         f"Growth with separation: yes, in that upper range; exponential at one rate: "
                         f"not supported by these data.")
        else:
            lines.append(f"**Verdict on the exponential claim.** In only {flat_binding} of {compared} "
                         f"(degree, N) pairs does P_max stay at the i.i.d. value where the code binds; "
                         f"judge the straight-line fits above by their intervals.")
        lines.append("")
    degree = _frame(out_dir, "degree")
    if degree is not None:
        parts = []
        for (n, code, d), sub in degree.groupby(["n", degree["code"].fillna("i.i.d."), "min_distance"]):
            parts.append(f"N={int(n)} {code} d={int(d)}: {sub['min_degree'].mean():.1f}")
        lines += ["**Smallest storing degree** (sets of fixed size): " + "; ".join(parts) + ".", ""]
    correlation = _frame(out_dir, "correlation")
    if correlation is not None:
        lines += ["**Correlation at fixed guaranteed distance** (units copied from a shorter code) "
                  "beside the Markov generator at the same c:", ""] + correlation_answers(correlation)
        lines.append("")
    return "\n".join(lines) + "\n"
