"""Binary arithmetic coder: 32-bit interval, 16-bit probabilities, no carries.

The coder knows nothing of neurons: it narrows an interval [x1, x2] of 32-bit integers by a
probability ``p1 = P(bit == 1)`` in 1/65536 units and ships a byte whenever the leading bytes of
both ends agree (the carry-less scheme of Schindler/lpaq).  Models live in :mod:`.models`.

Byte layout of a coded stream: the bytes shipped while coding, then 4 flush bytes (x1 big-endian).
The decoder reads 4 bytes to start and one per shipped byte; reads past the end give 0, so a
truncated or corrupt stream decodes to garbage that the container's CRC catches, never out of bounds.

Every function is ``inline='always'`` so a codec kernel that calls them keeps the whole state in
registers; state travels as plain integers (tuples in, tuples out).  Writes past the end of the
output buffer are skipped while ``pos`` keeps counting, so a caller that sized the buffer too small
sees ``pos > len(buf)`` after :func:`encode_flush` and codes again into a larger buffer.
"""

from __future__ import annotations

import numba as nb

PROB_BITS = 16
PROB_ONE = 1 << PROB_BITS
#: Probabilities handed to the coder must lie in [P_MIN, P_MAX].
P_MIN = 1
P_MAX = PROB_ONE - 1
_TOP = 0xFFFFFFFF
_HEAD = 0xFF000000


@nb.njit(inline="always", cache=True)
def _split(x1, x2, p1):
    r = x2 - x1
    return x1 + (r >> 16) * p1 + (((r & 0xFFFF) * p1) >> 16)


@nb.njit(inline="always", cache=True)
def encode_init():
    """Start state ``(x1, x2)`` of an encoder."""
    return 0, _TOP


@nb.njit(inline="always", cache=True)
def encode_bit(x1, x2, buf, pos, bit, p1):
    """Code ``bit`` with ``P(1) = p1 / 65536``; returns ``(x1, x2, pos)``."""
    xmid = _split(x1, x2, p1)
    if bit:
        x2 = xmid
    else:
        x1 = xmid + 1
    while ((x1 ^ x2) & _HEAD) == 0:
        if pos < buf.shape[0]:
            buf[pos] = x2 >> 24
        pos += 1
        x1 = (x1 << 8) & _TOP
        x2 = ((x2 << 8) & _TOP) | 0xFF
    return x1, x2, pos


@nb.njit(inline="always", cache=True)
def encode_raw(x1, x2, buf, pos, value, nbits):
    """Code the low ``nbits`` of ``value`` (most significant first) at probability 1/2 each."""
    for i in range(nbits - 1, -1, -1):
        x1, x2, pos = encode_bit(x1, x2, buf, pos, (value >> i) & 1, 32768)
    return x1, x2, pos


@nb.njit(inline="always", cache=True)
def encode_flush(x1, x2, buf, pos):
    """Ship the 4 bytes that pin the final interval; returns the end position."""
    for shift in (24, 16, 8, 0):
        if pos < buf.shape[0]:
            buf[pos] = (x1 >> shift) & 0xFF
        pos += 1
    return pos


@nb.njit(inline="always", cache=True)
def _next_byte(buf, pos, end):
    if pos < end:
        # int(): under NUMBA_DISABLE_JIT a NumPy uint8 would make the shifts below wrap at 8 bits
        return int(buf[pos])
    return 0


@nb.njit(inline="always", cache=True)
def decode_init(buf, pos, end):
    """Start a decoder on ``buf[pos:end]``; returns ``(x1, x2, x, pos)``."""
    x = 0
    for _ in range(4):
        x = (x << 8) | _next_byte(buf, pos, end)
        pos += 1
    return 0, _TOP, x, pos


@nb.njit(inline="always", cache=True)
def decode_bit(x1, x2, x, buf, pos, end, p1):
    """Decode one bit coded with ``P(1) = p1 / 65536``; returns ``(bit, x1, x2, x, pos)``."""
    xmid = _split(x1, x2, p1)
    if x <= xmid:
        bit = 1
        x2 = xmid
    else:
        bit = 0
        x1 = xmid + 1
    while ((x1 ^ x2) & _HEAD) == 0:
        x1 = (x1 << 8) & _TOP
        x2 = ((x2 << 8) & _TOP) | 0xFF
        x = ((x << 8) & _TOP) | _next_byte(buf, pos, end)
        pos += 1
    return bit, x1, x2, x, pos


@nb.njit(inline="always", cache=True)
def decode_raw(x1, x2, x, buf, pos, end, nbits):
    """Inverse of :func:`encode_raw`; returns ``(value, x1, x2, x, pos)``."""
    value = 0
    for _ in range(nbits):
        bit, x1, x2, x, pos = decode_bit(x1, x2, x, buf, pos, end, 32768)
        value = (value << 1) | bit
    return value, x1, x2, x, pos


def consumed_bytes_ok(pos: int, end: int) -> bool:
    """True when a decoder that stopped at ``pos`` read no more than the 4 bytes of look-ahead past ``end``.

    A decoder reads 4 bytes ahead of what it has used, so after the last symbol ``pos`` equals the
    stream end exactly when the stream was not truncated.
    """
    return pos <= end
