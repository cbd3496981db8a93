"""Adaptive probability models for the binary coder: integers only, so every machine agrees.

Probabilities are 16-bit (``P(1) * 65536``).  The logistic domain ("stretch", ``ln(p/(1-p))``) is
kept in 1/256 units over [-2047, 2047], so a mixer can add evidence from several models and
:func:`squash` maps the sum back to a probability.  Both tables are built from integers alone:
``squash`` interpolates 33 knots, ``stretch`` is its inverse found by a monotone sweep, so the
encoder and the decoder build bit-identical tables on any platform.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .arith import P_MAX, P_MIN

# round(65536 / (1 + exp(-x / 256))) clamped to [1, 65535], for x = -2048, -1920, ..., 2048.
_SQUASH_KNOTS = np.array(
    [22, 36, 60, 98, 162, 267, 439, 720, 1179, 1921, 3108, 4971, 7812, 11955, 17625, 24743, 32768,
     40793, 47911, 53581, 57724, 60565, 62428, 63615, 64357, 64816, 65097, 65269, 65374, 65438,
     65476, 65500, 65514],
    dtype=np.int64,
)
STRETCH_LIMIT = 2047


def _build_squash() -> np.ndarray:
    d = np.arange(-STRETCH_LIMIT, STRETCH_LIMIT + 1, dtype=np.int64)
    i = (d + 2048) >> 7
    w = (d + 2048) & 127
    return (_SQUASH_KNOTS[i] * (128 - w) + _SQUASH_KNOTS[i + 1] * w + 64) >> 7


def _build_stretch(squash_table: np.ndarray) -> np.ndarray:
    # stretch(p) = the smallest d with squash(d) >= p, over 12-bit p (p16 >> 4)
    table = np.empty(4096, dtype=np.int64)
    d = -STRETCH_LIMIT
    for p12 in range(4096):
        target = p12 << 4
        while d < STRETCH_LIMIT and squash_table[d + STRETCH_LIMIT] < target:
            d += 1
        table[p12] = d
    return table


SQUASH_TABLE = _build_squash()
STRETCH_TABLE = _build_stretch(SQUASH_TABLE)


@nb.njit(inline="always", cache=True)
def nonneg(i):
    """Index ``i`` (the caller knows it is >= 0) as unsigned, so numba skips its negative-index fix-up.

    A signed index costs two or three instructions per access to wrap a negative value around;
    in a coder's inner loop that is a tenth of the work.
    """
    return np.uint64(i)


@nb.njit(inline="always", cache=True)
def squash(d, table):
    """Probability (16-bit) of logistic value ``d`` (1/256 units), clamped to the coder's range."""
    if d > STRETCH_LIMIT:
        d = STRETCH_LIMIT
    elif d < -STRETCH_LIMIT:
        d = -STRETCH_LIMIT
    return table[nonneg(d + STRETCH_LIMIT)]


@nb.njit(inline="always", cache=True)
def stretch(p16, table):
    """Logistic value of a 16-bit probability, in 1/256 units."""
    return table[nonneg(p16 >> 4)]


@nb.njit(inline="always", cache=True)
def clamp_prob(p16):
    """Clamp a probability into the range the coder accepts."""
    if p16 < P_MIN:
        return P_MIN
    if p16 > P_MAX:
        return P_MAX
    return p16


@nb.njit(inline="always", cache=True)
def adapt(p16, bit, shift):
    """Move ``p16`` a fraction ``2**-shift`` of the way towards the observed bit."""
    if bit:
        p16 += (65536 - p16) >> shift
    else:
        p16 -= p16 >> shift
    return clamp_prob(p16)


