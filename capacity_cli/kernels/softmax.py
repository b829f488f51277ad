"""The continuous modern Hopfield network's update, xi <- X^T softmax(beta X xi), for many states at once.

One update of B states is two dense products done by BLAS through numpy, S = states @ X^T (B x P)
and U = E @ X (B x N), with an in-place pass in between that turns each row of S into
E = exp(beta S - m) in place (m the row's largest beta S, so no term overflows: at beta = 100,
N = 1024 the scores reach 1e5 and every exponent is <= 0). The row sums z stay apart, so the new
state is U / z.

The pass is *online* (as in streaming softmax): a row may arrive in column chunks. It keeps the row's
running max m and sum z and returns the factor exp(m_old - m_new) by which the accumulators of the
earlier chunks must be rescaled. A capacity search uses this to extend the first update of the
prefix's old cues by the new patterns' columns only (see ``families.softmax.SoftmaxChecker``).

Cues are drawn per pattern from the splitmix64 stream of ``dynamics.stream_state(seed, index)``: the
+-1 flips are exactly those of the binary family's ``retrieve`` criterion; sphere cues add Gaussian
noise (Box-Muller from the same stream) of norm rho |x_i|. numba kernels do the fused per-row
passes (residual norms, sign checks, cues); every kernel treats rows independently, so results do
not depend on the thread count.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .._compile import PARALLEL, SERIAL
from .dynamics import flip_distinct, splitmix64_next, stream_state

#: Rows of states per block: memory of one block is O(BLOCK x P) scores.
BLOCK = 1024
_S11 = np.uint64(11)
_TWO_PI = 2.0 * math.pi


def softmax_extend(scores, beta, m, z, scale):
    """Turn each row i of ``scores`` (raw dot products of one column chunk) into
    exp(beta s - m_new) in place, where m_new = max(m[i], max_j beta s_ij); update m[i] and
    z[i] <- z[i] exp(m_old - m_new) + sum_j exp(...), and write scale[i] = exp(m_old - m_new)
    (0 when the row had no earlier chunk: m[i] = -inf). ``m``, ``z``, ``scale`` are float64.

    numpy, not numba: its vectorised exp is about 3 times faster than numba's scalar one (measured
    on 1024 x 4096 blocks), and exp dominates this pass.
    """
    top = scores.max(axis=1).astype(np.float64)
    top *= beta
    np.maximum(top, m, out=top)
    scores *= beta
    scores -= top[:, None]
    np.exp(scores, out=scores)
    sc = np.exp(m - top)  # exp(-inf) = 0 for a row without earlier chunk
    z *= sc
    z += scores.sum(axis=1, dtype=np.float64)
    m[:] = top
    scale[:] = sc


@njit(**PARALLEL)
def finish_rows(u, z, x, prev, state, err, moved):
    """state = u / z (the updated states); err[i] = |state_i - x_i| / |x_i| (relative error to the
    row's own pattern); moved[i] = |state_i - prev_i| / |prev_i| (size of this update)."""
    for i in prange(u.shape[0]):
        inv = 1.0 / z[i]
        d2 = 0.0
        x2 = 0.0
        s2 = 0.0
        p2 = 0.0
        for j in range(u.shape[1]):
            v = np.float64(u[i, j]) * inv
            state[i, j] = v
            d = v - np.float64(x[i, j])
            d2 += d * d
            x2 += np.float64(x[i, j]) * np.float64(x[i, j])
            s = v - np.float64(prev[i, j])
            s2 += s * s
            p2 += np.float64(prev[i, j]) * np.float64(prev[i, j])
        err[i] = math.sqrt(d2 / x2)
        moved[i] = math.sqrt(s2 / p2) if p2 > 0.0 else math.sqrt(s2)


@njit(**PARALLEL)
def sign_matches(state, x, ok):
    """ok[i]: every unit of state_i has the sign of x_i (+-1); a zero unit is a mismatch."""
    for i in prange(state.shape[0]):
        good = True
        for j in range(state.shape[1]):
            if not (np.float64(state[i, j]) * np.float64(x[i, j]) > 0.0):
                good = False
                break
        ok[i] = good


def update_block(states: np.ndarray, x: np.ndarray, beta: float,
                 values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One update of the rows of ``states`` (B x N) against all patterns ``x`` (P x N), same dtype.
    Returns (u, z) with u / z the new states (unnormalised, so callers can fuse the division).
    With ``values`` (P x N') the scores are taken against ``x`` (keys, e.g. features) and the new
    states are values^T softmax(beta keys states) (the kernelized model, docs/theory.md 10)."""
    scores = states @ x.T
    b = states.shape[0]
    m = np.full(b, -np.inf)
    z = np.zeros(b)
    scale = np.empty(b)
    softmax_extend(scores, beta, m, z, scale)
    return scores @ (x if values is None else values), z


def update(states: np.ndarray, x: np.ndarray, beta: float, block: int = BLOCK) -> np.ndarray:
    """xi <- X^T softmax(beta X xi) for every row of ``states``, in row blocks of ``block``."""
    out = np.empty_like(states)
    for a in range(0, states.shape[0], block):
        u, z = update_block(states[a:a + block], x, beta)
        out[a:a + block] = u / z[:, None]
    return out


@njit(inline="always", **SERIAL)
def _uniform53(state) -> float:
    return np.float64(splitmix64_next(state) >> _S11) * (1.0 / 9007199254740992.0)


@njit(**SERIAL)
def gaussian_vector(state, out) -> None:
    """Fill ``out`` with standard normals by Box-Muller on the splitmix64 stream ``state``
    (pairs (r cos t, r sin t), r = sqrt(-2 ln(1 - u1)), t = 2 pi u2)."""
    n = out.shape[0]
    j = 0
    while j < n:
        u1 = 1.0 - _uniform53(state)  # in (0, 1]
        u2 = _uniform53(state)
        r = math.sqrt(-2.0 * math.log(u1))
        out[j] = r * math.cos(_TWO_PI * u2)
        if j + 1 < n:
            out[j + 1] = r * math.sin(_TWO_PI * u2)
        j += 2


@njit(**SERIAL)
def pm1_cues(x, start, stop, n_flip, seed, out):
    """out[nu] = x[nu] with ``n_flip`` distinct units flipped, for start <= nu < stop; the flips
    are those of ``dynamics.relax_rows`` for the same (seed, nu)."""
    for nu in range(start, stop):
        state = stream_state(seed, nu)
        y = np.empty(x.shape[1], dtype=np.int64)
        for j in range(x.shape[1]):
            y[j] = 1 if x[nu, j] > 0 else -1
        flip_distinct(y, n_flip, state)
        for j in range(x.shape[1]):
            out[nu, j] = y[j]


@njit(**SERIAL)
def sphere_cues(x, start, stop, noise, seed, out):
    """out[nu] = x[nu] + g |x[nu]| noise / |g|, g a standard normal vector from the stream of
    (seed, nu): noise of norm noise |x_nu| in a uniformly random direction."""
    n = x.shape[1]
    g = np.empty(n)
    for nu in range(start, stop):
        state = stream_state(seed, nu)
        gaussian_vector(state, g)
        g2 = 0.0
        x2 = 0.0
        for j in range(n):
            g2 += g[j] * g[j]
            x2 += np.float64(x[nu, j]) * np.float64(x[nu, j])
        f = noise * math.sqrt(x2) / math.sqrt(g2)
        for j in range(n):
            out[nu, j] = np.float64(x[nu, j]) + f * g[j]
