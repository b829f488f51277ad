"""The continuous modern Hopfield network (Ramsauer et al. 2020): model, criteria, patterns, checker.

State xi in R^N, update xi <- X^T softmax(beta X xi) (X: the P x N stored patterns), energy
E = -lse(beta, X xi) + xi.xi / 2 + const. Conventions (docs/theory.md section 5; modern.md section A):

* beta multiplies raw dot products; ``BetaRule`` also allows c / sqrt(N) (attention scaling) and c / N;
* pattern kinds: ``pm1`` (+-1 rows from any hopcap generator or dataset) and ``sphere`` (i.i.d.
  Gaussian rows rescaled to norm sqrt(N)); both have norm sqrt(N);
* relative error r = |xi_final - x_i| / |x_i|;
* cues: round(rho N) distinct flipped bits (pm1, the binary family's cues) or Gaussian noise of norm
  rho |x_i| in a uniform direction (sphere), drawn from (seed, pattern index) only.

| criterion     | pattern i succeeds when                                                          |
|---------------|----------------------------------------------------------------------------------|
| retrieve-eps  | K updates from its cue end with r <= eps                                          |
| sign          | (pm1 only) sign of the state after K updates equals x_i; a zero unit fails        |
| fixed-point   | iterating from x_i converges (|step| < tol |state|) within max_steps, with r <= eps |

A set of P patterns is stored when at least threshold * P of them succeed
(``criteria.allowed_failures``). ``SoftmaxChecker`` decides it for prefixes of a pattern sequence and
works with ``search.largest_storable``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...criteria import _check_threshold, allowed_failures, cue_flips
from ...datasets import SpherePatternStream, sphere_patterns  # noqa: F401  (re-exported)
from ...errors import HopcapError
from ...kernels import softmax as ker
from ...limits import EPS_MAX, SOFTMAX_BETA_MAX, check_range
from ...options import BETA_PATTERN

KINDS = ("pm1", "sphere")
DTYPES = ("float64", "float32")
#: |step| < CONVERGED_TOL |state| counts as converged for the K-step criteria (as FixedPoint's tol).
CONVERGED_TOL = 1e-12
#: In float32 no tolerance below this is reachable; FixedPoint's tol is raised to it.
FLOAT32_TOL = 1e-6
#: At most this many scores (rows x P) per block: 256 MB in float64, whatever P.
MAX_BLOCK_CELLS = 2**25

PatternSource = Callable[[int], np.ndarray]


# --------------------------------------------------------------------------------------------------
# beta and the model
# --------------------------------------------------------------------------------------------------



def _fmt(value: float) -> str:
    return format(value, ".12g")


@dataclass(frozen=True)
class BetaRule:
    """beta as a number (``per=""``) or as coef / sqrt(N) (``per="sqrtN"``) or coef / N (``per="N"``)."""

    coef: float
    per: str = ""

    def __post_init__(self) -> None:
        if self.per not in ("", "sqrtN", "N"):
            raise HopcapError(f"beta rule must be per '', 'sqrtN' or 'N', got {self.per!r}")
        if not (math.isfinite(self.coef) and self.coef > 0):
            raise HopcapError(f"--beta must be a finite number > 0, got {_fmt(self.coef)}")
        if self.per == "" and self.coef > SOFTMAX_BETA_MAX:
            raise HopcapError(f"--beta {_fmt(self.coef)} is out of range: softmax beta must be in "
                              f"(0, {SOFTMAX_BETA_MAX:g}] (capacity_cli/limits.py SOFTMAX_BETA_MAX)")

    def value(self, n: int) -> float:
        """beta at N = n; a HopcapError where it leaves (0, SOFTMAX_BETA_MAX] (a rule at small N)."""
        if self.per == "sqrtN":
            beta = self.coef / math.sqrt(n)
        elif self.per == "N":
            beta = self.coef / n
        else:
            return float(self.coef)
        if not 0 < beta <= SOFTMAX_BETA_MAX:
            raise HopcapError(f"--beta {self.label} is {beta:.3g} at N={n}: softmax beta must be in "
                              f"(0, {SOFTMAX_BETA_MAX:g}] at every N (capacity_cli/limits.py "
                              "SOFTMAX_BETA_MAX)")
        return beta

    @property
    def label(self) -> str:
        """The text recorded in the CSV: "2", "0.5/sqrtN", "1/N"."""
        return _fmt(self.coef) + (f"/{self.per}" if self.per else "")


def parse_beta(text: str | float | int | BetaRule) -> BetaRule:
    """"2" -> 2; "0.5/sqrtN", "1/sqrt(N)" -> c / sqrt(N); "1/N" -> c / N (case-insensitive n)."""
    if isinstance(text, BetaRule):
        return text
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return BetaRule(float(text))
    match = BETA_PATTERN.match(str(text))
    if not match:
        raise HopcapError(f"--beta must be a number, c/sqrtN or c/N, got {text!r}")
    try:
        coef = float(match.group(1))
    except ValueError:
        raise HopcapError(f"--beta must be a number, c/sqrtN or c/N, got {text!r}") from None
    rule = match.group(2)
    per = "" if rule is None else ("N" if rule.strip().lower() == "n" else "sqrtN")
    return BetaRule(coef, per)


@dataclass(frozen=True)
class SoftmaxModel:
    """The continuous modern Hopfield network with inverse temperature ``beta`` (a BetaRule, or
    anything ``parse_beta`` reads), computed in ``dtype`` ("float64", or "float32": faster, errors
    r resolved to about 1e-6 only)."""

    beta: BetaRule
    dtype: str = "float64"
    name = "softmax"

    def __post_init__(self) -> None:
        object.__setattr__(self, "beta", parse_beta(self.beta))
        if self.dtype not in DTYPES:
            raise HopcapError(f"--dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")

    @property
    def label(self) -> str:
        """Short human label, e.g. ``softmax beta=1/sqrtN``."""
        return f"softmax beta={self.beta.label}" + ("" if self.dtype == "float64" else f" {self.dtype}")


# --------------------------------------------------------------------------------------------------
# criteria
# --------------------------------------------------------------------------------------------------

def _check_eps(eps: float) -> None:
    check_range("--eps", eps, 0, EPS_MAX, lo_open=True)


def _check_steps(steps: int, option: str = "--steps") -> None:
    if int(steps) != steps or steps < 1:
        raise HopcapError(f"{option} must be an integer >= 1, got {steps}")


def _check_noise(noise: float) -> None:
    # the pm1 bound (<= 0.5) needs the pattern kind: see check_compatible
    if not (math.isfinite(noise) and noise >= 0):
        raise HopcapError(f"--noise must be a finite number >= 0, got {noise}")


@dataclass(frozen=True)
class RetrieveEps:
    """``steps`` updates from the cue land within relative error ``eps`` of the pattern."""

    eps: float
    steps: int = 1
    noise: float = 0.0
    threshold: float = 1.0
    name = "retrieve-eps"

    def __post_init__(self) -> None:
        _check_eps(self.eps)
        _check_steps(self.steps)
        _check_noise(self.noise)
        _check_threshold(self.threshold)


@dataclass(frozen=True)
class SignRetrieve:
    """(+-1 patterns) the sign of the state after ``steps`` updates from the cue equals the pattern;
    a zero unit counts as a failure."""

    steps: int = 1
    noise: float = 0.0
    threshold: float = 1.0
    name = "sign"

    def __post_init__(self) -> None:
        _check_steps(self.steps)
        _check_noise(self.noise)
        _check_threshold(self.threshold)


@dataclass(frozen=True)
class FixedPoint:
    """Iterating from the pattern converges (|step| < tol |state|) within ``max_steps`` updates, and
    the fixed point has relative error r <= ``eps``. Not converging counts as a failure."""

    eps: float
    threshold: float = 1.0
    max_steps: int = 1000
    tol: float = CONVERGED_TOL
    name = "fixed-point"

    def __post_init__(self) -> None:
        _check_eps(self.eps)
        _check_threshold(self.threshold)
        _check_steps(self.max_steps, "--max-steps")
        if not (math.isfinite(self.tol) and self.tol > 0):
            raise HopcapError(f"--tol must be a finite number > 0, got {self.tol}")


SoftmaxCriterion = RetrieveEps | SignRetrieve | FixedPoint
CRITERIA = ("retrieve-eps", "sign", "fixed-point")


def check_compatible(criterion: SoftmaxCriterion, kind: str) -> None:
    """Raise when ``criterion`` does not apply to patterns of ``kind`` ("pm1" or "sphere")."""
    if kind not in KINDS:
        raise HopcapError(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if isinstance(criterion, SignRetrieve) and kind != "pm1":
        raise HopcapError("--criterion sign needs +-1 patterns (--kind pm1)")
    noise = getattr(criterion, "noise", 0.0)
    if kind == "pm1" and noise > 0.5:
        raise HopcapError(f"--noise must be in [0, 0.5] for +-1 patterns, got {noise}")


def pattern_kind(x: np.ndarray) -> str:
    """"pm1" when every entry is +-1, else "sphere" (any real rows)."""
    a = np.asarray(x)
    return "pm1" if a.size and bool(np.all(np.abs(a) == 1)) else "sphere"


# --------------------------------------------------------------------------------------------------
# sphere patterns
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PatternGeometry:
    """Norms and the minimum pairwise angle of a real pattern set (``hopcap info``)."""

    p: int
    n: int
    min_norm: float
    max_norm: float
    min_angle_deg: float  # smallest angle between two rows, degrees (nan when P < 2)
    max_cos: float = float("nan")  # largest cosine between two rows (nan when P < 2)


def _max_offdiag_cos(x: np.ndarray, block: int = ker.BLOCK) -> float:
    """max_{i != j} x_i.x_j / sqrt(|x_i|^2 |x_j|^2). For +-1 rows (N^2 < 2^53) the dot products and
    squared norms are exact integers and sqrt(N * N) = N exactly, so the cosine is m / N correctly
    rounded: duplicate rows give exactly 1 (angle 0), not 1 - 2^-53 (about 1e-6 degrees)."""
    xf = np.asarray(x, dtype=np.float64)
    sq = np.einsum("ij,ij->i", xf, xf)
    best = -np.inf
    block = max(1, min(block, MAX_BLOCK_CELLS // len(xf)))
    for a in range(0, len(xf), block):
        g = (xf[a:a + block] @ xf.T) / np.sqrt(np.outer(sq[a:a + block], sq))
        rows = np.arange(g.shape[0])
        g[rows, a + rows] = -np.inf
        best = max(best, float(g.max()))
    return best


def pattern_kind_stats(x: np.ndarray, block: int = ker.BLOCK) -> PatternGeometry:
    """Row norms (min, max), the largest pairwise cosine and the minimum pairwise angle in degrees,
    blocked (O(block x P) memory). The cosine is exact (correctly rounded) for +-1 rows."""
    xf = np.asarray(x, dtype=np.float64)
    if xf.ndim != 2 or xf.shape[0] < 1:
        raise HopcapError(f"patterns must be a non-empty 2-D array, got shape {xf.shape}")
    norms = np.linalg.norm(xf, axis=1)
    if xf.shape[0] < 2:
        cos = angle = float("nan")
    elif norms.min() == 0:
        raise HopcapError("a zero pattern has no direction")
    else:
        cos = min(1.0, max(-1.0, _max_offdiag_cos(xf, block)))
        angle = math.degrees(math.acos(cos))
    return PatternGeometry(p=xf.shape[0], n=xf.shape[1], min_norm=float(norms.min()),
                           max_norm=float(norms.max()), min_angle_deg=angle, max_cos=cos)


def separation(x: np.ndarray, block: int = ker.BLOCK) -> np.ndarray:
    """Delta_i = x_i.x_i - max_{j != i} x_i.x_j for every row (float64; +inf when P = 1).
    For +-1 rows Delta_i = 2 d_min(i), twice the Hamming distance to the nearest other row."""
    xf = np.asarray(x, dtype=np.float64)
    p = xf.shape[0]
    out = np.empty(p)
    block = max(1, min(block, MAX_BLOCK_CELLS // max(p, 1)))
    for a in range(0, p, block):
        g = xf[a:a + block] @ xf.T
        rows = np.arange(g.shape[0])
        own = g[rows, a + rows].copy()
        g[rows, a + rows] = -np.inf
        out[a:a + block] = own - g.max(axis=1)
    return out


# --------------------------------------------------------------------------------------------------
# Theorem 3 of Ramsauer et al.
# --------------------------------------------------------------------------------------------------

def lambert_w0_exp(log_x: float) -> float:
    """W0(exp(log_x)), the principal branch of the Lambert W function at x = exp(log_x) > 0,
    computed without forming x when it is large (Newton on w + ln w = log_x, or Halley on
    w e^w = x for log_x <= 1; both to full double precision)."""
    if not math.isfinite(log_x):
        raise HopcapError(f"Lambert W: argument exp({log_x}) is not finite")
    if log_x <= 1.0:
        x = math.exp(log_x)
        w = math.log1p(x)  # W0(x) <= log(1 + x) for x >= 0
        for _ in range(100):
            ew = math.exp(w)
            f = w * ew - x
            step = f / (ew * (w + 1) - (w + 2) * f / (2 * w + 2))
            w -= step
            if abs(step) <= 4e-16 * max(1.0, abs(w)):
                break
        return w
    # f(w) = w + ln w - L is concave and increasing; w0 = L - ln L has f(w0) < 0, so Newton's
    # iterates rise monotonically to the root (and stay positive).
    w = log_x - math.log(log_x)
    for _ in range(100):
        step = (w + math.log(w) - log_x) / (1 + 1 / w)
        w -= step
        if abs(step) <= 4e-16 * max(1.0, abs(w)):
            break
    return w


@dataclass(frozen=True)
class Theorem3:
    """The quantities of Ramsauer et al.'s Theorem 3 (see :func:`theorem3_bound`)."""

    a: float
    b: float
    c: float
    bound: float  # sqrt(p) c^((N-1)/4)
    holds: bool  # the theorem's condition c >= (2 / sqrt(p))^(4/(N-1)), i.e. bound >= 2


