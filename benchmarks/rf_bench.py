"""Time ONE all-patterns stability check of the rf model (O(P N Y)) against numpy, same run.

    python benchmarks/rf_bench.py [--cases 32x16384x2000,16x4096x500] [--kind trig] [--repeats R]

For each N x Y x P (random +-1 patterns, seed 0; beta = 10), the same work two ways:

* ``hopcap``: ``StabilityChecker.decisions(P, P)`` of a fresh checker (the memory T built from the P
  patterns, then every pattern's N flip gains; kernels.rf, numba, parallel over patterns);
* ``numpy``: the same formulas as matrix products over blocks of 256 patterns: angles X01 @ W, the
  per-state vectors a, b, then all gains as (a @ tab1^T) + y * (b @ tab2^T) (trig) or the positive
  features' exponential factors (BLAS GEMMs).

Both must reach the same per-pattern decisions (asserted). Times are the best of R runs after one
warm-up (numba compilation is not timed); the frequencies are drawn once, outside the timing.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from timing import best_time  # benchmarks/timing.py (scripts run from benchmarks/)

from capacity_cli.criteria import Stable
from capacity_cli.families.rf.model import TIE_RTOL, RandomFeatureDAM, StabilityChecker

BLOCK = 256


def numpy_stable(x: np.ndarray, fmap) -> np.ndarray:
    """Per-pattern stability with numpy (BLAS), blocked over patterns."""
    p, n = x.shape
    x01 = (x > 0).astype(np.float64)
    t1 = np.zeros(fmap.w.shape[1])
    t2 = np.zeros_like(t1)
    norm = fmap.beta * x01.sum(axis=1) / n
    for a in range(0, p, BLOCK):
        theta = x01[a:a + BLOCK] @ fmap.w
        if fmap.kind == "trig":
            t1 += np.cos(theta).sum(axis=0)
            t2 += np.sin(theta).sum(axis=0)
        else:
            t1 += np.exp(theta - norm[a:a + BLOCK, None]).sum(axis=0)
            t2 += np.exp(-theta - norm[a:a + BLOCK, None]).sum(axis=0)
    out = np.empty(p, dtype=bool)
    if fmap.kind == "trig":
        scale = (np.abs(fmap.tab1) + np.abs(fmap.tab2)) @ np.hypot(t1, t2)
    up, down = math.exp(fmap.beta / n), math.exp(-fmap.beta / n)
    for a in range(0, p, BLOCK):
        theta = x01[a:a + BLOCK] @ fmap.w
        y = x[a:a + BLOCK].astype(np.float64)
        if fmap.kind == "trig":
            c, s = np.cos(theta), np.sin(theta)
            va, vb = c * t1 + s * t2, s * t1 - c * t2
            gain = va @ fmap.tab1.T + y * (vb @ fmap.tab2.T)
            bound = TIE_RTOL * scale[None, :]
        else:
            va, vb = np.exp(theta) * t1, np.exp(-theta) * t2
            total = (va + vb).sum(axis=1, keepdims=True)
            plus = up * (va @ fmap.tab2.T + vb @ fmap.tab1.T)
            minus = down * (va @ fmap.tab1.T + vb @ fmap.tab2.T)
            d = np.where(y > 0, plus, minus)
            gain, bound = d - total, TIE_RTOL * (d + total)
        out[a:a + BLOCK] = ~(gain > bound).any(axis=1)
    return out



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="32x16384x2000,16x4096x500")
    parser.add_argument("--kind", default="trig", choices=["trig", "positive"])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"{'N':>4} {'Y':>6} {'P':>5} {'kind':>8} {'hopcap s':>9} {'numpy s':>9} {'numpy/hopcap':>13}")
    for case in args.cases.split(","):
        n, y, p = (int(v) for v in case.split("x"))
        x = np.random.default_rng(0).choice(np.array([-1, 1], dtype=np.int8), size=(p, n))
        model = RandomFeatureDAM(10.0, y, args.kind)
        checker = StabilityChecker(model, Stable(), lambda q, x=x: x[:q], n, p, 0)

        def hopcap(checker=checker, p=p):
            return checker.decisions(p, p)[1].astype(bool)

        t_h, r_h = best_time(hopcap, args.repeats)
        t_n, r_n = best_time(lambda x=x, f=checker.fmap: numpy_stable(x, f), args.repeats)
        assert np.array_equal(r_h, r_n), case
        print(f"{n:>4} {y:>6} {p:>5} {args.kind:>8} {t_h:>9.3f} {t_n:>9.3f} {t_n / t_h:>13.2f}")


if __name__ == "__main__":
    main()
