"""The binary family: dense associative memories E(y) = -sum_mu F(xi_mu . y) on +-1 states
(docs/theory.md sections 1-4): hebbian, poly, rectpoly and exp, under the energy or the field rule.

The implementation is the package's original room: models.py (gain tables, exact decisions),
criteria.py, search.py (checkers) and kernels/ (bits, stability, dynamics, exact). This module
only declares the family to the registry (options, CSV columns, how rows read back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from ..errors import HopcapError
from ..limits import DEFAULT_MAX_SWEEPS, MAX_DEGREE_MAX, MAX_SWEEPS_MAX
from ..options import Integer, ListOf, Option, Real
from . import Family

MODELS = ("hebbian", "poly", "rectpoly", "exp")
CRITERIA = ("stable", "retrieve", "overlap", "overlap-mean")
RULES = ("energy", "field")
UPDATES = ("random", "sequential", "sync")
#: The criteria that run dynamics, and those of them with a temperature.
DYNAMICS = ("retrieve", "overlap", "overlap-mean")
THERMAL = ("overlap", "overlap-mean")

OPTIONS = (
    Option("degree", ListOf(Integer(2, MAX_DEGREE_MAX)), [3], "Degree a of poly/rectpoly (a list "
           "sweeps).", sweep=True,
           applies={"model": ("poly", "rectpoly"), "search": ("p", "recency")}),
    Option("rule", click.Choice(RULES), "energy", "Binary models: energy (flip when E strictly "
           "drops) or field (y_i <- sign(sum_mu xi_mu,i F'(xi_mu . y)), Krotov & Hopfield 2021); "
           "ties keep the state."),
    Option("min_overlap", Real(-1, 1), 0.95, "overlap criterion: required m/N (> -1: "
           "at -1 every state passes)."),
    Option("max_sweeps", Integer(1, MAX_SWEEPS_MAX), DEFAULT_MAX_SWEEPS, "Sweep cap of the binary "
           "dynamics (retrieve, overlap)."),
    Option("update", click.Choice(UPDATES), "random", "Update scheme of the binary and pairwise "
           "dynamics: random (asynchronous, a random order per sweep), sequential (units in index "
           "order), sync (all units at once; a 2-cycle fails, not converged). docs/theory.md 15."),
    Option("temperature", Real(0, None), 0.0, "overlap, overlap-mean: Glauber dynamics at T (unit i "
           "flips with probability 1/(1+exp(dE_i/T))), dE_i in the model's units: hebbian E = "
           "-sum_mu m_mu^2/2, i.e. T = N T_AGS; exp in units of e^(beta N); field rule dE = 2 y_i "
           "h_i. docs/theory.md 15."),
    Option("sweeps", Integer(1, MAX_SWEEPS_MAX // 2), None, "overlap-mean: average the overlap over "
           "S sweeps after a burn-in of S sweeps.", default_text="20"),
)
COLUMNS = {"degree": "int", "rule": "text", "min_overlap": "float", "max_sweeps": "int",
           "update": "text", "temperature": "float", "sweeps_mean": "int"}
#: Criterion options of the dynamics (the binary and the pairwise family declare the same).
CRITERION_OPTIONS = {"noise": DYNAMICS, "min_overlap": THERMAL, "max_sweeps": ("retrieve", "overlap"),
                     "update": DYNAMICS, "temperature": THERMAL, "sweeps": ("overlap-mean",)}


def _legacy_rule(row: dict):
    return "energy" if row.get("model") in MODELS else None


#: Models whose dynamics gained --update and --temperature (this family's and pairwise's).
_SCHEMED = (*MODELS, "pairwise")


def _legacy_update(row: dict):
    return "random" if row.get("model") in _SCHEMED and row.get("criterion") in DYNAMICS else None


def _legacy_temperature(row: dict):
    return 0.0 if row.get("model") in _SCHEMED and row.get("criterion") in THERMAL else None


#: Files written before the field rule existed hold energy-rule rows; before update schemes and
#: temperature, random-order zero-temperature dynamics (for pairwise rows too).
LEGACY = {"rule": _legacy_rule, "update": _legacy_update, "temperature": _legacy_temperature}

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
                               max_sweeps=v["max_sweeps"], **dynamics_options(v))
    name, rule = v["model"], v["rule"] or "energy"  # None: --rule not given (shared with pairwise)
    if name in ("poly", "rectpoly"):
        return [BinaryDAM(name, degree=d, rule=rule) for d in v["degree"]], criterion
    if name == "exp":
        return [BinaryDAM(name, beta=_number(b), rule=rule) for b in v["beta"]], criterion
    return [BinaryDAM(name, rule=rule)], criterion


def dynamics_options(v: Mapping[str, Any]) -> dict:
    """make_criterion's update, temperature and sweeps from parsed options (absent: defaults)."""
    return {"update": v.get("update"), "temperature": v.get("temperature"), "sweeps": v.get("sweeps")}


