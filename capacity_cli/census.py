"""Attractor census: what a network settles into, classified, with basins and energy profiles.

From many starts (uniformly random states, or noisy cues of the stored patterns) the network relaxes
to fixed points; the distinct fixed points are classified (Amit, Gutfreund & Sompolinsky 1985;
McAlister, Robins & Szymanski, arXiv:2503.03018) as

| class      | the state equals                                                              |
|------------|-------------------------------------------------------------------------------|
| stored     | a stored pattern xi_mu                                                        |
| reversed   | -xi_mu (a fixed point whenever xi_mu is, for even F)                           |
| prototype  | +- a prototype of the set that is not itself stored (prototype tasks only)     |
| mixture3   | sign(e_a xi_a + e_b xi_b + e_c xi_c), e = +-1, three distinct patterns, exactly |
| mixture5   | the same with five patterns                                                   |
| other      | anything else (spin-glass / spurious)                                         |

(first matching row wins). Per class: distinct states, basin = fraction of all starts that end there
(starts that do not converge within the sweep cap are counted apart, so basins and the
non-converged fraction sum to 1), energy mean and spread over the distinct states. The energy
profile of a state is its per-unit stabilities e_i = dE_i / 2 (half the flip gain; for hebbian
exactly y_i h_i with h = W y, W = X^T X with zero diagonal). docs/theory.md section 12.

A model offers the census a :class:`CensusDynamics` (relax, energy, stabilities); the binary family's
is :func:`binary_dynamics`. Another family plugs in by providing one (register it in
``DYNAMICS_BUILDERS``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import HopcapError
from .kernels.census import (
    GAVE_UP,
    MIXTURE,
    mixture_components,
    relax_start,
    relax_starts,
    unit_stabilities,
)
from .limits import MAX_SWEEPS_MAX, check_memory
from .models import BinaryDAM, exact_signs, gain_arithmetic

CLASSES = ("stored", "reversed", "prototype", "mixture3", "mixture5", "other")
#: Stream offsets keep the census starts and the basin-radius cues on separate random streams.
_RADIUS_STREAM = 0x5EED_0F_CE5
#: Classes of the energy-profile classifier (McAlister et al.): learned = stored or reversed (their
#: profiles coincide for even F), prototype, spurious = everything else.
PROFILE_CLASSES = ("learned", "prototype", "spurious")
#: Most candidate pattern sets the exact mixture test tries per state and k (P >> N makes the
#: candidates explode); a state whose test gives up is labelled ``other`` and counted as unchecked.
MIXTURE_BUDGET = 50_000


# --------------------------------------------------------------------------------------------------
# The model interface
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Relaxed:
    """Final states (S, N) int8, sweeps run and whether each start reached a fixed point."""

    finals: np.ndarray
    sweeps: np.ndarray
    converged: np.ndarray


@dataclass(frozen=True)
class CensusDynamics:
    """What the census needs from a model with fixed-point dynamics on +-1 states.

    ``relax(starts, indices, seed, max_sweeps)``: relax every row of ``starts`` (S, N) int8; start s
    draws its randomness from (seed, indices[s]) only. ``energy(states)``: E of each row.
    ``stabilities(states)``: (D, N) per-unit stabilities e_i (>= 0 at every unit of a fixed point).
    """

    label: str
    n: int
    relax: Callable[[np.ndarray, np.ndarray, int, int], Relaxed]
    energy: Callable[[np.ndarray], np.ndarray]
    stabilities: Callable[[np.ndarray], np.ndarray]


def binary_dynamics(model: BinaryDAM, x: np.ndarray) -> CensusDynamics:
    """The census interface of a binary DAM E(y) = -sum_mu F(xi_mu . y) storing the rows of x.

    Relaxation is the binary family's asynchronous dynamics (kernels.dynamics.relax) with its exact
    decisions; decisions that need level-3 arithmetic rerun the start with the exact signs found so
    far, as the retrieve criterion does. Energies: F of theory.md (hebbian x^2/2), exp as
    -sum_mu exp(beta (m_mu - N)), i.e. scaled by e^(-beta N).
    """
    if model.field:
        raise HopcapError("hopcap census uses the energy rule; --rule field is not supported")
    x = np.ascontiguousarray(x, dtype=np.int8)
    p, n = x.shape
    xt = np.ascontiguousarray(x.T)
    arith = gain_arithmetic(model, n, p)
    fvalues = _float_energy_table(model, n)
    beta = float(model.beta) if model.name == "exp" else 0.0

    def relax(starts: np.ndarray, indices: np.ndarray, seed: int, max_sweeps: int) -> Relaxed:
        starts = np.ascontiguousarray(starts, dtype=np.int8)
        indices = np.ascontiguousarray(indices, dtype=np.int64)
        s = starts.shape[0]
        finals = np.empty_like(starts)
        sweeps = np.zeros(s, dtype=np.int64)
        converged = np.zeros(s, dtype=np.bool_)
        needs = np.zeros(s, dtype=np.bool_)
        seed64 = np.uint64(seed % 2**64)
        args = (xt, p, arith.gain, False, arith.exact, arith.shiftable, arith.levels.table,
                arith.levels.ratio_form)
        relax_starts(starts, indices, *args, seed64, max_sweeps, finals, sweeps, converged, needs)
        pending = np.zeros(n + 3, dtype=np.int64)
        for k in np.flatnonzero(needs):
            forced: list[int] = []
            while True:
                used, done, again = relax_start(starts[k], indices[k], *args,
                                                np.array(forced, dtype=np.int8), seed64, max_sweeps,
                                                finals[k], pending)
                if not again:
                    break
                forced.append(int(exact_signs(model, n, pending)[0]))
            sweeps[k], converged[k] = used, done
        return Relaxed(finals, sweeps, converged)

    def energy(states: np.ndarray) -> np.ndarray:
        m = np.asarray(states, dtype=np.int64) @ x.T.astype(np.int64)
        if beta > 0:
            return -np.exp(beta * (m - n)).sum(axis=1)
        return -fvalues[m + n + 2].sum(axis=1)

    def stabilities(states: np.ndarray) -> np.ndarray:
        states = np.ascontiguousarray(states, dtype=np.int8)
        out = np.empty(states.shape, dtype=np.float64)
        unit_stabilities(states, xt, p, fvalues, beta, out)
        return out

    return CensusDynamics(model.label, n, relax, energy, stabilities)


def _float_energy_table(model: BinaryDAM, n: int) -> np.ndarray:
    """F(m) as float64 for m in [-n-2, n+2] (index m + n + 2); hebbian as m^2 / 2; zeros for exp
    (its stabilities are computed from exp directly)."""
    m = np.arange(-n - 2, n + 3, dtype=np.float64)
    if model.name == "hebbian":
        return m * m / 2
    if model.name == "poly":
        return m**model.degree
    if model.name == "rectpoly":
        return np.maximum(m, 0) ** model.degree
    return np.zeros_like(m)


#: family name -> builder(model, x) -> CensusDynamics. A family with fixed-point dynamics on +-1
#: states registers its builder here.
DYNAMICS_BUILDERS: dict[str, Callable[..., CensusDynamics]] = {"binary": binary_dynamics}


def census_model(name: str, degree: int | None = None, beta: float | None = None) -> BinaryDAM:
    """The model for ``hopcap census --model name``; a model without fixed-point dynamics on +-1
    states (the continuous softmax family) is refused with one line."""
    from .families import family_of

    family = family_of(name)
    if family.name not in DYNAMICS_BUILDERS:
        raise HopcapError(f"model {name!r} has no fixed-point dynamics on +-1 states, so it has no "
                          f"attractor census; choose one of {', '.join(census_models())}")
    return BinaryDAM(name, degree=degree, beta=beta)


def census_models() -> tuple[str, ...]:
    """Every --model the census accepts."""
    from .families import families

    return tuple(m for f in families() if f.name in DYNAMICS_BUILDERS for m in f.models)


# --------------------------------------------------------------------------------------------------
# Stored sets and starts
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PrototypeSet:
    """P noisy examples of K prototypes: example j copies prototype j mod K with every unit flipped
    independently with probability ``noise`` (McAlister et al.'s prototype task)."""

    examples: np.ndarray  # (P, N) int8, the stored set
    prototypes: np.ndarray  # (K, N) int8
    prototype_of: np.ndarray  # (P,) which prototype each example comes from
    noise: float


def check_prototype_request(p: int, prototypes: int, noise: float) -> None:
    """One-line errors for impossible prototype tasks."""
    if not (isinstance(noise, int | float) and 0.0 <= noise <= 0.5):
        raise HopcapError(f"--example-noise must be in [0, 0.5], got {noise}")
    if not 1 <= prototypes <= p:
        raise HopcapError(f"--prototypes must be in [1, P={p}] (each prototype needs an example), "
                          f"got {prototypes}")


def prototype_set(n: int, p: int, prototypes: int, noise: float, seed: int = 0) -> PrototypeSet:
    """K uniformly random +-1 prototypes and P examples (see :class:`PrototypeSet`), from numpy's
    default_rng([seed, 0xC0DE]): a deterministic function of (n, p, K, noise, seed)."""
    if n < 2:
        raise HopcapError(f"--n must be >= 2, got {n}")
    check_prototype_request(p, prototypes, noise)
    check_memory(8 * (p + prototypes) * n + 10 * p * n, f"{p} examples of N={n}", "lower --p or --n")
    rng = np.random.default_rng([seed, 0xC0DE])
    protos = np.where(rng.random((prototypes, n)) < 0.5, 1, -1).astype(np.int8)
    which = np.arange(p) % prototypes
    flips = rng.random((p, n)) < noise
    examples = np.where(flips, -protos[which], protos[which]).astype(np.int8)
    return PrototypeSet(examples, protos, which, float(noise))


def load_prototypes(path) -> np.ndarray | None:
    """The ``prototypes`` array of a .npz written by ``hopcap gen --prototypes`` (None otherwise)."""
    if not str(path).endswith(".npz"):
        return None
    from .datasets import load_array_file

    with load_array_file(path) as f:
        if "prototypes" not in f.files:
            return None
        from .datasets import as_pm1

        return as_pm1(f["prototypes"], f"{path}: prototypes")


def check_starts(starts: int) -> None:
    if isinstance(starts, bool) or not isinstance(starts, int | np.integer) or starts < 1:
        raise HopcapError(f"--starts must be an integer >= 1, got {starts}")


def random_starts(n: int, count: int, seed: int = 0) -> np.ndarray:
    """``count`` uniformly random +-1 states (int8), from default_rng([seed, 0x57A7])."""
    check_starts(count)
    rng = np.random.default_rng([seed, 0x57A7])
    return np.where(rng.random((count, n)) < 0.5, 1, -1).astype(np.int8)


def cue_starts(x: np.ndarray, count: int, noise: float, seed: int = 0) -> np.ndarray:
    """``count`` cues: start s is stored pattern s mod P with round(noise N) distinct units flipped
    (halves up, as the retrieve criterion), from default_rng([seed, 0xC0E5])."""
    check_starts(count)
    if not 0.0 <= noise <= 0.5:
        raise HopcapError(f"--from-cues must be in [0, 0.5], got {noise}")
    p, n = x.shape
    k = int(math.floor(noise * n + 0.5))
    rng = np.random.default_rng([seed, 0xC0E5])
    starts = np.array(x[np.arange(count) % p], dtype=np.int8)
    if k:
        units = np.argsort(rng.random((count, n)), axis=1)[:, :k]
        np.negative.at(starts, (np.arange(count)[:, None], units))
    return starts


# --------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------

def mixtures(states: np.ndarray, x: np.ndarray, k: int, budget: int = MIXTURE_BUDGET,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is_mixture (D,), components (D, k), gave_up (D,)): whether each state is sign(sum_j e_j xi_j)
    for k distinct stored patterns (k odd), exactly; components hold (index + 1) * e_j (0 where
    none). ``gave_up`` marks states whose test needed more than ``budget`` candidate sets (neither
    proven nor refuted)."""
    if k % 2 == 0 or k < 1:
        raise ValueError("mixtures need an odd number of patterns")
    states = np.ascontiguousarray(states, dtype=np.int8)
    x = np.ascontiguousarray(x, dtype=np.int8)
    overlaps = np.ascontiguousarray(states.astype(np.int64) @ x.T.astype(np.int64))
    found = np.zeros((states.shape[0], k), dtype=np.int64)
    outcome = np.zeros(states.shape[0], dtype=np.int8)
    mixture_components(states, x, overlaps, k, budget, found, outcome)
    return outcome == MIXTURE, found, outcome == GAVE_UP


def classify_states(states: np.ndarray, x: np.ndarray, prototypes: np.ndarray | None = None,
                    budget: int = MIXTURE_BUDGET, mixture_sizes: tuple[int, ...] = (3, 5),
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(class index into CLASSES of every row of ``states``, the first matching class winning;
    mask of the rows labelled ``other`` whose mixture test gave up, see :func:`mixtures`).
    ``mixture_sizes`` () skips the mixture test (mixtures are then counted as ``other``)."""
    states = np.ascontiguousarray(states, dtype=np.int8)
    d, n = states.shape
    m = states.astype(np.int64) @ x.T.astype(np.int64)
    labels = np.full(d, CLASSES.index("other"), dtype=np.int64)
    open_ = np.ones(d, dtype=bool)
    unchecked = np.zeros(d, dtype=bool)

    def assign(mask: np.ndarray, name: str) -> None:
        hit = mask & open_
        labels[hit] = CLASSES.index(name)
        open_[hit] = False

    assign((m == n).any(axis=1), "stored")
    assign((m == -n).any(axis=1), "reversed")
    if prototypes is not None and len(prototypes):
        mp = states.astype(np.int64) @ np.asarray(prototypes, dtype=np.int64).T
        assign((np.abs(mp) == n).any(axis=1), "prototype")
    for k, name in ((3, "mixture3"), (5, "mixture5")):
        if k not in mixture_sizes:
            continue
        rows = np.flatnonzero(open_)
        if rows.size and x.shape[0] >= k:
            is_mix, _, gave_up = mixtures(states[rows], x, k, budget)
            hit = np.zeros(d, dtype=bool)
            hit[rows[is_mix]] = True
            unchecked[rows[gave_up]] = True
            assign(hit, name)
    unchecked &= open_
    return labels, unchecked


# --------------------------------------------------------------------------------------------------
# The census
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassSummary:
    """One row of the class table."""

    name: str
    states: int  # distinct fixed points of this class
    starts: int  # starts that ended in one of them
    basin: float  # starts / all starts
    energy_mean: float  # over the distinct states (nan when none)
    energy_std: float  # sample standard deviation (nan for fewer than two)


@dataclass(frozen=True)
class Census:
    """Result of :func:`run_census`."""

    label: str
    n: int
    p: int
    starts: int
    not_converged: int
    classes: tuple[ClassSummary, ...]
    states: np.ndarray  # (D, N) int8 distinct fixed points reached
    labels: np.ndarray  # (D,) index into CLASSES
    hits: np.ndarray  # (D,) starts that ended in each state
    energies: np.ndarray  # (D,)
    stabilities: np.ndarray  # (D, N) per-unit e_i
    radius: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) basin radius, -1: unstable
    radius_cues: int = 0
    unchecked: int = 0  # distinct "other" states whose mixture test gave up (MIXTURE_BUDGET)

    @property
    def not_converged_fraction(self) -> float:
        return self.not_converged / self.starts

    def basin(self, *names: str) -> float:
        """Fraction of all starts ending in the given classes."""
        return sum(c.basin for c in self.classes if c.name in names)

    @property
    def mean_radius(self) -> float:
        """Mean basin radius (flipped bits) of the stored patterns that are fixed points."""
        ok = self.radius[self.radius >= 0]
        return float(ok.mean()) if ok.size else float("nan")


