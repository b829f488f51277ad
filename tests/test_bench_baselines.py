"""The numpy baselines of benchmarks/ must find the same capacities as hopcap (small, fast case)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from capacity_cli.criteria import Stable
from capacity_cli.datasets import PatternSpec, PatternStream
from capacity_cli.models import BinaryDAM
from capacity_cli.search import capacity_of_sequence, largest_storable, make_checker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from baselines import blocked_checker, straightforward_checker  # noqa: E402

N = 32
P_LIMIT = 512


@pytest.mark.parametrize(("model", "n"), [
    (BinaryDAM("hebbian"), N),
    (BinaryDAM("poly", degree=3), N),
    (BinaryDAM("rectpoly", degree=3), N),
    (BinaryDAM("exp", beta=1.0), 16),  # at N=32 its capacity passes P_LIMIT
], ids=lambda v: v.label if isinstance(v, BinaryDAM) else f"N={v}")
def test_baselines_match_hopcap(model, n):
    for trial in range(3):
        x = np.array(PatternStream(PatternSpec(n), (7, trial)).take(P_LIMIT))
        ref = capacity_of_sequence(model, Stable(), lambda p, x=x: x[:p], n, P_LIMIT)
        assert not ref.capped and ref.p_max > 0
        blocked = largest_storable(blocked_checker(model, x, n, block=16), P_LIMIT)
        straight = largest_storable(straightforward_checker(model, x, n), P_LIMIT)
        assert blocked == ref, (trial, blocked, ref)
        assert straight == ref, (trial, straight, ref)


def test_checkers_agree_on_every_prefix():
    """Not only the search result: the stored/not-stored verdict of every prefix P <= 80."""
    model = BinaryDAM("poly", degree=3)
    x = np.array(PatternStream(PatternSpec(N), (7, 0)).take(80))
    blocked = blocked_checker(model, x, N, block=16)
    straight = straightforward_checker(model, x, N)
    hopcap = make_checker(model, Stable(), lambda p: x[:p], N, 80)
    verdicts = [hopcap(p) for p in range(1, 81)]  # increasing P, as the checker expects
    assert verdicts == [blocked(p) for p in range(1, 81)]
    assert verdicts == [straight(p) for p in range(1, 81)]
    assert True in verdicts and False in verdicts