def dynamics_columns(criterion) -> dict:
    """The update, temperature and sweeps_mean columns of a row (blank where they do not apply)."""
    return {
        "update": criterion.update if criterion.name in DYNAMICS else None,
        "temperature": criterion.temperature if criterion.name in THERMAL else None,
        "sweeps_mean": criterion.sweeps if criterion.name == "overlap-mean" else None,
    }


def read_dynamics(cell) -> dict:
    """make_criterion's update, temperature and sweeps from a row's cells (``cell(name)``)."""
    sweeps = cell("sweeps_mean")
    temperature = cell("temperature")
    return {"update": cell("update"), "temperature": None if temperature is None else float(temperature),
            "sweeps": None if sweeps is None else int(sweeps)}


def describe(model, criterion, n: int) -> dict:
    """The binary configuration columns of a result row."""
    return {
        "model": model.name,
        "degree": model.degree,
        "beta": model.beta,
        "rule": model.rule,
        **criterion_columns(criterion),
    }


def criterion_columns(criterion) -> dict:
    """The columns of a stable / retrieve / overlap / overlap-mean criterion (the binary family's
    criteria, which the pairwise family uses too), with the dynamics' update columns."""
    dynamics = criterion.name in ("retrieve", "overlap")
    return {
        "criterion": criterion.name,
        "noise": getattr(criterion, "noise", None),
        "min_overlap": getattr(criterion, "min_overlap", None),
        "threshold": criterion.threshold,
        "max_sweeps": criterion.max_sweeps if dynamics else None,
        **dynamics_columns(criterion),
    }


def read(row: Mapping[str, Any]) -> tuple[Any, Any]:
    """(model, criterion) of a parsed row (blank cells are None or NaN)."""
    from ..models import BinaryDAM
    from ..results import is_blank

    def cell(name, default=None):
        value = row.get(name)
        return default if is_blank(value) else value

    degree = cell("degree")
    model = BinaryDAM(row["model"], degree=None if degree is None else int(degree), beta=cell("beta"),
                      rule=cell("rule", "energy"))
    return model, read_criterion(row, cell)


def read_criterion(row: Mapping[str, Any], cell: Callable[..., Any]):
    """The criterion of a parsed row (the inverse of :func:`criterion_columns`); ``cell(name,
    default)`` reads a cell with blanks as ``default``. Used by the binary and pairwise families."""
    from ..criteria import make_criterion

    noise = cell("noise")
    return make_criterion(row["criterion"], threshold=float(cell("threshold", 1.0)),
                          noise=None if noise is None else float(noise),
                          min_overlap=float(cell("min_overlap", 0.95)),
                          max_sweeps=int(cell("max_sweeps", DEFAULT_MAX_SWEEPS)),
                          **read_dynamics(cell))


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
    criterion_options=CRITERION_OPTIONS,
)
