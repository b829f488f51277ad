"""Study profile ``learning`` (results/learning/): pairwise networks with learned couplings.

* ``rules`` (capacity_cli/configs/learning.csv): P_max / N against N for hebbian, hebbian-diag, storkey, pinv
  and perceptron under ``stable`` and ``overlap --min-overlap 0.9``, with the literature's lines;
* ``unlearning`` (capacity_cli/configs/learning.csv): capacity against K unlearning steps per stored pattern
  (eps = 0.01) at N = 100 and 200: the optimum K and the K statistically indistinguishable from it;
* :func:`extra`: the palimpsest's ``--search recency`` (recent_retrievable / N against N) and the
  forgetting curves (retrievability against pattern age) of the palimpsest after a stream of 10 N
  patterns and of plain Hebbian learning after streams of 0.1 N .. 0.3 N patterns.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..criteria import Overlap
from ..datasets import PatternSpec, pattern_source, trial_entropy
from ..families.pairwise import gardner_alpha
from ..measure import configs_from_options, dynamics_seed, run_measurements
from ..reproduce import LawRow
from ..results import load_results
from ..stats import summarize

RULES = ("hebbian", "hebbian-diag", "storkey", "pinv", "perceptron")
RECENCY_N = (64, 128, 256)
RECENCY_TRIALS = 10
CURVE_N = 200
CURVE_STREAMS = 10
HEBBIAN_LOADS = (0.1, 0.14, 0.2, 0.3)
CURVE_CRITERION = Overlap(min_overlap=0.9)


def _theory_over_n(rule: str, criterion: str, n: np.ndarray) -> tuple[np.ndarray, str]:
    """The literature's P / N for a rule and criterion (theory.md section 3, modern.md E)."""
    n = np.asarray(n, dtype=float)
    if rule == "storkey":
        return 1 / np.sqrt(2 * np.log(n)), "1/sqrt(2 ln N) (Storkey)"
    if rule == "pinv":
        return np.ones_like(n), "1 (pinv)"
    if rule == "perceptron":
        return np.full_like(n, gardner_alpha(0.0)), "2 (Gardner)"
    if criterion == "overlap":
        return np.full_like(n, 0.138), "0.138 (AGS)"
    return 1 / (4 * np.log(n)), "1/(4 ln N) (McEliece, all stable)"


