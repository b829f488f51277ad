"""The binary family: dense associative memories E(y) = -sum_mu F(xi_mu . y) on +-1 states
(docs/theory.md sections 1-4): hebbian, poly, rectpoly and exp, under the energy or the field rule.

The implementation is the package's original room: models.py (gain tables, exact decisions),
criteria.py, search.py (checkers) and kernels/ (bits, stability, dynamics, exact). This module
only declares the family to the registry (options, CSV columns, how rows read back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ..errors import HopcapError
from ..limits import DEFAULT_MAX_SWEEPS, MAX_DEGREE_MAX, MAX_SWEEPS_MAX
from ..options import Integer, ListOf, Option, Real
from . import Family

MODELS = ("hebbian", "poly", "rectpoly", "exp")
CRITERIA = ("stable", "retrieve", "overlap")
RULES = ("energy", "field")

OPTIONS = (
    Option("degree", ListOf(Integer(2, MAX_DEGREE_MAX)), [3], "Degree a of poly/rectpoly (a list "
           "sweeps).", sweep=True),
    Option("rule", click.Choice(RULES), "energy", "Binary models: energy (flip when E strictly "
           "drops) or field (y_i <- sign(sum_mu xi_mu,i F'(xi_mu . y)), Krotov & Hopfield 2021); "
           "ties keep the state."),
    Option("min_overlap", Real(-1, 1), 0.95, "overlap criterion: required m/N (> -1: "
           "at -1 every state passes)."),
    Option("max_sweeps", Integer(1, MAX_SWEEPS_MAX), DEFAULT_MAX_SWEEPS, "Sweep cap of the binary "
           "dynamics (retrieve, overlap)."),
)
COLUMNS = {"degree": "int", "rule": "text", "min_overlap": "float", "max_sweeps": "int"}


def _legacy_rule(row: dict):
    return "energy" if row.get("model") in MODELS else None


#: Files written before the field rule existed hold energy-rule rows.
LEGACY = {"rule": _legacy_rule}

#: N lists of --n when none is given: sizes that finish in seconds for each model.
DEFAULT_SIZES = {
    ("hebbian", None): [100, 200, 400, 800],
    ("poly", 2): [64, 128, 256, 512],
    ("poly", 3): [32, 64, 128, 256],
    ("poly", 4): [16, 32, 48, 64],
    ("exp", None): [8, 10, 12, 14, 16, 18],
}


def default_sizes(model) -> list[int]:
    """The N list used when no N is given: sizes that finish in seconds for this model."""
    key = (model.name, None if model.name in ("hebbian", "exp") else min(model.degree or 3, 4))
    return DEFAULT_SIZES.get(key, DEFAULT_SIZES[("poly", 4)])


def _number(beta) -> float:
    try:
        return float(beta)
    except (TypeError, ValueError):
        raise HopcapError(f"--beta {beta}: a rule in N applies to --model softmax only; exp takes a "
                          "number") from None


def build(v: Mapping[str, Any]) -> tuple[list, Any]:
    """Models (one per --degree or --beta value) and the criterion from parsed options."""
    from ..criteria import make_criterion
    from ..models import BinaryDAM

    criterion = make_criterion(v.get("criterion") or "stable", threshold=v["threshold"],
                               noise=v["noise"], min_overlap=v["min_overlap"],
                               max_sweeps=v["max_sweeps"])
    name, rule = v["model"], v["rule"] or "energy"  # None: --rule not given (shared with pairwise)
    if name in ("poly", "rectpoly"):
        return [BinaryDAM(name, degree=d, rule=rule) for d in v["degree"]], criterion
    if name == "exp":
        return [BinaryDAM(name, beta=_number(b), rule=rule) for b in v["beta"]], criterion
    return [BinaryDAM(name, rule=rule)], criterion


def describe(model, criterion, n: int) -> dict:
    """The binary configuration columns of a result row."""
    dynamics = criterion.name in ("retrieve", "overlap")
    return {
        "model": model.name,
        "degree": model.degree,
        "beta": model.beta,
        "rule": model.rule,
        "criterion": criterion.name,
        "noise": criterion.noise if dynamics else None,
        "min_overlap": getattr(criterion, "min_overlap", None),
        "threshold": criterion.threshold,
        "max_sweeps": criterion.max_sweeps if dynamics else None,
    }


def read(row: Mapping[str, Any]) -> tuple[Any, Any]:
    """(model, criterion) of a parsed row (blank cells are None or NaN)."""
    from ..criteria import make_criterion
    from ..models import BinaryDAM
    from ..results import is_blank

    def cell(name, default=None):
        value = row.get(name)
        return default if is_blank(value) else value

    degree = cell("degree")
    model = BinaryDAM(row["model"], degree=None if degree is None else int(degree), beta=cell("beta"),
                      rule=cell("rule", "energy"))
    noise = cell("noise")
    criterion = make_criterion(row["criterion"], threshold=float(cell("threshold", 1.0)),
                               noise=None if noise is None else float(noise),
                               min_overlap=float(cell("min_overlap", 0.95)),
                               max_sweeps=int(cell("max_sweeps", DEFAULT_MAX_SWEEPS)))
    return model, criterion


def checker(model, criterion, source, n: int, p_limit: int, seed: int = 0, kind: str = "pm1"):
    from ..search import make_checker

    return make_checker(model, criterion, source, n, p_limit, seed)


def laws(model, criterion) -> list:
    from ..theory import laws_for

    return laws_for(model, criterion)


def growth(model) -> str:
    return "exp" if model.name == "exp" else "power"


FAMILY = Family(
    name="binary", models=MODELS, criteria=CRITERIA, default_criterion="stable", kinds=("pm1",),
    options=OPTIONS, columns=COLUMNS, legacy=LEGACY, build=build, describe=describe, read=read,
    checker=checker, laws=laws, default_sizes=default_sizes, growth=growth,
    criterion_options={"noise": ("retrieve", "overlap"), "min_overlap": ("overlap",),
                       "max_sweeps": ("retrieve", "overlap")},
)
