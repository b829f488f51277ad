"""Timing shared by the benchmark scripts (run as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """The best wall time of ``repeats`` calls of ``fn`` after one warm-up call (compilation and
    caches excluded), and the last call's result."""
    result = fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result