def draw_rules(df: pd.DataFrame, stem: Path) -> list[LawRow]:
    """P_max / N against N, one panel per criterion; summary: P_max / N at each rule's largest N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    criteria = [c for c in ("stable", "overlap") if c in set(df["criterion"])]
    fig, axes = plt.subplots(1, len(criteria), figsize=(6.4 * len(criteria), 4.8), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, criterion in zip(axes[0], criteria, strict=True):
        for k, rule in enumerate(RULES):
            sub = df[(df["criterion"] == criterion) & (df["rule"] == rule)]
            if sub.empty:
                continue
            sizes = sorted(sub["n"].unique())
            stats = [summarize(sub.loc[sub["n"] == n, "p_max"] / n) for n in sizes]
            mean = np.array([s.mean for s in stats])
            low = np.array([s.ci_low for s in stats])
            high = np.array([s.ci_high for s in stats])
            color = colors[k % len(colors)]
            ax.errorbar(sizes, mean, yerr=[mean - low, high - mean], marker="o", color=color,
                        capsize=3, label=rule)
            grid = np.geomspace(sizes[0], sizes[-1], 50)
            theory, label = _theory_over_n(rule, criterion, grid)
            ax.plot(grid, theory, "--", color=color, alpha=0.7, label=f"  {label}")
            n_top = sizes[-1]
            capped = int(sub.loc[sub["n"] == n_top, "capped"].fillna(False).astype(bool).sum())
            s = stats[-1]
            where = f"{int(n_top)}" + (f" ({capped} capped)" if capped else "")
            label = f"pairwise {rule}, {criterion}" + (", m>=0.9" if criterion == "overlap" else "")
            rows.append(LawRow("rules", label, "P_max / N at the largest N", s.mean, s.ci_low, s.ci_high,
                               float(_theory_over_n(rule, criterion, [n_top])[0][0]), where, s.trials))
            if rule == "perceptron" and "epoch_capped" in sub.columns:
                cap = sub["epoch_capped"].dropna().astype(bool)
                rows.append(LawRow("rules", label, "fraction of trials whose refused prefix P_max + 1 "
                                   "hit the epoch cap (epoch_capped)", float(cap.mean()),
                                   float("nan"), float("nan"), float("nan"),
                                   f"{int(sizes[0])}-{int(n_top)}", len(cap)))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("N")
        ax.set_ylabel("P_max / N (mean, 95% CI)")
        ax.set_title(f"{criterion}" + (" (m >= 0.9 from the pattern)" if criterion == "overlap" else ""))
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle("Pairwise networks with learned couplings: capacity per unit")
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(f"{stem}.{ext}", dpi=120)
    plt.close(fig)
    return rows


def optimum(sub: pd.DataFrame) -> tuple[int, list[int], dict[int, object]]:
    """(K with the largest mean P_max, the K whose 95% interval reaches the best one's lower end,
    the summaries by K)."""
    by_k = {int(k): summarize(sub.loc[sub["unlearn"] == k, "p_max"]) for k in sorted(sub["unlearn"].unique())}
    best = max(by_k, key=lambda k: by_k[k].mean)
    tied = [k for k, s in by_k.items() if s.ci_high >= by_k[best].ci_low]
    return best, tied, by_k


def draw_unlearning(df: pd.DataFrame, stem: Path) -> list[LawRow]:
    """P_max / N against K (steps per stored pattern), one line per N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for n, sub in df.groupby("n"):
        sub = sub.assign(unlearn=sub["unlearn"].fillna(0).astype(int))
        best, tied, by_k = optimum(sub)
        ks = sorted(by_k)
        x = [max(k, 0.5) for k in ks]  # K = 0 drawn at 0.5 on the log axis
        mean = np.array([by_k[k].mean for k in ks]) / n
        low = np.array([by_k[k].ci_low for k in ks]) / n
        high = np.array([by_k[k].ci_high for k in ks]) / n
        ax.errorbar(x, mean, yerr=[mean - low, high - mean], marker="o", capsize=3,
                    label=f"N={int(n)} (best K={best})")
        eps = float(sub["unlearn_eps"].dropna().iloc[0]) if sub["unlearn_eps"].notna().any() else 0.01
        crit = sub["criterion"].iloc[0]
        label = f"pairwise hebbian, unlearning eps={eps:g}, {crit}"
        for k in ks:
            s = by_k[k]
            rows.append(LawRow("unlearning", f"{label}, K={k}", "mean P_max / N", s.mean / n,
                               s.ci_low / n, s.ci_high / n, 0.138 if crit == "overlap" else float("nan"),
                               str(int(n)), s.trials))
        rows.append(LawRow("unlearning", label, "optimum K (K within its interval: "
                           f"{min(tied)}-{max(tied)})", best, min(tied), max(tied), float("nan"),
                           str(int(n)), by_k[best].trials))
    ax.axhline(0.138, ls="--", color="gray", label="0.138 (AGS, no unlearning)")
    ax.set_xscale("log")
    ax.set_xlabel("K unlearning steps per stored pattern (K = 0 at 0.5)")
    ax.set_ylabel("P_max / N (mean, 95% CI)")
    ax.set_title("Hopfield-Feinstein-Palmer unlearning: rise and collapse")
    ax.legend(fontsize=8)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(f"{stem}.{ext}", dpi=120)
    plt.close(fig)
    return rows


DRAW = {"rules": draw_rules, "unlearning": draw_unlearning}


def forgetting_curves(seed: int) -> pd.DataFrame:
    """Retrievability (overlap >= 0.9 from the pattern) against age: the palimpsest after 10 N
    patterns, Hebbian learning after 0.1 N .. 0.3 N; CURVE_STREAMS streams each, N = CURVE_N."""
    from ..families.pairwise.model import PairwiseModel, forgetting_curve

    n = CURVE_N
    out = {}

    def streams(length: int):
        xs, seeds = [], []
        for trial in range(CURVE_STREAMS):
            xs.append(pattern_source(PatternSpec(n), trial_entropy(seed, trial))(length))
            seeds.append(dynamics_seed(seed, trial))
        return xs, seeds

    xs, seeds = streams(10 * n)
    out["palimpsest, 10 N patterns"] = forgetting_curve(PairwiseModel("palimpsest"), CURVE_CRITERION,
                                                        xs, seeds)
    for load in HEBBIAN_LOADS:
        length = int(round(load * n))
        xs, seeds = streams(length)
        out[f"hebbian, {load:g} N patterns"] = forgetting_curve(PairwiseModel("hebbian"), CURVE_CRITERION,
                                                                xs, seeds)
    longest = max(len(v) for v in out.values())
    frame = pd.DataFrame({"age": np.arange(longest)})
    for name, curve in out.items():
        frame[name] = np.concatenate([curve, np.full(longest - len(curve), np.nan)])
    return frame


