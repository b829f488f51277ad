"""The kernel profile (``make reproduce-kernel``, results/kernel/): does a learned feature map (U-Hop+
stage I) buy capacity, and how close do the learned features come to a spherical code?

1. ``gain`` (capacity_cli/configs/kernel.csv): P_max with the learned map against the identity map (the
   softmax model) on the same trials; the gain is the geometric mean over trials of P_learned /
   P_identity with a t-interval on the mean log ratio (paired by trial: same patterns, same cues).
2. ``angles``: the minimum (and mean) angle the learned features of P i.i.d. +-1 patterns reach in
   D dimensions, against the simplex value, Rankin's bound and the Kabatiansky-Levenshtein bound.
3. ``dims``: the smallest D whose learned map stores all of P patterns, against log2 P.
4. ``cost``: seconds per trial against P_max (learning included), from the gain study's rows, and one
   learning run at N = 64, P = 1000.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import PatternSpec, pattern_source, trial_entropy
from ..families.kernel import model as km
from ..families.softmax.model import RetrieveEps
from ..fit import fit_law
from ..reproduce import LawRow
from ..stats import summarize

#: angles: N, D, prefix sizes, trials, temperature and L-BFGS iterations of each learning run.
ANGLES_N, ANGLES_D, ANGLES_P, ANGLES_TRIALS, ANGLES_TAU, ANGLES_STEPS = \
    32, 8, (2, 3, 5, 9, 16, 32, 64, 128, 256), 3, 0.05, 300
#: An achieved angle counts as above a bound only beyond this (degrees): at 90 degrees the
#: optimiser leaves cos ~ 1e-9, i.e. 1e-7 degrees, and arccos near +-1 loses digits.
ANGLE_TOL_DEG = 0.01
#: dims: N, beta, prefix sizes and trials; D is searched in 1..N.
DIMS_N, DIMS_BETA, DIMS_P, DIMS_TRIALS, DIMS_STEPS = 32, 1.0, (4, 8, 16, 32, 64, 128), 3, 100
#: cost: one learning run at this N and P (the issue's performance target), L-BFGS iterations.
COST_N, COST_P, COST_STEPS = 64, 1000, 100

PAIR_KEYS = ["beta_rule", "criterion", "kind", "correlation", "patterns", "n"]


def _label(key: dict) -> str:
    data = key["patterns"] if isinstance(key["patterns"], str) else \
        ("sphere" if key["kind"] == "sphere" else f"+-1 c={key['correlation']:g}")
    return f"{data}, N={int(key['n'])}, beta={key['beta_rule']}, {key['criterion']}"


def gain_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: P_max of both maps (mean, interval), the paired gain (geometric
    mean of P_learned / P_identity, 95% interval), capped and left-out trials."""
    df = df.copy()
    for column in ("correlation", "patterns"):
        df[column] = df[column].astype(object).where(df[column].notna(), None)
    out = []
    for values, sub in df.groupby(PAIR_KEYS, dropna=False, sort=False):
        key = dict(zip(PAIR_KEYS, values, strict=True))
        learned = sub[sub["feature_map"] == "learned"].set_index("trial")
        plain = sub[sub["feature_map"] == "identity"].set_index("trial")
        failed = int((learned["learn_converged"] == False).sum())  # noqa: E712  (blank is not False)
        learned = learned[learned["learn_converged"] != False]  # noqa: E712
        both = learned.index.intersection(plain.index)
        pl, pi = learned.loc[both, "p_max"].astype(float), plain.loc[both, "p_max"].astype(float)
        ok = (pl > 0) & (pi > 0)
        ratio = summarize(np.log(pl[ok] / pi[ok]))
        sl, si = summarize(pl), summarize(pi)
        out.append({
            "configuration": _label(key), "n": int(key["n"]), "trials": len(both),
            "p_learned": sl.mean, "p_learned_low": sl.ci_low, "p_learned_high": sl.ci_high,
            "p_identity": si.mean, "p_identity_low": si.ci_low, "p_identity_high": si.ci_high,
            "gain": math.exp(ratio.mean) if ratio.trials else math.nan,
            "gain_low": math.exp(ratio.ci_low) if ratio.trials > 1 else math.nan,
            "gain_high": math.exp(ratio.ci_high) if ratio.trials > 1 else math.nan,
            "learned_capped": int(learned.loc[both, "capped"].astype(bool).sum()),
            "identity_capped": int(plain.loc[both, "capped"].astype(bool).sum()),
            "learn_failed": failed,
            "min_angle_learned": float(learned.loc[both, "min_angle_deg"].mean()),
            "min_angle_identity": float(plain.loc[both, "min_angle_deg"].mean()),
        })
    return pd.DataFrame(out)