def theorem3(n: int, beta: float, p_fail: float = 0.001, K: float | None = None) -> Theorem3:
    """Ramsauer et al. (ICLR 2021, arXiv:2008.02217) Theorem 3 for patterns drawn uniformly on the
    sphere of radius M = K sqrt(N - 1) in R^N (the paper's d is N): with probability 1 - p_fail,
    at least sqrt(p_fail) c^((N-1)/4) random patterns can be stored (each one's 1-step retrieval is
    well separated), where

        a = 2/(N-1) (1 + ln(2 beta K^2 p_fail (N-1))),  b = 2 K^2 beta / 5,  c = b / W0(exp(a + ln b)),

    provided c >= (2/sqrt(p_fail))^(4/(N-1)) (equivalently bound >= 2; ``holds``). beta has the
    paper's (and hopcap's) units: it multiplies raw dot products.

    K = M / sqrt(N - 1). hopcap's patterns have norm M = sqrt(N), hence the default
    K = sqrt(N / (N - 1)). The paper's example (beta = 1, K = 3, N = 20, p = 0.001) gives c = 3.1546
    and a bound of 7.4 patterns; its second (beta = 1, K = 1, N = 75) gives c = 1.3718.
    """
    if not (math.isfinite(n) and n >= 2):  # the formula is continuous in N (plots draw it so)
        raise HopcapError(f"--n must be a number >= 2, got {n}")
    if not (math.isfinite(beta) and beta > 0):
        raise HopcapError(f"beta must be a finite number > 0, got {beta}")
    if not (0.0 < p_fail <= 1.0):
        raise HopcapError(f"failure probability must be in (0, 1], got {p_fail}")
    if K is None:
        K = math.sqrt(n / (n - 1))
    if not (math.isfinite(K) and K > 0):
        raise HopcapError(f"K must be a finite number > 0, got {K}")
    d1 = n - 1
    a = 2.0 / d1 * (1.0 + math.log(2.0 * beta * K * K * p_fail * d1))
    b = 2.0 * K * K * beta / 5.0
    c = b / lambert_w0_exp(a + math.log(b))
    log_bound = 0.5 * math.log(p_fail) + d1 / 4.0 * math.log(c)
    bound = math.exp(log_bound) if log_bound < 709 else math.inf
    return Theorem3(a=a, b=b, c=c, bound=bound, holds=log_bound >= math.log(2.0))


