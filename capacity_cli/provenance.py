"""Provenance: which code and which environment made a result file.

**Code version** (:func:`code_version`): the string every row carries in its ``hopcap_version``
cell (results, curve and prediction CSVs; the ``hopcap_version`` entry of ``hopcap gen`` files).
An editable install freezes the installed version at install time, so the revision is read at run
time, once per process: when the package's files are tracked by git, it is setuptools-scm's version
of HEAD (``0.1.1.dev190+g6ab8d5d3c``: 190 commits after the last tag ``v<X.Y.Z>``, or from
FALLBACK_VERSION when there is none, then 9 hex digits of the commit; on a tag itself ``X.Y.Z``),
with ``.dirty`` added when the package folder holds uncommitted changes (where setuptools-scm writes
a date); otherwise (an installed copy, or no git) the installed version (:func:`installed_version`,
which setuptools-scm derived from git when the wheel was built).

**Environment records** (:func:`note_environment`): every folder hopcap writes results into holds
``environment.json``, one record per distinct environment that wrote there: the code version (the
same string as the rows' ``hopcap_version``, so a row finds its record), the git commit and dirty
flag, the installed version, Python, the dependencies' versions, the CPU model, logical cores, the
numba threads used, the platform, and when the record was first written. Records are
deduplicated on everything but that time (a rerun in a known environment leaves the file as it is,
so rerunning a committed batch changes no committed file); the file is rewritten atomically
(temporary file and ``os.replace``) under the lock ``.environment.json.lock``. A process writes a
folder's record at most once per (folder, threads).

**Reading** (:func:`csv_report`): what ``hopcap info FILE.csv`` prints: the file's rows and
configurations, its code versions, and each one's environment records.

Nothing here imports numpy, numba or pandas, and nothing runs at ``import capacity_cli``.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import HopcapError

PACKAGE_DIR = Path(__file__).resolve().parent
#: The name of the environment record of a results folder.
ENVIRONMENT_FILE = "environment.json"
#: ``fallback_version`` of pyproject.toml: setuptools-scm's version without .git, and its base tag
#: when the history has no tag yet.
FALLBACK_VERSION = "0.1.0"
#: The installed version when no package metadata is found (a source tree outside git, not
#: installed).
UNKNOWN_VERSION = "0+unknown"
#: Distributions whose versions a record keeps; OPTIONAL ones only when installed.
DEPENDENCIES = ("numpy", "numba", "scipy", "pandas", "matplotlib", "click", "tqdm", "filelock",
                "threadpoolctl")
OPTIONAL = ("scikit-learn",)
#: Fields that are not part of an environment's identity.
TIMES = ("first_used",)
NO_RECORD = "no environment record: made before environment records were kept"


# ------------------------------------------------------------------------------- code revision


@functools.lru_cache(maxsize=1)
def installed_version() -> str:
    """The version of the installed distribution (``capacity_cli.__version__``); UNKNOWN_VERSION
    when hopcap is not installed."""
    from importlib import metadata

    try:
        return metadata.version("hopcap")
    except metadata.PackageNotFoundError:
        return UNKNOWN_VERSION


@dataclass(frozen=True)
class Revision:
    """The code that runs: ``version`` (the rows' hopcap_version), the git ``commit`` and ``dirty``
    flag (None outside git) and ``source`` ("git" or "installed")."""

    version: str
    commit: str | None = None
    dirty: bool | None = None
    source: str = "installed"


def _git(args: list[str], cwd: Path) -> str | None:
    """stdout of ``git ARGS`` run in ``cwd``; None when git is missing or fails."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _next_release(tag: str) -> str:
    """setuptools-scm's guess of the next release after ``tag``: its last number plus one."""
    if re.fullmatch(r"\d+(\.\d+)*", tag):
        parts = tag.split(".")
        return ".".join(parts[:-1] + [str(int(parts[-1]) + 1)])
    return tag


def scm_version(tag: str, distance: int, commit: str, dirty: bool) -> str:
    """setuptools-scm's version (default schemes: guess-next-dev, node) of ``commit``, ``distance``
    commits after ``tag``, with ``.dirty`` for uncommitted changes (setuptools-scm writes a date)."""
    tag = tag[1:] if tag[:1] in ("v", "V") and tag[1:2].isdigit() else tag
    if distance == 0 and not dirty:
        return tag
    return f"{_next_release(tag)}.dev{distance}+g{commit[:9]}" + (".dirty" if dirty else "")


def code_revision(package_dir: str | os.PathLike = PACKAGE_DIR) -> Revision:
    """The revision of the package in ``package_dir``: from git when its files are tracked there
    (dirty: uncommitted changes or new files under the package), else the installed version."""
    package_dir = Path(package_dir)
    tracked = _git(["ls-files", "--", "__init__.py"], package_dir)
    commit = _git(["rev-parse", "HEAD"], package_dir) if tracked and tracked.strip() else None
    if not commit or not commit.strip():
        return Revision(installed_version())
    commit = commit.strip()
    describe = _git(["describe", "--tags", "--long", "--match", "*[0-9]*"], package_dir)
    found = re.fullmatch(r"(.+)-(\d+)-g[0-9a-f]+", describe.strip()) if describe else None
    if found:
        tag, distance = found.group(1), int(found.group(2))
    else:  # no tag yet: setuptools-scm counts every commit from its fallback version
        count = _git(["rev-list", "--count", "HEAD"], package_dir)
        tag, distance = FALLBACK_VERSION, int(count) if count and count.strip().isdigit() else 0
    status = _git(["status", "--porcelain", "--", "."], package_dir)
    dirty = status is None or bool(status.strip())
    return Revision(scm_version(tag, distance, commit, dirty), commit, dirty, "git")


@functools.lru_cache(maxsize=1)
def current_revision() -> Revision:
    """:func:`code_revision` of this package, determined once per process."""
    return code_revision()


def code_version() -> str:
    """The string every result row carries in ``hopcap_version`` (see the module docstring)."""
    return current_revision().version


# ---------------------------------------------------------------------------- environment records


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo where there is one, else what platform knows."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for key in ("model name", "Model", "Hardware", "cpu model", "Processor", "cpu"):
        for line in text.splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def package_versions() -> dict[str, str | None]:
    """Versions of DEPENDENCIES (None: not installed) and of the installed OPTIONAL ones, from the
    installed metadata (nothing is imported)."""
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in DEPENDENCIES + OPTIONAL:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name not in OPTIONAL:
                versions[name] = None
    return versions


def environment(threads: int | None) -> dict:
    """This process's environment record (without the times); ``threads``: the numba threads the
    rows were computed with (None: not a numba computation)."""
    revision = current_revision()
    return {
        "hopcap_version": revision.version,
        "revision": {"source": revision.source, "commit": revision.commit, "dirty": revision.dirty},
        "installed_version": installed_version(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "packages": package_versions(),
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "numba_threads": threads,
        "platform": platform.platform(),
    }


def _identity(record: dict) -> str:
    return json.dumps({k: v for k, v in record.items() if k not in TIMES}, sort_keys=True)


def environment_path(folder: str | os.PathLike) -> Path:
    return Path(folder) / ENVIRONMENT_FILE


def read_environment(folder: str | os.PathLike) -> list[dict]:
    """The environment records of a folder ([] when it has none); HopcapError when the file is
    not a list of records."""
    path = environment_path(folder)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return _parse_records(path, text)


def _parse_records(path: Path, text: str) -> list[dict]:
    try:
        data = json.loads(text)
        records = data["records"]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise HopcapError(f"{path}: not a hopcap environment record (damaged JSON)") from None
    return records


def record_environment(folder: str | os.PathLike, threads: int | None, now: str | None = None) -> dict:
    """Add this environment to the folder's ``environment.json`` (nothing when it holds this
    environment already), atomically under the file's lock; returns the record. A damaged file is kept as
    ``environment.json.damaged`` and a fresh one started."""
    from .results import _rewrite, results_lock

    path = environment_path(folder)
    now = now or datetime.now(timezone.utc).isoformat(timespec="seconds")
    mine = environment(threads)
    with results_lock(path):
        try:
            records = _parse_records(path, path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            records = []
        except (HopcapError, UnicodeDecodeError):
            os.replace(path, path.with_name(path.name + ".damaged"))
            print(f"warning: {path}: damaged, kept as {path.name}.damaged; a new record begins",
                  file=sys.stderr, flush=True)
            records = []
        key = _identity(mine)
        found = next((record for record in records if _identity(record) == key), None)
        if found is not None:  # known: the file stays as it is (a rerun changes nothing)
            return found
        found = {**mine, "first_used": now}
        records.append(found)
        data = {"about": "hopcap environment records: one per distinct environment that wrote "
                         "results in this folder; a row's hopcap_version names its records",
                "records": records}
        _rewrite(path, [json.dumps(data, indent=2) + "\n"])
    return found


_noted: set[tuple[str, int | None]] = set()


def note_environment(folder: str | os.PathLike, threads: int | None) -> None:
    """:func:`record_environment`, once per (folder, threads) in this process; a failure to write it
    is a warning on stderr, never the end of a measurement."""
    key = (str(Path(folder).resolve()), threads)
    if key in _noted:
        return
    _noted.add(key)
    try:
        record_environment(folder, threads)
    except OSError as err:
        print(f"warning: no environment record written in {folder}: {err}", file=sys.stderr, flush=True)


def note_rows(path: str | os.PathLike, rows: list[dict]) -> None:
    """Note the environment in the folder of ``path`` when the rows written there carry a
    hopcap_version (their ``threads`` cell is the numba threads used)."""
    if rows and "hopcap_version" in rows[0]:
        threads = rows[0].get("threads")
        note_environment(Path(path).parent, threads if isinstance(threads, int) else None)


# ------------------------------------------------------------------------------------- reading


#: What hopcap info calls each kind of curves.file_kind.
_CURVE_KINDS = {"curve": "retrieval curve (hopcap curve)", "trace": "energy traces (--trace)",
                "outcomes": "per-pattern outcomes (--outcomes)"}


def _csv_kind(path: Path, header: list[str]) -> str:
    from .curves import file_kind
    from .results import REQUIRED

    kind = file_kind(path)  # first: a curve file has the results columns too
    if kind is not None:
        return _CURVE_KINDS[kind]
    if all(c in header for c in REQUIRED):
        return "results (hopcap measure)"
    if "predicted_mean" in header:
        return "predictions (hopcap predict)"
    return "table"


def format_record(record: dict) -> list[str]:
    """An environment record in a few indented lines."""
    revision = record.get("revision") or {}
    if revision.get("commit"):
        state = "uncommitted changes" if revision.get("dirty") else "clean"
        code = f"git {revision['commit']} ({state})"
    else:
        code = f"installed {record.get('installed_version', '?')} (not a git checkout)"
    packages = record.get("packages") or {}
    threads = record.get("numba_threads")
    return [
        f"  environment record (first used {record.get('first_used', '?')}):",
        f"    code revision   {code}",
        f"    python          {record.get('python', '?')} on {record.get('platform', '?')}",
        f"    cpu             {record.get('cpu', '?')}, {record.get('logical_cores', '?')} logical cores, "
        f"numba threads {'-' if threads is None else threads}",
        "    packages        " + ", ".join(f"{k} {v or 'not installed'}" for k, v in packages.items()),
    ]


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'' if number == 1 else 's'}"


def csv_report(path: str | os.PathLike) -> list[str]:
    """What ``hopcap info FILE.csv`` prints: rows and configurations, the distinct hopcap_version
    values and, for each, the matching records of the folder's environment.json."""
    import csv

    from .results import CONFIG_COLUMNS

    path = Path(path)
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            lines = [cells for cells in csv.reader(f) if any(c.strip() for c in cells)]
    except FileNotFoundError:
        raise HopcapError(f"{path}: no such file") from None
    except csv.Error as err:
        raise HopcapError(f"{path}: not a CSV ({err})") from None
    if not lines:
        raise HopcapError(f"{path}: empty file")
    header, body = lines[0], lines[1:]
    rows = [dict(zip(header, cells, strict=False)) for cells in body]  # a damaged line: its cells
    config = [c for c in CONFIG_COLUMNS if c in header] if "model" in header else []
    configs = len({tuple(r.get(c, "") for c in config) for r in rows})
    out = [f"{path}: {_csv_kind(path, header)}, {_count(len(rows), 'row')}"
           + (f", {_count(configs, 'configuration')}" if config else "")]
    if "model" in header and rows:
        out.append("  models  " + ", ".join(sorted({r.get("model", "") for r in rows})))
    if "n" in header and rows:
        ns = sorted({r.get("n", "") for r in rows}, key=lambda v: (len(v), v))
        out.append("  N       " + (", ".join(ns) if len(ns) <= 8
                                     else f"{ns[0]} .. {ns[-1]} ({len(ns)} values)"))
    records = read_environment(path.parent)
    where = environment_path(path.parent)
    if "hopcap_version" not in header:
        out.append("no hopcap_version column (rows do not name the code that made them); "
                   + (f"the environment records of {where}:" if records else f"no {where}"))
        for record in records:
            out += format_record(record)
        return out
    versions = Counter(r.get("hopcap_version", "").strip() for r in rows)
    for version, count in versions.items():
        out.append(f"hopcap_version {version or '(blank)'}: {_count(count, 'row')}")
        matches = [r for r in records if version and r.get("hopcap_version") == version]
        if not matches:
            out.append("  " + NO_RECORD + ("" if records else f" (no {where})"))
        for record in matches:
            out += format_record(record)
    return out
