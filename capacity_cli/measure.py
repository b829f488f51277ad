"""Capacity measurements over many independent trials: orchestration, rows and summaries.

Each trial owns its randomness: its patterns come from numpy's SeedSequence([seed, trial]) (see
:func:`capacity_cli.datasets.trial_entropy`) and its dynamics from a 64-bit seed derived from
SeedSequence([seed, trial, 1]), so any trial can be re-run alone and results do not depend on the
number of threads.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from . import __version__
from ._compile import thread_count
from .criteria import Criterion, Overlap, Retrieve
from .datasets import (
    DEFAULT_MAX_TRIES,
    PatternSpec,
    PatternStream,
    check_feasible,
    mean_abs_feature_correlation,
    pattern_stats,
    trial_entropy,
)
from .errors import HopcapError
from .models import BinaryDAM
from .results import SharedResults, config_key, is_blank
from .search import DegreeOutcome, SearchOutcome, capacity_of_sequence, smallest_storing_degree
from .stats import Summary, summarize

DEFAULT_P_CAP = 100_000


@dataclass(frozen=True)
class MeasureConfig:
    """One configuration: a model, a criterion and where the pattern sequences come from.

    Either ``spec`` (generated patterns, one fresh sequence per trial) or ``patterns`` (one given
    ordered set, the same for every trial; ``patterns_label`` names it in the CSV).
    """

    model: BinaryDAM
    criterion: Criterion
    spec: PatternSpec | None = None
    patterns: np.ndarray | None = field(default=None, compare=False, repr=False)
    patterns_label: str = ""
    shuffle: bool = False  # given sets: each trial uses its own random order of the patterns
    trials: int = 20
    seed: int = 0
    p_cap: int = DEFAULT_P_CAP
    search: str = "p"  # "p": largest storable P; "degree": smallest degree storing the set
    set_size: int | None = None  # degree search on generated sets: patterns per set
    max_degree: int = 30
    patterns_sha1: str = field(default="", init=False, compare=False)  # identifies a given set

    def __post_init__(self) -> None:
        if self.patterns is not None:
            digest = hashlib.sha1(np.ascontiguousarray(self.patterns, dtype=np.int8).tobytes())
            object.__setattr__(self, "patterns_sha1", digest.hexdigest()[:16])
        if self.search not in ("p", "degree"):
            raise HopcapError(f"--search must be p or degree, got {self.search!r}")
        if self.search == "degree":
            if self.model.name not in ("poly", "rectpoly"):
                raise HopcapError("--search degree needs --model poly or rectpoly")
            if self.spec is not None and (self.set_size is None or self.set_size < 1):
                raise HopcapError("--search degree on generated patterns needs --p (patterns per set)")
        if (self.spec is None) == (self.patterns is None):
            raise HopcapError("give either generated patterns (spec) or a pattern set, not both")
        if self.trials < 1:
            raise HopcapError(f"--trials must be >= 1, got {self.trials}")
        if self.p_cap < 1:
            raise HopcapError(f"--p-max must be >= 1, got {self.p_cap}")
        if self.seed < 0:
            raise HopcapError(f"--seed must be >= 0, got {self.seed}")
        if self.spec is not None and self.spec.min_distance > 0:
            check_feasible(self.spec, 2)

    @property
    def n(self) -> int:
        return self.spec.n if self.spec is not None else int(self.patterns.shape[1])

    def columns(self) -> dict:
        """The configuration columns of a result row (blank where an option does not apply)."""
        c = self.criterion
        spec = self.spec
        return {
            "model": self.model.name,
            "degree": self.model.degree if self.search == "p" else None,
            "beta": self.model.beta,
            "n": self.n,
            "criterion": c.name,
            "noise": c.noise if isinstance(c, Retrieve | Overlap) else None,
            "min_overlap": c.min_overlap if isinstance(c, Overlap) else None,
            "threshold": c.threshold,
            "max_sweeps": c.max_sweeps if isinstance(c, Retrieve | Overlap) else None,
            "bias": spec.bias if spec else None,
            "correlation": spec.correlation if spec else None,
            "min_distance": spec.min_distance if spec else None,
            "patterns": self.patterns_label or None,
            "patterns_sha1": self.patterns_sha1 or None,
            "shuffle": self.shuffle if self.patterns is not None else None,
            "seed": self.seed,
            "p_cap": self.p_cap if self.search == "p" else None,
            "search": self.search,
            "set_size": self.set_size if self.search == "degree" else None,
            "max_tries": spec.max_tries if spec else None,
            "max_degree": self.max_degree if self.search == "degree" else None,
        }


def grid_configs(model: BinaryDAM, criterion: Criterion, sizes: Iterable[int],
                 correlations: Iterable[float] = (0.0,), min_distances: Iterable[int] = (0,), *,
                 bias: float = 0.5, max_tries: int = DEFAULT_MAX_TRIES, **options) -> list[MeasureConfig]:
    """One configuration of generated patterns per N, correlation and separation (in that nesting
    order); ``options`` sets the other MeasureConfig fields (trials, seed, p_cap, search, ...)."""
    return [MeasureConfig(model, criterion, spec=PatternSpec(n, bias=bias, correlation=c,
                                                             min_distance=d, max_tries=max_tries),
                          **options)
            for n in sizes for c in correlations for d in min_distances]


def dynamics_seed(seed: int, trial: int) -> int:
    """The 64-bit seed of a trial's retrieval dynamics (cues and sweep orders)."""
    words = np.random.SeedSequence([seed, trial, 1]).generate_state(2, dtype=np.uint32)
    return int(words[0]) << 32 | int(words[1])


