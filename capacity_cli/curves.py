"""Retrieval curves, per-pattern outcomes and energy traces (docs/theory.md section 16).

* A **retrieval curve** is, per trial and per P of a grid, the fraction of the P stored patterns that
  succeed under the criterion (the textbook figure of retrieval against alpha = P/N, Amit, Gutfreund &
  Sompolinsky 1985). It is the capacity search's own check run at every P instead of a bisection: the
  family's checker counts its successes (``checker.successes(P)``; the stability checker extends its
  sums from one P to the next). Beside it each trial's P_max from the search marks the capacity.
* **Per-pattern outcomes** (:func:`pattern_outcomes`): for each stored pattern, whether it succeeds,
  the final overlap, the sweeps, whether the dynamics converged, and the class of the final state
  (the pattern, its reverse, a 3-mixture by the census's exact test, other). The recalls are the
  checkers' own (kernels.outcomes), so an outcome's ``succeeded`` is the checker's decision.
* **Energy traces**: E(y) = -sum_mu F(xi_mu . y) after each sweep of each recall (the cue is sweep 0).

``stable`` has no dynamics of its own; its outcomes are those of the recall from the pattern itself
(no cue noise): a pattern is a fixed point exactly when that recall ends on it, so ``succeeded``
is the stability decision, and the class says where a pattern that is not a fixed point goes.
"""

from __future__ import annotations

import csv
import functools
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from .criteria import Criterion, Stable, cue_flips, target_overlap
from .errors import HopcapError
from .limits import CURVE_POINTS_MAX, DEFAULT_MAX_SWEEPS, P_CAP_MAX

#: Classes of a recall's final state, first match wins: the cued pattern, its reverse, a 3-mixture
#: sign(+-xi_a +- xi_b +- xi_c) of stored patterns (exact test of capacity_cli.census), other.
OUTCOME_CLASSES = ("pattern", "reversed", "mixture3", "other")

#: Columns after the configuration columns (results.CONFIG_COLUMNS) of a curve CSV: one row per
#: trial and P.
CURVE_RESULT_COLUMNS = ["trial", "p", "alpha", "successes", "fraction", "p_max", "capped", "elapsed_s",
                        "threads", "hopcap_version"]
#: Columns of an outcomes CSV (one row per pattern of a recall set) and of a trace CSV (one row per
#: sweep of a recall): the configuration in a few readable cells, then the record.
LABEL_COLUMNS = ["model", "n", "criterion", "noise", "min_overlap", "threshold", "seed", "trial", "p"]
OUTCOME_COLUMNS = LABEL_COLUMNS + ["p_max", "pattern", "succeeded", "overlap", "sweeps", "converged",
                                   "outcome", "mixture", "nearest", "nearest_overlap"]
TRACE_COLUMNS = LABEL_COLUMNS + ["pattern", "succeeded", "sweep", "energy"]
_CURVE_KINDS = {"p": "int", "alpha": "float", "successes": "int", "fraction": "float"}


# --------------------------------------------------------------------------------------------------
# Recalls: outcomes and traces
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PatternOutcome:
    """What happened to one stored pattern's recall (see the module docstring)."""

    pattern: int  # index in the stored set
    succeeded: bool  # the criterion's decision for this pattern
    overlap: float  # final overlap with the pattern, m / N in [-1, 1]
    sweeps: int  # sweeps run (the last one flips nothing when converged)
    converged: bool  # reached a fixed point before the sweep cap
    outcome: str  # one of OUTCOME_CLASSES
    mixture: str  # mixture3: the signed components, e.g. "+2-5+7" (pattern indices); else ""
    nearest: int  # the stored pattern with the largest |overlap| with the final state
    nearest_overlap: float  # that overlap / N


def check_default_dynamics(criterion) -> None:
    """Curves, outcomes and traces follow the default dynamics (random order, T = 0): refuse other
    update schemes or temperatures (criterion fields ``update``/``temperature`` where present)."""
    update = getattr(criterion, "update", "random")
    temperature = getattr(criterion, "temperature", 0) or 0
    if update != "random" or temperature != 0 or criterion.name not in ("stable", "retrieve", "overlap"):
        raise HopcapError(f"--criterion {criterion.name} (update {update}, T = {temperature:g}): curves, "
                          "outcomes and traces support the default dynamics only (--update random, "
                          "T = 0, criteria stable, retrieve, overlap)")


