"""``adaptive``: context-modelled adaptive binary arithmetic coding of the raster.

Time is cut into blocks of K bins (K a power of two from 1 to 256, about 1 / (8 p) for density
p, K = 2 skipped; for K >= 4 the encoder also tries 2K and keeps the smaller payload); blocks are
coded in time order and, inside one, channel after channel, so when channel c is coded the whole
block of channels c-1, c-2, ... is known.  Per (block, channel) the first matching path codes the
block:

0. K = 1 (dense rasters): the bin itself, in the context of both left neighbours' bin and the
   time since the channel's last spike.  One decision per bin, no mixing: the fast path.
1. *guided*, when the left neighbour spiked in this block and this channel often spikes when
   its neighbour does (a per-channel agreement average): every bin, in the context of both left
   neighbours' same bin; when only c-1 fired in that bin, a per-channel model (with population)
   tells a unit's edge from the neighbour's noise.  One unit seen on adjacent contacts costs
   ~H(detection) per contact.
2. *copy*: if the left neighbour spiked, "is this block identical to channel c-1's?" (else to
   c-2's, when that differs).  Settles near "never" on independent channels, costing ~nothing.
3. otherwise, alternating until the block is done:
   - *bin mode* while the channel is active (spiked within 8 bins, after an interval of at most
     8 or of a class that is often followed by one that short): each bin in the context of the
     exact time since the last spike, the last interval, the channel's rate class and the
     neighbours' same bin and population activity, refined by an APM: the hazard of a bursting
     unit;
   - a *flag*: does the rest of the block hold a spike?  (gap since the last spike, rate class,
     how much of the block is left, which left neighbours spiked, population density of the
     channels already coded);
   - a *binary search* for the first spike of the rest: "is it in the left half?", halving down
     to one bin (level, gap, rate class, which neighbours spiked in that half, population).

Quiet channels cost one cheap decision per K bins, which is what makes sparse rasters fast.  The
flag, bin and search decisions mix two context models (the channel's own history; its neighbours
and the population) with :func:`~neurocodec.entropy.models.mix_dot`, so extra context costs
little where it does not help: on iid rasters the code stays within ~1.5 % of the bound, on
structured ones it goes well below the iid bound.  Rasters denser than 1/2 are complemented.

The context quantities: gap = bins since the channel's last spike (8 log buckets), interval = its
last inter-spike interval (4 buckets; 11 classes in bin mode), rate class = half-octave of its
mean interval so far (16), population = density of spikes among channels < c in the bins
concerned (5 buckets; the previous block row's for the first two channels).  Every model is an
integer counter with a 22-bit probability whose rate settles at 1/4001.5 (:func:`_adapt_slow`),
mixed and refined with the integer tools of :mod:`neurocodec.entropy.models`, so encoder and
decoder, JIT or not, agree.  The normative description is ``FORMAT.md``.

Payload after the shared header: ``u8 flags`` (bit 0: complemented), ``u8 log2(K)``, then the
arithmetic-coded stream to the end of the payload.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..entropy.arith import (
    decode_bit,
    decode_init,
    encode_bit,
    encode_flush,
    encode_init,
)
from ..entropy.models import (
    MIX_ONE,
    SQUASH_TABLE,
    STRETCH_TABLE,
    adapt_counted,
    apm_predict,
    apm_update,
    clamp_prob,
    counted_prob,
    initial_apm,
    mix_dot,
    mix_update,
    squash,
    stretch,
)
from ..errors import CorruptStreamError, TruncatedStreamError
from ..registry import register_codec
from .base import SpikeCodec, should_invert

MAX_LOG2_BLOCK = 8
#: adapt_counted's slowest rate (1/256 once 254 bits were seen), for the ``follow`` estimates.
_LIMIT = 254
_INIT = 32768 << 8
#: The context models use :func:`_adapt_slow`, whose rate settles at 1/(_SLOW_LIMIT + 1.5): spike
#: statistics are stationary, and at adapt_counted's 1/256 the estimation noise of a rare event
#: (a quiet block's flag) costs ~0.3 %.  State: 22-bit probability << 12 | count (12 bits).
_SLOW_LIMIT = 4000
#: A fresh _adapt_slow state: probability 1/2, nothing seen.
_SLOW_INIT = (1 << 21) << 12
#: 65536 * 2 / (2n + 3): the rate 1/(n + 1.5) as a multiplier (as models._COUNTED_RATE, longer).
_SLOW_RATE = np.array([131072 // (2 * n + 3) for n in range(4096)], dtype=np.int64)
_LEVELS = MAX_LOG2_BLOCK + 1
#: Flag contexts by what is left of the block: all of it, or the level of the rest (1 + 0..8).
_AFTER = _LEVELS + 1
#: A channel that spiked within this many bins is coded bin by bin when its last interval was at
#: most _ACTIVE too, or when intervals of that interval's class are often followed by one that short.
_ACTIVE = 8
#: Mixer learning rate, the slowest mix_update allows: faster rates cost 0.3-1 % on iid rasters.
_MIX_RATE = 1
#: A decision costs at least log2(65536 / 65535) bits, so one payload byte holds at most ~363 000
#: flags; 2**20 per byte leaves margin.  Bins = flags * K bounds the raster a payload can describe.
_FLAGS_PER_BYTE = 1 << 20


def block_log2(density: float) -> int:
    """log2 of the block length for a (complemented if > 1/2) density: K ~ 1 / (8 p), in [1, 256].

    Short blocks keep most decisions in the context-rich paths (about a tenth of the blocks hold
    a spike); at p >= 1/32 every block is one bin, the fast dense path."""
    if density <= 0.0:
        return MAX_LOG2_BLOCK
    log2k = max(0, min(MAX_LOG2_BLOCK, int(math.floor(math.log2(0.125 / density)))))
    # K = 2 (p in 1/32..1/16) is skipped: one-bin blocks code those densities as tightly and
    # about twice as fast, since the dense path needs no mixing
    return 0 if log2k == 1 else log2k


# Bins since the channel's last spike -> bucket 0..7: 1, 2, 3-4, 5-8, 9-16, 17-64, 65-256, more.
# Bursts, refractory gaps and tonic rates all show up in this one number (the ISI so far).
_GAP_BUCKET = np.array([0, 0, 1, 2, 2] + [3] * 4 + [4] * 8 + [5] * 48 + [6] * 192, dtype=np.int64)
_NEVER = -(1 << 40)
#: Last interval (1..255, capped; 0 unused) -> interval class: 1..8 exactly (0..7), then 9-16 (8),
#: 17-64 (9), longer or none yet (10).
_IVALS = 11
_IVAL_INDEX = np.array([0] + list(range(8)) + [8] * 8 + [9] * 48 + [10] * 191, dtype=np.int64)
#: Bin mode's secondary estimation: an APM per (gap 1..8, interval class), learning at 2**-7.
_APM_RATE = 7
_BIN_APM = initial_apm(_ACTIVE * _IVALS)
#: Agreement (Q16) above which a channel is coded guided by its left neighbour.
_AGREE_HIGH = 16000
#: P(short next interval) (Q16) above which a channel after a long interval is coded bin by bin.
_FOLLOW_HIGH = 8192


@nb.njit(inline="always", cache=True)
def _isi_bucket(d):
    """Bucket of an interval: 1-2, 3-8, 9-64, longer (a burst, a tonic rate, sparse firing)."""
    if d <= 2:
        return 0
    if d <= 8:
        return 1
    return 2 if d <= 64 else 3


@nb.njit(inline="always", cache=True)
def _spiked(follow, ival, c, d):
    """Channel ``c`` spiked ``d`` bins after its previous spike: learn how often an interval of
    the previous one's class is followed by a short one (<= _ACTIVE), then remember ``d``."""
    k = _IVAL_INDEX[ival[c]]
    follow[k] = adapt_counted(follow[k], 1 if d <= _ACTIVE else 0, _LIMIT)
    ival[c] = min(d, 255)


