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


@nb.njit(inline="always", cache=True)
def pack_bits(buf, pos, acc, count, value, nbits):
    """Append the low ``nbits`` (<= 32) of ``value`` through a bit accumulator, 4 bytes at a time to ``buf[pos]``.

    The same MSB-first layout as :func:`put_bits`, at a few instructions a call instead of a few a
    bit, and one rarely taken branch (a per-byte loop's count is a coin flip the branch predictor
    loses): ``acc`` holds the ``count`` (< 32) bits not yet shipped.  Returns ``(pos, acc,
    count)``; :func:`pack_flush` ships the rest.  Bytes past the end are counted, not written.
    """
    acc = (acc << nbits) | (value & ((1 << nbits) - 1))
    count += nbits
    if count >= 32:
        count -= 32
        word = acc >> count
        for k in range(4):
            if pos + k < buf.shape[0]:
                buf[pos + k] = (word >> (24 - 8 * k)) & 0xFF
        pos += 4
        acc &= (1 << count) - 1
    return pos, acc, count


@nb.njit(inline="always", cache=True)
def pack_flush(buf, pos, acc, count):
    """Ship the accumulator's last bits, zero-padded to a byte; returns the number of bits written in all."""
    bits = 8 * pos + count
    while count > 0:
        byte = acc >> (count - 8) if count >= 8 else acc << (8 - count)
        if pos < buf.shape[0]:
            buf[pos] = byte & 0xFF
        pos += 1
        count -= 8
    return bits


@nb.njit(inline="always", cache=True)
def unpack_bits(buf, pos, acc, count, nbits):
    """Inverse of :func:`pack_bits` (``nbits`` <= 32): ``(value, pos, acc, count)``; bytes past the end read as zero.

    Reads 4 bytes whenever fewer than ``nbits`` are pending; bits consumed so far: ``8 * pos - count``.
    """
    if count < nbits:
        for k in range(4):
            # int(): under NUMBA_DISABLE_JIT a NumPy uint8 would make the shift wrap at 8 bits
            acc = (acc << 8) | (int(buf[pos + k]) if pos + k < buf.shape[0] else 0)
        pos += 4
        count += 32
    count -= nbits
    return (acc >> count) & ((1 << nbits) - 1), pos, acc & ((1 << count) - 1), count