@dataclass(frozen=True)
class TrialResult:
    """One trial's capacity and what its stored set achieved."""

    outcome: SearchOutcome | DegreeOutcome
    elapsed_s: float
    achieved_min_distance: int | None
    achieved_correlation: float | None


def run_trial(config: MeasureConfig, trial: int) -> TrialResult:
    """Measure the capacity of one trial of ``config``."""
    start = time.perf_counter()
    if config.spec is not None:
        stream = PatternStream(config.spec, trial_entropy(config.seed, trial))
        source: Callable[[int], np.ndarray] = stream.take
    else:
        fixed = config.patterns
        if config.shuffle:
            fixed = fixed[np.random.default_rng(trial_entropy(config.seed, trial)).permutation(len(fixed))]

        def source(p: int) -> np.ndarray:
            return fixed[:p]
    if config.search == "degree":
        stored = source(config.set_size or len(config.patterns))
        if config.set_size and len(stored) < config.set_size:
            raise HopcapError(
                f"--p {config.set_size}: the set has only {len(stored)} patterns" if config.spec is None
                else f"could place only {len(stored)} of {config.set_size} patterns at minimum "
                     f"distance {config.spec.min_distance}")
        outcome = smallest_storing_degree(stored, config.criterion, config.model.name,
                                          config.max_degree, seed=dynamics_seed(config.seed, trial))
        return TrialResult(outcome, time.perf_counter() - start, *_achieved(config, stored))
    outcome = capacity_of_sequence(config.model, config.criterion, source, config.n, config.p_cap,
                                   seed=dynamics_seed(config.seed, trial))
    elapsed = time.perf_counter() - start
    return TrialResult(outcome, elapsed, *_achieved(config, source(outcome.p_max)))


def _achieved(config: MeasureConfig, stored: np.ndarray) -> tuple[int | None, float | None]:
    """Achieved minimum distance and mean |feature correlation| of a stored set, for structured
    data (given sets, or generated with correlation or separation); (None, None) otherwise."""
    spec = config.spec
    if len(stored) < 2 or (spec is not None and spec.min_distance == 0 and spec.correlation == 0):
        return None, None
    if spec is None or spec.min_distance > 0:
        stats = pattern_stats(stored)
        return stats.min_distance, stats.mean_abs_correlation
    return None, mean_abs_feature_correlation(stored)


