"""Hot loops of the real-time stream around the waveform coder: level mapping, the encoder's running
statistics and its causal LPC fit, and the decoder's mapping back to samples.

The residual coder itself is :func:`neurocodec.waveform._kernels.coder`, shared with the file codec;
nothing here touches the coded bits.  The statistics and the fit run on the encoder only (the
predictor travels in sync packets), but the golden packet streams pin the encoder too, so every sum
is an exact integer and the fit's float arithmetic runs in a fixed sequential order.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..waveform._kernels import levinson

#: Coefficients travel as int16: fractional bits are chosen so the largest fits.
COEF_LIMIT = (1 << 15) - 1
MAX_SHIFT = 14


@nb.njit(cache=True, nogil=True)
def frame_levels(frame, index, out):
    """``out[c, t] = index[frame[t, c] + 32768]`` (a (T, C) int16 frame to (C, T) levels).

    False as soon as a sample maps to -1 (off the stream's level map): the frame then goes raw.
    """
    n_t, n_ch = frame.shape
    for t in range(n_t):
        for c in range(n_ch):
            v = index[np.int64(frame[t, c]) + 32768]
            if v < 0:
                return False
            out[c, t] = v
    return True


@nb.njit(cache=True, nogil=True)
def frame_samples(levels, values, out):
    """``out[t, c] = values[levels[c, t]]``: decoded (C, T) levels back to a (T, C) int16 frame."""
    n_ch, n_t = levels.shape
    for t in range(n_t):
        for c in range(n_ch):
            out[t, c] = values[levels[c, t]]


@nb.njit(cache=True, nogil=True)
def observe(levels, tail, seen, sums, pairs):
    """Add one frame to the encoder's lagged sums.

    Per channel and lag ``i``, over the pairs ``(x[t], x[t - i])``: ``sums[c, 0, i]`` the products,
    ``sums[c, 1, i]`` the ``x[t]`` and ``sums[c, 2, i]`` the ``x[t - i]``; ``pairs[i]`` counts the
    pairs.  Centring them at fit time is exact (uncentred sums of levels near 512 lose the
    autocorrelation to the edges otherwise).  ``tail[c]`` holds the channel's last ``lags``
    levels (newest last) from earlier frames; pairs reaching before the first sample ever seen
    (``seen`` samples so far) do not exist.  Integer sums are exact; the caller halves them
    before they could overflow.
    """
    n_ch, n_t = levels.shape
    lags = tail.shape[1]
    for i in range(lags + 1):
        pairs[i] += max(0, min(n_t, seen + n_t - i))
    if seen >= lags and n_t >= lags:
        if lags <= 2:
            _observe_short(levels, tail, sums)
        else:
            _observe_steady(levels, tail, sums)
        return
    for c in range(n_ch):
        # 2-D indexing, not a row view: a view is reference-counted, 1024 times a packet
        for i in range(lags + 1):
            s = 0
            a = 0
            b = 0
            for t in range(i, n_t):
                s += levels[c, t] * levels[c, t - i]
                a += levels[c, t]
                b += levels[c, t - i]
            for t in range(max(0, i - seen), min(i, n_t)):
                y = tail[c, lags + t - i]
                s += levels[c, t] * y
                a += levels[c, t]
                b += y
            sums[c, 0, i] += s
            sums[c, 1, i] += a
            sums[c, 2, i] += b
        if n_t >= lags:
            for i in range(lags):
                tail[c, i] = levels[c, n_t - lags + i]
        else:
            for i in range(lags - n_t):
                tail[c, i] = tail[c, i + n_t]
            for i in range(n_t):
                tail[c, lags - n_t + i] = levels[c, i]


@nb.njit(cache=True, nogil=True)
def _observe_steady(levels, tail, sums):
    # observe once every lag has its full history (seen >= lags) and a frame is at least lags
    # long: every x[t] of the frame pairs at every lag, so the x[t] sums are the frame's total and
    # the x[t - i] sums that total less the frame's last i samples plus the tail's last i
    n_ch, n_t = levels.shape
    lags = tail.shape[1]
    for c in range(n_ch):
        total = 0
        for t in range(n_t):
            total += levels[c, t]
        b = total
        for i in range(lags + 1):
            s = 0
            for t in range(i, n_t):
                s += levels[c, t] * levels[c, t - i]
            for t in range(i):
                s += levels[c, t] * tail[c, lags + t - i]
            if i > 0:
                b += tail[c, lags - i] - levels[c, n_t - i]
            sums[c, 0, i] += s
            sums[c, 1, i] += total
            sums[c, 2, i] += b
        for i in range(lags):
            tail[c, i] = levels[c, n_t - lags + i]


@nb.njit(cache=True, nogil=True)
def _observe_short(levels, tail, sums):
    # _observe_steady for one or two lags (the fast preset's order), in one walk with the lagged
    # samples in registers: a third of the time of the general loops, which reread the frame per
    # lag (the encoder observes every frame, so this is a tenth of a 1024-channel packet's time)
    n_ch, n_t = levels.shape
    lags = tail.shape[1]
    for c in range(n_ch):
        p1 = tail[c, lags - 1]
        p2 = tail[c, 0]
        total = 0
        s0 = 0
        s1 = 0
        s2 = 0
        for t in range(n_t):
            x = levels[c, t]
            total += x
            s0 += x * x
            s1 += x * p1
            s2 += x * p2
            p2 = p1
            p1 = x
        # the x[t - i] sums: the frame's total less its last i samples plus the tail's last i
        b1 = total + tail[c, lags - 1] - levels[c, n_t - 1]
        sums[c, 0, 0] += s0
        sums[c, 1, 0] += total
        sums[c, 2, 0] += total
        sums[c, 0, 1] += s1
        sums[c, 1, 1] += total
        sums[c, 2, 1] += b1
        if lags == 2:
            sums[c, 0, 2] += s2
            sums[c, 1, 2] += total
            sums[c, 2, 2] += b1 + tail[c, 0] - levels[c, n_t - 2]
            tail[c, 0] = p2
        tail[c, lags - 1] = p1


@nb.njit(cache=True, nogil=True)
def fit(sums, pairs, max_order, top, coefs, orders, shifts, means):
    """Integer LPC per channel from the lagged sums of past samples (:func:`observe`).

    The file codec's Levinson-Durbin kernel under the rules of
    :func:`neurocodec.waveform.lossless.lpc` (order at most a quarter of the samples, a white-noise
    floor, no predictor when the recursion degenerates), with coefficients quantised to fit int16.  With no past samples (the first packet) every channel predicts its previous
    sample around the middle level.
    """
    n_ch = sums.shape[0]
    count = pairs[0]
    r = np.zeros(max_order + 1)
    for c in range(n_ch):
        coefs[c, :] = 0
        if count == 0:
            means[c] = top >> 1
            if max_order > 0:
                orders[c] = 1
                shifts[c] = MAX_SHIFT
                coefs[c, 0] = 1 << MAX_SHIFT
            else:
                orders[c] = 0
                shifts[c] = 0
            continue
        mu = (2 * sums[c, 1, 0] + count) // (2 * count)
        mu = min(max(mu, 0), top)
        means[c] = mu
        order = min(max_order, count // 4)
        while order > 0 and pairs[order] == 0:
            order -= 1
        orders[c] = 0
        shifts[c] = 0
        if order <= 0:
            continue
        # sum over the pairs of (x[t] - mu)(x[t - i] - mu), exact in integers
        for i in range(order + 1):
            r[i] = float(sums[c, 0, i] - mu * (sums[c, 1, i] + sums[c, 2, i]) + pairs[i] * mu * mu)
        if r[0] <= 0.0:
            continue
        r[0] *= 1.0 + 1e-6
        a = levinson(r, order)
        peak = 0.0
        for i in range(order):
            peak = max(peak, abs(a[i]))
        if not np.isfinite(peak) or peak * 4.0 >= COEF_LIMIT:
            continue
        shift = MAX_SHIFT
        while shift > 2 and peak * (1 << shift) >= COEF_LIMIT:
            shift -= 1
        for i in range(order):
            coefs[c, i] = np.int64(np.floor(a[i] * (1 << shift) + 0.5))
        orders[c] = order
        shifts[c] = shift
