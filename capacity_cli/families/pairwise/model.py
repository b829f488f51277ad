"""Pairwise networks with learned couplings (modern.md E; docs/theory.md section 11).

h = W y; unit i is stable when y_i h_i >= 0 (an exact tie keeps the state); asynchronous dynamics
as the binary family's (kernels.pairwise). The couplings W of a stored prefix X (P x N) come from a
learning rule:

| rule         | W                                                                     | source |
|--------------|-----------------------------------------------------------------------|--------|
| hebbian      | X^T X, zero diagonal (the binary ``hebbian`` model, decision for decision) | Hopfield 1982 |
| hebbian-diag | X^T X with W_ii = P (the binary ``hebbian --rule field``)              | a named contrast |
| storkey      | Storkey's incremental rule, patterns learned in sequence order         | Storkey 1997 |
| pinv         | projector X^T (X X^T)^+ X onto the patterns' span, zero diagonal       | Personnaz 1985 |
| perceptron   | each row learned to stabilise every pattern with margin kappa          | Gardner 1988 |
| palimpsest   | W <- lambda W + xi xi^T per pattern, lambda = exp(-eps^2 / (2N))       | Nadal 1986 |

(Personnaz, Guyon & Dreyfus 1985 and Kanter & Sompolinsky 1987 for pinv; the palimpsest is the
"marginalist" scheme of Nadal, Toulouse, Changeux & Dehaene 1986 and Mezard, Nadal & Toulouse 1986.)

``unlearn`` K > 0 applies K steps *per stored pattern* (K P in all) of Hopfield-Feinstein-Palmer
unlearning to any symmetric rule's W, the random starts drawn from the trial's seed. Per pattern,
because a fixed total erases small prefixes first (at P = 1, 1/eps steps cancel the only
pattern), which would make "stored" non-monotone in P and the prefix search meaningless.

:class:`PairwiseChecker` decides ``is_stored(P)`` for prefixes of a pattern sequence; it keeps the
learning state of the last stored prefix and extends it (hebbian and palimpsest: outer products;
storkey: one O(N^2) step per pattern; pinv: the rank-one projector update, Greville's formula for
X^+ X, kept as an orthonormal basis). :func:`coupling_matrix` gives W for a whole set (for other
tools, e.g. an attractor census). :func:`forgetting_curve` and :func:`recency_outcome` measure
palimpsest memories after a long stream.

**Ties.** Exact ties are common (pinv: a unit whose e_i lies in the patterns' span has P_ii = 1 and
a zero-diagonal row that is exactly 0; Storkey: two patterns one unit apart zero that unit's row),
and float64 leaves about 1e-14 where exact arithmetic has 0. :func:`stable_patterns` decides every
``stable`` question as exact arithmetic does: integer rules by one exact BLAS product; pinv by the
identity y_i h_i = 1 - P_ii >= 0 for every stored pattern; storkey and palimpsest by the BLAS
product outside a rigorous bound on its error (carried in the learning state), and in Python
integers inside it (:mod:`.exact`). The dynamics take |y_i h_i| <= 1e-9 of W's scale for a tie
(kernels.pairwise). docs/theory.md section 11.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...criteria import (
    UPDATE_SCHEMES,
    Criterion,
    OverlapMean,
    Stable,
    allowed_failures,
    cue_flips,
    target_overlap,
)
from ...errors import HopcapError
from ...kernels import pairwise as ker
from ...limits import FORGET_EPS_MAX, MARGIN_MAX, UNLEARN_EPS_MAX, check_range

RULES = ("hebbian", "hebbian-diag", "storkey", "pinv", "perceptron", "palimpsest")
#: Rules whose oldest memories fade (the only ones ``--search recency`` accepts).
FORGETTING_RULES = ("palimpsest",)
DEFAULT_MARGIN = 0.0
DEFAULT_MAX_EPOCHS = 200
DEFAULT_UNLEARN_EPS = 0.01
#: Mezard, Nadal & Toulouse's optimal decay parameter (about 0.05 N recent patterns retrievable).
DEFAULT_FORGET_EPS = 4.1
#: pinv: a new pattern whose component outside the span is below this fraction of its norm adds
#: nothing to the projector (it is a linear combination of the earlier ones, to rounding).
PINV_RANK_TOL = 1e-9
#: Rules whose couplings are integers (held exactly in float64, decided exactly by one product).
INTEGER_RULES = ("hebbian", "hebbian-diag", "perceptron")
#: Unit roundoff of float64, and the spacing of its subnormals (the absolute error of a result
#: that underflows).
UNIT_ROUNDOFF = 2.0**-53
SUBNORMAL = 2.0**-1074
#: Every computed error bound is a sum of non-negative float terms, whose own evaluation errs by
#: less than (terms) x UNIT_ROUNDOFF relative; this factor covers that with room to spare.
BOUND_SAFETY = 1.01
#: The sweep cap of the relaxations inside unlearning.
UNLEARN_MAX_SWEEPS = 100
#: Offset mixed into the trial's dynamics seed for the unlearning streams (independent of cues).
UNLEARN_STREAM = 0xD1B54A32D192ED03

PatternSource = Callable[[int], np.ndarray]


@dataclass(frozen=True)
class PairwiseModel:
    """A pairwise network whose couplings are learned by ``rule`` (see the module table).

    margin, max_epochs: perceptron only (kappa, and the epoch cap of its stopping rule).
    unlearn, unlearn_eps: K unlearning steps per stored pattern, of size eps (0: none), after the rule.
    forget_eps: palimpsest only; lambda = exp(-forget_eps^2 / (2N)).
    """

    rule: str = "hebbian"
    margin: float | None = None
    max_epochs: int | None = None
    unlearn: int = 0
    unlearn_eps: float | None = None
    forget_eps: float | None = None
    name = "pairwise"

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise HopcapError(f"unknown --rule {self.rule!r} for --model pairwise; choose one of "
                              f"{', '.join(RULES)}")
        perceptron = self.rule == "perceptron"
        if perceptron:
            object.__setattr__(self, "margin", DEFAULT_MARGIN if self.margin is None else self.margin)
            object.__setattr__(self, "max_epochs", DEFAULT_MAX_EPOCHS if self.max_epochs is None
                               else self.max_epochs)
            check_range("--margin", self.margin, 0, MARGIN_MAX)
            if isinstance(self.max_epochs, bool) or int(self.max_epochs) != self.max_epochs or \
                    self.max_epochs < 1:
                raise HopcapError(f"--max-epochs must be an integer >= 1, got {self.max_epochs}")
        elif self.margin is not None or self.max_epochs is not None:
            raise HopcapError("--margin and --max-epochs apply to --rule perceptron only")
        if isinstance(self.unlearn, bool) or int(self.unlearn) != self.unlearn or self.unlearn < 0:
            raise HopcapError(f"--unlearn must be a whole number >= 0, got {self.unlearn}")
        if self.unlearn > 0:
            if perceptron:
                raise HopcapError("--unlearn needs symmetric couplings (not --rule perceptron)")
            eps = DEFAULT_UNLEARN_EPS if self.unlearn_eps is None else self.unlearn_eps
            check_range("--unlearn-eps", eps, 0, UNLEARN_EPS_MAX, lo_open=True)
            object.__setattr__(self, "unlearn_eps", float(eps))
        elif self.unlearn_eps is not None:
            raise HopcapError("--unlearn-eps applies only with --unlearn K > 0")
        if self.rule == "palimpsest":
            eps = DEFAULT_FORGET_EPS if self.forget_eps is None else self.forget_eps
            check_range("--forget-eps", eps, 0, FORGET_EPS_MAX, lo_open=True)
            object.__setattr__(self, "forget_eps", float(eps))
        elif self.forget_eps is not None:
            raise HopcapError("--forget-eps applies to --rule palimpsest only")

    @property
    def label(self) -> str:
        text = f"pairwise {self.rule}"
        if self.rule == "perceptron":
            text += f" kappa={self.margin:g}"
        if self.rule == "palimpsest":
            text += f" eps={self.forget_eps:g}"
        if self.unlearn:
            text += f" unlearn K={self.unlearn} eps={self.unlearn_eps:g}"
        return text

    @property
    def forgets(self) -> bool:
        return self.rule in FORGETTING_RULES

    def decay(self, n: int) -> float:
        """The palimpsest's lambda = exp(-eps^2 / (2N)) at N."""
        return math.exp(-self.forget_eps**2 / (2 * n))