@nb.njit(inline="always", cache=True)
def _rate_class(t, count):
    """Half-octave of the channel's mean interval ``(t + 64) // (count + 1)`` so far (0: < 16 bins,
    1: 16-23, 2: 24-31, 3: 32-47, 4: 48-63, ..., 14: 1536-2047, 15: >= 2048): the rate of a
    Poisson-like unit to within a factor 1.5."""
    mean = (t + 64) // (count + 1)
    n = 0
    while (mean >> n) > 1:
        n += 1
    # mean has n + 1 significant bits; the one below the leading bit picks the half-octave
    half = (mean >> (n - 1)) & 1 if n >= 1 else 0
    return min(max(2 * (n - 4) + half + 1, 0), 15) if n >= 4 else 0


@nb.njit(inline="always", cache=True)
def _density(spikes, bins):
    """Bucket of a population density: none, < 1/128, < 1/32, < 1/8, more."""
    if spikes == 0:
        return 0
    d = (spikes << 10) // bins
    if d < 8:
        return 1
    if d < 32:
        return 2
    return 3 if d < 128 else 4


@nb.njit(inline="always", cache=True)
def _pop(popc, c, a, b, prev_density):
    """Population activity over bins [a, b) of this block: the density among channels < c once
    two are known, before that the whole previous block row's (network bursts, up-states)."""
    if c < 2:
        return prev_density
    return _density(popc[b] - popc[a], (b - a) * c)


