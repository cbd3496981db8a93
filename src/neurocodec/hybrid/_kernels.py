"""Numba kernels of the hybrid codec: trough detection, the integer background, snippet windows.

Everything the decoder must reproduce (the full-rate background, the window taper, the quantiser)
is integer arithmetic on int64 level indices, so encoder and decoder agree bit for bit and the
results are the same with ``NUMBA_DISABLE_JIT=1``.  Only the detector works on floats: it runs on
the encoder alone, and its output (the trough times) is coded losslessly.
"""

from __future__ import annotations

import numba as nb
import numpy as np

#: Taper weights are in 1/256ths: the residual at the edge of a window fades to the background in
#: ``taper`` steps so the seam does not put a step (a spike-band transient) into the reconstruction.
TAPER_ONE = 256


@nb.njit(cache=True)
def detect_troughs(y, threshold, align, refractory):
    """Sample indices of negative threshold crossings of ``y``, each moved to its trough.

    A crossing is ``y[t] < -threshold`` after ``y[t-1] >= -threshold``; its trough is the minimum of
    ``y`` over the ``align`` samples from the crossing; no trough follows another within
    ``refractory`` samples.  Returns an int64 array, increasing.
    """
    n = y.shape[0]
    out = np.empty(n // max(refractory, 1) + 1, dtype=np.int64)
    count = 0
    last = -(1 << 62)
    t = 1
    while t < n:
        if y[t] < -threshold and y[t - 1] >= -threshold:
            best = t
            stop = min(n, t + align)
            for u in range(t + 1, stop):
                if y[u] < y[best]:
                    best = u
            if best - last > refractory:
                out[count] = best
                count += 1
                last = best
            t = max(stop, t + 1)
        else:
            t += 1
    return out[:count]


@nb.njit(cache=True)
def interpolate(points, factor, n, top, out):
    """Full-rate background from ``points`` (one every ``factor`` samples, in levels), linearly, rounded.

    ``out[t] = round((p[j] * (factor - f) + p[j + 1] * f) / factor)`` with ``t = j * factor + f``, in
    integers (round half up), clipped to ``[0, top]``; past the last point the last value holds.
    """
    m = points.shape[0]
    half = factor // 2
    for t in range(n):
        j = t // factor
        f = t - j * factor
        a = points[min(j, m - 1)]
        b = points[min(j + 1, m - 1)]
        v = (a * (factor - f) + b * f + half) // factor
        out[t] = min(max(v, 0), top)


@nb.njit(cache=True)
def window_mask(troughs, n, before, after, taper, weights):
    """Per-sample taper weight (0..TAPER_ONE) of the snippet windows of one channel, into ``weights``.

    Each trough ``s`` owns ``[s - before, s + after)`` at full weight; ``taper`` samples on either side
    ramp linearly down to the background.  Overlapping windows take the larger weight.
    """
    for i in range(troughs.shape[0]):
        s = troughs[i]
        lo = s - before - taper
        hi = s + after + taper
        for t in range(max(lo, 0), min(hi, n)):
            if t < s - before:
                w = (TAPER_ONE * (t - lo + 1)) // (taper + 1)
            elif t >= s + after:
                w = (TAPER_ONE * (hi - t)) // (taper + 1)
            else:
                w = TAPER_ONE
            if w > weights[t]:
                weights[t] = w


@nb.njit(inline="always", cache=True)
def _nearest_step(v, near, step):
    # the index q of the step 2 near + 1 multiple nearest v: |v - q * step| <= near
    return (v + near) // step if v >= 0 else -((near - v) // step)


@nb.njit(cache=True)
def quantise(residual, near):
    """Uniform mid-tread quantiser of step ``2 * near + 1``: every ``|r - q * step| <= near``."""
    step = 2 * near + 1
    out = np.empty(residual.shape[0], dtype=np.int64)
    for i in range(residual.shape[0]):
        out[i] = _nearest_step(residual[i], near, step)
    return out


#: Noise shaping of the snippet quantiser (payload version 2): the error of each sample is the
#: quantiser's own plus (SHAPING_TAPS . its last two) / 256, i.e. filtered by
#: 1 - 0.715 z^-1 + 0.559 z^-2, the two-tap filter of least power over 300-6000 Hz at 19531 Hz
#: (it moves the error to the band above 6 kHz, which the spike band leaves out).
SHAPING_TAPS = (-183, 143)


def shaped_bound(near: int) -> int:
    """The largest |error| of a noise-shaped sample quantised with bound ``near`` (its own plus the feedback)."""
    return near + ((abs(SHAPING_TAPS[0]) + abs(SHAPING_TAPS[1])) * near + 128) // 256


@nb.njit(cache=True)
def quantise_shaped(residual, times, near):
    """:func:`quantise` with error feedback: each sample is quantised after adding the shaped sum of the
    quantiser's errors on the two samples before it (``times``: each residual's time; the feedback
    restarts after a gap), so the reconstruction's error ``q * step - residual`` is that feedback plus
    the quantiser's own error, and stays within :func:`shaped_bound`."""
    step = 2 * near + 1
    a1, a2 = SHAPING_TAPS
    out = np.empty(residual.shape[0], dtype=np.int64)
    u1 = 0
    u2 = 0
    for i in range(residual.shape[0]):
        if i > 0 and times[i] != times[i - 1] + 1:
            u1 = 0
            u2 = 0
        v = residual[i] + ((a1 * u1 + a2 * u2 + 128) >> 8)
        q = _nearest_step(v, near, step)
        out[i] = q
        u2 = u1
        u1 = q * step - v
    return out


#: Changes :func:`steer_troughs` may make around one trough.
MAX_STEERS = 4


@nb.njit(cache=True)
def steer_troughs(levels, recon, background, qindex, values, troughs, tolerance, response, step, bound, top, reach):
    """Move shaped snippet samples by one step, within their bound, so each trough's band-passed error shrinks.

    The detector judges a spike by its band-passed trough, which sums the error of ~100 samples around
    it; the background replaces the original's noise outside the windows by its mean, so near the
    threshold a trough that noise helped deepen comes back shallower, and the spike is lost.  A shaped
    sample usually has two quantised values within ``bound`` of the original: for each trough ``s``
    (one channel; ``response``: the band-pass's impulse response, centred) whose error
    ``d = sum(response * (recon - levels))`` at ``s`` exceeds ``tolerance[i]``, this makes, up to
    :data:`MAX_STEERS` times, the change of one sample within ``reach`` of ``s`` that brings ``d``
    closest to zero, while that helps.  ``qindex[t]``: where sample ``t``'s value sits in ``values``
    (-1: not a shaped snippet sample).  Updates ``values`` and ``recon`` in place; the encoder alone
    runs it, the decoder only sees values.
    """
    n = levels.shape[0]
    half = response.shape[0] // 2
    for i in range(troughs.shape[0]):
        s = troughs[i]
        d = 0.0
        for u in range(max(0, s - half), min(n, s + half + 1)):
            d += response[s - u + half] * (recon[u] - levels[u])
        for _ in range(MAX_STEERS):
            if abs(d) <= tolerance[i]:
                break
            best_t = -1
            best_dir = 0
            best = abs(d)
            for t in range(max(0, s - reach), min(n, s + reach + 1)):
                j = qindex[t]
                if j < 0 or background[t] + values[j] * step != recon[t]:
                    continue  # not a shaped sample, or clipped to the level range
                g = step * response[s - t + half]
                for direction in (-1, 1):
                    v = recon[t] + direction * step
                    if abs(v - levels[t]) > bound or v < 0 or v > top:
                        continue
                    moved = abs(d + direction * g)
                    if moved < best:
                        best, best_t, best_dir = moved, t, direction
            if best_t < 0:
                break
            values[qindex[best_t]] += best_dir
            recon[best_t] += best_dir * step
            d += best_dir * step * response[s - best_t + half]


@nb.njit(cache=True)
def add_windows(levels, background, weights, values, near, taper_near, top):
    """Decoder's reconstruction of one channel: background plus tapered dequantised residuals.

    ``values`` holds the quantised residual of every sample with a non-zero weight, in time order:
    step ``2 * near + 1`` at full weight, ``2 * taper_near + 1`` in the tapers.  Returns how many
    values were used.
    """
    step = 2 * near + 1
    taper_step = 2 * taper_near + 1
    k = 0
    for t in range(levels.shape[0]):
        w = weights[t]
        v = background[t]
        if w > 0:
            r = values[k] * (step if w == TAPER_ONE else taper_step)
            k += 1
            if w == TAPER_ONE:
                v += r
            else:
                # round half away from zero, in integers
                p = r * w
                v += (p + TAPER_ONE // 2) // TAPER_ONE if p >= 0 else -((TAPER_ONE // 2 - p) // TAPER_ONE)
        levels[t] = min(max(v, 0), top)
    return k


@nb.njit(cache=True)
def window_energy(err, c, troughs, before, after):
    """Sum of ``err[t, c] ** 2`` over ``[s - before, s + after)`` of every trough ``s`` whose window lies inside
    the series (overlapping windows count once each, as the fidelity metric counts them)."""
    n = err.shape[0]
    total = 0.0
    for i in range(troughs.shape[0]):
        lo = troughs[i] - before
        hi = troughs[i] + after
        if lo < 0 or hi > n:
            continue
        for t in range(lo, hi):
            total += err[t, c] * err[t, c]
    return total


@nb.njit(cache=True)
def place_events(levels, troughs, amplitudes, shape, centre, baseline, top):
    """Events-only reconstruction of one channel: ``shape`` (in 1/256ths, trough at ``centre``) scaled by each
    event's amplitude and added to a flat ``baseline``; overlapping events add."""
    acc = np.zeros(levels.shape[0], dtype=np.int64)
    n = levels.shape[0]
    for i in range(troughs.shape[0]):
        s = troughs[i]
        a = amplitudes[i]
        for j in range(shape.shape[0]):
            t = s - centre + j
            if 0 <= t < n:
                acc[t] += a * shape[j]
    for t in range(n):
        p = acc[t]
        d = (p + 128) // 256 if p >= 0 else -((128 - p) // 256)
        levels[t] = min(max(baseline + d, 0), top)