def run_census(dynamics: CensusDynamics, x: np.ndarray, starts: np.ndarray, seed: int = 0,
               max_sweeps: int = 100, prototypes: np.ndarray | None = None, radius_cues: int = 0,
               mixture_sizes: tuple[int, ...] = (3, 5)) -> Census:
    """Relax every start, deduplicate the fixed points reached, classify them and summarise.

    ``radius_cues`` > 0 also measures every stored pattern's basin radius (:func:`basin_radii`);
    ``mixture_sizes`` () skips the mixture test (studies that only need stored vs spurious).
    """
    x = np.ascontiguousarray(x, dtype=np.int8)
    starts = np.ascontiguousarray(starts, dtype=np.int8)
    count = starts.shape[0]
    check_starts(count)
    relaxed = dynamics.relax(starts, np.arange(count, dtype=np.int64), seed, max_sweeps)
    done = relaxed.finals[relaxed.converged]
    if done.shape[0]:
        states, hits = np.unique(done, axis=0, return_counts=True)
    else:
        states, hits = np.zeros((0, dynamics.n), dtype=np.int8), np.zeros(0, dtype=np.int64)
    states = np.ascontiguousarray(states, dtype=np.int8)
    labels, unchecked = classify_states(states, x, prototypes, mixture_sizes=mixture_sizes)
    energies = dynamics.energy(states) if len(states) else np.zeros(0)
    stabilities = dynamics.stabilities(states) if len(states) else np.zeros((0, dynamics.n))
    rows = []
    for c, name in enumerate(CLASSES):
        sel = labels == c
        e = energies[sel]
        rows.append(ClassSummary(name, int(sel.sum()), int(hits[sel].sum()), float(hits[sel].sum()) / count,
                                 float(e.mean()) if e.size else float("nan"),
                                 float(e.std(ddof=1)) if e.size > 1 else float("nan")))
    radius = basin_radii(dynamics, x, radius_cues, seed, max_sweeps) if radius_cues > 0 \
        else np.zeros(0)
    return Census(dynamics.label, dynamics.n, x.shape[0], count, int(count - relaxed.converged.sum()),
                  tuple(rows), states, labels, hits.astype(np.int64), energies, stabilities, radius,
                  radius_cues, int(unchecked.sum()))


