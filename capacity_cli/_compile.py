"""Numba compile settings and thread control, in one place.

Every kernel module takes its decorator options from here, so ``fastmath`` and caching are decided
once. ``HOPCAP_NUMBA_CACHE=0`` turns the on-disk cache off (useful when a read-only install or a
changed numba version makes the cache stale).

Kernels run one parallel region per check. OpenMP workers that spin at the barrier slow everything
down when other processes share the cores (2-core machines are often busy), so the wait policy
defaults to passive here, before numba starts its OpenMP pool; set ``OMP_WAIT_POLICY`` to override.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402  (after the wait policy, which OpenMP reads once at start)

CACHE = os.environ.get("HOPCAP_NUMBA_CACHE", "1") != "0"

#: Options for serial kernels. fastmath stays off: tie decisions rely on IEEE arithmetic.
SERIAL = {"nogil": True, "cache": CACHE, "fastmath": False}
#: Options for kernels with a ``prange`` loop.
PARALLEL = {"nogil": True, "cache": CACHE, "fastmath": False, "parallel": True}


def max_threads() -> int:
    """The number of threads numba was started with (its ceiling for ``set_num_threads``)."""
    return int(numba.config.NUMBA_NUM_THREADS)


@contextmanager
def thread_count(threads: int | None) -> Iterator[int]:
    """Run the body with ``threads`` numba threads (``None``: all), restoring the previous count.

    Results never depend on the count: kernels write only their own output slots and reduce in a
    fixed order.
    """
    previous = numba.get_num_threads()
    wanted = max_threads() if threads is None else threads
    if wanted < 1:
        raise ValueError(f"threads must be >= 1, got {wanted}")
    numba.set_num_threads(min(wanted, max_threads()))
    try:
        yield numba.get_num_threads()
    finally:
        numba.set_num_threads(previous)