# --------------------------------------------------------------------------------------------------
# learning: state of a prefix, extended pattern by pattern
# --------------------------------------------------------------------------------------------------


@dataclass
class LearningState:
    """What a rule keeps of the first ``p`` patterns: a matrix (hebbian, storkey, palimpsest: the
    couplings so far; pinv: an orthonormal basis of the span, one row per independent pattern).

    ``extra`` holds the rigorous rounding bounds of the float rules (see :func:`stable_patterns`):
    storkey ``err`` >= ||W - W_exact||_F; palimpsest ``err`` >= max_ij |W_ij - W_exact,ij| and
    ``mass`` >= sum_t lambda^(L-1-t) (which bounds every |W_exact,ij|)."""

    p: int
    matrix: np.ndarray
    extra: dict = field(default_factory=dict)

    def copy(self) -> LearningState:
        return LearningState(self.p, self.matrix.copy(), dict(self.extra))


def initial_state(model: PairwiseModel, n: int) -> LearningState:
    if model.rule == "pinv":
        return LearningState(0, np.zeros((0, n)))
    return LearningState(0, np.zeros((n, n)))


def extend_state(model: PairwiseModel, state: LearningState, x_new: np.ndarray) -> LearningState:
    """The state after learning the rows of ``x_new`` (in order) on top of ``state`` (not
    modified). Perceptron learning is not incremental: its state only counts patterns."""
    out = state.copy()
    x_new = np.asarray(x_new, dtype=np.float64)
    n = out.matrix.shape[1]
    if model.rule in ("hebbian", "hebbian-diag"):
        out.matrix += x_new.T @ x_new  # BLAS; integer-valued, exact in float64
    elif model.rule == "palimpsest":
        lam = model.decay(n)
        k = len(x_new)
        if k:
            weights = lam ** np.arange(k - 1, -1, -1, dtype=np.float64)
            lam_k = lam**k
            out.extra.update(_palimpsest_bound(out.extra, lam, k, weights, lam_k))
            out.matrix = lam_k * out.matrix + (x_new * weights[:, None]).T @ x_new
    elif model.rule == "storkey":
        err = out.extra.get("err", 0.0)
        for row in x_new:  # ||offdiag(L(D))||_F <= (1 + 2/N) ||D||_F for the step's linear part L
            err = err * (1.0 + 2.0 / n) + ker.storkey_add(out.matrix, row)
        out.extra["err"] = err
    elif model.rule == "pinv":
        q = out.matrix
        for row in x_new:
            r = row.copy()
            for _ in range(2):  # Gram-Schmidt twice: orthogonal to rounding ("twice is enough")
                r -= q.T @ (q @ r)
            norm = np.linalg.norm(r)
            if norm > PINV_RANK_TOL * np.linalg.norm(row):  # Greville: P += r r^T / (r . r)
                q = np.vstack([q, r / norm])
        out.matrix = q
    out.p = state.p + len(x_new)
    return out


