"""Time hopcap's ``stable`` capacity search against two numpy implementations of the same search.

    python benchmarks/run.py [--quick] [--trials T] [--straight-trials K] [--repeats R]
                             [--models poly3,exp] [--seed S] [--csv PATH] [--no-verify]

For every model, trial t uses the pre-generated i.i.d. sequence
``PatternStream(PatternSpec(N), (seed, t)).take(p_limit)`` and runs, on the same array:

* ``hopcap``: ``capacity_of_sequence(model, Stable(), lambda p: X[:p], N, p_limit)``;
* ``blocked``: ``largest_storable(baselines.blocked_checker(...), p_limit)``;
* ``straight``: ``largest_storable(baselines.straightforward_checker(...), p_limit)``.

All three must give the same p_max and number of checks (asserted; none may be capped). Each
implementation is warmed up first (numba compilation and BLAS start-up are not timed); a trial's time
is the best of ``repeats`` runs, repeats interleaved between implementations. The straightforward
search is slow, so it is timed on the first K trials only (its ratio uses hopcap's time on the same
trials); on the other trials its answer is still verified at p_max (stored) and p_max + 1 (not).
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import glob
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from baselines import blocked_checker, straightforward_checker

from capacity_cli._compile import max_threads
from capacity_cli.criteria import Stable
from capacity_cli.datasets import PatternSpec, PatternStream
from capacity_cli.models import BinaryDAM
from capacity_cli.search import SearchOutcome, capacity_of_sequence, largest_storable

IMPLS = ("straight", "blocked", "hopcap")
#: No further repeats of an implementation on a trial once its runs there add up to this many seconds.
REPEAT_BUDGET_S = 2.0
TARGETS = {"straight": 100.0, "blocked": 3.0}


@dataclass(frozen=True)
class Case:
    key: str
    model: BinaryDAM
    n: int
    p_limit: int
    trials: int
    straight_trials: int
    quick_trials: int
    quick_straight_trials: int


CASES = {
    "poly3": Case("poly3", BinaryDAM("poly", degree=3), 256, 4096, trials=6, straight_trials=3,
                  quick_trials=3, quick_straight_trials=1),
    "exp": Case("exp", BinaryDAM("exp", beta=1.0), 20, 1024, trials=20, straight_trials=20,
                quick_trials=5, quick_straight_trials=5),
    # The size the quick reproduction profile reaches (P_max in the thousands), as well as the tiny
    # N = 20 case above, where a whole search takes about a millisecond.
    "exp28": Case("exp28", BinaryDAM("exp", beta=1.0), 28, 16384, trials=4, straight_trials=1,
                  quick_trials=2, quick_straight_trials=1),
}


def run_impl(impl: str, case: Case, x: np.ndarray, p_limit: int | None = None) -> SearchOutcome:
    """One complete capacity search of one trial's sequence ``x`` by implementation ``impl``."""
    limit = case.p_limit if p_limit is None else p_limit
    if impl == "hopcap":
        return capacity_of_sequence(case.model, Stable(), lambda p: x[:p], case.n, limit)
    make = straightforward_checker if impl == "straight" else blocked_checker
    return largest_storable(make(case.model, x, case.n), limit)


def timed(fn: Callable[[], SearchOutcome]) -> tuple[float, SearchOutcome]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _openblas() -> ctypes.CDLL | None:
    """numpy's bundled OpenBLAS library, if it can be found (for thread count and config)."""
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libdir, "*openblas*"))):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _blas_symbol(lib: ctypes.CDLL | None, stem: str):
    if lib is None:
        return None
    for sym in (f"scipy_openblas_{stem}64_", f"openblas_{stem}64_", f"openblas_{stem}"):
        if hasattr(lib, sym):
            return getattr(lib, sym)
    return None


def set_blas_threads(threads: int) -> bool:
    """Set OpenBLAS's thread count (best effort); True when it worked."""
    fn = _blas_symbol(_openblas(), "set_num_threads")
    if fn is None:
        return False
    fn(ctypes.c_int(threads))
    return True