@nb.njit(inline="always", cache=True)
def _gap(t, last):
    d = t - last
    return _GAP_BUCKET[d] if d < 257 else 7



@nb.njit(inline="always", cache=True)
def _level(size):
    """Tree level of a range of ``size`` bins: ceil(log2(size))."""
    level = 0
    size -= 1
    while size > 0:
        size >>= 1
        level += 1
    return level


@nb.njit(inline="always", cache=True)
def _update_agree(agree, c, nz, left_nz):
    # how often this channel's block matched its left neighbour's in having a spike, when either
    # had one: tells a contact on the same unit as its neighbour from one across a group boundary.
    # Branch-free on purpose (a branch on the coded bit mispredicts at every surprise).
    either = nz | left_nz
    agree[c] += (((1 - (nz ^ left_nz)) * 65535 - agree[c]) >> 4) * either


@nb.njit(inline="always", cache=True)
def _nb(prefs, c, left_nz, left2_nz, a, b):
    """Which of the two left neighbours spiked in bins [a, b) of this block (2 bits)."""
    r1 = (c + 2) % 3
    r2 = (c + 1) % 3
    n1 = 1 if left_nz and prefs[r1, b] > prefs[r1, a] else 0
    n2 = 1 if left2_nz and prefs[r2, b] > prefs[r2, a] else 0
    return n1 + 2 * n2


@nb.njit(inline="always", cache=True)
def _bin(raster, t, c, flip):
    """Bin (t, c) in the coded domain as an int64 0 or 1 (uint8 arithmetic would wrap without the JIT;
    a byte other than 0/1 must not reach the context indices it feeds)."""
    return np.int64(raster[t, c] != 0) ^ flip


@nb.njit(inline="always", cache=True)
def _same(prefs, r, q, L):
    """Whether the blocks whose prefix counts sit in rows ``r`` and ``q`` hold the same bins."""
    for i in range(1, L + 1):
        if prefs[r, i] != prefs[q, i]:
            return 0
    return 1


@nb.njit(inline="always", cache=True)
def _code(dec, bit, p, x1, x2, x, buf, pos, end):
    """Encode ``bit`` or (``dec``) decode one, at probability ``p`` (16-bit) of a 1."""
    if dec:
        return decode_bit(x1, x2, x, buf, pos, end, p)
    x1, x2, pos = encode_bit(x1, x2, buf, pos, bit, p)
    return bit, x1, x2, x, pos


@nb.njit(inline="always", cache=True)
def _weights(n_sets):
    """``n_sets`` mixer weight sets (model A, model B, bias), starting as the plain average of A and B."""
    w = np.zeros(3 * n_sets, dtype=np.int64)
    for i in range(n_sets):
        w[3 * i] = MIX_ONE // 2
        w[3 * i + 1] = MIX_ONE // 2
    return w


@nb.njit(inline="always", cache=True)
def _slow_prob(state):
    """The 16-bit probability held in a :func:`_adapt_slow` state."""
    return clamp_prob(state >> 18)


@nb.njit(inline="always", cache=True)
def _adapt_slow(state, bit):
    """Like :func:`~neurocodec.entropy.models.adapt_counted` (rate 1/(n + 1.5)), with a 22-bit
    probability and the rate settling at 1/(_SLOW_LIMIT + 1.5) instead of 1/255.5."""
    p = state >> 12
    n = state & 4095
    target = (1 << 22) if bit else 0
    p += ((target - p) * _SLOW_RATE[n]) >> 16
    if n < _SLOW_LIMIT:
        n += 1
    return (p << 12) | n