def recall_plan(model, criterion: Criterion) -> tuple[Criterion, Callable[[int], tuple[int, int, int]]]:
    """Refuse models and criteria without recall dynamics; else (criterion, n -> (cue flips, target
    overlap, sweep cap)). ``stable`` recalls from the pattern itself and succeeds on exact return."""
    from .models import BinaryDAM

    if not isinstance(model, BinaryDAM):
        raise HopcapError(f"--model {model.name}: per-pattern outcomes and traces need the binary "
                          "family's dynamics (hebbian, poly, rectpoly, exp)")
    check_default_dynamics(criterion)
    if isinstance(criterion, Stable):
        return criterion, lambda n: (0, n, DEFAULT_MAX_SWEEPS)
    return criterion, lambda n: (cue_flips(criterion.noise, n), target_overlap(criterion, n),
                                 criterion.max_sweeps)


class Recalls:
    """Every pattern of ``patterns`` (the whole stored set) recalled under the criterion, with the
    dynamics seed the checkers use; computed once, read as outcomes and traces."""

    def __init__(self, model, criterion: Criterion, patterns: np.ndarray, seed: int = 0):
        from .kernels.outcomes import recall_states
        from .models import gain_arithmetic

        recall_plan(model, criterion)
        self.model, self.criterion = model, criterion
        self.x = np.ascontiguousarray(patterns, dtype=np.int8)
        if self.x.ndim != 2 or self.x.shape[0] < 1:
            raise HopcapError("per-pattern outcomes need at least one stored pattern")
        p, n = self.x.shape
        self.xt = np.ascontiguousarray(self.x.T)
        self.n_flip, self.target, self.max_sweeps = recall_plan(model, criterion)[1](n)
        self.arith = gain_arithmetic(model, n, p)
        self.seed = np.uint64(seed % 2**64)
        self.finals = np.empty((p, n), dtype=np.int8)
        self.sweeps = np.zeros(p, dtype=np.int64)
        self.converged = np.zeros(p, dtype=np.bool_)
        needs = np.zeros(p, dtype=np.bool_)
        recall_states(self.x, self.xt, p, *self._arith_args(), self.n_flip, self.seed, self.max_sweeps,
                      self.finals, self.sweeps, self.converged, needs)
        self.forced = {int(nu): self._recall_exactly(int(nu)) for nu in np.flatnonzero(needs)}
        self.overlaps = (self.finals.astype(np.int64) * self.x.astype(np.int64)).sum(axis=1)

    def _arith_args(self) -> tuple:
        a = self.arith
        return (a.gain, self.model.field, a.exact, a.shiftable, a.levels.table, a.levels.ratio_form)

    def _recall_exactly(self, nu: int) -> np.ndarray:
        """Rerun recall nu with the exact signs of the decisions the float sums leave open (as
        search.DynamicsChecker._relax_exactly); returns those signs."""
        from .kernels.outcomes import recall_state
        from .models import exact_signs

        n = self.x.shape[1]
        forced: list[int] = []
        pending = np.zeros(n + 3, dtype=np.int64)
        while True:
            used, done, needs = recall_state(nu, self.x, self.xt, self.x.shape[0], *self._arith_args(),
                                             np.array(forced, dtype=np.int8), self.n_flip, self.seed,
                                             self.max_sweeps, self.finals[nu], pending)
            if not needs:
                self.sweeps[nu], self.converged[nu] = used, done
                return np.array(forced, dtype=np.int8)
            forced.append(int(exact_signs(self.model, n, pending)[0]))

    @property
    def succeeded(self) -> np.ndarray:
        """The criterion's decision per pattern; under stable, ending converged on the pattern (a
        sweep with no flip at xi_nu: exactly a fixed point, for either update rule)."""
        ok = self.overlaps >= self.target
        return ok & self.converged if isinstance(self.criterion, Stable) else ok

    def outcomes(self) -> list[PatternOutcome]:
        p, n = self.x.shape
        classes, mixes, nearest = final_classes(self.finals, self.x)
        own = self.overlaps
        m_near = (self.finals.astype(np.int64) * self.x[nearest].astype(np.int64)).sum(axis=1)
        succeeded = self.succeeded
        return [PatternOutcome(nu, bool(succeeded[nu]), float(own[nu] / n), int(self.sweeps[nu]),
                               bool(self.converged[nu]), classes[nu], mixes[nu], int(nearest[nu]),
                               float(m_near[nu] / n)) for nu in range(p)]

    def trace(self, nu: int) -> np.ndarray:
        """Energies E(y) after 0 (the cue), 1, ..., S sweeps of recall nu (S = its sweeps)."""
        from .kernels.outcomes import trace_states

        states = np.empty((int(self.sweeps[nu]) + 1, self.x.shape[1]), dtype=np.int8)
        trace_states(nu, self.x, self.xt, self.x.shape[0], *self._arith_args(),
                     self.forced.get(nu, np.zeros(0, dtype=np.int8)), self.n_flip, self.seed,
                     int(self.sweeps[nu]), states)
        return energies(self.model, self.x, states)


