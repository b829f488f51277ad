"""The rf family: the random-feature dense associative memory (DrDAM, Hoover et al. 2024; modern.md C,
docs/theory.md section 9) on +-1 states, under the binary criteria stable, retrieve and overlap.

``--beta`` is the paper's inverse temperature (5..50 in its experiments), not the ``exp`` model's: the
exact counterpart is ``exp`` at beta / (4N). The library is :mod:`capacity_cli.families.rf.model`, its
hot loops :mod:`capacity_cli.kernels.rf`. This module declares the family (imported cheaply) and
re-exports the library's names on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

import click

from ...errors import HopcapError
from ...limits import DEFAULT_MAX_SWEEPS
from ...options import FEATURES, Integer, Option
from .. import Family

MODELS = ("rf",)
CRITERIA = ("stable", "retrieve", "overlap")
#: --features when none is given.
DEFAULT_FEATURES = 1024

OPTIONS = (
    FEATURES,  # shared with the kernel family (options.FEATURES); rf's default is DEFAULT_FEATURES
    Option("feature_kind", click.Choice(["trig", "positive"]), "trig", "rf: trig (cos, sin; Rahimi & "
           "Recht) or positive (exp(+-w.x); Performer) features."),
    Option("features_seed", Integer(0), None, "rf: draw the frequencies from this seed, the same for "
           "every trial (default: from each trial's seed; blank in the CSV).",
           default_text="each trial's seed"),
)
COLUMNS = {"features": "int", "feature_kind": "text", "features_seed": "int"}
#: Options of the binary family that rf's criteria read as well (same meaning, same CSV columns).
BORROWED = ("min_overlap", "max_sweeps")


def _number(beta) -> float:
    try:
        return float(beta)
    except (TypeError, ValueError):
        raise HopcapError(f"--beta {beta}: a rule in N applies to --model softmax only; rf takes a "
                          "number (the paper's beta)") from None


def build(v: Mapping[str, Any]) -> tuple[list, Any]:
    """One model per (--beta, --features) value, beta outermost, and the criterion."""
    from ...criteria import make_criterion

    lib = import_module(f"{__name__}.model")
    criterion = make_criterion(v.get("criterion") or "stable", threshold=v["threshold"],
                               noise=v["noise"], min_overlap=v["min_overlap"],
                               max_sweeps=v["max_sweeps"])
    models = [lib.RandomFeatureDAM(_number(b), y, v["feature_kind"], v["features_seed"])
              for b in v["beta"] for y in (v["features"] or [DEFAULT_FEATURES])]
    return models, criterion


def describe(model, criterion, n: int) -> dict:
    dynamics = criterion.name in ("retrieve", "overlap")
    return {
        "model": "rf",
        "beta": model.beta,
        "features": model.features,
        "feature_kind": model.kind,
        "features_seed": model.features_seed,
        "criterion": criterion.name,
        "noise": criterion.noise if dynamics else None,
        "min_overlap": getattr(criterion, "min_overlap", None),
        "threshold": criterion.threshold,
        "max_sweeps": criterion.max_sweeps if dynamics else None,
    }


def read(row: Mapping[str, Any]) -> tuple[Any, Any]:
    from ...criteria import make_criterion
    from ...results import is_blank

    lib = import_module(f"{__name__}.model")

    def cell(name, default=None):
        value = row.get(name)
        return default if is_blank(value) else value

    seed = cell("features_seed")
    model = lib.RandomFeatureDAM(float(row["beta"]), int(row["features"]), cell("feature_kind", "trig"),
                                 None if seed is None else int(seed))
    noise = cell("noise")
    criterion = make_criterion(row["criterion"], threshold=float(cell("threshold", 1.0)),
                               noise=None if noise is None else float(noise),
                               min_overlap=float(cell("min_overlap", 0.95)),
                               max_sweeps=int(cell("max_sweeps", DEFAULT_MAX_SWEEPS)))
    return model, criterion


def checker(model, criterion, source, n: int, p_limit: int, seed: int = 0, kind: str = "pm1"):
    lib = import_module(f"{__name__}.model")
    return lib.make_checker(model, criterion, source, n, p_limit, seed)


def laws(model, criterion) -> list:
    """No closed-form law: the reference is the exact model (exp at beta / (4N)), measured."""
    return []


def default_sizes(model) -> list[int]:
    return [16, 24, 32]


def growth(model) -> str:
    """At fixed beta (paper units) the exact counterpart's exp(beta m / (4N)) is a fixed function of
    m / N: no exponential growth in N to expect, so capacity is drawn on log-log axes."""
    return "power"


def check_bytes(model, criterion, n: int, p: int) -> int:
    """Memory of a check of P patterns: the frequencies and their tables (rf.model.FEATURE_BYTES per
    unit and frequency), the summed features of the stored prefix (a few 2Y vectors), the patterns
    with their per-pattern results."""
    return 5 * 8 * n * model.features + 4 * 8 * model.features + 10 * p * n + 32 * p


FAMILY = Family(
    name="rf", models=MODELS, criteria=CRITERIA, default_criterion="stable", kinds=("pm1",),
    options=OPTIONS, columns=COLUMNS, legacy={}, build=build, describe=describe, read=read,
    checker=checker, laws=laws, default_sizes=default_sizes, growth=growth,
    criterion_options={"noise": ("retrieve", "overlap"), "min_overlap": ("overlap",),
                       "max_sweeps": ("retrieve", "overlap")},
    borrowed=BORROWED, check_bytes=check_bytes,
)


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.model"), name)
