"""Capacity criteria (theory.md section 2): what "stored" means for one pattern and for a set.

A set of P patterns is stored when at least ``threshold * P`` of its patterns succeed.

| criterion | one pattern succeeds when                                                        |
|-----------|----------------------------------------------------------------------------------|
| stable    | it is a fixed point: no single flip strictly lowers the energy                   |
| retrieve  | from a cue with round(noise N) distinct flipped bits, the dynamics end exactly on it |
| overlap   | from the pattern (or a noisy cue), the dynamics end with overlap >= min_overlap N |
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

from .errors import HopcapError
from .limits import DEFAULT_MAX_SWEEPS, MAX_SWEEPS_MAX

CRITERIA = ("stable", "retrieve", "overlap")


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
    name = "retrieve"

    def __post_init__(self) -> None:
        _check_threshold(self.threshold)
        _check_noise(self.noise)
        _check_sweeps(self.max_sweeps)


@dataclass(frozen=True)
class Overlap:
    """Dynamics from the pattern (or a cue) end with overlap m / N >= min_overlap."""

    min_overlap: float = 0.95
    noise: float = 0.0
    threshold: float = 1.0
    max_sweeps: int = DEFAULT_MAX_SWEEPS
    name = "overlap"

    def __post_init__(self) -> None:
        _check_threshold(self.threshold)
        _check_noise(self.noise)
        _check_sweeps(self.max_sweeps)
        if not (-1.0 <= self.min_overlap <= 1.0):  # NaN fails too
            raise HopcapError(f"--min-overlap must be in (-1, 1], got {self.min_overlap}")
        if self.min_overlap == -1.0:
            raise HopcapError("--min-overlap -1 passes every final state (every overlap is >= -N), "
                              "so every P would be stored; give a value in (-1, 1]")


Criterion = Stable | Retrieve | Overlap


def make_criterion(name: str, *, threshold: float = 1.0, noise: float | None = None,
                   min_overlap: float = 0.95, max_sweeps: int = DEFAULT_MAX_SWEEPS) -> Criterion:
    """Build a criterion from CLI-style options (``noise`` None: 0.1 for retrieve, 0 for overlap)."""
    _check_sweeps(max_sweeps)  # for every criterion: the option is accepted with each
    if name == "stable":
        return Stable(threshold=threshold)
    if name == "retrieve":
        return Retrieve(noise=0.1 if noise is None else noise, threshold=threshold,
                        max_sweeps=max_sweeps)
    if name == "overlap":
        return Overlap(min_overlap=min_overlap, noise=0.0 if noise is None else noise,
                       threshold=threshold, max_sweeps=max_sweeps)
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


def target_overlap(criterion: Retrieve | Overlap, n: int) -> int:
    """The final self-overlap a pattern must reach: N for retrieve, ceil(min_overlap N) for overlap."""
    if isinstance(criterion, Retrieve):
        return n
    return math.ceil(criterion.min_overlap * n - 1e-9)
