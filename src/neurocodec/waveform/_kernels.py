"""Hot loops of the lossless waveform codec: prediction, context models and the coder loop.

One kernel source, :func:`coder`, both encodes and decodes (compiled once each way), so the two sides cannot
drift apart: every model sees the same context and is updated with the same bit in the same order.

Per sample, with ``pred`` the clamped LPC prediction of the level index and ``r = x - pred``:

1. zero flag ``|r| <= 0``;
2. sign (skipped when ``pred`` sits on a boundary of the level range, where it is forced);
3. magnitude: "|r| <= top?" for the tops of successive groups of ``2**g`` levels, at most ``KMAX``
   of them before an Exp-Golomb escape.  ``max`` uses single levels (plain unary); ``fast`` lets
   ``g`` grow with the recent residual size and writes the sign and the offset inside the last
   group to a separate raw bit stream, which costs far less time than coding them.  A decision
   whose answer the level range forces is skipped.

Every decision asks whether the value lies at or below a threshold level, ``pred + sign * top``.
Its probability adds a magnitude model (context: the decision's slot and the smoothed recent
|residual|) and a bias per threshold level and direction, which learns that the ADC's codes have
unequal widths (some are never used).  ``max`` keeps the magnitude model as an adaptive counter,
scales it per slot with fixed weights and refines the sum with an APM per slot; ``fast`` learns
both terms as one logistic model.  All arithmetic is integer.
"""

from __future__ import annotations

import functools

import numba as nb
import numpy as np

from ..entropy.arith import (
    decode_bit,
    decode_init,
    encode_bit,
    encode_flush,
    encode_init,
)
from ..entropy.bitio import pack_bits, pack_flush, unpack_bits
from ..entropy.models import (
    APM_KNOTS,
    SQUASH_TABLE,
    STRETCH_TABLE,
    adapt,
    apm_predict,
    apm_update,
    initial_apm,
    mix_dot2,
    mix_update,
    nonneg,
    squash,
    stretch,
)

# Indices into a parameter set (see lossless.PARAM_SETS).
P_MAG_RATE, P_APM_SHIFT, P_SMOOTH, P_MIXED, P_BIAS_RATE, P_GROUP = range(6)
N_PARAMS = 6

KMAX = 20  # unary steps (over single levels or groups) before the escape
N_STEPS = KMAX + 1  # magnitude-model slots: zero flag, KMAX unary steps
LEVEL_CONTEXTS = 1024  # levels are folded onto the 10-bit ADC codes
MAG_BUCKETS = 24
SIGN_CONTEXTS = 4 * 3 * 4
ESCAPE_BITS = 62  # an escape longer than this cannot come from int32 data: the stream is corrupt
N_INPUTS = 2  # stretched magnitude model, constant
CONSTANT_INPUT = 256
MAX_GROUP_BITS = 15  # in-group offsets of the fast models go raw: at most this many bits a sample

# All adaptive state lives in one int64 vector, so a codec starts every payload from a copy of a
# prior (learned offline, see benchmarks/crossval_waveform.py) and a study can read it back.
MAG_AT = 0  # magnitude model per (bucket, slot): p16 (mixed) or logistic value << 8 (fast)
BIAS_AT = MAG_AT + MAG_BUCKETS * N_STEPS  # per (level, direction) logistic offset << 8
SIGN_AT = BIAS_AT + 3 * LEVEL_CONTEXTS
ESCAPE_AT = SIGN_AT + SIGN_CONTEXTS
MIX_AT = ESCAPE_AT + ESCAPE_BITS + 1  # N_INPUTS weights per slot
APM_AT = MIX_AT + N_INPUTS * N_STEPS  # APM_KNOTS per slot
MODEL_SIZE = APM_AT + APM_KNOTS * N_STEPS

STATUS_OK, STATUS_OUT_OF_RANGE, STATUS_TRUNCATED = 0, 1, 2
HISTORY_WINDOW = 4096

# Per-channel state after the history (see new_state): smoothed |residual| in 1/16 units, last sign.
STATE_AVG, STATE_NEG = 0, 1
STATE_EXTRA = 2
AVG_START = 16 * 4
FIT_MIX_RATE = 1


def _magnitude_buckets() -> np.ndarray:
    # two buckets per octave of the smoothed |residual| (kept in 1/16 units)
    b = np.zeros(4096, dtype=np.int64)
    for v in range(1, 4096):
        n = v.bit_length()
        b[v] = 2 * n + ((v >> (n - 2)) & 1 if n >= 2 else 0)
    return np.minimum(np.maximum(b - 6, 0), MAG_BUCKETS - 1)


MAG_BUCKET_TABLE = _magnitude_buckets()


