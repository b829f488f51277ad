"""The kernelized modern Hopfield network with a feature map (U-Hop+; Wu, Hu et al. 2024, Hu, Wu &
Liu 2024; modern.md B, docs/theory.md section 10): model, stage I learning, checker, spherical codes.

Overlaps are taken in feature space, the update still returns raw patterns:

    xi <- X^T softmax(beta S),   S_mu = <phi(x_mu), phi(xi)>,   phi(v) = |v| W v / |W v|,

W of shape (D, N). For hopcap's patterns (norm sqrt(N)) phi(x) = sqrt(N) W x / |W x|, the reference's
normalised features rescaled to the raw norm, so beta keeps its meaning; rescaling by the state's
own norm makes W = I the plain softmax model for every state (also after an update shrank it).

Feature maps: ``identity`` (D = N, the plain model: features are the raw rows, no arithmetic),
``random`` (i.i.d. Gaussian W from the trial's seed) and ``learned`` (stage I: W minimises the
separation loss of the stored prefix, see :func:`separation_loss`). In a capacity search the learned
W is relearned for each prefix P the search tries, warm-started from the W of the nearest smaller
stored prefix (:class:`KernelChecker`).

The criteria (retrieve-eps, sign, fixed-point) and the whole checking machinery are the softmax
family's: :class:`KernelChecker` is a ``SoftmaxChecker`` whose scores are taken between features.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ...errors import HopcapError
from ...limits import TAU_MAX, TAU_MIN, check_range
from ..softmax.model import (
    BetaRule,
    FixedPoint,
    RetrieveEps,
    SignRetrieve,
    SoftmaxChecker,
    SoftmaxCriterion,
    SoftmaxModel,
    parse_beta,
)

FEATURE_MAPS = ("identity", "random", "learned")
#: Criteria a learned map is measured under: retrieval from the cue in K updates. fixed-point is
#: refused for learned maps (see KernelModel): not implemented.
LEARNED_CRITERIA = ("retrieve-eps", "sign")
#: A learned map refuses caps above this: its loss holds a few P x P float64 matrices (1.5 GB at
#: 8192) and a learning run there takes many minutes.
LEARNED_P_MAX = 8192
#: L-BFGS-B minimises P L (the same minimiser as L, without the 1/P factor that makes the gradient
#: vanish at large P) and stops early when the projected gradient's largest entry falls below GTOL
#: or P L stops moving (relative change below FTOL).
GTOL = 1e-9
FTOL = 1e-12


# --------------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KernelModel:
    """The kernelized model: inverse temperature ``beta`` (a BetaRule or anything ``parse_beta``
    reads), feature map ``feature_map`` of ``features`` = D dimensions (None: D = N), stage I
    temperature ``tau`` and at most ``learn_steps`` L-BFGS iterations per learning run (learned
    maps), arithmetic ``dtype`` of the updates. ``save_map``: where a learned map of the final
    stored prefix is written (.npz; not part of the configuration)."""

    beta: BetaRule
    feature_map: str = "identity"
    features: int | None = None
    tau: float = 0.1
    learn_steps: int = 200
    dtype: str = "float64"
    save_map: str | None = field(default=None, compare=False)
    name = "kernel"

    def __post_init__(self) -> None:
        object.__setattr__(self, "beta", parse_beta(self.beta))
        SoftmaxModel(self.beta, self.dtype)  # checks dtype
        if self.feature_map not in FEATURE_MAPS:
            raise HopcapError(f"--feature-map must be one of {', '.join(FEATURE_MAPS)}, "
                              f"got {self.feature_map!r}")
        if self.features is not None and (isinstance(self.features, bool) or
                                          int(self.features) != self.features or self.features < 1):
            raise HopcapError(f"--features must be an integer >= 1, got {self.features}")
        check_range("--tau", self.tau, TAU_MIN, TAU_MAX)
        if isinstance(self.learn_steps, bool) or int(self.learn_steps) != self.learn_steps or \
                self.learn_steps < 0:
            raise HopcapError(f"--learn-steps must be an integer >= 0, got {self.learn_steps}")
        if self.save_map is not None and self.feature_map != "learned":
            raise HopcapError("--save-map saves a learned map: it needs --feature-map learned")

    def dim(self, n: int) -> int:
        """D at N = n (None means D = N)."""
        return n if self.features is None else int(self.features)

    def check_n(self, n: int) -> None:
        if self.feature_map == "identity" and self.dim(n) != n:
            raise HopcapError(f"--feature-map identity has D = N: --features {self.features} "
                              f"differs from N = {n}")

    @property
    def learned(self) -> bool:
        return self.feature_map == "learned"

    @property
    def label(self) -> str:
        """Short human label, e.g. ``kernel learned D=16 beta=1``."""
        d = "" if self.features is None else f" D={self.features}"
        tau = f" tau={self.tau:g}" if self.learned else ""
        dtype = "" if self.dtype == "float64" else f" {self.dtype}"
        return f"kernel {self.feature_map}{d}{tau} beta={self.beta.label}{dtype}"

    def softmax(self) -> SoftmaxModel:
        """The plain model at the same beta and dtype (what ``identity`` is)."""
        return SoftmaxModel(self.beta, self.dtype)


def check_learned_cap(model: KernelModel, p_limit: int) -> None:
    """Refuse a learned map a search up to more than LEARNED_P_MAX patterns."""
    if model.learned and p_limit > LEARNED_P_MAX:
        raise HopcapError(f"--feature-map learned learns on at most {LEARNED_P_MAX} patterns (its "
                          f"loss is a P x P matrix); give --p-max <= {LEARNED_P_MAX}")


def check_criterion(model: KernelModel, criterion: SoftmaxCriterion) -> None:
    """Raise when a learned map is asked for a criterion it is not measured under."""
    if not isinstance(criterion, (RetrieveEps, SignRetrieve, FixedPoint)):
        raise HopcapError(f"criterion {getattr(criterion, 'name', criterion)!r} does not apply to "
                          f"the kernel model")
    if model.learned and criterion.name not in LEARNED_CRITERIA:
        raise HopcapError(f"--feature-map learned works with --criterion "
                          f"{' or '.join(LEARNED_CRITERIA)} (retrieval from a cue in --steps "
                          f"updates), not {criterion.name}")


def random_map(d: int, n: int, seed: int) -> np.ndarray:
    """W (D x N) with i.i.d. standard normal entries from ``seed`` only (numpy's SeedSequence)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) % 2**64, 0x6B65726E]))
    return rng.standard_normal((d, n))


def initial_map(model: KernelModel, n: int, seed: int) -> np.ndarray | None:
    """The trial's W before learning: None for identity (raw rows), the identity matrix for a
    learned map with D = N, else the trial's random W."""
    d = model.dim(n)
    if model.feature_map == "identity":
        return None
    if model.learned and d == n:
        return np.eye(n)
    return random_map(d, n, seed)


def features(w: np.ndarray | None, v: np.ndarray, out_dtype=np.float64) -> np.ndarray:
    """phi(v) = |v| W v / |W v| for every row of ``v`` (rows of zero image map to 0); raw rows when
    ``w`` is None."""
    vf = np.asarray(v, dtype=np.float64)
    if w is None:
        return np.asarray(v, dtype=out_dtype)
    img = vf @ w.T
    norm = np.linalg.norm(img, axis=1)
    scale = np.divide(np.linalg.norm(vf, axis=1), norm, out=np.zeros_like(norm), where=norm > 0)
    return (img * scale[:, None]).astype(out_dtype, copy=False)


def unit_features(w: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """f = W x / |W x| (unit rows; x / |x| when w is None)."""
    xf = np.asarray(x, dtype=np.float64)
    img = xf if w is None else xf @ w.T
    return img / np.linalg.norm(img, axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------------
# stage I: the separation loss and its gradient
# --------------------------------------------------------------------------------------------------

def separation_loss(w: np.ndarray, x: np.ndarray, tau: float, grad: bool = True):
    """L(W) = (1/P) log[ 2/(P(P-1)) sum_{mu<nu} exp(<f_mu, f_nu>/tau) ], f = W x / |W x| (U-Hop+
    stage I, modern.md B), and dL/dW when ``grad``: with c_{mu nu} the pair's softmax weight / (P tau),
    dL/dF = C F, dL/dV_mu = (I - f_mu f_mu^T) (C F)_mu / |v_mu| (V = X W^T), dL/dW = (dL/dV)^T X.
    Three GEMMs of P x D x N or P x P x D. Needs P >= 2."""
    xf = np.asarray(x, dtype=np.float64)
    p = xf.shape[0]
    if p < 2:
        raise HopcapError("the separation loss needs at least 2 patterns")
    v = xf @ w.T
    norm = np.linalg.norm(v, axis=1)
    f = v / norm[:, None]
    g = (f @ f.T) / tau
    upper = np.triu_indices(p, 1)
    top = float(g[upper].max())
    np.fill_diagonal(g, -np.inf)  # the pairs only: exp(1/tau - top) of the diagonal could overflow
    e = np.exp(g - top)
    total = float(e.sum()) / 2.0  # each pair once
    loss = (top + math.log(total) + math.log(2.0 / (p * (p - 1)))) / p
    if not grad:
        return loss
    c = e / (total * p * tau)  # symmetric, zero diagonal: dL/dG_{mu nu} for the pair mu<nu
    gf = c @ f
    gv = (gf - np.sum(gf * f, axis=1, keepdims=True) * f) / norm[:, None]
    return loss, gv.T @ xf


@dataclass(frozen=True)
class LearnResult:
    """One stage I run: the learned W, the loss before and after, L-BFGS iterations used and
    whether it did its job (the loss decreased, or the start was already stationary)."""

    w: np.ndarray = field(repr=False)
    loss_start: float
    loss: float
    iterations: int
    decreased: bool
    seconds: float
    message: str = ""


def learn_map(x: np.ndarray, w0: np.ndarray, tau: float, steps: int) -> LearnResult:
    """Minimise :func:`separation_loss` over W from ``w0`` with scipy's L-BFGS-B (at most ``steps``
    iterations); the best W evaluated is kept. Fewer than 2 patterns or ``steps`` = 0: W = w0
    (nothing to learn).

    BLAS runs on one thread here: the products are small (P x D), threads only add contention, and
    one thread makes the learned W the same whatever the machine's thread count (summation order).
    """
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    xf = np.ascontiguousarray(x, dtype=np.float64)
    w0 = np.asarray(w0, dtype=np.float64)
    if len(xf) < 2 or steps == 0:
        return LearnResult(w0.copy(), math.nan, math.nan, 0, True, time.perf_counter() - start)
    shape = w0.shape

    best = [math.inf, None]

    p = len(xf)

    def fun(flat):
        value, gw = separation_loss(flat.reshape(shape), xf, tau)
        if value < best[0]:  # L-BFGS-B may stop (ABNORMAL line search) above its best point
            best[0], best[1] = value, flat.copy()
        return p * value, p * gw.ravel()

    with threadpool_limits(limits=1, user_api="blas"):
        loss0, g0 = separation_loss(w0, xf, tau)
        res = minimize(fun, w0.ravel(), jac=True, method="L-BFGS-B",
                       options={"maxiter": int(steps), "gtol": GTOL, "ftol": FTOL, "maxcor": 20})
    loss = float(best[0])
    w = best[1].reshape(shape) if best[1] is not None else w0.copy()
    stationary = p * float(np.abs(g0).max()) <= GTOL
    decreased = math.isfinite(loss) and (loss < loss0 or stationary)
    if not decreased:  # keep the better of the two
        w, loss = w0.copy(), loss0
    return LearnResult(w, float(loss0), loss, int(res.nit), bool(decreased),
                       time.perf_counter() - start, str(res.message))


# --------------------------------------------------------------------------------------------------
# spherical codes: what the learned features achieve against the bounds
# --------------------------------------------------------------------------------------------------

#: Kabatiansky & Levenshtein (1978) hold for angles up to theta* = 62.4 degrees (cos theta* = 0.4625).
KL_MAX_ANGLE_DEG = 62.4


def pair_angles_deg(f: np.ndarray) -> np.ndarray:
    """The angles (degrees) of every pair mu < nu of rows of ``f`` (any norms)."""
    u = np.asarray(f, dtype=np.float64)
    u = u / np.linalg.norm(u, axis=1, keepdims=True)
    cos = np.clip((u @ u.T)[np.triu_indices(len(u), 1)], -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def simplex_angle_deg(p: int) -> float:
    """arccos(-1/(P-1)): the largest minimum angle of P points on any sphere (Rankin 1955), reached
    exactly by the regular simplex when P <= D + 1."""
    return math.degrees(math.acos(-1.0 / (p - 1))) if p >= 2 else math.nan


def rankin_angle_deg(p: int, d: int) -> float:
    """Rankin's (1955) bound on the minimum angle of P points on S^(D-1): arccos(-1/(P-1)) for
    P <= D + 1 (the simplex), 90 degrees for P >= D + 2 (at most D + 1 points have pairwise obtuse
    angles; the orthoplex, 2D points, reaches 90)."""
    if p < 2:
        return math.nan
    return simplex_angle_deg(p) if p <= d + 1 else 90.0


def kl_rate(theta_rad: float) -> float:
    """The Kabatiansky-Levenshtein (1978) rate: (1/D) log2 M(D, theta) <= (1+s)/(2s) log2((1+s)/(2s))
    - (1-s)/(2s) log2((1-s)/(2s)), s = sin theta, asymptotically in D, for theta <= theta*."""
    s = math.sin(theta_rad)
    a, b = (1 + s) / (2 * s), (1 - s) / (2 * s)
    return a * math.log2(a) - (b * math.log2(b) if b > 0 else 0.0)


def kl_angle_deg(p: int, d: int) -> float:
    """The largest minimum angle the KL asymptotic bound allows P points in D dimensions: theta
    with D kl_rate(theta) = log2 P (kl_rate decreases in theta); nan when log2 P / D is below the
    rate at theta* (the bound does not reach below 62.4 degrees there). Asymptotic: the o(D) terms
    are dropped, so at small D it is a guide, not a theorem."""
    if p < 2:
        return math.nan
    need = math.log2(p) / d
    hi = math.radians(KL_MAX_ANGLE_DEG)
    if kl_rate(hi) >= need:
        return math.nan
    lo = 1e-9
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if kl_rate(mid) >= need:
            lo = mid
        else:
            hi = mid
    return math.degrees(lo)


@dataclass(frozen=True)
class CodeReport:
    """The stored features as a spherical code: P points in D dimensions, achieved minimum and mean
    pairwise angle, and the bounds (degrees)."""

    p: int
    d: int
    min_angle: float
    mean_angle: float
    simplex: float
    rankin: float
    kl: float

    def lines(self) -> list[str]:
        simplex = f"{self.simplex:.2f}" + (" (reachable: P <= D+1)" if self.p <= self.d + 1 else
                                          " (not reachable: P > D+1)")
        kl = "-" if math.isnan(self.kl) else f"{self.kl:.2f} (asymptotic)"
        return [f"  spherical code         P={self.p} points in D={self.d} dimensions",
                f"  min pairwise angle     {self.min_angle:.2f} degrees (mean {self.mean_angle:.2f})",
                f"  simplex arccos(-1/(P-1)) {simplex}",
                f"  Rankin bound           {self.rankin:.2f}",
                f"  Kabatiansky-Levenshtein {kl}"]


def code_report(f: np.ndarray) -> CodeReport:
    """:class:`CodeReport` of the rows of ``f`` (P x D features)."""
    p, d = np.asarray(f).shape
    angles = pair_angles_deg(f) if p >= 2 else np.array([math.nan])
    return CodeReport(p, d, float(angles.min()), float(angles.mean()), simplex_angle_deg(p),
                      rankin_angle_deg(p, d), kl_angle_deg(p, d))


# --------------------------------------------------------------------------------------------------
# the checker
# --------------------------------------------------------------------------------------------------

class KernelChecker(SoftmaxChecker):
    """is_stored(P) for the kernelized model: the softmax family's checker (criteria, cues, blocks,
    early stop, incremental first update) with scores taken between features (``_features``).

    ``identity``: the plain model, untouched. ``random``: features of each row computed once.
    ``learned``: for each P tried, W is learned on the first P patterns, warm-started from the W of
    the largest stored prefix below P (else the initial map); results are cached per P, so a
    revisited P costs nothing. A learning run that does not decrease the loss is recorded
    (``learn_failed``; the trial's ``learn_converged`` is then False).
    """

    def __init__(self, model: KernelModel, criterion: SoftmaxCriterion, source, n: int, p_limit: int,
                 seed: int = 0, kind: str | None = None, **kwargs):
        check_criterion(model, criterion)
        model.check_n(n)
        check_learned_cap(model, p_limit)
        super().__init__(model.softmax(), criterion, source, n, p_limit, seed, kind=kind, **kwargs)
        self.kmodel = model
        self.d = model.dim(n)
        self.w0 = initial_map(model, n, int(seed))
        self.maps: dict[int, LearnResult] = {}  # learned maps by prefix P
        self.stored_ps: list[int] = []
        self.learn_failed: list[int] = []
        self._fixed_rows = 0
        self._fx = np.empty((0, self.d), dtype=self.dtype)
        self._fc = self._fx
        self._map_p = 0  # the prefix whose W the current features use (learned)

    def map_for(self, p: int) -> LearnResult:
        """The learned map of the first p patterns (learned once per p)."""
        if p not in self.maps:
            below = [q for q in self.stored_ps if q < p]
            warm = self.maps[max(below)].w if below else self.w0
            self._ensure(p)
            result = learn_map(self.x[:p], warm, self.kmodel.tau, self.kmodel.learn_steps)
            self.maps[p] = result
            if not result.decreased:
                self.learn_failed.append(p)
        return self.maps[p]

    def _features(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        if self.w0 is None:  # identity: the plain model
            return super()._features(p)
        if self.kmodel.learned:
            if p != self._map_p:
                self._w = self.map_for(p).w
                self._fx = features(self._w, self.x[:p], self.dtype)
                self._fc = self._fx if self.noise == 0 else features(self._w, self.cues[:p], self.dtype)
                self._map_p = p
                self._reset()  # every row's features changed
            return self._fx, self._fc
        self._w = self.w0
        if p > self._fixed_rows:  # random map: features of the new rows only
            fx = np.empty((p, self.d), dtype=self.dtype)
            fx[:self._fixed_rows] = self._fx[:self._fixed_rows]
            fx[self._fixed_rows:p] = features(self.w0, self.x[self._fixed_rows:p], self.dtype)
            if self.noise == 0:
                fc = fx
            else:
                fc = np.empty_like(fx)
                fc[:self._fixed_rows] = self._fc[:self._fixed_rows]
                fc[self._fixed_rows:p] = features(self.w0, self.cues[self._fixed_rows:p], self.dtype)
            self._fx, self._fc, self._fixed_rows = fx, fc, p
        return self._fx[:p], self._fc[:p]

    def _state_features(self, states: np.ndarray) -> np.ndarray:
        return states if self.w0 is None else features(self._w, states, self.dtype)

    def __call__(self, p: int) -> bool:
        stored = super().__call__(p)
        if stored:
            self.stored_ps.append(p)
        return stored

    def current_map(self, p: int) -> np.ndarray | None:
        """W used at prefix p (None: identity)."""
        if self.w0 is None:
            return None
        return self.map_for(p).w if self.kmodel.learned else self.w0

    def outcome(self, p_max: int) -> dict:
        """The family's result columns for the trial's stored prefix of p_max patterns (and the
        learned map saved when the model asks for it)."""
        learned = self.kmodel.learned
        out = {"learn_converged": (not self.learn_failed) if learned else None,
               "min_angle_deg": None, "mean_angle_deg": None,
               "learn_s": round(sum(r.seconds for r in self.maps.values()), 6) if learned else None}
        if p_max >= 2:
            self._ensure(p_max)
            w = self.current_map(p_max)
            report = code_report(unit_features(w, self.x[:p_max]))
            out["min_angle_deg"], out["mean_angle_deg"] = report.min_angle, report.mean_angle
        if self.kmodel.save_map is not None and p_max >= 1:
            self._ensure(p_max)
            save_map(self.kmodel.save_map, self.current_map(p_max), self.x[:p_max], self.kmodel,
                     self.n, learn_converged=not self.learn_failed)
        return out


# --------------------------------------------------------------------------------------------------
# saved maps
# --------------------------------------------------------------------------------------------------

def save_map(path: str, w: np.ndarray, x: np.ndarray, model: KernelModel, n: int,
             learn_converged: bool) -> None:
    """Write a learned map with the stored patterns it was learned on (.npz; ``hopcap info``
    reads it back with the spherical-code report)."""
    np.savez(path, feature_map=np.asarray(w, dtype=np.float64), patterns=np.asarray(x),
             n=n, d=model.dim(n), p=len(x), tau=model.tau, learn_steps=model.learn_steps,
             beta=model.beta.label, learn_converged=learn_converged)


def is_map_file(data) -> bool:
    """True for an .npz written by :func:`save_map` (an open np.load of it)."""
    return "feature_map" in data.files and "patterns" in data.files


def map_report(path: str) -> CodeReport:
    """The spherical-code report of a saved map's stored features."""
    from ...datasets import load_array_file

    with load_array_file(path) as data:
        if not is_map_file(data):
            raise HopcapError(f"{path}: not a saved feature map (no feature_map and patterns arrays)")
        w, x = data["feature_map"], data["patterns"]
    if w.ndim != 2 or x.ndim != 2 or w.shape[1] != x.shape[1]:
        raise HopcapError(f"{path}: feature_map {w.shape} does not fit patterns {x.shape}")
    return code_report(unit_features(w, x))


def kernel_capacity(model: KernelModel, criterion: SoftmaxCriterion, source, n: int, p_limit: int,
                    seed: int = 0, kind: str | None = None):
    """Largest stored prefix of ``source`` up to ``p_limit`` (a ``search.SearchOutcome``)."""
    from ...search import capacity_of_sequence

    return capacity_of_sequence(model, criterion, source, n, p_limit, seed,
                                checker_factory=lambda *a: KernelChecker(*a, kind=kind))