#: The prefix search assumes "stored" is monotone in P; near K eps = 1 unlearning breaks that (small
#: prefixes, whose random starts nearly all land on the stored patterns, are erased first). This
#: table checks prefixes directly at N = 100.
PREFIX_K = (90, 100, 110, 150)
PREFIX_P = (1, 2, 3, 5, 10, 20, 40, 60, 80)
PREFIX_TRIALS = 3


def unlearning_prefixes(seed: int) -> pd.DataFrame:
    """Fraction of PREFIX_TRIALS trials whose prefix of P patterns is stored (overlap >= 0.9) after
    K unlearning steps per pattern, N = 100, for K in PREFIX_K and P in PREFIX_P."""
    from ..families.pairwise.model import PairwiseChecker, PairwiseModel

    rows = []
    for k in PREFIX_K:
        stored = np.zeros(len(PREFIX_P))
        for trial in range(PREFIX_TRIALS):
            source = pattern_source(PatternSpec(100), trial_entropy(seed, trial))
            for j, p in enumerate(PREFIX_P):
                checker = PairwiseChecker(PairwiseModel("hebbian", unlearn=k), CURVE_CRITERION, source,
                                          100, max(PREFIX_P), dynamics_seed(seed, trial))
                stored[j] += checker(p)
        rows.append({"K": k, **{f"P={p}": v / PREFIX_TRIALS for p, v in zip(PREFIX_P, stored, strict=True)}})
    return pd.DataFrame(rows)


def extra(out_dir: Path, seed: int, threads, progress: bool, frames: dict) -> list[LawRow]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows: list[LawRow] = []
    prefixes = unlearning_prefixes(seed)
    prefixes.to_csv(out_dir / "unlearning_prefixes.csv", index=False, float_format="%.3g")
    for record in prefixes.to_dict("records"):
        stored = [p for p in PREFIX_P if record[f"P={p}"] > 0.5]
        rows.append(LawRow("unlearning-prefixes", f"pairwise hebbian, unlearning K={int(record['K'])}, "
                           "overlap, m>=0.9", "prefixes P stored in most trials: "
                           + (" ".join(map(str, stored)) if stored else "none")
                           + f" (of {' '.join(map(str, PREFIX_P))})", float(len(stored)), float("nan"),
                           float("nan"), float("nan"), "100", PREFIX_TRIALS))
    # --search recency through the ordinary machinery (CSV, resume)
    configs = []
    for crit in ({"criterion": "stable"}, {"criterion": "overlap", "min_overlap": 0.9}):
        configs += configs_from_options({"model": "pairwise", "rule": "palimpsest", "search": "recency",
                                         "n": list(RECENCY_N), "trials": RECENCY_TRIALS, "seed": seed,
                                         **crit})
    csv = out_dir / "recency.csv"
    run_measurements(configs, output=str(csv), threads=threads, progress=progress)
    rec = load_results(csv).rows
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 4.8))
    for crit, sub in rec.groupby("criterion"):
        sizes = sorted(sub["n"].unique())
        stats = [summarize(sub.loc[sub["n"] == n, "recent_retrievable"] / n) for n in sizes]
        mean = np.array([s.mean for s in stats])
        axes[0].errorbar(sizes, mean, yerr=[mean - [s.ci_low for s in stats],
                                            [s.ci_high for s in stats] - mean],
                         marker="o", capsize=3, label=f"palimpsest eps=4.1, {crit}")
        for n, s in zip(sizes, stats, strict=True):
            rows.append(LawRow("recency", f"pairwise palimpsest eps=4.1, {crit}"
                               + (", m>=0.9" if crit == "overlap" else ""),
                               "recent_retrievable / N after 10 N patterns", s.mean, s.ci_low, s.ci_high,
                               0.05, str(int(n)), s.trials))
    axes[0].axhline(0.05, ls="--", color="gray", label="about 0.05 (Mezard, Nadal & Toulouse 1986)")
    axes[0].set_xscale("log", base=2)
    axes[0].set_xlabel("N")
    axes[0].set_ylabel("newest patterns all retrievable / N")
    axes[0].set_title("--search recency (stream of 10 N patterns)")
    axes[0].legend(fontsize=8)
    # forgetting curves
    curves = forgetting_curves(seed)
    curves.to_csv(out_dir / "forgetting.csv", index=False, float_format="%.4g")
    for name in curves.columns[1:]:
        axes[1].plot(curves["age"] / CURVE_N, curves[name], label=name)
    axes[1].set_xlim(0, 0.4)
    axes[1].set_xlabel("pattern age / N (0 = the newest)")
    axes[1].set_ylabel(f"fraction retrieved (overlap >= 0.9), {CURVE_STREAMS} streams")
    axes[1].set_title(f"Forgetting curves, N = {CURVE_N}")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(out_dir / f"forgetting.{ext}", dpi=120)
    plt.close(fig)
    for name in curves.columns[1:]:
        curve = curves[name].dropna().to_numpy()
        if name.startswith("palimpsest"):
            half = np.flatnonzero(curve < 0.5)
            age = int(half[0]) if half.size else len(curve)
            rows.append(LawRow("forgetting", name, "first age / N retrieved in under half the streams",
                               age / CURVE_N, float("nan"), float("nan"), float("nan"), str(CURVE_N),
                               CURVE_STREAMS))
        else:
            rows.append(LawRow("forgetting", name, "fraction of the stream's patterns retrieved",
                               float(curve.mean()), float("nan"), float("nan"), float("nan"),
                               str(CURVE_N), CURVE_STREAMS))
    return rows


