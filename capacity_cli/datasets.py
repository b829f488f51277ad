"""Binary pattern sets: generators with controlled bias, feature correlation and separation.

Generative model (hopcap's own; theory.md section 4), one pattern at a time, independently:

* feature 0 is +1 with probability ``bias``;
* feature i > 0 copies feature i-1 with probability ``correlation`` (c), else is a fresh draw with
  P(+1) = ``bias``. Every feature keeps P(+1) = bias, and for bias 1/2 the Pearson correlation of
  features i and j is c^|i-j| (a Markov chain along the features; c = 0 is i.i.d.).
* ``min_distance`` d > 0: the stream above is filtered greedily: a candidate is kept only when its
  Hamming distance to every kept pattern is >= d (bit-packed check). Requests no code can meet (the
  Plotkin and Hamming bounds) fail at once; ``max_tries`` consecutive rejections stop the search.

Streams are deterministic functions of their seed entropy and are extended lazily, so the first P
patterns of a trial never depend on how many were generated.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import HopcapError
from .kernels.bits import distance_at_least, pack_rows, pairwise_distance_stats
from .limits import DEFAULT_MAX_TRIES, MAX_TRIES_MAX, N_MAX, PATTERN_VALUE_MAX, check_memory

CHUNK = 1024


#: Pattern kinds: +-1 rows (every generator above, pattern files, datasets) and "sphere" rows
#: (i.i.d. Gaussian, rescaled to norm sqrt(N); float32), for the continuous models (modern.md A).
PATTERN_KINDS = ("pm1", "sphere")


@dataclass(frozen=True)
class PatternSpec:
    """How to generate +-1 patterns of length ``n`` (see the module docstring)."""

    n: int
    bias: float = 0.5
    correlation: float = 0.0
    min_distance: int = 0
    max_tries: int = DEFAULT_MAX_TRIES
    kind: str = "pm1"  # "pm1": +-1 rows as above; "sphere": Gaussian rows of norm sqrt(n)
    code: str | None = None  # "bch" or "rm": random codewords of a code with distance >= min_distance

    def __post_init__(self) -> None:
        if not _is_whole(self.n) or not (2 <= self.n <= N_MAX):
            raise HopcapError(f"--n must be an integer in [2, {N_MAX}], got {self.n}")
        if self.kind not in PATTERN_KINDS:
            raise HopcapError(f"--kind must be one of {', '.join(PATTERN_KINDS)}, got {self.kind!r}")
        if self.kind == "sphere" and (self.bias != 0.5 or self.correlation or self.min_distance):
            raise HopcapError("--kind sphere takes no --bias, --correlation or --min-distance "
                              "(they describe +-1 patterns)")
        if not (0.0 < self.bias < 1.0):
            raise HopcapError(f"--bias must be in (0, 1), got {self.bias}")
        if not (0.0 <= self.correlation < 1.0):
            raise HopcapError(f"--correlation must be in [0, 1), got {self.correlation}")
        if not _is_whole(self.min_distance) or not (0 <= self.min_distance <= self.n):
            raise HopcapError(f"--min-distance must be an integer in [0, n={self.n}], "
                              f"got {self.min_distance}")
        if not _is_whole(self.max_tries) or not (1 <= self.max_tries <= MAX_TRIES_MAX):
            raise HopcapError(f"--max-tries must be an integer in [1, {MAX_TRIES_MAX}], "
                              f"got {self.max_tries}")
        if self.code is not None:  # codes.py: sets sampled from error-correcting codes
            from .codes import check_code_spec

            check_code_spec(self)


def _is_whole(value) -> bool:
    """True for an integer (Python or numpy, not bool) or an integral finite float."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | np.integer):
        return True
    return isinstance(value, float | np.floating) and math.isfinite(value) and value == int(value)


