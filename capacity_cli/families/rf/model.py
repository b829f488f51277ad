"""The random-feature dense associative memory (DrDAM; Hoover, Chau, Strobelt, Ram & Krotov 2024):
model, feature maps, checkers and the exact counterpart. Conventions: docs/theory.md section 9,
modern.md section C.

A +-1 state y is read as u = (1 + y) / (2 sqrt N) (entries 0 or 1/sqrt N, so |u - v|^2 = H / N). The
kernel k(u, v) = exp(-(beta/2) |u - v|^2) is approximated with Y frequencies omega_k ~ Normal(0, I_N)
applied to sqrt(beta) u (2Y numbers per feature vector):

* trig (Rahimi & Recht): phi(u) = Y^-1/2 [cos(omega_k . sqrt(beta) u), sin(omega_k . sqrt(beta) u)];
* positive (Performer): phi(u) = exp(-beta |u|^2) (2Y)^-1/2 [exp(+-omega_k . sqrt(beta) u)].

Both have E[phi(u) . phi(v)] = k(u, v). (modern.md C writes the positive prefactor as
exp(-beta |u|^2 / 2): that one estimates exp(beta u . v), which on binary states differs from k by
exp(-beta (|u|^2 + |v|^2) / 2), a factor that changes with the state; hopcap uses exp(-beta |u|^2),
the prefactor of the Gaussian kernel.) The memory is T = sum_mu phi(u_mu), 2Y numbers whatever P;
the energy E~(y) = -(1/beta) log max(phi(u) . T, tiny), and a unit flips when E~ strictly drops,
beyond the relative tie tolerance :data:`TIE_RTOL` (kernels.rf).

The exact counterpart (MrDAM) is hopcap's binary ``exp`` model at beta / (4N): on binary states
sum_mu k(u, u_mu) = exp(-beta/4) sum_mu exp(beta x_mu . y / (4N)).

Frequencies come from the trial's seed (``features_seed`` None: every trial its own memory
realisation) or from ``features_seed`` (one realisation for every trial). They are drawn as a
Y x N standard normal array in row order, so the first Y' features of a realisation with Y >= Y'
features are those of the realisation with Y' features (nested feature sets).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...criteria import Overlap, Retrieve, Stable, allowed_failures, cue_flips, target_overlap
from ...errors import HopcapError
from ...kernels import rf as ker
from ...limits import check_memory
from ...models import BinaryDAM
from ...options import FEATURES_MAX as OPTION_FEATURES_MAX
from ...search import _PrefixCache, _run_groups

FEATURE_KINDS = ("trig", "positive")
#: Largest Y (--features, options.FEATURES_MAX): the float64 sums then stay within TIE_RTOL
#: (docs/theory.md 9).
FEATURES_MAX = OPTION_FEATURES_MAX
#: beta range (the paper's units). The paper uses 5..50; below 1e-3 every kernel value is 1 to within
#: 1e-4 per unit of Hamming distance, above 1e3 exp(theta) of positive features nears overflow.
BETA_MIN, BETA_MAX = 1e-3, 1e3
TIE_RTOL = ker.TIE_RTOL
#: Stream number mixed into a trial's seed to draw its frequencies (the cues use the seed itself).
FEATURE_STREAM = 0xF3A7
#: Bytes per (unit, feature) while a realisation is built: omega, W, its two tables and one
#: temporary, float64.
FEATURE_BYTES = 5 * 8

PatternSource = Callable[[int], np.ndarray]


@dataclass(frozen=True)
class RandomFeatureDAM:
    """DrDAM with inverse temperature ``beta`` (the paper's units), ``features`` = Y frequencies,
    feature ``kind`` (trig or positive), frequencies from the trial's seed or ``features_seed``."""

    beta: float
    features: int
    kind: str = "trig"
    features_seed: int | None = None
    name = "rf"

    def __post_init__(self) -> None:
        try:
            beta = float(self.beta)
        except (TypeError, ValueError):
            raise HopcapError(f"--beta {self.beta}: rf takes a number (the paper's beta), not a rule "
                              "in N") from None
        if not (math.isfinite(beta) and BETA_MIN <= beta <= BETA_MAX):
            raise HopcapError(f"--beta must be a finite number in [{BETA_MIN:g}, {BETA_MAX:g}] for rf, "
                              f"got {self.beta}")
        object.__setattr__(self, "beta", beta)
        y = self.features
        if isinstance(y, bool) or not isinstance(y, int | np.integer) or not 1 <= y <= FEATURES_MAX:
            raise HopcapError(f"--features must be an integer in [1, {FEATURES_MAX}], got {y}")
        object.__setattr__(self, "features", int(y))
        if self.kind not in FEATURE_KINDS:
            raise HopcapError(f"unknown --feature-kind {self.kind!r}; choose one of "
                              f"{', '.join(FEATURE_KINDS)}")
        seed = self.features_seed
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
                raise HopcapError(f"--features-seed must be an integer >= 0, got {seed}")
            object.__setattr__(self, "features_seed", int(seed))

    @property
    def label(self) -> str:
        """e.g. ``rf beta=10 Y=4096 trig`` (``omega seed S`` when the frequencies are fixed)."""
        text = f"rf beta={self.beta:g} Y={self.features} {self.kind}"
        return text if self.features_seed is None else f"{text} omega seed {self.features_seed}"

    def exact(self, n: int) -> BinaryDAM:
        """The exact counterpart at N = n: ``exp`` with beta / (4N) (modern.md C)."""
        return BinaryDAM("exp", beta=self.beta / (4 * n))


@dataclass(frozen=True)
class FeatureMap:
    """One realisation of the frequencies for N units, in the kernels' layout: W[i, k] =
    sqrt(beta / N) omega_k,i, and the tables of kernels.rf (trig: cos W - 1, sin W; positive:
    exp W, exp -W), all (N, Y) float64."""

    kind: str
    beta: float
    w: np.ndarray
    tab1: np.ndarray
    tab2: np.ndarray

    @property
    def code(self) -> int:
        return ker.TRIG if self.kind == "trig" else ker.POSITIVE

    @property
    def n(self) -> int:
        return self.w.shape[0]

    @property
    def up_down(self) -> tuple[float, float]:
        """(e^(beta/N), e^(-beta/N)): the positive features' |u|^2 factor of a flip of y_i = +1, -1."""
        return math.exp(self.beta / self.n), math.exp(-self.beta / self.n)

    def empty_memory(self) -> tuple[np.ndarray, np.ndarray]:
        y = self.w.shape[1]
        return np.zeros(y), np.zeros(y)

    def add(self, x: np.ndarray, lo: int, p: int, t1: np.ndarray, t2: np.ndarray) -> None:
        """T += the features of rows lo..p-1 of x (unnormalised, kernels.rf)."""
        ker.add_features(x, lo, p, self.w, self.code, self.beta, t1, t2)

    def scale(self, t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
        """The per-unit bound of trig gains (kernels.rf.trig_scale); zeros for positive features."""
        out = np.zeros(self.n)
        if self.code == ker.TRIG:
            ker.trig_scale(self.tab1, self.tab2, t1, t2, out)
        return out


def frequencies(model: RandomFeatureDAM, n: int, seed: int = 0) -> np.ndarray:
    """omega, (Y, N) standard normal: from ``model.features_seed`` when set, else from the trial's
    (dynamics) seed ``seed``; rows in draw order (nested in Y)."""
    if model.features_seed is not None:
        entropy = [model.features_seed]
    else:
        entropy = [int(seed) % 2**64, FEATURE_STREAM]
    return np.random.default_rng(np.random.SeedSequence(entropy)).standard_normal((model.features, n))


def feature_map(model: RandomFeatureDAM, n: int, seed: int = 0) -> FeatureMap:
    """The realisation of ``model``'s frequencies at N = n for a trial with (dynamics) seed ``seed``."""
    check_memory(FEATURE_BYTES * n * model.features, f"rf with Y={model.features} at N={n}",
                 "lower --features or --n")
    w = np.ascontiguousarray(frequencies(model, n, seed).T * math.sqrt(model.beta / n))
    if model.kind == "trig":
        tab1 = -2.0 * np.sin(w / 2) ** 2  # cos W - 1 without cancellation
        tab2 = np.sin(w)
    else:
        tab1, tab2 = np.exp(w), np.exp(-w)
    return FeatureMap(model.kind, model.beta, w, tab1, tab2)


def features(fmap: FeatureMap, x: np.ndarray) -> np.ndarray:
    """phi(u) of every row of x (+-1), normalised as in the paper: (rows, 2Y)."""
    x = np.atleast_2d(np.asarray(x))
    n, y = fmap.w.shape
    theta = (x > 0).astype(np.float64) @ fmap.w
    if fmap.kind == "trig":
        return np.hstack([np.cos(theta), np.sin(theta)]) / math.sqrt(y)
    sq = (x > 0).sum(axis=1, keepdims=True) / n
    pre = np.exp(-fmap.beta * sq) / math.sqrt(2 * y)
    return np.hstack([pre * np.exp(theta), pre * np.exp(-theta)])


def energy(fmap: FeatureMap, memory: np.ndarray, y: np.ndarray, tiny: float = 1e-300) -> float:
    """E~(y) = -(1/beta) log max(phi(u) . T, tiny), T = ``memory`` (2Y, e.g. features(x).sum(0))."""
    return -math.log(max(float(features(fmap, y)[0] @ memory), tiny)) / fmap.beta


# --------------------------------------------------------------------------------------------------
# checkers
# --------------------------------------------------------------------------------------------------

class _RFChecker(_PrefixCache):
    """Patterns and the memory T of the last stored prefix: a check of P after the stored prefix L
    adds the features of rows L..P-1 (O((P - L) N Y)); a check below L rebuilds T from scratch."""

    def __init__(self, model: RandomFeatureDAM, criterion, source: PatternSource, n: int,
                 p_limit: int, seed: int):
        super().__init__(source)
        self.model, self.criterion, self.n, self.p_limit = model, criterion, n, max(p_limit, 1)
        self.seed = np.uint64(int(seed) % 2**64)
        self.fmap = feature_map(model, n, int(seed))
        self.up, self.down = self.fmap.up_down
        self.lo = 0
        self.t1, self.t2 = self.fmap.empty_memory()

    def memory(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """(t1, t2) of the prefix of p patterns (a copy; the stored prefix's stays)."""
        self.ensure(p)
        if p < self.lo:
            self.lo = 0
            self.t1, self.t2 = self.fmap.empty_memory()
        t1, t2 = self.t1.copy(), self.t2.copy()
        self.fmap.add(self.x, self.lo, p, t1, t2)
        return t1, t2

    def keep(self, p: int, t1: np.ndarray, t2: np.ndarray) -> None:
        self.lo, self.t1, self.t2 = p, t1, t2

    def kernel_args(self, t1, t2, scale) -> tuple:
        f = self.fmap
        return (f.code, f.w, f.tab1, f.tab2, t1, t2, scale, self.up, self.down)


class StabilityChecker(_RFChecker):
    """is_stored(P) for ``stable``: no unit of a pattern flips, for a threshold fraction of the
    prefix; all patterns in parallel, O(P N Y) per check. ``stable``/``margin`` hold the per-pattern
    outputs of the last stored prefix."""

    def __init__(self, model, criterion: Stable, source, n, p_limit, seed=0):
        super().__init__(model, criterion, source, n, p_limit, seed)
        self.stable = np.zeros(0, dtype=np.bool_)
        self.margin = np.zeros(0)

    def decisions(self, p: int, allowed: int) -> tuple[int, np.ndarray, np.ndarray, tuple]:
        """(failures, stable int8, margin, (t1, t2)) of the prefix p; complete when failures <= allowed."""
        t1, t2 = self.memory(p)
        scale = self.fmap.scale(t1, t2)
        stable = np.zeros(p, dtype=np.int8)
        margin = np.empty(p)
        args = (self.x, p, *self.kernel_args(t1, t2, scale), allowed)
        bad = _run_groups(ker.stable_prefix, ker.stable_rows, args, (stable, margin),
                          p * self.n * self.model.features)
        return bad, stable, margin, (t1, t2)

    def __call__(self, p: int) -> bool:
        allowed = allowed_failures(self.criterion.threshold, p)
        bad, stable, margin, memory = self.decisions(p, allowed)
        if bad > allowed:
            return False
        self.keep(p, *memory)
        self.stable, self.margin = stable.astype(np.bool_), margin
        return True


class DynamicsChecker(_RFChecker):
    """is_stored(P) for ``retrieve`` and ``overlap``: every pattern of the prefix relaxes from its
    cue (the binary family's cues and sweep orders) and must end at overlap >= the target."""

    def __init__(self, model, criterion: Retrieve | Overlap, source, n, p_limit, seed=0):
        super().__init__(model, criterion, source, n, p_limit, seed)
        self.n_flip = cue_flips(criterion.noise, n)
        self.target = target_overlap(criterion, n)
        self.final_overlap = np.zeros(0, dtype=np.int64)
        self.sweeps = np.zeros(0, dtype=np.int64)
        self.converged = np.zeros(0, dtype=np.bool_)

    def __call__(self, p: int) -> bool:
        t1, t2 = self.memory(p)
        scale = self.fmap.scale(t1, t2)
        final = np.zeros(p, dtype=np.int64)
        sweeps = np.zeros(p, dtype=np.int64)
        converged = np.zeros(p, dtype=np.bool_)
        allowed = allowed_failures(self.criterion.threshold, p)
        args = (self.x, p, *self.kernel_args(t1, t2, scale), self.n_flip, self.target,
                self.criterion.max_sweeps, self.seed, allowed)
        bad = _run_groups(ker.relax_prefix, ker.relax_rows, args, (final, sweeps, converged),
                          2 * p * self.n * self.model.features)
        if bad > allowed:
            return False
        self.keep(p, t1, t2)
        self.final_overlap, self.sweeps, self.converged = final, sweeps, converged
        return True

    def diagnostics(self, p: int) -> tuple[bool, int] | None:
        """(every pattern converged before the sweep cap, most sweeps any pattern used) for the last
        stored prefix when it has p patterns, else None."""
        if self.sweeps.size != p:
            return None
        return bool(self.converged.all()), int(self.sweeps.max())


def make_checker(model: RandomFeatureDAM, criterion, source: PatternSource, n: int, p_limit: int,
                 seed: int = 0):
    """is_stored(P) for the rf model under a binary criterion (stable, retrieve, overlap)."""
    if isinstance(criterion, Stable):
        return StabilityChecker(model, criterion, source, n, p_limit, seed)
    if isinstance(criterion, Retrieve | Overlap):
        return DynamicsChecker(model, criterion, source, n, p_limit, seed)
    raise HopcapError(f"criterion {getattr(criterion, 'name', criterion)!r} does not apply to rf; "
                      "choose one of stable, retrieve, overlap")


# --------------------------------------------------------------------------------------------------
# per-pattern decisions against the exact model
# --------------------------------------------------------------------------------------------------

def stable_patterns(model: RandomFeatureDAM, x: np.ndarray, seed: int = 0) -> np.ndarray:
    """Per pattern of the set x (+-1 rows, in order): is it a fixed point of the rf dynamics with
    T = the features of all rows (frequencies of a trial with dynamics seed ``seed``)."""
    x = np.ascontiguousarray(x, dtype=np.int8)
    p, n = x.shape
    checker = StabilityChecker(model, Stable(), lambda q: x[:q], n, p, seed)
    _, stable, _, _ = checker.decisions(p, p)  # p allowed failures: never stops early
    return stable.astype(np.bool_)


#: A threshold that lets all but one pattern fail: the binary checker then decides every pattern
#: unless all fail (and then every one failed).
_LAX_THRESHOLD = 1e-12


def exact_stable_patterns(beta: float, x: np.ndarray) -> np.ndarray:
    """Per pattern of x: is it a fixed point of the exact counterpart (binary ``exp`` at beta / (4N)),
    decided by the binary family's (exact) stability checker."""
    from ...search import StabilityChecker as BinaryStability

    x = np.ascontiguousarray(x, dtype=np.int8)
    p, n = x.shape
    checker = BinaryStability(BinaryDAM("exp", beta=beta / (4 * n)), Stable(_LAX_THRESHOLD),
                              lambda q: x[:q], n, p)
    if not checker(p):
        return np.zeros(p, dtype=np.bool_)
    return checker.stable.copy()