def _find(summary: list[LawRow], study: str, text: str) -> list[LawRow]:
    return [r for r in summary if r.study == study and text in r.configuration]


def notes(out_dir: Path, summary: list[LawRow]) -> str:
    """Plain answers, computed from the summary rows."""
    lines = ["## Plain answers", "",
             "Literature values: N / (4 ln N) for Hebbian `stable` (all patterns; McEliece et al., "
             "asymptotic: at these N the measured values sit above it, as for the binary family), 0.138 "
             "for `overlap` (AGS; finite-size simulations give 0.14-0.145 with a looser m), "
             "1 / sqrt(2 ln N) for Storkey (stated for fixed points), 1 for pinv (every pattern a fixed "
             "point below P = N), 2 for the perceptron (Gardner, kappa = 0, unbounded learning time), "
             "about 0.05 for the palimpsest (as recalled from Mezard, Nadal & Toulouse 1986).", ""]

    def fmt(r: LawRow) -> str:
        ci = "" if math.isnan(r.ci_low) else f" [{r.ci_low:.3f}, {r.ci_high:.3f}]"
        return f"{r.measured:.3f}{ci} at N = {r.n_range} ({r.trials} trials; literature {r.theory:.3f})"

    def verdict(r: LawRow) -> str:
        if math.isnan(r.ci_low) or math.isnan(r.theory):
            return ""
        if r.ci_low <= r.theory <= r.ci_high:
            return " Its interval contains the literature's value."
        return f" {'Above' if r.ci_low > r.theory else 'Below'} the literature's value " \
               f"(ratio {r.measured / r.theory:.2f})."

    for rule in RULES:
        for r in _find(summary, "rules", f"pairwise {rule},"):
            if r.quantity.startswith("fraction"):
                lines.append(f"- {r.configuration}: in {r.measured:.0%} of {r.trials} trials the search "
                             "ended where perceptron learning hit the epoch cap (100), so P_max there is "
                             "a lower bound set by the cap, not Gardner's capacity.")
            else:
                lines.append(f"- {r.configuration}: P_max / N = {fmt(r)}.{verdict(r)}")
    for r in _find(summary, "unlearning", ""):
        if r.quantity.startswith("optimum"):
            lines.append(f"- Unlearning (N = {r.n_range}): best K = {int(r.measured)} steps per stored "
                         f"pattern; K = {int(r.ci_low)}..{int(r.ci_high)} are within its interval.")
    for r in _find(summary, "unlearning-prefixes", ""):
        lines.append(f"- {r.configuration} (N = 100, direct checks): {r.quantity}.")
    for r in _find(summary, "recency", ""):
        lines.append(f"- {r.configuration}: recent_retrievable / N = {fmt(r)}.{verdict(r)}")
    for r in _find(summary, "forgetting", ""):
        if r.quantity.startswith("first age"):
            lines.append(f"- Forgetting, {r.configuration} (N = {r.n_range}): retrieval drops below half "
                         f"of the streams at age {r.measured:.3f} N.")
        else:
            lines.append(f"- Forgetting, {r.configuration} (N = {r.n_range}): {r.measured:.2f} of the "
                         "stream's patterns are retrieved.")
    return "\n".join(lines) + "\n"