def draw_gain(df: pd.DataFrame, stem: Path) -> list[LawRow]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import _save

    table = gain_table(df)
    table.to_csv(f"{stem}_table.csv", index=False, float_format="%.5g")
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(table) + 1.5))
    y = np.arange(len(table))
    err = np.vstack([table["gain"] - table["gain_low"], table["gain_high"] - table["gain"]])
    ax.errorbar(table["gain"], y, xerr=np.nan_to_num(err), fmt="o", capsize=3)
    for k, row in table.iterrows():
        if row["learned_capped"]:
            ax.annotate(f"{int(row['learned_capped'])} capped: >=", (row["gain"], k), fontsize=7,
                        xytext=(5, 4), textcoords="offset points")
    ax.axvline(1.0, color="gray", lw=1)
    ax.set_xscale("log")
    ax.set_yticks(y, table["configuration"], fontsize=7)
    ax.set_xlabel("gain P_max(learned) / P_max(identity), geometric mean over trials, 95% interval")
    _save(fig, stem, "Learned feature map (U-Hop+ stage I) against the plain model, same trials")
    rows = []
    for _, r in table.iterrows():
        rows.append(LawRow("gain", r["configuration"], "gain P_learned/P_identity", r["gain"],
                           r["gain_low"], r["gain_high"], float("nan"), str(r["n"]), int(r["trials"])))
        capped = f" ({int(r['learned_capped'])} capped)" if r["learned_capped"] else ""
        rows.append(LawRow("gain", r["configuration"], f"mean P_max learned{capped}", r["p_learned"],
                           r["p_learned_low"], r["p_learned_high"], float("nan"), str(r["n"]),
                           int(r["trials"])))
        capped = f" ({int(r['identity_capped'])} capped)" if r["identity_capped"] else ""
        rows.append(LawRow("gain", r["configuration"], f"mean P_max identity{capped}", r["p_identity"],
                           r["p_identity_low"], r["p_identity_high"], float("nan"), str(r["n"]),
                           int(r["trials"])))
    return rows


DRAW = {"gain": draw_gain}


# --------------------------------------------------------------------------------------------------
# angles, dims, cost
# --------------------------------------------------------------------------------------------------

def _patterns(seed: int, trial: int, n: int, p: int, salt: int) -> np.ndarray:
    return pattern_source(PatternSpec(n), trial_entropy(seed + salt, trial))(p).astype(np.float64)


def run_angles(seed: int) -> pd.DataFrame:
    rows = []
    for p in ANGLES_P:
        for t in range(ANGLES_TRIALS):
            x = _patterns(seed, t, ANGLES_N, p, 1)
            w0 = km.random_map(ANGLES_D, ANGLES_N, int(trial_entropy(seed, t)[0]))
            res = km.learn_map(x, w0, ANGLES_TAU, ANGLES_STEPS)
            rep = km.code_report(km.unit_features(res.w, x))
            raw = km.code_report(km.unit_features(w0, x))
            rows.append({"p": p, "d": ANGLES_D, "n": ANGLES_N, "trial": t, "tau": ANGLES_TAU,
                         "min_angle": rep.min_angle, "mean_angle": rep.mean_angle,
                         "random_map_min_angle": raw.min_angle, "simplex": rep.simplex,
                         "rankin": rep.rankin, "kl": rep.kl, "decreased": res.decreased,
                         "seconds": res.seconds})
    return pd.DataFrame(rows)