def blas_info() -> str:
    """numpy's BLAS name/version, OpenBLAS core and thread count (best effort)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - informational only
        name = "unknown"
    lib = _openblas()
    get_threads = _blas_symbol(lib, "get_num_threads")
    get_core = _blas_symbol(lib, "get_corename")
    threads = str(get_threads()) if get_threads is not None else "?"
    core = "?"
    if get_core is not None:
        get_core.restype = ctypes.c_char_p
        core = get_core().decode()
    return f"{name} (core {core}, {threads} threads)"


def busy_warning() -> str:
    """A warning when other processes already keep the cores busy and more than 1 thread is used."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return ""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if load >= cores - 0.5 and numba.get_num_threads() > 1:
        return (f"WARNING: load {load:.1f} on {cores} cores before starting: multi-threaded timings "
                f"(hopcap's numba kernels most of all) measure contention; compare --threads 1")
    return ""


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bench_case(case: Case, trials: int, straight_trials: int, repeats: int, seed: int,
               verify: bool, rows: list[dict]) -> dict:
    """Time one model; print its per-trial table; return summary numbers."""
    n = case.n
    xs = [np.array(PatternStream(PatternSpec(n), (seed, t)).take(case.p_limit)) for t in range(trials)]
    for t, x in enumerate(xs):
        assert x.shape == (case.p_limit, n), f"trial {t}: got {x.shape}"

    # Warm-up: numba compilation (or cache load), BLAS thread start-up, first-touch allocations.
    run_impl("hopcap", case, xs[0])
    run_impl("hopcap", case, xs[0])
    run_impl("blocked", case, xs[0])
    run_impl("straight", case, xs[0], p_limit=min(case.p_limit, 64))

    straight_trials = min(straight_trials, trials)
    best: dict[str, list[float]] = {impl: [] for impl in IMPLS}
    print(f"\n## {case.model.label}, N={n}, criterion stable (all patterns), p_limit={case.p_limit}, "
          f"{trials} trials (seed {seed})")
    print(f"times: best of up to {repeats} interleaved runs (fewer once an implementation's runs "
          f"on a trial pass {REPEAT_BUDGET_S:g} s); straight timed on the first {straight_trials} "
          f"trials only")
    head = (f"{'trial':>5} {'p_max':>6} {'checks':>6} {'straight s':>11} {'blocked s':>10} "
            f"{'hopcap s':>9} {'straight/hop':>12} {'blocked/hop':>11}")
    print(head)
    print("-" * len(head))
    for t, x in enumerate(xs):
        impls = IMPLS if t < straight_trials else ("blocked", "hopcap")
        times: dict[str, list[float]] = {impl: [] for impl in impls}
        outs: dict[str, SearchOutcome] = {}
        for rep in range(repeats):
            for impl in impls:
                if rep > 0 and sum(times[impl]) >= REPEAT_BUDGET_S:
                    continue
                dt, out = timed(lambda impl=impl, x=x: run_impl(impl, case, x))
                times[impl].append(dt)
                if impl in outs:
                    assert out == outs[impl], f"{impl} not deterministic on trial {t}"
                outs[impl] = out
        ref = outs["hopcap"]
        assert not ref.capped, f"trial {t}: p_max={ref.p_max} hit p_limit; raise p_limit"
        for impl, out in outs.items():
            assert (out.p_max, out.checks, out.capped) == (ref.p_max, ref.checks, ref.capped), \
                f"trial {t}: {impl} gave {out}, hopcap gave {ref}"
        if "straight" not in impls and verify:
            check = straightforward_checker(case.model, x, n)
            assert (ref.p_max == 0 or check(ref.p_max)) and not check(ref.p_max + 1), \
                f"trial {t}: straightforward check disagrees with hopcap at p_max={ref.p_max}"
        for impl in impls:
            best[impl].append(min(times[impl]))
            rows.append({"model": case.model.label, "n": n, "p_limit": case.p_limit, "seed": seed,
                         "trial": t, "impl": impl, "p_max": ref.p_max, "checks": ref.checks,
                         "best_s": min(times[impl]), "median_s": statistics.median(times[impl]),
                         "runs": len(times[impl]), "numba_threads": numba.get_num_threads()})
        h = best["hopcap"][t]
        s_txt = f"{best['straight'][t]:11.4f}" if "straight" in impls else f"{'-':>11}"
        sr_txt = f"{best['straight'][t] / h:12.1f}" if "straight" in impls else f"{'-':>12}"
        print(f"{t:>5} {ref.p_max:>6} {ref.checks:>6} {s_txt} {best['blocked'][t]:10.4f} {h:9.4f} "
              f"{sr_txt} {best['blocked'][t] / h:11.1f}", flush=True)

    hop, blk, st = best["hopcap"], best["blocked"], best["straight"]
    k = straight_trials
    summary = {
        "hopcap_mean": statistics.fmean(hop),
        "blocked_mean": statistics.fmean(blk),
        "straight_mean": statistics.fmean(st) if st else float("nan"),
        "hopcap_mean_on_straight_trials": statistics.fmean(hop[:k]) if k else float("nan"),
        "blocked_ratio": sum(blk) / sum(hop),
        "straight_ratio": sum(st) / sum(hop[:k]) if k else float("nan"),
        "blocked_ratio_median": statistics.median(b / h for b, h in zip(blk, hop, strict=True)),
        "straight_ratio_median": (statistics.median(s / h for s, h in zip(st, hop, strict=False))
                                  if k else float("nan")),
        "p_max_mean": statistics.fmean(r["p_max"] for r in rows
                                       if r["model"] == case.model.label and r["impl"] == "hopcap"),
    }
    print(f"mean time per trial: hopcap {summary['hopcap_mean']:.4f} s, blocked "
          f"{summary['blocked_mean']:.4f} s ({trials} trials); straight {summary['straight_mean']:.3f} s "
          f"({k} trials; hopcap on those: {summary['hopcap_mean_on_straight_trials']:.4f} s)")
    print(f"speed-up of hopcap: x{summary['straight_ratio']:.1f} vs straightforward numpy "
          f"(ratio of summed times over its {k} trials; median per-trial x"
          f"{summary['straight_ratio_median']:.1f}),")
    print(f"                    x{summary['blocked_ratio']:.1f} vs blocked numpy/BLAS "
          f"(summed over {trials} trials; median per-trial x{summary['blocked_ratio_median']:.1f})")
    print("issue targets: >= x100 vs straightforward: "
          f"{'met' if summary['straight_ratio'] >= TARGETS['straight'] else 'NOT met'}; "
          f">= x3 vs blocked: {'met' if summary['blocked_ratio'] >= TARGETS['blocked'] else 'NOT met'}")
    print(f"all {trials} trials: hopcap, blocked" + (", straight" if k else "")
          + " gave identical p_max and check counts"
          + (f"; straight verified at p_max / p_max+1 on the other {trials - k}"
             if verify and trials > k else ""))
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few trials and repeats (a smoke run)")
    ap.add_argument("--trials", type=int, help="trials per model (default: 6 poly3, 20 exp)")
    ap.add_argument("--straight-trials", type=int,
                    help="trials on which the straightforward search is timed (default: 3 poly3, "
                         "all for exp)")
    ap.add_argument("--repeats", type=int, help="runs per trial and implementation (default 5)")
    ap.add_argument("--models", default="poly3,exp,exp28", help=f"comma list of {', '.join(CASES)}")
    ap.add_argument("--threads", type=int,
                    help="numba and OpenBLAS threads (default: all; 1 is steadier on a busy machine)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--csv", metavar="PATH", help="write one row per model, trial and implementation")
    ap.add_argument("--no-verify", action="store_true",
                    help="skip the straightforward p_max / p_max+1 check on untimed trials")
    args = ap.parse_args(argv)

    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    for k in keys:
        if k not in CASES:
            ap.error(f"unknown model {k!r}; choose from {', '.join(CASES)}")
    repeats = args.repeats or (3 if args.quick else 5)
    if repeats < 1:
        ap.error("--repeats must be >= 1")

    if args.threads is not None:
        if not 1 <= args.threads <= max_threads():
            ap.error(f"--threads must be in [1, {max_threads()}]")
        numba.set_num_threads(args.threads)
        if not set_blas_threads(args.threads):
            print("warning: could not set the OpenBLAS thread count", file=sys.stderr)

    t0 = time.perf_counter()
    print("# hopcap capacity-search benchmark (criterion: stable, threshold 1.0)")
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}")
    print(f"cpu: {cpu_name()}; os.cpu_count()={os.cpu_count()}, "
          f"usable cores={len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}")
    print(f"numba threads: {numba.get_num_threads()} (hopcap kernels); numpy BLAS: {blas_info()}; "
          f"numpy elementwise ops: 1 thread")
    print(f"load average at start: {load_average()} (other processes share these cores)")
    busy = busy_warning()
    if busy:
        print(busy)
    print("impls: straight = per-pattern P x N flip gains (numpy); blocked = two-product form in "
          "256-row blocks (float64 BLAS), recomputed per P; hopcap = capacity_of_sequence "
          "(numba, incremental)")

    rows: list[dict] = []
    for k in keys:
        case = CASES[k]
        trials = args.trials or (case.quick_trials if args.quick else case.trials)
        straight = (args.straight_trials if args.straight_trials is not None
                    else case.quick_straight_trials if args.quick else case.straight_trials)
        bench_case(case, trials, straight, repeats, args.seed, not args.no_verify, rows)

    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"\nwrote {len(rows)} rows to {args.csv}")
    print(f"\nload average at end: {load_average()}")
    print(f"total benchmark wall time: {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