def initial_model(mixed: bool) -> np.ndarray:
    """The uninformed prior: even odds everywhere, mixer trusting the magnitude model, identity APMs."""
    model = np.zeros(MODEL_SIZE, dtype=np.int64)
    model[MAG_AT:BIAS_AT] = 32768 if mixed else 0
    model[ESCAPE_AT:MIX_AT] = 32768
    model[MIX_AT:APM_AT] = np.tile([65536, 0], N_STEPS)
    model[APM_AT:MODEL_SIZE] = initial_apm(N_STEPS)
    return model


@nb.njit(inline="always", cache=True)
def _code(decode, bit, x1, x2, xc, buf, pos, end, p1):
    if decode:
        bit, x1, x2, xc, pos = decode_bit(x1, x2, xc, buf, pos, end, p1)
    else:
        x1, x2, pos = encode_bit(x1, x2, buf, pos, bit, p1)
    return bit, x1, x2, xc, pos


@nb.njit(inline="always", cache=True)
def _decide(mixed, fit_mixer, decode, bit, x1, x2, xc, buf, pos, end, model, apm, inputs, rates, mi, slot, li):
    """Code one "magnitude <= threshold?" decision: ``mi`` magnitude slot, ``li`` level context.

    Mixed: the magnitude counter, stretched and weighted per slot, plus the level bias, refined by
    an APM per slot.  Fast: a logistic model, magnitude value plus level bias, both learned by the
    coding-cost gradient.  ``rates``: (magnitude rate, APM rate, bias rate).
    """
    mag_rate, apm_shift, bias_rate = rates
    mi = nonneg(MAG_AT + mi)
    li = nonneg(BIAS_AT + li)
    if mixed:
        pm = model[mi]
        wb = MIX_AT + N_INPUTS * slot
        st = stretch(pm, STRETCH_TABLE)
        dot = mix_dot2(model, wb, st, CONSTANT_INPUT) + (model[li] >> 8)
        pmix = squash(dot, SQUASH_TABLE)
        pa, ai, aw = apm_predict(apm, slot, dot)
        bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, (pmix + pa) >> 1)
        if fit_mixer:
            inputs[0] = st
            mix_update(model, wb, inputs, N_INPUTS, pmix, bit, FIT_MIX_RATE)
        model[li] += (((bit << 16) - pmix) * bias_rate) >> 8
        apm_update(apm, ai, aw, bit, apm_shift)
        model[mi] = adapt(pm, bit, mag_rate)
    else:
        p = squash((model[mi] + model[li]) >> 8, SQUASH_TABLE)
        bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, p)
        err = (bit << 16) - p
        model[li] += (err * bias_rate) >> 8
        model[mi] += (err * mag_rate) >> 8
    return bit, x1, x2, xc, pos


def new_state(n_ch: int, max_order: int) -> np.ndarray:
    """The per-channel coding state a series starts from: history at the mean, the residual average's start."""
    state = np.zeros((n_ch, max_order + STATE_EXTRA), dtype=np.int64)
    state[:, max_order + STATE_AVG] = AVG_START
    return state


