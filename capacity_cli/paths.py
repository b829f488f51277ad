"""What a file option may name: regular files only. The one check of every file hopcap reads or writes.

An input path must be a regular file (or a link to one); a missing one is left to the reader, which
says "no such file". An output path must not exist yet or be a regular file. Refused with one line,
before any work: directories, FIFOs (opening one for reading blocks until a writer comes, and
writing one blocks until a reader does), devices, sockets, and dangling symbolic links (a write
would create the link's target wherever it points). Kept free of numpy: the option types use it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import HopcapError

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def file_problem(path: str | os.PathLike, write: bool = False) -> str | None:
    """Why ``path`` cannot be read (``write`` False) or written as a regular file, in a few words;
    None when it can be tried (a regular file, or a path that does not exist: a reader then says
    there is no such file, a writer creates it)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode  # follows links
    except FileNotFoundError:
        if os.path.islink(path):
            return f"a dangling symbolic link (to {os.readlink(path)})"
        return None
    except NotADirectoryError:
        return "a folder on its path is a file"
    except OSError as err:
        return err.strerror or str(err)
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"{kind}, not a regular file" if kind != "not a regular file" else kind


def check_file(path: str | os.PathLike, write: bool = False) -> None:
    """Raise a one-line HopcapError naming ``path`` when :func:`file_problem` finds one; for a
    ``write``, also when the file or the folder it would be created in is not writable."""
    problem = file_problem(path, write)
    if problem:
        raise HopcapError(f"{path}: {problem}")
    if not write:
        return
    path = Path(path)
    folder = path.parent.resolve()
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise HopcapError(f"{path}: {folder} is not a folder")
    if (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK):
        raise HopcapError(f"{path}: not writable")
