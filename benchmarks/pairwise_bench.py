"""Time the pairwise family's numba kernels against straightforward numpy versions of the same work.

    python benchmarks/pairwise_bench.py [--n 128,256] [--repeats R] [--threads T]

For each N (patterns: ``pattern_source(PatternSpec(N), (0, 0))``):

* ``relax``: every pattern of a Hebbian network at P = 0.1 N relaxed from a cue with 10% flipped
  bits (kernels.pairwise.relax_prefix through model.relax_patterns) against a Python loop over
  units with numpy field updates (h += 2 y_i W[:, i]); the same cues and sweep orders (drawn with
  the package's streams outside the timed loop), the same final overlaps (asserted);
* ``storkey``: learning P = 0.2 N patterns by Storkey's rule (kernels.pairwise.storkey_add) against
  the vectorised numpy update dW = (xi xi^T - xi h^T - h xi^T + 2 W) / N (allclose asserted);
* ``perceptron``: margin-0 perceptron learning of P = N patterns, 50 epochs at most
  (kernels.pairwise.perceptron_rows) against a numpy loop per unit (identical W asserted);
* ``unlearn``: 2 N unlearning steps on the Hebbian W of P = 0.1 N patterns
  (kernels.pairwise.unlearn) against numpy relaxations and outer products (identical W asserted).

Times are the best of R runs after one warm-up (compilation not timed); ratios are numpy / numba.
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import best_time  # benchmarks/timing.py (scripts run from benchmarks/)

from capacity_cli._compile import thread_count
from capacity_cli.criteria import Retrieve, cue_flips
from capacity_cli.datasets import PatternSpec, pattern_source
from capacity_cli.families.pairwise.model import relax_patterns, unlearn_seed
from capacity_cli.kernels import pairwise as ker
from capacity_cli.kernels.dynamics import flip_distinct, shuffle_inplace, stream_state


def numpy_relax(w: np.ndarray, y: np.ndarray, state: np.ndarray, max_sweeps: int) -> np.ndarray:
    """Asynchronous sweeps, numpy field updates; sweep orders from the package's stream."""
    n = len(y)
    h = w @ y
    tau = np.full(n, ker.TIE_RTOL * np.abs(w).sum(axis=1).max())  # kernels.pairwise.tie_widths
    order = np.arange(n)
    for _ in range(max_sweeps):
        shuffle_inplace(order, state)
        flips = 0
        for i in order:
            if y[i] * h[i] < -tau[i]:
                y[i] = -y[i]
                h += (2.0 * y[i]) * w[:, i]
                flips += 1
        if flips == 0:
            break
    return y


def bench_relax(x: np.ndarray, repeats: int) -> tuple[float, float]:
    n = x.shape[1]
    w = x.T.astype(np.float64) @ x
    np.fill_diagonal(w, 0)
    crit = Retrieve(noise=0.1, max_sweeps=50)
    seed = 17

    def numba_version():
        return relax_patterns(w, x, crit, seed)[1]

    def numpy_version():
        final = []
        for nu in range(len(x)):
            state = stream_state(np.uint64(seed), nu)
            y = x[nu].astype(np.int64)
            flip_distinct(y, cue_flips(0.1, n), state)
            y = numpy_relax(w, y.astype(np.float64), state, 50)
            final.append(int(x[nu] @ y))
        return np.array(final)

    t_k, a = best_time(numba_version, repeats)
    t_n, b = best_time(numpy_version, repeats)
    assert np.array_equal(a, b)
    return t_k, t_n


def bench_storkey(x: np.ndarray, repeats: int) -> tuple[float, float]:
    n = x.shape[1]
    xf = x.astype(np.float64)

    def numba_version():
        w = np.zeros((n, n))
        for row in xf:
            ker.storkey_add(w, row)
        return w

    def numpy_version():
        w = np.zeros((n, n))
        for xi in xf:
            h = w @ xi
            dw = (np.outer(xi, xi) - np.outer(xi, h) - np.outer(h, xi) + 2 * w) / n
            np.fill_diagonal(dw, 0)
            w = w + dw
        return w

    t_k, a = best_time(numba_version, repeats)
    t_n, b = best_time(numpy_version, repeats)
    assert np.allclose(a, b, rtol=1e-10, atol=1e-10)
    return t_k, t_n


def bench_perceptron(x: np.ndarray, repeats: int) -> tuple[float, float]:
    p, n = x.shape
    xi64 = x.astype(np.int64)

    def numba_version():
        w = np.zeros((n, n))
        epochs = np.zeros(n, dtype=np.int64)
        ker.perceptron_rows(xi64, p, 0.0, 50, w, epochs)
        return w

    def numpy_version():
        w = np.zeros((n, n))
        for i in range(n):
            row = np.zeros(n, dtype=np.int64)
            for _ in range(50):
                updates = 0
                for mu in range(p):
                    if xi64[mu, i] * (row @ xi64[mu]) <= 0:
                        row += xi64[mu, i] * xi64[mu]
                        row[i] = 0
                        updates += 1
                if updates == 0:
                    break
            w[i] = row
        return w

    t_k, a = best_time(numba_version, repeats)
    t_n, b = best_time(numpy_version, repeats)
    assert np.array_equal(a, b)
    return t_k, t_n


def bench_unlearn(x: np.ndarray, repeats: int) -> tuple[float, float]:
    n = x.shape[1]
    w0 = x.T.astype(np.float64) @ x
    np.fill_diagonal(w0, 0)
    steps, eps, seed = 2 * n, 0.01, unlearn_seed(3)

    def numba_version():
        w = w0.copy()
        ker.unlearn(w, steps, eps, seed, 100)
        return w

    def numpy_version():
        w = w0.copy()
        for k in range(steps):
            state = stream_state(seed, k)
            y = ker.random_state(n, state).astype(np.float64)
            s = numpy_relax(w, y, state, 100)
            delta = eps * np.outer(s, s)
            np.fill_diagonal(delta, 0)
            w -= delta
        return w

    t_k, a = best_time(numba_version, repeats)
    t_n, b = best_time(numpy_version, repeats)
    assert np.array_equal(a, b)
    return t_k, t_n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="128,256")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"{'kernel':>11} {'N':>5} {'numba s':>10} {'numpy s':>10} {'numpy/numba':>12}")
    with thread_count(args.threads):
        for n in (int(v) for v in args.n.split(",")):
            source = pattern_source(PatternSpec(n), (0, 0))
            cases = {"relax": (bench_relax, source(n // 10)),
                     "storkey": (bench_storkey, source(n // 5)),
                     "perceptron": (bench_perceptron, source(n)),
                     "unlearn": (bench_unlearn, source(n // 10))}
            for name, (bench, x) in cases.items():
                t_k, t_n = bench(x, args.repeats)
                print(f"{name:>11} {n:>5} {t_k:>10.4f} {t_n:>10.4f} {t_n / t_k:>12.1f}")


if __name__ == "__main__":
    main()