def _gamma(k: int) -> float:
    """gamma_k = k u / (1 - k u): recursive or blocked summation of k terms errs by at most gamma_k
    times the sum of their magnitudes, in any order (Higham, Accuracy and Stability, 3.1)."""
    return k * UNIT_ROUNDOFF / (1.0 - k * UNIT_ROUNDOFF)


def _palimpsest_bound(extra: dict, lam: float, k: int, weights: np.ndarray, lam_k: float) -> dict:
    """The palimpsest state's bounds after M <- fl(fl(lam^k) M) + fl(sum_t w_t xi_t xi_t^T), w_t =
    fl(lam^d): every entry of the exact M* is bounded by ``mass`` A (the sum of the weights), and
    |M - M*| entry-wise by ``err`` e. The powers are checked against the chain c_d = fl(c_{d-1}
    lam), c_0 = 1, which is within gamma_d of lam^d (so nothing is assumed of libm's pow):

        e' = l e + dl A + u l (A + e) + gamma_k sum w + sum dw + 1.01 u (l (A + e) + sum w),
        A' = (l + dl) A + sum w + sum dw,

    l = fl(lam^k), dl >= |l - lam^k|, dw_d >= |w_d - lam^d| (u: the products and the two roundings
    of the scaled matrix and of the sum; gamma_k: the k-term BLAS sums). Where powers underflow, each
    rounded product adds at most one subnormal spacing: d of them in c_d, k + 4 in e'."""
    u = UNIT_ROUNDOFF
    chain = np.multiply.accumulate(np.concatenate([[1.0], np.full(k, lam)]))  # chain[d] ~ lam^d
    d = np.arange(k + 1)
    chain_err = 1.01 * (d * u / (1.0 - d * u)) * chain + d * SUBNORMAL
    dw = np.abs(weights - chain[k - 1::-1][:k]) + chain_err[k - 1::-1][:k]  # weights[t]: d = k-1-t
    dl = abs(lam_k - chain[k]) + chain_err[k]
    mass, err = extra.get("mass", 0.0), extra.get("err", 0.0)
    sum_w, sum_dw = float(weights.sum()), float(dw.sum())
    new_err = lam_k * err + dl * mass + u * lam_k * (mass + err) + _gamma(k) * sum_w + sum_dw \
        + 1.01 * u * (lam_k * (mass + err) + sum_w) + (k + 4) * SUBNORMAL
    return {"err": new_err, "mass": (lam_k + dl) * mass + sum_w + sum_dw}


