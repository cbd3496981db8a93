"""LEB128 unsigned variable-length integers: 7 bits a byte, low group first, high bit = more follows.

The kernels work on whole arrays so a codec packs millions of values in one call.  Decoding never
reads past ``end``; a value that runs off the end, or is longer than 10 bytes (more than 64 bits),
makes :func:`decode_array` report failure through its returned position (-1).
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def encoded_size(values):
    """Bytes :func:`encode_array` will write for ``values`` (uint64)."""
    total = 0
    for i in range(values.shape[0]):
        v = values[i]
        total += 1
        while v >= 128:
            v >>= 7
            total += 1
    return total


@nb.njit(cache=True)
def encode_array(values, out, pos):
    """Write ``values`` (uint64) as LEB128 into ``out`` from ``pos``; returns the end position."""
    for i in range(values.shape[0]):
        v = values[i]
        while v >= 128:
            out[pos] = np.uint8((v & 127) | 128)
            v >>= 7
            pos += 1
        out[pos] = np.uint8(v)
        pos += 1
    return pos


@nb.njit(cache=True)
def decode_array(buf, pos, end, out):
    """Read ``len(out)`` LEB128 values from ``buf[pos:end]``; returns the end position, -1 if malformed."""
    for i in range(out.shape[0]):
        v = np.uint64(0)
        shift = 0
        while True:
            if pos >= end or shift > 63:
                return -1
            b = buf[pos]
            pos += 1
            v |= np.uint64(b & 127) << np.uint64(shift)
            if b < 128:
                break
            shift += 7
        out[i] = v
    return pos


def encode(values) -> bytes:
    """LEB128 bytes of a sequence of non-negative integers (< 2**64)."""
    arr = np.ascontiguousarray(values, dtype=np.uint64)
    out = np.empty(encoded_size(arr), dtype=np.uint8)
    encode_array(arr, out, 0)
    return out.tobytes()


def uvarint_bytes(value: int) -> bytes:
    """LEB128 bytes of one non-negative integer (for headers; arrays use :func:`encode_array`)."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    """One LEB128 value at ``buf[pos]``; returns ``(value, next_pos)``, or ``(-1, pos)`` if cut off or over 64 bits."""
    value = shift = 0
    while pos < len(buf) and shift <= 63:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    return -1, pos
