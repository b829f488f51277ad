"""What a trial costs: the seconds behind the estimate before a batch and the time left during one.

The timing table ``capacity_cli/configs/timings.csv`` ships with the package, so an estimate does not
need the committed ``results/`` (an emptied results folder, an installed copy). It is written by
``python -m capacity_cli.reproduce --save-timings`` (``make timings``) from the committed results and
holds three kinds of rows:

- ``trial``: per profile, study and configuration, the mean ``elapsed_s`` per trial recorded in
  ``results/<profile>/<study>.csv`` (``recorded_s``; a first trial more than COMPILE_SPIKE times the
  median of the others, the numba compile of a fresh cache, is left out) and ``seconds``, the same
  scaled by the profile's calibration (below);
- ``module``: the wall time of the profile module's own work (``extra()``), taken from the
  ``run_time.csv`` a run leaves in ``results/<profile>/``, else kept from the table;
- ``run``: the calibration target, the measured wall time of ``python -m capacity_cli.reproduce
  --profile <profile>`` into an empty folder on 2 idle cores (kept from the table, or taken from a
  ``run_time.csv`` that records such a run: every batch trial measured at a load below half the
  cores).

The committed ``elapsed_s`` were recorded at whatever load the machine had then (the quick profile's
sum to 27 min at load 5-7, against 4 min 53 s idle from a fresh clone), so each profile with a ``run``
row has its trial times scaled by one factor, (run - module) / (sum over its batch of recorded_s x
trials): its batch then adds up to the measured run, start-up, compiling and drawing included.
A profile without one keeps its times as recorded.

Cost model (:meth:`TimingTable.model`), for a configuration the table does not list: the table's
trial rows of the same model, degree, criterion and search are its group; of these, the rows that
agree with it in the most other configuration columns (beta, kind, threshold, noise, rule, features,
p_cap, ...; N and seed aside) are its neighbours. Their seconds per trial (mean per N) are
interpolated piecewise linearly in (x, ln seconds) between the neighbouring sizes and extrapolated
along the nearest segment, with x = ln N (a power law in N) or, for the models whose capacity and so
whose work grows exponentially with N (EXPONENTIAL_MODELS), x = N; extrapolated slopes are clamped to
[0, MAX_SLOPE]. With neighbours at one N only, the slope is the median of the model's segment slopes
in the table (FALLBACK_SLOPE without any). No row of the group: no estimate.

Only the standard library is used here (no pandas), so a measurement can weigh its trials cheaply.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

TIMINGS_PATH = Path(__file__).resolve().parent / "configs" / "timings.csv"
#: Models whose capacity, and with it a trial's work, grows exponentially with N.
EXPONENTIAL_MODELS = ("exp", "softmax", "rf", "kernel")
#: Largest extrapolated slope of ln seconds against x (x = ln N, or N for EXPONENTIAL_MODELS).
MAX_SLOPE = 10.0
#: Slope of ln seconds against x without two sizes of the model anywhere in the table.
FALLBACK_SLOPE = {"log": 3.0, "linear": 0.5}
#: A trial more than this many times the median of the others of its configuration is a compile.
COMPILE_SPIKE = 20.0
#: Columns that identify a group and columns that never change the cost.
GROUP_COLUMNS = ("model", "degree", "criterion", "search")
IGNORED_COLUMNS = ("n", "seed", "patterns_sha1")
#: Configuration cells left out of the table where they hold these (common) values.
DEFAULTS = {"search": "p", "seed": "0", "kind": "pm1", "bias": "0.5", "threshold": "1.0", "p_cap": "100000",
            "max_tries": "10000", "correlation": "0.0", "min_distance": "0", "rule": "energy",
            "noise": "0.0", "update": "random", "max_sweeps": "100", "dtype": "float64",
            "temperature": "0.0", "steps": "1"}
#: Configuration cells the table holds in columns of their own (the rest go to ``configuration``).
SEPARATE_COLUMNS = ("model", "degree", "criterion", "n")
TABLE_COLUMNS = ["kind", "profile", "study", "model", "degree", "criterion", "n", "trials", "recorded_s",
                 "seconds", "note", "key", "configuration"]
HEADER = """\
# Seconds per trial by profile, study and configuration, each profile's module work (extra()) and the
# measured runs that calibrate them: the estimate make reproduce prints, the time left of a run.
# Written by `python -m capacity_cli.reproduce --save-timings` (make timings) from the committed
# results/; see capacity_cli/timing.py. kind=trial: recorded_s is the mean elapsed_s recorded,
# seconds the same calibrated to 2 idle cores; kind=module: extra() seconds; kind=run: measured wall
# seconds of the whole profile from an empty folder on 2 idle cores (the calibration target).
"""


def cells(columns: Mapping) -> dict[str, str]:
    """A configuration's columns as the table holds them: canonical text (results.parse_value), blank
    cells and cells at their DEFAULTS left out. Two configurations with the same cells differ at most
    in a blank against a default; the exact match goes by :func:`key_digest`."""
    from .results import CONFIG_COLUMNS, column_kind, is_blank, parse_value

    out = {}
    for c in CONFIG_COLUMNS:
        value = columns.get(c)
        if is_blank(value):
            continue
        try:
            value = parse_value(column_kind(c), value)
        except ValueError:
            pass
        text = repr(value) if isinstance(value, float) else str(value)
        if DEFAULTS.get(c) != text:
            out[c] = text
    return out


def key_digest(key: tuple) -> str:
    """A short stable name of a configuration key (results.config_key)."""
    return hashlib.sha1(repr(key).encode()).hexdigest()[:12]


def format_configuration(cells_: Mapping[str, str]) -> str:
    """Cells (:func:`cells`) as ``name=value`` joined by ``;``."""
    return ";".join(f"{c}={v}" for c, v in cells_.items())


def parse_configuration(text: str) -> dict[str, str]:
    """The cells of :func:`format_configuration`'s text."""
    out = {}
    for part in text.split(";"):
        if part:
            name, _, value = part.partition("=")
            out[name] = value
    return out


