"""Tidy CSV results: one row per trial, written atomically, resumable.

A configuration is identified by the columns in ``CONFIG_COLUMNS``; a rerun skips the trials of a
configuration that the file already holds, so an interrupted batch continues where it stopped.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .errors import HopcapError

CONFIG_COLUMNS = [
    "model", "degree", "beta", "n", "criterion", "noise", "min_overlap", "threshold", "max_sweeps",
    "bias", "correlation", "min_distance", "patterns", "patterns_sha1", "shuffle", "seed", "p_cap",
    "search", "set_size",
]
RESULT_COLUMNS = [
    "trial", "p_max", "capped", "min_degree", "checks", "achieved_min_distance", "achieved_correlation",
    "elapsed_s", "threads", "hopcap_version",
]
COLUMNS = CONFIG_COLUMNS + RESULT_COLUMNS
REQUIRED = ["model", "n", "criterion", "trial", "p_max"]


def is_blank(value) -> bool:
    """True for None, NaN and empty text: a column or option that does not apply."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def config_key(row: dict) -> tuple:
    """A hashable key for a configuration; blanks and NaNs compare equal, numbers by value."""
    key = []
    for col in CONFIG_COLUMNS:
        v = row.get(col)
        if is_blank(v):
            key.append(None)
        elif isinstance(v, bool):
            key.append(v)
        elif isinstance(v, numbers.Integral):  # exact at any size (seeds); 12 == 12.0, same hash
            key.append(int(v))
        else:
            try:
                key.append(float(v))
            except (TypeError, ValueError):
                key.append(str(v))
    return tuple(key)


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read one results CSV, checking that it has hopcap's columns."""
    path = Path(path)
    if not path.is_file():
        raise HopcapError(f"{path}: no such file")
    try:
        df = pd.read_csv(path)
    except Exception as err:
        raise HopcapError(f"{path}: not a readable CSV ({type(err).__name__}: {err})".splitlines()[0]) \
            from err
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise HopcapError(f"{path}: not a hopcap results file (missing columns: {', '.join(missing)})")
    trial = pd.to_numeric(df["trial"], errors="coerce")
    if trial.isna().any() or (trial % 1 != 0).any():
        raise HopcapError(f"{path}: column 'trial' must hold whole numbers")
    return df


def check_writable(path: str | os.PathLike) -> None:
    """Fail before any work when ``path`` cannot be written (a directory, or no write permission)."""
    path = Path(path)
    if path.is_dir():
        raise HopcapError(f"{path}: is a directory")
    folder = path.parent.resolve()
    while not folder.exists():
        folder = folder.parent
    if (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK):
        raise HopcapError(f"{path}: not writable")


def completed_trials(path: str | os.PathLike) -> dict[tuple, set[int]]:
    """Trials already in the file, per configuration key (empty when the file does not exist)."""
    if not Path(path).exists():
        return {}
    df = read_results(path)
    done: dict[tuple, set[int]] = {}
    for row in df.to_dict("records"):
        done.setdefault(config_key(row), set()).add(int(row["trial"]))
    return done


def append_rows(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    """Append rows to the CSV atomically (write a temporary file, then rename over the old one)."""
    rows = list(rows)
    if not rows:
        return
    path = Path(path)
    new = pd.DataFrame(rows, columns=COLUMNS)
    if path.exists():
        old = read_results(path)
        columns = list(old.columns) + [c for c in COLUMNS if c not in old.columns]
        frame = pd.concat([old.reindex(columns=columns), new.reindex(columns=columns)],
                          ignore_index=True)
    else:
        frame = new
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