def couplings_of_state(model: PairwiseModel, state: LearningState, x: np.ndarray) -> np.ndarray:
    """W (float64, N x N) of the rule for the prefix the state holds, before unlearning;
    ``x`` is that prefix (used by perceptron learning, which starts from scratch)."""
    if model.rule == "pinv":
        w = state.matrix.T @ state.matrix  # the projector X^+ X = Q^T Q (Greville, rank one a step)
    elif model.rule == "perceptron":
        w, _ = perceptron_couplings(x, model.margin, model.max_epochs)
        return w
    else:
        w = state.matrix.copy()
    if model.rule != "hebbian-diag":
        np.fill_diagonal(w, 0.0)
    return w


def perceptron_couplings(x: np.ndarray, margin: float, max_epochs: int) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's couplings by perceptron learning with margin kappa (kernels.pairwise.
    perceptron_rows): returns (W, epochs per unit, negative where a unit hit the epoch cap)."""
    x = np.ascontiguousarray(x, dtype=np.int64)
    n = x.shape[1]
    w = np.zeros((n, n), dtype=np.float64)
    epochs = np.zeros(n, dtype=np.int64)
    ker.perceptron_rows(x, len(x), float(margin), int(max_epochs), w, epochs)
    return w, epochs


def unlearn_seed(seed: int) -> np.uint64:
    return np.uint64((int(seed) ^ UNLEARN_STREAM) % 2**64)


def apply_unlearning(model: PairwiseModel, w: np.ndarray, p: int, seed: int) -> np.ndarray:
    """W of a prefix of p patterns after ``model.unlearn * p`` unlearning steps
    (kernels.pairwise.unlearn), in place."""
    if model.unlearn:
        if not np.array_equal(w, w.T):
            raise HopcapError("--unlearn needs symmetric couplings (not --rule perceptron)")
        ker.unlearn(w, int(model.unlearn) * p, float(model.unlearn_eps), unlearn_seed(seed),
                    UNLEARN_MAX_SWEEPS)
    return w


def coupling_matrix(model: PairwiseModel, patterns: np.ndarray, seed: int = 0) -> np.ndarray:
    """W of ``model`` for the whole ordered set ``patterns`` (P x N, +-1), learned from scratch:
    the matrix the checker builds for that prefix (``seed``: the dynamics seed of unlearning)."""
    return learn(model, patterns, seed)[0]


def learn(model: PairwiseModel, patterns: np.ndarray, seed: int = 0) -> tuple[np.ndarray, LearningState]:
    """(W, learning state) for the whole ordered set: :func:`coupling_matrix` with the state that
    :func:`stable_patterns` needs to decide exactly."""
    x = np.asarray(patterns)
    state = extend_state(model, initial_state(model, x.shape[1]), x)
    return apply_unlearning(model, couplings_of_state(model, state, x), len(x), seed), state


# --------------------------------------------------------------------------------------------------
# decisions
# --------------------------------------------------------------------------------------------------


def unit_stabilities(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """e_mu,i = xi_mu,i (W xi_mu)_i for every pattern (rows of x) and unit: one BLAS product."""
    xf = np.asarray(x, dtype=np.float64)
    return xf * (xf @ w.T)


def stable_patterns(w: np.ndarray, x: np.ndarray, model: PairwiseModel | None = None,
                    state: LearningState | None = None) -> np.ndarray:
    """True for each pattern (row of x) that is a fixed point of W: every y_i h_i >= 0, where an
    exact tie (y_i h_i = 0) keeps the state.

    With ``model`` and ``state`` (W learned by the model's rule from exactly the patterns x, in
    order, ``state`` its learning state) every decision is the one exact arithmetic makes, the
    rule's float parameters taken as the numbers they are (docs/theory.md section 11):

    * hebbian, hebbian-diag, perceptron: integer couplings, so the BLAS product is exact (every
      partial sum is an integer below 2^53);
    * pinv: no arithmetic. Every stored pattern lies in the span, P y = y, so y_i h_i =
      y_i (y_i - P_ii y_i) = 1 - P_ii >= 0 for every unit (a projector has P_ii <= 1), with a tie
      exactly where e_i lies in the span. float64 leaves about +-1e-14 there, so it must not decide;
    * storkey, palimpsest: the product decides every unit with |y_i h_i| above a rigorous bound on
      its error, gamma_N sum_j |W_ij| (the product) plus the couplings' own error (storkey:
      sqrt(N - 1) ||W - W_exact||_F; palimpsest: (N - 1) max |W - W_exact|; both carried in the
      state by extend_state); a pattern with a unit left open and no unit certainly unstable is
      decided by exact integer arithmetic for its open units (families.pairwise.exact).

    Without them (W of unknown origin), or with unlearning (its steps are float dynamics), the
    float tie band of the dynamics decides: y_i h_i >= -TIE_RTOL max_k sum_j |W_kj|.
    """
    x = np.asarray(x)
    if model is None or model.unlearn:
        tau = ker.TIE_RTOL * np.abs(w).sum(axis=1).max(initial=0.0)
        return (unit_stabilities(w, x) >= -tau).all(axis=1)
    if state is None or state.p != len(x):
        raise ValueError("stable_patterns needs the learning state of exactly the patterns x")
    if model.rule == "pinv":
        return np.ones(len(x), dtype=bool)  # y_i h_i = 1 - P_ii >= 0 (see above)
    e = unit_stabilities(w, x)
    bound = stability_error_bound(model, w, state)
    unsure = np.abs(e) <= bound
    ok = ~(e < -bound).any(axis=1)
    if model.rule in INTEGER_RULES:
        return ok  # bound 0: e is exact, an open unit is an exact tie
    open_rows = np.flatnonzero(ok & unsure.any(axis=1))
    if open_rows.size:
        sign = _exact_signs(model, x)
        for r in open_rows:
            ok[r] = all(sign(x[r], i) >= 0 for i in np.flatnonzero(unsure[r]))
    return ok


def stability_error_bound(model: PairwiseModel, w: np.ndarray, state: LearningState) -> np.ndarray:
    """Per unit i, a bound on |fl(y_i (W y)_i) - y_i (W_exact y)_i| for any +-1 state y, where
    fl is the BLAS product with the float W and W_exact the rule's couplings in exact arithmetic
    (rules other than pinv; see :func:`stable_patterns`)."""
    n = w.shape[0]
    size = np.abs(w).sum(axis=1)
    if model.rule in INTEGER_RULES:
        if size.max(initial=0.0) >= 2.0**53:
            raise ValueError("integer couplings beyond 2^53: float64 sums are no longer exact")
        return np.zeros(n)
    own = _gamma(n) * size
    if model.rule == "storkey":
        own = own + math.sqrt(n - 1) * state.extra.get("err", 0.0)
    elif model.rule == "palimpsest":
        own = own + (n - 1) * state.extra.get("err", 0.0)
    else:
        raise ValueError(f"no error bound for rule {model.rule!r}")
    return BOUND_SAFETY * own


def _exact_signs(model: PairwiseModel, x: np.ndarray) -> Callable[[np.ndarray, int], int]:
    """sign(y, i): the exact sign of y_i h_i under the rule's couplings for the patterns x."""
    from . import exact

    if model.rule == "storkey":
        v = exact.storkey_scaled(x)
        return lambda y, i: exact.storkey_sign(v, y, i)
    lam = model.decay(x.shape[1])
    return lambda y, i: exact.palimpsest_sign(x, lam, y, i)