@nb.njit(inline="always", cache=True)
def _record_spike(dec, raster, t, c, latest, isi, follow, ival):
    """Channel ``c`` spiked at bin ``t``: store it (decoder) and update its interval state; returns ``t``."""
    if dec:
        raster[t, c] = 1
    isi[c] = _isi_bucket(t - latest)
    _spiked(follow, ival, c, t - latest)
    return t


@nb.njit(inline="always", cache=True)
def _code_slow(dec, bit, table, ctx, x1, x2, x, buf, pos, end):
    """Code ``bit`` with the slow counter ``table[ctx]`` and adapt it; as :func:`_code` returns."""
    s = table[ctx]
    bit, x1, x2, x, pos = _code(dec, bit, _slow_prob(s), x1, x2, x, buf, pos, end)
    table[ctx] = _adapt_slow(s, bit)
    return bit, x1, x2, x, pos


@nb.njit(inline="always", cache=True)
def _mix(model_a, ia, model_b, ib, weights, wb, inputs):
    """Probability from two context models mixed in the logistic domain (weights chosen by ``wb``):
    a small context that learns fast and a large one that is sharp once learned, so adding
    context costs little on data that does not need it."""
    inputs[0] = stretch(_slow_prob(model_a[ia]), STRETCH_TABLE)
    inputs[1] = stretch(_slow_prob(model_b[ib]), STRETCH_TABLE)
    return clamp_prob(squash(mix_dot(weights, wb, inputs, 3), SQUASH_TABLE))


@nb.njit(inline="always", cache=True)
def _learn(model_a, ia, model_b, ib, weights, wb, inputs, p, bit):
    mix_update(weights, wb, inputs, 3, p, bit, _MIX_RATE)
    model_a[ia] = _adapt_slow(model_a[ia], bit)
    model_b[ib] = _adapt_slow(model_b[ib], bit)


