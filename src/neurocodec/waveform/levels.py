"""Lossless mapping of samples to level indices, and the compact description a payload stores.

Neural ADCs quantise to few levels (10 bits for the Neuralink implant) and the recorder spreads
them over int16, so coding the index of a sample's level instead of its value removes the empty
codes for free.  Three mappings, chosen per array by :func:`choose_mapping`:

- ``LADDER``: every value lies on the standard 10-bit ladder ``trunc((c - 511.5) * 65535/1023 - 0.5)``;
  the index is the ADC code ``c`` itself, so the payload stores nothing and the entropy models can
  learn per-code statistics (codes have unequal widths).
- ``TABLE``: the sorted distinct values, stored as LEB128 gaps; the index is the rank.
- ``OFFSET``: index = value - minimum, for data with no gaps worth a table (e.g. full-range noise).
"""

from __future__ import annotations

import threading

import numpy as np

from ..entropy import varint
from ..errors import CorruptStreamError, TruncatedStreamError
from ._kernels import channels_to_samples, map_through, map_to_channels

LADDER, TABLE, OFFSET = 0, 1, 2

LADDER_BITS = 10


def _build_ladder() -> np.ndarray:
    c = np.arange(1 << LADDER_BITS, dtype=np.int64)
    # trunc((c - 511.5) * 65535 / 1023 - 0.5) in integers: numerator over 2 * 1023
    num = (2 * c - 1023) * 65535 - 1023
    return np.where(num >= 0, num // 2046, -((-num) // 2046))


LADDER_VALUES = _build_ladder()
# int16 value + 32768 -> ladder code, -1 off the ladder
LADDER_INDEX = np.full(1 << 16, -1, dtype=np.int64)
LADDER_INDEX[LADDER_VALUES + 32768] = np.arange(LADDER_VALUES.size)


class Mapping:
    """Values <-> level indices ``0 .. size - 1`` (``size`` levels)."""

    __slots__ = ("kind", "offset", "size", "values")

    def __init__(self, kind: int, values: np.ndarray | None, offset: int, size: int):
        self.kind = kind
        self.values = values
        self.offset = offset
        self.size = size

    def to_levels(self, samples: np.ndarray) -> np.ndarray:
        if self.kind == OFFSET:
            return samples.astype(np.int64) - self.offset
        return np.searchsorted(self.values, samples).astype(np.int64)

    def to_samples(self, levels: np.ndarray, dtype) -> np.ndarray:
        """Samples of the levels' shape.  The levels must lie in the mapping's range (no check here)."""
        out = np.empty(levels.shape, dtype=dtype)
        if self.kind == OFFSET:
            np.add(levels, self.offset, out=out, casting="unsafe")
        else:
            np.take(self.values.astype(dtype), levels, out=out, mode="clip")
        return out

    def samples_from_channels(self, levels: np.ndarray, dtype, order: str = "C") -> np.ndarray:
        """Samples (T, C) in memory ``order`` from channel-major levels (C, T) the decoder checked."""
        out = np.empty(levels.shape[::-1], dtype=dtype, order=order)
        values = np.zeros(0, dtype=dtype) if self.kind == OFFSET else self.values.astype(dtype)
        channels_to_samples(levels, values, self.offset, out)
        return out

    def header(self) -> bytes:
        if self.kind == LADDER:
            return bytes([LADDER])
        if self.kind == OFFSET:
            return bytes([OFFSET]) + varint.encode([zigzag(self.offset), self.size - 1])
        gaps = np.diff(self.values)
        return (bytes([TABLE]) + varint.encode([self.size, zigzag(int(self.values[0]))])
                + varint.encode(gaps - 1))


def zigzag(v: int) -> int:
    return (v << 1) if v >= 0 else ((-v << 1) - 1)


def unzigzag(u: int) -> int:
    return (u >> 1) if not u & 1 else -((u + 1) >> 1)


#: Largest level buffer (elements) a thread keeps from one payload to the next: a default container
#: block's worth (container.DEFAULT_BLOCK_ELEMENTS).
SCRATCH_ELEMENTS = 1 << 22
_scratch = threading.local()


def level_buffer(shape: tuple) -> np.ndarray:
    """An int64 array of ``shape`` that this thread's next call may hand out again (contents undefined).

    A payload's levels live only while it is coded.  A block of a wide array holds 4 M of them
    (32 MB), which the allocator maps fresh for every block and the first writes then fault in page
    by page (about 1 ns a sample, which a mono recording's smaller array, reused from the heap,
    does not pay); one buffer per thread, up to ``SCRATCH_ELEMENTS``, spares that.
    """
    n = int(np.prod(shape, dtype=np.int64))
    if n > SCRATCH_ELEMENTS:
        return np.empty(shape, dtype=np.int64)
    buf = getattr(_scratch, "levels", None)
    if buf is None or buf.size < n:
        buf = _scratch.levels = np.empty(n, dtype=np.int64)
    return buf[:n].reshape(shape)


def choose_mapping(samples: np.ndarray, channel_major: bool = False,
                   out: np.ndarray | None = None) -> tuple[Mapping, np.ndarray]:
    """The cheapest mapping for ``samples`` (any shape, integer) and the samples' level indices (int64).

    The levels have the samples' shape, or with ``channel_major`` (for a (T, C) input) come as
    (C, T), the layout the coder takes, made in the same pass as the mapping.  ``out``: an int64
    array of the levels' shape that the ladder mapping fills instead of a new one.
    """
    shape = samples.shape[::-1] if channel_major else samples.shape
    if samples.size == 0:
        return Mapping(OFFSET, None, 0, 1), np.zeros(shape, dtype=np.int64)
    lo, hi = int(samples.min()), int(samples.max())
    if lo == hi:
        return Mapping(OFFSET, None, lo, 1), np.zeros(shape, dtype=np.int64)
    if lo >= LADDER_VALUES[0] and hi <= LADDER_VALUES[-1]:
        levels = np.empty(shape, dtype=np.int64) if out is None else out
        if channel_major:
            ok = map_to_channels(samples, LADDER_INDEX, 32768, levels)
        else:
            ok = map_through(np.ascontiguousarray(samples), LADDER_INDEX, 32768, levels.reshape(-1))
        if ok:
            return Mapping(LADDER, LADDER_VALUES, 0, LADDER_VALUES.size), levels
    span = hi - lo + 1
    mapping = Mapping(OFFSET, None, lo, span)
    # A table pays when it removes at least half the span: each coded sample then saves a bit or
    # more, against about a byte of table per distinct value.
    if span > 2 and 2 * span <= samples.size:
        distinct = np.unique(samples).astype(np.int64)
        if 2 * distinct.size <= span:
            mapping = Mapping(TABLE, distinct, 0, distinct.size)
    levels = mapping.to_levels(samples)
    return mapping, np.ascontiguousarray(levels.T) if channel_major else levels


def read_mapping(buf: np.ndarray, pos: int, min_value: int, max_value: int) -> tuple[Mapping, int]:
    """Parse a mapping header at ``buf[pos:]`` for samples in ``[min_value, max_value]``.

    Returns the mapping and the position after it.
    """
    if pos >= buf.size:
        raise TruncatedStreamError("payload ends before the level mapping")
    kind = int(buf[pos])
    pos += 1
    if kind == LADDER:
        return Mapping(LADDER, LADDER_VALUES, 0, LADDER_VALUES.size), pos
    if kind == OFFSET:
        (offset, span_minus_1), pos = read_varints(buf, pos, 2)
        offset = unzigzag(int(offset))
        if offset < min_value or offset + int(span_minus_1) > max_value:
            raise CorruptStreamError("level offset/span outside the sample type's range")
        return Mapping(OFFSET, None, offset, int(span_minus_1) + 1), pos
    if kind == TABLE:
        (size, first), pos = read_varints(buf, pos, 2)
        size = int(size)
        # each gap takes at least one byte, so the payload length bounds the table size
        if size < 2 or size - 1 > buf.size - pos or size > max_value - min_value + 1:
            raise CorruptStreamError(f"level table of {size} values does not fit the payload")
        gaps, pos = read_varints(buf, pos, size - 1)
        if np.any(gaps >= np.uint64(max_value - min_value)):
            raise CorruptStreamError("level table gap exceeds the sample type's range")
        first = unzigzag(int(first))
        # checked before the cumulative sum: a first value near 2**63 would wrap it and pass the end check
        if not min_value <= first <= max_value:
            raise CorruptStreamError("level table outside the sample type's range")
        values = np.empty(size, dtype=np.int64)
        values[0] = first
        values[1:] = gaps.astype(np.int64) + 1
        values = np.cumsum(values)
        if values[0] < min_value or values[-1] > max_value:
            raise CorruptStreamError("level table outside the sample type's range")
        return Mapping(TABLE, values, 0, size), pos
    raise CorruptStreamError(f"unknown level mapping kind {kind}")


def read_varints(buf: np.ndarray, pos: int, count: int) -> tuple[np.ndarray, int]:
    """``count`` LEB128 values from ``buf[pos:]`` and the position after them."""
    out = np.empty(count, dtype=np.uint64)
    end = varint.decode_array(buf, pos, buf.size, out)
    if end < 0:
        raise TruncatedStreamError("payload ends inside a header varint (or the varint is malformed)")
    return out, end