def relax_patterns(w: np.ndarray, x: np.ndarray, criterion: Criterion, seed: int, p: int | None = None,
                   allowed: int | None = None) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Relax the first p patterns of x from their cues under W (kernels.pairwise.relax_prefix):
    returns (failures, final overlaps, sweeps, converged); failures beyond ``allowed`` may stop
    the work early. Under overlap-mean the "final overlap" is the sum of the S averaged ones."""
    return _relax_patterns(w, x, criterion, seed, p, allowed)[:4]


def _relax_patterns(w, x, criterion, seed, p=None, allowed=None):
    """:func:`relax_patterns`, and per pattern whether sync dynamics fell into a 2-cycle."""
    from ...search import _run_groups

    x = np.ascontiguousarray(x, dtype=np.int8)
    n = x.shape[1]
    p = len(x) if p is None else p
    allowed = p if allowed is None else allowed
    wt = np.ascontiguousarray(w.T)
    final = np.zeros(p, dtype=np.int64)
    sweeps = np.zeros(p, dtype=np.int64)
    converged = np.zeros(p, dtype=np.bool_)
    cycled = np.zeros(p, dtype=np.bool_)
    scheme = UPDATE_SCHEMES.index(getattr(criterion, "update", "random"))
    temperature = float(getattr(criterion, "temperature", 0.0))
    window = criterion.sweeps if isinstance(criterion, OverlapMean) else 0
    head = (x, np.ascontiguousarray(w), wt, p, cue_flips(criterion.noise, n),
            target_overlap(criterion, n), criterion.max_sweeps, np.uint64(seed % 2**64))
    if scheme == 0 and temperature == 0 and window == 0:  # the default: kernels.pairwise.relax
        bad = _run_groups(ker.relax_prefix, ker.relax_rows, head + (allowed,), (final, sweeps, converged),
                          2 * p * n * n)
    else:  # theory.md section 15: a 2-cycle of sync fails (and is not converged)
        bad = _run_groups(ker.relax_prefix_scheme, ker.relax_rows_scheme,
                          head + (scheme, temperature, window, allowed),
                          (final, sweeps, converged, cycled), 2 * p * n * n * (2 if window else 1))
    return bad, final, sweeps, converged, cycled


def pattern_successes(w: np.ndarray, x: np.ndarray, criterion: Criterion, seed: int,
                      model: PairwiseModel | None = None, state: LearningState | None = None) -> np.ndarray:
    """Per pattern of x: does it succeed under the criterion with couplings W (complete work);
    ``model`` and ``state``: as :func:`stable_patterns` (exact ``stable`` decisions)."""
    if isinstance(criterion, Stable):
        return stable_patterns(w, x, model, state)
    _, final, _, _, cycled = _relax_patterns(w, x, criterion, seed)
    return (final >= target_overlap(criterion, x.shape[1])) & ~cycled  # a sync 2-cycle fails


class PairwiseChecker:
    """is_stored(P) for prefixes of a pattern source: learn W of the prefix (extending the state
    of the last stored prefix where the rule is incremental), unlearn if asked, then decide every
    pattern: ``stable`` exactly (:func:`stable_patterns`: one BLAS product and, where its rounding
    bound leaves a unit open, exact integers), ``retrieve`` / ``overlap`` by the dynamics kernel.

    pinv: a prefix of P >= N patterns is not stored (its zero-diagonal projector is 0 at full
    rank, where every state is a tie); below N every prefix is stored under ``stable``
    (y_i h_i = 1 - P_ii >= 0). perceptron: a prefix whose learning hits the epoch cap is not
    stored, and the outcome column ``epoch_capped`` says so.
    """

    def __init__(self, model: PairwiseModel, criterion: Criterion, source: PatternSource, n: int,
                 p_limit: int, seed: int = 0, kind: str = "pm1"):
        if kind != "pm1":
            raise HopcapError("--model pairwise stores +-1 patterns only")
        self.model, self.criterion, self.source, self.n = model, criterion, source, n
        self.p_limit, self.seed = max(p_limit, 1), seed
        self.state = initial_state(model, n)
        self.sweeps = np.zeros(0, dtype=np.int64)
        self.converged = np.zeros(0, dtype=np.bool_)
        self.unconverged: set[int] = set()  # prefixes whose perceptron learning hit the epoch cap

    def __call__(self, p: int) -> bool:
        if p > self.p_limit:
            raise ValueError(f"P = {p} exceeds the checker's p_limit = {self.p_limit}")
        x = np.ascontiguousarray(self.source(p), dtype=np.int8)
        if self.model.rule == "pinv" and p >= self.n:
            return False
        base = self.state if self.state.p <= p else initial_state(self.model, self.n)
        state = extend_state(self.model, base, x[base.p:p])
        if self.model.rule == "perceptron":
            w, epochs = perceptron_couplings(x, self.model.margin, self.model.max_epochs)
            if (epochs < 0).any():
                self.unconverged.add(p)
                return False
        else:
            w = couplings_of_state(self.model, state, x)
        apply_unlearning(self.model, w, p, self.seed)
        allowed = allowed_failures(self.criterion.threshold, p)
        if isinstance(self.criterion, Stable):
            if int((~stable_patterns(w, x, self.model, state)).sum()) > allowed:
                return False
            sweeps = converged = None
        else:
            bad, _, sweeps, converged = relax_patterns(w, x, self.criterion, self.seed, p, allowed)
            if bad > allowed:
                return False
        self.state = state
        if sweeps is not None:
            self.sweeps, self.converged = sweeps, converged
        return True

    def diagnostics(self, p: int) -> tuple[bool, int] | None:
        """(every relaxation converged, most sweeps) for the last stored prefix of p patterns."""
        if isinstance(self.criterion, Stable) or self.sweeps.size != p:
            return None
        converged = None if getattr(self.criterion, "temperature", 0) > 0 else bool(self.converged.all())
        return converged, int(self.sweeps.max())

    def outcome(self, p_max: int) -> dict:
        """The family's outcome columns for a search that ended at p_max: for the perceptron,
        ``epoch_capped`` is whether learning hit the epoch cap on the prefix of p_max + 1 patterns
        (the one found not stored). True: P_max is where learning stopped converging within
        max_epochs, a lower bound set by the cap, not a failure of converged couplings. (Under
        ``stable`` a converged perceptron always stores its prefix, so there it is always True.)
        Blank when p_max + 1 was never learned (a capped search)."""
        if self.model.rule != "perceptron" or p_max >= self.p_limit:
            return {}
        return {"epoch_capped": p_max + 1 in self.unconverged}


# --------------------------------------------------------------------------------------------------
# palimpsests: retrievability against age after a stream
# --------------------------------------------------------------------------------------------------


def stream_successes(model: PairwiseModel, criterion: Criterion, x: np.ndarray, seed: int) -> np.ndarray:
    """After learning the whole stream x (rows in order, one by one), success of each pattern by
    age: element a is the pattern learned a steps before the last (a = 0: the newest)."""
    w, state = learn(model, x, seed)
    ok = pattern_successes(w, x, criterion, seed, model, state)
    return ok[::-1].copy()


def recent_retrievable(successes_by_age: np.ndarray) -> int:
    """The number k of most recent patterns that all succeed (the run of successes from age 0)."""
    bad = np.flatnonzero(~np.asarray(successes_by_age, dtype=bool))
    return int(bad[0]) if bad.size else int(len(successes_by_age))


@dataclass(frozen=True)
class RecencyOutcome:
    """Result of ``--search recency``: the most recent patterns retrievable after the stream."""

    recent_retrievable: int
    stream: int  # patterns learned
    checks: int = 1

    @property
    def extra(self) -> dict:
        return {"recent_retrievable": self.recent_retrievable}


def recency_outcome(model: PairwiseModel, criterion: Criterion, source: PatternSource, n: int,
                    length: int, seed: int = 0) -> RecencyOutcome:
    """Learn ``length`` patterns of the source one by one and count the most recent retrievable."""
    if not model.forgets:
        raise HopcapError(f"--search recency needs a rule that forgets ({', '.join(FORGETTING_RULES)}); "
                          f"--rule {model.rule} keeps every pattern until it collapses")
    x = np.asarray(source(length))
    return RecencyOutcome(recent_retrievable(stream_successes(model, criterion, x, seed)), len(x))


def forgetting_curve(model: PairwiseModel, criterion: Criterion, streams: list[np.ndarray],
                     seeds: list[int]) -> np.ndarray:
    """Fraction of streams in which the pattern of each age succeeds (ages 0..L-1, newest first)."""
    rows = [stream_successes(model, criterion, x, s) for x, s in zip(streams, seeds, strict=True)]
    return np.mean(np.vstack(rows), axis=0)
