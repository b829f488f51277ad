"""Time ONE stage I learning run of the kernel family (U-Hop+) two ways, and the learned check.

    python benchmarks/kernel_bench.py [--cases 64x1000,32x300] [--steps S] [--repeats R]

For each N x P (i.i.d. +-1 patterns from seed 0, D = N, W0 = I, tau = 0.1):

* ``hopcap``: ``learn_map`` (loss and analytic gradient as GEMMs, scipy's L-BFGS-B), S iterations;
* ``pairs``: a straightforward numpy implementation of the same loss and gradient, pair by pair
  (one vector expression per pair mu < nu), driven by the same optimiser for the same iterations;
  only its time per loss+gradient evaluation is measured (S full runs would take minutes) and the
  run time is extrapolated from the number of evaluations hopcap's run made;
* ``check``: one learned capacity check at P (learning + the retrieval check), as the search runs it.

Both loss/gradient implementations must agree (asserted, relative 1e-9). The kernel family has no
numba kernels: everything is BLAS, so the baseline is the non-GEMM formulation.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from capacity_cli.datasets import PatternSpec, pattern_source, trial_entropy
from capacity_cli.families.kernel import model as km
from capacity_cli.families.softmax import RetrieveEps


def pairs_loss_grad(w: np.ndarray, x: np.ndarray, tau: float) -> tuple[float, np.ndarray]:
    """The separation loss and dL/dW pair by pair (the same math as km.separation_loss)."""
    p = len(x)
    v = x @ w.T
    norm = np.linalg.norm(v, axis=1)
    f = v / norm[:, None]
    pairs = [(a, b, float(f[a] @ f[b]) / tau) for a in range(p) for b in range(a + 1, p)]
    top = max(s for _, _, s in pairs)
    weights = [(a, b, np.exp(s - top)) for a, b, s in pairs]
    total = sum(e for _, _, e in weights)
    loss = (top + np.log(total) + np.log(2.0 / (p * (p - 1)))) / p
    gf = np.zeros_like(f)
    for a, b, e in weights:
        c = e / (total * p * tau)
        gf[a] += c * f[b]
        gf[b] += c * f[a]
    gv = (gf - np.sum(gf * f, axis=1, keepdims=True) * f) / norm[:, None]
    grad = np.zeros_like(w)
    for mu in range(p):
        grad += np.outer(gv[mu], x[mu])
    return loss, grad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="64x1000,32x300")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"{'N x P':>10} {'hopcap run s':>13} {'evals':>6} {'pairs eval s':>13} "
          f"{'pairs run s (extrap.)':>22} {'ratio':>8} {'check s':>8}")
    for case in args.cases.split(","):
        n, p = (int(v) for v in case.lower().split("x"))
        x = pattern_source(PatternSpec(n), trial_entropy(0, 0))(p).astype(np.float64)
        w0 = np.eye(n)
        loss, grad = km.separation_loss(w0, x, 0.1)
        loss2, grad2 = pairs_loss_grad(w0, x, 0.1)
        assert abs(loss - loss2) <= 1e-9 * abs(loss) and np.allclose(grad, grad2, rtol=1e-9,
                                                                     atol=1e-9 * np.abs(grad).max())
        evals = [0]
        real = km.separation_loss

        def counting(*a, evals=evals, real=real, **k):
            evals[0] += 1
            return real(*a, **k)

        best = float("inf")
        for _ in range(args.repeats):
            km.separation_loss = counting
            evals[0] = 0
            try:
                res = km.learn_map(x, w0, 0.1, args.steps)
            finally:
                km.separation_loss = real
            best = min(best, res.seconds)
        t = time.perf_counter()
        pairs_loss_grad(w0, x, 0.1)
        per_eval = time.perf_counter() - t
        model = km.KernelModel(1.0, "learned", learn_steps=args.steps)
        check = float("inf")
        for _ in range(args.repeats + 1):  # the first also compiles the softmax kernels
            t = time.perf_counter()
            km.KernelChecker(model, RetrieveEps(0.01), lambda q, x=x: x[:q], n, p)(p)
            check = min(check, time.perf_counter() - t)
        extrapolated = per_eval * evals[0]
        print(f"{case:>10} {best:>13.3f} {evals[0]:>6} {per_eval:>13.4f} {extrapolated:>22.1f} "
              f"{extrapolated / best:>8.1f} {check:>8.3f}")


if __name__ == "__main__":
    main()
