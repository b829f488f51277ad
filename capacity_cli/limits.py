"""The input domains every option is checked against, shared defaults, and the memory check.

Kept free of numpy so the command line can read the limits without slowing ``hopcap --help``.
"""

from __future__ import annotations

import math
import os

from .errors import HopcapError

#: Defaults of options that several modules use (declared here once; re-exported where used).
DEFAULT_P_CAP = 100_000
DEFAULT_MAX_SWEEPS = 100
DEFAULT_MAX_TRIES = 10_000

#: Largest N. Overlaps m in [-N, N] and gain-table indexes stay far inside int32, and the gain
#: tables (2N + 3 entries) stay below a gigabyte; the memory check usually binds much earlier.
N_MAX = 2**24
#: Largest --p-max (and --p, and any P of a curve grid). A check of P patterns holds at least 10
#: bytes per pattern unit, so 10^9 patterns need over 20 GB even at N = 2 (the memory check,
#: :func:`check_memory`, usually refuses far below), and a search that reaches P runs checks of at
#: least P N operations each.
P_CAP_MAX = 10**9
#: Largest --max-sweeps (and twice --sweeps). At T = 0 the dynamics settle within a few sweeps
#: (every flip lowers the energy), so the cap is rarely reached; at T > 0 every recall runs all of
#: them, N unit updates each of O(P) work, so 10^5 sweeps already take minutes per check.
MAX_SWEEPS_MAX = 10**5
#: Largest --trials: trial numbers stay exact in int64 and in the CSV's float columns.
TRIALS_MAX = 10**12
#: Largest --max-tries (consecutive rejected candidates before the generator gives up). Each
#: candidate is compared with every placed pattern, so 10^8 rejections in a row already take minutes
#: for one pattern; a set that needs more is out of reach of rejection sampling (use --code).
MAX_TRIES_MAX = 10**8
#: Most P values in one ``hopcap curve`` grid: each point is a full check of every trial.
CURVE_POINTS_MAX = 10_000
#: Most networks per side of ``hopcap census --classify``: each is a full census of --starts starts
#: (about 0.3 s at the defaults), so 2 x 1000 of them already take minutes to hours.
CLASSIFY_MAX = 1000
#: The work one command may plan, in multiply-adds, where a model family can estimate it before
#: starting (capacity_cli.families.Family.search_work: the softmax and kernel families, whose dense
#: checks cost O(P^2 N)): about half an hour at the 10^9 per second a laptop core sustains.
WORK_MAX = 2 * 10**12
#: Largest polynomial degree (--degree, --max-degree). Decisions are exact at every degree
#: (docs/theory.md, "Exact decisions"); the cap only keeps tables of m^a and run times sane.
MAX_DEGREE_MAX = 1000
#: Largest --threads.
THREADS_MAX = 4096
#: A run may plan to use at most this fraction of the machine's memory (physical memory, or the
#: container's limit when lower) for its largest check, a pattern file, a census.
MEMORY_FRACTION = 0.5

# Real-valued options: the finite ranges in which they mean something and stay representable.
#: softmax (and kernel) beta at each N, after a rule c/sqrtN or c/N: scores beta x.xi reach beta N
#: (N <= N_MAX), far inside float32 up to 1e4; and the softmax of +-1 patterns, whose scores differ by
#: at least 2 beta, is exactly one-hot in float64 from beta = 373 on, so a larger beta changes nothing
#: but the cost of the run.
SOFTMAX_BETA_MAX = 1e4
#: softmax --eps: retrieve-eps/fixed-point tolerance on the relative error |state - x| / |x|; from 1
#: on, the zero state meets it, so the criterion accepts anything.
EPS_MAX = 1.0
#: kernel --tau: the separation loss takes exp(cos / tau) with cos in [-1, 1]; below 1e-3 the loss is
#: a hard maximum whose gradient (about 1 / tau) overflows the line search, above 1e3 it is flat.
TAU_MIN, TAU_MAX = 1e-3, 1e3
#: pairwise --forget-eps: lambda = exp(-eps^2 / (2N)), about 2N / eps^2 recent patterns remembered
#: (Mezard, Nadal & Toulouse's optimum: eps = 4.1). From eps^2 = 2N on the network keeps only its
#: newest pattern; 1e3 covers that point up to N = 5 10^5 and keeps eps^2 far from overflow.
FORGET_EPS_MAX = 1e3
#: pairwise --unlearn-eps: each step subtracts eps s s^T from couplings a stored pattern adds 1 to;
#: above 1 one step unlearns more than a pattern taught, and K P such steps leave the couplings
#: nothing of the patterns (and, near 1e308, overflow them).
UNLEARN_EPS_MAX = 1.0
#: pairwise --margin (perceptron kappa): Gardner's alpha_c(kappa) is below 1e-4 from kappa = 100 on,
#: i.e. no pattern is storable at any N the memory check admits.
MARGIN_MAX = 100.0
#: Real-valued pattern files: every |value| at most this. Patterns of scale s act as beta s^2, so
#: larger values are a beta beyond SOFTMAX_BETA_MAX, and their squares leave float32 (1e300 becomes
#: inf in the float32 rows).
PATTERN_VALUE_MAX = 1e6


#: Where a container's memory limit is read (cgroup v2, then v1); "max" or a huge number: none.
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def physical_memory() -> int | None:
    """Bytes of memory this process may use: physical memory, or the container's (cgroup) limit
    when that is lower (None where the platform says neither)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = None
    for path in CGROUP_LIMITS:
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text.isdigit() and int(text) > 0:
            total = int(text) if total is None else min(total, int(text))
        break
    return total


def human_bytes(count: float) -> str:
    """``1.5 GiB``-style size."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.3g} {unit}"
        count /= 1024
    return f"{count:.3g} PiB"  # pragma: no cover


def check_memory(needed: int, what: str, advice: str) -> None:
    """Raise before allocating when ``needed`` bytes exceed MEMORY_FRACTION of the machine's memory
    (:func:`physical_memory`).

    ``what`` says what needs the memory, ``advice`` what to lower (one line together).
    """
    total = physical_memory()
    if total is not None and needed > MEMORY_FRACTION * total:
        raise HopcapError(f"{what} needs about {human_bytes(needed)}, more than half of this "
                          f"machine's {human_bytes(total)} memory; {advice}")


def check_work(work: float, what: str, advice: str) -> None:
    """Raise before starting when an estimated ``work`` (multiply-adds) exceeds WORK_MAX."""
    if work > WORK_MAX:
        raise HopcapError(f"{what} needs about {work:.2g} multiply-adds, more than the budget of "
                          f"{WORK_MAX:.0e} (capacity_cli/limits.py WORK_MAX, about half an hour); "
                          f"{advice}")


def check_range(option: str, value, lo: float, hi: float, lo_open: bool = False) -> float:
    """``value`` as a float when it is finite and in [lo, hi] ((lo, hi] with ``lo_open``); else a
    one-line HopcapError naming the option and the range (the library's twin of the option types'
    ranges, capacity_cli.options.Real, for values that do not come through the command line)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    low_ok = number > lo if lo_open else number >= lo
    if not (math.isfinite(number) and low_ok and number <= hi):
        raise HopcapError(f"{option} must be in {'(' if lo_open else '['}{lo:g}, {hi:g}], got {value}")
    return number
