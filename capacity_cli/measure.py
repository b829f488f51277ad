"""Capacity measurements over many independent trials: orchestration, rows and summaries.

Each trial owns its randomness: its patterns come from numpy's SeedSequence([seed, trial]) (see
:func:`capacity_cli.datasets.trial_entropy`) and its dynamics from a 64-bit seed derived from
SeedSequence([seed, trial, 1]), so any trial can be re-run alone and results do not depend on the
number of threads.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._compile import thread_count
from .criteria import allowed_failures
from .datasets import (
    CHUNK,
    DEFAULT_MAX_TRIES,
    STATS_BYTES,
    PatternSpec,
    check_feasible,
    dataset_patterns,
    load_any_patterns,
    load_patterns,
    mean_abs_feature_correlation,
    pattern_source,
    pattern_stats,
    trial_entropy,
)
from .errors import HopcapError
from .limits import DEFAULT_P_CAP, P_CAP_MAX, TRIALS_MAX, WORK_MAX, check_memory, check_work
from .provenance import code_version
from .results import CONFIG_COLUMNS, SharedResults, config_key, is_blank
from .search import DegreeOutcome, SearchOutcome, capacity_of_sequence, smallest_storing_degree
from .stats import Summary, summarize
from .timing import trial_weights


@dataclass(frozen=True)
class MeasureConfig:
    """One configuration: a model, a criterion and where the pattern sequences come from.

    Either ``spec`` (generated patterns, one fresh sequence per trial) or ``patterns`` (one given
    ordered set, the same for every trial; ``patterns_label`` names it in the CSV).
    """

    model: Any  # a model of a registered family (capacity_cli.families), e.g. models.BinaryDAM
    criterion: Any  # a criterion of the same family
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
            real = np.asarray(self.patterns).dtype.kind == "f"
            digest = hashlib.sha1(np.ascontiguousarray(self.patterns,
                                                       dtype=np.float32 if real else np.int8).tobytes())
            object.__setattr__(self, "patterns_sha1", digest.hexdigest()[:16])
        if self.search not in ("p", "degree", "recency"):
            raise HopcapError(f"--search must be p, degree or recency, got {self.search!r}")
        if self.search == "recency" and self.family.recency is None:
            raise HopcapError(f"--search recency does not apply to --model {self.model.name} (only "
                              "to forgetting rules: --model pairwise --rule palimpsest)")
        if self.search == "recency" and not getattr(self.model, "forgets", False):
            raise HopcapError(f"--search recency needs a rule that forgets (--rule palimpsest); "
                              f"{self.model.label} keeps every pattern until it collapses")
        if self.search == "degree":
            if self.model.name not in ("poly", "rectpoly"):
                raise HopcapError("--search degree needs --model poly or rectpoly")
            if self.spec is not None and (self.set_size is None or self.set_size < 1):
                raise HopcapError("--search degree on generated patterns needs --p (patterns per set)")
        if (self.spec is None) == (self.patterns is None):
            raise HopcapError("give either generated patterns (spec) or a pattern set, not both")
        family = self.family
        if self.criterion.name not in family.criteria:
            raise HopcapError(f"--criterion {self.criterion.name} does not apply to --model "
                              f"{self.model.name}; choose one of {', '.join(family.criteria)}")
        if self.kind not in family.kinds:
            raise HopcapError(f"{self.kind} patterns do not apply to --model {self.model.name} "
                              f"(it stores {', '.join(family.kinds)} patterns)")
        _check_whole("--trials", self.trials, 1, TRIALS_MAX)
        _check_whole("--p-max", self.p_cap, 1, P_CAP_MAX)
        _check_whole("--seed", self.seed, 0, None)
        if self.set_size is not None:
            _check_whole("--p", self.set_size, 1, P_CAP_MAX)
        if self.search == "p" and self.p_cap > 1 and \
                allowed_failures(self.criterion.threshold, self.p_cap) == self.p_cap - 1:
            raise HopcapError(
                f"--threshold {self.criterion.threshold:g} with --p-max {self.p_cap}: a single "
                f"succeeding pattern would store every P up to the cap, so the run measures nothing; "
                f"raise --threshold above 1/{self.p_cap}")
        reach = search_reach(self)
        if self.search == "p":
            what = f"N={self.n}: the check at P={reach}" + \
                (" (--p-max: the search may test every P up to it)" if reach == self.p_cap else "")
            advice = "lower --p-max or --n"
        else:
            what = f"N={self.n}: the check of {reach} patterns"
            advice = "lower --p or --n" if self.spec is not None else "use a smaller set"
        check_memory(largest_check_bytes(self), what, advice)
        if self.spec is not None and self.spec.min_distance > 0:
            check_feasible(self.spec, 2)
        if self.spec is not None and self.spec.code is not None and self.search == "degree":
            check_feasible(self.spec, self.set_size)  # a code has 2^k words: the set must fit

    @property
    def stream_length(self) -> int:
        """--search recency: patterns learned before counting (--p, default 10 N)."""
        return self.set_size or 10 * self.n

    @property
    def n(self) -> int:
        return self.spec.n if self.spec is not None else int(self.patterns.shape[1])

    @property
    def kind(self) -> str:
        """The pattern kind: "pm1" (+-1 rows) or "sphere" (real rows)."""
        if self.spec is not None:
            return self.spec.kind
        return "sphere" if np.asarray(self.patterns).dtype.kind == "f" else "pm1"

    @property
    def family(self):
        """The model's family (capacity_cli.families)."""
        from .families import family_of

        return family_of(self.model.name)

    def columns(self) -> dict:
        """The configuration columns of a result row (blank where an option does not apply): the
        family's own (families.Family.describe), then the pattern and search columns."""
        spec = self.spec if self.spec is not None and self.spec.kind == "pm1" else None  # +-1 generator
        own = self.family.describe(self.model, self.criterion, self.n)
        if self.search == "degree":
            own["degree"] = None  # the degree is what is searched
        return {
            **{c: None for c in CONFIG_COLUMNS},
            **own,
            "n": self.n,
            "kind": self.kind,
            "bias": spec.bias if spec else None,
            "correlation": spec.correlation if spec else None,
            "min_distance": spec.min_distance if spec else None,
            "patterns": self.patterns_label or None,
            "patterns_sha1": self.patterns_sha1 or None,
            "shuffle": self.shuffle if self.patterns is not None else None,
            "seed": self.seed,
            "p_cap": self.p_cap if self.search == "p" else None,
            "search": self.search,
            "set_size": self.set_size if self.search == "degree" else
            self.stream_length if self.search == "recency" else None,
            "max_tries": spec.max_tries if spec and spec.code is None else None,
            "max_degree": self.max_degree if self.search == "degree" else None,
            "code": spec.code if spec else None,
        }


