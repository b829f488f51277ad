"""Tidy CSV results: one row per trial, appended under a lock, validated when read, resumable.

A configuration is identified by the columns in ``CONFIG_COLUMNS``, compared exactly by the kind of
each column (``COLUMN_KINDS``: whole numbers as Python ints of any size, floats by value, text as
text, blank as blank). A rerun skips the trials of a configuration that the file already holds, so an
interrupted batch continues where it stopped.

Writers from several processes share a file safely: every write holds an inter-process lock (the
file ``.<name>.lock`` next to the CSV) and is a true append (flushed and fsynced); processes running
the same configuration share its trials through claims in ``.<name>.claims`` (see
:class:`TrialClaims`). Readers validate every row (:func:`load_results`): invalid rows are reported
with their line number and never counted, duplicated trials are counted once.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

from .errors import HopcapError
from .families import family_columns, family_legacy, family_outcome_columns
from .provenance import note_rows

if TYPE_CHECKING:  # pandas is imported where frames are made: a measurement without -o needs none
    import pandas as pd

#: Configuration columns every family shares; each family adds its own (Family.columns), after them.
SHARED_CONFIG_COLUMNS = [
    "model", "beta", "n", "criterion", "noise", "threshold", "kind", "bias", "correlation",
    "min_distance", "patterns", "patterns_sha1", "shuffle", "seed", "p_cap", "search", "set_size",
    "max_tries", "max_degree", "code",
]
CONFIG_COLUMNS = SHARED_CONFIG_COLUMNS + [c for c in family_columns() if c not in SHARED_CONFIG_COLUMNS]
RESULT_COLUMNS = [
    "trial", "p_max", "capped", "min_degree", "checks", "converged", "sweeps", "achieved_min_distance",
    "achieved_correlation", "elapsed_s", "threads", "hopcap_version",
] + list(family_outcome_columns())
COLUMNS = CONFIG_COLUMNS + RESULT_COLUMNS
REQUIRED = ["model", "n", "criterion", "trial", "p_max"]

#: How every column is parsed and compared: "int" (whole numbers, exact Python ints of any size;
#: "3.0" is 3), "float" (finite), "bool" (True/False) or "text". Columns not listed are text.
COLUMN_KINDS = {
    **family_columns(),
    **family_outcome_columns(),
    "model": "text", "beta": "float", "n": "int", "criterion": "text",
    "noise": "float", "threshold": "float", "kind": "text", "bias": "float", "correlation": "float",
    "min_distance": "int", "patterns": "text",
    "patterns_sha1": "text", "shuffle": "bool", "seed": "int", "p_cap": "int", "search": "text",
    "set_size": "int", "max_tries": "int", "max_degree": "int", "code": "text",
    "trial": "int", "p_max": "int", "capped": "bool", "min_degree": "int", "checks": "int",
    "converged": "bool", "sweeps": "int", "achieved_min_distance": "int",
    "achieved_correlation": "float", "elapsed_s": "float", "threads": "int", "hopcap_version": "text",
}
#: Columns every row must fill, and the smallest value of numeric columns (when not blank).
NOT_BLANK = ["model", "n", "criterion", "trial"]
LOWER_BOUNDS = {"n": 2, "trial": 0, "p_max": 0, "min_degree": 2, "seed": 0, "p_cap": 1,
                "recent_retrievable": 0, "max_tries": 1, "max_degree": 2, "set_size": 1, "checks": 0,
                "sweeps": 0}
#: The largest value of a whole-number column: fits and figures compute in float64, exact up to
#: 2^53 (a P_max of 10^400 would overflow them). Seeds are exact Python integers of any size.
INT_COLUMN_MAX = 2**53
UNBOUNDED_INT_COLUMNS = ("seed", "features_seed")


def _legacy_max_tries(row: dict):
    return 10_000 if is_blank(row.get("patterns")) else None


def _legacy_max_degree(row: dict):
    return 30 if row.get("search") == "degree" else None


#: Files written before a configuration column existed: the value those versions always used, from
#: the row's other (parsed) cells. Frozen history, deliberately not the current defaults.
LEGACY_VALUES = {"max_tries": _legacy_max_tries, "max_degree": _legacy_max_degree,
                 "kind": lambda row: "pm1", **family_legacy()}

_TRUE, _FALSE = {"true", "1", "1.0"}, {"false", "0", "0.0"}


def is_blank(value) -> bool:
    """True for None, NaN and empty text: a column or option that does not apply."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def parse_value(kind: str, value):
    """``value`` (a CSV cell or a Python value) as the canonical value of its kind; None for blank.

    Raises ValueError with a short reason when the value is not of that kind.
    """
    if is_blank(value):
        return None
    if kind == "text":
        return str(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(f"not a boolean: {value!r}")
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if kind == "int":
        if isinstance(value, int):
            return int(value)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"not a whole number: {value!r}") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"not a whole number: {value!r}")
        return int(number)
    try:
        number = float(str(value).strip()) if not isinstance(value, float | int) else float(value)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def parse_cell(column: str, kind: str, cell):
    """A CSV cell of ``column`` as :func:`parse_value` of ``kind`` reads it; a whole number beyond
    INT_COLUMN_MAX in size (but in a seed column) is refused too (ValueError)."""
    value = parse_value(kind, cell)
    if kind == "int" and value is not None and abs(value) > INT_COLUMN_MAX and \
            column not in UNBOUNDED_INT_COLUMNS:
        text = str(cell).strip()
        shown = text if len(text) <= 24 else f"{text[:20]}... ({len(text)} digits)"
        raise ValueError(f"must be at most 2^53 in size, got {shown}")
    return value


