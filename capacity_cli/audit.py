"""Reading a results tree back with the readers the reproduction batch uses.

``make reproduce`` resumes from the files under ``results/``: capacity CSVs through
:func:`capacity_cli.results.load_results`, retrieval curves, traces and outcomes through
:func:`capacity_cli.curves.read_table`, the study modules' own tables through pandas, arrays through
``numpy.load``. A committed file that one of those readers refuses stops ``make reproduce`` on a
fresh clone, so :func:`read_back_tree` reads every file the way the batch will, and
:func:`pending_trials` says which trials of each profile's capacity batch a results tree still lacks
(none, for the committed tree). Both run in the fast test suite and in CI
(``python -m capacity_cli.reproduce --check``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import HopcapError

#: Files a results tree may hold besides tables and arrays (figures, Markdown summaries, records).
PASSIVE_SUFFIXES = {".png", ".pdf", ".md", ".json", ".txt"}


@dataclass(frozen=True)
class FileCheck:
    """One file read back: its path, which reader read it, and how many rows (or arrays) it holds."""

    path: Path
    kind: str  # results, curve, trace, outcomes, summary, table, arrays or passive
    rows: int


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        return next(csv.reader([f.readline()]), [])


def read_back(path: str | Path) -> FileCheck:
    """Read ``path`` with the reader the batch uses for its kind; HopcapError naming the file and
    the first problem when that reader refuses it, reports an invalid row or a duplicated trial."""
    from .curves import OUTCOME_COLUMNS, TRACE_COLUMNS, curve_columns, file_kind, read_table
    from .results import REQUIRED, load_results

    path = Path(path)
    if path.suffix in PASSIVE_SUFFIXES:
        return FileCheck(path, "passive", 0)
    if path.suffix == ".npz":
        from .datasets import load_array_file

        try:
            with load_array_file(path) as arrays:
                count = sum(1 for name in arrays.files if arrays[name] is not None)
        except HopcapError:
            raise
        except (OSError, ValueError) as err:
            raise HopcapError(f"{path}: not a readable .npz ({err})") from None
        return FileCheck(path, "arrays", count)
    if path.suffix != ".csv":
        raise HopcapError(f"{path}: a file of a kind no reader of the batch knows")
    header = _header(path)
    kind = file_kind(path)
    if kind is not None:
        columns = {"curve": curve_columns(), "trace": TRACE_COLUMNS, "outcomes": OUTCOME_COLUMNS}[kind]
        return FileCheck(path, kind, len(read_table(path, columns, kind)))
    if all(c in header for c in REQUIRED):
        loaded = load_results(path)
        if loaded.problems or loaded.duplicates:
            raise HopcapError(loaded.warning().removeprefix("warning: "))
        return FileCheck(path, "results", len(loaded.records))
    import pandas as pd

    if path.name == "summary.csv":
        from .reproduce import LawRow

        wanted = [f.name for f in fields(LawRow)]
        if header != wanted:
            raise HopcapError(f"{path}: a summary's columns are {', '.join(wanted)}; "
                              f"this one has {', '.join(header)}")
    try:
        table = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as err:
        raise HopcapError(f"{path}: not a readable table ({err})") from None
    return FileCheck(path, "summary" if path.name == "summary.csv" else "table", len(table))


def read_back_tree(root: str | Path, profiles: list[str] = ()) -> list[FileCheck]:
    """:func:`read_back` for every file under ``root`` (hidden lock and claim files excepted); the
    file of each study of each profile's capacity batch (``root/<profile>/<study>.csv``) must read
    as a results file (a damaged header would otherwise pass as a plain table)."""
    from .reproduce import profile_studies

    root = Path(root)
    if not root.is_dir():
        raise HopcapError(f"{root}: no such folder")
    checks = [read_back(path) for path in sorted(root.rglob("*"))
              if path.is_file() and not path.name.startswith(".")]
    kinds = {c.path: c.kind for c in checks}
    for profile in profiles:
        for study in profile_studies(profile):
            path = root / profile / f"{study}.csv"
            if path in kinds and kinds[path] != "results":
                from .results import REQUIRED

                raise HopcapError(f"{path}: the batch's results file lacks results columns "
                                  f"(needs {', '.join(REQUIRED)})")
    return checks


def pending_trials(root: str | Path, profiles: list[str]) -> dict[str, int]:
    """For each profile with a capacity batch, the trials its batch would still measure in
    ``root/<profile>/`` (the reproduction estimate's own count; 0 when every trial is recorded)."""
    from .reproduce import estimate_batch, profile_studies

    root = Path(root)
    out = {}
    for profile in profiles:
        studies = profile_studies(profile)
        if studies:
            out[profile] = estimate_batch(studies, root / profile, root / profile).trials
    return out