# 65536 * 2 / (2n + 3): the rate 1/(n + 1.5) as a multiplier, since a division costs ~10x more
_COUNTED_RATE = np.array([131072 // (2 * n + 3) for n in range(256)], dtype=np.int64)


@nb.njit(inline="always", cache=True)
def adapt_counted(state, bit, limit):
    """Adaptive-rate estimator packed in one integer: probability << 8 | count.

    Learns fast while few bits were seen (rate 1/(n+1.5)) and settles to rate ``1/limit`` after
    ``limit`` observations, which suits short recordings better than a fixed shift.  ``limit``
    must be below 255.  Start from ``initial_counted(p16)``.
    """
    p = state >> 8
    n = state & 0xFF
    target = 65536 if bit else 0
    p += ((target - p) * _COUNTED_RATE[n]) >> 16
    p = clamp_prob(p)
    if n < limit:
        n += 1
    return (p << 8) | n


@nb.njit(inline="always", cache=True)
def counted_prob(state):
    """The 16-bit probability held in an :func:`adapt_counted` state."""
    return state >> 8


def initial_counted(p16: int = 32768) -> int:
    """A fresh :func:`adapt_counted` state at probability ``p16``."""
    return int(p16) << 8


# --- Logistic mixing -------------------------------------------------------------------------
# A mixer combines the stretched predictions of several models with one weight vector per
# context (``weights[ctx * n : ctx * n + n]``).  Weights are 16.16 fixed point, so 65536 = 1.0;
# learning follows the coding-cost gradient, err * input, which is what makes the mix adapt to
# whichever model is sharper on the data at hand.

MIX_ONE = 1 << 16


@nb.njit(inline="always", cache=True)
def mix_dot(weights, base, inputs, n):
    """Mixed logistic value (1/256 units) of ``inputs[:n]`` under ``weights[base:base + n]``."""
    dot = 0
    for i in range(n):
        dot += inputs[i] * weights[nonneg(base + i)]
    return dot >> 16


@nb.njit(inline="always", cache=True)
def mix_dot2(weights, base, a, b):
    """:func:`mix_dot` of the two inputs ``(a, b)``: no inputs array, so no store and reload in a
    coder's critical path."""
    return (a * weights[nonneg(base)] + b * weights[nonneg(base + 1)]) >> 16


@nb.njit(inline="always", cache=True)
def mix_update(weights, base, inputs, n, p16, bit, rate):
    """Move the weights down the coding-cost gradient; ``rate`` ~ 1..64 (larger learns faster)."""
    err = ((bit << 16) - p16) * rate
    for i in range(n):
        weights[nonneg(base + i)] += (inputs[i] * err) >> 16


# --- Adaptive probability map (secondary estimation) -----------------------------------------
# An APM refines a probability given a small context: it keeps, per context, a piecewise-linear
# map over the stretched probability (24 knots) and learns the map from the coded bits.  It fixes
# systematic over/under-confidence of the primary model that depends on the context.

APM_KNOTS = 24


def initial_apm(n_contexts: int) -> np.ndarray:
    """An APM whose every context starts as the identity map."""
    knots = np.array(
        [SQUASH_TABLE[min(max((i * 4096 + 11) // 23 - 2048, -STRETCH_LIMIT), STRETCH_LIMIT) + STRETCH_LIMIT]
         for i in range(APM_KNOTS)],
        dtype=np.int64,
    )
    return np.tile(knots, n_contexts)


@nb.njit(inline="always", cache=True)
def apm_predict(table, ctx, st):
    """Refined probability for stretched input ``st`` in context ``ctx``; returns ``(p16, index, w)``.

    ``index`` and ``w`` (the interpolation weight, 0..4095) are what :func:`apm_update` needs.
    """
    if st > STRETCH_LIMIT:
        st = STRETCH_LIMIT
    elif st < -STRETCH_LIMIT:
        st = -STRETCH_LIMIT
    pos = (st + 2048) * 23
    w = pos & 4095
    index = (pos >> 12) + ctx * APM_KNOTS
    p = (table[nonneg(index)] * (4096 - w) + table[nonneg(index + 1)] * w) >> 12
    return clamp_prob(p), index, w


@nb.njit(inline="always", cache=True)
def apm_update(table, index, w, bit, shift):
    """Pull the two knots around the last input towards ``bit``, each by its interpolation share."""
    target = 65535 if bit else 0
    lo, hi = nonneg(index), nonneg(index + 1)
    table[lo] += ((target - table[lo]) * (4096 - w)) >> (shift + 12)
    table[hi] += ((target - table[hi]) * w) >> (shift + 12)
