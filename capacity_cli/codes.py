"""Pattern sets from binary linear error-correcting codes (docs/theory.md section 13).

A binary linear code [n, k, d] is the row space over GF(2) of a k x n generator matrix G: 2^k
codewords, any two at Hamming distance >= d. A uniformly random codeword is the encoding m G of a
uniformly random message m in GF(2)^k, so a random subset of P codewords is the encoding of P
distinct random messages; bit b becomes the unit (-1)^b. Any subset keeps the code's distance, so the
set's minimum distance is >= d whatever P (Bielmeier & Friedland 2025 vary separation; MacWilliams &
Sloane, *The Theory of Error-Correcting Codes*, ch. 3, 7, 13 for the codes).

Codes offered (``--code``):

* ``bch``: narrow-sense primitive binary BCH codes of length 2^m - 1 whose Bose distance (the
  designed distance the generator's roots alpha^1, alpha^2, ... actually reach) is >= d; their
  extensions by an overall parity bit (length 2^m, distance >= Bose + 1, the Bose distance being
  odd); and either one shortened (the codewords with the first s message bits 0, those positions
  deleted: [n - s, k - s, >= d]) for other lengths. Of the candidates for length N, the one with the
  most codewords is taken. The generator polynomial is built here (GF(2^m) on the Conway
  polynomial, cyclotomic cosets, minimal polynomials: integers only, 1 ms at n = 127); the tests check
  it against the ``galois`` package, whose construction costs seconds of JIT compilation per field.
* ``rm``: the first-order Reed-Muller code RM(1, m), [2^m, m + 1, 2^(m-1)]: 2N words, the extreme of
  separation (every pair at distance N/2 except complements, at N; the N words up to sign are the
  rows of a Hadamard matrix).

Complementary pairs: these codes (except shortened BCH codes) hold the all-ones word, so with every
codeword its complement, the pattern -x at distance N. A set holding x and -x is degenerate for
polynomial energies: for odd degree their terms F(x.s) + F(-x.s) cancel, for even degree -x is a
second copy of x's attractor. Samples therefore hold at most one word of each complementary pair
(each pair chosen without replacement, its member by a fair coin): 2^(k-1) patterns are available.

Feature correlation at fixed distance (``--correlation c``): distance-preserving maps of Hamming
space (coordinate permutations, XOR with a fixed word) leave every |feature correlation| as it is,
so they cannot vary it. Instead a code of length N - t, t = round(c (N - 1)), is expanded to length
N by copying: t of the units 1..N-1 (chosen per trial) copy the unit before them in every pattern.
Distances can only grow, so the set keeps the code's guaranteed d; features in one run of copies are
identical, and the expected mean |correlation| over feature pairs equals that of the Markov generator
(datasets.py) with the same c (a pair i < j shares a run with probability c^(j-i)).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import HopcapError

CODE_FAMILIES = ("bch", "rm")
#: Longest code offered (m <= 10, the CONWAY table below).
CODE_N_MAX = 1024
#: Up to 2^this many codewords, a trial's message order is one random permutation of all of them.
PERMUTE_MAX_BITS = 20
#: Messages drawn per chunk when the code is larger than that.
MESSAGE_CHUNK = 1024
#: Tag in the seed entropy of code streams ([*trial entropy, tag, purpose, chunk]), so they never
#: share a seed with the generators of datasets.py ([*trial entropy, chunk]).
STREAM_TAG = 0xC0DE


@dataclass(frozen=True)
class LinearCode:
    """A binary linear code [n, k, d] with a generator matrix (k x n, 0/1 uint8).

    ``d`` is the guaranteed minimum distance (the Bose distance for BCH codes, + 1 when extended);
    the true minimum distance may be larger. ``name`` says how it was built.
    """

    family: str
    name: str
    n: int
    k: int
    d: int
    generator: np.ndarray = field(compare=False, repr=False)
    #: The message of the all-ones word when the code holds it (then every codeword's complement
    #: is a codeword too), else None.
    complement: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> int:
        """Number of codewords, 2^k."""
        return 2**self.k

    @property
    def free_bits(self) -> int:
        """Message bits a sample draws: k, or k - 1 when words come one per complementary pair."""
        return self.k - (self.complement is not None)

    @property
    def available(self) -> int:
        """How many patterns a sample can hold: 2^k, or 2^(k-1) codewords up to sign."""
        return 2**self.free_bits

    @property
    def label(self) -> str:
        return f"[{self.n}, {self.k}, {self.d}] {self.name}"


# ------------------------------------------------------------------------------ BCH arithmetic


def cyclotomic_coset(i: int, n0: int) -> frozenset[int]:
    """The 2-cyclotomic coset {i 2^j mod n0}: exponents sharing alpha^i's minimal polynomial."""
    out, j = set(), i % n0
    while j not in out:
        out.add(j)
        j = 2 * j % n0
    return frozenset(out)


