"""Time the update-scheme and Glauber kernels (kernels.dynamics.relax_prefix_scheme) against
straightforward numpy versions of the same work.

    python benchmarks/dynamics_bench.py [--n 200,400] [--repeats R] [--threads T]

For each N, a Hebbian network (W = X^T X, zero diagonal) at P = 0.1 N, every pattern relaxed from a
cue with 10% flipped bits (cues drawn with the package's streams outside the timed loop):

* ``sync``: synchronous updates at T = 0 until a fixed point or a 2-cycle (numpy: h = W y per
  update, flip where y_i h_i < 0); the same final overlaps (asserted);
* ``glauber``: 20 sequential sweeps at T = N / 2 (T_AGS = 0.5; numpy: a loop over units with
  h += 2 y_i W[:, i], flip when u (1 + exp(2 y_i h_i / T)) < 1 with the package's uniforms, drawn
  before timing); the same final overlaps (asserted).

Times are the best of R runs after one warm-up (compilation not timed); ratios are numpy / numba.
For sync the numpy version wins at these sizes: one BLAS product W y per update (N^2 multiply-adds
at BLAS speed) against the kernel's sums over the P overlaps per unit (N P table look-ups), the form
that serves every F (no W exists for F other than x^2).
"""

from __future__ import annotations

import argparse

import numba
import numpy as np
from timing import best_time  # benchmarks/timing.py (scripts run from benchmarks/)

from capacity_cli.datasets import PatternSpec, pattern_source
from capacity_cli.kernels.dynamics import (
    SEQUENTIAL,
    SYNC,
    flip_distinct,
    relax_prefix_scheme,
    stream_state,
    uniform01,
)
from capacity_cli.models import BinaryDAM, gain_arithmetic, glauber_unit


def kernel(x, n_flip, max_sweeps, scheme, temperature, seed):
    p, n = x.shape
    model = BinaryDAM("hebbian")
    a = gain_arithmetic(model, n, p)
    unit = glauber_unit(model, n, a.gain) if temperature > 0 else 1.0
    outs = (np.zeros(p, np.int64), np.zeros(p, np.int64), np.zeros(p, np.bool_), np.zeros(p, np.bool_),
            np.zeros(p, np.bool_))
    with numba.parallel_chunksize(1):
        relax_prefix_scheme(x, np.ascontiguousarray(x.T), p, a.gain, False, a.exact, a.shiftable,
                            a.levels.table, a.levels.ratio_form, n_flip, -(10**9), max_sweeps,
                            np.uint64(seed), scheme, float(temperature), unit, 0.0, 0, p + 1,
                            8 * numba.get_num_threads(), *outs)
    return outs[0]


def cues(x, n_flip, seed):
    """Each pattern's cue and its stream state after the cue (the kernels' draws continue it)."""
    out = []
    for nu in range(len(x)):
        state = stream_state(np.uint64(seed), nu)
        y = x[nu].astype(np.int64)
        flip_distinct(y, n_flip, state)
        out.append((y, state))
    return out


def numpy_sync(x, w, starts, max_sweeps):
    finals = []
    for y0, _ in starts:
        y, prev = y0.copy(), None
        for _sweep in range(max_sweeps):
            flip = y * (w @ y) < 0
            if not flip.any():
                break
            before = y.copy()
            y = np.where(flip, -y, y)
            if prev is not None and np.array_equal(y, prev):
                break
            prev = before
        finals.append(y)
    return np.einsum("ij,ij->i", x.astype(np.int64), np.array(finals))


def numpy_glauber(x, w, starts, draws, sweeps, temperature):
    finals = []
    n = x.shape[1]
    for (y0, _), u in zip(starts, draws, strict=True):
        y = y0.astype(np.float64)
        h = w @ y
        k = 0
        for _ in range(sweeps):
            for i in range(n):
                de = 2.0 * y[i] * h[i] / temperature
                if de <= 700.0 and u[k] * (1.0 + np.exp(de)) < 1.0:
                    y[i] = -y[i]
                    h += (2.0 * y[i]) * w[:, i]
                k += 1
        finals.append(y)
    return np.einsum("ij,ij->i", x.astype(np.float64), np.array(finals)).astype(np.int64)


def bench(n: int, repeats: int) -> None:
    """Both comparisons at one N (module docstring)."""
    p = n // 10
    x = np.ascontiguousarray(pattern_source(PatternSpec(n), (0, 0))(p), dtype=np.int8)
    w = x.T.astype(np.float64) @ x.astype(np.float64)
    np.fill_diagonal(w, 0.0)
    n_flip, seed, t = n // 10, 7, n / 2
    starts = cues(x, n_flip, seed)
    tk, fk = best_time(lambda: kernel(x, n_flip, 100, SYNC, 0.0, seed), repeats)
    tn, fn = best_time(lambda: numpy_sync(x, w, starts, 100), repeats)
    assert np.array_equal(fk, fn)
    print(f"{n:>5} {p:>4} {'sync':>8} {tk:>9.4f} {tn:>9.4f} {tn / tk:>7.1f}")
    draws = []
    for _, s in starts:
        state = s.copy()
        draws.append(np.array([uniform01(state) for _ in range(20 * n)]))
    tk, fk = best_time(lambda: kernel(x, n_flip, 20, SEQUENTIAL, t, seed), repeats)
    tn, fn = best_time(lambda: numpy_glauber(x, w, starts, draws, 20, t), 1)
    assert np.array_equal(fk, fn)
    print(f"{n:>5} {p:>4} {'glauber':>8} {tk:>9.4f} {tn:>9.4f} {tn / tk:>7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="200,400")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        numba.set_num_threads(args.threads)
    print(f"threads: {numba.get_num_threads()}")
    print(f"{'N':>5} {'P':>4} {'work':>8} {'numba s':>9} {'numpy s':>9} {'ratio':>7}")
    for n in (int(v) for v in args.n.split(",")):
        bench(n, args.repeats)

if __name__ == "__main__":
    main()