def smallest_dimension(x: np.ndarray, n: int, seed: int) -> int | None:
    """Smallest D in 1..n whose learned map stores every row of x (retrieve-eps 0.01, one update, at
    DIMS_BETA), by bisection (assumes more dimensions never hurt); None when D = n does not."""
    crit = RetrieveEps(0.01)
    p = len(x)

    def stores(d: int) -> bool:
        model = km.KernelModel(DIMS_BETA, "learned", features=d, learn_steps=DIMS_STEPS)
        return km.KernelChecker(model, crit, lambda q: x[:q], n, p, seed=seed)(p)

    if not stores(n):
        return None
    lo, hi = 0, n  # stores(hi), not stores(lo) (D = 0 stores nothing)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if stores(mid):
            hi = mid
        else:
            lo = mid
    return hi


def run_dims(seed: int) -> pd.DataFrame:
    rows = []
    for p in DIMS_P:
        for t in range(DIMS_TRIALS):
            x = _patterns(seed, t, DIMS_N, p, 2)
            d = smallest_dimension(x, DIMS_N, int(trial_entropy(seed, t)[0]))
            rows.append({"p": p, "n": DIMS_N, "trial": t, "beta": DIMS_BETA,
                         "d_min": math.nan if d is None else d})
    return pd.DataFrame(rows)


