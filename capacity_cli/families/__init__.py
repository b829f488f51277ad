"""Model families: one module per family, one registry.

A family declares, in its own module (``capacity_cli/families/<name>``), everything hopcap needs to
measure its models: the ``--model`` and ``--criterion`` names it answers to, the options it adds to
``hopcap measure`` and to batch tables, the CSV configuration columns it writes and how a row reads
back into a model and a criterion, the checker (``is_stored(P)``) the capacity search calls, the
theory laws drawn beside its measurements, and the axes its capacity grows on.

Adding a family is its module (plus its kernels and tests) and one name in :data:`FAMILY_MODULES`;
options, CSV schema, resume keys, summaries, plots and batch tables pick it up from here.

| family  | models                         | module              | conventions              |
|---------|--------------------------------|---------------------|--------------------------|
| binary  | hebbian, poly, rectpoly, exp   | families/binary.py  | docs/theory.md 1-4       |
| softmax | softmax                        | families/softmax/   | docs/theory.md 5 (modern.md A) |
| rf      | rf                             | families/rf/        | docs/theory.md 9 (modern.md C) |
| pairwise | pairwise (--rule: learning rule)  | families/pairwise/ | docs/theory.md 11 (modern.md E) |
| kernel  | kernel                         | families/kernel/    | docs/theory.md 10 (modern.md B) |

Family declarations import nothing heavy (numpy, numba) at import time, so ``hopcap --help`` stays
fast; their functions import the implementation when called.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from ..errors import HopcapError

#: The registry: module names under capacity_cli.families, each defining ``FAMILY``.
FAMILY_MODULES = ("binary", "softmax", "rf", "pairwise", "kernel")


@dataclass(frozen=True)
class Family:
    """What one model family declares (see the module docstring).

    build(values) -> (models, criterion): from parsed ``hopcap measure`` options (a dict over
        every option name; the family reads the shared ones and its own).
    describe(model, criterion, n) -> dict: the configuration columns of a result row that the
        family owns (``model``, ``criterion``, and every name in ``columns``).
    read(row) -> (model, criterion): the inverse of ``describe`` for a parsed CSV row.
    checker(model, criterion, source, n, p_limit, seed, kind) -> is_stored(P), for prefixes of
        ``source`` holding patterns of ``kind``; it may offer ``diagnostics(p) -> (converged, sweeps)``
        for the last stored prefix.
        It may also offer ``outcome(p_max) -> dict`` of ``outcome_columns`` for the search's end.
    laws(model, criterion) -> [theory.Law]: the theory curves to draw, headline first.
    growth(model) -> "power" (log-log axes, P ~ N^k) or "exp" (log2 P linear in N).
    default_p_cap(values) -> int or None: the family's --p-max when none is given (e.g. a model
        whose checks cost O(P^2) per learning step).
    An option object may appear in two families' ``options`` (a family reusing another's).
    """

    name: str
    models: tuple[str, ...]
    criteria: tuple[str, ...]
    default_criterion: str
    kinds: tuple[str, ...]  # pattern kinds it can store (datasets.PATTERN_KINDS)
    options: tuple  # options.Option declarations added to measure and batch tables
    columns: Mapping[str, str]  # CSV configuration column -> kind (results.COLUMN_KINDS)
    legacy: Mapping[str, Callable[[dict], Any]]  # values for files written before a column existed
    build: Callable[[Mapping[str, Any]], tuple[list, Any]]
    describe: Callable[[Any, Any, int], dict]
    read: Callable[[Mapping[str, Any]], tuple[Any, Any]]
    checker: Callable[..., Callable[[int], bool]]
    laws: Callable[[Any, Any], list]
    default_sizes: Callable[[Any], list[int]]
    growth: Callable[[Any], str]
    #: option name -> the criteria it applies to (options not listed apply to every criterion)
    criterion_options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: names of other families' options this family reads too (same meaning and CSV column)
    borrowed: tuple[str, ...] = ()
    #: result columns the family's outcomes fill (name -> kind): a checker's ``outcome(p_max)`` dict,
    #: or the ``extra`` of a recency outcome
    outcome_columns: Mapping[str, str] = field(default_factory=dict)
    #: recency(model, criterion, source, n, length, seed) -> an outcome with ``extra`` (for
    #: ``--search recency``: learn a stream of ``length`` patterns, count the newest retrievable);
    #: None: the family has no such search
    recency: Callable[..., Any] | None = None
    #: values -> the --p-max used when the user gives none (None: the shared default)
    default_p_cap: Callable[[Mapping[str, Any]], int | None] | None = None


@functools.cache
def families() -> tuple[Family, ...]:
    """Every registered family, in registry order."""
    return tuple(import_module(f"{__name__}.{name}").FAMILY for name in FAMILY_MODULES)


def family_of(model_name: str) -> Family:
    """The family that owns ``--model model_name``."""
    for family in families():
        if model_name in family.models:
            return family
    names = [m for f in families() for m in f.models]
    raise HopcapError(f"unknown model {model_name!r}; choose one of {', '.join(names)}")


def all_models() -> tuple[str, ...]:
    return tuple(m for f in families() for m in f.models)


def all_criteria() -> tuple[str, ...]:
    """Every criterion name, once (families may share the binary family's criteria)."""
    return tuple(dict.fromkeys(c for f in families() for c in f.criteria))


def family_laws(family: Family, model, criterion) -> list:
    """``family.laws(model, criterion)``, or no laws where their constants leave float64."""
    try:
        return family.laws(model, criterion)
    except (ValueError, OverflowError):
        return []


def family_columns() -> dict[str, str]:
    """Every family's CSV configuration columns with their kinds, in registry order."""
    out: dict[str, str] = {}
    for family in families():
        out.update(family.columns)
    return out


def family_outcome_columns() -> dict[str, str]:
    """Every family's outcome (result) columns with their kinds, in registry order."""
    out: dict[str, str] = {}
    for family in families():
        out.update(family.outcome_columns)
    return out


def family_legacy() -> dict[str, Callable[[dict], Any]]:
    out: dict[str, Callable[[dict], Any]] = {}
    for family in families():
        out.update(family.legacy)
    return out


def misplaced_options(family: Family, criterion: str, given: set[str]) -> str | None:
    """A one-line complaint about the first option in ``given`` (the options the user set) that
    belongs to another family or does not apply to ``criterion``; None when all apply."""
    own = {o.name for o in family.options} | set(family.borrowed)
    for other in families():
        for option in other.options:
            if option.name in given and option.name not in own:
                owners = [f.name for f in families() if any(o.name == option.name for o in f.options)]
                whose = f"the {owners[0]} family" if len(owners) == 1 else \
                    f"the {', '.join(owners[:-1])} and {owners[-1]} families"
                return f"{option.flag_name} does not apply to the {family.name} family's models " \
                       f"(it is an option of {whose})"
    for name in sorted(given):
        allowed = family.criterion_options.get(name)
        if allowed is not None and criterion not in allowed:
            return f"--{name.replace('_', '-')} does not apply to --criterion {criterion} (only to " \
                   f"{', '.join(allowed)})"
    return None
