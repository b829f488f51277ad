"""Finite-N prediction of the capacity under ``stable`` (docs/theory.md section 14).

For a stored pattern nu and a unit i, the flip gain is dE = g(N) + sum_{mu != nu} T_mu with
g(m) = F(m) - F(m-2) (theory.md section 1) and one crosstalk term per other pattern,

    T = s g(M),   s = xi_mu,i xi_nu,i uniform in {-1, +1},   M = 1 + sum_{j != i} xi_mu,j xi_nu,j,

with s and M independent: M = N - 2k, k ~ Binomial(N - 1, 1/2) (given s = -1 the term is
F(m) - F(m+2) = -g(m+2) with m + 2 = M). Given xi_nu the P - 1 terms are i.i.d. and T is symmetric,
so the unit is unstable (dE < 0; a tie dE = 0 keeps the state) with probability

    p_unit(P) = P(S_{P-1} > g(N)),   S_n = T_1 + ... + T_n,

which this module computes (1) exactly, by convolution on the integer lattice of the terms, for
the integer energies where the support of S is small enough (exponentially tilted at the
saddlepoint, so the FFT's rounding stays relative to the tail itself), and (2) otherwise by the
Lugannani-Rice saddlepoint formula (Daniels 1987's second continuity correction for lattice
terms). Then (3), *approximating* every (pattern, unit) event as independent, a prefix of P
patterns is stored with probability

    s(P) = P(Binomial(P, q(P)) <= allowed_failures(threshold, P)),   q(P) = 1 - (1 - p_unit(P))^N,

(for threshold 1: (1 - p_unit)^(N P), Poisson-like) and the capacity the binary search finds is
taken as the first-failure time, P(P_max >= P) = min_{Q <= P} s(Q): the search returns a P that is
stored with P + 1 not stored, which is the first failure when storage is monotone in P.

Sources: McEliece, Posner, Rodemich & Venkatesh 1987 (the Hebbian crosstalk and the independent-unit
approximation); Krotov & Hopfield 2016 (polynomial energies); Demircigil et al. 2017 (exp);
Lugannani & Rice 1980; Daniels 1987 (saddlepoint tail probabilities, continuity corrections).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from .criteria import Stable, allowed_failures
from .errors import HopcapError
from .models import BinaryDAM, exp_polynomial_sign

#: Exact convolution when the lattice support of S_{P-1} has at most this many points (one real FFT
#: of that length per P); the saddlepoint otherwise.
EXACT_MAX_SUPPORT = 1 << 17
#: Points of the P grid on which p_unit is evaluated before interpolation (see ``capacity_law``).
GRID_POINTS = 48
#: The survival s(P) is followed until -ln s(P) exceeds this (s < 1e-20).
LAMBDA_END = 46.0
#: Largest P the prediction follows (float64 sums of P terms stay exact integers well beyond).
P_PREDICT_MAX = 1 << 50
#: P_max distributions are summed over every integer P up to this; beyond, on a geometric grid.
INTEGER_SUM_MAX = 1 << 21


# ---------------------------------------------------------------------------------------------
# (1) the law of one crosstalk term


@dataclass(frozen=True)
class CrosstalkLaw:
    """The law of one crosstalk term T = s g(M) at size N, in units of the self margin g(N).

    ``magnitude[k]`` = g(N - 2k) / g(N) (float64; exp: e^(-2 beta k) from its log), ``log_weight[k]``
    = ln P(M = N - 2k) = ln C(N-1, k) - (N-1) ln 2, k = 0..N-1; T = +-magnitude with probability 1/2
    each. For the integer energies ``lattice`` holds the exact integers g(N - 2k) / G and ``margin``
    g(N) / G, G the gcd of every g(N - 2k) and g(N) (None for exp, whose terms lie on no lattice).
    """

    model: BinaryDAM
    n: int
    magnitude: np.ndarray
    log_weight: np.ndarray
    lattice: tuple[int, ...] | None
    margin: int | None

    @property
    def span(self) -> int | None:
        """The lattice span h of S_n / G: every difference of two values +-lattice[k] is a multiple
        of h (None for exp)."""
        if self.lattice is None:
            return None
        h = 0
        for v in self.lattice:  # the differences v - (-v) = 2v and v_j - v_0 generate all others
            h = math.gcd(h, 2 * v, v - self.lattice[0])
        return max(h, 1)


def crosstalk_law(model: BinaryDAM, n: int) -> CrosstalkLaw:
    """The exact law of one crosstalk term at size N for a binary model (energy rule)."""
    return _crosstalk_law(model, int(n))


@functools.lru_cache(maxsize=128)
def _crosstalk_law(model: BinaryDAM, n: int) -> CrosstalkLaw:
    if model.rule != "energy":
        raise HopcapError("hopcap predict covers the energy rule only (docs/theory.md section 14)")
    if n < 2:
        raise HopcapError(f"hopcap predict needs N >= 2, got {n}")
    k = np.arange(n)
    log_weight = special.gammaln(n) - special.gammaln(k + 1) - special.gammaln(n - k) - (n - 1) * math.log(2)
    if model.is_integer:
        from .models import energy_integer

        gains = [energy_integer(model, m) - energy_integer(model, m - 2) for m in range(n, -n, -2)]
        g = 0
        for v in gains:
            g = math.gcd(g, v)
        lattice = tuple(abs(v) // g for v in gains)
        margin = gains[0] // g
        magnitude = np.array([v / margin for v in lattice], dtype=np.float64)  # int / int: rounded
        return CrosstalkLaw(model, n, magnitude, log_weight, lattice, margin)
    # exp: g(M) / g(N) = e^(beta (M - N)) = e^(-2 beta k), exactly from its logarithm
    magnitude = np.exp(-2.0 * model.beta * k)
    return CrosstalkLaw(model, n, magnitude, log_weight, None, None)


# ---------------------------------------------------------------------------------------------
# (2) one unit: P(S_{P-1} > g(N)), ties keep the state


def _log_mgf(law: CrosstalkLaw, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """K(theta) = ln E e^(theta T), K'(theta) and K''(theta) for T in units of the margin, vectorised
    over theta >= 0 (E e^(theta T) = sum_k w_k cosh(theta v_k), summed in the log domain)."""
    theta = np.asarray(theta, dtype=np.float64)[..., None]
    v = law.magnitude
    x = theta * v
    log_cosh = x + np.log1p(np.exp(-2.0 * x)) - math.log(2.0)
    a = law.log_weight + log_cosh
    top = a.max(axis=-1, keepdims=True)
    e = np.exp(a - top)
    total = e.sum(axis=-1)
    k = top[..., 0] + np.log(total)
    pi = e / total[..., None]
    k1 = (pi * v * np.tanh(x)).sum(axis=-1)
    k2 = (pi * v * v).sum(axis=-1) - k1 * k1
    return k, k1, np.maximum(k2, 0.0)


def _saddlepoint(law: CrosstalkLaw, target: np.ndarray) -> np.ndarray:
    """theta >= 0 with K'(theta) = target (0 < target < max magnitude), by safeguarded Newton."""
    target = np.asarray(target, dtype=np.float64)
    lo = np.zeros_like(target)
    hi = np.ones_like(target)
    for _ in range(200):  # bracket: K' increases from 0 to max|T|
        _, k1, _ = _log_mgf(law, hi)
        short = k1 < target
        if not short.any():
            break
        hi = np.where(short, 2.0 * hi, hi)
    _, _, k2_0 = _log_mgf(law, np.zeros(1))
    theta = np.clip(target / max(float(k2_0[0]), 1e-300), lo, hi)
    for _ in range(100):
        _, k1, k2 = _log_mgf(law, theta)
        over = k1 > target
        hi = np.where(over, theta, hi)
        lo = np.where(over, lo, theta)
        step = theta - (k1 - target) / np.where(k2 > 0, k2, np.inf)
        inside = (step > lo) & (step < hi)
        new = np.where(inside, step, 0.5 * (lo + hi))
        if np.all(np.abs(new - theta) <= 1e-13 * np.maximum(new, 1e-300)):
            theta = new
            break
        theta = new
    return theta