def result_row(config: MeasureConfig, trial: int, result: TrialResult, threads: int) -> dict:
    """A tidy CSV row (see results.COLUMNS)."""
    return {
        **config.columns(),
        "trial": trial,
        "p_max": getattr(result.outcome, "p_max", None),
        "capped": getattr(result.outcome, "capped", None),
        "min_degree": getattr(result.outcome, "degree", None),
        "checks": result.outcome.checks,
        "converged": getattr(result.outcome, "converged", None),
        "sweeps": getattr(result.outcome, "sweeps", None),
        "achieved_min_distance": result.achieved_min_distance,
        "achieved_correlation": result.achieved_correlation,
        "elapsed_s": round(result.elapsed_s, 6),
        "threads": threads,
        "hopcap_version": __version__,
    }


def unique_configs(configs: Iterable[MeasureConfig]) -> list[MeasureConfig]:
    """The configurations in order, each once (a sweep list that repeats a value runs it once)."""
    seen: set[tuple] = set()
    out = []
    for config in configs:
        key = config_key(config.columns())
        if key not in seen:
            seen.add(key)
            out.append(config)
    return out


def run_measurements(configs: list[MeasureConfig], output: str | None = None,
                     threads: int | None = None, progress: bool = True,
                     flush_every_s: float = 5.0) -> list[dict]:
    """Run every pending trial of ``configs``; append each trial's row to ``output`` (CSV) as it
    finishes, so an interrupted run loses at most the trials in flight.

    Trials whose valid rows ``output`` already holds are skipped (resume; invalid rows are rerun,
    with a one-line warning on stderr). Several processes may fill one file at once: each claims a
    trial before running it (:class:`capacity_cli.results.SharedResults`), so a configuration
    started twice shares its trials instead of doubling them. Trials are taken lazily, one at a
    time. Returns the rows this process measured. ``flush_every_s`` is accepted for compatibility
    and unused (every row is written at once).
    """
    from tqdm.auto import tqdm

    del flush_every_s
    configs = unique_configs(configs)
    shared = SharedResults(output) if output else None
    if shared is not None and shared.warning():
        print(shared.warning(), file=sys.stderr, flush=True)
    keys = [config_key(c.columns()) for c in configs]
    done = shared.done if shared is not None else {}
    total = sum(c.trials - sum(1 for t in done.get(k, ()) if t < c.trials)
                for c, k in zip(configs, keys, strict=True))
    rows: list[dict] = []
    with thread_count(threads) as used, \
            tqdm(total=total, disable=None if progress else True, unit="trial", leave=False) as bar:
        for config, key in zip(configs, keys, strict=True):
            bar.set_description(f"{config.model.label} {config.criterion.name} N={config.n}")
            trials = shared.pending(key, config.trials) if shared is not None else range(config.trials)
            for trial in trials:
                try:
                    row = result_row(config, trial, run_trial(config, trial), used)
                except BaseException:
                    if shared is not None:
                        shared.release(key, trial)
                    raise
                if shared is not None:
                    shared.record(key, trial, row)
                rows.append(row)
                bar.update()
    return rows


@dataclass(frozen=True)
class ConfigSummary:
    """P_max statistics of one configuration."""

    config: MeasureConfig
    summary: Summary
    capped: int
    missing: int = 0  # degree search: trials where no degree up to max_degree stored the set


def summarize_rows(configs: list[MeasureConfig], rows: list[dict]) -> list[ConfigSummary]:
    """Per-configuration summaries of P_max over the given rows."""
    by_key: dict[tuple, list[dict]] = {}
    for row in rows:
        by_key.setdefault(config_key(row), []).append(row)
    out = []
    for config in configs:
        mine = by_key.get(config_key(config.columns()), [])
        column = "min_degree" if config.search == "degree" else "p_max"
        values = [r[column] for r in mine if r[column] is not None and r[column] == r[column]]
        out.append(ConfigSummary(config, summarize(values),
                                 sum(_is_true(r["capped"]) for r in mine), len(mine) - len(values)))
    return out


def _is_true(value) -> bool:
    """True for a true boolean cell (blank and NaN cells are not)."""
    return not is_blank(value) and bool(value)
