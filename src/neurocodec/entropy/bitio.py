"""Bit-level I/O for prefix codes (Huffman, Golomb): MSB-first within each byte.

State is a bit position; writers OR bits into a zeroed buffer, so the caller allocates the buffer
once from a size bound.  Reads past the end return zero bits and keep counting, so a decoder checks
``bitpos <= 8 * len(buf)`` once at the end to detect truncation instead of testing every read.
"""

from __future__ import annotations

import numba as nb


@nb.njit(inline="always", cache=True)
def put_bits(buf, bitpos, value, nbits):
    """Write the low ``nbits`` (<= 57) of ``value`` at ``bitpos``; returns the new position."""
    for i in range(nbits - 1, -1, -1):
        byte = bitpos >> 3
        if byte < buf.shape[0]:
            # no branch on the bit itself: coded bits are coin flips a predictor cannot learn
            buf[byte] |= ((value >> i) & 1) << (7 - (bitpos & 7))
        bitpos += 1
    return bitpos


@nb.njit(inline="always", cache=True)
def get_bit(buf, bitpos):
    """One bit at ``bitpos`` (0 past the end); returns ``(bit, bitpos + 1)``."""
    byte = bitpos >> 3
    if byte < buf.shape[0]:
        # int(): under NUMBA_DISABLE_JIT a NumPy uint8 would make the caller's sums wrap at 8 bits
        return int((buf[byte] >> (7 - (bitpos & 7))) & 1), bitpos + 1
    return 0, bitpos + 1


@nb.njit(inline="always", cache=True)
def get_bits(buf, bitpos, nbits):
    """``nbits`` bits, MSB first, as an integer; returns ``(value, bitpos)``."""
    value = 0
    for _ in range(nbits):
        bit, bitpos = get_bit(buf, bitpos)
        value = (value << 1) | bit
    return value, bitpos