def column_kind(column: str) -> str:
    """The kind of a column (text for columns hopcap does not know)."""
    return COLUMN_KINDS.get(column, "text")


def config_key(row: dict) -> tuple:
    """A hashable key for a configuration: its CONFIG_COLUMNS compared exactly by kind (see
    COLUMN_KINDS). Raises ValueError for a cell that does not parse."""
    return tuple(parse_value(column_kind(c), row.get(c)) for c in CONFIG_COLUMNS)


def _format_cell(value) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_line(cells: Iterable) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([_format_cell(c) for c in cells])
    return buffer.getvalue()


# --------------------------------------------------------------------------------------- reading

Problem = tuple[int, str, str]  # (line number, column, message)


def fill_legacy(row: dict) -> dict:
    """Fill, in place, the CONFIG_COLUMNS a row of an older file lacks: LEGACY_VALUES from the
    row's other (parsed) cells, else blank. Returns the row."""
    for column in CONFIG_COLUMNS:
        if column not in row:
            legacy = LEGACY_VALUES.get(column)
            row[column] = legacy(row) if legacy else None
    return row


def check_row(header: list[str], cells: list[str], line: int) -> tuple[dict | None, list[Problem]]:
    """Parse and validate one CSV line against ``header``: (parsed row or None, problems).

    Missing configuration columns are filled from LEGACY_VALUES (or blank).
    """
    if len(cells) != len(header):
        return None, [(line, "*", f"{len(cells)} fields where the header has {len(header)} "
                                   "(a truncated or damaged line)")]
    row: dict = {}
    problems: list[Problem] = []
    for column, cell in zip(header, cells, strict=True):
        try:
            row[column] = parse_cell(column, column_kind(column), cell)
        except ValueError as err:
            problems.append((line, column, str(err)))
            row[column] = None
            continue
        low = LOWER_BOUNDS.get(column)
        if low is not None and row[column] is not None and row[column] < low:
            problems.append((line, column, f"must be >= {low}, got {cell!r}"))
    fill_legacy(row)
    for column in NOT_BLANK:
        if row.get(column) is None and not any(p[1] == column for p in problems):
            problems.append((line, column, "is blank"))
    if row.get("search") in (None, "p"):
        if row.get("p_max") is None and not any(p[1] == "p_max" for p in problems):
            problems.append((line, "p_max", "is blank (a P search row needs P_max)"))
    elif row.get("search") == "recency":
        if row.get("recent_retrievable") is None and \
                not any(p[1] == "recent_retrievable" for p in problems):
            problems.append((line, "recent_retrievable", "is blank (a recency row needs it)"))
    elif row.get("search") != "degree":
        problems.append((line, "search", f"must be p, degree or recency, got {row['search']!r}"))
    return (None if problems else row), problems


