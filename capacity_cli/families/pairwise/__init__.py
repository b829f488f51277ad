"""The pairwise family: networks h = W y with learned couplings (modern.md E; docs/theory.md
section 11): ``--model pairwise --rule hebbian|hebbian-diag|storkey|pinv|perceptron|palimpsest``,
``--unlearn K`` on any symmetric rule, criteria stable, retrieve and overlap (the binary family's),
and ``--search recency`` for the palimpsest.

The library is :mod:`capacity_cli.families.pairwise.model` (rules, checker, palimpsest curves), its
hot loops :mod:`capacity_cli.kernels.pairwise`. This module declares the family to the registry and
re-exports the library's names (imported on first use, so declaring the family stays cheap).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import import_module
from typing import Any

import click

from ...limits import FORGET_EPS_MAX, MARGIN_MAX, UNLEARN_EPS_MAX
from ...options import Given, Integer, ListOf, Option, Real
from .. import Family
from .. import binary as _binary

MODELS = ("pairwise",)
CRITERIA = _binary.CRITERIA
RULES = ("hebbian", "hebbian-diag", "storkey", "pinv", "perceptron", "palimpsest")
UNLEARN_MAX = 10**7

_SHARED = {o.name: o for o in _binary.OPTIONS}  # the same declarations: one meaning
OPTIONS = (
    Option("rule", click.Choice(RULES), "hebbian", "pairwise: the learning rule of W (hebbian: X^T X "
           "zero diagonal; hebbian-diag: W_ii = P; storkey 1997; pinv: projector; perceptron: margin "
           "--margin; palimpsest: W <- lambda W + xi xi^T)."),
    Option("margin", Real(0, MARGIN_MAX), None, "pairwise perceptron: stability margin kappa (xi_i h_i > "
           "kappa |w_i|).", default_text="0", applies={"rule": ("perceptron",)}),
    Option("max_epochs", Integer(1, 10**6), None, "pairwise perceptron: epoch cap of the learning "
           "(hitting it: not stored, epoch_capped true).", default_text="200",
           applies={"rule": ("perceptron",)}),
    Option("unlearn", ListOf(Integer(0, UNLEARN_MAX)), [0], "pairwise: K steps of Hopfield-Feinstein-"
           "Palmer unlearning per stored pattern after the rule (a list sweeps; symmetric couplings: "
           "not perceptron).", sweep=True,
           applies={"rule": tuple(r for r in RULES if r != "perceptron")}),
    Option("unlearn_eps", Real(0, UNLEARN_EPS_MAX, lo_open=True), None, "pairwise: unlearning step eps (one "
           "Hebbian increment is 1).", default_text="0.01", applies={"unlearn": Given("K > 0")}),
    Option("forget_eps", Real(0, FORGET_EPS_MAX, lo_open=True), None, "pairwise palimpsest: lambda = "
           "exp(-eps^2 / (2N)).", default_text="4.1", applies={"rule": ("palimpsest",)}),
    _SHARED["min_overlap"],
    _SHARED["max_sweeps"],
    _SHARED["update"],
    _SHARED["temperature"],
    _SHARED["sweeps"],
)
COLUMNS = {"rule": "text", "margin": "float", "max_epochs": "int", "unlearn": "int",
           "unlearn_eps": "float", "forget_eps": "float", "min_overlap": "float", "max_sweeps": "int",
           "update": "text", "temperature": "float", "sweeps_mean": "int"}
OUTCOME_COLUMNS = {"epoch_capped": "bool", "recent_retrievable": "int"}


def build(v: Mapping[str, Any]) -> tuple[list, Any]:
    """One model per --unlearn value, and the criterion (the binary family's criteria)."""
    from ...criteria import make_criterion

    lib = import_module(f"{__name__}.model")
    criterion = make_criterion(v.get("criterion") or "stable", threshold=v["threshold"],
                               noise=v["noise"], min_overlap=v["min_overlap"],
                               max_sweeps=v["max_sweeps"], **_binary.dynamics_options(v))
    rule = v.get("rule") or "hebbian"
    return [lib.PairwiseModel(rule, margin=v.get("margin"), max_epochs=v.get("max_epochs"),
                              unlearn=k, unlearn_eps=v.get("unlearn_eps") if k else None,
                              forget_eps=v.get("forget_eps"))
            for k in v.get("unlearn") or [0]], criterion


def describe(model, criterion, n: int) -> dict:
    return {
        "model": "pairwise",
        "rule": model.rule,
        "margin": model.margin,
        "max_epochs": model.max_epochs,
        "unlearn": model.unlearn,
        "unlearn_eps": model.unlearn_eps,
        "forget_eps": model.forget_eps,
        **_binary.criterion_columns(criterion),
    }


def read(row: Mapping[str, Any]) -> tuple[Any, Any]:
    from ...results import is_blank

    lib = import_module(f"{__name__}.model")

    def cell(name, default=None):
        value = row.get(name)
        return default if is_blank(value) else value

    epochs, unlearn = cell("max_epochs"), int(cell("unlearn", 0))
    model = lib.PairwiseModel(cell("rule", "hebbian"), margin=cell("margin"),
                              max_epochs=None if epochs is None else int(epochs), unlearn=unlearn,
                              unlearn_eps=cell("unlearn_eps"), forget_eps=cell("forget_eps"))
    return model, _binary.read_criterion(row, cell)


def checker(model, criterion, source, n: int, p_limit: int, seed: int = 0, kind: str = "pm1"):
    lib = import_module(f"{__name__}.model")
    return lib.PairwiseChecker(model, criterion, source, n, p_limit, seed, kind=kind)


def recency(model, criterion, source, n: int, length: int, seed: int = 0):
    lib = import_module(f"{__name__}.model")
    return lib.recency_outcome(model, criterion, source, n, length, seed)


def gardner_alpha(kappa: float) -> float:
    """Gardner's (1988) capacity alpha_c(kappa) = 1 / int_{-kappa}^inf Dt (t + kappa)^2
    = 1 / [(1 + kappa^2) Phi(kappa) + kappa phi(kappa)]; 2 at kappa = 0."""
    phi = math.exp(-kappa * kappa / 2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(kappa / math.sqrt(2)))
    return 1.0 / ((1 + kappa * kappa) * big_phi + kappa * phi)


#: The palimpsest's stationary capacity at its optimal decay (Mezard, Nadal & Toulouse 1986), as
#: recalled: about 0.05 N recent patterns.
PALIMPSEST_ALPHA = 0.05


def laws(model, criterion) -> list:
    """Theory lines: the binary hebbian laws (hebbian, hebbian-diag, unlearning), N / sqrt(2 ln N)
    (Storkey), N (pinv), Gardner's alpha_c(kappa) N (perceptron), about 0.05 N (palimpsest)."""
    import numpy as np

    from ...models import BinaryDAM
    from ...theory import Law, laws_for

    rule = model.rule
    if getattr(criterion, "temperature", 0.0) > 0:
        return []  # these are zero-temperature laws (docs/theory.md section 15)
    if rule == "storkey":
        return [Law("N / sqrt(2 ln N) (Storkey)", lambda n: n / np.sqrt(2 * np.log(n)), "Storkey 1997")]
    if rule == "pinv":
        return [Law("N (pseudo-inverse)", lambda n: n * 1.0, "Personnaz et al. 1985")]
    if rule == "perceptron":
        alpha = gardner_alpha(model.margin)
        return [Law(f"{alpha:.3g} N (Gardner, kappa={model.margin:g})", lambda n: alpha * n,
                    "Gardner 1988")]
    if rule == "palimpsest":
        return [Law(f"{PALIMPSEST_ALPHA:g} N (palimpsest)", lambda n: PALIMPSEST_ALPHA * n,
                    "Mezard, Nadal & Toulouse 1986")]
    return laws_for(BinaryDAM("hebbian"), criterion)


def check_bytes(model, criterion, n: int, p: int) -> int:
    """Memory of a check of P patterns: the float64 couplings W (N x N) with a learning rule's
    working copies, and the patterns with their per-pattern work arrays."""
    return 3 * 8 * n * n + 16 * p * n


def default_sizes(model) -> list[int]:
    return [64, 128, 256]


def growth(model) -> str:
    return "power"


FAMILY = Family(
    name="pairwise", models=MODELS, criteria=CRITERIA, default_criterion="stable", kinds=("pm1",),
    options=OPTIONS, columns=COLUMNS, legacy={}, build=build, describe=describe, read=read,
    checker=checker, laws=laws, default_sizes=default_sizes, growth=growth,
    criterion_options=_binary.CRITERION_OPTIONS,
    outcome_columns=OUTCOME_COLUMNS, recency=recency, check_bytes=check_bytes,
)


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.model"), name)
