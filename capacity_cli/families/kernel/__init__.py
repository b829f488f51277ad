"""The kernel family: the modern Hopfield network with overlaps taken in a feature space, phi(v) =
|v| W v / |W v| (U-Hop+, Wu, Hu et al. 2024; modern.md B; docs/theory.md section 10), with an
identity, random or learned (stage I separation loss) map W of D x N.

It reuses the softmax family: its criteria (retrieve-eps, sign, fixed-point), their options and
columns, its beta rules and its checker (:class:`capacity_cli.families.kernel.model.KernelChecker`
is a SoftmaxChecker scoring features). The library is :mod:`capacity_cli.families.kernel.model`;
everything is BLAS (numpy) and scipy's L-BFGS, no kernels of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

import click

from ...errors import HopcapError
from ...limits import TAU_MAX, TAU_MIN
from ...options import FEATURES, FilePath, Integer, Option, Real
from .. import Family
from .. import softmax as _softmax

MODELS = ("kernel",)
CRITERIA = _softmax.CRITERIA
FEATURE_MAPS = ("identity", "random", "learned")
#: Where the options that only a learned map reads apply.
LEARNED = {"feature_map": ("learned",)}

OPTIONS = (
    FEATURES,  # shared with the rf family (options.FEATURES): here the feature dimension D
    Option("feature_map", click.Choice(FEATURE_MAPS), "identity", "kernel: identity (D = N, the "
           "softmax model), random (i.i.d. Gaussian W from the trial's seed) or learned (U-Hop+ "
           "stage I on each stored prefix)."),
    Option("tau", Real(TAU_MIN, TAU_MAX), 0.1, "kernel learned: temperature of the separation "
           "loss.", applies=LEARNED),
    Option("learn_steps", Integer(0, 10**6), 200, "kernel learned: L-BFGS iterations per learning "
           "run (0: the initial map).", applies=LEARNED),
    Option("save_map", FilePath(".npz", write=True), None, "kernel learned: write the learned W of the final "
           "stored prefix and its patterns to this .npz, exactly this name (one trial, one "
           "configuration); hopcap info FILE prints its spherical-code report.", applies=LEARNED),
    Option("compare", click.Choice(["identity", "none"]), None, "kernel: identity also measures the "
           "identity map (the softmax model) on the same trials, printed beside; none does not.",
           default_text="identity for random and learned maps (none with --save-map)",
           applies={"feature_map": ("random", "learned")}),
) + _softmax.OPTIONS
COLUMNS = {**_softmax.COLUMNS, "features": "int", "feature_map": "text", "tau": "float",
           "learn_steps": "int"}
RESULT_COLUMNS = {"learn_converged": "bool", "min_angle_deg": "float", "mean_angle_deg": "float",
                  "learn_s": "float"}
#: --p-max of a learned map when none is given: stage I costs O(P^2 D) per L-BFGS step, so a learned
#: check at P = 1024 takes seconds and one at 4096 minutes (measured on 2 busy cores).
LEARNED_P_CAP = 1024


def build(v: Mapping[str, Any]) -> tuple[list, Any]:
    """One model per --beta value (with the identity model beside each with --compare identity)
    and the criterion (the softmax family's)."""
    lib = import_module(f"{__name__}.model")
    values = dict(v)
    if values.get("criterion") is None:
        values["criterion"] = "retrieve-eps"
    plain, criterion = _softmax.build(values)
    fmap = v.get("feature_map") or "identity"  # (--tau, --compare, ...: their declarations)
    compare = v.get("compare")
    if compare is None:
        compare = "identity" if fmap != "identity" and v.get("save_map") is None else "none"
    if v.get("save_map") is not None:
        lists = {name: v.get(name) for name in ("n", "beta", "correlation", "min_distance")}
        many = [name for name, value in lists.items() if isinstance(value, list) and len(value) > 1]
        if many or (v.get("trials") or 1) != 1 or compare == "identity":
            raise HopcapError("--save-map writes one learned map: give one configuration (one "
                              "--n, --beta, --correlation, --min-distance), --trials 1 and no "
                              "--compare")
    dims = v.get("features")
    dims = [None] if dims is None else dims if isinstance(dims, list) else [dims]
    models = []
    for m, d in ((m, d) for m in plain for d in dims):
        kernel = lib.KernelModel(m.beta, feature_map=fmap, features=d,
                                 tau=v.get("tau", 0.1), learn_steps=v.get("learn_steps", 200),
                                 dtype=m.dtype, save_map=v.get("save_map"))
        lib.check_criterion(kernel, criterion)
        models.append(kernel)
        if compare == "identity":
            models.append(lib.KernelModel(m.beta, dtype=m.dtype))
    return models, criterion


def default_p_cap(v: Mapping[str, Any]) -> int | None:
    """A learned map's --p-max when none is given (LEARNED_P_CAP); others keep the shared default."""
    return LEARNED_P_CAP if v.get("feature_map") == "learned" else None


def describe(model, criterion, n: int) -> dict:
    out = _softmax.describe(model.softmax(), criterion, n)
    d = model.dim(n)  # blank when D = N, so one configuration spans several N
    out.update(model="kernel", feature_map=model.feature_map, features=None if d == n else d,
               tau=model.tau if model.learned else None,
               learn_steps=model.learn_steps if model.learned else None)
    return out


def read(row: Mapping[str, Any]) -> tuple[Any, Any]:
    from ...results import is_blank

    lib = import_module(f"{__name__}.model")
    row = {k: (None if is_blank(v) else v) for k, v in row.items()}
    plain, criterion = _softmax.read({**row, "model": "softmax"})
    d = row.get("features")
    features = None if d is None else int(d)
    learned = row.get("feature_map") == "learned"
    model = lib.KernelModel(plain.beta, feature_map=row.get("feature_map") or "identity",
                            features=features,
                            tau=float(row["tau"]) if learned and row.get("tau") is not None else 0.1,
                            learn_steps=int(row["learn_steps"]) if learned and
                            row.get("learn_steps") is not None else 200, dtype=plain.dtype)
    return model, criterion


def checker(model, criterion, source, n: int, p_limit: int, seed: int = 0, kind: str | None = None):
    lib = import_module(f"{__name__}.model")
    return lib.KernelChecker(model, criterion, source, n, p_limit, seed, kind=kind)


def laws(model, criterion) -> list:
    """Theorem 3 of Ramsauer et al. speaks of the plain model: drawn for the identity map only."""
    return _softmax.laws(model.softmax(), criterion) if model.feature_map == "identity" else []


def search_work(model, criterion, n: int, p: int) -> float:
    """The softmax model's dense checks over D features (stage I of a learned map comes on top)."""
    return _softmax.dense_work(criterion, max(n, model.dim(n)), p)


def stored_floor(model, criterion, n: int, kind: str) -> float:
    """The identity map is the softmax model: its floor; other maps have none."""
    if model.feature_map != "identity":
        return 0.0
    return _softmax.stored_floor(model.softmax(), criterion, n, kind)


def check_bytes(model, criterion, n: int, p: int) -> int:
    """The softmax check's memory over D features, the map W (D x N, with L-BFGS's copies) and, for
    a learned map, stage I's P x P matrices (a learned map beyond LEARNED_P_MAX patterns is refused
    first, with that reason)."""
    import_module(f"{__name__}.model").check_learned_cap(model, p)
    d = model.dim(n)
    total = _softmax.check_bytes(model.softmax(), criterion, max(n, d), p) + 5 * 8 * d * n
    return total + (3 * 8 * p * p if model.learned else 0)


def default_sizes(model) -> list[int]:
    return [16, 24, 32]


def growth(model) -> str:
    return "exp"


FAMILY = Family(
    name="kernel", models=MODELS, criteria=CRITERIA, default_criterion="retrieve-eps",
    kinds=("pm1", "sphere"), options=OPTIONS, columns=COLUMNS, legacy={}, build=build,
    describe=describe, read=read, checker=checker, laws=laws, default_sizes=default_sizes,
    growth=growth, criterion_options=dict(_softmax.FAMILY.criterion_options),
    outcome_columns=RESULT_COLUMNS, default_p_cap=default_p_cap, check_bytes=check_bytes,
    search_work=search_work, stored_floor=stored_floor,
)


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.model"), name)
