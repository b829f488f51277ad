"""Time retrieval curves (capacity_cli.curves) against straightforward numpy versions of the same work.

    python benchmarks/curve_bench.py [--n 400] [--trials 3] [--repeats R]

* ``stable curve``: the fraction of fixed points at every P of alpha = 0.05..0.25 (step 0.01) of a
  Hebbian network: ``StabilityChecker.successes`` (numba, sums extended from one P to the next)
  against numpy recomputing h = (X^T X - P I) x_nu for every pattern at every P by BLAS (float64,
  exact for these integers), stable when every y_i h_i >= 0. Counts asserted equal.
* ``overlap curve``: the same grid under overlap m >= 0.9 from the pattern itself:
  ``DynamicsChecker.successes`` (numba, parallel over patterns) against numpy asynchronous sweeps,
  one unit at a time with h_i = W_i . y, over the same sweep orders (same splitmix64 streams):
  counts asserted equal.

Times are the best of R runs after one warm-up (numba compilation is not timed).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from capacity_cli.criteria import Overlap, Stable
from capacity_cli.curves import Grid
from capacity_cli.datasets import PatternSpec, generate_patterns
from capacity_cli.kernels.dynamics import shuffle_inplace, stream_state
from capacity_cli.models import BinaryDAM
from capacity_cli.search import make_checker


def numpy_stable_counts(x: np.ndarray, ps: list[int]) -> list[int]:
    out = []
    for p in ps:
        xp = x[:p].astype(np.float64)
        w = xp.T @ xp
        np.fill_diagonal(w, 0)
        h = xp @ w
        out.append(int(((xp * h) >= 0).all(axis=1).sum()))
    return out


def numpy_overlap_counts(x: np.ndarray, ps: list[int], seed: int, target: int, max_sweeps: int = 100
                         ) -> list[int]:
    n = x.shape[1]
    out = []
    for p in ps:
        xp = x[:p].astype(np.int64)
        w = xp.T @ xp
        np.fill_diagonal(w, 0)
        ok = 0
        for nu in range(p):
            y = xp[nu].copy()
            state = stream_state(np.uint64(seed), nu)
            order = np.arange(n)
            for _ in range(max_sweeps):
                shuffle_inplace(order, state)
                flips = 0
                for i in order:
                    if y[i] * (w[i] @ y) < 0:
                        y[i] = -y[i]
                        flips += 1
                if flips == 0:
                    break
            ok += int(y @ xp[nu] >= target)
        out.append(ok)
    return out


def best(f, repeats: int) -> tuple[float, object]:
    value = f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = f()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    n, model = args.n, BinaryDAM("hebbian")
    ps = Grid("0.05:0.25:0.01", per_n=True).ps(n)
    target = math.ceil(0.9 * n - 1e-9)
    print(f"Hebbian N={n}, P in {ps[0]}..{ps[-1]} ({len(ps)} points), {args.trials} trial(s)")
    print(f"{'work':<16} {'hopcap s':>10} {'numpy s':>10} {'numpy/hopcap':>13}")
    for name in ("stable curve", "overlap curve"):
        total_h = total_n = 0.0
        for trial in range(args.trials):
            x = generate_patterns(PatternSpec(n), ps[-1], seed=trial)
            crit = Stable() if name == "stable curve" else Overlap(min_overlap=0.9)

            def ours(x=x, crit=crit, trial=trial):
                checker = make_checker(model, crit, lambda q: x[:q], n, ps[-1], seed=trial)
                return [checker.successes(p) for p in ps]

            def theirs(x=x, name=name, trial=trial):
                if name == "stable curve":
                    return numpy_stable_counts(x, ps)
                return numpy_overlap_counts(x, ps, trial, target)

            t_h, got = best(ours, args.repeats)
            t_n, want = best(theirs, 1 if name == "overlap curve" else args.repeats)
            assert got == want, (name, got, want)
            total_h += t_h
            total_n += t_n
        print(f"{name:<16} {total_h:>10.4f} {total_n:>10.4f} {total_n / total_h:>13.1f}")


if __name__ == "__main__":
    main()
