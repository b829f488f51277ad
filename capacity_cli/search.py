"""Largest storable P by binary search over prefixes of one trial's pattern sequence.

``largest_storable`` brackets upwards (P = 1, 2, 4, ... until a prefix is not stored or the limit is
reached) and then bisects. Guarantee: the answer P is stored and P + 1 is not, unless the limit (the
user's cap or the end of the supplied set) is itself stored, which is reported as ``capped``. P = 0
means a single pattern is not stored.

The checkers decide "is the prefix of P patterns stored?". The stability checker keeps its per-row
sums for the last stored prefix, so each step only adds the new columns (every step of the search is
above the last stored prefix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numba
import numpy as np

from .criteria import (
    UPDATE_SCHEMES,
    Criterion,
    OverlapMean,
    Stable,
    allowed_failures,
    cue_flips,
    target_overlap,
)
from .kernels.bits import pack_rows
from .kernels.dynamics import (
    relax_pattern,
    relax_pattern_scheme,
    relax_prefix,
    relax_prefix_scheme,
    relax_rows,
    relax_rows_scheme,
)
from .kernels.exact import UNDECIDED, decide_rows, row_unit_signs
from .kernels.pruned import pruned_rows, pruned_stability
from .kernels.stability import INT32_LIMIT, extend_rows, extend_stability
from .models import BinaryDAM, LevelTable, exact_signs, gain_arithmetic, glauber_unit, stability_tables

#: Below this many multiply-adds a check runs serially: waking the thread pool (and, on a busy
#: machine, waiting for a descheduled worker at the barrier) costs more than the work.
PARALLEL_MIN_WORK = 4_000_000
#: Row groups per thread, handed out one at a time (dynamic scheduling) so a descheduled thread
#: on a busy machine does not hold the others at the barrier.
GROUPS_PER_THREAD = 8

PatternSource = Callable[[int], np.ndarray]


@dataclass(frozen=True)
class SearchOutcome:
    """Result of one binary search."""

    p_max: int  # largest stored prefix found
    capped: bool  # True when p_max is the limit itself (the true capacity may be larger)
    checks: int  # number of prefixes tested
    # Dynamics criteria (retrieve, overlap), over the stored prefix of p_max patterns; None otherwise:
    converged: bool | None = None  # every pattern reached a fixed point before the sweep cap
    sweeps: int | None = None  # the most sweeps any pattern used
    extra: dict | None = None  # a family's outcome columns (Family.outcome_columns), from its checker


def largest_storable(is_stored: Callable[[int], bool], limit: int) -> SearchOutcome:
    """Largest P <= limit with is_stored(P), bracketing by doubling then bisecting."""
    checks = 0

    def test(p: int) -> bool:
        nonlocal checks
        checks += 1
        return is_stored(p)

    if limit < 1 or not test(1):
        return SearchOutcome(0, limit < 1, checks)
    if limit == 1:
        return SearchOutcome(1, True, checks)
    lo, p = 1, 2
    while True:
        if p >= limit:
            if test(limit):
                return SearchOutcome(limit, True, checks)
            hi = limit
            break
        if test(p):
            lo, p = p, 2 * p
        else:
            hi = p
            break
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if test(mid):
            lo = mid
        else:
            hi = mid
    return SearchOutcome(lo, False, checks)


def _run_groups(parallel_kernel, row_kernel, args: tuple, outputs: tuple, work: int) -> int:
    """Run a check of about ``work`` multiply-adds and return its failure count: serially through
    ``row_kernel(0, 1, *args, failures, *outputs)`` when small or when numba runs one thread, else
    through ``parallel_kernel(*args, groups, *outputs)`` with GROUPS_PER_THREAD strided row groups
    per thread, handed out one at a time."""
    threads = numba.get_num_threads()
    if threads > 1 and work >= PARALLEL_MIN_WORK:
        with numba.parallel_chunksize(1):
            return int(parallel_kernel(*args, GROUPS_PER_THREAD * threads, *outputs))
    failures = np.zeros(1, dtype=np.int64)
    row_kernel(0, 1, *args, failures, *outputs)
    return int(failures[0])


def decide_undecided_rows(model: BinaryDAM, n: int, packed: np.ndarray, sel: np.ndarray, p: int,
                          levels: LevelTable, stable: np.ndarray) -> None:
    """Replace the UNDECIDED entries of a stability check's ``stable`` (int8) by exact decisions for
    the prefix of p patterns: level counts in numba (kernels.exact.decide_rows), then exact arithmetic
    (models.exact_signs) for the gains those leave open."""
    rows = np.flatnonzero(stable == UNDECIDED)
    decide_rows(rows, p, packed, sel, n, model.field, levels.table, levels.ratio_form, stable)
    counts = np.empty((n, n + 3), dtype=np.int64)
    signs = np.empty(n, dtype=np.int8)
    for r in np.flatnonzero(stable == UNDECIDED):
        row_unit_signs(r, p, packed, sel, n, model.field, levels.table, levels.ratio_form, counts, signs)
        open_units = signs == UNDECIDED
        signs[open_units] = exact_signs(model, n, counts[open_units])
        stable[r] = 0 if (signs < 0).any() else 1


class _PrefixCache:
    """Patterns of the source in the layouts the kernels read, grown on demand.

    Sources are prefix-stable (source(q)[:p] == source(p)), so growing from ``count`` rows only has
    to lay out the new rows: ``refresh(start)`` receives the first new row.
    """

    def __init__(self, source: PatternSource):
        self.source = source
        self.count = 0

    def ensure(self, p: int) -> None:
        if p > self.p_limit:  # the arithmetic (int32/int64 or float) was chosen for p_limit
            raise ValueError(f"P = {p} exceeds the checker's p_limit = {self.p_limit}")
        if p > self.count:
            x = self.source(p)
            start = self.count
            self.x = np.ascontiguousarray(x, dtype=np.int8)
            self.count = len(x)
            self.refresh(start)

    def refresh(self, start: int) -> None:
        pass


class StabilityChecker(_PrefixCache):
    """is_stored(P) for the ``stable`` criterion, reusing sums of the last stored prefix.

    Integer energies start with int32 accumulators (exact while every row bound S_nu < 2^31, with
    an int64 recomputation of any row beyond). Bounds grow about linearly in P, so once the stored
    prefix predicts S_nu >= 2^31 for the next one, the checker switches to int64 accumulators for
    good (one recomputation from scratch: wrapped int32 sums cannot be widened).
    """

    def __init__(self, model: BinaryDAM, criterion: Stable, source: PatternSource, n: int,
                 p_limit: int):
        super().__init__(source)
        self.model, self.criterion, self.n, self.p_limit = model, criterion, n, max(p_limit, 1)
        self.tables = stability_tables(model, n, self.p_limit)
        self.c_acc = self.tables.c_acc
        self.packed = np.zeros((0, (n + 63) // 64), dtype=np.uint64)
        self.sel = np.zeros((0, n), dtype=np.int8)
        self._reset()

    def _reset(self) -> None:
        n, wide = self.n, self.tables.c_sum.dtype
        self.lo = 0
        self._spare = np.zeros((0, n), dtype=self.c_acc.dtype)  # where the next check writes
        self.acc = np.zeros((0, n), dtype=self.c_acc.dtype)
        self.tot = np.zeros(0, dtype=wide)
        self.diff = np.zeros(0, dtype=wide)
        self.bound = np.zeros(0, dtype=self.tables.c_bound.dtype)
        self.stable = np.zeros(0, dtype=np.bool_)
        self.margin = np.zeros(0, dtype=np.float64)

    def _widen_if_needed(self, p: int) -> None:
        if self.c_acc.dtype == np.int32 and self.lo > 0 and \
                float(self.bound.max()) * p / self.lo >= INT32_LIMIT:
            self.c_acc = self.tables.c_sum  # exact int64 table
            self._reset()

    def refresh(self, start: int) -> None:
        new = self.x[start:]
        self.packed = np.concatenate([self.packed[:start], pack_rows(new)])
        # int8 selector rows: a quarter of the memory traffic of int32
        self.sel = np.concatenate([self.sel[:start], (new > 0).astype(np.int8)])

    def __call__(self, p: int) -> bool:
        allowed = allowed_failures(self.criterion.threshold, p)
        return self.failures(p, allowed) <= allowed

    def successes(self, p: int) -> int:
        """How many patterns of the prefix p are fixed points: the whole check without an early
        stop. Its sums are kept, so counting at increasing P only adds the new columns (a retrieval
        curve, :mod:`capacity_cli.curves`)."""
        return p - self.failures(p, p)

    def failures(self, p: int, allowed: int) -> int:
        """Unstable patterns of the prefix p; once more than ``allowed`` are found the check may
        stop early and return any count above ``allowed``. A complete check (at most ``allowed``)
        becomes the state the next check extends."""
        self.ensure(p)
        if p <= self.lo:  # never happens inside largest_storable; recompute from scratch
            self._reset()
        self._widen_if_needed(p)
        t, n = self.tables, self.n
        if self._spare.shape[0] < p:  # grow geometrically: no fresh allocation on most checks
            self._spare = np.empty((max(p, 3 * self._spare.shape[0] // 2), n), self.c_acc.dtype)
        acc = self._spare[:p]
        tot = np.empty(p, dtype=t.c_sum.dtype)
        diff = np.empty(p, dtype=t.c_sum.dtype)
        bound = np.empty(p, dtype=t.c_bound.dtype)
        stable = np.zeros(p, dtype=np.int8)
        margin = np.empty(p, dtype=np.float64)
        # Old rows with the least slack first: an unstable prefix is then usually rejected after a
        # few rows. The order changes how soon a check stops, never what it decides.
        order = np.concatenate([np.argsort(self.margin, kind="stable"), np.arange(self.lo, p)])
        args = (self.packed, self.sel, n, self.c_acc, t.c_sum, t.c_diff, t.c_bound, t.exact, self.lo, p,
                self.acc, self.tot, self.diff, self.bound, allowed, order)
        outputs = (acc, tot, diff, bound, stable, margin)
        n_bad = _run_groups(extend_stability, extend_rows, args, outputs,
                            (p - self.lo) * (p + self.lo) * n)
        if n_bad > allowed:
            return n_bad
        if (stable == UNDECIDED).any():
            decide_undecided_rows(self.model, n, self.packed, self.sel, p, t.levels, stable)
            n_bad = int((stable == 0).sum())
            if n_bad > allowed:
                return n_bad
        # The sums just written become the state; the old state's buffer is the next spare.
        self._spare = self.acc.base if self.acc.base is not None else self.acc
        self.lo, self.acc, self.tot, self.diff, self.bound = p, acc, tot, diff, bound
        self.stable, self.margin = stable.astype(np.bool_), margin
        return n_bad


_UNVISITED = 3  # a row a check stopped before deciding


#: slack_first_order sorts this many of the old rows with the least slack to the front.
SLACK_HEAD = 256


def slack_first_order(margin: np.ndarray, suspects: np.ndarray, p: int) -> np.ndarray:
    """A permutation of range(p) to check rows in: the suspects (rows that failed the last, larger
    check: in a bisection they usually fail again, so an unstable prefix is rejected after a row or
    two), then the SLACK_HEAD old rows with the smallest ``margin`` (ascending), then the other
    old rows and the new ones (len(margin) to p) in index order, which keeps a successful check's
    memory traffic sequential. The order changes how soon a check stops, never what it decides."""
    lo = len(margin)
    head = np.argsort(margin, kind="stable") if lo <= SLACK_HEAD else \
        np.argpartition(margin, SLACK_HEAD - 1)[:SLACK_HEAD]
    head = head[np.argsort(margin[head], kind="stable")]
    first = np.concatenate([suspects, head[~np.isin(head, suspects)]]).astype(np.int64)
    rest = np.ones(p, dtype=np.bool_)
    rest[first] = False
    return np.concatenate([first, np.flatnonzero(rest)])


class PrunedStabilityChecker(StabilityChecker):
    """is_stored(P) for ``stable`` with certified pruning (kernels.pruned): the exp energy's check,
    deciding most rows from their near patterns and the level histogram of the far ones.

    Same decisions as :class:`StabilityChecker` (both are exact); the state kept between checks is
    each row's level histogram, its A_near and its cut instead of the full sums.
    """

    def __init__(self, model: BinaryDAM, criterion: Stable, source: PatternSource, n: int,
                 p_limit: int):
        super().__init__(model, criterion, source, n, p_limit)
        if model.name != "exp":  # the bound needs c(m) >= 0, and float tables
            raise ValueError(f"certified pruning is for the exp energy, not {model.label}")

    def _reset(self) -> None:
        super()._reset()
        self.hist = np.zeros((0, self.n + 1), dtype=np.int32)
        self.anear = np.zeros((0, self.n), dtype=np.float64)
        self.cut = np.zeros(0, dtype=np.int64)
        self.sums = np.zeros((0, 3), dtype=np.float64)  # per row (min_i G_i, near magnitude, count)
        self.suspects = np.zeros(0, dtype=np.int64)  # rows proven unstable by the last failed check

    def __call__(self, p: int) -> bool:
        self.ensure(p)
        if p <= self.lo:
            self._reset()
        t, n = self.tables, self.n
        hist = np.empty((p, n + 1), dtype=np.int32)
        anear = np.empty((p, n), dtype=np.float64)
        cut = np.empty(p, dtype=np.int64)
        sums = np.empty((p, 3), dtype=np.float64)
        stable = np.full(p, _UNVISITED, dtype=np.int8)
        margin = np.empty(p, dtype=np.float64)
        allowed = allowed_failures(self.criterion.threshold, p)
        order = slack_first_order(self.margin, self.suspects[self.suspects < p], p)
        args = (self.packed, self.sel, n, t.c_sum, t.c_diff, t.c_bound, self.lo, p,
                self.hist, self.anear, self.cut, self.sums, allowed, order)
        outputs = (hist, anear, cut, sums, stable, margin)
        n_bad = _run_groups(pruned_stability, pruned_rows, args, outputs,
                            (p - self.lo) * (p + self.lo) * 4)
        if n_bad > allowed:
            self.suspects = np.flatnonzero(stable == 0)
            return False
        if (stable == UNDECIDED).any():
            decide_undecided_rows(self.model, n, self.packed, self.sel, p, t.levels, stable)
            if int((stable == 0).sum()) > allowed:
                self.suspects = np.flatnonzero(stable == 0)
                return False
        self.lo, self.hist, self.anear, self.cut, self.sums = p, hist, anear, cut, sums
        self.stable, self.margin = stable.astype(np.bool_), margin
        return True


class DynamicsChecker(_PrefixCache):
    """is_stored(P) for ``retrieve`` and ``overlap``: relax every pattern of the prefix."""

    def __init__(self, model: BinaryDAM, criterion: Criterion, source: PatternSource, n: int,
                 p_limit: int, seed: int):
        super().__init__(source)
        self.model, self.criterion, self.n, self.p_limit = model, criterion, n, max(p_limit, 1)
        self.arith = gain_arithmetic(model, n, self.p_limit)
        self.seed = np.uint64(seed % 2**64)
        self.n_flip = cue_flips(criterion.noise, n)
        self.target = target_overlap(criterion, n)
        # Per pattern of the last stored prefix: final self-overlap, sweeps run, and whether the
        # dynamics converged before the sweep cap.
        self.final_overlap = np.zeros(0, dtype=np.int64)
        self.sweeps = np.zeros(0, dtype=np.int64)
        self.converged = np.zeros(0, dtype=np.bool_)
        # Update scheme and temperature (docs/theory.md section 15): the default (random, T = 0,
        # not overlap-mean) runs kernels.dynamics.relax_prefix, the others relax_prefix_scheme.
        self.scheme = UPDATE_SCHEMES.index(getattr(criterion, "update", "random"))
        self.temperature = float(getattr(criterion, "temperature", 0.0))
        self.window = criterion.sweeps if isinstance(criterion, OverlapMean) else 0
        self.default = self.scheme == 0 and self.temperature == 0 and self.window == 0
        self.unit = glauber_unit(model, n, self.arith.gain) if self.temperature > 0 else 1.0
        self.beta_shift = float(model.beta) if self.arith.shiftable else 0.0

    def refresh(self, start: int) -> None:
        self.xt = np.ascontiguousarray(self.x.T)  # O(P N), against O(P^2 N) per relaxation check

    def __call__(self, p: int) -> bool:
        allowed = allowed_failures(self.criterion.threshold, p)
        return self.failures(p, allowed) <= allowed

    def successes(self, p: int) -> int:
        """How many patterns of the prefix p succeed: every pattern relaxed, no early stop."""
        return p - self.failures(p, p)

    def failures(self, p: int, allowed: int) -> int:
        """Failing patterns of the prefix p; once more than ``allowed`` are found the relaxations
        may stop early and return any count above ``allowed``. The per-pattern outputs of a complete
        check (at most ``allowed``) are kept (final_overlap, sweeps, converged)."""
        if not self.default:
            return self._scheme_failures(p, allowed)
        self.ensure(p)
        final = np.zeros(p, dtype=np.int64)
        sweeps = np.zeros(p, dtype=np.int64)
        converged = np.zeros(p, dtype=np.bool_)
        needs_exact = np.zeros(p, dtype=np.bool_)
        a = self.arith
        args = (self.x, self.xt, p, a.gain, self.model.field, a.exact, a.shiftable, a.levels.table,
                a.levels.ratio_form,
                self.n_flip, self.target, self.criterion.max_sweeps, self.seed, allowed)
        outputs = (final, sweeps, converged, needs_exact)
        n_bad = _run_groups(relax_prefix, relax_rows, args, outputs, 2 * p * p * self.n)
        if n_bad > allowed:
            return n_bad  # outputs may be partial (early exit): keep those of the last stored prefix
        for nu in np.flatnonzero(needs_exact):
            final[nu], sweeps[nu], converged[nu] = self._relax_exactly(int(nu), p)
            if final[nu] < self.target:
                n_bad += 1
                if n_bad > allowed:
                    return n_bad
        self.final_overlap, self.sweeps, self.converged = final, sweeps, converged
        return n_bad

    def _scheme_args(self, p: int) -> tuple:
        a = self.arith
        return (self.x, self.xt, p, a.gain, self.model.field, a.exact, a.shiftable, a.levels.table,
                a.levels.ratio_form)

    def _scheme_params(self) -> tuple:
        return (self.scheme, self.temperature, self.unit, self.beta_shift, self.window)

    def _scheme_failures(self, p: int, allowed: int) -> int:
        """:meth:`failures` under a non-default scheme, a temperature or overlap-mean
        (kernels.dynamics.relax_prefix_scheme)."""
        self.ensure(p)
        score = np.zeros(p, dtype=np.int64)
        sweeps = np.zeros(p, dtype=np.int64)
        converged = np.zeros(p, dtype=np.bool_)
        needs_exact = np.zeros(p, dtype=np.bool_)
        cycled = np.zeros(p, dtype=np.bool_)
        args = self._scheme_args(p) + (self.n_flip, self.target, self.criterion.max_sweeps, self.seed) \
            + self._scheme_params() + (allowed,)
        outputs = (score, sweeps, converged, needs_exact, cycled)
        n_bad = _run_groups(relax_prefix_scheme, relax_rows_scheme, args, outputs,
                            2 * p * p * self.n * (2 if self.window else 1))
        if n_bad > allowed:
            return n_bad
        for nu in np.flatnonzero(needs_exact):
            score[nu], sweeps[nu], converged[nu], cycled[nu] = self._relax_exactly_scheme(int(nu), p)
            if score[nu] < self.target or cycled[nu]:
                n_bad += 1
                if n_bad > allowed:
                    return n_bad
        self.final_overlap, self.sweeps, self.converged = score, sweeps, converged
        return n_bad

    def _relax_exactly_scheme(self, nu: int, p: int) -> tuple[int, int, bool, bool]:
        """:meth:`_relax_exactly` for :meth:`_scheme_failures` (only at T = 0: Glauber decisions are
        float64)."""
        forced: list[int] = []
        pending = np.zeros(self.n + 3, dtype=np.int64)
        while True:
            score, used, done, needs, cycled = relax_pattern_scheme(
                nu, *self._scheme_args(p),
                np.array(forced, dtype=np.int8), self.n_flip, self.seed, self.criterion.max_sweeps,
                pending, *self._scheme_params())
            if not needs:
                return int(score), int(used), bool(done), bool(cycled)
            forced.append(int(exact_signs(self.model, self.n, pending)[0]))

    def diagnostics(self, p: int) -> tuple[bool | None, int] | None:
        """(every pattern converged before the sweep cap, most sweeps any pattern used) for the last
        stored prefix when it is the prefix of p patterns, else None. At T > 0 there is no fixed
        point to reach: converged is None."""
        if self.sweeps.size != p:
            return None
        converged = None if self.temperature > 0 else bool(self.converged.all())
        return converged, int(self.sweeps.max())

    def _relax_exactly(self, nu: int, p: int) -> tuple[int, int, bool]:
        """Relax pattern nu over the prefix p, computing in exact arithmetic (level 3) every decision
        that the float sums and level counts leave open: each one reruns the (deterministic)
        relaxation with the exact signs found so far."""
        a = self.arith
        forced: list[int] = []
        pending = np.zeros(self.n + 3, dtype=np.int64)
        while True:
            final, used, done, needs = relax_pattern(
                nu, self.x, self.xt, p, a.gain, self.model.field, a.exact, a.shiftable, a.levels.table,
                a.levels.ratio_form, np.array(forced, dtype=np.int8), self.n_flip, self.seed,
                self.criterion.max_sweeps, pending)
            if not needs:
                return int(final), int(used), bool(done)
            forced.append(int(exact_signs(self.model, self.n, pending)[0]))


def make_checker(model: BinaryDAM, criterion: Criterion, source: PatternSource, n: int,
                 p_limit: int, seed: int = 0) -> Callable[[int], bool]:
    """The is_stored(P) function for this model and criterion over a pattern source."""
    if isinstance(criterion, Stable):
        if model.name == "exp":
            return PrunedStabilityChecker(model, criterion, source, n, p_limit)
        return StabilityChecker(model, criterion, source, n, p_limit)
    return DynamicsChecker(model, criterion, source, n, p_limit, seed)


def capacity_of_sequence(model, criterion, source: PatternSource, n: int, p_limit: int, seed: int = 0,
                         checker_factory: Callable | None = None,
                         before_check: Callable[[int], None] | None = None) -> SearchOutcome:
    """Largest storable prefix of the sequence ``source`` (source(p) -> its first p rows), with the
    checker ``checker_factory(model, criterion, source, n, limit, seed)`` (the binary family's
    :func:`make_checker` by default; any family's ``Family.checker``).

    ``source(p)`` may return fewer than p rows when the sequence ends (a supplied file, or a
    min-distance generator that gave up); the search then restarts with the limit set to what exists,
    and a stored end of the sequence is reported as capped. ``before_check(p)``, when given, runs
    before each check (measure.work_guard: it may refuse to go on).
    """
    factory = make_checker if checker_factory is None else checker_factory
    limit = p_limit
    while True:
        checker = factory(model, criterion, source, n, limit, seed)

        def is_stored(p: int, checker=checker) -> bool:
            if before_check is not None:
                before_check(p)
            rows = len(source(p))
            if rows < p:
                raise _SequenceEnded(rows)
            return checker(p)

        try:
            outcome = largest_storable(is_stored, limit)
        except _SequenceEnded as end:
            limit = end.rows
            continue
        diagnostics = getattr(checker, "diagnostics", None)
        if diagnostics is not None and outcome.p_max > 0:
            found = diagnostics(outcome.p_max)
            if found is not None:
                outcome = replace(outcome, converged=found[0], sweeps=found[1])
        outcome_of = getattr(checker, "outcome", None)
        if outcome_of is not None:
            outcome = replace(outcome, extra=outcome_of(outcome.p_max) or None)
        return outcome


class _SequenceEnded(Exception):
    def __init__(self, rows: int):
        super().__init__(rows)
        self.rows = rows


@dataclass(frozen=True)
class DegreeOutcome:
    """Result of the degree search: the smallest degree storing the set, or None up to max_degree."""

    degree: int | None
    checks: int


def smallest_storing_degree(patterns: np.ndarray, criterion: Criterion, model_name: str = "poly",
                            max_degree: int = 30, seed: int = 0) -> DegreeOutcome:
    """Smallest a in [2, max_degree] such that the ``model_name`` energy of degree a stores all of
    ``patterns`` under ``criterion`` (Bielmeier & Friedland's earlier capacity measure).

    Degrees are tried in increasing order (storage need not be monotone in a for every set, so no
    bisection); None when no degree up to ``max_degree`` stores the set.
    """
    x = np.ascontiguousarray(patterns, dtype=np.int8)
    p, n = x.shape
    for degree in range(2, max_degree + 1):
        model = BinaryDAM(model_name, degree=degree)
        if make_checker(model, criterion, lambda q: x[:q], n, p, seed)(p):
            return DegreeOutcome(degree, degree - 1)
    return DegreeOutcome(None, max_degree - 1)
