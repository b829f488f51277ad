"""Capacity of the softmax model (sphere, beta=1, retrieve-eps eps=0.01, 1 step, no noise), 5 trials per N:

    python benchmarks/softmax_capacity.py [P_LIMIT=100000] [NS=16,24,32]

Trial t: patterns SpherePatternStream(N, (0, t)) and dynamics seed measure.dynamics_seed(0, t),
as hopcap measure would use them.
"""

import sys
import time

from capacity_cli.datasets import trial_entropy
from capacity_cli.families.softmax import (
    RetrieveEps,
    SoftmaxChecker,
    SoftmaxModel,
    SpherePatternStream,
    theorem3_bound,
)
from capacity_cli.measure import dynamics_seed
from capacity_cli.search import largest_storable

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
ns = [int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "16,24,32").split(",")]
model, crit = SoftmaxModel(1.0), RetrieveEps(0.01, steps=1, noise=0.0, threshold=1.0)
# warm-up (numba compilation) not timed
w = SpherePatternStream(8, (9, 9))
largest_storable(SoftmaxChecker(model, crit, w.take, 8, 64, seed=1), 64)
for n in ns:
    t_all = time.perf_counter()
    for trial in range(5):
        t = time.perf_counter()
        stream = SpherePatternStream(n, trial_entropy(0, trial))
        checker = SoftmaxChecker(model, crit, stream.take, n, limit, seed=dynamics_seed(0, trial))
        out = largest_storable(checker, limit)
        print(f"N={n} trial={trial} p_max={out.p_max} capped={out.capped} checks={out.checks} "
              f"time={time.perf_counter() - t:.2f}s", flush=True)
    print(f"N={n} total {time.perf_counter() - t_all:.2f}s for 5 trials; Theorem 3 bound "
          f"(K=sqrt(N/(N-1)), p=0.001): {theorem3_bound(n, 1.0):.3g}", flush=True)