@functools.cache
def bch_roots(n0: int, delta: int) -> frozenset[int]:
    """Exponents of the roots of the narrow-sense BCH code of length n0 with designed distance
    delta: the union of the cosets of 1 .. delta - 1."""
    roots: set[int] = set()
    for i in range(1, delta):
        if i % n0 not in roots:
            roots |= cyclotomic_coset(i, n0)
    return frozenset(roots)


def bose_distance(n0: int, delta: int) -> int:
    """The Bose distance of that code: the smallest j >= 1 with alpha^j not a root (always odd,
    since the roots are closed under doubling); its minimum distance is at least this."""
    roots = bch_roots(n0, delta)
    j = 1
    while j in roots and j < n0:
        j += 1
    return j


@dataclass(frozen=True)
class BCHPlan:
    """Which BCH code serves length n: the mother code of length 2^m - 1 with designed distance
    ``delta``, extended or not, shortened by ``shortened`` positions."""

    m: int
    delta: int
    extended: bool
    shortened: int

    @property
    def n0(self) -> int:
        return 2**self.m - 1

    @property
    def mother_k(self) -> int:
        return self.n0 - len(bch_roots(self.n0, self.delta))

    @property
    def n(self) -> int:
        return self.n0 + self.extended - self.shortened

    @property
    def k(self) -> int:
        return self.mother_k - self.shortened

    @property
    def d(self) -> int:
        return bose_distance(self.n0, self.delta) + self.extended

    @property
    def name(self) -> str:
        if not (self.shortened or self.extended):
            return "BCH"
        parts = ["shortened"] if self.shortened else []
        parts += ["extended"] if self.extended else []
        mother = f"[{self.n0}, {self.mother_k}, {bose_distance(self.n0, self.delta)}]"
        cut = f", {self.shortened} positions shortened" if self.shortened else ""
        return " ".join(parts) + f" BCH (from {mother}{cut})"


def bch_plans(n: int, d: int) -> list[BCHPlan]:
    """Every candidate code of length n with guaranteed distance >= d (d >= 3), from the two
    smallest mother lengths that fit; empty when none has a message bit left."""
    plans = []
    m_min = max(3, math.ceil(math.log2(n)))
    for m in (m_min, m_min + 1):
        n0 = 2**m - 1
        for extended in (False, True):
            length = n0 + extended
            if length < n or (not extended and d > n0):
                continue
            delta = d - 1 if extended else d  # extended: Bose distance >= d - 1 gives >= d
            if delta > n0 or delta < 1:
                continue
            plan = BCHPlan(m, max(delta, 1), extended, length - n)
            if plan.k >= 1 and plan.d >= d:
                plans.append(plan)
    return plans


def best_bch_plan(n: int, d: int) -> BCHPlan:
    """The candidate with the most codewords (then the least shortening, then unextended)."""
    plans = bch_plans(n, d)
    if not plans:
        best = largest_bch_distance(n)
        raise HopcapError(f"no BCH code of length {n} has minimum distance >= {d} (the largest "
                          f"offered is {best}); lower --min-distance or use --code rm at N = 2^m")
    return max(plans, key=lambda p: (p.k, -p.shortened, -p.extended))


@functools.cache
def largest_bch_distance(n: int) -> int:
    """The largest guaranteed distance of an offered BCH code of length n (0: none)."""
    return max((d for d in range(3, n + 1) if bch_plans(n, d)), default=0)


#: The Conway polynomial of GF(2^m) (bit i = coefficient of x^i), m = 3..10: primitive, so x is a
#: primitive element alpha; galois.GF(2^m)'s default field (galois.BCH picks another primitive
#: polynomial for some m, so the tests hand it this field).
CONWAY = {3: 0b1011, 4: 0b10011, 5: 0b100101, 6: 0b1011011, 7: 0b10000011, 8: 0b100011101,
          9: 0b1000010001, 10: 0b10001101111}


