"""Provenance: which code and which environment made a result file.

**Code version** (:func:`code_version`): the string every row carries in its ``hopcap_version``
cell (results, curve and prediction CSVs; the ``hopcap_version`` entry of ``hopcap gen`` files).
An editable install freezes the installed version at install time, so the revision is read at run
time, once per process: when the package's files are tracked by git, it is setuptools-scm's version
of HEAD (``0.1.dev190+g6ab8d5d``; after a tag ``v0.1.0``, ``0.1.1.dev12+g<sha>``; on the tag itself
``0.1.0``), with ``.dirty`` added when the package folder holds uncommitted changes
(``0.1.dev190+g6ab8d5d.dirty``); otherwise (an installed copy, or no git) the installed version
(:func:`installed_version`, which setuptools-scm derived from git when the wheel was built).

Nothing here imports numpy, numba or pandas, and nothing runs at ``import capacity_cli``.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: The installed version when no package metadata is found (a source tree outside git, not
#: installed).
UNKNOWN_VERSION = "0+unknown"


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


def scm_version(describe: str, dirty: bool, commits: int | None) -> str:
    """The setuptools-scm version (default schemes) of ``git describe --tags --long --always``
    output, with ``.dirty`` for uncommitted changes (setuptools-scm writes a date there); ``commits``
    (the number of commits) is the distance when there is no tag."""
    describe = describe.strip()
    found = re.fullmatch(r"(.+)-(\d+)-g([0-9a-f]+)", describe)
    if found:
        tag, distance, node = found.group(1), int(found.group(2)), found.group(3)
        tag = tag[1:] if tag[:1] in ("v", "V") and tag[1:2].isdigit() else tag
        if distance == 0 and not dirty:
            return tag
        public = f"{_next_release(tag)}.dev{distance}"
    else:  # no tag: setuptools-scm counts from 0.0
        node, public = describe, f"0.1.dev{commits or 0}"
    return f"{public}+g{node}" + (".dirty" if dirty else "")


def code_revision(package_dir: str | os.PathLike = PACKAGE_DIR) -> Revision:
    """The revision of the package in ``package_dir``: from git when its files are tracked there
    (dirty: uncommitted changes or new files under the package), else the installed version."""
    package_dir = Path(package_dir)
    tracked = _git(["ls-files", "--", "__init__.py"], package_dir)
    commit = _git(["rev-parse", "HEAD"], package_dir) if tracked and tracked.strip() else None
    describe = _git(["describe", "--tags", "--long", "--match", "*[0-9]*", "--always"], package_dir) \
        if commit else None
    if not commit or not describe:
        return Revision(installed_version())
    status = _git(["status", "--porcelain", "--", "."], package_dir)
    dirty = status is None or bool(status.strip())
    commits = None
    if not re.fullmatch(r".+-\d+-g[0-9a-f]+", describe.strip()):
        count = _git(["rev-list", "--count", "HEAD"], package_dir)
        commits = int(count) if count and count.strip().isdigit() else None
    return Revision(scm_version(describe, dirty, commits), commit.strip(), dirty, "git")


@functools.lru_cache(maxsize=1)
def current_revision() -> Revision:
    """:func:`code_revision` of this package, determined once per process."""
    return code_revision()


def code_version() -> str:
    """The string every result row carries in ``hopcap_version`` (see the module docstring)."""
    return current_revision().version
