"""Bit-level I/O for prefix codes (Huffman, Golomb): MSB-first within each byte.

State is a bit position; writers OR bits into a zeroed buffer, so the caller allocates the buffer
once from a size bound.  Reads past the end return zero bits and keep counting, so a decoder checks
``bitpos <= 8 * len(buf)`` once at the end to detect truncation instead of testing every read.
"""

from __future__ import annotations

import numba as nb

from .models import nonneg


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
def _clamped(buf, pos):
    # the index a byte at pos lands on: the last byte for every position past the end
    last = buf.shape[0] - 1
    return nonneg(pos if pos < last else last)


@nb.njit(inline="always", cache=True)
def pack_bits(buf, pos, acc, count, value, nbits):
    """Append the low ``nbits`` (<= 32) of ``value`` through a bit accumulator, 4 bytes at a time to ``buf[pos]``.

    The same MSB-first layout as :func:`put_bits` at a few instructions a call instead of a few a
    bit, with one rarely taken branch: ``acc`` holds the ``count`` (< 32) bits
    not yet shipped.  Returns ``(pos, acc, count)``; :func:`pack_flush` ships the rest.  ``buf``
    must not be empty; bytes past its end all land on its last byte while ``pos`` keeps counting,
    so a caller that finds ``pos`` past the end codes again into a larger buffer.
    """
    acc = (acc << nbits) | (value & ((1 << nbits) - 1))
    count += nbits
    # at most once (count stays below 64); a `while`, because numba keeps reference counting the
    # array around an `if` that touches it in an inlined function, but prunes it around a loop
    while count >= 32:
        count -= 32
        word = acc >> count
        buf[_clamped(buf, pos)] = (word >> 24) & 0xFF
        buf[_clamped(buf, pos + 1)] = (word >> 16) & 0xFF
        buf[_clamped(buf, pos + 2)] = (word >> 8) & 0xFF
        buf[_clamped(buf, pos + 3)] = word & 0xFF
        pos += 4
        acc &= (1 << count) - 1
    return pos, acc, count


@nb.njit(cache=True)
def pack_flush(buf, pos, acc, count):
    """Ship the accumulator's last bits, zero-padded to a byte; returns the number of bits written in all."""
    bits = 8 * pos + count
    while count > 0:
        byte = acc >> (count - 8) if count >= 8 else acc << (8 - count)
        buf[_clamped(buf, pos)] = byte & 0xFF
        pos += 1
        count -= 8
    return bits


@nb.njit(inline="always", cache=True)
def unpack_bits(buf, pos, acc, count, nbits):
    """Inverse of :func:`pack_bits` (``nbits`` <= 32): ``(value, pos, acc, count)``.

    ``buf`` must end in a zero byte: every read past the end reads it, so a truncated stream
    decodes zeros, never out of bounds.  Reads 4 bytes whenever fewer than ``nbits`` are pending;
    bits consumed so far: ``8 * pos - count``.
    """
    while count < nbits:  # at most once (nbits <= 32); a loop for the reason given in pack_bits
        # int(): under NUMBA_DISABLE_JIT a NumPy uint8 would make the shifts wrap at 8 bits
        acc = ((acc << 32) | (int(buf[_clamped(buf, pos)]) << 24) | (int(buf[_clamped(buf, pos + 1)]) << 16)
               | (int(buf[_clamped(buf, pos + 2)]) << 8) | int(buf[_clamped(buf, pos + 3)]))
        pos += 4
        count += 32
    count -= nbits
    return (acc >> count) & ((1 << nbits) - 1), pos, acc & ((1 << count) - 1), count
