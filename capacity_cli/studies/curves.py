"""Results profile ``curves`` (results/curves/, ``make reproduce-curves``): the textbook retrieval curve.

The Hebbian network at N = 100, 200, 400: per trial and alpha = P/N in 0.02..0.30, the fraction of
the stored patterns that succeed (``hopcap curve``), under ``overlap`` (recall from the pattern
itself ends with overlap >= 0.9) and under ``stable`` (the pattern is a fixed point), with each
trial's P_max from the capacity search, and one set of energy traces at N = 200 across the
overlap capacity (alpha = 0.10 and 0.20). docs/theory.md section 16.
"""

from __future__ import annotations

from pathlib import Path

from ..criteria import Overlap, Stable
from ..curves import Grid, plot_curves, plot_traces, read_curves, run_curves
from ..datasets import PatternSpec
from ..measure import MeasureConfig
from ..models import BinaryDAM
from ..reproduce import LawRow
from ..stats import summarize
from ..theory import AGS_ALPHA

SIZES = (100, 200, 400)
GRID = "0.02:0.3:0.01"
TRIALS = 20
CRITERIA = {"overlap": Overlap(min_overlap=0.9), "stable": Stable()}
#: The grid point nearest the AGS value where the fractions are compared.
AT_ALPHA = 0.14
TRACE_N, TRACE_GRID, TRACE_TRIALS = 200, "0.1:0.2:0.1", 2


def _configs(criterion, seed: int, sizes=SIZES, trials=TRIALS) -> list[MeasureConfig]:
    return [MeasureConfig(BinaryDAM("hebbian"), criterion, spec=PatternSpec(n), trials=trials, seed=seed)
            for n in sizes]


def extra(out_dir: Path, seed: int, threads, progress: bool, frames) -> list[LawRow]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, criterion in CRITERIA.items():
        path = out_dir / f"{name}.csv"
        run_curves(_configs(criterion, seed), Grid(GRID, per_n=True), output=str(path), threads=threads,
                   progress=progress)
        plot_curves([path], str(out_dir / name),
                    title=f"Hebbian retrieval curve, {name}" + (" (m >= 0.9)" if name == "overlap" else ""))
        rows += _summary(name, read_curves([path]))
    trace = out_dir / "traces.csv"
    if not trace.exists():
        run_curves(_configs(CRITERIA["overlap"], seed, (TRACE_N,), TRACE_TRIALS),
                   Grid(TRACE_GRID, per_n=True), trace=str(trace), threads=threads, progress=progress)
    plot_traces([trace], str(out_dir / "traces"),
                title=f"Energy per unit along recalls, hebbian N={TRACE_N}, alpha 0.1 and 0.2")
    return rows


def _summary(name: str, rows: list[dict]) -> list[LawRow]:
    out = []
    for n in SIZES:
        mine = [r for r in rows if r["n"] == n]
        caps = summarize(list({r["trial"]: r["p_max"] / n for r in mine}.values()))
        out.append(LawRow(name, f"hebbian, {name}", "P_max / N", caps.mean, caps.ci_low, caps.ci_high,
                          AGS_ALPHA if name == "overlap" else float("nan"), str(n), caps.trials))
        p_at = round(AT_ALPHA * n)  # a grid point at every N
        at = summarize([r["fraction"] for r in mine if r["p"] == p_at])
        out.append(LawRow(name, f"hebbian, {name}", f"fraction at alpha = {AT_ALPHA} (P = {p_at})",
                          at.mean, at.ci_low, at.ci_high, float("nan"), str(n), at.trials))
    return out


def notes(out_dir: Path, summary: list[LawRow]) -> str:
    lines = ["## Answers (computed from the rows above)", ""]
    fractions = {}
    for name in CRITERIA:
        caps = [r for r in summary if r.study == name and r.quantity == "P_max / N"]
        fracs = [r for r in summary if r.study == name and r.quantity.startswith("fraction")]
        if not caps:
            continue
        fractions[name] = fracs
        text = "; ".join(
            f"{r.measured:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}] at N = {r.n_range} ("
            + ("interval below" if r.ci_high < AGS_ALPHA else "interval above" if r.ci_low > AGS_ALPHA
               else "interval contains") + f" {AGS_ALPHA})" for r in caps)
        at = ", ".join(f"{r.measured:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}] at N = {r.n_range}"
                       for r in fracs)
        lines.append(f"- **{name}**: mean P_max / N (the largest P at which every pattern succeeds) "
                     f"{text}. Fraction of the patterns that succeed at alpha = {AT_ALPHA}: {at}.")
    if len(fractions) == 2:
        lower = [a.n_range for a, b in zip(fractions["stable"], fractions["overlap"], strict=True)
                 if a.ci_high < b.ci_low]
        lines += ["", f"At alpha = {AT_ALPHA} the stable fraction is below the overlap fraction (95% "
                  f"intervals apart) at N = {', '.join(lower) if lower else 'none'} of "
                  f"{', '.join(str(n) for n in SIZES)}: exact fixed points are rarer than recalls that "
                  "end within overlap 0.9."]
    return "\n".join(lines + [""])