@functools.cache
def coder(mixed: bool, decode: bool, fit_mixer: bool = False, bounded: bool = False, cached: bool = True):
    """The kernel that encodes (or decodes) with the mixed models (``max``) or the fast ones.

    The switches are compile-time constants of each kernel, so the hot loop carries no tests of
    them: ``bounded`` kernels code near-lossless series, the others only ``near = 0`` (they return
    ``STATUS_OUT_OF_RANGE`` for any other), and leave the quantiser's arithmetic out of the loop.
    ``cached=False`` compiles afresh instead of loading numba's on-disk cache: what the
    ahead-of-time build needs, since kernels cached by different processes may carry the same
    symbol name (these closures share one), and linked into one library one would replace another.  ``fit_mixer`` lets the mixer weights learn: what benchmarks/crossval_waveform.py fits
    priors with (a codec never does: weights fitted offline code short recordings better).
    The kernel releases the GIL, so threads can code independent payloads side by side.
    """

    @nb.njit(cache=cached, nogil=True)
    def code_levels(levels, lo, hi, coefs, orders, shifts, means, near, model, params, buf, start, end, raw,
                    state):
        """Encode or decode the level series ``levels[c, :]`` of every channel, channel after channel.

        ``levels`` is read when encoding and filled when decoding; channel ``c`` takes values in
        ``[lo[c], hi[c]]`` and is predicted by ``coefs[c, :orders[c]]`` (fixed point, ``shifts[c]``
        fractional bits) around ``means[c]``.  ``near`` bounds the error: the residual is quantised
        with step ``2 * near + 1`` and the prediction runs on reconstructed levels, which the encoder
        writes back into ``levels`` (``near = 0`` is lossless).  ``model`` (``MODEL_SIZE``, see
        ``*_AT``) holds every adaptive table and ``state`` (``new_state``) each channel's history and
        residual average; both are updated in place, so a caller that codes a series in pieces (the
        real-time stream) passes them on from piece to piece.  The coded stream occupies
        ``buf[start:end]``; the fast models also write (read) raw bits to ``raw``, which must not be
        empty and, for the decoder, must end in a zero byte after the raw bits (``bitio.unpack_bits``
        reads it for every byte past the end).  Returns ``(end position, raw bits, status)``; an encoder whose
        buffers were too small gets positions past their ends, a decoder that met an impossible value
        gets ``STATUS_OUT_OF_RANGE``.
        """
        n_ch, n_t = levels.shape
        if not bounded:
            if near != 0:
                return start, 0, STATUS_OUT_OF_RANGE
            near = 0
        smooth = params[P_SMOOTH]
        group_base = params[P_GROUP]
        rates = (params[P_MAG_RATE], params[P_APM_SHIFT], params[P_BIAS_RATE])
        apm = model[APM_AT:]  # one view for the whole call, not one a decision
        step = 2 * near + 1
        inputs = np.zeros(N_INPUTS, dtype=np.int64)
        inputs[N_INPUTS - 1] = CONSTANT_INPUT
        if decode:
            x1, x2, xc, pos = decode_init(buf, start, end)
        else:
            x1, x2 = encode_init()
            xc = 0
            pos = start

        # raw bits through an accumulator: byte position, pending bits, how many
        rpos = 0
        racc = 0
        rcount = 0
        max_order = coefs.shape[1]
        # a window of the history, slid when full: memory stays small whatever the series length
        hist = np.empty(HISTORY_WINDOW + max_order, dtype=np.int64)
        for ch in range(n_ch):
            # element loops, not slices: a slice is an array view numba reference-counts, per channel
            # (the stream codes 1024 channels of 20 samples a packet)
            for i in range(max_order):
                hist[i] = state[ch, i]
            h = max_order
            avg = state[ch, max_order + STATE_AVG]
            prev_neg = state[ch, max_order + STATE_NEG]
            order = orders[ch]
            shift = shifts[ch]
            mu = means[ch]
            lo_c = lo[ch]
            hi_c = hi[ch]
            half = (1 << shift) >> 1
            for t in range(n_t):
                if decode and pos > end:
                    # the payload ran out: stop now, not after the samples it claims to hold
                    return pos, 8 * rpos - rcount, STATUS_TRUNCATED
                if h == hist.shape[0]:
                    for i in range(max_order):
                        hist[i] = hist[h - max_order + i]
                    h = max_order
                acc = half
                # the fast orders (file 1, stream 2) without a loop
                if order == 1:
                    acc += coefs[ch, 0] * hist[nonneg(h - 1)]
                elif order == 2:
                    acc += coefs[ch, 0] * hist[nonneg(h - 1)] + coefs[ch, 1] * hist[nonneg(h - 2)]
                else:
                    for i in range(order):
                        acc += coefs[ch, i] * hist[nonneg(h - 1 - i)]
                pred = mu + (acc >> shift)
                if pred < lo_c:
                    pred = lo_c
                elif pred > hi_c:
                    pred = hi_c
                # the largest quantised step each way that still reconstructs inside the range
                if near:
                    up = (hi_c - pred + near) // step
                    down = (pred - lo_c + near) // step
                else:
                    up = hi_c - pred
                    down = pred - lo_c
                target = 0
                if not decode:
                    target = levels[ch, t] - pred
                    if near:
                        target = (target + near) // step if target >= 0 else -((near - target) // step)
                mb = MAG_BUCKET_TABLE[nonneg(min(avg, 4095))]  # avg >= 0: a mean of magnitudes
                mrow = mb * N_STEPS
                bit = 1
                # zero flag: "|r| <= 0", landing on pred
                if up + down > 0:
                    if not decode:
                        bit = 1 if target == 0 else 0
                    li = (pred & (LEVEL_CONTEXTS - 1)) * 3
                    bit, x1, x2, xc, pos = _decide(mixed, fit_mixer, decode, bit, x1, x2, xc, buf, pos, end,
                                                   model, apm, inputs, rates, mrow, 0, li)
                r = 0
                if not bit:
                    # the group size: one level (plain unary) for max; for fast it grows with the recent
                    # residual size, and the offset inside the last group goes raw, after the sign
                    g = 0 if group_base == 0 else min(max((mb - group_base) >> 1, 0), MAX_GROUP_BITS)
                    forced = up == 0 or down == 0
                    n_raw = 0 if mixed else g + (0 if forced else 1)
                    neg = 1 if (target < 0 or up == 0) else 0
                    offset = 0
                    if mixed:
                        if not forced:
                            # where the unrounded prediction fell within its level hints at the sign
                            frac = (acc >> (shift - 2)) & 3 if shift >= 2 else 2
                            si = SIGN_AT + (min(mb >> 2, 3) * 3 + prev_neg) * 4 + frac
                            p_neg = squash(model[si] >> 8, SQUASH_TABLE)
                            neg, x1, x2, xc, pos = _code(decode, neg, x1, x2, xc, buf, pos, end, p_neg)
                            model[si] += ((neg << 16) - p_neg) * 4 >> 8
                    elif decode:
                        # the encoder writes these bits after the groups; the raw stream has no other use
                        # between the two points, so the decoder may read them first
                        value, rpos, racc, rcount = unpack_bits(raw, rpos, racc, rcount, n_raw)
                        offset = value & ((1 << g) - 1)
                        if not forced:
                            neg = value >> g
                    s = -1 if neg else 1
                    direction = 2 if neg else 1
                    m = -target if neg else target
                    m_max = down if neg else up
                    # |r| in [a, b]: unary over groups of 2**g steps; each decision asks "|r| <= top?"
                    # and its level context is the level at the top of the group
                    a = 1
                    b = m_max
                    for j in range(1, KMAX + 1):
                        top = a + (1 << g) - 1
                        if top >= m_max:
                            break
                        if not decode:
                            bit = 1 if m <= top else 0
                        li = ((pred + s * (top * step + near)) & (LEVEL_CONTEXTS - 1)) * 3 + direction
                        bit, x1, x2, xc, pos = _decide(mixed, fit_mixer, decode, bit, x1, x2, xc, buf, pos, end,
                                                       model, apm, inputs, rates, mrow + j, j, li)
                        if bit:
                            b = top
                            break
                        a = top + 1
                    else:
                        # Exp-Golomb escape of m - a
                        e1 = m - a + 1
                        nbits = 0
                        while True:
                            if not decode:
                                bit = 1 if (e1 >> (nbits + 1)) == 0 else 0
                            ei = ESCAPE_AT + nbits
                            bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, model[ei])
                            model[ei] = adapt(model[ei], bit, 4)
                            if bit:
                                break
                            nbits += 1
                            if nbits >= ESCAPE_BITS:
                                return pos, 8 * rpos - rcount, STATUS_OUT_OF_RANGE
                        value = 1
                        for i in range(nbits - 1, -1, -1):
                            if not decode:
                                bit = (e1 >> i) & 1
                            bit, x1, x2, xc, pos = _code(decode, bit, x1, x2, xc, buf, pos, end, 32768)
                            value = (value << 1) | bit
                        a += value - 1
                        b = a
                    if decode:
                        a += offset
                        if a > b or a > m_max:
                            return pos, 8 * rpos - rcount, STATUS_OUT_OF_RANGE
                    elif n_raw:
                        rpos, racc, rcount = pack_bits(raw, rpos, racc, rcount,
                                                       ((neg << g) | (m - a)) if not forced else m - a, n_raw)
                        a = m
                    r = s * a
                    prev_neg = 1 + neg
                else:
                    prev_neg = 0
                # the encoder knows the sample: taking it from the input, not from the decisions, lets
                # the next sample's prediction start while this one's bits are still being coded
                x = levels[ch, t] if not decode and not near else pred + r * step
                if near:
                    # a step past the range's edge reconstructs on the edge, still within near of the sample
                    x = min(max(x, lo_c), hi_c)
                    levels[ch, t] = x
                elif decode:
                    levels[ch, t] = x
                if not decode and not near:
                    r = target
                avg += (((r if r >= 0 else -r) << 4) - avg) >> smooth
                hist[nonneg(h)] = x - mu
                h += 1
            for i in range(max_order):
                state[ch, i] = hist[h - max_order + i]
            state[ch, max_order + STATE_AVG] = avg
            state[ch, max_order + STATE_NEG] = prev_neg
        if decode:
            return pos, 8 * rpos - rcount, STATUS_OK
        return encode_flush(x1, x2, buf, pos), pack_flush(raw, rpos, racc, rcount), STATUS_OK

    return code_levels