def basin_radii(dynamics: CensusDynamics, x: np.ndarray, cues: int, seed: int = 0,
                max_sweeps: int = 100) -> np.ndarray:
    """Basin radius of every stored pattern: the largest number of flipped bits k <= N/2 from which
    at least half of ``cues`` cues relax exactly back to the pattern, by binary search over k
    (retrieval assumed to get no easier as k grows); -1 when the pattern is not a fixed point.

    The cues of pattern mu at k flips come from default_rng([seed, stream, mu, k]) and cue c relaxes on
    stream index (mu (N + 1) + k) cues + c: the same whatever order the search visits them in.
    """
    p, n = x.shape
    lo = np.zeros(p, dtype=np.int64)  # largest k known to succeed
    hi = np.full(p, n // 2 + 1, dtype=np.int64)  # smallest k known to fail (sentinel)
    ok0 = _retrieval_ok(dynamics, x, np.arange(p), lo, cues, seed, max_sweeps)
    radius = np.where(ok0, 0, -1)
    active = ok0.copy()
    while True:
        todo = np.flatnonzero(active & (hi - lo > 1))
        if not todo.size:
            break
        mid = (lo[todo] + hi[todo]) // 2
        ok = _retrieval_ok(dynamics, x, todo, mid, cues, seed, max_sweeps)
        lo[todo[ok]] = mid[ok]
        hi[todo[~ok]] = mid[~ok]
    radius[active] = lo[active]
    return radius


def _retrieval_ok(dynamics: CensusDynamics, x: np.ndarray, patterns: np.ndarray, flips: np.ndarray,
                  cues: int, seed: int, max_sweeps: int) -> np.ndarray:
    """For each (pattern, flips) pair: do at least half of ``cues`` cues relax exactly to it?"""
    n = x.shape[1]
    starts = np.empty((len(patterns) * cues, n), dtype=np.int8)
    indices = np.empty(len(patterns) * cues, dtype=np.int64)
    for j, (mu, k) in enumerate(zip(patterns, flips, strict=True)):
        rng = np.random.default_rng([seed, _RADIUS_STREAM, int(mu), int(k)])
        block = np.repeat(x[mu][None, :], cues, axis=0)
        if k:
            units = np.argsort(rng.random((cues, n)), axis=1)[:, :k]
            np.negative.at(block, (np.arange(cues)[:, None], units))
        starts[j * cues:(j + 1) * cues] = block
        indices[j * cues:(j + 1) * cues] = (int(mu) * (n + 1) + int(k)) * cues + np.arange(cues)
    relaxed = dynamics.relax(starts, indices, seed ^ _RADIUS_STREAM, max_sweeps)
    target = np.repeat(x[patterns], cues, axis=0)
    hit = (relaxed.converged & (relaxed.finals == target).all(axis=1)).reshape(len(patterns), cues)
    return 2 * hit.sum(axis=1) >= cues


# --------------------------------------------------------------------------------------------------
# Energy profiles, the stability ratio, learned classifiers
# --------------------------------------------------------------------------------------------------

def stability_ratio(stabilities: np.ndarray) -> np.ndarray:
    """min_i e_i / max_i e_i per row: the least stable unit's stability relative to the most stable
    one's (our reading of Robins & McCallum 2004's stability ratio; learned states have flat
    profiles, ratio near 1, spurious ones a barely stable unit, ratio near 0). 0 where max <= 0."""
    e = np.asarray(stabilities, dtype=np.float64)
    top = e.max(axis=1)
    low = e.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(top > 0, low / np.where(top > 0, top, 1.0), 0.0)


def profile_features(stabilities: np.ndarray) -> np.ndarray:
    """Sorted profile scaled by its maximum: e_(1) / e_max <= ... <= 1 (feature 0 is the stability
    ratio). Scale-free, so networks of different P and models share one feature space."""
    e = np.sort(np.asarray(stabilities, dtype=np.float64), axis=1)
    top = e[:, -1:]
    return np.where(top > 0, e / np.where(top > 0, top, 1.0), 0.0)


def profile_labels(labels: np.ndarray) -> np.ndarray:
    """CLASSES index -> PROFILE_CLASSES index (learned = stored or reversed)."""
    mapping = np.array([0, 0, 1, 2, 2, 2])
    return mapping[np.asarray(labels)]


def write_profiles(path, census: Census) -> None:
    """The census's distinct fixed points, their classes, energies and energy profiles to .npz."""
    from .datasets import save_patterns

    save_patterns(path, census.states, classes=np.array(CLASSES), labels=census.labels,
                  hits=census.hits, energies=census.energies, stabilities=census.stabilities,
                  sorted_stabilities=np.sort(census.stabilities, axis=1),
                  stability_ratio=stability_ratio(census.stabilities), model=census.label,
                  n=census.n, p=census.p, starts=census.starts, not_converged=census.not_converged)


@dataclass(frozen=True)
class AccuracyRow:
    """One row of the classifier table."""

    task: str  # "learned vs rest" or "learned / prototype / spurious"
    method: str
    train_accuracy: float
    test_accuracy: float
    n_train: int
    n_test: int


def threshold_fit(ratio: np.ndarray, learned: np.ndarray) -> float:
    """The stability-ratio threshold t (call a state learned when ratio >= t) with the best training
    accuracy (midpoints between sorted distinct values; ties to the lowest)."""
    values = np.unique(ratio)
    candidates = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    scores = [np.mean((ratio >= t) == learned) for t in candidates]
    return float(candidates[int(np.argmax(scores))])


def compare_classifiers(train_e: np.ndarray, train_y: np.ndarray, test_e: np.ndarray,
                        test_y: np.ndarray, seed: int = 0) -> list[AccuracyRow]:
    """Accuracy of the stability-ratio threshold, logistic regression and an SVM (scikit-learn) on
    energy profiles: trained on one set of networks' states, tested on another's. ``*_y`` are
    PROFILE_CLASSES indices. Tasks: learned vs the rest (all methods) and the three classes (learned
    classifiers). A majority-class row gives the chance level."""
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC
    except ImportError as err:
        raise HopcapError("--classify needs scikit-learn: pip install 'hopcap[digits]'") from err
    if len(train_y) == 0 or len(test_y) == 0:
        raise HopcapError("no fixed points to classify: raise --starts")
    ftr, fte = profile_features(train_e), profile_features(test_e)
    rows = []
    for task, ytr, yte in (("learned vs rest", train_y == 0, test_y == 0),
                           ("learned/prototype/spurious", train_y, test_y)):
        ytr = np.asarray(ytr).astype(np.int64)
        yte = np.asarray(yte).astype(np.int64)
        major = np.bincount(ytr).argmax()
        rows.append(AccuracyRow(task, "majority class", float(np.mean(ytr == major)),
                                float(np.mean(yte == major)), len(ytr), len(yte)))
        if task == "learned vs rest":
            rtr, rte = stability_ratio(train_e), stability_ratio(test_e)
            t = threshold_fit(rtr, ytr == 1)
            rows.append(AccuracyRow(task, f"stability ratio >= {t:.3f}", float(np.mean((rtr >= t) == ytr)),
                                    float(np.mean((rte >= t) == yte)), len(ytr), len(yte)))
        if len(np.unique(ytr)) < 2:
            continue
        for name, clf in (("logistic regression", LogisticRegression(max_iter=2000)),
                          ("SVM (RBF)", SVC(kernel="rbf", C=1.0, random_state=seed))):
            model = make_pipeline(StandardScaler(), clf).fit(ftr, ytr)
            rows.append(AccuracyRow(task, name, float(model.score(ftr, ytr)), float(model.score(fte, yte)),
                                    len(ytr), len(yte)))
    return rows


#: A prototype task: (P examples, K prototypes, example noise r).
Task = tuple[int, int, float]


def prototype_profiles(model: BinaryDAM, n: int, tasks: list[Task], networks: int, starts: int,
                       seed: int, max_sweeps: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Energy profiles and PROFILE_CLASSES labels of the distinct fixed points of ``networks``
    networks per prototype task (network t of task j: seed (seed, j, t)), random starts."""
    profiles, labels = [], []
    for j, (p, k, noise) in enumerate(tasks):
        for t in range(networks):
            sub = int(np.random.SeedSequence([seed, j, t]).generate_state(1)[0])
            ps = prototype_set(n, p, k, noise, sub)
            c = run_census(binary_dynamics(model, ps.examples), ps.examples, random_starts(n, starts, sub),
                           sub, max_sweeps, ps.prototypes)
            profiles.append(c.stabilities)
            labels.append(profile_labels(c.labels))
    return np.concatenate(profiles), np.concatenate(labels)


def classification_table(model: BinaryDAM, n: int, tasks: list[Task], networks: int, starts: int,
                         seed: int = 0, max_sweeps: int = 100) -> list[AccuracyRow]:
    """Train on ``networks`` networks per prototype task, test on as many others (disjoint seeds)."""
    if networks < 1:
        raise HopcapError(f"--classify needs at least 1 network per side, got {networks}")
    train = prototype_profiles(model, n, tasks, networks, starts, seed, max_sweeps)
    test = prototype_profiles(model, n, tasks, networks, starts, seed + 1_000_003, max_sweeps)
    return compare_classifiers(train[0], train[1], test[0], test[1], seed)


#: Bytes per unit of every start of a census: the uniform draws (and a cue's argsort), the start and
#: final states, their deduplication, the int64 overlaps, energies and float64 stabilities.
START_UNIT_BYTES = 48
#: Bytes per unit of every basin-radius cue: the cue, its final state and its target.
CUE_UNIT_BYTES = 4


def census_bytes(n: int, p: int, starts: int, radius_cues: int) -> int:
    """An estimate of the memory a census allocates: per start, per basin-radius cue (all P
    patterns' cues relax together) and the stored set with its gain tables."""
    return (START_UNIT_BYTES * starts * n + CUE_UNIT_BYTES * p * radius_cues * n
            + 24 * radius_cues * n + 16 * p * n + 96 * (2 * n + 3))


@dataclass(frozen=True)
class CensusPlan:
    """Everything one ``hopcap census`` run needs, checked."""

    model: BinaryDAM
    x: np.ndarray
    prototypes: np.ndarray | None
    starts: np.ndarray
    seed: int
    max_sweeps: int
    radius_cues: int


def census_plan(model: str, degree: int | None, beta: float | None, n: int, p: int | None,
                patterns: str | None = None, dataset: str | None = None, prototypes: int | None = None,
                example_noise: float = 0.1, starts: int = 1000, from_cues: float | None = None,
                max_sweeps: int = 100, radius_cues: int = 20, classify: int | None = None,
                seed: int = 0) -> CensusPlan:
    """Check the options of ``hopcap census`` and build the stored set and the starts."""
    from .datasets import PatternSpec, dataset_patterns, generate_patterns, load_patterns

    dam = census_model(model, degree, beta)
    check_starts(starts)
    if not 1 <= max_sweeps <= MAX_SWEEPS_MAX:
        raise HopcapError(f"--max-sweeps must be in [1, {MAX_SWEEPS_MAX}], got {max_sweeps}")
    if radius_cues < 0:
        raise HopcapError(f"--radius-cues must be >= 0, got {radius_cues}")
    if not 0.0 <= example_noise <= 0.5:  # also NaN
        raise HopcapError(f"--example-noise must be in [0, 0.5], got {example_noise}")
    if classify is not None and prototypes is None:
        raise HopcapError("--classify trains on prototype tasks: give --prototypes K")
    if classify is not None and classify < 1:
        raise HopcapError(f"--classify needs at least 1 network per side, got {classify}")
    if (patterns or dataset) and prototypes is not None:
        raise HopcapError("--prototypes generates the stored set; it takes no --patterns or --dataset")
    if not (patterns or dataset):
        p = 10 if p is None else p
        if not 2 <= n <= 100_000:
            raise HopcapError(f"--n must be in [2, 100000] for a census, got {n}")
        if p < 1:
            raise HopcapError(f"--p must be >= 1, got {p}")
        check_memory(census_bytes(n, p, starts, radius_cues), f"a census of {starts} starts at N={n} "
                     f"with P={p}", "lower --starts, --radius-cues, --p or --n")
    protos = None
    if patterns or dataset:
        x = load_patterns(patterns) if patterns else dataset_patterns(dataset)
        if p is not None and p < 1:
            raise HopcapError(f"--p must be >= 1, got {p}")
        protos = load_prototypes(patterns) if patterns else None
        source = patterns or dataset
        x = x[:p] if p is not None else x
        if x.shape[0] < 1:
            raise HopcapError(f"{source}: no patterns")
        check_memory(census_bytes(x.shape[1], x.shape[0], starts, radius_cues),
                     f"a census of {starts} starts at N={x.shape[1]} with P={x.shape[0]}",
                     "lower --starts, --radius-cues or --p")
    else:
        if prototypes is not None:
            ps = prototype_set(n, p, prototypes, example_noise, seed)
            x, protos = ps.examples, ps.prototypes
        else:
            x = generate_patterns(PatternSpec(n), p, seed=seed)
    x = np.ascontiguousarray(x, dtype=np.int8)
    if from_cues is None:
        start_states = random_starts(x.shape[1], starts, seed)
    else:
        start_states = cue_starts(x, starts, from_cues, seed)
    return CensusPlan(dam, x, protos, start_states, seed, max_sweeps, radius_cues)


def run_plan(plan: CensusPlan) -> Census:
    """:func:`run_census` of a checked plan, with the dynamics its model's family registered."""
    from .families import family_of

    build = DYNAMICS_BUILDERS[family_of(plan.model.name).name]
    return run_census(build(plan.model, plan.x), plan.x, plan.starts, plan.seed,
                      plan.max_sweeps, plan.prototypes, plan.radius_cues)


def format_table(census: Census) -> str:
    """The class table as aligned text."""
    lines = [f"census of {census.label}: N={census.n} P={census.p}, {census.starts} starts, "
             f"{census.not_converged} did not converge ({census.not_converged_fraction:.4f})",
             f"{'class':<10} {'states':>7} {'starts':>8} {'basin':>8} {'E mean':>12} {'E std':>10}"]
    for c in census.classes:
        lines.append(f"{c.name:<10} {c.states:>7} {c.starts:>8} {c.basin:>8.4f} {c.energy_mean:>12.5g} "
                     f"{c.energy_std:>10.4g}")
    if census.unchecked:
        lines.append(f"({census.unchecked} 'other' states: the exact mixture test gave up after "
                     f"{MIXTURE_BUDGET} candidate sets; they may be mixtures)")
    if census.radius.size:
        stable = int((census.radius >= 0).sum())
        lines.append(f"basin radius of stored patterns ({census.radius_cues} cues per test, >= half "
                     f"retrieved): mean {census.mean_radius:.2f} bits over the {stable} of {census.p} "
                     f"that are fixed points")
    return "\n".join(lines)


def format_accuracy(rows: list[AccuracyRow]) -> str:
    lines = [f"{'task':<28} {'method':<26} {'train':>6} {'test':>6} {'n_train':>8} {'n_test':>7}"]
    for r in rows:
        lines.append(f"{r.task:<28} {r.method:<26} {r.train_accuracy:>6.3f} {r.test_accuracy:>6.3f} "
                     f"{r.n_train:>8} {r.n_test:>7}")
    return "\n".join(lines)


def threads_context(threads: int | None):
    """Thread control for the census (numba threads, restored afterwards)."""
    from ._compile import thread_count

    return thread_count(threads)

