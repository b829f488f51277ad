"""Kernels of per-pattern outcomes and energy traces (docs/theory.md section 16).

:func:`recall_state` is the recall of one stored pattern exactly as the retrieve/overlap checkers
run it (:func:`capacity_cli.kernels.dynamics.relax_pattern`: the same cue from the stream (seed, nu),
the same sweep orders, the same exact decisions), keeping the final state. The dynamics are
:func:`capacity_cli.kernels.dynamics.relax` itself, so outcomes always agree with the checkers'
decisions. A trace replays the recall with the sweep cap set to 0, 1, ..., S: relax draws its sweep
orders from the stream in sweep order, so a run capped at k sweeps ends in the state after the
k-th sweep of the full run (O(S^2) sweeps for a recall of S sweeps, and no change to the dynamics).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .dynamics import flip_distinct, relax, stream_state


@njit(**SERIAL)
def recall_state(nu, x, xt, p, gain, field, exact, shiftable, table, ratio_form, forced, n_flip, seed,
                 max_sweeps, final, pending):
    """Relax pattern nu of the prefix p from its cue (round(noise N) flips from its own stream), as
    :func:`kernels.dynamics.relax_pattern` does; the final state goes to ``final`` (int8).
    Returns (sweeps run, converged, needs_exact); ``forced``/``pending`` as in relax."""
    state = stream_state(seed, nu)
    y = x[nu].astype(np.int64)
    flip_distinct(y, n_flip, state)
    _, used, done, needs = relax(y, xt, p, x.shape[1], gain, field, exact, shiftable, table, ratio_form,
                                 forced, state, max_sweeps, pending)
    for i in range(y.shape[0]):
        final[i] = y[i]
    return used, done, needs


@njit(**PARALLEL)
def recall_states(x, xt, p, gain, field, exact, shiftable, table, ratio_form, n_flip, seed, max_sweeps,
                  finals, sweeps, converged, needs_exact):
    """:func:`recall_state` for every pattern nu < p in parallel (each writes only its own row); a
    recall that needs a level-3 decision (kernels.exact) is marked in ``needs_exact`` for the caller
    to rerun with the exact signs."""
    none_forced = np.zeros(0, dtype=np.int8)
    for nu in prange(p):
        pending = np.zeros(x.shape[1] + 3, dtype=np.int64)
        used, done, needs = recall_state(nu, x, xt, p, gain, field, exact, shiftable, table, ratio_form,
                                         none_forced, n_flip, seed, max_sweeps, finals[nu], pending)
        sweeps[nu] = used
        converged[nu] = done
        needs_exact[nu] = needs


@njit(**SERIAL)
def trace_states(nu, x, xt, p, gain, field, exact, shiftable, table, ratio_form, forced, n_flip, seed,
                 sweeps, states):
    """The states of pattern nu's recall after 0 (the cue), 1, ..., ``sweeps`` sweeps into the rows
    of ``states`` (sweeps + 1, N) int8, each from a replay capped at that many sweeps. ``forced``:
    the exact signs the full recall used (a replay is a prefix of it, so it never needs more)."""
    pending = np.zeros(x.shape[1] + 3, dtype=np.int64)
    for k in range(sweeps + 1):
        recall_state(nu, x, xt, p, gain, field, exact, shiftable, table, ratio_form, forced, n_flip, seed,
                     k, states[k], pending)