LPC_MAX_COEF = 1 << 16  # largest |coefficient| a payload may hold (lossless.MAX_COEF)
#: A channel codes its difference to the previous one when that leaves < 80 % of the prediction
#: error energy, judged at order CROSS_ORDER (a cheap proxy: three lags instead of a full fit).
CROSS_GAIN = 0.8
CROSS_ORDER = 2


@nb.njit(cache=True, nogil=True)
def _mean_level(series):
    n_t = series.shape[0]
    total = 0
    for t in range(n_t):
        total += series[t]
    return np.int64(np.rint(total / n_t))


@nb.njit(cache=True, nogil=True)
def fit_lpc(series, order, near, out):
    """Integer LPC of ``series``: ``(mean, shift, order, energy)``, the coefficients in ``out[:order]``.

    The order may come out lower (0 for short or degenerate series).  ``near``: the coefficients
    will run on reconstructions within +-near of the series, whose error (uniform over 2 near + 1
    levels) adds its variance to the lag-0 term.  ``energy`` is the recursion's prediction error
    at order ``min(order, CROSS_ORDER)``, what the cross-channel choice compares.  Encoder side only.
    """
    n_t = series.shape[0]
    if n_t == 0:
        return 0, 0, 0, 0.0
    mu = _mean_level(series)
    order = min(order, n_t // 4)
    if order <= 0:
        return mu, 0, 0, 0.0
    return _fit_autocorrelation(mu, autocorrelation(series, mu, order), n_t, order, near, out)


@nb.njit(cache=True, nogil=True)
def _fit_autocorrelation(mu, r, n_t, order, near, out):
    # fit_lpc from the autocorrelation r[0 .. order] about the mean level mu (r is modified)
    if r[0] <= 0:
        return mu, 0, 0, 0.0
    r[0] *= 1.0 + 1e-6  # white-noise floor keeps the recursion stable on degenerate input
    r[0] += n_t * ((2 * near + 1) ** 2 - 1) / 12.0
    a, errors = levinson_errors(r, order)
    energy = errors[min(order, CROSS_ORDER) - 1]
    peak = 0.0
    for i in range(order):
        if not np.isfinite(a[i]):
            return mu, 0, 0, energy
        peak = max(peak, abs(a[i]))
    if peak >= LPC_MAX_COEF >> 4:
        return mu, 0, 0, energy
    shift = 14
    while shift > 2 and peak * (1 << shift) >= LPC_MAX_COEF - 1:
        shift -= 1
    for i in range(order):
        out[i] = np.int64(np.rint(a[i] * (1 << shift)))
    return mu, shift, order, energy


@nb.njit(cache=True, nogil=True)
def _proxy_energy(series, order):
    # the prediction error of fit_lpc at order min(order, CROSS_ORDER), from three lags only
    n_t = series.shape[0]
    order = min(order, n_t // 4, CROSS_ORDER)
    if n_t == 0 or order <= 0:
        return 0.0
    r = autocorrelation(series, _mean_level(series), order)
    if r[0] <= 0:
        return 0.0
    r[0] *= 1.0 + 1e-6
    return levinson_errors(r, order)[1][order - 1]


@nb.njit(cache=True, nogil=True)
def analyse_channels(levels, order, near, cross_channel, top, lo, coefs, orders, shifts, means):
    """Fit every channel's predictor, and pick the channels better coded as a difference to the previous.

    Fills the per-channel tables the coder takes (``lo[c] = -top`` marks a difference channel) in
    kernels alone, no Python per channel, so a 1024-channel array analyses at the speed of one long
    channel; the difference is fitted in full only where its proxy energy wins.  The caller
    subtracts the previous channel where ``lo < 0``.
    """
    if order <= CROSS_ORDER and top < 32768:
        _analyse_short(levels, order, near, cross_channel, top, lo, coefs, orders, shifts, means)
    else:
        _analyse_each(levels, order, near, cross_channel, top, lo, coefs, orders, shifts, means)


@nb.njit(cache=True, nogil=True)
def _analyse_each(levels, order, near, cross_channel, top, lo, coefs, orders, shifts, means):
    # analyse_channels for any order and level range: a fit per channel, and per difference that
    # its proxy energy calls for
    n_ch, n_t = levels.shape
    diff = np.empty(n_t, dtype=np.int64)
    for c in range(n_ch):
        mu, shift, n, energy = fit_lpc(levels[c], order, near, coefs[c])
        if cross_channel and c > 0 and energy > 0:
            for t in range(n_t):
                diff[t] = levels[c, t] - levels[c - 1, t]
            if _proxy_energy(diff, order) < CROSS_GAIN * energy:
                coefs[c, :] = 0
                mu, shift, n, _ = fit_lpc(diff, order, 0, coefs[c])
                lo[c] = -top
        means[c] = mu
        shifts[c] = shift
        orders[c] = n


@nb.njit(inline="always")
def _centred(n_t, mu, total, products, head, tail, lags, r):
    # r[i] = sum over t >= i of (x[t] - mu) * (x[t - i] - mu) from the plain sums of x: exact in
    # int64 (every term below 2**58 for levels under 2**15 and at most 2**28 samples), so the very
    # sums autocorrelation adds up
    for i in range(lags + 1):
        r[i] = products[i] - mu * ((total - head[i]) + (total - tail[i])) + (n_t - i) * mu * mu


@nb.njit(cache=True, nogil=True)
def _analyse_short(levels, order, near, cross_channel, top, lo, coefs, orders, shifts, means):
    """analyse_channels for predictors of order <= CROSS_ORDER on levels below 2**15, in one pass per channel.

    The mean, the lagged sums of the channel and those of its difference to the previous channel
    come from one walk over both (the difference never stored), while the previous channel is
    still in cache; the results are the sums the general path adds up, so the choices and the
    bytes are the same.
    """
    n_ch, n_t = levels.shape
    lags = min(order, n_t // 4)
    xs = np.zeros((2, CROSS_ORDER + 1), dtype=np.int64)  # products, then head sums / tail sums below
    ds = np.zeros((2, CROSS_ORDER + 1), dtype=np.int64)
    x_ends = np.zeros((2, CROSS_ORDER + 1), dtype=np.int64)
    d_ends = np.zeros((2, CROSS_ORDER + 1), dtype=np.int64)
    r = np.zeros(CROSS_ORDER + 1)
    for c in range(n_ch):
        x = levels[c]
        with_diff = cross_channel and c > 0 and lags > 0
        xs[:] = 0
        ds[:] = 0
        x_total = 0
        d_total = 0
        x1 = x2 = d1 = d2 = 0
        if with_diff:
            y = levels[c - 1]
            for t in range(n_t):
                v = x[t]
                d = v - y[t]
                x_total += v
                d_total += d
                xs[0, 0] += v * v
                xs[0, 1] += v * x1
                xs[0, 2] += v * x2
                ds[0, 0] += d * d
                ds[0, 1] += d * d1
                ds[0, 2] += d * d2
                x2, x1, d2, d1 = x1, v, d1, d
        else:
            for t in range(n_t):
                v = x[t]
                x_total += v
                xs[0, 0] += v * v
                xs[0, 1] += v * x1
                xs[0, 2] += v * x2
                x2, x1 = x1, v
        mu = np.int64(np.rint(x_total / n_t)) if n_t else 0
        if lags <= 0:
            means[c] = mu
            shifts[c] = 0
            orders[c] = 0
            continue
        # sums of the first and of the last i samples, which the lag-i sums leave out
        for i in range(1, lags + 1):
            x_ends[0, i] = x_ends[0, i - 1] + x[i - 1]
            x_ends[1, i] = x_ends[1, i - 1] + x[n_t - i]
        _centred(n_t, mu, x_total, xs[0], x_ends[0], x_ends[1], lags, r)
        mu, shift, n, energy = _fit_autocorrelation(mu, r, n_t, lags, near, coefs[c])
        if with_diff and energy > 0:
            d_mu = np.int64(np.rint(d_total / n_t))
            y = levels[c - 1]
            for i in range(1, lags + 1):
                d_ends[0, i] = d_ends[0, i - 1] + x[i - 1] - y[i - 1]
                d_ends[1, i] = d_ends[1, i - 1] + x[n_t - i] - y[n_t - i]
            _centred(n_t, d_mu, d_total, ds[0], d_ends[0], d_ends[1], lags, r)
            proxy = 0.0
            if r[0] > 0:
                saved = r[0]
                r[0] *= 1.0 + 1e-6
                proxy = levinson_errors(r, lags)[1][lags - 1]
                r[0] = saved
            if proxy < CROSS_GAIN * energy:
                coefs[c, :] = 0
                mu, shift, n, _ = _fit_autocorrelation(d_mu, r, n_t, lags, 0, coefs[c])
                lo[c] = -top
        means[c] = mu
        shifts[c] = shift
        orders[c] = n


@nb.njit(cache=True, nogil=True)
def levinson(r, order):
    """Levinson-Durbin: the order-``order`` predictor of autocorrelation ``r`` (encoder side only)."""
    return levinson_errors(r, order)[0]


@nb.njit(cache=True, nogil=True)
def levinson_errors(r, order):
    """Levinson-Durbin: the predictor of autocorrelation ``r`` and the prediction error after each order.

    Sequential float arithmetic in a kernel: no BLAS call per step (whose threads cost more than
    the sums on a busy machine) and the same rounding on every machine.
    """
    a = np.zeros(order)
    prev = np.zeros(order)
    errors = np.zeros(order)
    err = r[0]
    for i in range(order):
        acc = r[i + 1]
        for j in range(i):
            acc -= a[j] * r[i - j]
        k = acc / err
        for j in range(i):
            prev[j] = a[j]
        a[i] = k
        for j in range(i):
            a[j] = prev[j] - k * prev[i - 1 - j]
        err *= 1.0 - k * k
        errors[i:] = err
        if err <= 0:
            break
    return a, errors


@nb.njit(cache=True)
def _lagged_sums(series, mean, max_lag, zero):
    # accumulates in the type of ``zero``: exact for int64, sequential (so reproducible) for
    # float64; centring inside the loop spares a copy of the series per channel
    r = np.zeros(max_lag + 1, dtype=np.float64)
    for i in range(max_lag + 1):
        acc = zero
        for t in range(i, series.shape[0]):
            acc += (series[t] - mean) * (series[t - i] - mean)
        r[i] = acc
    return r


@nb.njit(cache=True)
def autocorrelation(series, mean, max_lag):
    """``r[i] = sum (x[t] - mean) * (x[t + i] - mean)`` for ``i = 0 .. max_lag`` (encoder side only).

    The payload stores quantised coefficients, so decoders never see these sums; but the golden
    files pin the encoder too, so the sums must not depend on the machine.  Integer sums are exact
    and vectorise in any order; they cannot overflow while |x - mean| < 2**16 (at most 2**28
    samples a payload).  Wider int32 data falls back to float sums in sequential order.
    """
    widest = 0
    for t in range(series.shape[0]):
        widest = max(widest, abs(series[t] - mean))
    if widest < 65536:
        return _lagged_sums(series, mean, max_lag, 0)
    return _lagged_sums(series, float(mean), max_lag, 0.0)


@nb.njit(cache=True, nogil=True)
def map_through(samples, index, offset, out):
    """``out = index[samples + offset]``; False as soon as a sample maps to -1 (not in the table)."""
    flat = samples.ravel()
    for i in range(flat.shape[0]):
        v = index[np.int64(flat[i]) + offset]
        if v < 0:
            return False
        out[i] = v
    return True


TILE = 64  # the (time, channel) tiles a layout change walks, so both sides stay in L1


@nb.njit(cache=True, nogil=True)
def map_to_channels(samples, index, offset, out):
    """``out[c, t] = index[samples[t, c] + offset]``: samples (T, C) to channel-major levels (C, T).

    One pass that maps and transposes, tile by tile (a transposed copy of a 1024-channel array
    took longer than mapping it).  False when a sample maps to -1 (not in the table): as soon as
    it is met, or for one channel after the walk.
    """
    n_t, n_ch = samples.shape
    if n_ch == 1:
        # a mono recording has nothing to transpose: one flat walk, judged at its end
        flags = 0
        for t in range(n_t):
            v = index[np.int64(samples[t, 0]) + offset]
            flags |= v
            out[0, t] = v
        return flags >= 0
    for t0 in range(0, n_t, TILE):
        t1 = min(t0 + TILE, n_t)
        for c0 in range(0, n_ch, TILE):
            for c in range(c0, min(c0 + TILE, n_ch)):
                for t in range(t0, t1):
                    v = index[np.int64(samples[t, c]) + offset]
                    if v < 0:
                        return False
                    out[c, t] = v
    return True


@nb.njit(cache=True, nogil=True)
def channels_to_samples(levels, values, offset, out):
    """``out[t, c] = values[levels[c, t]]`` (or ``levels[c, t] + offset`` when ``values`` is empty).

    The decoder's inverse of :func:`map_to_channels`, into ``out`` of either memory order; the
    levels were checked against the mapping's range, so every index is in bounds.
    """
    n_ch, n_t = levels.shape
    table = values.shape[0] > 0
    if n_ch == 1:
        if table:
            for t in range(n_t):
                out[t, 0] = values[levels[0, t]]
        else:
            for t in range(n_t):
                out[t, 0] = levels[0, t] + offset
        return
    for t0 in range(0, n_t, TILE):
        t1 = min(t0 + TILE, n_t)
        for c0 in range(0, n_ch, TILE):
            for c in range(c0, min(c0 + TILE, n_ch)):
                for t in range(t0, t1):
                    out[t, c] = values[levels[c, t]] if table else levels[c, t] + offset


# Outcomes of read_channel_tables (lossless.py turns each into its typed error).
TABLES_OK, TABLES_TRUNCATED, TABLES_BAD_VARINT, TABLES_BAD_TAG, TABLES_BAD_MEAN, TABLES_BAD_SHIFT, \
    TABLES_BAD_COEF = range(7)
#: Bytes write_channel_tables may need per channel beyond 10 per coefficient: tag, mean, shift.
TABLE_BYTES = 12


@nb.njit(inline="always")
def _zigzag(v):
    return (v << 1) if v >= 0 else ((-v << 1) - 1)


@nb.njit(inline="always")
def _put_varint(out, pos, v):
    while v >= 128:
        out[pos] = (v & 127) | 128
        v >>= 7
        pos += 1
    out[pos] = v
    return pos + 1


@nb.njit(inline="always")
def _get_varint(buf, pos, end):
    # LEB128 as entropy.varint.decode_array reads it; position -1 when cut off or over 64 bits
    v = np.uint64(0)
    shift = 0
    while True:
        if pos >= end or shift > 63:
            return v, -1
        b = buf[pos]
        pos += 1
        v |= np.uint64(b & 127) << np.uint64(shift)
        if b < 128:
            return v, pos
        shift += 7


@nb.njit(cache=True, nogil=True)
def write_channel_tables(lo, coefs, orders, shifts, means, out, pos):
    """Each channel's predictor fields (tag, zigzag mean, shift, zigzag coefficients; lossless.py) into
    ``out`` from ``pos``; returns the end.  ``out`` holds ``TABLE_BYTES`` a channel plus 10 a coefficient."""
    for c in range(lo.shape[0]):
        n = orders[c]
        out[pos] = n | (0x80 if lo[c] < 0 else 0)
        pos = _put_varint(out, pos + 1, _zigzag(means[c]))
        if n:
            out[pos] = shifts[c]
            pos += 1
            for i in range(n):
                pos = _put_varint(out, pos, _zigzag(coefs[c, i]))
    return pos


@nb.njit(cache=True, nogil=True)
def read_channel_tables(buf, pos, end, near, top, max_order, max_shift, max_coef, lo, hi, coefs, orders, shifts,
                        means):
    """Parse and check the fields :func:`write_channel_tables` writes, filling the tables the coder takes.

    Returns ``(position, status, channel, value)``: on failure the channel at fault and the field's raw
    value (the tag, the zigzag mean, the shift), in the order the fields are read, so the first fault
    in the payload is the one reported whatever the channel count.
    """
    for c in range(lo.shape[0]):
        if pos >= end:
            return pos, TABLES_TRUNCATED, c, np.uint64(0)
        tag = np.int64(buf[pos])
        pos += 1
        order = tag & 0x3F
        if order > max_order or tag & 0x40 or (tag & 0x80 and (c == 0 or near)):
            return pos, TABLES_BAD_TAG, c, np.uint64(tag)
        if tag & 0x80:
            lo[c] = -top
        u, pos = _get_varint(buf, pos, end)
        if pos < 0:
            return pos, TABLES_BAD_VARINT, c, np.uint64(0)
        # |mean| <= top: checked on the zigzag value, which may not fit an int64
        if u > np.uint64(2 * top):
            return pos, TABLES_BAD_MEAN, c, u
        mean = np.int64(u >> np.uint64(1)) if (u & np.uint64(1)) == 0 else -np.int64((u + np.uint64(1)) >> np.uint64(1))
        if mean < lo[c] or mean > hi[c]:
            return pos, TABLES_BAD_MEAN, c, u
        means[c] = mean
        if order:
            if pos >= end:
                return pos, TABLES_TRUNCATED, c, np.uint64(0)
            shift = np.int64(buf[pos])
            pos += 1
            if shift < 1 or shift > max_shift:
                return pos, TABLES_BAD_SHIFT, c, np.uint64(shift)
            shifts[c] = shift
            # every coefficient is read before any is judged, as the fields come
            bad = False
            for i in range(order):
                u, pos = _get_varint(buf, pos, end)
                if pos < 0:
                    return pos, TABLES_BAD_VARINT, c, np.uint64(0)
                if u > np.uint64(2 * max_coef):
                    bad = True
                else:
                    coefs[c, i] = np.int64(u >> np.uint64(1)) if (u & np.uint64(1)) == 0 \
                        else -np.int64((u + np.uint64(1)) >> np.uint64(1))
            if bad:
                return pos, TABLES_BAD_COEF, c, np.uint64(0)
        orders[c] = order
    return pos, TABLES_OK, 0, np.uint64(0)


@nb.njit(cache=True, nogil=True)
def subtract_previous(levels, lo):
    """In place, ``levels[c] -= levels[c - 1]`` for every channel marked ``lo[c] < 0`` (analyse_channels).

    From the last channel down, so each channel subtracts the previous one as it was, not its
    difference: no copy of the array for the few channels that differ.
    """
    n_ch, n_t = levels.shape
    for c in range(n_ch - 1, 0, -1):
        if lo[c] < 0:
            for t in range(n_t):
                levels[c, t] -= levels[c - 1, t]


@nb.njit(cache=True, nogil=True)
def add_previous(levels, lo, top):
    """The decoder's inverse of :func:`subtract_previous`, first channel up; returns the first channel
    whose reconstruction leaves ``[0, top]`` (a corrupt payload), else -1."""
    n_ch, n_t = levels.shape
    for c in range(1, n_ch):
        if lo[c] < 0:
            bad = False
            for t in range(n_t):
                v = levels[c, t] + levels[c - 1, t]
                levels[c, t] = v
                bad |= v < 0 or v > top
            if bad:
                return c
    return -1