@dataclass
class ResultsFile:
    """A results CSV read and validated: ``records`` (valid rows, each trial once, parsed values),
    ``problems`` ((line, column, message), header = line 1), ``duplicates`` (repeated trials left out)."""

    path: Path
    header: list[str]
    records: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    invalid_lines: int = 0
    duplicates: int = 0

    @property
    def rows(self) -> pd.DataFrame:
        """The valid, deduplicated rows as a frame (the file's columns, then any filled ones)."""
        import pandas as pd

        columns = self.header + [c for c in CONFIG_COLUMNS if c not in self.header]
        return pd.DataFrame.from_records(self.records, columns=columns)

    def first_problem(self) -> str:
        """``FILE line L, column C: message`` for the first problem ('' when none)."""
        if not self.problems:
            return ""
        line, column, message = self.problems[0]
        return f"{self.path} line {line}, column {column}: {message}"

    def require_valid(self) -> ResultsFile:
        """Raise HopcapError naming the first invalid row, if any; else return self."""
        if self.problems:
            raise HopcapError(self.first_problem())
        return self

    def warning(self) -> str:
        """A one-line note on invalid rows and duplicates ('' when the file is clean)."""
        parts = []
        if self.invalid_lines:
            parts.append(f"{self.invalid_lines} invalid row(s) not counted (first: "
                         f"line {self.problems[0][0]}, column {self.problems[0][1]}: {self.problems[0][2]})")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicated trial(s) counted once")
        return f"warning: {self.path}: " + "; ".join(parts) if parts else ""


class NotResultsFile(HopcapError):
    """A CSV without the columns of a results file (a summary table, a batch table, ...)."""


def header_kind(header: list[str]) -> str | None:
    """"curve", "trace" or "outcomes" for the header of those hopcap tables (capacity_cli.curves);
    None for anything else (a results file, or no hopcap table)."""
    if "fraction" in header and "successes" in header:
        return "curve"
    if "energy" in header and "sweep" in header:
        return "trace"
    if "outcome" in header and "nearest" in header:
        return "outcomes"
    return None


def _read_header(path: Path, first_line: str) -> list[str]:
    """The header of a results file; NotResultsFile for any other CSV: one without the REQUIRED
    columns, or a curve, trace or outcomes table (a curve file has them all), so that no results row
    is ever appended to, nor a header migrated in, a file of another kind."""
    try:
        header = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        header = []
    kind = header_kind(header)
    if kind is not None:
        raise NotResultsFile(f"{path}: a hopcap {kind} file, not a results file (results rows are "
                             "never written into it; give another -o)")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise NotResultsFile(f"{path}: not a hopcap results file (missing columns: {', '.join(missing)})")
    if len(set(header)) != len(header):
        raise HopcapError(f"{path}: the header repeats a column")
    return header


class _Scanner:
    """Validates the lines of one results file, keeping which trials each configuration holds."""

    def __init__(self, result: ResultsFile):
        self.result = result
        self.done: dict[tuple, set[int]] = {}

    def add(self, text: str, line: int, keep: bool = True) -> str:
        """Validate one complete line; returns 'ok', 'invalid', 'duplicate' or 'blank'."""
        if not text.strip():
            return "blank"
        try:
            cells = next(csv.reader([text]))
        except csv.Error as err:
            cells, problems = None, [(line, "*", f"not CSV ({err})")]
        if cells is not None:
            row, problems = check_row(self.result.header, cells, line)
        if problems:
            self.result.problems.extend(problems)
            self.result.invalid_lines += 1
            return "invalid"
        trials = self.done.setdefault(config_key(row), set())
        if row["trial"] in trials:
            self.result.duplicates += 1
            return "duplicate"
        trials.add(row["trial"])
        if keep:
            self.result.records.append(row)
        return "ok"


def _lines(data: str) -> Iterator[tuple[str, bool]]:
    """(line text without its newline, whether it ended with a newline)."""
    start = 0
    while start < len(data):
        end = data.find("\n", start)
        if end < 0:
            yield data[start:], False
            return
        yield data[start:end].rstrip("\r"), True
        start = end + 1


