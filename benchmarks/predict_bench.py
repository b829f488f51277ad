"""Time ``predict_capacity`` (one configuration: the whole law of P_max) against plain numpy.

    python benchmarks/predict_bench.py [--repeats R] [--mc-draws D]

A: :func:`capacity_cli.predict.predict_capacity` for one configuration (cold: the crosstalk law's
cache cleared). B: one p_unit at the predicted 5% quantile of P_max,

* ``hopcap``: :func:`capacity_cli.predict.unit_failure` (exact tilted FFT or saddlepoint);
* ``direct``: the (P-1)-fold law of the crosstalk sum by repeated squaring with ``np.convolve`` on
  the integer lattice (no tilt), tail summed; only where the lattice is small (hebbian N = 256);
* ``monte-carlo``: D draws of the sum of P-1 terms per grid P (k ~ Binomial(N-1, 1/2), random sign),
  the obvious alternative; it cannot resolve p_unit below ~1/D, while capacity sits where p_unit is
  about 1/(N P): the time for a 10% error (100 / p_unit draws) is extrapolated from D draws.

Times are the best of R runs after one warm-up.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from capacity_cli.models import BinaryDAM
from capacity_cli.predict import _crosstalk_law, crosstalk_law, predict_capacity, unit_failure

CASES = [(BinaryDAM("hebbian"), 1024), (BinaryDAM("poly", degree=3), 1024),
         (BinaryDAM("rectpoly", degree=3), 512), (BinaryDAM("poly", degree=4), 256),
         (BinaryDAM("exp", beta=1.0), 32)]


def best(f, repeats: int) -> float:
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def direct_unit_failure(model: BinaryDAM, n: int, p: int) -> float:
    """P(S_{P-1} > margin) by repeated squaring with np.convolve on the integer lattice."""
    law = crosstalk_law(model, n)
    top = max(law.lattice)
    f = np.zeros(2 * top + 1)
    w = np.exp(law.log_weight) / 2
    for sign in (1, -1):
        np.add.at(f, sign * np.array(law.lattice) + top, w)
    result, offset, power, base, base_offset = np.ones(1), 0, p - 1, f, top
    while power:
        if power & 1:
            result = np.convolve(result, base)
            offset += base_offset
        power >>= 1
        if power:
            base = np.convolve(base, base)
            base_offset *= 2
    s = np.arange(result.size) - offset
    return float(result[s > law.margin].sum())


def monte_carlo(model: BinaryDAM, n: int, p: int, draws: int, rng) -> float:
    """Fraction of ``draws`` sums of P-1 sampled terms above the margin (in chunks of ~2M terms)."""
    law = crosstalk_law(model, n)
    rows = max(1, (1 << 21) // max(p - 1, 1))
    hits = 0
    for start in range(0, draws, rows):
        m = min(rows, draws - start)
        k = rng.binomial(n - 1, 0.5, size=(m, p - 1))
        sign = rng.choice([-1.0, 1.0], size=(m, p - 1))
        hits += int(((sign * law.magnitude[k]).sum(axis=1) > 1.0).sum())
    return hits / draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mc-draws", type=int, default=2_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("A. One configuration: the whole law of P_max (cold cache)")
    print(f"{'configuration':<18} {'N':>5} {'P on grid':>9} {'seconds':>8} {'mean P_max':>11}  method")
    for model, n in CASES:
        def cold(model=model, n=n):
            _crosstalk_law.cache_clear()
            return predict_capacity(model, n)

        t = best(cold, args.repeats)
        pred = cold()
        print(f"{model.label:<18} {n:>5} {pred.grid.size:>9} {t:>8.3f} {pred.mean:>11.1f}  {pred.method}")
    print()
    print("B. One p_unit at the predicted 5% quantile of P_max, against plain numpy")
    print(f"{'configuration':<18} {'N':>5} {'P':>6} {'p_unit':>9} {'hopcap s':>9} {'alternative':<22} "
          f"{'its s':>8} {'ratio':>7}  its value")
    for model, n in [(BinaryDAM("hebbian"), 256), (BinaryDAM("hebbian"), 1024),
                     (BinaryDAM("poly", degree=3), 1024), (BinaryDAM("exp", beta=1.0), 32)]:
        law = crosstalk_law(model, n)
        p = predict_capacity(model, n).quantile(0.05)
        value = math.exp(unit_failure(law, p))
        t_hop = best(lambda law=law, p=p: unit_failure(law, p), args.repeats)
        alternatives = [("monte-carlo", lambda model=model, n=n, p=p:
                         monte_carlo(model, n, p, args.mc_draws, rng))]
        if model.name == "hebbian" and n <= 256:
            alternatives.insert(0, ("direct np.convolve", lambda model=model, n=n, p=p:
                                    direct_unit_failure(model, n, p)))
        for name, f in alternatives:
            t_alt = best(f, 1)
            got = f()
            if name == "monte-carlo":  # 10% relative error needs ~100 / p_unit draws
                needed = 100.0 / value
                t_needed = t_alt * needed / args.mc_draws
                note = (f"{got:.1e} from {args.mc_draws} draws; 10% error needs {needed:.0e} draws "
                        f"~ {t_needed:.0f} s, x{t_needed / t_hop:.0e}")
            else:
                note = f"{got:.3e} (rel diff {got / value - 1:+.1e})"
            print(f"{model.label:<18} {n:>5} {p:>6} {value:>9.2e} {t_hop:>9.4f} {name:<22} {t_alt:>8.3f} "
                  f"{t_alt / t_hop:>6.0f}x  {note}")


if __name__ == "__main__":
    main()