@nb.njit(cache=True)
def code_kernel(raster, dec, invert, log2k, buf, pos, end, max_spikes):
    """Encode the (T, N) uint8 ``raster`` into ``buf`` from ``pos``, or (``dec``) decode ``buf[pos:end]``
    into the zeroed ``raster``; one kernel for both so they cannot drift apart.

    Returns the end position: when encoding it may exceed ``len(buf)`` (code again, larger); when
    decoding it is -1 once the coder runs more than 8 bytes past ``end`` (truncated or not ours), -2
    once more than ``max_spikes`` bins spiked in the coded domain (denser than the encoder codes
    with this K: not ours), checked per block row so garbage stops early.
    """
    T, N = raster.shape
    K = 1 << log2k
    flip = 0 if dec else invert          # the encoder codes the complement; the decoder flips last
    # models: A = the channel's own history, B = its neighbours and the population; weight sets
    flag_a = np.full(8 * 16 * _AFTER, _SLOW_INIT, dtype=np.int64)    # gap, rate class, rest of the block
    flag_b = np.full(4 * 5 * 8 * _AFTER, _SLOW_INIT, dtype=np.int64) # left neighbours, population, gap, rest
    flag_w = _weights(8)                                         # by left neighbours, after bin mode
    tree_a = np.full(_LEVELS * 8 * 16, _SLOW_INIT, dtype=np.int64)   # level, gap, rate class
    tree_b = np.full(_LEVELS * 4 * 5, _SLOW_INIT, dtype=np.int64)     # level, neighbours in the half, population
    tree_w = _weights(_LEVELS)
    bin_a = np.full(_ACTIVE * _IVALS * 4, _SLOW_INIT, dtype=np.int64)  # gap 1..8, interval class, rate class / 4
    bin_b = np.full(_ACTIVE * 2 * 2 * 5, _SLOW_INIT, dtype=np.int64)    # gap, both neighbours' bin, population
    bin_w = _weights(_IVALS)                                     # by interval class
    bin_apm = _BIN_APM.copy()
    inputs = np.array([0, 0, 256], dtype=np.int64)
    copies = np.full(2 * 8 * 2, _SLOW_INIT, dtype=np.int64)          # c-2 spiked too, gap, which source
    guided = np.full(4 * 8 * 5, _SLOW_INIT, dtype=np.int64)          # neighbours' bin, gap, population
    solo = np.full(N * 5, _SLOW_INIT, dtype=np.int64)              # guided, only c-1 fired: per channel
    dense = np.full(4 * 8, _SLOW_INIT, dtype=np.int64)               # left neighbours, gap
    last = np.full(N, _NEVER, dtype=np.int64)   # bin of each channel's latest spike
    isi = np.full(N, 3, dtype=np.int64)          # bucket of each channel's latest interval
    ival = np.full(N, 255, dtype=np.int64)       # that interval, capped at 255
    follow = np.full(_IVALS, _INIT, dtype=np.int64)  # P(next interval <= _ACTIVE | last interval)
    count = np.zeros(N, dtype=np.int64)     # spikes of each channel so far
    agree = np.zeros(N, dtype=np.int64)
    prefs = np.zeros((3, K + 1), dtype=np.int64)   # prefix counts of channels c, c-1, c-2 (row c % 3)
    popc = np.zeros(K + 1, dtype=np.int64)         # prefix counts of all channels < c in the block
    prev_density = 0
    total = 0
    x = 0
    if dec:
        x1, x2, x, pos = decode_init(buf, pos, end)
    else:
        x1, x2 = encode_init()
    for t0 in range(0, T, K):
        if dec and pos > end + 8:
            return -1
        L = min(K, T - t0)
        left_nz = 0
        left2_nz = 0
        popc[:] = 0
        for c in range(N):
            me = c % 3
            r1 = (c + 2) % 3
            r2 = (c + 1) % 3
            if not dec:
                cnt = 0
                for i in range(L):
                    cnt += _bin(raster, t0 + i, c, flip)
                    prefs[me, i + 1] = cnt
            latest = last[c]
            if L == 1:
                # one-bin blocks (dense rasters): the flag is the bin; one model, no mixing, no
                # division (at one decision per bin, speed is what this path is for)
                bit = 0 if dec else prefs[me, 1]
                ctx = (left_nz * 2 + left2_nz) * 8 + _gap(t0, latest)
                bit, x1, x2, x, pos = _code_slow(dec, bit, dense, ctx, x1, x2, x, buf, pos, end)
                if bit:
                    if dec:
                        raster[t0, c] = 1
                    latest = t0
            elif left_nz and agree[c] >= _AGREE_HIGH:
                # 1. guided: this channel usually fires with its left neighbour (one unit seen on
                # adjacent contacts), so every bin is coded in the context of both neighbours' bin
                for i in range(L):
                    t = t0 + i
                    bit = 0 if dec else _bin(raster, t, c, flip)
                    n1 = _bin(raster, t, c - 1, flip)
                    n2 = _bin(raster, t, c - 2, flip) if c >= 2 else 0
                    if n1 > n2:
                        # only the left neighbour fired: a unit's edge or that neighbour's noise,
                        # which depends on where the channel sits (per-channel model)
                        ctx = c * 5 + _pop(popc, c, i, i + 1, prev_density)
                        bit, x1, x2, x, pos = _code_slow(dec, bit, solo, ctx, x1, x2, x, buf, pos, end)
                    else:
                        ctx = ((n1 * 2 + n2) * 8 + _gap(t, latest)) * 5 + _pop(popc, c, i, i + 1, prev_density)
                        bit, x1, x2, x, pos = _code_slow(dec, bit, guided, ctx, x1, x2, x, buf, pos, end)
                    if bit:
                        latest = _record_spike(dec, raster, t, c, latest, isi, follow, ival)
            else:
                # 2. copy decisions: is this block a copy of channel c-1's (or else of c-2's, when
                # that differs from c-1's)?  Cheap when contacts share a unit only now and then;
                # on independent channels they settle near "never" and cost next to nothing.
                source = 0
                if left_nz:
                    same = 0 if dec else _same(prefs, me, r1, L)
                    ctx = (left2_nz * 8 + _gap(t0, latest)) * 2
                    same, x1, x2, x, pos = _code_slow(dec, same, copies, ctx, x1, x2, x, buf, pos, end)
                    if same:
                        source = 1
                    elif left2_nz and not _same(prefs, r1, r2, L):
                        same = 0 if dec else _same(prefs, me, r2, L)
                        ctx = (8 + _gap(t0, latest)) * 2 + 1
                        same, x1, x2, x, pos = _code_slow(dec, same, copies, ctx, x1, x2, x, buf, pos, end)
                        if same:
                            source = 2
                if source:
                    for i in range(L):
                        if _bin(raster, t0 + i, c - source, flip):
                            if dec:
                                raster[t0 + i, c] = 1
                            isi[c] = _isi_bucket(t0 + i - latest)
                            _spiked(follow, ival, c, t0 + i - latest)
                            latest = t0 + i
                else:
                    rc = _rate_class(t0, count[c])
                    i = 0
                    while i < L:
                        # 3. bin mode while the channel is active (spiked within _ACTIVE bins, after
                        # a short interval or one that is often followed by a short one): each bin
                        # in the context of the exact time since the last spike, the last interval
                        # and the two left neighbours' same bin: the hazard of a renewal process,
                        # bursts included, refined by an APM.
                        while i < L and t0 + i - latest <= _ACTIVE and (
                                ival[c] <= _ACTIVE or counted_prob(follow[_IVAL_INDEX[ival[c]]]) >= _FOLLOW_HIGH):
                            t = t0 + i
                            bit = 0 if dec else _bin(raster, t, c, flip)
                            n1 = _bin(raster, t, c - 1, flip) if c >= 1 else 0
                            n2 = _bin(raster, t, c - 2, flip) if c >= 2 else 0
                            g = t - latest - 1
                            ia = (g * _IVALS + _IVAL_INDEX[ival[c]]) * 4 + (rc >> 2)
                            ib = ((g * 2 + n1) * 2 + n2) * 5 + _pop(popc, c, i, i + 1, prev_density)
                            gi = g * _IVALS + _IVAL_INDEX[ival[c]]
                            p = _mix(bin_a, ia, bin_b, ib, bin_w, 3 * _IVAL_INDEX[ival[c]], inputs)
                            pa, ai, aw = apm_predict(bin_apm, gi, stretch(p, STRETCH_TABLE))
                            pf = clamp_prob((p + pa) >> 1)
                            bit, x1, x2, x, pos = _code(dec, bit, pf, x1, x2, x, buf, pos, end)
                            _learn(bin_a, ia, bin_b, ib, bin_w, 3 * _IVAL_INDEX[ival[c]], inputs, p, bit)
                            apm_update(bin_apm, ai, aw, bit, _APM_RATE)
                            if bit:
                                latest = _record_spike(dec, raster, t, c, latest, isi, follow, ival)
                            i += 1
                        if i == L:
                            break
                        # 4. quiet: does the rest of the block [i, L) hold a spike?
                        rest = 0 if dec else (1 if prefs[me, L] > prefs[me, i] else 0)
                        gap = _gap(t0 + i, latest)
                        nbs = left_nz * 2 + left2_nz
                        after = _level(L - i) + 1 if i else 0
                        ia = (gap * 16 + rc) * _AFTER + after
                        ib = ((nbs * 5 + _pop(popc, c, i, L, prev_density)) * 8 + gap) * _AFTER + after
                        fw = 3 * (nbs * 2 + (1 if i else 0))
                        p = _mix(flag_a, ia, flag_b, ib, flag_w, fw, inputs)
                        rest, x1, x2, x, pos = _code(dec, rest, p, x1, x2, x, buf, pos, end)
                        _learn(flag_a, ia, flag_b, ib, flag_w, fw, inputs, p, rest)
                        if not rest:
                            break
                        # 5. binary search for the first spike of [i, L): "is it in the left half?"
                        a = i
                        b = L
                        gap = _gap(t0 + i, latest)
                        while b - a > 1:
                            mid = a + ((b - a) >> 1)
                            lbit = 0 if dec else (1 if prefs[me, mid] > prefs[me, a] else 0)
                            level = _level(b - a)
                            ia = (level * 8 + gap) * 16 + rc
                            ib = (level * 4 + _nb(prefs, c, left_nz, left2_nz, a, mid)) * 5 \
                                + _pop(popc, c, a, mid, prev_density)
                            p = _mix(tree_a, ia, tree_b, ib, tree_w, 3 * level, inputs)
                            lbit, x1, x2, x, pos = _code(dec, lbit, p, x1, x2, x, buf, pos, end)
                            _learn(tree_a, ia, tree_b, ib, tree_w, 3 * level, inputs, p, lbit)
                            if lbit:
                                b = mid
                            else:
                                a = mid
                        if dec:
                            raster[t0 + a, c] = 1
                        isi[c] = _isi_bucket(t0 + a - latest)
                        _spiked(follow, ival, c, t0 + a - latest)
                        latest = t0 + a
                        i = a + 1
            nz = 1 if latest >= t0 else 0
            if dec and nz:
                cnt = 0
                for i in range(L):
                    cnt += _bin(raster, t0 + i, c, 0)
                    prefs[me, i + 1] = cnt
            if nz:
                count[c] += prefs[me, L]
                for i in range(1, L + 1):
                    popc[i] += prefs[me, i]
            last[c] = latest
            _update_agree(agree, c, nz, left_nz)
            left2_nz = left_nz
            left_nz = nz
        prev_density = _density(popc[L], L * N)
        total += popc[L]
        if dec and total > max_spikes:
            return -2
    if not dec:
        return encode_flush(x1, x2, buf, pos)
    if invert:
        for t in range(T):
            for c in range(N):
                raster[t, c] ^= 1
    return pos


