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
from collections.abc import Callable, Iterable, Mapping
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
    #: check_bytes(model, criterion, n, p) -> the bytes a check of p patterns holds, for the memory
    #: check before a run (None: the binary family's stability check, measure.binary_check_bytes)
    check_bytes: Callable[..., int] | None = None
    #: search_work(model, criterion, n, p) -> the multiply-adds of one trial's search when it checks
    #: every P of the doubling search up to p (None: no estimate, e.g. pruned checks whose cost
    #: depends on the patterns). A command whose trials need more than limits.WORK_MAX is refused:
    #: before it starts when stored_floor says the search will get that far, else before the check
    #: that would pass the budget (measure.work_guard)
    search_work: Callable[..., float] | None = None
    #: stored_floor(model, criterion, n, kind) -> a P the model stores for certain (or nearly), so
    #: the search reaches min(--p-max, it) (None: 0)
    stored_floor: Callable[..., float] | None = None


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


def _join(items, word: str = "and") -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


#: How a ``source`` setting (options.Option.applies) is named in messages.
SOURCE_NAMES = {"generated": "generated patterns", "patterns": "--patterns", "dataset": "--dataset"}


def pattern_source(values: Mapping[str, Any]) -> str:
    """The ``source`` setting of parsed options: a given set (``patterns``, ``dataset``) or
    ``generated`` patterns."""
    if values.get("patterns") is not None:
        return "patterns"
    return "dataset" if values.get("dataset") is not None else "generated"


def option_settings(family: Family, values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that options' ``applies`` declarations speak of, for ``hopcap measure``'s
    parsed ``values`` (every option name; unset ones at their table defaults): the values, with the
    family's own options at the family's defaults where unset, other families' options left out,
    the criterion (the family's default where unset) and the pattern ``source``."""
    own = {o.name: o for o in family.options}
    foreign = {o.name for f in families() for o in f.options} - set(own) - set(family.borrowed)
    out = {name: value for name, value in values.items() if name not in foreign}
    for name, option in own.items():
        if out.get(name) is None:
            out[name] = option.default
    out["criterion"] = values.get("criterion") or family.default_criterion
    out["source"] = pattern_source(values)
    return out


def misplaced_options(family: Family | None, settings: Mapping[str, Any], given: Iterable[str],
                      options: Iterable) -> str | None:
    """A one-line complaint about the first option in ``given`` (the options the user set; never
    defaults) that does not apply where it was given; None when all apply.

    The one check of every command (measure, curve, predict, census, gen) and batch-table row,
    reading the declarations: ``options`` (the command's options.Option table, with each option's
    ``applies``: setting -> values, checked against ``settings``, e.g. the model, the search, the
    pattern source), the ``family`` of the model (None: no model; it owns its options and says
    which criteria each serves; an option another family owns does not apply). A setting that is
    not in ``settings`` (the command has none) is not checked.
    """
    from ..options import Given

    given, options = set(given), tuple(options)
    table = [o for o in options if o.name in given]
    flags = {o.name: o.short or o.flag_name for o in options}

    def flag(name: str) -> str:
        return flags.get(name) or "--" + name.replace("_", "-")

    own = set() if family is None else {o.name for o in family.options} | set(family.borrowed)
    for option in table:
        name, this = option.name.replace("_", "-"), flag(option.name)
        models = option.applies.get("model")
        owners = [f for f in families() if any(o.name == option.name for o in f.options)]
        if family is not None and owners and option.name not in own:
            if models is not None:  # the models it serves say more than their families
                return f"{this} does not apply to --model {settings.get('model')} ({name} belongs " \
                       f"to {_join(models)})"
            whose = _join([f.name for f in owners])
            return f"{this} does not apply to --model {settings.get('model')} (it is an option of " \
                   f"the {whose} famil{'y' if len(owners) == 1 else 'ies'})"
        allowed = None if family is None else family.criterion_options.get(option.name)
        if allowed is not None and "criterion" in settings and settings["criterion"] not in allowed:
            return f"{this} does not apply to --criterion {settings['criterion']} (only to " \
                   f"{', '.join(allowed)})"
        for setting, allowed in option.applies.items():
            if setting not in settings:
                continue
            value = settings[setting]
            if isinstance(allowed, Given):
                if not allowed.matches(value):
                    return f"{this} needs {flag(setting)}" + (f" {allowed.what}" if allowed.what else "")
                continue
            if value in allowed:
                continue
            if setting == "model":
                return f"{this} does not apply to --model {value} ({name} belongs to {_join(allowed)})"
            if setting == "source":
                where = [SOURCE_NAMES.get(a, a) for a in allowed]
                given_set = ", not a given set" if "generated" in allowed and value != "generated" else ""
                return f"{this} does not apply to {SOURCE_NAMES.get(value, value)} (only to " \
                       f"{_join(where, 'or')}{given_set})"
            if tuple(allowed) == (None,):
                return f"{this} does not apply to {flag(setting)} {value} (only without {flag(setting)})"
            return f"{this} does not apply to {flag(setting)} {value} (only to {flag(setting)} " \
                   f"{_join(allowed, 'or')})"
    return None


def refuse_misplaced(family: Family | None, settings: Mapping[str, Any], given: Iterable[str],
                     options: Iterable) -> None:
    """Raise HopcapError with :func:`misplaced_options`' complaint, if any."""
    complaint = misplaced_options(family, settings, given, options)
    if complaint:
        raise HopcapError(complaint)
