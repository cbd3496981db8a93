"""Hot loops of the lossless waveform codec: prediction, context models and the coder loop.

One kernel, :func:`code_levels`, both encodes and decodes (``decode`` flag), so the two sides cannot
drift apart: every model sees the same context and is updated with the same bit in the same order.

Per sample, with ``pred`` the clamped LPC prediction of the level index and ``r = x - pred``:

1. zero flag ``r == 0``;
2. sign (skipped when ``pred`` sits on a boundary of the level range, where it is forced);
3. magnitude in unary, "stop at k?" for k = 1 .. ``kmax`` (skipped when the level it would land on
   is the last one in that direction), then an Exp-Golomb escape for the rest.

Each zero/stop decision lands on a definite level, ``pred + sign * k``.  Two models predict it: a
magnitude model (context: k and the recent residual size) and a level model (context: the absolute
level and the direction), which learns that some ADC codes are wider than others.  A logistic mixer
combines them, an APM refines the mix.  All arithmetic is integer.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..entropy.arith import decode_bit, decode_init, encode_bit, encode_flush, encode_init
from ..entropy.models import (
    SQUASH_TABLE,
    STRETCH_TABLE,
    adapt,
    adapt_counted,
    apm_predict,
    apm_update,
    counted_prob,
    mix_dot,
    mix_update,
    squash,
    stretch,
)

# Indices into the parameter vector the payload records (see lossless.py).
P_KMAX, P_MAG_SHIFT, P_LEVEL_LIMIT, P_MIX_RATE, P_APM_SHIFT, P_SMOOTH, P_MIXED = range(7)
N_PARAMS = 7

LEVEL_CONTEXTS = 1024  # levels are folded onto the 10-bit ADC codes
MAG_BUCKETS = 24
ESCAPE_BITS = 62  # an escape longer than this cannot come from int32 data: the stream is corrupt

STATUS_OK, STATUS_OUT_OF_RANGE = 0, 1


def _magnitude_buckets() -> np.ndarray:
    # roughly two buckets per octave of the smoothed |residual| (kept in 1/16 units)
    a = np.arange(4096)
    b = np.zeros(4096, dtype=np.int64)
    for v in range(1, 4096):
        n = int(v).bit_length()
        b[v] = 2 * n + ((v >> (n - 2)) & 1 if n >= 2 else 0)
    b = np.maximum(b - 6, 0)
    return np.minimum(b, MAG_BUCKETS - 1).astype(np.int64) + 0 * a


MAG_BUCKET_TABLE = _magnitude_buckets()


@nb.njit(inline="always", cache=True)
def _code(decode, bit, x1, x2, xc, buf, pos, end, p1):
    if decode:
        bit, x1, x2, xc, pos = decode_bit(x1, x2, xc, buf, pos, end, p1)
    else:
        x1, x2, pos = encode_bit(x1, x2, buf, pos, bit, p1)
    return bit, x1, x2, xc, pos


@nb.njit(cache=True)
def code_levels(levels, lo, hi, coefs, orders, shifts, means, level_prior, params, buf, start, end, decode):
    """Encode (``decode=False``) or decode the level series ``levels[c, :]`` of every channel.

    ``levels`` is read when encoding and filled when decoding; channel ``c`` takes values in
    ``[lo[c], hi[c]]`` and is predicted by ``coefs[c, :orders[c]]`` (fixed point, ``shifts[c]``
    fractional bits) around ``means[c]``.  The coded stream occupies ``buf[start:end]``.
    Returns ``(end position, status)``; an encoder whose buffer was too small gets a position past
    ``len(buf)``, a decoder that met an impossible value gets ``STATUS_OUT_OF_RANGE``.
    """
    n_ch, n_t = levels.shape
    kmax = params[P_KMAX]
    mag_shift = params[P_MAG_SHIFT]
    level_limit = params[P_LEVEL_LIMIT]
    mix_rate = params[P_MIX_RATE]
    apm_shift = params[P_APM_SHIFT]
    smooth = params[P_SMOOTH]
    mixed = params[P_MIXED] != 0

    n_k = kmax + 1
    mag = np.full(MAG_BUCKETS * n_k, 32768, dtype=np.int64)
    lvl = np.empty(LEVEL_CONTEXTS * 3, dtype=np.int64)
    for i in range(LEVEL_CONTEXTS * 3):
        lvl[i] = level_prior[i] << 8
    sgn = np.full(4 * 3 * 4, 32768, dtype=np.int64)
    esc = np.full(ESCAPE_BITS + 1, 32768, dtype=np.int64)
    weights = np.empty(n_k * 3, dtype=np.int64)
    for k in range(n_k):
        weights[3 * k] = 45000
        weights[3 * k + 1] = 25000
        weights[3 * k + 2] = 0
    apm = np.empty(n_k * 24, dtype=np.int64)
    inputs = np.zeros(3, dtype=np.int64)
    inputs[2] = 256
    for k in range(n_k * 24):
        d = ((k % 24) * 4096 + 11) // 23 - 2048
        apm[k] = squash(d, SQUASH_TABLE)

    if decode:
        x1, x2, xc, pos = decode_init(buf, start, end)
    else:
        x1, x2 = encode_init()
        xc = 0
        pos = start

    max_order = coefs.shape[1]
    hist = np.empty(n_t + max_order, dtype=np.int64)
    for ch in range(n_ch):
        order = orders[ch]
        shift = shifts[ch]
        mu = means[ch]
        lo_c = lo[ch]
        hi_c = hi[ch]
        half = (1 << shift) >> 1
        for i in range(max_order):
            hist[i] = 0
        avg = 16 * 4
        prev_neg = 0
        for t in range(n_t):
            h = t + max_order
            acc = half
            for i in range(order):
                acc += coefs[ch, i] * hist[h - 1 - i]
            pred = mu + (acc >> shift)
            frac = (acc >> (shift - 2)) & 3 if shift >= 2 else 2
            if pred < lo_c:
                pred = lo_c
            elif pred > hi_c:
                pred = hi_c
            if decode:
                r = 0
            else:
                r = levels[ch, t] - pred
            mb = MAG_BUCKET_TABLE[min(avg, 4095)]
            mrow = mb * n_k
            bit = 0
            # zero flag, landing on pred
            if lo_c == hi_c:
                bit = 1
            else:
                if not decode:
                    bit = 1 if r == 0 else 0
                pm = mag[mrow]
                if mixed:
                    li = (pred & (LEVEL_CONTEXTS - 1)) * 3
                    inputs[0] = stretch(pm, STRETCH_TABLE)
                    inputs[1] = stretch(counted_prob(lvl[li]), STRETCH_TABLE)
                    pmix = squash(mix_dot(weights, 0, inputs, 3), SQUASH_TABLE)
                    pa, ai, aw = apm_predict(apm, 0, stretch(pmix, STRETCH_TABLE))
                    p = (pmix + 3 * pa) >> 2
                    bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, p)
                    mix_update(weights, 0, inputs, 3, pmix, bit, mix_rate)
                    apm_update(apm, ai, aw, bit, apm_shift)
                    lvl[li] = adapt_counted(lvl[li], bit, level_limit)
                else:
                    bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, pm)
                mag[mrow] = adapt(pm, bit, mag_shift)
            if bit:
                r = 0
            else:
                # sign
                if pred == lo_c:
                    neg = 0
                elif pred == hi_c:
                    neg = 1
                else:
                    neg = 1 if r < 0 else 0
                    si = (min(mb >> 2, 3) * 3 + prev_neg) * 4 + frac
                    neg, x1, x2, xc, pos = _code(decode, neg, x1, x2, xc, buf, pos, end, sgn[si])
                    sgn[si] = adapt(sgn[si], neg, 5)
                s = -1 if neg else 1
                bound = lo_c if neg else hi_c
                target = r if r >= 0 else -r
                k = 1
                direction = 2 if neg else 1
                while True:
                    c = pred + s * k
                    if c == bound:
                        break
                    if k > kmax:
                        # Exp-Golomb escape of k - kmax - 1
                        e1 = target - k + 1
                        nbits = 0
                        while True:
                            if not decode:
                                bit = 1 if (e1 >> (nbits + 1)) == 0 else 0
                            bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, esc[nbits])
                            esc[nbits] = adapt(esc[nbits], bit, 4)
                            if bit:
                                break
                            nbits += 1
                            if nbits >= ESCAPE_BITS:
                                return pos, STATUS_OUT_OF_RANGE
                        value = 1
                        for i in range(nbits - 1, -1, -1):
                            if not decode:
                                bit = (e1 >> i) & 1
                            bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, 32768)
                            value = (value << 1) | bit
                        k += value - 1
                        break
                    if not decode:
                        bit = 1 if target == k else 0
                    pm = mag[mrow + k]
                    if mixed:
                        li = (c & (LEVEL_CONTEXTS - 1)) * 3 + direction
                        inputs[0] = stretch(pm, STRETCH_TABLE)
                        inputs[1] = stretch(counted_prob(lvl[li]), STRETCH_TABLE)
                        wb = 3 * k
                        pmix = squash(mix_dot(weights, wb, inputs, 3), SQUASH_TABLE)
                        pa, ai, aw = apm_predict(apm, k, stretch(pmix, STRETCH_TABLE))
                        p = (pmix + 3 * pa) >> 2
                        bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, p)
                        mix_update(weights, wb, inputs, 3, pmix, bit, mix_rate)
                        apm_update(apm, ai, aw, bit, apm_shift)
                        lvl[li] = adapt_counted(lvl[li], bit, level_limit)
                    else:
                        bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, pm)
                    mag[mrow + k] = adapt(pm, bit, mag_shift)
                    if bit:
                        break
                    k += 1
                r = s * k
                prev_neg = 1 + neg
            x = pred + r
            if decode:
                if x < lo_c or x > hi_c:
                    return pos, STATUS_OUT_OF_RANGE
                levels[ch, t] = x
            mag_r = r if r >= 0 else -r
            avg += ((mag_r << 4) - avg) >> smooth
            if r == 0:
                prev_neg = 0
            hist[h] = x - mu
    if not decode:
        pos = encode_flush(x1, x2, buf, pos)
    return pos, STATUS_OK
