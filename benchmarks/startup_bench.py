"""Whole-process start-up time of the hopcap command line (issue 14, "fast start").

Times, as separate processes, ``hopcap --help`` and a one-trial ``hopcap measure --model hebbian
--n 200 --trials 1`` against the floor of any Python tool built on numpy (``python -c "import
numpy"``), and reports wall time and CPU time (user + sys of the child): on a shared machine the
wall time grows with the load, the CPU time much less. Each command runs ``--repeats`` times with a
warm numba cache (the first run of a fresh install compiles the kernels once; that cold run is
timed separately, in a throw-away cache folder). It also lists which heavy libraries each command
imported (``python -X importtime``): none of pandas, matplotlib, scikit-learn, galois should be
there, and scipy only through numba's BLAS check.

    python benchmarks/startup_bench.py [--repeats 5] [--no-cold]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("pandas", "matplotlib", "sklearn", "scipy", "galois", "tqdm", "numba")
MEASURE = ["measure", "--model", "hebbian", "--n", "200", "--trials", "1", "--no-progress"]


def hopcap() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m capacity_cli.cli``."""
    script = Path(sys.executable).with_name("hopcap")
    return [str(script)] if script.exists() else [sys.executable, "-m", "capacity_cli.cli"]


def timed(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds user + sys) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_imports(args: list[str]) -> list[str]:
    """The HEAVY top-level packages a hopcap command imports (python -X importtime)."""
    code = f"import sys; from capacity_cli.cli import main; main({args!r})"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:")}
    return [h for h in HEAVY if h in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-cache (compiling) run")
    args = parser.parse_args()
    cases = [("python -c 'import numpy' (floor)", [sys.executable, "-c", "import numpy"]),
             ("hopcap --help", [*hopcap(), "--help"]),
             ("hopcap " + " ".join(MEASURE[:-1]), [*hopcap(), *MEASURE])]
    timed(cases[2][1])  # fills the numba cache if this install has not run yet
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; median of "
          f"{args.repeats} runs, warm numba cache")
    print(f"{'command':<58} {'wall s':>7} {'cpu s':>7} {'cpu / floor':>11}")
    floor = None
    for name, argv in cases:
        runs = [timed(argv) for _ in range(args.repeats)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        floor = floor or cpu
        print(f"{name:<58} {wall:>7.3f} {cpu:>7.3f} {cpu / floor:>11.1f}")
    if not args.no_cold:
        cache = tempfile.mkdtemp(prefix="hopcap-cold-cache-")
        try:
            wall, cpu = timed(cases[2][1], env={**os.environ, "NUMBA_CACHE_DIR": cache})
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        print(f"{'the same measure, cold cache (first run: compiles)':<58} {wall:>7.3f} {cpu:>7.3f}")
    for name, argv in (("--help", ["--help"]), ("measure", MEASURE)):
        try:
            found = heavy_imports(argv)
        except SystemExit:
            found = ["(failed)"]
        print(f"heavy imports of hopcap {name}: {', '.join(found) or 'none'}")


if __name__ == "__main__":
    main()
