"""The softmax family: the continuous modern Hopfield network (Ramsauer et al. 2020; modern.md A,
docs/theory.md section 5): xi <- X^T softmax(beta X xi), criteria retrieve-eps, sign, fixed-point.

The library is :mod:`capacity_cli.families.softmax.model` (model, criteria, checker, Theorem 3),
its hot path :mod:`capacity_cli.kernels.softmax`. This module declares the family to the registry
and re-exports the library's names (imported on first use, so declaring the family stays cheap).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import import_module
from typing import Any

import click

from ...limits import EPS_MAX
from ...options import Integer, Option, Real
from .. import Family

MODELS = ("softmax",)
CRITERIA = ("retrieve-eps", "sign", "fixed-point")

OPTIONS = (
    Option("eps", Real(0, EPS_MAX, lo_open=True), 0.01, "softmax: retrieve-eps and fixed-point succeed "
           "when |xi - x_i| <= eps |x_i|."),
    Option("steps", Integer(1, 10**6), 1, "softmax: updates K from the cue (retrieve-eps, sign)."),
    Option("max_steps", Integer(1, 10**6), 1000, "softmax fixed-point: iteration cap (converged: "
           "|step| < 1e-12 |state|)."),
    Option("dtype", click.Choice(["float64", "float32"]), "float64", "softmax: arithmetic of the "
           "updates."),
)
COLUMNS = {"beta_rule": "text", "eps": "float", "steps": "int", "max_steps": "int", "dtype": "text"}


def _legacy_beta_rule(row: dict):
    beta = row.get("beta")
    return repr(float(beta)) if row.get("model") in MODELS and beta is not None else None


#: A softmax row without ``beta_rule`` (a hand-made file) ran at the plain number in ``beta``.
LEGACY = {"beta_rule": _legacy_beta_rule}


def build(v: Mapping[str, Any]) -> tuple[list, Any]:
    """One model per --beta value (a number, c/sqrtN or c/N) and the criterion."""
    lib = import_module(f"{__name__}.model")
    name = v.get("criterion") or "retrieve-eps"
    noise = 0.0 if v["noise"] is None else v["noise"]
    if name == "retrieve-eps":
        criterion = lib.RetrieveEps(v["eps"], steps=v["steps"], noise=noise, threshold=v["threshold"])
    elif name == "sign":
        criterion = lib.SignRetrieve(steps=v["steps"], noise=noise, threshold=v["threshold"])
    elif name == "fixed-point":
        if v["noise"]:
            from ...errors import HopcapError

            raise HopcapError("--criterion fixed-point starts at the pattern itself: it takes no --noise")
        criterion = lib.FixedPoint(v["eps"], threshold=v["threshold"], max_steps=v["max_steps"])
    else:
        from ...errors import HopcapError

        raise HopcapError(f"--criterion {name} does not apply to --model softmax; choose one of "
                          f"{', '.join(CRITERIA)}")
    return [lib.SoftmaxModel(beta, dtype=v["dtype"]) for beta in v["beta"]], criterion


def describe(model, criterion, n: int) -> dict:
    fixed = criterion.name == "fixed-point"
    return {
        "model": "softmax",
        "beta": model.beta.value(n),
        "beta_rule": model.beta.label,
        "dtype": model.dtype,
        "criterion": criterion.name,
        "noise": getattr(criterion, "noise", None),
        "threshold": criterion.threshold,
        "eps": getattr(criterion, "eps", None),
        "steps": None if fixed else criterion.steps,
        "max_steps": criterion.max_steps if fixed else None,
    }


def read(row: Mapping[str, Any]) -> tuple[Any, Any]:
    from ...results import is_blank

    values = {k: (None if is_blank(v) else v) for k, v in row.items()}
    values["beta"] = [values["beta_rule"]]
    for name, default in (("eps", 0.01), ("steps", 1), ("max_steps", 1000), ("dtype", "float64"),
                          ("threshold", 1.0)):
        if values.get(name) is None:
            values[name] = default
    values["steps"], values["max_steps"] = int(values["steps"]), int(values["max_steps"])
    models, criterion = build(values)
    return models[0], criterion


def checker(model, criterion, source, n: int, p_limit: int, seed: int = 0, kind: str | None = None):
    lib = import_module(f"{__name__}.model")
    return lib.SoftmaxChecker(model, criterion, source, n, p_limit, seed, kind=kind)


#: Ramsauer et al.'s Theorem 3 is stated with this failure probability here.
THEOREM3_P_FAIL = 0.001


def laws(model, criterion) -> list:
    """Ramsauer et al.'s Theorem 3 lower bound (random sphere patterns, failure probability 0.001),
    for retrieve-eps (the criterion it speaks of); nan where the formula breaks down."""
    from ...theory import Law

    if criterion.name != "retrieve-eps":
        return []
    lib = import_module(f"{__name__}.model")

    def at(k: float) -> float:
        try:
            return lib.theorem3_bound(float(k), model.beta.value(float(k)), THEOREM3_P_FAIL)
        except (ArithmeticError, ValueError):  # e.g. W0 underflows at beta ~ 1e-255: no bound
            return float("nan")

    def bound(n):
        import numpy as np

        return np.vectorize(at, otypes=[float])(n)

    return [Law(f"Theorem 3 bound, beta={model.beta.label} (p={THEOREM3_P_FAIL:g})", bound,
                "Ramsauer et al. 2020")]


def stored_floor(model, criterion, n: int, kind: str) -> float:
    """A number of patterns the model stores for certain (or with probability 0.999): the search
    reaches min(--p-max, this). +-1 patterns with a noiseless cue: the other patterns' scores are at
    least 2 beta below the pattern's own, so one update lands within relative error
    2 (P - 1) e^(-2 beta) of it (sign: within 1); any other case: Ramsauer et al.'s Theorem 3 bound."""
    beta = model.beta.value(n)
    floor = 0.0
    if kind == "pm1" and not getattr(criterion, "noise", 0.0):
        tolerance = 1.0 if criterion.name == "sign" else criterion.eps
        exponent = 2 * beta + math.log(tolerance / 2)
        floor = math.inf if exponent > 700 else 1 + math.exp(exponent)
    if criterion.name == "retrieve-eps":
        lib = import_module(f"{__name__}.model")
        try:
            bound = lib.theorem3_bound(float(n), beta, THEOREM3_P_FAIL)
        except (ArithmeticError, ValueError):
            bound = 0.0
        if math.isfinite(bound) and bound >= 2:
            floor = max(floor, bound)
    return floor