def _check_whole(option: str, value, lo: int, hi: int | None) -> None:
    """Raise unless ``value`` is an integer (not a bool) in [lo, hi] (hi None: unbounded)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo or \
            (hi is not None and value > hi):
        bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise HopcapError(f"{option} must be an integer {bound}, got {value}")


#: Bytes per candidate unit while a chunk of the pattern stream is drawn: the float64 draw, the
#: boolean mask, numpy's int64 selection and the int8 row.
STREAM_BYTES_PER_UNIT = 8 + 1 + 8 + 1
#: Bytes per gain-table entry (2N + 3 entries): the Python integers or floats the table is computed
#: from and the int64/float64 tables derived from it (gain, c_acc, c_sum, c_diff, c_bound).
TABLE_BYTES_PER_ENTRY = 96
#: Bytes per pattern unit held by a check: int8 patterns and selectors, int32 sums and their spare.
CHECK_BYTES_PER_UNIT = 1 + 1 + 4 + 4


def binary_check_bytes(model, criterion, n: int, p: int) -> int:
    """Memory of a check of the binary family's stability/dynamics checkers at P = p: gain tables
    over m in [-N, N + 2] and P x N pattern-sized arrays (Family.check_bytes of families that
    declare none)."""
    return TABLE_BYTES_PER_ENTRY * (2 * n + 3) + CHECK_BYTES_PER_UNIT * p * n


def search_reach(config: MeasureConfig) -> int:
    """The largest P a trial of ``config`` may check: --p-max for a P search (the doubling search may
    test every P up to it; a given set ends it sooner), the set for a degree search, the stream for
    a recency search."""
    if config.search == "degree":
        return config.set_size or len(config.patterns)
    if config.search == "recency":
        return config.stream_length
    if config.patterns is not None:
        return min(config.p_cap, len(config.patterns))
    return config.p_cap


def largest_check_bytes(config: MeasureConfig) -> int:
    """An estimate of the memory the largest check of ``config`` allocates (P = search_reach), before
    any work: the family's check (Family.check_bytes), the generated pattern stream (rows kept, and
    CHUNK candidate rows drawn at a time) and the statistics of the stored set. Used to refuse, in
    a moment, a run that could only end in running out of memory minutes or hours later.
    """
    n, p = config.n, search_reach(config)
    check_bytes = config.family.check_bytes or binary_check_bytes
    total = check_bytes(config.model, config.criterion, n, p)
    if config.spec is not None:
        row_bytes = 4 if config.spec.kind == "sphere" else 1
        total += STREAM_BYTES_PER_UNIT * CHUNK * n + row_bytes * p * n
    if config.spec is None or config.spec.min_distance > 0 or config.spec.correlation > 0:
        total += STATS_BYTES * n * n  # what the stored set achieved (see _achieved)
    return total


def _certain_work(config: MeasureConfig) -> float:
    """The multiply-adds the trials of ``config`` need for certain (Family.search_work up to the P
    that Family.stored_floor says every search reaches); 0 without an estimate."""
    family = config.family
    if family.search_work is None or config.search != "p":
        return 0.0
    floor = family.stored_floor(config.model, config.criterion, config.n, config.kind) \
        if family.stored_floor is not None else 0.0
    reach = min(search_reach(config), floor)
    return config.trials * family.search_work(config.model, config.criterion, config.n, reach) \
        if reach >= 1 else 0.0


def check_planned_work(configs: Iterable[MeasureConfig]) -> None:
    """Refuse, before any work, a command whose trials need more than limits.WORK_MAX multiply-adds
    for certain: a model that stores every P up to --p-max (Family.stored_floor) with checks whose
    cost the family estimates (Family.search_work: dense O(P^2 N) softmax updates)."""
    works = [(_certain_work(config), index) for index, config in enumerate(configs)]
    total = sum(work for work, _ in works)
    if total <= 0:
        return
    config = configs[max(works)[1]]
    check_work(total, f"this command ({config.model.label} stores every P up to --p-max "
               f"{config.p_cap} at N={config.n}, and each of its {config.trials} trials checks them "
               "all)", "lower --p-max, --trials or --n")


def work_guard(config: MeasureConfig) -> Callable[[int], None] | None:
    """For a family that estimates its work (Family.search_work): a function the search calls before
    checking P, which raises a HopcapError when the trials of ``config``, each going as far, would
    need more than limits.WORK_MAX multiply-adds (None: no estimate)."""
    family = config.family
    if family.search_work is None or config.search != "p":
        return None

    def guard(p: int) -> None:
        work = config.trials * family.search_work(config.model, config.criterion, config.n, p)
        if work > WORK_MAX:
            raise HopcapError(
                f"{config.model.label} at N={config.n} stored every prefix the search checked below "
                f"P={p}: checking on to it in each of the {config.trials} trials needs about "
                f"{work:.2g} multiply-adds, "
                f"more than the budget of {WORK_MAX:.0e} (capacity_cli/limits.py WORK_MAX, about half "
                "an hour); lower --p-max or --trials")

    return guard


def configs_from_options(values: Mapping[str, Any], given: set[str] | None = None,
                         options: Iterable | None = None) -> list[MeasureConfig]:
    """The configurations of one ``hopcap measure`` command or one batch-table row.

    ``values`` maps option names of :data:`capacity_cli.options.MEASURE_OPTIONS` (those a batch
    table may set, and the command's run options, which are only checked here) to parsed values;
    absent names take the table's defaults. ``given`` names the options the user set (the command
    line's explicit flags, a row's non-blank cells; by default those in ``values`` that differ from
    their defaults): setting one where it does not apply (another family's option, a criterion,
    search or pattern source it does not serve: each option's declaration,
    :func:`capacity_cli.families.misplaced_options`) is an error, never silently ignored.
    ``options``: the command's option table (default measure's; ``hopcap curve`` passes its own).
    Lists of sweep options (model parameters, N, correlation, separation) multiply out, models
    outermost, then N, correlation, separation; repeated values run once. Every check happens here,
    before any work.
    """
    from .families import family_of, option_settings, refuse_misplaced
    from .options import measure_options

    table = measure_options() if options is None else tuple(options)
    batch = {o.name: o for o in measure_options() if o.batch}
    known = {**batch, **{o.name: o for o in table if not o.batch and o.name not in batch}}
    unknown = [name for name in values if name not in known]
    if unknown:
        raise HopcapError(f"unknown option {unknown[0]!r}")
    v = {name: o.default for name, o in known.items()}
    v.update(values)
    if given is None:
        given = {name for name, value in values.items() if value != known[name].default}
    if v["model"] is None:
        raise HopcapError("--model is required")
    family = family_of(v["model"])
    if v.get("criterion") is not None and v["criterion"] not in family.criteria:
        raise HopcapError(f"--criterion {v['criterion']} does not apply to --model {v['model']}; "
                          f"choose one of {', '.join(family.criteria)}")
    if v["patterns"] is not None and v["dataset"] is not None:
        raise HopcapError("give --patterns or --dataset, not both")
    refuse_misplaced(family, option_settings(family, v), given, table)
    v = {name: value for name, value in v.items() if name in batch}
    models, criterion = family.build(v)
    if v["search"] == "degree":
        models = models[:1]  # the degree is what is searched
    p_cap = v["p_max"]
    if "p_max" not in given and family.default_p_cap is not None:  # the family's own default cap
        p_cap = family.default_p_cap(v) or p_cap
    common = dict(seed=v["seed"], p_cap=p_cap, search=v["search"], set_size=v["p"],
                  max_degree=v["max_degree"])
    configs: list[MeasureConfig] = []
    if v["patterns"] is not None or v["dataset"] is not None:
        if v["patterns"] is not None:
            x = load_any_patterns(v["patterns"])[0] if "sphere" in family.kinds else \
                load_patterns(v["patterns"])
        else:
            x = dataset_patterns(v["dataset"])
        order = v["dataset"] is not None if v["shuffle"] is None else bool(v["shuffle"])
        trials = v["trials"] if v["trials"] is not None else (20 if order else 1)
        for model in models:
            configs.append(MeasureConfig(model, criterion, patterns=x,
                                         patterns_label=str(v["patterns"] or v["dataset"]),
                                         shuffle=order, trials=trials, **common))
    else:
        trials = 20 if v["trials"] is None else v["trials"]
        for model in models:
            configs += grid_configs(model, criterion, v["n"] or family.default_sizes(model),
                                    v["correlation"], v["min_distance"], bias=v["bias"],
                                    max_tries=v["max_tries"], kind=v["kind"], code=v["code"],
                                    trials=trials, **common)
    configs = unique_configs(configs)
    check_planned_work(configs)
    return configs


def grid_configs(model, criterion, sizes: Iterable[int],
                 correlations: Iterable[float] = (0.0,), min_distances: Iterable[int] = (0,), *,
                 bias: float = 0.5, max_tries: int = DEFAULT_MAX_TRIES, kind: str = "pm1",
                 code: str | None = None, **options) -> list[MeasureConfig]:
    """One configuration of generated patterns per N, correlation and separation (in that nesting
    order); ``options`` sets the other MeasureConfig fields (trials, seed, p_cap, search, ...)."""
    return [MeasureConfig(model, criterion, spec=PatternSpec(n, bias=bias, correlation=c,
                                                             min_distance=d, max_tries=max_tries,
                                                             kind=kind, code=code),
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


def trial_source(config: MeasureConfig, trial: int) -> Callable[[int], np.ndarray]:
    """The pattern sequence of one trial: source(p) -> its first p rows (fewer where it ends)."""
    if config.spec is not None:
        return pattern_source(config.spec, trial_entropy(config.seed, trial))
    fixed = config.patterns
    if config.shuffle:
        fixed = fixed[np.random.default_rng(trial_entropy(config.seed, trial)).permutation(len(fixed))]

    def source(p: int) -> np.ndarray:
        return fixed[:p]
    return source


def run_trial(config: MeasureConfig, trial: int) -> TrialResult:
    """Measure the capacity of one trial of ``config``."""
    start = time.perf_counter()
    source = trial_source(config, trial)
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
    if config.search == "recency":
        outcome = config.family.recency(config.model, config.criterion, source, config.n,
                                        config.stream_length, seed=dynamics_seed(config.seed, trial))
        return TrialResult(outcome, time.perf_counter() - start, None, None)
    outcome = capacity_of_sequence(config.model, config.criterion, source, config.n, config.p_cap,
                                   seed=dynamics_seed(config.seed, trial),
                                   checker_factory=functools.partial(config.family.checker,
                                                                     kind=config.kind),
                                   before_check=work_guard(config))
    elapsed = time.perf_counter() - start
    return TrialResult(outcome, elapsed, *_achieved(config, source(outcome.p_max)))


def _achieved(config: MeasureConfig, stored: np.ndarray) -> tuple[int | None, float | None]:
    """Achieved minimum distance and mean |feature correlation| of a stored set, for structured
    data (given sets, or generated with correlation or separation); (None, None) otherwise."""
    spec = config.spec
    if len(stored) < 2 or (spec is not None and spec.min_distance == 0 and spec.correlation == 0):
        return None, None  # (sphere patterns always take this branch: no bias, correlation, distance)
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
        "hopcap_version": code_version(),
        **(getattr(result.outcome, "extra", None) or {}),
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
                     flush_every_s: float = 5.0, executor: str = "local",
                     scheduler: str | None = None) -> list[dict]:
    """Run every pending trial of ``configs``; append each trial's row to ``output`` (CSV) as it
    finishes, so an interrupted run loses at most the trials in flight.

    Trials whose valid rows ``output`` already holds are skipped (resume; invalid rows are rerun,
    with a one-line warning on stderr). Several processes may fill one file at once: each claims a
    trial before running it (:class:`capacity_cli.results.SharedResults`), so a configuration
    started twice shares its trials instead of doubling them. Trials are taken lazily, one at a
    time. Returns the rows this process measured. ``flush_every_s`` is accepted for compatibility
    and unused (every row is written at once).

    ``executor="dask"``: the trials run as tasks on a Dask cluster (``scheduler`` address, or a
    LocalCluster), rows written here as they arrive (capacity_cli.distributed); ``threads`` is
    then the numba threads per trial (default 1).
    """
    del flush_every_s
    if executor not in ("local", "dask"):
        raise HopcapError(f"--executor must be local or dask, got {executor!r}")
    if scheduler and executor != "dask":
        raise HopcapError("--scheduler needs --executor dask")
    configs = unique_configs(configs)
    shared = SharedResults(output) if output else None
    if shared is not None and shared.warning():
        print(shared.warning(), file=sys.stderr, flush=True)
    keys = [config_key(c.columns()) for c in configs]
    if executor == "dask":
        from .distributed import run_on_dask

        return run_on_dask(configs, keys, shared, threads, progress, scheduler)
    done = shared.done if shared is not None else {}
    pending = [c.trials - sum(1 for t in done.get(k, ()) if t < c.trials)
               for c, k in zip(configs, keys, strict=True)]
    total = sum(pending)
    weights = trial_weights(configs, keys) if progress and total else [1.0] * len(configs)
    work = sum(w * left for w, left in zip(weights, pending, strict=True))
    rows: list[dict] = []
    with thread_count(threads) as used, _progress_bar(total, progress, work) as bar:
        for config, key, weight in zip(configs, keys, weights, strict=True):
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
                bar.update(1, work=weight)
    return rows


class WorkLeft:
    """The time left of a run whose trials differ in cost by orders of magnitude (N = 100 against
    N = 3200): each trial weighs its estimated cost (capacity_cli.timing.trial_weights, the cost model
    of the estimate), and the time left is the remaining cost over the cost done per second so far.
    ``clock`` returns seconds (time.perf_counter; tests pass a fake one)."""

    def __init__(self, work: float, clock: Callable[[], float] = time.perf_counter):
        self.work, self.clock = float(work), clock
        self.done = 0.0
        self.start = clock()

    def add(self, work: float) -> None:
        self.done += work

    def seconds_left(self) -> float | None:
        """Remaining cost / (cost done per second so far); None before any cost is done."""
        elapsed = self.clock() - self.start
        if self.done <= 0 or elapsed <= 0:
            return None
        return max(self.work - self.done, 0.0) * elapsed / self.done


def format_left(seconds: float) -> str:
    """``about 40 s left``, ``about 28 min left``, ``about 1.5 h left``."""
    if seconds < 120:
        return f"about {seconds:.0f} s left"
    if seconds < 3 * 3600:
        return f"about {seconds / 60:.0f} min left"
    return f"about {seconds / 3600:.1f} h left"


class PlainProgress:
    """Progress for output that is not a terminal (a log file, CI): one plain line on stderr when a
    configuration is done and at most every ``interval_s`` seconds within one, with the trial rate
    and the time left, instead of a bar that tqdm would hide. Runs shorter than ``quiet_s`` print
    nothing. ``work``: the estimated cost of every trial to run (default: one per trial), each
    ``update`` passing the cost of the trials it reports; the time left follows the cost (WorkLeft)."""

    def __init__(self, total: int, interval_s: float = 30.0, stream=None, quiet_s: float = 2.0, *,
                 work: float | None = None, clock: Callable[[], float] = time.perf_counter):
        self.total, self.interval_s, self.quiet_s = total, interval_s, quiet_s
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.done = 0
        self.what = ""
        self.left = WorkLeft(total if work is None else work, clock)
        self.start = self.last = self.left.start
        self.config_done = 0

    def set_description(self, what: str) -> None:
        if self.what and self.config_done:
            self._line("done")
        self.what, self.config_done = what, 0

    def update(self, n: int = 1, work: float | None = None) -> None:
        self.done += n
        self.config_done += n
        self.left.add(n if work is None else work * n)
        if self.clock() - self.last >= self.interval_s:
            self._line("running")

    def _line(self, state: str) -> None:
        now = self.clock()
        if now - self.start < self.quiet_s:  # a run of a few seconds needs no progress report
            return
        self.last = now
        rate = self.done / max(now - self.start, 1e-9)
        seconds = self.left.seconds_left()
        eta = f", {format_left(seconds)}" if seconds is not None and self.done < self.total else ""
        print(f"[{self.done}/{self.total} trials, {rate:.2f} trial/s{eta}] {self.what}: {state} "
              f"({self.config_done} trials)", file=self.stream, flush=True)

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc) -> None:
        if self.what and self.config_done and exc[0] is None:
            self._line("done")


class _CostBar:
    """A tqdm bar over the trials whose time left follows their estimated cost (WorkLeft), not their
    count: tqdm's own count-based estimate is replaced by ours in the postfix."""

    def __init__(self, total: int, work: float | None):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="trial", leave=False,
                        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")
        self.left = WorkLeft(total if work is None else work)
        self.total = total

    def set_description(self, what: str) -> None:
        self.bar.set_description(what)

    def update(self, n: int = 1, work: float | None = None) -> None:
        self.left.add(n if work is None else work * n)
        seconds = self.left.seconds_left()
        if seconds is not None and self.bar.n + n < self.total:
            self.bar.set_postfix_str(format_left(seconds), refresh=False)
        self.bar.update(n)

    def __enter__(self) -> _CostBar:
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()