def final_classes(finals: np.ndarray, x: np.ndarray) -> tuple[list[str], list[str], np.ndarray]:
    """For row nu of ``finals`` (the final state of pattern nu's recall): its class in
    OUTCOME_CLASSES, the signed components of a 3-mixture ("+2-5+7", pattern indices; "" otherwise),
    and the stored pattern with the largest |overlap|. Mixtures by the census's exact test
    (census.mixtures; a state whose test exceeds its budget counts as other)."""
    from .census import mixtures

    finals = np.ascontiguousarray(finals, dtype=np.int8)
    p, n = finals.shape
    m = finals.astype(np.int64) @ x.T.astype(np.int64)
    own = m[np.arange(p), np.arange(p)]
    label = np.full(p, OUTCOME_CLASSES.index("other"))
    label[own == -n] = OUTCOME_CLASSES.index("reversed")
    label[own == n] = OUTCOME_CLASSES.index("pattern")
    components = np.zeros((p, 3), dtype=np.int64)
    rest = np.flatnonzero(np.abs(own) != n)
    if rest.size and x.shape[0] >= 3:
        is_mix, found, _ = mixtures(finals[rest], x, 3)
        label[rest[is_mix]] = OUTCOME_CLASSES.index("mixture3")
        components[rest] = found
    classes = [OUTCOME_CLASSES[k] for k in label]
    mixes = ["".join(f"{'+' if c > 0 else '-'}{abs(c) - 1}" for c in sorted(components[nu], key=abs))
             if classes[nu] == "mixture3" else "" for nu in range(p)]
    return classes, mixes, np.abs(m).argmax(axis=1)


def energies(model, x: np.ndarray, states: np.ndarray) -> np.ndarray:
    """E(y) = -sum_mu F(xi_mu . y) of each row of ``states`` as float64 (theory.md section 1; exp as
    -sum_mu exp(beta (m_mu - N)), i.e. scaled by e^(-beta N), as the census reports it)."""
    from .census import _float_energy_table

    n = x.shape[1]
    m = np.asarray(states, dtype=np.int64) @ np.asarray(x, dtype=np.int64).T
    if model.name == "exp":
        return -np.exp(model.beta * (m - n)).sum(axis=1)
    return -_float_energy_table(model, n)[m + n + 2].sum(axis=1)


def pattern_outcomes(model, criterion: Criterion, patterns: np.ndarray, seed: int = 0
                     ) -> list[PatternOutcome]:
    """One :class:`PatternOutcome` per row of ``patterns`` (the stored set), recalled as the
    checkers recall them with dynamics seed ``seed`` (``hopcap measure`` uses
    measure.dynamics_seed(seed, trial)). ``stable``: see the module docstring."""
    return Recalls(model, criterion, patterns, seed).outcomes()


# --------------------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------------------