_TRUNCATED = "no end of line (a truncated write)"


def load_results(path: str | os.PathLike) -> ResultsFile:
    """Read a results CSV and validate every row (see the module docstring)."""
    result, _ = _scan(Path(path), keep=True)
    return result


def _scan(path: Path, keep: bool) -> tuple[ResultsFile, list[tuple[str, str]]]:
    """Scan a file: the ResultsFile, and every line as (text, status) for rewriting."""
    if not path.is_file():
        raise HopcapError(f"{path}: no such file")
    data = path.read_bytes().decode("utf-8", errors="replace")
    lines = list(_lines(data))
    if not lines:
        return ResultsFile(path, list(COLUMNS)), []
    header = _read_header(path, lines[0][0])
    result = ResultsFile(path, header)
    scanner = _Scanner(result)
    statuses = [(lines[0][0], "header")]
    for number, (text, ended) in enumerate(lines[1:], start=2):
        if not ended and text.strip():
            result.problems.append((number, "*", _TRUNCATED))
            result.invalid_lines += 1
            statuses.append((text, "invalid"))
            continue
        statuses.append((text, scanner.add(text, number, keep)))
    return result, statuses


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """The valid rows of one results CSV; HopcapError naming the first invalid row, if any."""
    return load_results(path).require_valid().rows


def read_checked(paths: Iterable[str | os.PathLike], skip_foreign: bool = False,
                 ) -> tuple[pd.DataFrame, list[str]]:
    """The valid rows of several results CSVs in one frame, for figures and fits: HopcapError naming
    the first invalid row of any file (nothing is dropped silently); duplicated trials are counted
    once, with one warning line per file (returned), whether a file repeats its own trial or one of
    an earlier file (a copy, or the same file given twice: the same configuration key and trial).
    With ``skip_foreign``, files that are not results files at all (``results/quick/*.csv`` takes in
    summary.csv) are left out with a note; it is an error when no file is left."""
    frames, notes, foreign = [], [], []
    seen: dict[tuple, str] = {}  # (configuration key, trial) -> the file that brought it
    for path in paths:
        try:
            result = load_results(path).require_valid()
        except NotResultsFile as err:
            if not skip_foreign:
                raise
            foreign.append(err)
            notes.append(f"note: skipped {path}: not a hopcap results file")
            continue
        if result.warning():
            notes.append(result.warning())
        fresh, earlier = [], {}
        for row in result.records:
            trial = (config_key(row), row["trial"])
            if trial in seen:
                earlier[seen[trial]] = earlier.get(seen[trial], 0) + 1
                continue
            seen[trial] = str(path)
            fresh.append(row)
        for other, count in earlier.items():
            notes.append(f"warning: {path}: {count} trial(s) already read from {other} (same "
                         "configuration and trial), counted once")
        result.records = fresh
        frames.append(result.rows)
    if not frames:
        raise foreign[0] if foreign else HopcapError("no results files given")
    import pandas as pd

    return pd.concat(frames, ignore_index=True), notes


def check_writable(path: str | os.PathLike) -> None:
    """Fail before any work when ``path`` cannot be written as a regular file (a directory, a FIFO
    or device, a dangling link, no write permission): capacity_cli.paths.check_file."""
    from .paths import check_file

    check_file(path, write=True)


def completed_trials(path: str | os.PathLike) -> dict[tuple, set[int]]:
    """Valid trials already in the file, per configuration key (empty when the file does not
    exist). Invalid rows are not counted, so their trials run again."""
    if not Path(path).exists():
        return {}
    return _Tracker(Path(path)).done


# --------------------------------------------------------------------------------------- writing


def results_lock(path: str | os.PathLike) -> FileLock:
    """The inter-process lock of a results file (``.<name>.lock`` next to it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path.with_name(f".{path.name}.lock")))


def _rewrite(path: Path, lines: Iterable[str]) -> None:
    """Replace ``path`` atomically by ``lines`` (each ending in a newline); call under the lock."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            out.writelines(lines)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _migrate(path: Path, header: list[str]) -> list[str]:
    """Add the missing COLUMNS to an old file's header (filling LEGACY_VALUES); call under the
    lock. Lines that do not parse are kept as they are. Returns the new header."""
    new_header = header + [c for c in COLUMNS if c not in header]
    migrate_file(path, header, new_header, lambda cells: check_row(header, cells, 0)[0])
    return new_header


