"""Capacity criteria (theory.md section 2): what "stored" means for one pattern and for a set.

A set of P patterns is stored when at least ``threshold * P`` of its patterns succeed.

| criterion | one pattern succeeds when                                                        |
|-----------|----------------------------------------------------------------------------------|
| stable    | it is a fixed point: no single flip strictly lowers the energy                   |
| retrieve  | from a cue with round(noise N) distinct flipped bits, the dynamics end exactly on it |
| overlap   | from the pattern (or a noisy cue), the dynamics end with overlap >= min_overlap N |
| overlap-mean | the mean overlap over S sweeps, after S sweeps of burn-in, is >= min_overlap N |

The dynamics criteria take an update scheme (``update``: random, sequential, sync; theory.md section
15); ``overlap`` and ``overlap-mean`` also a temperature (``temperature`` T > 0: Glauber dynamics).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

from .errors import HopcapError
from .limits import DEFAULT_MAX_SWEEPS, MAX_SWEEPS_MAX

#: Default S of overlap-mean (S sweeps of burn-in, then the mean over S sweeps).
DEFAULT_MEAN_SWEEPS = 20

CRITERIA = ("stable", "retrieve", "overlap", "overlap-mean")
#: Update schemes of the binary and pairwise dynamics (theory.md section 15); random is the default.
UPDATE_SCHEMES = ("random", "sequential", "sync")


def _check_threshold(threshold: float) -> None:
    if isinstance(threshold, bool) or not (0.0 < threshold <= 1.0):  # NaN fails too
        raise HopcapError(f"--threshold must be in (0, 1], got {threshold}")


def _check_noise(noise: float) -> None:
    if isinstance(noise, bool) or not (0.0 <= noise <= 0.5):
        raise HopcapError(f"--noise must be in [0, 0.5], got {noise}")


def _check_sweeps(max_sweeps: int) -> None:
    if isinstance(max_sweeps, bool) or int(max_sweeps) != max_sweeps or \
            not (1 <= max_sweeps <= MAX_SWEEPS_MAX):
        raise HopcapError(f"--max-sweeps must be an integer in [1, {MAX_SWEEPS_MAX}], got {max_sweeps}")


def _check_update(update: str) -> None:
    if update not in UPDATE_SCHEMES:
        raise HopcapError(f"unknown --update {update!r}; choose one of {', '.join(UPDATE_SCHEMES)}")


def _check_temperature(temperature: float) -> None:
    if isinstance(temperature, bool) or not (0.0 <= temperature < math.inf):  # NaN fails too
        raise HopcapError(f"--temperature must be a finite number >= 0, got {temperature}")


def _check_min_overlap(min_overlap: float) -> None:
    if not (-1.0 <= min_overlap <= 1.0):  # NaN fails too
        raise HopcapError(f"--min-overlap must be in (-1, 1], got {min_overlap}")
    if min_overlap == -1.0:
        raise HopcapError("--min-overlap -1 passes every final state (every overlap is >= -N), "
                          "so every P would be stored; give a value in (-1, 1]")


@dataclass(frozen=True)
class Stable:
    """Every (or a ``threshold`` fraction of) stored pattern is a fixed point."""

    threshold: float = 1.0
    name = "stable"

    def __post_init__(self) -> None:
        _check_threshold(self.threshold)


@dataclass(frozen=True)
class Retrieve:
    """Exact retrieval from a cue with round(noise * N) distinct random bits flipped."""

    noise: float = 0.1
    threshold: float = 1.0
    max_sweeps: int = DEFAULT_MAX_SWEEPS
    update: str = "random"
    name = "retrieve"
    temperature = 0.0  # exact retrieval is a zero-temperature question

    def __post_init__(self) -> None:
        _check_threshold(self.threshold)
        _check_noise(self.noise)
        _check_sweeps(self.max_sweeps)
        _check_update(self.update)


@dataclass(frozen=True)
class Overlap:
    """Dynamics from the pattern (or a cue) end with overlap m / N >= min_overlap."""

    min_overlap: float = 0.95
    noise: float = 0.0
    threshold: float = 1.0
    max_sweeps: int = DEFAULT_MAX_SWEEPS
    update: str = "random"
    temperature: float = 0.0
    name = "overlap"

    def __post_init__(self) -> None:
        _check_threshold(self.threshold)
        _check_noise(self.noise)
        _check_sweeps(self.max_sweeps)
        _check_min_overlap(self.min_overlap)
        _check_update(self.update)
        _check_temperature(self.temperature)


@dataclass(frozen=True)
class OverlapMean:
    """The mean overlap (1/S) sum_s m(s) / N over the S sweeps after S sweeps of burn-in (2 S sweeps
    in all, m(s) the self-overlap after sweep s) is >= min_overlap: the thermal retrieval test of
    Amit, Gutfreund & Sompolinsky (1987), at any temperature."""

    min_overlap: float = 0.95
    noise: float = 0.0
    threshold: float = 1.0
    sweeps: int = DEFAULT_MEAN_SWEEPS
    update: str = "random"
    temperature: float = 0.0
    name = "overlap-mean"

    def __post_init__(self) -> None:
        _check_threshold(self.threshold)
        _check_noise(self.noise)
        if isinstance(self.sweeps, bool) or int(self.sweeps) != self.sweeps or \
                not (1 <= self.sweeps <= MAX_SWEEPS_MAX // 2):
            raise HopcapError(f"--sweeps must be an integer in [1, {MAX_SWEEPS_MAX // 2}], got "
                              f"{self.sweeps}")
        _check_min_overlap(self.min_overlap)
        _check_update(self.update)
        _check_temperature(self.temperature)

    @property
    def burn_in(self) -> int:
        """Sweeps run before the mean starts: S."""
        return self.sweeps

    @property
    def max_sweeps(self) -> int:
        """Sweeps run in all: burn-in S plus the S averaged."""
        return 2 * self.sweeps


Criterion = Stable | Retrieve | Overlap | OverlapMean


def make_criterion(name: str, *, threshold: float = 1.0, noise: float | None = None,
                   min_overlap: float = 0.95, max_sweeps: int = DEFAULT_MAX_SWEEPS,
                   update: str | None = None, temperature: float | None = None,
                   sweeps: int | None = None) -> Criterion:
    """Build a criterion from CLI-style options (``noise`` None: 0.1 for retrieve, 0 for overlap;
    ``update`` None: random; ``temperature`` None: 0; ``sweeps`` None: DEFAULT_MEAN_SWEEPS)."""
    _check_sweeps(max_sweeps)  # for every criterion: the option is accepted with each
    update = "random" if update is None else update
    _check_update(update)
    temperature = 0.0 if temperature is None else temperature
    _check_temperature(temperature)
    if temperature > 0 and name not in ("overlap", "overlap-mean"):
        raise HopcapError(f"--temperature applies to --criterion overlap and overlap-mean only, not "
                          f"{name} (it has no finite-temperature dynamics)")
    if name == "stable":
        return Stable(threshold=threshold)
    if name == "retrieve":
        return Retrieve(noise=0.1 if noise is None else noise, threshold=threshold,
                        max_sweeps=max_sweeps, update=update)
    if name == "overlap":
        return Overlap(min_overlap=min_overlap, noise=0.0 if noise is None else noise,
                       threshold=threshold, max_sweeps=max_sweeps, update=update,
                       temperature=temperature)
    if name == "overlap-mean":
        return OverlapMean(min_overlap=min_overlap, noise=0.0 if noise is None else noise,
                           threshold=threshold, sweeps=DEFAULT_MEAN_SWEEPS if sweeps is None else sweeps,
                           update=update, temperature=temperature)
    raise HopcapError(f"unknown criterion {name!r}; choose one of {', '.join(CRITERIA)}")


def allowed_failures(threshold: float, p: int) -> int:
    """Largest number of failing patterns with success fraction (p - k) / p >= threshold.

    The threshold is read as the decimal it is written as (its shortest repr: 0.9 is 9/10, so 10
    patterns need 9 successes, not the 10 that float 0.9 * 10 = 9.000000000000002 would ask), in exact
    rational arithmetic; at least one pattern must succeed (threshold > 0).
    """
    needed = math.ceil(_exact_threshold(threshold) * p)
    return p - max(needed, 1)


@functools.lru_cache(maxsize=64)
def _exact_threshold(threshold: float) -> Fraction:
    return Fraction(repr(float(threshold)))


def cue_flips(noise: float, n: int) -> int:
    """round(noise * N), rounding halves up (theory.md: round(rho N) distinct bits)."""
    return int(math.floor(noise * n + 0.5))


def target_overlap(criterion: Retrieve | Overlap | OverlapMean, n: int) -> int:
    """The final self-overlap a pattern must reach: N for retrieve, ceil(min_overlap N) for overlap;
    for overlap-mean the sum of the S averaged overlaps, ceil(min_overlap N S)."""
    if isinstance(criterion, Retrieve):
        return n
    if isinstance(criterion, OverlapMean):
        return math.ceil(criterion.min_overlap * n * criterion.sweeps - 1e-9 * criterion.sweeps)
    return math.ceil(criterion.min_overlap * n - 1e-9)

