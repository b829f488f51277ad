"""Time ONE all-patterns check of the softmax model (retrieve-eps, 1 step, no noise) three ways.

    python benchmarks/softmax_bench.py [--cases 64x4096,256x2048] [--repeats R] [--eps E]

For each N x P, on the same sphere patterns (``sphere_patterns(N, P, seed=0)``), beta = 1:

* ``hopcap``: ``SoftmaxChecker(...)(P)``, a fresh checker (no prefix reuse), float64;
* ``loop``: a plain numpy loop over patterns, one update (two matrix-vector products) per pattern;
* ``numpy``: the same two products in one numpy expression for all patterns at once
  (S = X X^T, row softmax, W X), which needs the whole P x P matrix in memory.

All three must reach the same decision (asserted). Times are the best of R runs after one warm-up
(numba compilation and BLAS start-up are not timed).
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import best_time  # benchmarks/timing.py (scripts run from benchmarks/)

from capacity_cli.families.softmax import RetrieveEps, SoftmaxChecker, SoftmaxModel, sphere_patterns


def loop_check(x: np.ndarray, beta: float, eps: float) -> bool:
    for i in range(len(x)):
        s = beta * (x @ x[i])
        w = np.exp(s - s.max())
        new = (w @ x) / w.sum()
        if np.linalg.norm(new - x[i]) > eps * np.linalg.norm(x[i]):
            return False
    return True


def numpy_check(x: np.ndarray, beta: float, eps: float) -> bool:
    s = beta * (x @ x.T)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    new = (w @ x) / w.sum(axis=1, keepdims=True)
    return bool((np.linalg.norm(new - x, axis=1) <= eps * np.linalg.norm(x, axis=1)).all())



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="64x4096,256x2048")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--eps", type=float, default=1.0,
                        help="retrieve-eps tolerance; the default 1 stores every case, so no method "
                             "can stop early and all do the full check")
    args = parser.parse_args()
    print(f"{'N':>5} {'P':>6} {'hopcap s':>10} {'loop s':>10} {'numpy s':>10} "
          f"{'loop/hopcap':>12} {'numpy/hopcap':>13}")
    for case in args.cases.split(","):
        n, p = (int(v) for v in case.split("x"))
        x32 = sphere_patterns(n, p, seed=0)
        x = x32.astype(np.float64)
        model, crit = SoftmaxModel(1.0), RetrieveEps(args.eps)

        def hopcap(x32=x32, n=n, p=p, model=model, crit=crit):
            return SoftmaxChecker(model, crit, lambda q: x32[:q], n, p)(p)

        t_h, r_h = best_time(hopcap, args.repeats)
        t_l, r_l = best_time(lambda x=x: loop_check(x, 1.0, args.eps), args.repeats)
        t_n, r_n = best_time(lambda x=x: numpy_check(x, 1.0, args.eps), args.repeats)
        assert r_h == r_l == r_n, (case, r_h, r_l, r_n)
        print(f"{n:>5} {p:>6} {t_h:>10.4f} {t_l:>10.4f} {t_n:>10.4f} {t_l / t_h:>12.1f} "
              f"{t_n / t_h:>13.2f}")


if __name__ == "__main__":
    main()