def theorem3_bound(n: int, beta: float, p_fail: float = 0.001, K: float | None = None) -> float:
    """sqrt(p_fail) c^((N-1)/4) of :func:`theorem3` (a guarantee only when it is >= 2)."""
    return theorem3(n, beta, p_fail, K).bound


# --------------------------------------------------------------------------------------------------
# the capacity checker
# --------------------------------------------------------------------------------------------------

class SoftmaxChecker:
    """is_stored(P) for the softmax model: every pattern of the prefix of P patterns (or a threshold
    fraction) meets ``criterion``. Same protocol as ``search.StabilityChecker``: ``source(p)``
    returns the first p patterns of a prefix-stable sequence; ``search.largest_storable`` works
    with it.

    The first update of the stored prefix's cues is kept (running max m, sum z and unnormalised
    new state u per cue), so checking P after a stored prefix L only computes the new columns
    L..P-1 of the old cues' scores plus the new cues' rows: O((P - L)(P + L) N) for the first update
    instead of O(P^2 N). Later updates (steps > 1, fixed-point) are recomputed in full. Rows are
    processed in blocks of ``block`` (fewer when block x P would exceed MAX_BLOCK_CELLS), so
    memory is O(block x P + P N).

    A check stops early only once more patterns have failed than allowed (the decision never
    depends on timing). After every stored check, ``final_error`` (r), ``converged`` (the last
    update moved the state by < tol |state|) and ``steps`` (updates run) hold the per-pattern
    outputs of that prefix.

    ``kind`` ("pm1" or "sphere") is read from the first rows when None.
    """

    def __init__(self, model: SoftmaxModel, criterion: SoftmaxCriterion, source: PatternSource,
                 n: int, p_limit: int, seed: int = 0, kind: str | None = None,
                 block: int = ker.BLOCK):
        if not isinstance(criterion, (RetrieveEps, SignRetrieve, FixedPoint)):
            raise HopcapError(f"criterion {getattr(criterion, 'name', criterion)!r} does not apply "
                              f"to the softmax model; choose one of {', '.join(CRITERIA)}")
        if kind is not None:
            check_compatible(criterion, kind)
        self.model, self.criterion, self.source, self.n = model, criterion, source, n
        self.p_limit, self.kind, self.block = p_limit, kind, block
        self.dtype = np.dtype(model.dtype)
        self.beta = model.beta.value(n)
        self.seed = np.uint64(int(seed) % 2**64)
        self.noise = getattr(criterion, "noise", 0.0)
        if isinstance(criterion, FixedPoint):
            self.tol = criterion.tol
            self.k_steps = criterion.max_steps
        else:
            self.tol = CONVERGED_TOL
            self.k_steps = criterion.steps
        if self.dtype == np.float32:
            self.tol = max(self.tol, FLOAT32_TOL)
        self.count = 0
        self.x = np.empty((0, n), dtype=self.dtype)
        self.cues = self.x
        self._reset()
        self.final_error = np.zeros(0)
        self.converged = np.zeros(0, dtype=np.bool_)
        self.steps = np.zeros(0, dtype=np.int64)

    def _reset(self) -> None:
        self.lo = 0
        self.m = np.zeros(0)
        self.z = np.zeros(0)
        self.u = np.zeros((0, self.n), dtype=self.dtype)

    # -- patterns and cues ------------------------------------------------------------------------

    def _ensure(self, p: int) -> None:
        if p <= self.count:
            return
        rows = np.asarray(self.source(p))
        if rows.ndim != 2 or rows.shape[1] != self.n:
            raise HopcapError(f"patterns must have shape (P, {self.n}), got {rows.shape}")
        if len(rows) < p:
            raise HopcapError(f"the pattern sequence has only {len(rows)} patterns, {p} requested")
        start = self.count
        new = rows[start:p]
        if self.kind is None:
            self.kind = pattern_kind(new)
            check_compatible(self.criterion, self.kind)
        elif self.kind == "pm1" and pattern_kind(new) != "pm1":
            raise HopcapError("--kind pm1 needs +-1 patterns")
        if p > self.x.shape[0]:
            cap = max(p, 3 * self.x.shape[0] // 2)
            x = np.empty((cap, self.n), dtype=self.dtype)
            x[:start] = self.x[:start]
            self.x = x
            if self.noise > 0:
                cues = np.empty((cap, self.n), dtype=self.dtype)
                cues[:start] = self.cues[:start]
                self.cues = cues
        self.x[start:p] = new
        if self.noise > 0:
            make_cues(self.x, start, p, self.kind, self.noise, self.seed, self.cues)
        else:
            self.cues = self.x
        self.count = p

    # -- the check --------------------------------------------------------------------------------

    def __call__(self, p: int) -> bool:
        if p < 1:
            raise HopcapError(f"P must be >= 1, got {p}")
        self._ensure(p)
        keys, cue_keys = self._features(p)
        if p <= self.lo:  # never happens inside largest_storable; start afresh
            self._reset()
        lo, n, beta = self.lo, self.n, self.beta
        block = max(1, min(self.block, MAX_BLOCK_CELLS // p))
        x = self.x[:p]
        self._keys = keys
        allowed = allowed_failures(self.criterion.threshold, p)
        one_step = self.k_steps == 1
        m = np.empty(p)
        z = np.empty(p)
        u = np.empty((p, n), dtype=self.dtype)
        err = np.empty(p)
        moved = np.empty(p)
        ok = np.zeros(p, dtype=np.bool_)
        steps = np.ones(p, dtype=np.int64)
        failures = 0
        # First update: old cues gain the new columns, new cues get whole rows.
        spans = [(a, min(a + block, lo), lo) for a in range(0, lo, block)]
        spans += [(a, min(a + block, p), 0) for a in range(lo, p, block)]
        for a, b, col in spans:
            scores = cue_keys[a:b] @ keys[col:p].T
            scale = np.empty(b - a)
            if col:
                m[a:b] = self.m[a:b]
                z[a:b] = self.z[a:b]
            else:
                m[a:b] = -np.inf
                z[a:b] = 0.0
            ker.softmax_extend(scores, beta, m[a:b], z[a:b], scale)
            if col:
                u[a:b] = self.u[a:b] * scale[:, None].astype(self.dtype, copy=False)
                u[a:b] += scores @ x[col:p]
            else:
                u[a:b] = scores @ x[col:p]
            if one_step:
                failures += self._finish(a, b, u, z, x, err, moved, ok, steps)
                if failures > allowed:
                    return False
        if not one_step:
            for a in range(0, p, block):
                b = min(a + block, p)
                failures += self._finish(a, b, u, z, x, err, moved, ok, steps)
                if failures > allowed:
                    return False
        self.lo, self.m, self.z, self.u = p, m, z, u
        self.final_error, self.steps = err, steps
        self.converged = moved < self.tol
        return True

    def diagnostics(self, p: int) -> tuple[bool, int] | None:
        """(every pattern's last update moved it by < tol, most updates any pattern ran) for the
        last stored prefix when it has p patterns, else None (the ``converged`` and ``sweeps``
        columns)."""
        if self.steps.size != p:
            return None
        return bool(self.converged.all()), int(self.steps.max())

    def _features(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """(keys of the first p patterns, keys of their cues): the rows the scores are taken
        between. The plain model scores raw states; a subclass may map them to features (and must
        then call ``_reset`` when the keys of rows already checked change)."""
        return self.x[:p], self.cues[:p]

    def _state_features(self, states: np.ndarray) -> np.ndarray:
        """The keys of later updates' states (raw states for the plain model)."""
        return states

    def _finish(self, a, b, u, z, x, err, moved, ok, steps) -> int:
        """Run the updates after the first for rows a..b, decide them; return their failures."""
        xb = x[a:b]
        state = np.empty((b - a, self.n))
        ker.finish_rows(u[a:b], z[a:b], xb, self.cues[a:b], state, err[a:b], moved[a:b])
        fixed = isinstance(self.criterion, FixedPoint)
        if self.k_steps > 1:
            active = np.arange(b - a)
            if fixed:
                active = active[moved[a:b] >= self.tol]
            done = 1
            while len(active) and done < self.k_steps:
                prev = state[active]
                keys = self._state_features(prev.astype(self.dtype, copy=False))
                su, sz = ker.update_block(keys, self._keys, self.beta, values=x)
                new = np.empty_like(prev)
                e = np.empty(len(active))
                mv = np.empty(len(active))
                ker.finish_rows(su, sz, xb[active], prev, new, e, mv)
                state[active] = new
                err[a + active] = e
                moved[a + active] = mv
                done += 1
                steps[a + active] = done
                if fixed:
                    active = active[mv >= self.tol]
        if isinstance(self.criterion, SignRetrieve):
            ker.sign_matches(state, xb, ok[a:b])
        elif fixed:
            ok[a:b] = (moved[a:b] < self.tol) & (err[a:b] <= self.criterion.eps)
        else:
            ok[a:b] = err[a:b] <= self.criterion.eps
        return int((~ok[a:b]).sum())


def make_cues(x: np.ndarray, start: int, stop: int, kind: str, noise: float, seed: int | np.uint64,
              out: np.ndarray) -> None:
    """Write the cues of patterns start..stop-1 of ``x`` into ``out`` (same rows): pm1: round(noise N)
    distinct flipped bits; sphere: Gaussian noise of norm noise |x_i|. Each from (seed, index) only."""
    seed = np.uint64(int(seed) % 2**64)
    if kind == "pm1":
        ker.pm1_cues(x, start, stop, cue_flips(noise, x.shape[1]), seed, out)
    else:
        ker.sphere_cues(x, start, stop, float(noise), seed, out)


def cues_of(x: np.ndarray, noise: float, seed: int, kind: str | None = None) -> np.ndarray:
    """The cues of every row of ``x`` (float64), as a checker with this noise and seed uses them."""
    xf = np.ascontiguousarray(x, dtype=np.float64)
    kind = pattern_kind(xf) if kind is None else kind
    out = xf.copy()
    if noise > 0:
        make_cues(xf, 0, len(xf), kind, noise, seed, out)
    return out


def softmax_capacity(model: SoftmaxModel, criterion: SoftmaxCriterion, source: PatternSource, n: int,
                     p_limit: int, seed: int = 0, kind: str | None = None):
    """Largest stored prefix of ``source`` up to ``p_limit`` (a ``search.SearchOutcome``)."""
    from ...search import largest_storable

    return largest_storable(SoftmaxChecker(model, criterion, source, n, p_limit, seed, kind), p_limit)
