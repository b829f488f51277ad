"""Time the census relaxation (kernels.census.relax_starts) against a straightforward numpy version.

    python benchmarks/census_bench.py [--cases 100x10x2000,200x20x1000] [--repeats R]

For each N x P x S (Hebbian network W = X^T X, zero diagonal; S uniformly random starts):

* ``hopcap``: ``binary_dynamics(model, x).relax(starts, ...)``: numba, prange over starts,
  incremental overlaps, exact decisions;
* ``numpy``: every start relaxed by the same rule with numpy, one unit at a time: the local field
  h_i = W_i . y (a length-N dot product), flip when y_i h_i < 0, the same sweep orders (taken from the
  same splitmix64 streams, so both reach the same states: asserted);
* ``numpy-batch``: all starts at once, one unit index per step for every start (W[i] @ Y^T), the
  sweep order shared by all starts (a different but equally valid random order, so states are not
  compared).

Times are the best of R runs after one warm-up (numba compilation is not timed).
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import best_time  # benchmarks/timing.py (scripts run from benchmarks/)

from capacity_cli.census import binary_dynamics, random_starts
from capacity_cli.datasets import PatternSpec, generate_patterns
from capacity_cli.kernels.dynamics import shuffle_inplace, stream_state
from capacity_cli.models import BinaryDAM


def orders(seed: int, index: int, n: int, sweeps: int) -> list[np.ndarray]:
    state = stream_state(np.uint64(seed), index)
    order = np.arange(n)
    out = []
    for _ in range(sweeps):
        shuffle_inplace(order, state)
        out.append(order.copy())
    return out


def numpy_relax(w: np.ndarray, starts: np.ndarray, seed: int, max_sweeps: int) -> np.ndarray:
    finals = starts.astype(np.int64).copy()
    n = w.shape[0]
    for s in range(len(finals)):
        y = finals[s]
        for order in orders(seed, s, n, max_sweeps):
            flips = 0
            for i in order:
                if y[i] * (w[i] @ y) < 0:
                    y[i] = -y[i]
                    flips += 1
            if flips == 0:
                break
    return finals.astype(np.int8)


def numpy_batch_relax(w: np.ndarray, starts: np.ndarray, seed: int, max_sweeps: int) -> np.ndarray:
    y = starts.astype(np.float64).T.copy()  # (N, S)
    rng = np.random.default_rng(seed)
    for _ in range(max_sweeps):
        changed = False
        for i in rng.permutation(w.shape[0]):
            h = w[i] @ y
            flip = y[i] * h < 0
            if flip.any():
                y[i, flip] = -y[i, flip]
                changed = True
        if not changed:
            break
    return y.T.astype(np.int8)



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="100x10x2000,200x20x1000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'case NxPxS':<16} {'hopcap s':>10} {'numpy s':>10} {'batch s':>10} {'numpy/hopcap':>13} "
          f"{'batch/hopcap':>13}")
    for case in args.cases.split(","):
        n, p, s = (int(v) for v in case.split("x"))
        print(run_case(n, p, s, args.repeats), flush=True)


def run_case(n: int, p: int, s: int, repeats: int) -> str:
    x = generate_patterns(PatternSpec(n), p, seed=0)
    starts = random_starts(n, s, seed=0)
    w = x.T.astype(np.int64) @ x.astype(np.int64)
    np.fill_diagonal(w, 0)
    dyn = binary_dynamics(BinaryDAM("hebbian"), x)
    t_hop, relaxed = best_time(lambda: dyn.relax(starts, np.arange(s), 1, 100), repeats)
    t_np, finals = best_time(lambda: numpy_relax(w, starts, 1, 100), 1)
    assert np.array_equal(finals, relaxed.finals), "numpy and hopcap reached different states"
    t_batch, _ = best_time(lambda: numpy_batch_relax(w.astype(np.float64), starts, 1, 100), repeats)
    return (f"{f'{n}x{p}x{s}':<16} {t_hop:>10.4f} {t_np:>10.3f} {t_batch:>10.3f} {t_np / t_hop:>13.1f} "
            f"{t_batch / t_hop:>13.1f}")

if __name__ == "__main__":
    main()