def _draw_angles(angles: pd.DataFrame, stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import _save

    g = angles.groupby("p")
    ps = np.array(sorted(angles["p"].unique()))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    mean, low, high = [], [], []
    for p in ps:
        s = summarize(g.get_group(p)["min_angle"])
        mean.append(s.mean)
        low.append(s.mean - s.ci_low if s.trials > 1 else 0)
        high.append(s.ci_high - s.mean if s.trials > 1 else 0)
    ax.errorbar(ps, mean, yerr=[low, high], fmt="o-", capsize=3, label="learned map: min angle")
    ax.plot(ps, g["mean_angle"].mean().loc[ps], "s:", label="learned map: mean angle")
    ax.plot(ps, g["random_map_min_angle"].mean().loc[ps], "x--", label="random map (start): min angle")
    grid = np.unique(np.geomspace(2, ps.max(), 200).round().astype(int))
    d = int(angles["d"].iloc[0])
    ax.plot(grid, [km.simplex_angle_deg(p) for p in grid], "k-", lw=1,
            label="simplex arccos(-1/(P-1)) (all P)")
    ax.plot(grid, [km.rankin_angle_deg(p, d) for p in grid], "r--", lw=1, label="Rankin bound")
    ax.plot(grid, [km.kl_angle_deg(p, d) for p in grid], "m-.", lw=1,
            label="Kabatiansky-Levenshtein (asymptotic)")
    ax.axvline(d + 1, color="gray", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel(f"P (stored patterns), D = {d}, N = {int(angles['n'].iloc[0])}")
    ax.set_ylabel("angle between stored features (degrees)")
    ax.legend(fontsize=7)
    _save(fig, stem, f"Learned features as a spherical code (tau = {angles['tau'].iloc[0]:g})")


def _draw_dims_cost(dims: pd.DataFrame, gain: pd.DataFrame | None, stem_dims: Path,
                    stem_cost: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import _save

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(dims["p"], dims["d_min"], "o", alpha=0.5, label="trials")
    m = dims.groupby("p")["d_min"].mean()
    ax.plot(m.index, m.values, "-", label="mean")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("P (stored patterns)")
    ax.set_ylabel("smallest D storing all P")
    ax.legend()
    _save(fig, stem_dims, f"Smallest feature dimension (N = {DIMS_N}, beta = {DIMS_BETA:g}, "
                          "retrieve-eps 0.01)")
    if gain is None:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for fmap, marker in (("learned", "o"), ("identity", "x")):
        sub = gain[gain["feature_map"] == fmap]
        ax.plot(sub["p_max"].clip(lower=1), sub["elapsed_s"], marker, alpha=0.6, label=fmap)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("P_max of the trial")
    ax.set_ylabel("seconds per trial (search, learning included)")
    ax.legend()
    _save(fig, stem_cost, "Cost of a capacity trial")


def loglog_slope(x, y, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Least-squares slope of log y against log x over the trials, with a 95% bootstrap interval
    (trials resampled with replacement)."""
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    slope = float(np.polyfit(lx, ly, 1)[0])
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        k = rng.integers(0, len(lx), len(lx))
        if np.ptp(lx[k]) > 0:
            boots.append(np.polyfit(lx[k], ly[k], 1)[0])
    low, high = np.percentile(boots, [2.5, 97.5])
    return slope, float(low), float(high)


def extra(out_dir: Path, seed: int, threads, progress, frames: dict) -> list[LawRow]:
    rows: list[LawRow] = []
    start = time.perf_counter()
    angles = run_angles(seed)
    angles.to_csv(out_dir / "angles.csv", index=False, float_format="%.6g")
    _draw_angles(angles, out_dir / "angles")
    for p, sub in angles.groupby("p"):
        s = summarize(sub["min_angle"])
        rows.append(LawRow("angles", f"learned D={ANGLES_D}, N={ANGLES_N}, tau={ANGLES_TAU:g}",
                           f"min angle (deg) at P={p}; theory = Rankin bound", s.mean, s.ci_low,
                           s.ci_high, float(sub["rankin"].iloc[0]), str(ANGLES_N), s.trials))
    print(f"angles: {time.perf_counter() - start:.0f} s", flush=True)
    start = time.perf_counter()
    dims = run_dims(seed)
    dims.to_csv(out_dir / "dims.csv", index=False)
    gain = frames.get("gain")
    _draw_dims_cost(dims, gain, out_dir / "dims", out_dir / "cost")
    found = dims.dropna()
    f = fit_law(np.log2(found["p"]), found["d_min"], "linear") if len(found) else None
    if f is not None:
        rows.append(LawRow("dims", f"learned, N={DIMS_N}, beta={DIMS_BETA:g}", "d D_min / d log2 P",
                           f.slope, f.ci_low, f.ci_high, float("nan"),
                           f"P={min(DIMS_P)}-{max(DIMS_P)}", len(found)))
    for p, sub in dims.groupby("p"):
        s = summarize(sub["d_min"].dropna())
        rows.append(LawRow("dims", f"learned, N={DIMS_N}, beta={DIMS_BETA:g}",
                           f"smallest D at P={p} ({int(sub['d_min'].isna().sum())} not stored at D=N)",
                           s.mean, s.ci_low, s.ci_high, float("nan"), str(DIMS_N), s.trials))
    print(f"dims: {time.perf_counter() - start:.0f} s", flush=True)
    if gain is not None:
        for fmap in ("learned", "identity"):
            sub = gain[(gain["feature_map"] == fmap) & (gain["p_max"] > 1)]
            if sub["p_max"].nunique() > 1:
                k, low, high = loglog_slope(sub["p_max"], sub["elapsed_s"])
                rows.append(LawRow("cost", f"{fmap} map, gain study trials",
                                   "k in seconds per trial ~ P_max^k", k, low, high, float("nan"),
                                   f"P_max={int(sub['p_max'].min())}-{int(sub['p_max'].max())}",
                                   len(sub)))
            s = summarize(sub["elapsed_s"])
            rows.append(LawRow("cost", f"{fmap} map, gain study trials", "seconds per trial (mean)",
                               s.mean, s.ci_low, s.ci_high, float("nan"), "-", s.trials))
    x = _patterns(seed, 0, COST_N, COST_P, 3)
    res = km.learn_map(x, np.eye(COST_N), 0.1, COST_STEPS)
    rows.append(LawRow("cost", f"one learning run, N={COST_N}, P={COST_P}, D=N, {res.iterations} "
                               f"L-BFGS iterations", "seconds", res.seconds, float("nan"),
                       float("nan"), float("nan"), str(COST_N), 1))
    return rows


def _find(summary: list[LawRow], study: str, quantity_start: str) -> list[LawRow]:
    return [r for r in summary if r.study == study and r.quantity.startswith(quantity_start)]


def notes(out_dir: Path, summary: list[LawRow]) -> str:
    """The plain answers, computed from this run's rows."""
    lines = ["## What the kernel profile says", ""]
    gains = _find(summary, "gain", "gain")
    if gains:
        table = pd.read_csv(out_dir / "gain_table.csv")
        both_capped = set(table.loc[(table["learned_capped"] == table["trials"]) &
                                    (table["identity_capped"] == table["trials"]), "configuration"])
        blind = [r for r in gains if r.configuration in both_capped]
        gains = [r for r in gains if r.configuration not in both_capped]
        helps = [r for r in gains if not math.isnan(r.ci_low) and r.ci_low > 1]
        hurts = [r for r in gains if not math.isnan(r.ci_high) and r.ci_high < 1]
        flat = [r for r in gains if r not in helps and r not in hurts]
        lines.append(f"**Gain** (P_max learned / identity, same trials; {len(gains)} configurations):")
        if helps:
            lines.append("- the learned map stores more (interval above 1) in: " + "; ".join(
                f"{r.configuration} x{r.measured:.2g} [{r.ci_low:.2g}, {r.ci_high:.2g}]" for r in helps))
        if hurts:
            lines.append("- it stores fewer (interval below 1) in: " + "; ".join(
                f"{r.configuration} x{r.measured:.2g} [{r.ci_low:.2g}, {r.ci_high:.2g}]" for r in hurts))
        if flat:
            lines.append("- no clear difference (interval contains 1, or too few trials) in: " +
                         "; ".join(f"{r.configuration} x{r.measured:.2g}" for r in flat))
        if blind:
            lines.append("- both maps reached the cap in every trial (no measurement of a gain): " +
                         "; ".join(r.configuration for r in blind))
        lines.append("- where only the learned search reached the cap (512 at beta = 1, 256 at "
                     "1/sqrtN) the gain is a lower bound (gain_table.csv: learned_capped, "
                     "identity_capped).")
        lines.append("")
    angles = _find(summary, "angles", "min angle")
    if angles:
        parts = []
        for r in angles:
            p = int(r.quantity.split("P=")[1].split(";")[0])
            kl = km.kl_angle_deg(p, ANGLES_D)
            bound = f"simplex {km.simplex_angle_deg(p):.1f}" if p <= ANGLES_D + 1 else \
                f"Rankin {r.theory:.0f}" + ("" if math.isnan(kl) else f", KL {kl:.1f}")
            parts.append(f"P={p}: {r.measured:.1f} [{r.ci_low:.1f}, {r.ci_high:.1f}] ({bound})")
        above = [r for r in angles if r.measured > r.theory + ANGLE_TOL_DEG]
        verdict = "No achieved angle exceeds Rankin's bound" if not above else \
            "ABOVE Rankin's bound (an error): " + ", ".join(r.quantity for r in above)
        lines.append(f"**Angles** (learned D = {ANGLES_D}, N = {ANGLES_N}, tau = {ANGLES_TAU:g}; "
                     "degrees): " + "; ".join(parts) + ". For P <= D + 1 the simplex value is the "
                     "optimum and, at P = 2D, Rankin's 90 degrees (the cross-polytope); compare the "
                     f"achieved values above with them. {verdict}; the Kabatiansky-Levenshtein value "
                     "is asymptotic in D "
                     "(o(D) terms dropped), so at D = 8 it is a reference line, not a bound, and "
                     "achieved angles near or above it do not contradict it.")
        lines.append("")
    dims = _find(summary, "dims", "d D_min")
    if dims:
        r = dims[0]
        lines.append(f"**Smallest D**: D_min grows by {r.measured:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}] "
                     f"per doubling of P over {r.n_range} (a straight line in log2 P is the claimed "
                     f"log P growth; see dims.png for the points).")
        lines.append("")
    cost = _find(summary, "cost", "seconds")
    if cost:
        lines.append("**Cost**: " + "; ".join(f"{r.configuration}: {r.measured:.3g} s" for r in cost) +
                     ". Learning dominates a learned trial (W relearned for every prefix tried).")
    return "\n".join(lines) + "\n"