def _log_tail(law: CrosstalkLaw, n: np.ndarray, x: np.ndarray, span: float = 0.0) -> np.ndarray:
    """ln P(S_n >= x) for x > 0 by Lugannani-Rice, vectorised over (n, x); ``span`` > 0: lattice terms,
    x already continuity-corrected (Daniels 1987's second correction). -inf where x >= n max|T|."""
    n = np.asarray(n, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    out = np.full(np.broadcast(n, x).shape, -np.inf)
    n, x = np.broadcast_arrays(n, x)
    vmax = float(law.magnitude.max())
    possible = (n >= 1) & (x < n * vmax)
    if not possible.any():
        return out
    n_, xs = n[possible], x[possible]
    t = _saddlepoint(law, np.minimum(xs / n_, vmax * (1 - 1e-12)))
    k, _, k2 = _log_mgf(law, t)
    w2 = np.maximum(2.0 * (t * xs - n_ * k), 0.0)
    w = np.sqrt(w2)
    sd = np.sqrt(n_ * k2)
    u = 2.0 / span * np.sinh(span * t / 2.0) * sd if span > 0 else t * sd
    log_phi = -w2 / 2.0 - 0.5 * math.log(2.0 * math.pi)
    mills = special.erfcx(w / math.sqrt(2.0)) * math.sqrt(math.pi / 2.0)  # Q(w) / phi(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        bracket = mills + 1.0 / u - 1.0 / w
        value = log_phi + np.log(bracket)
    near = (w < 1e-3) | ~np.isfinite(value) | (bracket <= 0)
    if near.any():  # within a standard deviation or so of the mean: the normal law is enough there
        _, _, k2_0 = _log_mgf(law, np.zeros(1))
        value[near] = special.log_ndtr(-xs[near] / np.sqrt(n_[near] * float(k2_0[0])))
    out[possible] = np.minimum(value, 0.0)
    return out


def _lattice_threshold(law: CrosstalkLaw, terms: int) -> int:
    """The smallest value of S_terms / G on its lattice that exceeds the margin strictly."""
    h = law.span
    t0 = law.lattice[0]
    offset = terms * t0  # S / G = terms * t0 (mod h)
    return offset + h * ((law.margin - offset) // h + 1)


def unit_failure_saddlepoint(law: CrosstalkLaw, p: np.ndarray | int) -> np.ndarray:
    """ln P(S_{P-1} > g(N)) by Lugannani-Rice, vectorised over P (-inf where it is impossible).

    P(S_n >= x) ~ Q(w) + phi(w) (1/u - 1/w), w = sgn(t) sqrt(2 (t x - n K(t))), n K'(t) = x; for lattice
    terms (span h) x is the first lattice point above the margin less h/2 and u = (2/h) sinh(h t / 2)
    sqrt(n K''(t)) (Daniels 1987), else u = t sqrt(n K''(t)) and x the margin (exp: see
    :func:`unit_failure_conditioned`, which conditions on the large terms first).
    """
    p = np.atleast_1d(np.asarray(p, dtype=np.float64))
    terms = p - 1.0
    if law.lattice is None:
        return _log_tail(law, terms, np.ones_like(terms))
    scale = law.margin  # magnitudes are lattice / margin
    h = law.span / scale
    first = np.array([_lattice_threshold(law, int(t)) / scale if t >= 1 else np.inf for t in terms])
    out = np.full(p.shape, -np.inf)
    ok = (terms >= 1) & (first <= terms * float(law.magnitude.max()) * (1 + 1e-15))
    out[ok] = _log_tail(law, terms[ok], first[ok] - h / 2, span=h)
    return out


def exact_support(law: CrosstalkLaw, p: int) -> int | None:
    """Points of the lattice support of S_{P-1} / G (None for exp, whose terms lie on no lattice)."""
    if law.lattice is None:
        return None
    return 2 * (p - 1) * max(law.lattice) + 1


def unit_failure_exact(law: CrosstalkLaw, p: int) -> float:
    """ln P(S_{P-1} > g(N)) by exact convolution on the lattice (integer energies only).

    The term's law is tilted by e^(t T) at the saddlepoint t of the first lattice point above the
    margin, the (P-1)-fold convolution of the tilted law taken by one FFT power, and the tail
    untilted term by term: P(S > c) = M(t)^n sum_{s > c} f_t^{*n}(s) e^(-t s). The only error is the
    FFT's rounding, relative to the tilted law's mass near c (not to the tail's tiny size).
    """
    if law.lattice is None:
        raise HopcapError("exact convolution needs integer gains (not exp)")
    terms = p - 1
    if terms < 1:
        return -math.inf
    top = max(law.lattice)
    first = _lattice_threshold(law, terms)
    if first > terms * top:
        return -math.inf
    size = exact_support(law, p)
    # the term's law on -top..top (index x + top)
    log_f = np.full(2 * top + 1, -np.inf)
    lattice = np.array(law.lattice, dtype=np.int64)
    half = law.log_weight - math.log(2.0)
    for sign in (1, -1):
        idx = sign * lattice + top
        np.logaddexp.at(log_f, idx, half)
    x = np.arange(-top, top + 1, dtype=np.float64)
    t = float(_saddlepoint(law, np.array([min((first - law.span / 2) / terms / law.margin,
                                                 float(law.magnitude.max()) * (1 - 1e-12))]))[0])
    t_int = t / law.margin  # the tilt per lattice unit
    log_tilted = log_f + t_int * x
    shift = np.max(log_tilted)
    tilted = np.exp(log_tilted - shift)
    mass = tilted.sum()
    log_m = shift + math.log(mass)  # ln M(t)
    tilted /= mass
    length = _fft_length(size)
    spectrum = np.fft.rfft(tilted, length) ** terms
    conv = np.fft.irfft(spectrum, length)[:size]  # S / G = index - terms * top
    s = np.arange(size, dtype=np.float64) - terms * top
    tail = s >= first
    values = np.maximum(conv[tail], 0.0)
    with np.errstate(divide="ignore"):
        log_terms = np.log(values) - t_int * (s[tail] - first)
    log_sum = special.logsumexp(log_terms)
    return float(min(terms * log_m - t_int * first + log_sum, 0.0))


def _fft_length(size: int) -> int:
    """A fast FFT length >= size (5-smooth)."""
    from scipy.fft import next_fast_len

    return next_fast_len(size, real=True)


#: exp: levels k whose term e^(-2 beta k) is at least this fraction of the margin are conditioned on
#: (at most BIG_LEVELS_MAX of them, and at most BIG_TERMS_MAX such terms); the rest by saddlepoint.
BIG_TERM = 0.25
BIG_LEVELS_MAX = 3
BIG_TERMS_MAX = 12
_SERIES_MAX = 60


def unit_failure_conditioned(law: CrosstalkLaw, p: int, big_levels: int | None = None,
                             big_terms: int | None = None) -> float:
    """ln P(S_{P-1} > g(N)), conditioning on the large terms (exp; integer energies off the lattice
    convolution's range).

    The saddlepoint alone fails when the tail is made by single large jumps: exp (a stored pattern
    that is the target or its neighbour, k = 0, has |T| = the margin), and high degrees (poly a >= 6
    at small N: off by factors 2-3). So the J terms at the K0 levels with the largest |T|
    (|T| >= BIG_TERM, at most BIG_LEVELS_MAX) are enumerated exactly: J ~ Binomial(P-1, p_big),
    and given J their net counts D_k (plus minus minus) by convolving J picks on the K0-dimensional
    lattice of D; the other P-1-J terms R by Lugannani-Rice (units of the margin g(N)):
    P(S > 1) = sum P(J, D) P(R > 1 - B(D)), B(D) =
    sum D_k |T_k| (integer energies: in exact integers, and R's tail taken from the first point of
    its lattice above g(N) - B with Daniels' correction). exp ties: e^(2 beta) is transcendental
    (theory.md section 1), so S = 1 only when D = e_0 and R's counts all cancel; then
    P(R > 0) = (1 - P(R = 0)) / 2, P(R = 0) = n! [t^n] prod_k I_0(w_k t) (exact for
    n <= _SERIES_MAX, Poissonised beyond). With ``big_levels`` = N and ``big_terms`` = P - 1 nothing
    is left to R and the result is exact (tests compare it with enumeration).
    """
    terms = p - 1
    if terms < 1:
        return -math.inf
    n_levels = law.magnitude.size
    order = np.argsort(-law.magnitude, kind="stable")  # the largest terms first (exp: already so)
    if law.lattice is not None and not np.array_equal(order, np.arange(n_levels)):
        law = CrosstalkLaw(law.model, law.n, law.magnitude[order], law.log_weight[order],
                           tuple(law.lattice[i] for i in order), law.margin)
    k0 = big_levels if big_levels is not None else \
        min(int((law.magnitude >= BIG_TERM).sum()), BIG_LEVELS_MAX)
    k0 = max(1, min(k0, n_levels))
    # the large levels' total weight and each one's share, normalised in logs: far in the tail (hebbian
    # at N = 1600) every large level's weight underflows to 0, and 0 / 0 shares are not wanted even
    # though J = 0 is then certain and the shares are never used
    log_big = float(special.logsumexp(law.log_weight[:k0]))
    p_big = math.exp(log_big)
    if big_terms is None:  # enough large terms that the binomial tail beyond is below 1e-15
        log_all = _binomial_logpmf(terms, p_big, min(terms, BIG_TERMS_MAX))
        cum = np.cumsum(np.exp(log_all))
        big_terms = int(np.searchsorted(cum, 1.0 - 1e-15)) if cum[-1] > 1.0 - 1e-15 else BIG_TERMS_MAX
    jmax = min(terms, big_terms)
    log_pj = _binomial_logpmf(terms, p_big, jmax)
    pick = np.exp(law.log_weight[:k0] - log_big) if math.isfinite(log_big) else np.full(k0, 1.0 / k0)
    small = None
    if k0 < n_levels:
        small = CrosstalkLaw(law.model, law.n, law.magnitude[k0:],
                             law.log_weight[k0:] - math.log1p(-min(p_big, 1 - 1e-16)),
                             None if law.lattice is None else law.lattice[k0:], law.margin)
    v = law.magnitude[:k0]
    width = 2 * jmax + 1
    dist = np.zeros((width,) * k0)
    dist[(jmax,) * k0] = 1.0
    grids = np.meshgrid(*[np.arange(-jmax, jmax + 1)] * k0, indexing="ij")
    b = sum(g * v[i] for i, g in enumerate(grids))  # B(D) on the lattice of D
    is_e0 = (grids[0] == 1)
    for g in grids[1:]:
        is_e0 = is_e0 & (g == 0)
    total = -math.inf
    rows_n, rows_x, rows_logp, tie_n, tie_logp, sure, lat_rows = [], [], [], [], [], [], []
    for j in range(jmax + 1):
        if j > 0:
            new = np.zeros_like(dist)
            for i in range(k0):
                for step in (1, -1):
                    new += 0.5 * pick[i] * np.roll(dist, step, axis=i)  # never wraps: |D_k| <= j <= jmax
            dist = new
        if not np.isfinite(log_pj[j]):
            continue
        nz = dist > 0
        logp = log_pj[j] + np.log(dist[nz])
        bs, e0 = b[nz], is_e0[nz]
        rest = terms - j
        if law.lattice is not None:  # integer energies: B and the margin as exact integers
            b_int = sum(g[nz].astype(object) * law.lattice[i] for i, g in enumerate(grids))
            if rest == 0 or small is None:
                sure.extend(logp[np.array([bi > law.margin for bi in b_int], dtype=bool)])
                continue
            lat_rows.append((rest, logp, [law.margin - bi for bi in b_int]))
            continue
        if rest == 0 or small is None:  # S = B exactly: decide B > 1 exactly
            ds = np.stack([g[nz] for g in grids], axis=1)
            above = np.array([_exp_above_margin(d, law.model.beta) for d in ds], dtype=bool)
            sure.extend(logp[above])
            continue
        tie_n.append(rest)
        tie_logp.extend(logp[e0])
        if e0.sum():
            tie_n[-1] = (rest, int(e0.sum()))
        else:
            tie_n.pop()
        other = ~e0
        rows_n.append(np.full(int(other.sum()), rest, dtype=np.float64))
        rows_x.append(1.0 - bs[other])
        rows_logp.append(logp[other])
    parts = list(sure)
    if lat_rows:
        parts.extend(_lattice_rest_tails(small, lat_rows))
    if rows_n:
        n_all, x_all, lp_all = np.concatenate(rows_n), np.concatenate(rows_x), np.concatenate(rows_logp)
        upper = x_all > 0
        tail = np.empty_like(x_all)
        if upper.any():
            tail[upper] = _log_tail(small, n_all[upper], x_all[upper])
        if (~upper).any():  # P(R > x) = 1 - P(R >= -x) for x < 0 (R has no atom there)
            with np.errstate(divide="ignore"):
                tail[~upper] = np.log1p(-np.exp(_log_tail(small, n_all[~upper], -x_all[~upper])))
        parts.extend(lp_all + tail)
    lp_ties = iter(tie_logp)
    for rest, count in tie_n:
        zero = _log_prob_zero(small, rest)
        half = math.log(max(-math.expm1(zero), 0.0) / 2) if zero < 0 else -math.inf
        for _ in range(count):
            parts.append(next(lp_ties) + half)
    if parts:
        total = float(special.logsumexp(parts))
    return min(total, 0.0)


def _lattice_rest_tails(small: CrosstalkLaw, rows: list) -> list:
    """ln P(J, D) + ln P(R > c) for integer energies, c = margin - B(D) exact, R the sum of ``rest``
    small terms on its lattice (span h, offset rest * v_0): P(R > c) is the tail from the first
    lattice point above c; for c < 0, 1 - P(R >= -c) by symmetry, from the first point >= -c (both
    by Lugannani-Rice with Daniels' continuity correction)."""
    h = small.span
    top = max(small.lattice)
    scale = small.margin
    ns, xs, signs, lps = [], [], [], []
    for rest, logp, cs in rows:
        offset = rest * small.lattice[0]
        for c, lp in zip(cs, logp, strict=True):
            if c >= 0:
                first = offset + h * ((c - offset) // h + 1)  # first point > c
                upper = True
            else:
                first = offset + h * (-((c + offset) // h))  # first point >= -c (ceil)
                upper = False
            if first > rest * top:  # beyond the support: the tail is empty
                if not upper:
                    ns.append(None)
                    xs.append(None)
                    signs.append(upper)
                    lps.append(lp)
                continue
            ns.append(rest)
            xs.append((2 * first - h) / (2 * scale))  # int / int: correctly rounded, any size
            signs.append(upper)
            lps.append(lp)
    out = []
    live = [i for i, n in enumerate(ns) if n is not None]
    tails = _log_tail(small, np.array([ns[i] for i in live], dtype=np.float64),
                      np.array([xs[i] for i in live], dtype=np.float64), span=h / scale) if live else []
    tail_of = dict(zip(live, tails, strict=True))
    for i, lp in enumerate(lps):
        t = tail_of.get(i, -math.inf)
        if signs[i]:
            out.append(lp + t)
        else:
            with np.errstate(divide="ignore"):
                out.append(lp + math.log1p(-math.exp(t)) if t < 0 else -math.inf)
    return out


def _binomial_logpmf(n: int, q: float, jmax: int) -> np.ndarray:
    """ln P(J = j), J ~ Binomial(n, q), j = 0..jmax."""
    j = np.arange(jmax + 1)
    with np.errstate(divide="ignore"):
        return (special.gammaln(n + 1) - special.gammaln(j + 1) - special.gammaln(n - j + 1)
                + special.xlogy(j, q) + special.xlog1py(n - j, -min(q, 1.0)))


def _exp_above_margin(d: np.ndarray, beta: float) -> bool:
    """Exactly whether sum_k d_k e^(-2 beta k) > 1 (models.exp_polynomial_sign on q = e^(2 beta))."""
    top = len(d) - 1  # times q^top: sum_k d_k q^(top - k) - q^top
    coefficients = [0] * (top + 1)
    for k, dk in enumerate(d):
        coefficients[top - k] += int(dk)
    coefficients[top] -= 1
    return exp_polynomial_sign(coefficients, beta) > 0


def _log_prob_zero(law: CrosstalkLaw, n: int) -> float:
    """ln P(every level's net count is 0) for n i.i.d. terms of ``law`` (exp: then R = 0 exactly):
    n! [t^n] prod_k I_0(w_k t) for n <= _SERIES_MAX, else prod_k e^(-n w_k) I_0(n w_k) (Poisson)."""
    w = np.exp(law.log_weight)
    if n % 2 and n <= _SERIES_MAX:
        return -math.inf
    if n > _SERIES_MAX:
        return float(np.log(special.i0e(n * w)).sum())
    m = np.arange(n // 2 + 1)
    poly = np.zeros(n + 1)
    poly[0] = 1.0
    for wk in w:
        series = np.zeros(n + 1)
        series[2 * m] = np.exp(2 * m * math.log(wk / 2) - 2 * special.gammaln(m + 1)) if wk > 0 else \
            (m == 0).astype(float)
        poly = np.convolve(poly, series)[: n + 1]
    value = poly[n] * math.exp(special.gammaln(n + 1))
    return math.log(value) if value > 0 else -math.inf


def unit_failure(law: CrosstalkLaw, p: int, method: str = "auto") -> float:
    """ln P(one unit of one pattern is unstable) with P patterns stored: exact convolution when the
    lattice support is at most EXACT_MAX_SUPPORT points (``method="auto"``), else the conditioned
    saddlepoint (``"saddlepoint"``: Lugannani-Rice alone)."""
    size = exact_support(law, p)
    use_exact = method == "exact" or (method == "auto" and size is not None and size <= EXACT_MAX_SUPPORT)
    if use_exact:
        return unit_failure_exact(law, p)
    if method == "saddlepoint":
        return float(unit_failure_saddlepoint(law, p)[0])
    return unit_failure_conditioned(law, p)


def unit_failure_curve(law: CrosstalkLaw, ps: np.ndarray) -> tuple[np.ndarray, str]:
    """ln p_unit at every P of ``ps`` and the method used: "exact" (lattice convolution) when the
    largest P's support has at most EXACT_MAX_SUPPORT points, else "conditioned saddlepoint"
    (:func:`unit_failure_conditioned`)"""
    ps = np.asarray(ps, dtype=np.int64)
    if law.lattice is not None and exact_support(law, int(ps.max())) <= EXACT_MAX_SUPPORT:
        return np.array([unit_failure_exact(law, int(p)) for p in ps]), "exact"
    return np.array([unit_failure_conditioned(law, int(p)) for p in ps]), "conditioned saddlepoint"


# ---------------------------------------------------------------------------------------------
# (3) a stored prefix, and the capacity the search finds


@dataclass(frozen=True)
class CapacityPrediction:
    """The predicted law of P_max for one model, N and threshold under ``stable``.

    ``survival[P - 1]`` = P(P_max >= P) for P = 1..len(survival) (``sizes`` holds the P of each entry
    when the sum ran on a geometric grid); ``grid`` and ``log_unit`` the P at which p_unit was
    computed and its logarithm; ``method`` how (see :func:`unit_failure_curve`).
    """

    model: BinaryDAM
    n: int
    threshold: float
    mean: float
    sd: float
    quantiles: tuple[tuple[float, int], ...]  # (q, smallest P with P(P_max <= P) >= q)
    method: str
    grid: np.ndarray
    log_unit: np.ndarray
    sizes: np.ndarray
    survival: np.ndarray

    def quantile(self, q: float) -> int:
        return dict(self.quantiles)[q]


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def log_stored(log_unit: np.ndarray, p: np.ndarray, n: int, threshold: float) -> np.ndarray:
    """ln s(P), s(P) = P(prefix of P stored) with every (pattern, unit) event independent:
    P(Binomial(P, q) <= allowed_failures(threshold, P)), q = 1 - (1 - p_unit)^N; for threshold 1
    that is N P ln(1 - p_unit)."""
    p = np.asarray(p, dtype=np.float64)
    log_ok_unit = np.log1p(-np.minimum(np.exp(log_unit), 1.0))  # ln(1 - p_unit)
    if threshold >= 1.0:
        return n * p * log_ok_unit
    frac = _threshold_fraction(threshold)
    pi = p.astype(np.int64)
    needed = -((-frac[0] * pi) // frac[1])  # ceil(t P) in exact integers (criteria.allowed_failures)
    allowed = pi - np.maximum(needed, 1)
    q = -np.expm1(n * log_ok_unit)  # a pattern fails
    from scipy import stats

    return stats.binom.logcdf(allowed, pi, np.clip(q, 0.0, 1.0))


def _threshold_fraction(threshold: float) -> tuple[int, int]:
    from .criteria import _exact_threshold

    f = _exact_threshold(threshold)
    assert allowed_failures(threshold, 7) == 7 - max(-((-f.numerator * 7) // f.denominator), 1)
    return f.numerator, f.denominator


def predict_capacity(model: BinaryDAM, n: int, threshold: float = 1.0) -> CapacityPrediction:
    """The predicted distribution of P_max (mean, sd, quantiles) under ``stable`` at size N.

    p_unit is computed on a geometric grid of P (GRID_POINTS points up to where ln s(P) <
    -LAMBDA_END, then as many again across the transition) and interpolated in (ln P, ln p_unit) by a
    cubic spline; the survival P(P_max >= P) = min_{Q <= P} s(Q) is summed over every integer P (on a
    geometric grid beyond INTEGER_SUM_MAX).
    """
    Stable(threshold=threshold)  # checks the threshold
    law = crosstalk_law(model, n)

    def log_s(ps, lu):
        return log_stored(lu, ps, n, threshold)

    # bracket the end: double P until the prefix is almost surely not stored
    p_hi = 2
    while True:
        lu, _ = unit_failure_curve(law, np.array([p_hi]))
        if log_s(np.array([p_hi]), lu)[0] < -LAMBDA_END:
            break
        if p_hi >= P_PREDICT_MAX:
            raise HopcapError(f"{model.label} at N={n}: the predicted capacity exceeds 2^50 patterns; "
                              f"hopcap predict stops there (lower --n)")
        p_hi *= 2
    grid = np.unique(np.round(np.geomspace(2, p_hi, GRID_POINTS)).astype(np.int64))
    log_unit, method = unit_failure_curve(law, grid)
    ls = log_s(grid, log_unit)
    # refine across the transition (-ln s from 1e-4 to LAMBDA_END)
    inside = np.flatnonzero((ls < -1e-4) & (ls > -LAMBDA_END))
    lo = grid[max(inside[0] - 1, 0)] if inside.size else grid[0]
    hi = grid[min(inside[-1] + 1, grid.size - 1)] if inside.size else grid[-1]
    extra = np.setdiff1d(np.unique(np.round(np.geomspace(lo, hi, GRID_POINTS)).astype(np.int64)), grid)
    if extra.size:
        more, _ = unit_failure_curve(law, extra)
        grid = np.concatenate([grid, extra])
        log_unit = np.concatenate([log_unit, more])
        order = np.argsort(grid)
        grid, log_unit = grid[order], log_unit[order]
    sizes = np.arange(1, p_hi + 1, dtype=np.int64) if p_hi <= INTEGER_SUM_MAX else \
        np.unique(np.round(np.geomspace(1, p_hi, INTEGER_SUM_MAX)).astype(np.int64))
    lu_all = _interpolate(grid, log_unit, sizes)
    s = np.exp(log_s(sizes, lu_all))
    s[sizes == 1] = 1.0  # one pattern is always stable: g(N) > 0
    survival = np.minimum.accumulate(s)
    # P(sizes[i] <= P_max < sizes[i + 1]) = survival[i] - survival[i + 1]; on the integers that is
    # P(P_max = P) exactly, on a geometric grid the mass sits at the middle of its bin
    mass = survival - np.concatenate([survival[1:], [0.0]])
    ends = np.concatenate([sizes[1:], [sizes[-1] + 1]]).astype(np.float64)
    centre = (sizes + ends - 1) / 2.0
    mean = float((mass * centre).sum())
    sd = math.sqrt(float((mass * (centre - mean) ** 2).sum()))
    cdf_next = 1.0 - np.concatenate([survival[1:], [0.0]])  # P(P_max <= P)
    quantiles = tuple((q, int(sizes[min(np.searchsorted(cdf_next, q), sizes.size - 1)])) for q in QUANTILES)
    return CapacityPrediction(model, n, threshold, mean, sd, quantiles, method, grid, log_unit, sizes,
                              survival)


def _interpolate(grid: np.ndarray, log_unit: np.ndarray, at: np.ndarray) -> np.ndarray:
    """ln p_unit at ``at`` from the grid: monotone cubic in ln P (-inf below the first finite value)."""
    from scipy.interpolate import PchipInterpolator

    finite = np.isfinite(log_unit)
    out = np.full(at.shape, -np.inf)
    if finite.sum() < 2:
        if finite.any():
            out[at >= grid[finite][0]] = log_unit[finite][0]
        return out
    x, y = np.log(grid[finite]), log_unit[finite]
    first = grid[finite][0]
    use = at >= first
    out[use] = PchipInterpolator(x, y, extrapolate=True)(np.log(at[use]))
    # the last impossible P below the first finite one stays -inf: P(S > margin) = 0 there exactly
    return np.minimum(out, 0.0)


# ---------------------------------------------------------------------------------------------
# (4) configurations, rows and the CSV of ``hopcap predict``

#: Columns a prediction adds to the configuration columns of ``hopcap measure``.
PREDICTION_COLUMNS = ["predicted_mean", "predicted_sd", "predicted_q05", "predicted_q25",
                      "predicted_q50", "predicted_q75", "predicted_q95", "method", "law", "law_value",
                      "hopcap_version"]
IID_ONLY = "the prediction assumes i.i.d. unbiased patterns"


def prediction_configs(values: dict, given: set[str]) -> list:
    """The measure configurations of a ``hopcap predict`` command (models x N), checked like
    ``hopcap measure``'s, refusing what the theory does not cover with a one-line message."""
    from .measure import configs_from_options

    if values.get("model") not in (None, "hebbian", "poly", "rectpoly", "exp"):
        raise HopcapError(f"hopcap predict covers the binary models hebbian, poly, rectpoly and exp, "
                          f"not {values['model']}")
    if values.get("criterion") not in (None, "stable"):
        raise HopcapError(f"hopcap predict covers --criterion stable only, not {values['criterion']} "
                          f"(docs/theory.md section 14)")
    for name, plain in (("patterns", None), ("dataset", None)):
        if values.get(name) is not plain:
            raise HopcapError(f"--{name}: {IID_ONLY}")
    if values.get("bias", 0.5) != 0.5:
        raise HopcapError(f"--bias {values['bias']:g}: {IID_ONLY}")
    for name in ("correlation", "min_distance"):
        if any(v != 0 for v in values.get(name) or [0]):
            raise HopcapError(f"--{name.replace('_', '-')}: {IID_ONLY}")
    if (values.get("rule") or "energy") != "energy":  # blank: --rule not given
        raise HopcapError("hopcap predict covers the energy rule only (--rule energy)")
    configs = configs_from_options({k: v for k, v in values.items() if v is not None},
                                   given=given)
    return configs


def prediction_row(config) -> dict:
    """One CSV row: the configuration columns of ``hopcap measure`` and the predicted law of P_max,
    with the headline asymptotic law (theory.laws_for) at the same N."""
    from .provenance import code_version
    from .theory import laws_for

    pred = predict_capacity(config.model, config.n, config.criterion.threshold)
    laws = laws_for(config.model, config.criterion)
    row = {**config.columns(),
           "predicted_mean": pred.mean, "predicted_sd": pred.sd,
           **{f"predicted_q{round(q * 100):02d}": v for q, v in pred.quantiles},
           "method": pred.method,
           "law": laws[0].label if laws else "",
           "law_value": float(laws[0](config.n)) if laws else float("nan"),
           "hopcap_version": code_version()}
    return row


def write_predictions(rows: list[dict], path: str) -> None:
    """Write prediction rows as CSV (configuration columns first, as ``hopcap measure`` orders them)."""
    import pandas as pd

    from .provenance import note_rows
    from .results import CONFIG_COLUMNS

    frame = pd.DataFrame(rows)
    config = [c for c in CONFIG_COLUMNS if c in frame.columns]
    frame = frame[config + [c for c in PREDICTION_COLUMNS if c in frame.columns]]
    frame.to_csv(path, index=False)
    note_rows(path, rows)  # the folder's environment record (no numba threads: nothing is measured)


def read_predictions(paths) -> pd.DataFrame:  # noqa: F821
    """Prediction CSVs (``hopcap predict -o``) as one frame; a file without the prediction columns
    is an error."""
    import pandas as pd

    frames = []
    for path in ([paths] if isinstance(paths, str) else paths):
        try:
            frame = pd.read_csv(path)
        except Exception as err:
            raise HopcapError(f"{path}: not a readable CSV ({type(err).__name__})") from err
        if "predicted_mean" not in frame.columns or "n" not in frame.columns:
            raise HopcapError(f"{path}: not a hopcap predict CSV (no predicted_mean column)")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