def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise HopcapError(f"{option}: {text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise HopcapError(f"{option}: {text.strip()!r} is not a finite number")
    return value


def parse_range(text: str, option: str) -> list[Decimal]:
    """``START:STOP:STEP`` (STOP included when the steps land on it; STEP 1 when left out) or one
    value, as exact decimals; an empty or decreasing range is refused."""
    parts = text.split(":")
    if len(parts) not in (1, 2, 3):
        raise HopcapError(f"{option} takes START:STOP:STEP or one value, got {text!r}")
    start = _decimal(parts[0], option)
    if len(parts) == 1:
        return [start]
    stop = _decimal(parts[1], option)
    step = _decimal(parts[2], option) if len(parts) == 3 else Decimal(1)
    if step <= 0:
        raise HopcapError(f"{option} {text}: the step must be > 0 (a decreasing range is refused)")
    if stop < start:
        raise HopcapError(f"{option} {text}: empty range (STOP < START)")
    count = int((stop - start) / step) + 1
    if count > CURVE_POINTS_MAX:
        raise HopcapError(f"{option} {text}: {count} points; at most {CURVE_POINTS_MAX} (capacity_cli/"
                          "limits.py CURVE_POINTS_MAX: each point is a full check of every trial)")
    return [start + k * step for k in range(count)]


@dataclass(frozen=True)
class Grid:
    """The P values of a curve: ``--p`` (P itself) or ``--p-over-n`` (alpha; P = round(alpha N),
    halves up, repeated P once)."""

    text: str
    per_n: bool

    @functools.cached_property
    def values(self) -> list[Decimal]:
        return parse_range(self.text, "--p-over-n" if self.per_n else "--p")

    def ps(self, n: int) -> list[int]:
        """The sorted distinct P >= 1 for N = n, or a one-line error."""
        option = "--p-over-n" if self.per_n else "--p"
        if self.per_n:
            if self.values[0] <= 0:
                raise HopcapError(f"{option} {self.text}: alpha must be > 0")
            ps = sorted({int((v * n + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR"))
                         for v in self.values} - {0})
            if not ps:
                raise HopcapError(f"{option} {self.text}: no P >= 1 at N = {n}")
        else:
            if any(v != v.to_integral_value() for v in self.values) or self.values[0] < 1:
                raise HopcapError(f"{option} {self.text}: P must be whole numbers >= 1")
            ps = sorted({int(v) for v in self.values})
        if ps[-1] > P_CAP_MAX:
            raise HopcapError(f"{option} {self.text}: P = {ps[-1]} at N = {n} exceeds {P_CAP_MAX} "
                              "(capacity_cli/limits.py P_CAP_MAX)")
        return ps


def make_grid(p: str | None, p_over_n: str | None) -> Grid:
    if (p is None) == (p_over_n is None):
        raise HopcapError("hopcap curve needs one of --p START:STOP:STEP or --p-over-n START:STOP:STEP")
    grid = Grid(p if p is not None else p_over_n, p is None)
    grid.values  # noqa: B018  (parse now: a bad range fails before any work)
    return grid


# --------------------------------------------------------------------------------------------------
# Curves
# --------------------------------------------------------------------------------------------------

def curve_columns() -> list[str]:
    from .results import CONFIG_COLUMNS

    return CONFIG_COLUMNS + CURVE_RESULT_COLUMNS


def check_curve_config(config) -> None:
    """Refuse configurations a curve cannot be drawn for, with one line."""
    if config.family.name != "binary":
        raise HopcapError(f"--model {config.model.name}: its checker does not count succeeding "
                          "patterns, so hopcap curve takes the binary family's models (hebbian, "
                          "poly, rectpoly, exp)")
    check_default_dynamics(config.criterion)


@dataclass(frozen=True)
class CurveTrial:
    """One trial's curve: the rows to write and (with traces) the trace rows."""

    rows: list[dict]
    traces: list[dict]


def label_cells(config, trial: int, p: int) -> dict:
    """The LABEL_COLUMNS cells of an outcomes or trace row."""
    c = config.criterion
    return {"model": config.model.label, "n": config.n, "criterion": c.name,
            "noise": getattr(c, "noise", None), "min_overlap": getattr(c, "min_overlap", None),
            "threshold": c.threshold, "seed": config.seed, "trial": trial, "p": p}


def trace_rows(recalls: Recalls, cells: dict) -> list[dict]:
    """One row per sweep of every recall of ``recalls``."""
    rows = []
    succeeded = recalls.succeeded
    for nu in range(recalls.x.shape[0]):
        for sweep, energy in enumerate(recalls.trace(nu)):
            rows.append({**cells, "pattern": nu, "succeeded": bool(succeeded[nu]), "sweep": sweep,
                         "energy": float(energy)})
    return rows


def curve_trial(config, trial: int, ps: list[int], trace: bool = False, threads: int = 1) -> CurveTrial:
    """Successes at every P of ``ps`` for one trial of ``config`` (its patterns and dynamics seed are
    those of ``hopcap measure``'s trial), and that trial's P_max by the search (limit max(ps))."""
    from .measure import dynamics_seed, trial_source
    from .provenance import code_version
    from .search import capacity_of_sequence

    start = time.perf_counter()
    source = trial_source(config, trial)
    seed = dynamics_seed(config.seed, trial)
    limit = max(ps)
    if len(source(limit)) < limit:
        raise HopcapError(f"the pattern sequence has only {len(source(limit))} patterns; the curve "
                          f"asks for P = {limit}")
    factory = functools.partial(config.family.checker, kind=config.kind)
    checker = factory(config.model, config.criterion, source, config.n, limit, seed)
    counts = [checker.successes(p) for p in ps]
    outcome = capacity_of_sequence(config.model, config.criterion, source, config.n, limit, seed=seed,
                                   checker_factory=factory)
    elapsed = time.perf_counter() - start
    base = {**config.columns(), "p_cap": limit, "search": "curve"}
    rows = [{**base, "trial": trial, "p": p, "alpha": p / config.n, "successes": k, "fraction": k / p,
             "p_max": outcome.p_max, "capped": outcome.capped, "elapsed_s": round(elapsed, 6),
             "threads": threads, "hopcap_version": code_version()} for p, k in zip(ps, counts, strict=True)]
    traces = []
    if trace:
        for p in ps:
            traces += trace_rows(Recalls(config.model, config.criterion, source(p), seed),
                                 label_cells(config, trial, p))
    return CurveTrial(rows, traces)


def curve_key(row: dict) -> tuple:
    from .results import config_key

    return config_key({**row, "search": "p", "p_cap": None})


def run_curves(configs, grid: Grid, output: str | None = None, trace: str | None = None,
               threads: int | None = None, progress: bool = True) -> list[dict]:
    """Every pending (trial, P) of every configuration; each trial's rows appended to ``output`` in
    one locked, fsynced write (and its trace rows to ``trace``). Trials whose every P the file holds
    are skipped (resume), as are their traces. Returns the rows of the requested configurations, trials
and P (those read and those new)."""
    from tqdm.auto import tqdm

    from ._compile import thread_count
    from .limits import check_memory
    from .measure import binary_check_bytes

    plans = []
    for config in configs:
        check_curve_config(config)
        ps = grid.ps(config.n)
        check_memory(binary_check_bytes(config.model, config.criterion, config.n, ps[-1]) +
                     config.n * ps[-1], f"N={config.n}: the curve's check at P={ps[-1]}",
                     f"lower the grid's largest P ({'--p-over-n' if grid.per_n else '--p'}) or --n")
        plans.append((config, ps))
    done = read_curves([output], missing_ok=True) if output else []
    have: dict[tuple, set[tuple[int, int]]] = {}
    for row in done:
        have.setdefault(curve_key(row), set()).add((row["trial"], row["p"]))
    wanted = {curve_key(config.columns()): (set(ps), config.trials) for config, ps in plans}
    rows = [r for r in done if curve_key(r) in wanted and r["p"] in wanted[curve_key(r)][0]
            and r["trial"] < wanted[curve_key(r)][1]]
    jobs = []
    for config, ps in plans:
        key = curve_key({**config.columns()})
        for trial in range(config.trials):
            if any((trial, p) not in have.get(key, ()) for p in ps):
                jobs.append((config, trial, ps))
    with thread_count(threads) as used, \
            tqdm(total=len(jobs), disable=None if progress else True, unit="trial", leave=False) as bar:
        for config, trial, ps in jobs:
            result = curve_trial(config, trial, ps, trace=trace is not None, threads=used)
            key = curve_key(config.columns())
            new = [r for r in result.rows if (r["trial"], r["p"]) not in have.get(key, ())]
            if output:
                append_table(output, curve_columns(), new)
            if trace:
                append_table(trace, TRACE_COLUMNS, result.traces)
            rows += new
            bar.update()
    return rows


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------

def append_table(path: str | os.PathLike, columns: list[str], rows: Iterable[dict]) -> None:
    """Append ``rows`` to a CSV with header ``columns`` in one write under the file's lock, flushed
    and fsynced (results.append_rows's discipline); a file with another header is refused."""
    from .provenance import note_rows
    from .results import _csv_line, first_line_and_prefix, migrate_file, results_lock

    rows = list(rows)
    if not rows:
        return
    path = Path(path)
    with results_lock(path):
        header = columns
        if path.exists() and path.stat().st_size > 0:
            first, text = first_line_and_prefix(path)
            header = next(csv.reader([first]), [])
            added = _added_columns(path, header, columns, "has another header (not a file of this "
                                   "kind, or written by another version); choose a new file")
            if added:  # an older version's file: its header gains the new columns, once
                old = header
                header = old + added
                migrate_file(path, old, header, lambda cells: _parsed_or_none(old, cells, columns))
                text = ""
        else:
            text = _csv_line(columns)
        text += "".join(_csv_line(row.get(c) for c in header) for row in rows)
        with open(path, "a", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        note_rows(path, rows)  # the folder's environment record, for rows with a hopcap_version


def write_table(path: str | os.PathLike, columns: list[str], rows: Iterable[dict]) -> None:
    """Write a whole CSV atomically (a temporary file renamed over ``path``)."""
    from .results import _csv_line, _rewrite, results_lock

    path = Path(path)
    with results_lock(path):
        _rewrite(path, [_csv_line(columns)] + [_csv_line(row.get(c) for c in columns) for row in rows])


def file_kind(path: str | os.PathLike) -> str | None:
    """"curve", "trace" or "outcomes" from a CSV's header; None for anything else."""
    from .results import header_kind

    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            header = next(csv.reader([f.readline()]), [])
    except (OSError, csv.Error):
        return None
    return header_kind(header)


def _kind(column: str) -> str:
    from .results import column_kind

    return _CURVE_KINDS.get(column) or {"pattern": "int", "succeeded": "bool", "overlap": "float",
                                        "sweep": "int", "energy": "float", "nearest": "int",
                                        "nearest_overlap": "float", "min_overlap": "float",
                                        "model": "text"}.get(column) or column_kind(column)


def read_table(path: str | os.PathLike, columns: list[str], what: str, missing_ok: bool = False
               ) -> list[dict]:
    """The rows of a curve/trace/outcomes CSV, parsed by kind; a damaged line (a truncated last
    write included) is an error naming it, so nothing is dropped silently."""
    path = Path(path)
    if not path.is_file():
        if missing_ok:
            return []
        raise HopcapError(f"{path}: no such file")
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        lines = f.read().split("\n")
    header = next(csv.reader([lines[0]]), []) if lines and lines[0] else []
    if not header:
        return []
    _added_columns(path, header, columns, f"not a hopcap {what} file (its header differs)")
    rows = []
    last = len(lines) - 1
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        cells = next(csv.reader([text]), [])
        try:
            if len(cells) != len(header) or (number - 1 == last and text):
                raise ValueError("a truncated or damaged line")
            rows.append(_parse_cells(header, cells, columns))
        except ValueError as err:
            raise HopcapError(f"{path} line {number}: {err}") from None
    return rows


def _added_columns(path: Path, header: list[str], columns: list[str], refusal: str) -> list[str]:
    """The columns of ``columns`` that a file's ``header`` lacks, in order. A file written before
    a configuration column existed lacks only such columns (results.CONFIG_COLUMNS, filled from
    results.LEGACY_VALUES when read); any other difference is refused with ``path: refusal``."""
    from .results import CONFIG_COLUMNS

    added = [c for c in columns if c not in header]
    if set(header) - set(columns) or len(set(header)) != len(header) \
            or any(c not in CONFIG_COLUMNS for c in added):
        raise HopcapError(f"{path}: {refusal}")
    return added


def _parsed_or_none(header: list[str], cells: list[str], columns: list[str]) -> dict | None:
    try:
        return _parse_cells(header, cells, columns)
    except ValueError:
        return None


def _parse_cells(header: list[str], cells: list[str], columns: list[str]) -> dict:
    """One line's cells (in the file's ``header`` order) as a row of ``columns``, parsed by kind;
    configuration columns an older file lacks are filled as results.fill_legacy does. Raises
    ValueError on a cell that does not parse."""
    from .results import fill_legacy, parse_cell

    row = {}
    for c, v in zip(header, cells, strict=True):
        try:
            row[c] = parse_cell(c, _kind(c), v)
        except ValueError as err:
            raise ValueError(f"column {c}: {err}") from None
    if len(header) < len(columns):
        fill_legacy(row)
    return {c: row.get(c) for c in columns}


def read_curves(paths: Iterable[str | os.PathLike], missing_ok: bool = False) -> list[dict]:
    """The rows of curve CSVs, each (configuration, trial, P) once."""
    seen, out = set(), []
    for path in paths:
        for row in read_table(path, curve_columns(), "curve", missing_ok):
            key = (curve_key(row), row["trial"], row["p"])
            if key not in seen:
                seen.add(key)
                out.append(row)
    return out


# --------------------------------------------------------------------------------------------------
# measure --outcomes
# --------------------------------------------------------------------------------------------------

def check_outcome_configs(configs) -> None:
    """Refuse, before any work, configurations without per-pattern outcomes (one line)."""
    for config in configs:
        recall_plan(config.model, config.criterion)
        if config.search != "p":
            raise HopcapError("--outcomes needs --search p (outcomes at each trial's P_max and "
                              "P_max + 1)")


def measure_outcomes(configs, rows: list[dict], path: str, trace: str | None = None
                     ) -> tuple[int, dict[str, int]]:
    """Outcomes of every measured trial's stored set at P_max and P_max + 1 (which patterns fail
    first, and how), written atomically to ``path`` (and traces to ``trace``); returns the rows
    written and the classes of the failed recalls at P_max + 1 (class -> count). Needs the binary
    family and a trial P_max (not --search degree/recency)."""
    from .measure import dynamics_seed, trial_source
    from .results import config_key

    check_outcome_configs(configs)
    by_key = {config_key(c.columns()): c for c in configs}
    out, traces = [], []
    for row in sorted(rows, key=lambda r: (str(r["model"]), r["n"], r["trial"])):
        config = by_key.get(config_key(row))
        if config is None or row.get("p_max") is None:
            continue
        source = trial_source(config, row["trial"])
        seed = dynamics_seed(config.seed, row["trial"])
        for p in (row["p_max"], row["p_max"] + 1):
            stored = source(p)
            if p < 1 or len(stored) < p:
                continue
            recalls = Recalls(config.model, config.criterion, stored, seed)
            cells = {**label_cells(config, row["trial"], p), "p_max": row["p_max"]}
            out += [{**cells, **o.__dict__} for o in recalls.outcomes()]
            if trace:
                traces += trace_rows(recalls, label_cells(config, row["trial"], p))
    write_table(path, OUTCOME_COLUMNS, out)
    if trace:
        write_table(trace, TRACE_COLUMNS, traces)
    failed: dict[str, int] = {}
    for r in out:
        if r["p"] == r["p_max"] + 1 and not r["succeeded"]:
            failed[r["outcome"]] = failed.get(r["outcome"], 0) + 1
    return len(out), failed


# --------------------------------------------------------------------------------------------------
# Summaries and figures
# --------------------------------------------------------------------------------------------------

def curve_summary(rows: list[dict]) -> list[tuple[str, int, list[tuple[float, object]], object]]:
    """Per configuration (label, N): the (alpha, stats.Summary of the fraction) points and the
    Summary of P_max / N over trials."""
    from .plotting import group_label
    from .stats import summarize

    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(curve_key(row), []).append(row)
    out = []
    for mine in groups.values():
        first = mine[0]
        by_p: dict[int, list[float]] = {}
        caps: dict[int, float] = {}
        for r in mine:
            by_p.setdefault(r["p"], []).append(r["fraction"])
            caps[r["trial"]] = r["p_max"] / r["n"]
        points = [(p / first["n"], summarize(v)) for p, v in sorted(by_p.items())]
        out.append((group_label(first), first["n"], points, summarize(list(caps.values()))))
    return sorted(out, key=lambda g: (g[0], g[1]))


def plot_curves(paths, output: str, title: str | None = None) -> list[Path]:
    """Mean fraction of stored patterns that succeed, with its 95% interval, against alpha = P/N;
    each configuration's mean P_max / N (with its interval) and the theory alpha marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import _save, laws_of

    rows = read_curves(paths)
    if not rows:
        raise HopcapError("no curve rows to draw")
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    firsts = {}
    for row in rows:
        firsts.setdefault((curve_key(row)), row)
    theory_drawn = set()
    for index, (label, n, points, cap) in enumerate(curve_summary(rows)):
        color = colors[index % len(colors)]
        alpha = np.array([a for a, _ in points])
        mean = np.array([s.mean for _, s in points])
        low = np.array([s.ci_low if s.trials > 1 else s.mean for _, s in points])
        high = np.array([s.ci_high if s.trials > 1 else s.mean for _, s in points])
        ax.plot(alpha, mean, "-o", ms=3, color=color, label=f"{label}, N={n} ({points[0][1].trials} trials)")
        ax.fill_between(alpha, np.clip(low, 0, 1), np.clip(high, 0, 1), color=color, alpha=0.2, lw=0)
        ax.axvline(cap.mean, color=color, ls="--", lw=1)
        if cap.trials > 1:
            ax.axvspan(cap.ci_low, cap.ci_high, color=color, alpha=0.08, lw=0)
    for key_row in firsts.values():
        for law in laws_of(key_row)[:1]:
            a = float(law(key_row["n"])) / key_row["n"]
            if (law.label, round(a, 6)) in theory_drawn:
                continue
            theory_drawn.add((law.label, round(a, 6)))
            style = (":", "-.", (0, (1, 3)))[(len(theory_drawn) - 1) % 3]
            ax.axvline(a, color="0.4", ls=style, lw=1.2, label=f"theory {law.label} / N = {a:.3g}")
    ax.set_xlabel("alpha = P / N")
    ax.set_ylabel("fraction of stored patterns that succeed")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, alpha=0.25)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("dashed: mean P_max / N of the capacity search (band: 95% interval)", fontsize=8)
    return _save(fig, output, title)


def plot_traces(paths, output: str, title: str | None = None, most: int = 200, panels: int = 6
                ) -> list[Path]:
    """Energy per unit E / N after each sweep of each recall (sweep 0 is the cue), one panel per
    configuration and P (the energy scale grows with P), succeeded recalls in blue and failed ones in
    red; at most ``panels`` panels (the first ones) of at most ``most`` recalls each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import _save

    groups: dict[tuple, dict[tuple, list[dict]]] = {}
    for path in paths:
        for r in read_table(path, TRACE_COLUMNS, "trace"):
            panel = (r["model"], r["n"], r["criterion"], r["p"])
            recall = (r["seed"], r["trial"], r["pattern"])
            groups.setdefault(panel, {}).setdefault(recall, []).append(r)
    if not groups:
        raise HopcapError("no trace rows to draw")
    chosen = list(groups.items())[:panels]
    cols = min(3, len(chosen))
    rows = (len(chosen) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat[len(chosen):]:
        ax.set_visible(False)
    for ax, ((model, n, criterion, p), recalls) in zip(axes.flat, chosen, strict=False):
        drawn = {True: 0, False: 0}
        for rs in list(recalls.values())[:most]:
            ok = bool(rs[0]["succeeded"])
            label = None if drawn[ok] else ("succeeded" if ok else "failed")
            drawn[ok] += 1
            ax.plot([r["sweep"] for r in rs], [r["energy"] / n for r in rs],
                    color="tab:blue" if ok else "tab:red", alpha=0.35, lw=0.8, label=label)
        ax.set_title(f"{model}, {criterion}, N={n}, P={p} (alpha={p / n:.3g}): "
                     f"{drawn[True]} ok, {drawn[False]} failed", fontsize=7)
        ax.set_xlabel("sweep (0 = the cue)")
        ax.set_ylabel("energy per unit E / N")
        ax.grid(True, alpha=0.25)
        ax.legend(fontsize=7)
    return _save(fig, output, title)