def migrate_file(path: Path, header: list[str], new_header: list[str],
                 parse: Callable[[list[str]], dict | None]) -> None:
    """Rewrite ``path`` atomically with ``new_header`` (a superset of ``header``): each line keeps
    its own cells byte for byte and takes the new columns from ``parse(cells)`` (its parsed,
    legacy-filled row; None when it does not parse). Lines that do not split into the old header's
    fields are kept as they are. Call under the file's lock."""
    data = path.read_bytes().decode("utf-8", errors="replace")
    lines = list(_lines(data))
    out = [_csv_line(new_header)]
    for text, ended in lines[1:]:
        try:
            cells = next(csv.reader([text])) if text.strip() and ended else None
        except csv.Error:
            cells = None
        if cells is None or len(cells) != len(header):
            out.append(text + "\n")
            continue
        raw = dict(zip(header, cells, strict=True))
        filled = parse(cells) or {}
        out.append(_csv_line([raw[c] if c in raw else filled.get(c) for c in new_header]))
    _rewrite(path, out)


def first_line_and_prefix(path: Path) -> tuple[str, str]:
    """The first line of a non-empty CSV, and the text an append must start with: a newline when
    the file does not end in one (a truncated last line stays on its own, and stays invalid)."""
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8", errors="replace").rstrip("\r\n")
        f.seek(-1, os.SEEK_END)
        prefix = "\n" if f.read(1) != b"\n" else ""
    return first, prefix


def _append_locked(path: Path, rows: list[dict]) -> None:
    """True append of ``rows`` (the caller holds the lock)."""
    header: list[str] | None = None
    prefix = ""
    if path.exists() and path.stat().st_size > 0:
        first, prefix = first_line_and_prefix(path)
        header = _read_header(path, first)
        if not set(COLUMNS) <= set(header):
            header = _migrate(path, header)
            prefix = ""
    text = prefix + ("" if header else _csv_line(COLUMNS))
    text += "".join(_csv_line(row.get(c) for c in (header or COLUMNS)) for row in rows)
    with open(path, "a", encoding="utf-8", newline="") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    note_rows(path, rows)  # the folder's environment record (provenance), once per process


