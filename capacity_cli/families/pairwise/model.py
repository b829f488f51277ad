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
            if not (math.isfinite(self.margin) and self.margin >= 0):
                raise HopcapError(f"--margin must be a finite number >= 0, got {self.margin}")
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
            if not (math.isfinite(eps) and eps > 0):
                raise HopcapError(f"--unlearn-eps must be a finite number > 0, got {eps}")
            object.__setattr__(self, "unlearn_eps", float(eps))
        elif self.unlearn_eps is not None:
            raise HopcapError("--unlearn-eps applies only with --unlearn K > 0")
        if self.rule == "palimpsest":
            eps = DEFAULT_FORGET_EPS if self.forget_eps is None else self.forget_eps
            if not (math.isfinite(eps) and eps > 0):
                raise HopcapError(f"--forget-eps must be a finite number > 0, got {eps}")
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
    couplings so far; pinv: an orthonormal basis of the span, one row per independent pattern)."""

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
            out.matrix = lam**k * out.matrix + (x_new * weights[:, None]).T @ x_new
    elif model.rule == "storkey":
        for row in x_new:
            ker.storkey_add(out.matrix, row)
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
    x = np.asarray(patterns)
    state = extend_state(model, initial_state(model, x.shape[1]), x)
    return apply_unlearning(model, couplings_of_state(model, state, x), len(x), seed)


# --------------------------------------------------------------------------------------------------
# decisions
# --------------------------------------------------------------------------------------------------


def unit_stabilities(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """e_mu,i = xi_mu,i (W xi_mu)_i for every pattern (rows of x) and unit: one BLAS product."""
    xf = np.asarray(x, dtype=np.float64)
    return xf * (xf @ w.T)


def stable_patterns(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """True for each pattern that is a fixed point: every y_i h_i >= -tau (a tie keeps the state;
    tau = TIE_RTOL max_k sum_j |W_kj|, below 1 for integer couplings: kernels.pairwise)."""
    tau = ker.TIE_RTOL * np.abs(w).sum(axis=1).max(initial=0.0)
    return (unit_stabilities(w, x) >= -tau).all(axis=1)


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


def pattern_successes(w: np.ndarray, x: np.ndarray, criterion: Criterion, seed: int) -> np.ndarray:
    """Per pattern of x: does it succeed under the criterion with couplings W (complete work)."""
    if isinstance(criterion, Stable):
        return stable_patterns(w, x)
    _, final, _, _, cycled = _relax_patterns(w, x, criterion, seed)
    return (final >= target_overlap(criterion, x.shape[1])) & ~cycled  # a sync 2-cycle fails


class PairwiseChecker:
    """is_stored(P) for prefixes of a pattern source: learn W of the prefix (extending the state
    of the last stored prefix where the rule is incremental), unlearn if asked, then decide every
    pattern: ``stable`` by one BLAS product, ``retrieve`` / ``overlap`` by the dynamics kernel.

    pinv: a prefix of P >= N patterns is not stored (its zero-diagonal projector is 0 at full
    rank, where every state is a tie). perceptron: a prefix whose learning hits the epoch cap is
    not stored, and the outcome column ``epoch_capped`` says so.
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
            if int((~stable_patterns(w, x)).sum()) > allowed:
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
    w = coupling_matrix(model, x, seed)
    ok = pattern_successes(w, x, criterion, seed)
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
