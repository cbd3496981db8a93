"""``streaming``: fixed windows, each frame decodable alone, with a bounded size and its own CRC.

For a radio link that sends a frame every ``window`` bins (20 bins = 1 ms at 20 kHz): no state
crosses frames, so a lost frame loses only its own bins, and no frame is larger than the raw
bitmap plus a few header bytes.  A frame, without the container (whose ~50 bytes would dwarf it)::

    u8       0xA0 | mode          sync nibble + mode: 0 bitmap, 1 sparse
    uvarint  index                frame sequence number (lets the receiver see a lost frame)
    uvarint  W                    bins in this frame
    uvarint  N                    channels
    payload  mode 0: packbits of the W x N bins, row-major (ceil(W * N / 8) bytes)
             mode 1: uvarint count, then count uvarints: gap to the next spiking bin (row-major
                     flat index) minus one
    u16      CRC-16/CCITT-FALSE of everything above, big-endian

The encoder sends the sparse form only when it is strictly smaller, so every frame satisfies
``len(frame) <= max_frame_bytes(W, N, index)`` = ``1 + len(uvarint(index)) + len(uvarint(W)) +
len(uvarint(N)) + ceil(W * N / 8) + 2``; for a 20 x 64 frame with index < 128 that is 166 bytes.

The codec's bare payload (for the container and zarr) is ``uvarint window`` then every frame of
the raster, each preceded by its length as a uvarint.
"""

from __future__ import annotations

import numpy as np

from ..entropy import varint
from ..errors import CorruptStreamError, InvalidConfigError, TruncatedStreamError
from ..registry import register_codec
from ._kernels import crc16
from .base import PayloadReader, SpikeCodec, as_raster, refuse_unknown

_SYNC = 0xA0
_BITMAP = 0
_SPARSE = 1
#: Largest frame (W * N bins) :meth:`StreamingCodec.decompress_frame` accepts before allocating.
MAX_FRAME_BINS = 1 << 24


