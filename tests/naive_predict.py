"""A slow, obviously-correct twin of the exact quantity of capacity_cli.predict (docs/theory.md
section 14 (1)-(2)): the probability that one unit of a stored pattern is unstable, by enumerating
every set of the other patterns and flipping the unit in the energy of tests/naive.py.

Nothing here uses the package. Energies are exact (Python ints / Fractions); exp flip gains are
netted per overlap value (exactly 0 when they cancel) and otherwise summed with 400 digits
(naive.flip_gain), far beyond the gap of any non-zero gain at the tiny N and P enumerated here.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np

try:  # tests/ as a package
    from . import naive
except ImportError:
    import naive


def unit_failure_enumerated(model, n: int, p: int) -> Fraction:
    """P(unit 0 of stored pattern nu is unstable) for P patterns i.i.d. uniform on {-1, 1}^N: the
    flip of unit 0 strictly lowers the energy, naive.flip_gain < 0 (a tie keeps the state).

    nu is the all-ones pattern, which loses nothing: multiplying every pattern unit-wise by xi_nu
    keeps every overlap with y = xi_nu and maps the uniform law to itself. The other P - 1 patterns
    run over every ordered choice of rows, enumerated as multisets weighted by their number of
    orderings (the energy is a sum over patterns, so it does not depend on their order)."""
    rows = np.array(list(itertools.product((-1, 1), repeat=n)), dtype=np.int64)
    nu = np.ones(n, dtype=np.int64)
    bad = 0
    for choice in itertools.combinations_with_replacement(range(len(rows)), p - 1):
        x = np.vstack([nu, rows[list(choice)]])
        if naive.flip_gain(model, x, nu, 0) < 0:
            orderings = math.factorial(p - 1)
            for count in Counter(choice).values():
                orderings //= math.factorial(count)
            bad += orderings
    return Fraction(bad, len(rows) ** (p - 1))