def dense_work(criterion, n: int, p: float) -> float:
    """Multiply-adds of a search whose checks are dense softmax updates of P x N patterns up to P:
    the first update extended column by column (2 N P^2 over the whole search), every further
    update recomputed at each check (4/3 of it per update: the doubling checks sum to 4/3 P^2)."""
    updates = 2 if criterion.name == "fixed-point" else criterion.steps  # fixed-point: >= 2
    return 2.0 * n * p * p * (1 + 4 / 3 * (updates - 1))


def search_work(model, criterion, n: int, p: int) -> float:
    """Multiply-adds of one trial's search up to P (:data:`Family.search_work`)."""
    return dense_work(criterion, n, p)


#: Bytes per pattern unit of a check (patterns, cues, their regrown copies, the updated states)
#: and per score of a block of BLOCK (1024) rows against the P patterns.
UNIT_BYTES, SCORE_BYTES, BLOCK = 48, 8, 1024


def check_bytes(model, criterion, n: int, p: int) -> int:
    """Memory of a check of P patterns (:data:`Family.check_bytes`)."""
    return UNIT_BYTES * p * n + SCORE_BYTES * BLOCK * p


def default_sizes(model) -> list[int]:
    return [8, 12, 16, 20] if model.beta.per == "" else [16, 32, 64, 128]


def growth(model) -> str:
    return "exp"


FAMILY = Family(
    name="softmax", models=MODELS, criteria=CRITERIA, default_criterion="retrieve-eps",
    kinds=("pm1", "sphere"), options=OPTIONS, columns=COLUMNS, legacy=LEGACY, build=build,
    describe=describe, read=read, checker=checker, laws=laws, default_sizes=default_sizes,
    growth=growth, check_bytes=check_bytes, search_work=search_work, stored_floor=stored_floor,
    criterion_options={"noise": ("retrieve-eps", "sign"), "eps": ("retrieve-eps", "fixed-point"),
                       "steps": ("retrieve-eps", "sign"), "max_steps": ("fixed-point",)},
)


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.model"), name)

