"""Numba compile settings and thread control, in one place.

Every kernel module takes its decorator options from here, so ``fastmath`` and caching are decided
once. ``HOPCAP_NUMBA_CACHE=0`` turns the on-disk cache off (useful when a read-only install or a
changed numba version makes the cache stale).

numba keys a cached kernel on its own file only, so a kernel that calls a function of another
kernel module (census -> dynamics) would load stale machine code after that other module changed
(seen as "NRT_adapt_ndarray_to_python: descr is NULL"). The cache therefore lives in a folder named
by a digest of every kernel module's source (``kernels/__pycache__/numba-<digest>``), unless the user
chose one with ``NUMBA_CACHE_DIR``: any change to any kernel starts a fresh cache.

Kernels run one parallel region per check. OpenMP workers that spin at the barrier slow everything
down when other processes share the cores (2-core machines are often busy), so the wait policy
defaults to passive here, before numba starts its OpenMP pool; set ``OMP_WAIT_POLICY`` to override.

Compiling the kernels takes tens of seconds per family (30-63 s for the first command of each on 2
cores). numba fires its compile event only when it compiles (a kernel loaded from the cache fires
none), so the first hopcap kernel compiled in a process says so, once, on the process's real stderr
(``sys.__stderr__``: never in a command's captured output or CSV): a fresh install, a changed kernel
or the first command of a family not yet cached. See :class:`CompileNotice`.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402  (after the wait policy, which OpenMP reads once at start)
import numba.core.event  # noqa: E402

CACHE = os.environ.get("HOPCAP_NUMBA_CACHE", "1") != "0"
KERNELS_DIR = Path(__file__).resolve().parent / "kernels"


def kernel_sources_digest(folder: Path = KERNELS_DIR) -> str:
    """SHA-1 (12 hex digits) of the kernel modules' sources and these compile settings."""
    digest = hashlib.sha1()
    for path in sorted(folder.glob("*.py")) + [Path(__file__).resolve()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


if CACHE and not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = str(KERNELS_DIR / "__pycache__" / f"numba-{kernel_sources_digest()}")

#: What is printed once when hopcap's kernels are compiled ({where}: the cache folder).
COMPILE_NOTICE = ("hopcap: compiling numba kernels for this machine (once: they are cached in {where})")


class CompileNotice(numba.core.event.Listener):
    """Says once per process, on ``sys.__stderr__``, that the kernels are being compiled, when the
    first hopcap kernel (a function of a ``capacity_cli`` module) compiles with the cache on (a
    cached kernel is loaded without a compile event). Compiles of other libraries' functions, and
    any compile after the first hopcap one, are not looked at."""

    def __init__(self) -> None:
        self.decided = False

    def on_start(self, event) -> None:
        if self.decided or not CACHE:
            return
        dispatcher = (event.data or {}).get("dispatcher")
        module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
        if not module.startswith(__package__ + "."):
            return
        self.decided = True
        if sys.__stderr__ is not None:
            print(COMPILE_NOTICE.format(where=numba.config.CACHE_DIR), file=sys.__stderr__, flush=True)

    def on_end(self, event) -> None:
        pass


numba.core.event.register("numba:compile", CompileNotice())

#: Options for serial kernels. fastmath stays off: tie decisions rely on IEEE arithmetic.
SERIAL = {"nogil": True, "cache": CACHE, "fastmath": False}
#: Options for kernels with a ``prange`` loop.
PARALLEL = {"nogil": True, "cache": CACHE, "fastmath": False, "parallel": True}


def max_threads() -> int:
    """The number of threads numba was started with (its ceiling for ``set_num_threads``)."""
    return int(numba.config.NUMBA_NUM_THREADS)


@contextmanager
def thread_count(threads: int | None) -> Iterator[int]:
    """Run the body with ``threads`` numba threads (``None``: all), restoring the previous count.

    Results never depend on the count: kernels write only their own output slots and reduce in a
    fixed order.
    """
    previous = numba.get_num_threads()
    wanted = max_threads() if threads is None else threads
    if wanted < 1:
        raise ValueError(f"threads must be >= 1, got {wanted}")
    numba.set_num_threads(min(wanted, max_threads()))
    try:
        yield numba.get_num_threads()
    finally:
        numba.set_num_threads(previous)
