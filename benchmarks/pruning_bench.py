"""Certified pruning of the exp stability check against today's full kernel and the numpy search.

    python benchmarks/pruning_bench.py [--quick] [--threads T] [--sizes 28,36]

For exp beta = 1 under ``stable`` (all patterns), on the same pre-generated i.i.d. sequences
(``PatternStream(PatternSpec(N), (0, t))``) and in the same run:

* ``pruned``: hopcap's default checker for exp (search.PrunedStabilityChecker, kernels/pruned.py);
* ``full``: the full two-product kernel (search.StabilityChecker, kernels/stability.py), i.e. the
  exp check before pruning;
* ``blocked``: the blocked-GEMM numpy search of benchmarks/baselines.py (N = 28 only: at N = 36 it
  would take hours).

All must give the same p_max and number of checks (asserted). Prints per-trial times, the ratios
and the issue's targets (>= x100 against blocked numpy at N = 28, <= 5 s per trial at N = 36).
Times exclude numba compilation (one warm-up search first).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numba
import numpy as np
from baselines import blocked_checker

from capacity_cli.criteria import Stable
from capacity_cli.datasets import PatternSpec, PatternStream
from capacity_cli.models import BinaryDAM
from capacity_cli.search import StabilityChecker, capacity_of_sequence, largest_storable

MODEL = BinaryDAM("exp", beta=1.0)
#: (N, p_limit, trials, quick trials, impls)
SIZES = {
    28: (28, 16384, 4, 2, ("blocked", "full", "pruned")),
    36: (36, 1 << 20, 2, 1, ("full", "pruned")),
}


def full_checker(model, criterion, source, n, limit, seed):
    return StabilityChecker(model, criterion, source, n, limit)


def search(impl: str, x: np.ndarray, n: int, limit: int):
    if impl == "blocked":
        return largest_storable(blocked_checker(MODEL, x, n), limit)
    factory = full_checker if impl == "full" else None
    return capacity_of_sequence(MODEL, Stable(), lambda p: x[:p], n, limit, checker_factory=factory)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer trials")
    ap.add_argument("--threads", type=int, help="numba threads (default: all)")
    ap.add_argument("--sizes", default="28,36", help="comma list of N in {28, 36}")
    args = ap.parse_args(argv)
    if args.threads:
        numba.set_num_threads(args.threads)
    print(f"# certified pruning, exp beta=1, stable; numba threads {numba.get_num_threads()}, "
          f"load {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for key in (int(s) for s in args.sizes.split(",")):
        n, limit, trials, quick_trials, impls = SIZES[key]
        trials = quick_trials if args.quick else trials
        warm = np.array(PatternStream(PatternSpec(n), (1, 0)).take(min(limit, 4096)))
        for impl in impls:
            if impl != "blocked":
                search(impl, warm, n, len(warm))
        print(f"\n## N={n}, p_limit={limit}, {trials} trials")
        print(f"{'trial':>5} {'p_max':>7} " + " ".join(f"{i + ' s':>10}" for i in impls)
              + "  " + " ".join(f"{i + '/pruned':>15}" for i in impls if i != "pruned"))
        times: dict[str, list[float]] = {i: [] for i in impls}
        for t in range(trials):
            x = np.array(PatternStream(PatternSpec(n), (0, t)).take(limit))
            outs = {}
            for impl in impls:
                start = time.perf_counter()
                outs[impl] = search(impl, x, n, limit)
                times[impl].append(time.perf_counter() - start)
            ref = outs["pruned"]
            assert not ref.capped, f"trial {t}: hit p_limit"
            for impl, out in outs.items():
                assert (out.p_max, out.checks) == (ref.p_max, ref.checks), f"{impl}: {out} vs {ref}"
            print(f"{t:>5} {ref.p_max:>7} " + " ".join(f"{times[i][-1]:10.3f}" for i in impls) + "  "
                  + " ".join(f"{times[i][-1] / times['pruned'][-1]:15.1f}" for i in impls
                             if i != "pruned"), flush=True)
        pruned = statistics.fmean(times["pruned"])
        print("mean per trial: " + ", ".join(f"{i} {statistics.fmean(times[i]):.3f} s" for i in impls))
        for impl in impls:
            if impl != "pruned":
                print(f"speed-up of pruning: x{sum(times[impl]) / sum(times['pruned']):.1f} vs {impl}")
        if n == 28:
            ratio = sum(times["blocked"]) / sum(times["pruned"])
            print(f"target >= x100 vs blocked numpy at N=28: {'met' if ratio >= 100 else 'NOT met'}")
        if n == 36:
            print(f"target <= 5 s per trial at N=36: {'met' if pruned <= 5 else 'NOT met'} "
                  f"({pruned:.2f} s)")
        print("all trials: identical p_max and check counts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
