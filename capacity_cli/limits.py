"""The input domains every option is checked against, shared defaults, and the memory check.

Kept free of numpy so the command line can read the limits without slowing ``hopcap --help``.
"""

from __future__ import annotations

import os

from .errors import HopcapError

#: Defaults of options that several modules use (declared here once; re-exported where used).
DEFAULT_P_CAP = 100_000
DEFAULT_MAX_SWEEPS = 100
DEFAULT_MAX_TRIES = 10_000

#: Largest N. Overlaps m in [-N, N] and gain-table indexes stay far inside int32, and the gain
#: tables (2N + 3 entries) stay below a gigabyte; the memory check usually binds much earlier.
N_MAX = 2**24
#: Largest --p-max (and --p): far beyond any P a check can hold in memory, still exact in float64.
P_CAP_MAX = 2**40
#: Largest --max-sweeps: a sweep costs at least N P operations, so more never finishes anyway.
MAX_SWEEPS_MAX = 10**9
#: Largest --trials: trial numbers stay exact in int64 and in the CSV's float columns.
TRIALS_MAX = 10**12
#: Largest --max-tries (consecutive rejected candidates): an int64 counter.
MAX_TRIES_MAX = 2**63 - 1
#: Largest polynomial degree (--degree, --max-degree). Decisions are exact at every degree
#: (docs/theory.md, "Exact decisions"); the cap only keeps tables of m^a and run times sane.
MAX_DEGREE_MAX = 1000
#: Largest --threads.
THREADS_MAX = 4096
#: A run may plan to use at most this fraction of physical memory for its first check.
MEMORY_FRACTION = 0.5


def physical_memory() -> int | None:
    """Bytes of physical memory (None where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def human_bytes(count: float) -> str:
    """``1.5 GiB``-style size."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.3g} {unit}"
        count /= 1024
    return f"{count:.3g} PiB"  # pragma: no cover


def check_memory(needed: int, what: str, advice: str) -> None:
    """Raise before allocating when ``needed`` bytes exceed MEMORY_FRACTION of physical memory.

    ``what`` says what needs the memory, ``advice`` what to lower (one line together).
    """
    total = physical_memory()
    if total is not None and needed > MEMORY_FRACTION * total:
        raise HopcapError(f"{what} needs about {human_bytes(needed)}, more than half of this "
                          f"machine's {human_bytes(total)} memory; {advice}")
