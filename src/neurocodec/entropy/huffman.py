"""Canonical prefix (Huffman) codes: codes from codeword lengths, and array encode/decode kernels.

A canonical code is fixed by its codeword lengths alone: symbols are ordered by (length, symbol)
and take consecutive code values, shifted left whenever the length grows.  So a table of lengths
is all an encoder and a decoder must share, and the decoder needs no tree: per length it keeps the
first code, how many codes have that length and where their symbols start (the JPEG/DEFLATE scheme).

Codes are written MSB first with :mod:`.bitio`.  Decoding never reads past the buffer (reads past
the end give zero bits and keep counting, so the caller compares the final bit position with the
buffer size to detect truncation), and a bit pattern that is no codeword of an incomplete code
makes the kernel return -1 instead of a symbol.
"""

from __future__ import annotations

from fractions import Fraction

import numba as nb
import numpy as np

from ..errors import CorruptStreamError, InvalidConfigError, TruncatedStreamError
from .bitio import get_bit, put_bits

#: Longest codeword the kernels accept (codes are held in int64 and written with put_bits).
MAX_CODE_LENGTH = 32


def kraft_sum(lengths) -> Fraction:
    """Exact Kraft sum ``sum(2**-l)`` of codeword lengths: 1 for a complete prefix code."""
    return sum((Fraction(1, 1 << int(n)) for n in lengths), Fraction(0))


def _checked_lengths(lengths) -> np.ndarray:
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidConfigError(f"codeword lengths must be a non-empty 1-d integer array, got {lengths!r}")
    arr = arr.astype(np.int64)
    if arr.min() < 1 or arr.max() > MAX_CODE_LENGTH:
        raise InvalidConfigError(f"codeword lengths must lie in [1, {MAX_CODE_LENGTH}], got {arr.tolist()}")
    if kraft_sum(arr) > 1:
        raise InvalidConfigError(f"codeword lengths {arr.tolist()} violate the Kraft inequality (no prefix code)")
    return arr


def canonical_codes(lengths) -> np.ndarray:
    """Code value of every symbol (int64) for the canonical prefix code with these lengths."""
    arr = _checked_lengths(lengths)
    order = np.lexsort((np.arange(arr.size), arr))
    codes = np.zeros(arr.size, dtype=np.int64)
    code = 0
    prev = int(arr[order[0]])
    for i, sym in enumerate(order):
        n = int(arr[sym])
        if i:
            code = (code + 1) << (n - prev)
        codes[sym] = code
        prev = n
    return codes


class DecodeTable:
    """The per-length tables the canonical decoder walks (see module docstring)."""

    __slots__ = ("first_code", "count", "offset", "symbols", "max_length")

    def __init__(self, lengths):
        arr = _checked_lengths(lengths)
        codes = canonical_codes(arr)
        self.max_length = int(arr.max())
        order = np.lexsort((np.arange(arr.size), arr))
        self.symbols = order.astype(np.int64)
        self.count = np.bincount(arr, minlength=self.max_length + 1).astype(np.int64)
        self.first_code = np.zeros(self.max_length + 1, dtype=np.int64)
        self.offset = np.zeros(self.max_length + 1, dtype=np.int64)
        start = 0
        for n in range(1, self.max_length + 1):
            self.offset[n] = start
            if self.count[n]:
                self.first_code[n] = codes[order[start]]
            start += int(self.count[n])


@nb.njit(inline="always", cache=True)
def encode_symbol(buf, bitpos, symbol, codes, lengths):
    """Write one symbol's codeword; returns the new bit position."""
    return put_bits(buf, bitpos, codes[symbol], lengths[symbol])


@nb.njit(inline="always", cache=True)
def decode_symbol(buf, bitpos, first_code, count, offset, symbols, max_length):
    """Read one codeword; returns ``(symbol, bitpos)``, symbol -1 when the bits are no codeword."""
    code = 0
    for n in range(1, max_length + 1):
        bit, bitpos = get_bit(buf, bitpos)
        code = (code << 1) | bit
        delta = code - first_code[n]
        if count[n] > 0 and 0 <= delta < count[n]:
            return symbols[offset[n] + delta], bitpos
    return -1, bitpos


@nb.njit(cache=True)
def encode_array(symbols, codes, lengths, buf, bitpos):
    """Write every symbol of ``symbols`` (int array); returns the end bit position."""
    for i in range(symbols.shape[0]):
        bitpos = encode_symbol(buf, bitpos, symbols[i], codes, lengths)
    return bitpos


@nb.njit(cache=True)
def decode_array(buf, bitpos, first_code, count, offset, symbols, max_length, out):
    """Fill ``out`` with decoded symbols; returns the end bit position, or -1 on a non-codeword."""
    for i in range(out.shape[0]):
        sym, bitpos = decode_symbol(buf, bitpos, first_code, count, offset, symbols, max_length)
        if sym < 0:
            return -1
        out[i] = sym
    return bitpos


def encode(symbols, lengths) -> tuple[bytes, int]:
    """Canonical-code ``symbols`` with ``lengths``; returns ``(bytes, number of bits)``."""
    lens = _checked_lengths(lengths)
    syms = np.ascontiguousarray(symbols, dtype=np.int64)
    if syms.size and (syms.min() < 0 or syms.max() >= lens.size):
        raise InvalidConfigError(f"symbols must lie in [0, {lens.size}), got range [{syms.min()}, {syms.max()}]")
    nbits = int(lens[syms].sum()) if syms.size else 0
    buf = np.zeros((nbits + 7) // 8, dtype=np.uint8)
    encode_array(syms, canonical_codes(lens), lens, buf, 0)
    return buf.tobytes(), nbits


def decode(data, n: int, lengths) -> np.ndarray:
    """Inverse of :func:`encode`: ``n`` symbols (int64) from ``data``.

    Raises :class:`CorruptStreamError` on a bit pattern that is no codeword (incomplete codes) and
    :class:`TruncatedStreamError` when ``data`` ends before the ``n``-th symbol.
    """
    table = DecodeTable(lengths)
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    if n < 0 or n > 8 * buf.size:  # every codeword is at least one bit
        raise TruncatedStreamError(f"{buf.size} bytes cannot hold {n} codewords")
    out = np.empty(n, dtype=np.int64)
    end = decode_array(buf, 0, table.first_code, table.count, table.offset, table.symbols, table.max_length, out)
    if end < 0:
        raise CorruptStreamError("bit pattern is no codeword of this code")
    if end > 8 * buf.size:
        raise TruncatedStreamError("stream ended before its last codeword")
    return out


__all__ = [
    "MAX_CODE_LENGTH",
    "DecodeTable",
    "canonical_codes",
    "decode",
    "decode_array",
    "decode_symbol",
    "encode",
    "encode_array",
    "encode_symbol",
    "kraft_sum",
]
