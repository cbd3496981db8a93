"""Numba kernels shared by the spike codecs: an adaptive integer coder, spike gathering, CRC-16.

Several codecs (``isi``, ``delta``, ``predictive``, ``aer``) reduce a raster to a sequence of
non-negative integers and differ only in the transform that produces them.  That sequence is coded
once, by :func:`.base.encode_uints`, in one of two ways, the smaller winning (the kernels are here):

- LEB128 varints (:mod:`neurocodec.entropy.varint`): byte aligned, trivial to decode in hardware;
- an adaptive binary arithmetic code of an Elias-gamma binarisation: the bucket
  ``b = bit_length(v + 1) - 1`` in unary, then the ``b`` bits below the leading one.  For the
  geometric intervals of a Poisson unit this binarisation is exact: given the bucket, the mantissa
  bits of a geometric variable are independent, so one adaptive context per (bucket, bit) learns the
  true law.  The unary contexts also see the previous value's bucket (bursts: short after short).

Every probability of the integer coder is kept in [_P_LO, _P_HI], so each decision costs at least
``-log2(_P_HI / 65536)`` = 0.0014 bits: a decoder can bound how many integers a payload of ``n``
bytes can hold (:data:`VALUES_PER_BYTE`) before it allocates anything.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..entropy.arith import (
    decode_bit,
    decode_init,
    encode_bit,
    encode_flush,
    encode_init,
)
from ..entropy.models import adapt_counted, counted_prob

_P_LO = 64
_P_HI = 65536 - 64
#: Upper bound on the integers an arithmetic-coded payload of one byte can hold (each costs >= 1
#: decision >= 0.0014 bits; 8 / 0.0014 = 5 700, rounded up with margin).
VALUES_PER_BYTE = 6000
#: Adaptation limit of :func:`adapt_counted` (rate settles at 1/limit): slow, for stationary data.
RATE_LIMIT = 254
_N_BUCKETS = 64          # values are < 2**63, so the bucket is 0..62
_PREV_CTX = 12           # previous-bucket contexts (clamped)
_MAX_KINDS = 2
_INIT_STATE = 32768 << 8  # initial_counted(32768), spelled out so numba sees a constant


@nb.njit(inline="always", cache=True)
def _p(state):
    p = counted_prob(state)
    if p < _P_LO:
        return _P_LO
    if p > _P_HI:
        return _P_HI
    return p


@nb.njit(inline="always", cache=True)
def bit_length(v):
    """Number of significant bits of ``v`` >= 0 (0 for 0)."""
    n = 0
    while v > 0:
        v >>= 1
        n += 1
    return n


@nb.njit(cache=True)
def uint_encode_arith(values, n_kinds, out):
    """Arithmetic-code ``values`` (int64, each in [0, 2**63 - 1)); kind of value i is ``i % n_kinds``.

    Returns the end position in ``out`` (which may exceed ``len(out)``: code again, larger).
    """
    unary = np.full((_MAX_KINDS, _PREV_CTX, _N_BUCKETS), _INIT_STATE, dtype=np.int64)
    mant = np.full((_MAX_KINDS, _N_BUCKETS, _N_BUCKETS), _INIT_STATE, dtype=np.int64)
    prev = np.zeros(_MAX_KINDS, dtype=np.int64)
    x1, x2 = encode_init()
    pos = 0
    kind = 0
    for i in range(values.shape[0]):
        v = values[i] + 1
        b = bit_length(v) - 1
        pc = prev[kind]
        for j in range(b + 1):
            bit = 1 if j < b else 0
            s = unary[kind, pc, j]
            x1, x2, pos = encode_bit(x1, x2, out, pos, bit, _p(s))
            unary[kind, pc, j] = adapt_counted(s, bit, RATE_LIMIT)
        for j in range(b - 1, -1, -1):
            bit = (v >> j) & 1
            s = mant[kind, b, j]
            x1, x2, pos = encode_bit(x1, x2, out, pos, bit, _p(s))
            mant[kind, b, j] = adapt_counted(s, bit, RATE_LIMIT)
        prev[kind] = b if b < _PREV_CTX else _PREV_CTX - 1
        kind += 1
        if kind == n_kinds:
            kind = 0
    return encode_flush(x1, x2, out, pos)


@nb.njit(cache=True)
def uint_decode_arith(buf, pos, end, count, n_kinds, out):
    """Inverse of :func:`uint_encode_arith` into ``out[:count]``; returns the end position, -1 if malformed."""
    unary = np.full((_MAX_KINDS, _PREV_CTX, _N_BUCKETS), _INIT_STATE, dtype=np.int64)
    mant = np.full((_MAX_KINDS, _N_BUCKETS, _N_BUCKETS), _INIT_STATE, dtype=np.int64)
    prev = np.zeros(_MAX_KINDS, dtype=np.int64)
    x1, x2, x, pos = decode_init(buf, pos, end)
    kind = 0
    for i in range(count):
        if pos > end + 4:
            return -1   # out of payload: stop now, not after ``count`` values of zeros
        pc = prev[kind]
        b = 0
        while True:
            s = unary[kind, pc, b]
            bit, x1, x2, x, pos = decode_bit(x1, x2, x, buf, pos, end, _p(s))
            unary[kind, pc, b] = adapt_counted(s, bit, RATE_LIMIT)
            if bit == 0:
                break
            b += 1
            if b >= _N_BUCKETS - 1 or pos > end + 4:
                return -1   # a value of 2**63 or more, or reading far past the end: not our stream
        v = 1
        for j in range(b - 1, -1, -1):
            s = mant[kind, b, j]
            bit, x1, x2, x, pos = decode_bit(x1, x2, x, buf, pos, end, _p(s))
            mant[kind, b, j] = adapt_counted(s, bit, RATE_LIMIT)
            v = (v << 1) | bit
        out[i] = v - 1
        prev[kind] = b if b < _PREV_CTX else _PREV_CTX - 1
        kind += 1
        if kind == n_kinds:
            kind = 0
    return pos


@nb.njit(cache=True)
def channel_intervals(raster):
    """Per-channel inter-spike intervals of a (T, N) uint8 raster, one time-major pass.

    Returns ``(counts, values)``: ``counts[c]`` spikes on channel ``c``; ``values`` holds, channel
    after channel, the first spike time and then the gaps minus one (so every value is >= 0 and
    consecutive spikes give 0).
    """
    T, N = raster.shape
    counts = np.zeros(N, dtype=np.int64)
    for t in range(T):
        for c in range(N):
            if raster[t, c]:    # any nonzero byte is one spike: the counts size ``values`` below
                counts[c] += 1
    offsets = np.zeros(N, dtype=np.int64)
    total = 0
    for c in range(N):
        offsets[c] = total
        total += counts[c]
    values = np.empty(total, dtype=np.int64)
    last = np.full(N, -1, dtype=np.int64)
    for t in range(T):
        for c in range(N):
            if raster[t, c]:
                values[offsets[c]] = t - last[c] - 1
                offsets[c] += 1
                last[c] = t
    return counts, values


@nb.njit(cache=True)
def scatter_intervals(counts, values, out):
    """Inverse of :func:`channel_intervals` into a zeroed (T, N) bool ``out``; False if a spike lands past T."""
    T, N = out.shape
    k = 0
    for c in range(N):
        t = -1
        for _ in range(counts[c]):
            if values[k] > T - 2 - t:   # compared before adding: a crafted gap must not overflow t
                return False
            t += values[k] + 1
            k += 1
            out[t, c] = True
    return True


_CRC16_TABLE = np.zeros(256, dtype=np.uint16)
for _i in range(256):
    _r = _i << 8
    for _ in range(8):
        _r = ((_r << 1) ^ 0x1021) if _r & 0x8000 else (_r << 1)
    _CRC16_TABLE[_i] = _r & 0xFFFF


@nb.njit(cache=True)
def _crc16_kernel(data, table):
    crc = 0xFFFF
    for i in range(data.shape[0]):
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ data[i]) & 0xFF]
    return crc


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection): catches every 1- and 2-bit error
    and every burst up to 16 bits in a frame, which is what a radio link's frame check needs."""
    return int(_crc16_kernel(np.frombuffer(data, dtype=np.uint8), _CRC16_TABLE))