def _x(model: str, n: float) -> float:
    return float(n) if model in EXPONENTIAL_MODELS else math.log(n)


@dataclass(frozen=True)
class TimedRow:
    """One row of the timing table."""

    kind: str  # trial, module or run
    profile: str
    study: str = ""
    columns: dict = field(default_factory=dict, compare=False)  # configuration cells (see cells())
    key: str = ""  # key_digest of the configuration
    trials: int | None = None
    recorded_s: float | None = None
    seconds: float = 0.0
    note: str = ""


def trial_mean(elapsed: Iterable[tuple[int, float]]) -> float | None:
    """Mean seconds per trial from (trial, elapsed_s), leaving out trial 0 when it is a compile (more
    than COMPILE_SPIKE times the median of at least 4 others)."""
    pairs = sorted((int(t), float(s)) for t, s in elapsed if s == s)
    if not pairs:
        return None
    if len(pairs) >= 5 and pairs[0][0] == 0:
        rest = [s for _, s in pairs[1:]]
        if pairs[0][1] > COMPILE_SPIKE * max(statistics.median(rest), 1e-6):
            pairs = pairs[1:]
    return sum(s for _, s in pairs) / len(pairs)


class TimingTable:
    """The timing table in memory: exact look-ups, the cost model, module and run times."""

    def __init__(self, rows: Iterable[TimedRow] = ()):
        self.rows = list(rows)
        self.trial_rows = [r for r in self.rows if r.kind == "trial"]
        self.by_key: dict[str, list[TimedRow]] = {}
        self.groups: dict[tuple, list[TimedRow]] = {}
        for r in self.trial_rows:
            self.by_key.setdefault(r.key, []).append(r)
            self.groups.setdefault(_group(r.columns), []).append(r)
        self.module = {r.profile: r for r in self.rows if r.kind == "module"}
        self.run = {r.profile: r for r in self.rows if r.kind == "run"}
        self._fallback: dict[str, float] = {}

    @classmethod
    def read(cls, path: str | Path = TIMINGS_PATH) -> TimingTable:
        """The table in ``path`` (an empty table when there is none)."""
        try:
            text = Path(path).read_text()
        except OSError:
            return cls()
        rows = []
        lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
        for record in csv.DictReader(lines):
            kind = record.get("kind", "")
            seconds = _float(record.get("seconds"))
            if kind not in ("trial", "module", "run") or seconds is None:
                continue
            columns = {c: record[c] for c in SEPARATE_COLUMNS if record.get(c)}
            columns.update(parse_configuration(record.get("configuration") or ""))
            if kind == "trial" and ("n" not in columns or "model" not in columns):
                continue
            trials = _float(record.get("trials"))
            rows.append(TimedRow(kind, record.get("profile", ""), record.get("study", ""), columns,
                                 record.get("key", ""), int(trials) if trials is not None else None,
                                 _float(record.get("recorded_s")), seconds, record.get("note", "")))
        return cls(rows)

    def scale(self, profile: str) -> float:
        """The profile's calibration factor (seconds / recorded_s of its rows; 1 when it has none)."""
        for r in self.trial_rows:
            if r.profile == profile and r.recorded_s:
                return r.seconds / r.recorded_s
        return 1.0

    def exact(self, key: tuple, profile: str | None = None) -> float | None:
        """Seconds per trial of this configuration (its results.config_key) in the table: the
        profile's own row, else the mean over the profiles that list it; None when none does."""
        rows = self.by_key.get(key_digest(key))
        if not rows:
            return None
        own = [r.seconds for r in rows if r.profile == profile]
        return statistics.fmean(own or [r.seconds for r in rows])

    def model(self, columns: Mapping) -> float | None:
        """Seconds per trial of a configuration (its columns) the table does not list (see the module
        docstring)."""
        columns = cells(columns)
        group = self.groups.get(_group(columns))
        if not group:
            return None
        n = float(columns["n"])
        names = {c for r in group for c in r.columns} | set(columns)
        names -= set(GROUP_COLUMNS) | set(IGNORED_COLUMNS)
        score = [sum(r.columns.get(c) == columns.get(c) for c in names) for r in group]
        best = max(score)
        by_n: dict[float, list[float]] = {}
        for r, s in zip(group, score, strict=True):
            if s == best:
                by_n.setdefault(float(r.columns["n"]), []).append(r.seconds)
        model = str(columns["model"])
        points = sorted((_x(model, size), math.log(statistics.fmean(v))) for size, v in by_n.items())
        x = _x(model, n)
        for px, py in points:
            if px == x:
                return math.exp(py)
        if len(points) == 1:
            (px, py), slope = points[0], self.fallback_slope(model)
        else:
            right = next((k for k, (px, _) in enumerate(points) if px > x), len(points))
            k = min(max(right, 1), len(points) - 1)
            (x0, y0), (x1, y1) = points[k - 1], points[k]
            slope = (y1 - y0) / (x1 - x0)
            if x0 <= x <= x1:
                return math.exp(y0 + slope * (x - x0))
            px, py = (x0, y0) if x < x0 else (x1, y1)
            slope = min(max(slope, 0.0), MAX_SLOPE)
        return math.exp(py + slope * (x - px))

    def fallback_slope(self, model: str) -> float:
        """The median slope of ln seconds against x between adjacent sizes of one group and the same
        other columns, over the table's rows of ``model`` (FALLBACK_SLOPE without any)."""
        if model not in self._fallback:
            slopes = []
            series: dict[tuple, list[tuple[float, float]]] = {}
            for r in self.trial_rows:
                if r.columns.get("model") == model and r.seconds > 0:
                    rest = tuple(sorted((c, v) for c, v in r.columns.items() if c not in IGNORED_COLUMNS))
                    series.setdefault(rest, []).append((_x(model, float(r.columns["n"])),
                                                        math.log(r.seconds)))
            for points in series.values():
                points.sort()
                slopes += [(y1 - y0) / (x1 - x0)
                           for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False) if x1 > x0]
            axis = "linear" if model in EXPONENTIAL_MODELS else "log"
            self._fallback[model] = min(max(statistics.median(slopes), 0.0), MAX_SLOPE) if slopes \
                else FALLBACK_SLOPE[axis]
        return self._fallback[model]

    def seconds(self, columns: Mapping, key: tuple | None = None,
                profile: str | None = None) -> tuple[float | None, str]:
        """(seconds per trial, source): "table" for a listed configuration, "model" for one the cost
        model estimates, (None, "") when neither can."""
        from .results import config_key

        key = config_key(columns) if key is None else key
        found = self.exact(key, profile)
        if found is not None:
            return found, "table"
        try:
            found = self.model(columns)
        except (KeyError, TypeError, ValueError):
            found = None
        return (found, "model") if found is not None else (None, "")

    def write(self, path: str | Path = TIMINGS_PATH) -> None:
        """Write the table (header comment, then its rows)."""
        buffer = io.StringIO()
        buffer.write(HEADER)
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(TABLE_COLUMNS)
        for r in self.rows:
            c = r.columns
            writer.writerow([r.kind, r.profile, r.study, c.get("model", ""), c.get("degree", ""),
                             c.get("criterion", ""), c.get("n", ""), "" if r.trials is None else r.trials,
                             "" if r.recorded_s is None else f"{r.recorded_s:.4g}", f"{r.seconds:.4g}",
                             r.note, r.key, format_configuration(
                                 {k: v for k, v in c.items() if k not in SEPARATE_COLUMNS}
                             ) if r.kind == "trial" else ""])
        Path(path).write_text(buffer.getvalue())


def _group(cells_: Mapping[str, str]) -> tuple:
    return tuple(cells_.get(c) for c in GROUP_COLUMNS)


def _float(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@functools.lru_cache(maxsize=4)
def shipped_table(path: str = str(TIMINGS_PATH)) -> TimingTable:
    """The shipped timing table, read once per process."""
    return TimingTable.read(path)


def trial_weights(configs: list, keys: list[tuple]) -> list[float]:
    """A relative cost per trial for each configuration (seconds from the timing table or its cost
    model; configurations neither knows weigh the mean of the others, all 1 when none is known).
    Never raises: a weight is a hint for the time left, not a result."""
    try:
        table = shipped_table()
        found = [table.seconds(c.columns(), k)[0] for c, k in zip(configs, keys, strict=True)]
    except Exception:  # any failure falls back to counting trials
        found = [None] * len(configs)
    known = [s for s in found if s is not None and s > 0]
    if not known:
        return [1.0] * len(configs)
    fill = statistics.fmean(known)
    return [s if s is not None and s > 0 else fill for s in found]