def max_frame_bytes(W: int, N: int, index: int = 0) -> int:
    """The worst-case size of a frame of ``W`` x ``N`` bins (the bitmap form plus header and CRC)."""
    return (1 + len(varint.uvarint_bytes(index)) + len(varint.uvarint_bytes(W))
            + len(varint.uvarint_bytes(N)) + -(-W * N // 8) + 2)


def _frame(window: np.ndarray, index: int) -> bytes:
    W, N = window.shape
    head = varint.uvarint_bytes(index) + varint.uvarint_bytes(W) + varint.uvarint_bytes(N)
    bitmap = np.packbits(window, axis=None).tobytes()
    flat = np.flatnonzero(window)
    sparse = varint.uvarint_bytes(len(flat)) + varint.encode(np.diff(flat, prepend=-1) - 1)
    if len(sparse) < len(bitmap):
        body = bytes([_SYNC | _SPARSE]) + head + sparse
    else:
        body = bytes([_SYNC | _BITMAP]) + head + bitmap
    return body + crc16(body).to_bytes(2, "big")


def read_frame(frame: bytes, max_bins: int = MAX_FRAME_BINS) -> tuple[int, np.ndarray]:
    """``(index, window)`` of one frame; a damaged or cut frame raises the typed error."""
    frame = bytes(frame)
    what = "spikes_streaming frame"
    if len(frame) < 3:
        raise TruncatedStreamError(f"{what}: {len(frame)} bytes, a frame has at least 3")
    body = frame[:-2]
    if crc16(body) != int.from_bytes(frame[-2:], "big"):
        raise CorruptStreamError(f"{what}: CRC-16 mismatch (frame damaged or cut)")
    reader = PayloadReader(body, what)
    tag = reader.u8("tag")
    if tag & 0xF0 != _SYNC or tag & 0x0F not in (_BITMAP, _SPARSE):
        raise CorruptStreamError(f"{what}: bad tag byte 0x{tag:02x}")
    index = reader.uvarint("index")
    W = reader.uvarint("W")
    N = reader.uvarint("N")
    bins = W * N
    if bins > max_bins:
        raise CorruptStreamError(f"{what}: {W} x {N} bins exceed the {max_bins}-bin frame cap")
    if tag & 0x0F == _BITMAP:
        need = -(-bins // 8)
        if reader.remaining != need:
            raise CorruptStreamError(f"{what}: bitmap of {W} x {N} needs {need} bytes, {reader.remaining} present")
        bits = np.unpackbits(reader.buf[reader.pos:], count=bins).astype(bool)
        return index, bits.reshape(W, N)
    count = reader.bounded("spike count", min(bins, reader.remaining))
    gaps = np.empty(count, dtype=np.uint64)
    end = varint.decode_array(reader.buf, reader.pos, len(body), gaps) if count else reader.pos
    if end != len(body):
        raise CorruptStreamError(f"{what}: sparse spike list does not fill the frame exactly")
    if count and (gaps > np.uint64(bins)).any():
        raise CorruptStreamError(f"{what}: a spike lies outside the {W} x {N} frame")
    flat = np.cumsum(gaps.astype(np.int64) + 1) - 1
    if count and flat[-1] >= bins:
        raise CorruptStreamError(f"{what}: a spike lies outside the {W} x {N} frame")
    window = np.zeros(bins, dtype=bool)
    window[flat] = True
    return index, window.reshape(W, N)


@register_codec
class StreamingCodec(SpikeCodec):
    """Independent fixed-size frames with a bounded worst case and a CRC-16 each."""

    codec_id = "neurocodec.spikes_streaming"

    def __init__(self, window: int = 20, **unknown):
        refuse_unknown(self.codec_id, unknown)
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or not 1 <= window <= MAX_FRAME_BINS:
            raise InvalidConfigError(f"window must be an integer in [1, {MAX_FRAME_BINS}], got {window!r}")
        self.window = int(window)

    def compress_frame(self, window, index: int = 0) -> bytes:
        """One frame of a (W, N) raster window (``W`` is normally ``self.window``)."""
        raster = as_raster(window)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < 1 << 64:
            raise InvalidConfigError(f"frame index must be an integer in [0, 2**64), got {index!r}")
        if raster.size > MAX_FRAME_BINS:
            raise InvalidConfigError(f"a frame holds at most {MAX_FRAME_BINS} bins, got {raster.shape}")
        return _frame(raster, int(index))

    def decompress_frame(self, frame) -> np.ndarray:
        """The (W, N) window of one frame (see :func:`read_frame` for its index too)."""
        return read_frame(frame)[1]

    def _encode(self, raster):
        T, N = raster.shape
        if N > MAX_FRAME_BINS:
            raise InvalidConfigError(f"a frame holds at most {MAX_FRAME_BINS} bins; {N} channels do not fit one bin")
        rows = min(self.window, MAX_FRAME_BINS // N)
        parts = [varint.uvarint_bytes(rows)]
        for index, start in enumerate(range(0, T, rows)):
            frame = _frame(raster[start:start + rows], index)
            parts.append(varint.uvarint_bytes(len(frame)) + frame)
        return b"".join(parts)

    def _decode(self, reader, T, N):
        rows = reader.bounded("window", max(1, MAX_FRAME_BINS // N))
        if rows == 0:
            raise CorruptStreamError(f"{reader.what}: window of 0 bins")
        n_frames = -(-T // rows)
        if n_frames * 3 > reader.remaining:
            raise TruncatedStreamError(f"{reader.what}: {n_frames} frames cannot fit in {reader.remaining} bytes")
        out = np.empty((T, N), dtype=bool)
        for index in range(n_frames):
            size = reader.bounded("frame length", reader.remaining)
            frame_index, window = read_frame(reader.data[reader.pos:reader.pos + size])
            reader.pos += size
            start = index * rows
            if frame_index != index or window.shape != (min(rows, T - start), N):
                raise CorruptStreamError(f"{reader.what}: frame {index} is out of sequence or mis-sized")
            out[start:start + rows] = window
        reader.finish()
        return out