class _NoProgress:
    def set_description(self, what: str) -> None:
        pass

    def update(self, n: int = 1, work: float | None = None) -> None:
        pass

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc) -> None:
        pass


def _progress_bar(total: int, progress: bool, work: float | None = None):
    """A tqdm bar on a terminal, plain lines otherwise (:class:`PlainProgress`), nothing when
    ``progress`` is off or there is nothing to run; ``work``: the trials' total estimated cost."""
    if not progress or total == 0:
        return _NoProgress()
    if not sys.stderr.isatty():
        return PlainProgress(total, work=work)
    return _CostBar(total, work)


@dataclass(frozen=True)
class ConfigSummary:
    """P_max statistics of one configuration."""

    config: MeasureConfig
    summary: Summary
    capped: int
    missing: int = 0  # degree search: trials where no degree up to max_degree stored the set
    unlearned: int = 0  # learned feature maps: trials whose learning did not decrease the loss


def summarize_rows(configs: list[MeasureConfig], rows: list[dict]) -> list[ConfigSummary]:
    """Per-configuration summaries of P_max over the given rows."""
    by_key: dict[tuple, list[dict]] = {}
    for row in rows:
        by_key.setdefault(config_key(row), []).append(row)
    out = []
    for config in configs:
        mine = by_key.get(config_key(config.columns()), [])
        column = {"degree": "min_degree", "recency": "recent_retrievable"}.get(config.search, "p_max")
        failed = [r for r in mine if r.get("learn_converged") is False]  # reported, never a capacity
        mine = [r for r in mine if r.get("learn_converged") is not False]
        values = [r[column] for r in mine if r[column] is not None and r[column] == r[column]]
        out.append(ConfigSummary(config, summarize(values),
                                 sum(_is_true(r["capped"]) for r in mine), len(mine) - len(values),
                                 len(failed)))
    return out


def _is_true(value) -> bool:
    """True for a true boolean cell (blank and NaN cells are not)."""
    return not is_blank(value) and bool(value)