@functools.cache
def field_tables(m: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(exp, log) tables of GF(2^m) built on CONWAY[m]: exp[i] = alpha^i (i < 2^m - 1)."""
    poly, size = CONWAY[m], 2**m
    exp, log = [0] * (size - 1), [0] * size
    value = 1
    for i in range(size - 1):
        exp[i], log[value] = value, i
        value <<= 1
        if value & size:
            value ^= poly
    if value != 1 or len(set(exp)) != size - 1:
        raise HopcapError(f"internal error: CONWAY[{m}] is not primitive")
    return tuple(exp), tuple(log)


def minimal_polynomial(coset: frozenset[int], m: int) -> int:
    """prod_{j in coset} (x - alpha^j), a GF(2) polynomial (bit i = coefficient of x^i)."""
    exp, log = field_tables(m)
    coeffs = [1]  # coefficients in GF(2^m), lowest degree first
    for j in sorted(coset):
        root = exp[j]
        shifted = [0] + coeffs  # x * poly
        for i, c in enumerate(coeffs):  # + root * poly
            if c:
                shifted[i] ^= exp[(log[c] + log[root]) % (2**m - 1)]
        coeffs = shifted
    if any(c > 1 for c in coeffs):
        raise HopcapError(f"internal error: minimal polynomial of coset {min(coset)} not binary")
    return sum(c << i for i, c in enumerate(coeffs))


def gf2_multiply(a: int, b: int) -> int:
    """Product of two GF(2) polynomials (bit i = coefficient of x^i)."""
    out = 0
    while b:
        if b & 1:
            out ^= a
        a, b = a << 1, b >> 1
    return out


def bch_generator_polynomial(n0: int, delta: int) -> int:
    """g(x) = lcm of the minimal polynomials of alpha^1 .. alpha^(delta-1): the product over the
    distinct cosets of the roots (MacWilliams & Sloane ch. 7 section 6)."""
    m = n0.bit_length()
    g, done = 1, set()
    for i in range(1, delta):
        if i % n0 not in done:
            coset = cyclotomic_coset(i, n0)
            done |= coset
            g = gf2_multiply(g, minimal_polynomial(coset, m))
    return g


def systematic_generator(n0: int, g: int) -> np.ndarray:
    """The k x n0 systematic generator [I | P] of the cyclic code with generator g(x), k = n0 - deg g.
    Vector position j holds the coefficient of x^(n0-1-j) (the galois package's order): row i is
    x^(n0-1-i) + (x^(n0-1-i) mod g), the codeword whose message is the unit vector e_i."""
    r = g.bit_length() - 1
    k = n0 - r
    out = np.zeros((k, n0), dtype=np.uint8)
    rem = 1 << r ^ g  # x^r mod g
    remainders = []
    for _ in range(k):  # x^r, x^(r+1), ..., x^(n0-1) mod g
        remainders.append(rem)
        rem <<= 1
        if rem >> r & 1:
            rem ^= g
    for i in range(k):
        out[i, i] = 1
        rem = remainders[k - 1 - i]  # x^(n0-1-i) mod g
        for degree in range(r):
            if rem >> degree & 1:
                out[i, n0 - 1 - degree] = 1
    return out


@functools.cache
def bch_code(n: int, d: int) -> LinearCode:
    """The BCH code of :func:`best_bch_plan` with its systematic generator matrix [I | P]."""
    plan = best_bch_plan(n, d)
    g = systematic_generator(plan.n0, bch_generator_polynomial(plan.n0, plan.delta))
    if g.shape[0] != plan.mother_k:  # deg g must equal the number of roots
        raise HopcapError(f"internal error: BCH({plan.n0}, designed distance {plan.delta}): "
                          f"deg g gives k = {g.shape[0]}, the cosets k = {plan.mother_k}")
    if plan.extended:
        g = np.concatenate([g, (g.sum(axis=1, dtype=np.int64) % 2).astype(np.uint8)[:, None]], axis=1)
    s = plan.shortened
    g = np.ascontiguousarray(g[s:, s:])
    ones = np.ones(plan.k, dtype=np.uint8)  # systematic: the all-ones word's message is all ones
    complement = ones if (encode(LinearCode("bch", "", plan.n, plan.k, plan.d, g), ones[None])
                          < 0).all() else None
    return LinearCode("bch", plan.name, plan.n, plan.k, plan.d, g, complement)


@functools.cache
def reed_muller_code(n: int, d: int) -> LinearCode:
    """RM(1, m), n = 2^m: rows all-ones and the m coordinate bits of each position; [n, m+1, n/2]."""
    m = round(math.log2(n)) if n >= 1 else 0
    if n < 4 or 2**m != n:
        raise HopcapError(f"--code rm needs N = 2^m >= 4 (first-order Reed-Muller), got N = {n}")
    if d > n // 2:
        raise HopcapError(f"--code rm: RM(1, {m}) has minimum distance {n // 2} = N/2; "
                          f"--min-distance {d} is beyond it")
    positions = np.arange(n)
    rows = [np.ones(n, dtype=np.uint8)] + [((positions >> j) & 1).astype(np.uint8) for j in range(m)]
    complement = np.eye(m + 1, dtype=np.uint8)[0]  # row 0 is the all-ones word
    return LinearCode("rm", f"first-order Reed-Muller RM(1, {m})", n, m + 1, n // 2, np.stack(rows),
                      complement)


# ------------------------------------------------------------------------------ requests


def code_length(n: int, correlation: float) -> int:
    """Length of the code expanded to n units by copying: n - round(c (n - 1))."""
    return n - int(round(correlation * (n - 1)))


def code_for(family: str, n: int, d: int) -> LinearCode:
    """The code of ``family`` for length n and guaranteed distance >= d, or a HopcapError why not."""
    if family not in CODE_FAMILIES:
        raise HopcapError(f"--code must be one of {', '.join(CODE_FAMILIES)}, got {family!r}")
    if not (3 <= n <= CODE_N_MAX):
        raise HopcapError(f"--code needs a code length in [3, {CODE_N_MAX}], got {n}")
    if family == "rm":
        return reed_muller_code(n, d)
    if d < 3:
        raise HopcapError(f"--code bch needs --min-distance >= 3, got {d} (any set has distance "
                          f">= 1; below 3 use generated patterns)")
    return bch_code(n, d)


def check_code_spec(spec) -> None:
    """Refuse pattern options that a code-based set cannot honour (datasets.PatternSpec hook)."""
    if spec.code not in CODE_FAMILIES:
        raise HopcapError(f"--code must be one of {', '.join(CODE_FAMILIES)}, got {spec.code!r}")
    if spec.kind != "pm1":
        raise HopcapError("--code makes +-1 patterns; it takes no --kind sphere")
    if spec.bias != 0.5:
        raise HopcapError("--code takes no --bias: codewords of these codes are balanced (each unit "
                          "is +1 in half of them)")
    if spec.code == "rm" and spec.correlation:
        raise HopcapError("--code rm takes no --correlation (its length is fixed at 2^m); use "
                          "--code bch")
    if not (3 <= spec.n <= CODE_N_MAX):
        raise HopcapError(f"--code offers N in [3, {CODE_N_MAX}], got N = {spec.n}")
    length = code_length(spec.n, spec.correlation)
    if length < 3:
        raise HopcapError(f"--correlation {spec.correlation:g} leaves a code of length {length} "
                          f"for N = {spec.n}; lower it")


def spec_code(spec) -> LinearCode:
    """The code a PatternSpec with ``code`` set samples from (of length N - round(c (N - 1)))."""
    check_code_spec(spec)
    return code_for(spec.code, code_length(spec.n, spec.correlation), spec.min_distance)


def check_code_request(spec, p: int) -> None:
    """Raise when the code cannot give ``p`` distinct patterns (P above ``code.available``)."""
    code = spec_code(spec)
    if p > code.available:
        pairs = f", 2^{code.free_bits} = {code.available} up to sign" if code.complement is not None \
            else ""
        raise HopcapError(f"the {code.label} code has only 2^{code.k} = {code.size} codewords"
                          f"{pairs}, fewer than --p {p}; lower --p or --min-distance")


def code_metadata(spec) -> dict:
    """What a pattern file records about the code (``hopcap info`` shows it)."""
    code = spec_code(spec)
    return {"code": spec.code, "code_name": code.name, "code_n": code.n, "code_k": code.k,
            "code_d": code.d, "copied_units": spec.n - code.n,
            "one_word_per_complementary_pair": code.complement is not None}


# ------------------------------------------------------------------------------ sampling


def encode(code: LinearCode, messages: np.ndarray) -> np.ndarray:
    """Codewords m G mod 2 of 0/1 messages (rows), as int8 units (-1)^bit. float32 BLAS is exact
    here: each sum has at most k <= 1024 terms."""
    bits = (messages.astype(np.float32) @ code.generator.astype(np.float32)).astype(np.int64) % 2
    return (1 - 2 * bits).astype(np.int8)


def message_bits(values: np.ndarray, k: int) -> np.ndarray:
    """Messages given as integers < 2^k (k <= 62) as (len, k) 0/1 rows, bit j = bit j of the value."""
    return ((values[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(np.uint8)


def copy_sources(n: int, code_n: int, rng: np.random.Generator) -> np.ndarray:
    """For each of n units, the code coordinate it shows: unit 0 shows coordinate 0; of units
    1..n-1, n - code_n chosen at random copy the unit before them, the others show the next
    coordinate."""
    copies = np.zeros(n, dtype=bool)
    copies[1 + rng.choice(n - 1, size=n - code_n, replace=False)] = True
    return np.cumsum(~copies) - 1


@dataclass
class CodeStream:
    """The ordered codeword sample of one trial: distinct uniformly random messages, encoded, then
    expanded to N units (when --correlation > 0). ``take(p)`` is prefix-stable (the first p rows
    never depend on how many were asked for before); ``exhausted`` turns True when every codeword
    has been drawn."""

    spec: object  # datasets.PatternSpec with code set
    entropy: tuple[int, ...]
    code: LinearCode = field(init=False)
    exhausted: bool = field(default=False, init=False)
    _rows: np.ndarray = field(init=False, repr=False)
    _count: int = field(default=0, init=False)
    _seen: set = field(default_factory=set, init=False, repr=False)
    _chunk: int = field(default=0, init=False)
    _order: np.ndarray | None = field(default=None, init=False, repr=False)
    _sources: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.code = spec_code(self.spec)
        self._rows = np.empty((0, self.spec.n), dtype=np.int8)
        if self.code.n < self.spec.n:
            rng = self._rng(1, 0)
            self._sources = copy_sources(self.spec.n, self.code.n, rng)

    def _rng(self, purpose: int, chunk: int) -> np.random.Generator:
        return np.random.default_rng([*self.entropy, STREAM_TAG, purpose, chunk])

    def _next_messages(self) -> np.ndarray | None:
        """The next chunk of new (never drawn) messages as 0/1 rows; None when none are left.

        Free bits u are drawn without replacement. When the code holds the all-ones word, u fills
        the message bits other than a pivot (a bit of the complement's message), the pivot is 0, and
        a fair sign bit adds the complement's message: one uniformly chosen word of each pair.
        """
        bits = self.code.free_bits
        if bits <= PERMUTE_MAX_BITS:
            if self._order is None:
                self._order = self._rng(2, 0).permutation(2**bits)
            start = self._chunk * MESSAGE_CHUNK
            if start >= len(self._order):
                return None
            free = message_bits(self._order[start: start + MESSAGE_CHUNK], bits)
        else:
            draws = self._rng(3, self._chunk).integers(0, 2, size=(MESSAGE_CHUNK, bits), dtype=np.uint8)
            keep = []
            for r, key in enumerate(np.packbits(draws, axis=1)):
                key = key.tobytes()
                if key not in self._seen:  # distinct messages: sampling without replacement
                    self._seen.add(key)
                    keep.append(r)
            free = draws[keep]
        signs = self._rng(4, self._chunk).integers(0, 2, size=len(free), dtype=np.uint8)
        self._chunk += 1
        complement = self.code.complement
        if complement is None:
            return free
        pivot = int(np.argmax(complement))
        messages = np.insert(free, pivot, 0, axis=1)
        return messages ^ (signs[:, None] * complement[None, :])

    def take(self, p: int) -> np.ndarray:
        """The first min(p, code.available) patterns as a read-only (p, N) int8 view."""
        while self._count < p and not self.exhausted:
            messages = self._next_messages()
            if messages is None:
                self.exhausted = True
                break
            rows = encode(self.code, messages)
            if self._sources is not None:
                rows = rows[:, self._sources]
            self._rows = np.concatenate([self._rows, rows])
            self._count += len(rows)
        view = self._rows[: min(p, self._count)]
        view.flags.writeable = False
        return view


def code_source(spec, entropy: tuple[int, ...]) -> Callable[[int], np.ndarray]:
    """source(p) -> the first p patterns of a trial's codeword sample."""
    return CodeStream(spec, entropy).take


def code_patterns(spec, p: int, entropy: tuple[int, ...]) -> np.ndarray:
    """Exactly ``p`` distinct codewords (int8 +-1), or a HopcapError saying why not."""
    check_code_request(spec, p)
    return np.array(CodeStream(spec, entropy).take(p))


def minimum_weight(code: LinearCode) -> int:
    """The exact minimum distance of a small code: the least weight of a nonzero codeword, over all
    2^k - 1 of them (k <= 20)."""
    if code.k > PERMUTE_MAX_BITS:
        raise HopcapError(f"exhaustive minimum distance needs k <= {PERMUTE_MAX_BITS}, got {code.k}")
    words = encode(code, message_bits(np.arange(1, code.size, dtype=np.int64), code.k))
    return int((words < 0).sum(axis=1).min())