def max_code_size(n: int, d: int) -> int:
    """An upper bound on A(n, d), the most binary words of length n at pairwise distance >= d.

    The smaller of the Hamming (sphere-packing) bound 2^n / sum_{k<=t} C(n, k), t = (d-1)//2, and the
    Plotkin bound (d even, 2d > n: 2 floor(d / (2d - n)); n = 2d: 4d; d odd: A(n, d) = A(n+1, d+1)).
    """
    if d <= 1:
        return 2**n
    if d > n:
        return 1
    t = (d - 1) // 2
    if t > HAMMING_TERMS_MAX and _log2_hamming_bound_at_least(n, t) > 64:
        bound = 2**n  # the exact sphere sum would take minutes, and it cannot bind below 2^64
    else:
        bound = 2**n // sum(math.comb(n, k) for k in range(t + 1))
    ne, de = (n, d) if d % 2 == 0 else (n + 1, d + 1)
    if 2 * de > ne:
        bound = min(bound, 2 * (de // (2 * de - ne)))
    elif ne == 2 * de:
        bound = min(bound, 4 * de)
    return bound


#: Above this radius the Hamming bound is only computed when it could bind (see max_code_size).
HAMMING_TERMS_MAX = 1000


def _log2_hamming_bound_at_least(n: int, t: int) -> float:
    """A lower estimate of log2(2^n / sum_{k<=t} C(n, k)), from V <= (t + 1) C(n, min(t, n/2))."""
    k = min(t, n // 2)
    log2_comb = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(2)
    return n - math.log2(t + 1) - log2_comb - 1e-6 * n


def check_feasible(spec: PatternSpec, p: int) -> None:
    """Raise when no set of ``p`` patterns can have the requested minimum distance."""
    if spec.code is not None:
        from .codes import check_code_request

        check_code_request(spec, p)  # the code exists and has >= p codewords
        return
    if spec.min_distance > 0:
        bound = max_code_size(spec.n, spec.min_distance)
        if p > bound:
            raise HopcapError(
                f"no set of {p} patterns of length {spec.n} has minimum distance "
                f"{spec.min_distance}: at most {bound} exist (Plotkin/Hamming bound)")


def _candidate_chunk(spec: PatternSpec, entropy: tuple[int, ...], k: int) -> np.ndarray:
    """Chunk k of the unfiltered candidate stream: (CHUNK, n) int8 of +-1."""
    rng = np.random.default_rng([*entropy, k])
    fresh = rng.random((CHUNK, spec.n)) < spec.bias
    if spec.correlation > 0:
        copy = rng.random((CHUNK, spec.n)) < spec.correlation
        for i in range(1, spec.n):
            fresh[:, i] = np.where(copy[:, i], fresh[:, i - 1], fresh[:, i])
    return np.where(fresh, 1, -1).astype(np.int8)


@dataclass
class PatternStream:
    """The ordered pattern sequence of one trial, generated on demand.

    ``take(p)`` returns the first p patterns; ``exhausted`` turns True when the min-distance filter
    gave up (then fewer patterns exist than asked for).
    """

    spec: PatternSpec
    entropy: tuple[int, ...]
    _rows: np.ndarray = field(init=False, repr=False)
    _packed: np.ndarray = field(init=False, repr=False)
    _count: int = field(default=0, init=False)
    _next_chunk: int = field(default=0, init=False)
    _pending: np.ndarray | None = field(default=None, init=False, repr=False)
    exhausted: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._rows = np.empty((0, self.spec.n), dtype=np.int8)
        self._packed = np.empty((0, (self.spec.n + 63) // 64), dtype=np.uint64)

    def take(self, p: int) -> np.ndarray:
        """The first min(p, available) patterns as a read-only (p, n) int8 view."""
        while self._count < p and not self.exhausted:
            self._extend(p)
        view = self._rows[: min(p, self._count)]
        view.flags.writeable = False
        return view

    def _grow_to(self, capacity: int) -> None:
        if capacity > self._rows.shape[0]:
            rows = np.empty((capacity, self.spec.n), dtype=np.int8)
            rows[: self._count] = self._rows[: self._count]
            packed = np.empty((capacity, self._packed.shape[1]), dtype=np.uint64)
            packed[: self._count] = self._packed[: self._count]
            self._rows, self._packed = rows, packed

    def _extend(self, p: int) -> None:
        if self.spec.min_distance == 0:
            chunk = _candidate_chunk(self.spec, self.entropy, self._next_chunk)
            self._next_chunk += 1
            if self._count + CHUNK > self._rows.shape[0]:
                self._grow_to(max(2 * self._rows.shape[0], self._count + CHUNK))
            self._rows[self._count: self._count + CHUNK] = chunk
            self._count += CHUNK
            return
        if self._count >= max_code_size(self.spec.n, self.spec.min_distance):
            self.exhausted = True  # no further pattern can exist: the sequence ends here
            return
        if p > self._rows.shape[0]:
            self._grow_to(max(2 * self._rows.shape[0], p, 16))
        rejected = 0
        while self._count < p:
            if self._pending is None or len(self._pending) == 0:
                self._pending = _candidate_chunk(self.spec, self.entropy, self._next_chunk)
                self._next_chunk += 1
            candidate = self._pending[0]
            self._pending = self._pending[1:]
            packed = pack_rows(candidate[None, :])[0]
            if distance_at_least(self._packed, self._count, packed, self.spec.min_distance):
                self._rows[self._count] = candidate
                self._packed[self._count] = packed
                self._count += 1
                rejected = 0
            else:
                rejected += 1
                if rejected >= self.spec.max_tries:
                    self.exhausted = True
                    return


def _sphere_chunk(n: int, entropy: tuple[int, ...], k: int) -> np.ndarray:
    """Chunk k of a sphere stream: (CHUNK, n) float32 rows of norm sqrt(n)."""
    g = np.random.default_rng([*entropy, k]).standard_normal((CHUNK, n))
    g *= math.sqrt(n) / np.linalg.norm(g, axis=1, keepdims=True)
    return g.astype(np.float32)


@dataclass
class SpherePatternStream:
    """I.i.d. Gaussian rows rescaled to norm sqrt(n), generated in chunks of ``CHUNK`` from
    numpy's default_rng([*entropy, chunk]): ``take(p)`` never depends on earlier calls."""

    n: int
    entropy: tuple[int, ...]
    _rows: np.ndarray = field(init=False, repr=False)
    _chunks: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if int(self.n) != self.n or self.n < 2:
            raise HopcapError(f"--n must be an integer >= 2, got {self.n}")
        self._rows = np.empty((0, self.n), dtype=np.float32)

    def take(self, p: int) -> np.ndarray:
        """The first p rows as a read-only (p, n) float32 view."""
        if p > self._rows.shape[0]:
            need = -(-p // CHUNK)
            new = [_sphere_chunk(self.n, self.entropy, k) for k in range(self._chunks, need)]
            self._rows = np.concatenate([self._rows, *new])
            self._chunks = need
        view = self._rows[:p]
        view.flags.writeable = False
        return view


def sphere_patterns(n: int, p: int, seed: int = 0) -> np.ndarray:
    """``p`` sphere patterns of length ``n`` (float32, norm sqrt(n)): trial 0 of ``seed``."""
    if p < 1:
        raise HopcapError(f"--p must be >= 1, got {p}")
    return np.array(SpherePatternStream(n, trial_entropy(seed, 0)).take(p))


def pattern_source(spec: PatternSpec, entropy: tuple[int, ...]) -> Callable[[int], np.ndarray]:
    """source(p) -> the first p patterns of the sequence ``spec`` and ``entropy`` define."""
    if spec.kind == "sphere":
        return SpherePatternStream(spec.n, entropy).take
    if spec.code is not None:
        from .codes import code_source

        return code_source(spec, entropy)
    return PatternStream(spec, entropy).take


def trial_entropy(seed: int, trial: int) -> tuple[int, int]:
    """The seed entropy of one trial: numpy's SeedSequence([seed, trial]) drives its patterns."""
    return (int(seed), int(trial))


def generation_bytes(spec: PatternSpec, p: int) -> int:
    """An estimate of the memory that generating ``p`` patterns of ``spec`` allocates: the rows and
    bit-packed copies, each chunk of CHUNK candidates (float64 draws, masks, numpy's int64 selection),
    and the statistics (a float64 copy and the N x N feature correlations)."""
    rows = max(p, CHUNK)
    return rows * spec.n * (1 + 1 + 8) + CHUNK * spec.n * (8 + 1 + 8 + 1) + STATS_BYTES * spec.n**2


#: Bytes per pair of features in :func:`pattern_stats` (the correlation matrix and its |.|).
STATS_BYTES = 16


def generate_patterns(spec: PatternSpec, p: int, seed: int = 0) -> np.ndarray:
    """Exactly ``p`` patterns (int8 +-1, shape (p, n)), or a HopcapError saying why not."""
    if p < 1:
        raise HopcapError(f"--p must be >= 1, got {p}")
    check_feasible(spec, p)
    check_memory(generation_bytes(spec, p), f"{p} patterns of N={spec.n}", "lower --p or --n")
    if spec.code is not None:
        from .codes import code_patterns

        return code_patterns(spec, p, trial_entropy(seed, 0))
    stream = PatternStream(spec, trial_entropy(seed, 0))
    rows = stream.take(p)
    if len(rows) < p:
        raise HopcapError(
            f"placed only {len(rows)} of {p} patterns at minimum distance {spec.min_distance} "
            f"before {spec.max_tries} consecutive rejections; lower --min-distance or --p, "
            f"or raise --max-tries")
    return np.array(rows)


@dataclass(frozen=True)
class PatternStats:
    """What a pattern set achieved."""

    p: int
    n: int
    bias: float  # fraction of +1 entries
    mean_abs_correlation: float  # mean |Pearson r| over feature pairs (constant features skipped)
    min_distance: int  # minimum pairwise Hamming distance (-1 when P < 2)
    mean_distance: float  # mean pairwise Hamming distance (nan when P < 2)


def mean_abs_feature_correlation(x: np.ndarray) -> float:
    """Mean |Pearson correlation| over pairs of features, skipping constant features (nan if < 2)."""
    xf = np.asarray(x, dtype=np.float64)
    std = xf.std(axis=0)
    keep = std > 0
    if keep.sum() < 2 or xf.shape[0] < 2:
        return float("nan")
    corr = np.corrcoef(xf[:, keep], rowvar=False)
    upper = np.triu_indices(corr.shape[0], k=1)
    return float(np.abs(corr[upper]).mean())


def pattern_stats(x: np.ndarray) -> PatternStats:
    """Achieved bias, mean |feature correlation| and pairwise distances of a +-1 set."""
    p, n = x.shape
    if p >= 2:
        dmin, dmean = pairwise_distance_stats(pack_rows(x))
        dmin, dmean = int(dmin), float(dmean)
    else:
        dmin, dmean = -1, float("nan")
    return PatternStats(p=p, n=n, bias=float((x > 0).mean()),
                        mean_abs_correlation=mean_abs_feature_correlation(x),
                        min_distance=dmin, mean_distance=dmean)


def as_pm1(array: np.ndarray, source: str) -> np.ndarray:
    """Validate a 2-D array of +-1 or 0/1 values and return it as int8 +-1."""
    a = np.asarray(array)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 2:
        raise HopcapError(f"{source}: patterns must be a 2-D array (P >= 1, N >= 2), "
                          f"got shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise HopcapError(f"{source}: patterns must be numeric, got dtype {a.dtype}")
    values = np.unique(a)
    if set(values.tolist()) <= {-1, 1}:
        return a.astype(np.int8)
    if set(values.tolist()) <= {0, 1}:
        return np.where(a > 0, np.int8(1), np.int8(-1))
    raise HopcapError(f"{source}: patterns must be binary (+-1 or 0/1); found values "
                      f"{values[:5].tolist()}{'...' if len(values) > 5 else ''}")


def load_patterns(path: str | os.PathLike) -> np.ndarray:
    """Read +-1 patterns from .npy or from the ``patterns`` array of a .npz (as written by gen)."""
    return as_pm1(_read_array(Path(path)), str(path))


def load_any_patterns(path: str | os.PathLike) -> tuple[np.ndarray, str]:
    """(patterns, kind): +-1 or 0/1 arrays as int8 +-1 ("pm1"), any other finite real 2-D array as
    float32 ("sphere": the continuous models' kind, whatever the rows' norms). Real values must lie
    within +-PATTERN_VALUE_MAX (limits.py: 1e300 would be inf in float32) and no row may be zero
    (after rounding to float32: a zero row has no direction)."""
    array = _read_array(Path(path))
    a = np.asarray(array)
    if a.ndim == 2 and a.dtype.kind in "biuf" and a.size and \
            (set(np.unique(a).tolist()) <= {-1, 1} or set(np.unique(a).tolist()) <= {0, 1}):
        return as_pm1(a, str(path)), "pm1"
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 2 or a.dtype.kind not in "biuf":
        raise HopcapError(f"{path}: patterns must be a numeric 2-D array (P >= 1, N >= 2), got "
                          f"shape {a.shape}, dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise HopcapError(f"{path}: patterns hold NaN or inf")
    largest = float(np.abs(a).max())
    if largest > PATTERN_VALUE_MAX:
        raise HopcapError(f"{path}: pattern values must lie in [-{PATTERN_VALUE_MAX:g}, "
                          f"{PATTERN_VALUE_MAX:g}] (capacity_cli/limits.py PATTERN_VALUE_MAX); found "
                          f"{largest:.3g}")
    x = a.astype(np.float32)
    zero = np.flatnonzero(~np.any(x != 0, axis=1))
    if zero.size:
        raise HopcapError(f"{path}: row {zero[0]} is zero in float32 (a pattern needs a direction)")
    return x, "sphere"


def _npy_bytes(fp) -> int:
    """The bytes of the array whose .npy header starts at ``fp`` (shape times item size, exact)."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
    return math.prod(int(k) for k in shape) * dtype.itemsize


def array_file_bytes(path: str | os.PathLike) -> int:
    """The memory the arrays of a .npy or .npz file take once loaded, read from their headers only:
    each .npy header's shape and item size (a .npz member that is no .npy: its declared
    uncompressed size), summed over the members of a .npz. Nothing is decompressed beyond the
    headers, so a decompression bomb costs nothing here; a header that promises more data than a
    .npy file holds is refused as truncated."""
    path = Path(path)
    where = str(path)
    try:
        if zipfile.is_zipfile(path):
            total = 0
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.filename.endswith(".npy"):
                        total += info.file_size
                        continue
                    where = f"{path}: member {info.filename!r}"
                    with archive.open(info) as member:
                        total += _npy_bytes(member)
            return total
        with open(path, "rb") as f:
            needed = _npy_bytes(f)
            if needed > os.fstat(f.fileno()).st_size - f.tell():
                raise HopcapError(f"{path}: truncated (its header promises {needed} bytes of data)")
            return needed
    except HopcapError:
        raise
    except Exception as err:  # zipfile and numpy raise several types for corrupt files
        raise HopcapError(f"{where}: not a readable .npy/.npz file ({type(err).__name__})") from None


#: Copies of an array file's data that reading it as patterns holds at once: the array, the sorted
#: copy np.unique makes to see which values it holds, and the converted int8/float32 rows.
LOAD_COPIES = 3


def load_array_file(path: str | os.PathLike):
    """``np.load(path)`` (no pickles) of a .npy or .npz file, after checking from the headers
    (:func:`array_file_bytes`) that its arrays, with the copies reading them takes (LOAD_COPIES),
    fit in memory (limits.check_memory: at most half of it), so a file that would inflate to many
    GiB is refused at once, before anything is decompressed. The one way hopcap opens a user's array
    file; a .npz comes back as an open NpzFile (use it in a ``with``)."""
    path = Path(path)
    if not path.is_file():
        raise HopcapError(f"{path}: no such file")
    check_memory(LOAD_COPIES * array_file_bytes(path), f"{path}: reading its arrays (decompressed)",
                 "hopcap loads a pattern file whole")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as err:  # numpy raises several types for corrupt files
        raise HopcapError(f"{path}: not a readable .npy/.npz file ({type(err).__name__})") from err


def _read_array(path: Path) -> np.ndarray:
    """The array of a .npy, or the ``patterns`` array of a .npz, never unpickling."""
    loaded = load_array_file(path)
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            if "patterns" not in loaded.files:
                raise HopcapError(f"{path}: .npz has no 'patterns' array "
                                  f"(has: {', '.join(loaded.files) or 'nothing'})")
            try:
                array = loaded["patterns"]
            except Exception as err:
                raise HopcapError(f"{path}: corrupt 'patterns' array ({type(err).__name__})") from err
    else:
        array = loaded
    return array


def save_patterns(path: str | os.PathLike, x: np.ndarray, **metadata) -> None:
    """Write .npy (patterns only) or .npz (``patterns`` plus scalar metadata), atomically; int8 for
    +-1 patterns, float32 for real (sphere) ones."""
    path = Path(path)
    if path.suffix not in (".npy", ".npz"):
        raise HopcapError(f"{path}: output must end in .npy or .npz")
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")
    try:
        dtype = np.float32 if np.asarray(x).dtype.kind == "f" else np.int8
        if path.suffix == ".npy":
            np.save(tmp, np.asarray(x, dtype=dtype))
        else:
            np.savez_compressed(tmp, patterns=np.asarray(x, dtype=dtype),
                                **{k: np.asarray(v) for k, v in metadata.items()})
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


#: Real pattern sets that ship inside PyPI packages (never downloaded at run time).
DATASETS = {
    "digits": "scikit-learn's 8x8 handwritten digits (P=1797, N=64), pixel > 8 of 16 -> +1",
}


def dataset_patterns(name: str) -> np.ndarray:
    """A real binary pattern set from ``DATASETS``, in the order its package stores it.

    ``digits`` needs the optional extra: ``pip install 'hopcap[digits]'`` (scikit-learn).
    """
    if name not in DATASETS:
        raise HopcapError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise HopcapError("the digits dataset needs scikit-learn: pip install 'hopcap[digits]'") \
            from err
    pixels = load_digits().data
    return np.where(pixels > 8, 1, -1).astype(np.int8)