def max_coded_spikes(bins: int, log2k: int) -> int:
    """Most spikes (in the coded domain) the encoder codes with blocks of 2**log2k bins.

    It complements rasters denser than 1/2, and picks K from the density (:func:`block_log2`, or
    twice that): K = 2**k for k >= 2 means a density of at most 2**-(k + 2).  One spike and 2**-20
    of the bins of slack cover the rounding of the float density."""
    limit = bins // 2 if log2k < 2 else bins >> (log2k + 2)
    return limit + (bins >> 20) + 1


@register_codec
class AdaptiveCodec(SpikeCodec):
    """Context-modelled adaptive binary arithmetic coding with block flags and binary splits."""

    codec_id = "neurocodec.spikes_adaptive"

    def _encode(self, raster):
        invert = should_invert(raster)
        n = int(np.count_nonzero(raster))
        density = (raster.size - n if invert else n) / raster.size
        log2k = block_log2(density)
        p = max(density, 1e-6)
        bound = raster.size * -(p * math.log2(p) + (1 - p) * math.log2(1 - p)) / 8
        size = int(bound * 1.05) + 4096
        # one kernel both ways: numba types it with writable arrays, so hand it writable ones
        bins = raster.view(np.uint8) if raster.flags.writeable else raster.view(np.uint8).copy()
        best = None
        # sparse rasters (blocks of 4 or more bins, where the kernel is fastest) are also coded
        # with blocks twice as long and the smaller payload kept: long blocks suit quiet channels
        # (fewer flags), short ones population structure; the decoder reads K from the payload
        for k in (log2k, log2k + 1) if 2 <= log2k < MAX_LOG2_BLOCK else (log2k,):
            while True:
                out = np.empty(size, dtype=np.uint8)
                end = code_kernel(bins, 0, int(invert), k, out, 0, 0, raster.size)
                if end <= size:
                    break
                size = end
            if best is None or end < len(best) - 2:
                best = bytes([int(invert), k]) + out[:end].tobytes()
        return best

    def _decode(self, reader, T, N):
        flags = reader.u8("flags")
        log2k = reader.u8("log2 block length")
        if flags > 1 or log2k > MAX_LOG2_BLOCK:
            raise CorruptStreamError(f"{reader.what}: flags {flags} / log2 block {log2k} out of range")
        start, end = reader.pos, len(reader.data)
        if T * N > ((end - start + 8) * _FLAGS_PER_BYTE) << log2k:
            raise CorruptStreamError(
                f"{reader.what}: {end - start} coded bytes cannot describe a {T} x {N} raster"
            )
        out = np.zeros((T, N), dtype=np.uint8)
        pos = code_kernel(out, 1, flags, log2k, reader.buf.copy(), start, end, max_coded_spikes(T * N, log2k))
        if pos == -2:
            raise CorruptStreamError(f"{reader.what}: more spikes than a raster coded with K = {1 << log2k} holds")
        if pos < 0 or pos > end:
            raise TruncatedStreamError(f"{reader.what}: arithmetic-coded raster runs past the payload")
        reader.pos = pos
        reader.finish()
        return out.view(bool)