def append_rows(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    """Append rows to the CSV under the file's lock: a true append, flushed and fsynced (header only
    for a new or empty file; rows in the file's own column order; an old file missing columns is
    migrated once, atomically)."""
    rows = list(rows)
    if not rows:
        return
    path = Path(path)
    with results_lock(path):
        _append_locked(path, rows)


def repair_results(path: str | os.PathLike) -> tuple[int, int]:
    """Drop the invalid and duplicated rows of a results file (atomic rewrite under its lock; kept
    lines are copied byte for byte). Returns (invalid rows dropped, duplicates dropped)."""
    path = Path(path)
    with results_lock(path):
        result, statuses = _scan(path, keep=False)
        if result.invalid_lines or result.duplicates or any(s == "blank" for _, s in statuses):
            _rewrite(path, [text + "\n" for text, status in statuses if status in ("header", "ok")])
    return result.invalid_lines, result.duplicates


# ---------------------------------------------------------------------------- sharing the trials


class _Tracker:
    """The valid trials of a results file, kept up to date by reading only what was appended since
    the last look (the whole file again when a migration or repair replaced it). A last line
    without its newline is left for later: the next append ends it, and it is judged then."""

    def __init__(self, path: Path):
        self.path = path
        self._reset()
        self.refresh()

    def _reset(self) -> None:
        self.scanner: _Scanner | None = None
        self.offset, self.line, self.inode = 0, 0, None

    @property
    def done(self) -> dict[tuple, set[int]]:
        return self.scanner.done if self.scanner else {}

    def refresh(self) -> None:
        """Read what was appended since the last call (call it under the lock)."""
        if not self.path.exists():
            self._reset()
            return
        stat = self.path.stat()
        if self.inode is not None and (stat.st_ino != self.inode or stat.st_size < self.offset):
            self._reset()
        self.inode = stat.st_ino
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n")
        if end < 0:
            return
        self.offset += end + 1
        for text, _ in _lines(data[:end + 1].decode("utf-8", errors="replace")):
            self.line += 1
            if self.scanner is None:
                self.scanner = _Scanner(ResultsFile(self.path, _read_header(self.path, text)))
            else:
                self.scanner.add(text, self.line, keep=False)


class TrialClaims:
    """Trials in flight, shared by the processes writing one results file (``.<name>.claims`` next to
    it, one JSON line per claim: host, pid, configuration key, trial). Read and written only under
    the file's lock. Claims of processes that no longer run on this host are stale and ignored."""

    def __init__(self, path: str | os.PathLike):
        path = Path(path)
        self.path = path.with_name(f".{path.name}.claims")
        self.host, self.pid = socket.gethostname(), os.getpid()

    def _live(self) -> list[dict]:
        if not self.path.exists():
            return []
        claims = []
        for text in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                claim = json.loads(text)
                claim["key"], claim["trial"] = tuple(claim["key"]), int(claim["trial"])
            except (ValueError, KeyError, TypeError):
                continue  # a damaged line claims nothing
            if claim.get("host") != self.host or _alive(int(claim.get("pid", -1))):
                claims.append(claim)
        return claims

    def _write(self, claims: list[dict]) -> None:
        text = "".join(json.dumps({**c, "key": list(c["key"])}) + "\n" for c in claims)
        if text:
            self.path.write_text(text, encoding="utf-8")
        elif self.path.exists():
            self.path.unlink()

    def taken(self, key: tuple) -> set[int]:
        """Trials of ``key`` claimed by live processes."""
        return {c["trial"] for c in self._live() if c["key"] == key}

    def add(self, key: tuple, trial: int) -> None:
        self._write(self._live() + [{"host": self.host, "pid": self.pid, "key": key, "trial": trial}])

    def drop(self, key: tuple, trial: int) -> None:
        self._write([c for c in self._live() if not (c["host"] == self.host and c["pid"] == self.pid
                                                       and c["key"] == key and c["trial"] == trial)])


def _alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (always assumed on Windows, where
    os.kill would end the process)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class SharedResults:
    """One process's share of a results file that other processes may be filling at the same time:
    which trials are done, claiming the next free trial of a configuration, and recording its row."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.lock = results_lock(self.path)
        self.claims = TrialClaims(self.path)
        self._next: dict[tuple, int] = {}
        with self.lock:
            self.tracker = _Tracker(self.path)
            self.start, _ = _scan(self.path, keep=False) if self.path.exists() else (None, None)

    @property
    def done(self) -> dict[tuple, set[int]]:
        """Valid trials per configuration key, as of the last look."""
        return self.tracker.done

    def warning(self) -> str:
        """The file's one-line warning about invalid rows or duplicates when it was opened."""
        return self.start.warning() if self.start is not None else ""

    def pending(self, key: tuple, trials: int) -> Iterator[int]:
        """Claim and yield, one at a time, the trials of ``key`` below ``trials`` that are neither
        done nor claimed by a live process. Record each with :meth:`record` or give it back with
        :meth:`release`."""
        while (trial := self.claim_next(key, trials)) is not None:
            yield trial

    def claim_next(self, key: tuple, trials: int) -> int | None:
        """Claim the first free trial of ``key`` below ``trials`` (None when none is free)."""
        with self.lock:
            self.tracker.refresh()
            done = self.tracker.done.get(key, set())
            first = self._next.get(key, 0)
            while first in done:
                first += 1
            self._next[key] = first
            taken = self.claims.taken(key)
            trial = first
            while trial in done or trial in taken:
                trial += 1
            if trial >= trials:
                return None
            self.claims.add(key, trial)
            return trial

    def record(self, key: tuple, trial: int, row: dict) -> None:
        """Append a claimed trial's row and drop the claim."""
        with self.lock:
            _append_locked(self.path, [row])
            self.claims.drop(key, trial)

    def release(self, key: tuple, trial: int) -> None:
        """Give a claimed trial back unmeasured (an error or an interruption)."""
        with self.lock:
            self.claims.drop(key, trial)
