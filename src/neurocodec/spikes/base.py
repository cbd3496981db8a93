"""What every spike codec shares: input rules, the payload header, the result, the integer section.

A spike raster is a 2-D array (T time bins, N channels), nonzero where a channel spiked.  Every
codec's bare payload (what :meth:`SpikeCodec.encode` returns, what zarr stores) starts with one of::

    version 1:  u8 1   uvarint T   uvarint N                                  (a C-order bool raster)
    version 2:  u8 2   u8 layout   u8 n, n bytes dtype   uvarint T   uvarint N

Version 2 records what version 1 cannot: the memory order (layout bit 0: Fortran order, so a
Fortran-order chunk comes back Fortran-order, as numcodecs and zarr expect) and the raster's dtype
(a uint8 raster decodes as uint8).  The encoder writes version 1 whenever it says it all (a C-order
or non-contiguous bool raster), so those payloads are unchanged; both versions decode.  64-bit
varints leave no 24- or 32-bit limit on T or N.  :meth:`SpikeCodec.compress` wraps the payload in the
project container (:mod:`neurocodec.container`: magic, version, codec id, config, dtype, shape, CRCs).

Decoders never trust a declared size: T * N is checked against :data:`MAX_DECODE_BINS` bins and
:data:`MAX_OUTPUT_BYTES` bytes (or the caller's ``max_output_bytes`` / ``out`` buffer, up to
:data:`HARD_MAX_BINS`) and against what the payload's length can possibly hold before anything is
allocated.  Encoders refuse a raster above the default caps, so every payload they write decodes.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass

import numpy as np
from numcodecs.abc import Codec

from .. import container
from ..entropy import varint
from ..errors import CorruptStreamError, InvalidConfigError, TruncatedStreamError, UnsupportedVersionError
from . import _kernels

#: The newest payload version (written when the raster is not a C-order bool one).
PAYLOAD_VERSION = 2
#: Payload versions this build decodes.
PAYLOAD_VERSIONS = (1, 2)
_LAYOUT_FORTRAN = 1
#: Largest raster a bare payload holds by default, on encode and decode (32 Mi bins): the decoder's
#: worst case (a dense raster through the interval codecs: 8 bytes per interval) stays below
#: 512 MiB and about a second.
MAX_DECODE_BINS = 1 << 25
#: Largest decoded raster in bytes (bins x item size) by default.
MAX_OUTPUT_BYTES = 1 << 28
#: What a decode allows when the caller asks for more (``max_output_bytes``, or an ``out`` buffer):
#: the cap of the first release, so every payload it wrote still decodes.
HARD_MAX_BINS = 1 << 33
#: Largest T or N of a version-1 payload (the container's per-dimension limit)...
MAX_DIM = 1 << 62
#: ...and of a version-2 payload or any encode: NumPy refuses shapes whose byte size overflows even
#: when the other side is 0.
MAX_DIM_V2 = 1 << 48
#: Rows per container block in :meth:`SpikeCodec.compress`: the whole bare-payload cap, so adaptive
#: models learn over long stretches instead of restarting every 4 Mi bins.
BLOCK_BINS = MAX_DECODE_BINS
_INT_VARINT = 0
_INT_ARITH = 1


def as_raster(spikes) -> np.ndarray:
    """``spikes`` as a C-contiguous (T, N) bool array; anything but exact 0/1 raises InvalidConfigError.

    A bool array is read by its bytes (nonzero = spike), so one whose bytes are not 0/1 (uint8 data
    viewed as bool) still gives a canonical raster: no kernel ever sees a bin other than 0 or 1.
    """
    arr = np.asarray(spikes)
    if arr.ndim != 2:
        raise InvalidConfigError(f"a spike raster is 2-D (time bins, channels), got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return np.ascontiguousarray(arr).view(np.uint8) != 0
    if arr.dtype.kind not in "iuf":
        raise InvalidConfigError(f"a spike raster holds bool or numeric 0/1 values, got dtype {arr.dtype}")
    binary = (arr == 0) | (arr == 1)   # NaN compares False both ways, so it is rejected too
    if not binary.all():
        bad = arr[~binary].ravel()[0]
        raise InvalidConfigError(f"spike rasters are binary (0/1); found the value {bad!r}")
    return np.ascontiguousarray(arr != 0)


def refuse_unknown(codec_id: str, unknown: dict) -> None:
    """Parameters a codec does not take (from zarr metadata, say) are a config error, not a TypeError."""
    if unknown:
        raise InvalidConfigError(f"{codec_id} does not take {', '.join(map(repr, sorted(unknown)))}")


def _is_fortran(arr: np.ndarray) -> bool:
    return arr.ndim == 2 and arr.flags.f_contiguous and not arr.flags.c_contiguous


def check_raster_size(T: int, N: int, itemsize: int, what: str, max_bins: int = MAX_DECODE_BINS,
                      max_bytes: int = MAX_OUTPUT_BYTES, error=InvalidConfigError) -> None:
    """Raise ``error`` when a T x N raster of ``itemsize``-byte bins exceeds the caps."""
    if T > MAX_DIM_V2 or N > MAX_DIM_V2:
        raise error(f"{what}: raster {T} x {N} has a side above 2**48")
    if T * N > max_bins or T * N * itemsize > max_bytes:
        raise error(
            f"{what}: raster {T} x {N} ({T * N * itemsize} bytes) exceeds the cap of {max_bins} bins / "
            f"{max_bytes} bytes of a bare payload (code it in smaller chunks)"
        )


def entropy_bound_bits(T: int, N: int, n_spikes: int) -> float:
    """T * N * H(p) for the measured density p: the iid (order-0) bound in bits."""
    bins = T * N
    if bins == 0 or n_spikes in (0, bins):
        return 0.0
    p = n_spikes / bins
    return bins * -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


@dataclass(frozen=True)
class SpikeResult:
    """Figures of one compression.  Ratios are against 1 bit per bin (``compression_ratio``) and
    one byte per bin (``ratio_vs_bytes``); ``efficiency`` is bound bits / coded bits (1.0 = at the
    iid entropy bound; above 1 means the codec exploits structure beyond the iid bound)."""

    codec: str
    T: int
    N: int
    n_spikes: int
    coded_bytes: int
    compression_ratio: float
    ratio_vs_bytes: float
    bits_per_spike: float
    entropy_bound_bits: float
    efficiency: float

    @classmethod
    def measure(cls, codec: str, raster: np.ndarray, coded_bytes: int) -> "SpikeResult":
        T, N = raster.shape
        n = int(np.count_nonzero(raster))
        bins = T * N
        bound = entropy_bound_bits(T, N, n)
        coded_bits = 8 * coded_bytes
        return cls(
            codec=codec, T=T, N=N, n_spikes=n, coded_bytes=coded_bytes,
            compression_ratio=bins / coded_bits if coded_bits else 0.0,
            ratio_vs_bytes=bins / coded_bytes if coded_bytes else 0.0,
            bits_per_spike=coded_bits / n if n else math.inf,
            entropy_bound_bits=bound,
            efficiency=bound / coded_bits if coded_bits else 0.0,
        )


class PayloadReader:
    """Bounds-checked cursor over a payload; every short read raises TruncatedStreamError."""

    def __init__(self, data: bytes, what: str):
        self.data = data
        self.buf = np.frombuffer(data, dtype=np.uint8)
        self.pos = 0
        self.what = what

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def u8(self, field: str) -> int:
        if self.pos >= len(self.data):
            raise TruncatedStreamError(f"{self.what}: payload ends before {field}")
        self.pos += 1
        return self.data[self.pos - 1]

    def uvarint(self, field: str) -> int:
        value, pos = varint.read_uvarint(self.data, self.pos)
        if value < 0:
            if len(self.data) - self.pos >= 10:
                raise CorruptStreamError(f"{self.what}: {field} is a varint longer than 64 bits")
            raise TruncatedStreamError(f"{self.what}: payload ends inside {field}")
        self.pos = pos
        return value

    def bounded(self, field: str, limit: int) -> int:
        """A uvarint that must not exceed ``limit`` (a count checked before it sizes anything)."""
        value = self.uvarint(field)
        if value > limit:
            raise CorruptStreamError(f"{self.what}: {field} = {value} exceeds its bound {limit}")
        return value

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise CorruptStreamError(f"{self.what}: {len(self.data) - self.pos} trailing bytes in the payload")


def encode_uints(values: np.ndarray, n_kinds: int = 1) -> bytes:
    """The integer section: ``u8 mode, uvarint count`` then LEB128 or arithmetic code, whichever is smaller.

    Always the last section of a payload (its end is the payload's end).  ``n_kinds`` > 1 gives
    interleaved fields (value i is of kind ``i % n_kinds``) their own arithmetic-coder contexts.
    """
    values = np.ascontiguousarray(values, dtype=np.int64)
    packed = values.view(np.uint64)
    size = varint.encoded_size(packed)
    head = varint.uvarint_bytes(len(values))
    arith = np.empty(size, dtype=np.uint8)
    end = _kernels.uint_encode_arith(values, n_kinds, arith) if len(values) else size + 1
    if end <= size:
        return bytes([_INT_ARITH]) + head + arith[:end].tobytes()
    out = np.empty(size, dtype=np.uint8)
    varint.encode_array(packed, out, 0)
    return bytes([_INT_VARINT]) + head + out.tobytes()


def decode_uints(reader: PayloadReader, limit: int, n_kinds: int = 1) -> np.ndarray:
    """Inverse of :func:`encode_uints`, reading to the end of the payload; at most ``limit`` values."""
    mode = reader.u8("integer coding mode")
    if mode not in (_INT_VARINT, _INT_ARITH):
        raise CorruptStreamError(f"{reader.what}: unknown integer coding mode {mode}")
    per_byte = 1 if mode == _INT_VARINT else _kernels.VALUES_PER_BYTE
    count = reader.bounded("integer count", min(limit, (reader.remaining + 8) * per_byte))
    out = np.empty(count, dtype=np.int64)
    start, end = reader.pos, len(reader.data)
    if mode == _INT_VARINT:
        pos = varint.decode_array(reader.buf, start, end, out.view(np.uint64)) if count else start
        if pos < 0:
            raise TruncatedStreamError(f"{reader.what}: integer section ends early or holds a malformed varint")
        if (out < 0).any():
            raise CorruptStreamError(f"{reader.what}: an integer is 2**63 or more")
    elif count == 0:
        pos = start
    else:
        pos = _kernels.uint_decode_arith(reader.buf, start, end, count, n_kinds, out)
        if pos < 0 or pos > end:
            raise TruncatedStreamError(f"{reader.what}: arithmetic-coded integers run past the payload")
    reader.pos = pos
    reader.finish()
    return out


class SpikeCodec(Codec):
    """Base of the family: validation, header, container wrapping and the result.

    Subclasses set ``codec_id`` (``"neurocodec.spikes_<name>"``) and implement ``_encode(raster)``
    (returns the bytes after the shared header) and ``_decode(reader, T, N)`` (returns the bool
    raster and must consume the payload exactly).
    """

    codec_id = "neurocodec.spikes"

    def __init__(self, **unknown):
        refuse_unknown(self.codec_id, unknown)

    @property
    def name(self) -> str:
        return self.codec_id[len("neurocodec.spikes_"):]

    # -- numcodecs interface (bare payload) --------------------------------------------------------
    def encode(self, buf) -> bytes:
        arr = np.asarray(buf)
        raster = as_raster(arr)
        T, N = raster.shape
        check_raster_size(T, N, arr.dtype.itemsize, self.codec_id)
        fortran = _is_fortran(arr)
        if arr.dtype == np.bool_ and not fortran:
            head = bytes([1])
        else:
            dtype = arr.dtype.str.encode("ascii")
            head = bytes([2, _LAYOUT_FORTRAN if fortran else 0, len(dtype)]) + dtype
        head += varint.uvarint_bytes(T) + varint.uvarint_bytes(N)
        if T * N == 0:
            return head
        return head + self._encode(raster)

    def decode(self, buf, out=None, *, max_output_bytes: int | None = None):
        """The raster of a bare payload, in the dtype and memory order it was encoded from.

        ``max_output_bytes`` (or an ``out`` buffer, whose size is then the cap) allows rasters above
        the default caps, up to :data:`HARD_MAX_BINS` bins.
        """
        data = container.payload_bytes(buf, self.codec_id)
        reader = PayloadReader(data, self.codec_id)
        version = reader.u8("format version")
        if version not in PAYLOAD_VERSIONS:
            raise UnsupportedVersionError(
                f"{self.codec_id}: payload version {version}; this build reads {PAYLOAD_VERSIONS}"
            )
        fortran, dtype = False, np.dtype(bool)
        if version == 2:
            layout = reader.u8("layout")
            if layout > _LAYOUT_FORTRAN:
                raise CorruptStreamError(f"{self.codec_id}: unknown layout flags {layout}")
            fortran = bool(layout & _LAYOUT_FORTRAN)
            n = reader.u8("dtype length")
            if n > reader.remaining:
                raise TruncatedStreamError(f"{self.codec_id}: payload ends inside the dtype")
            dtype = container.parse_dtype(data[reader.pos:reader.pos + n], self.codec_id)
            reader.pos += n
        T = reader.uvarint("T")
        N = reader.uvarint("N")
        side = MAX_DIM if version == 1 else MAX_DIM_V2
        if T > side or N > side:   # NumPy refuses such a shape even when the other side is 0
            raise CorruptStreamError(f"{self.codec_id}: declared raster {T} x {N} has a side above {side}")
        target = container.decode_target(out, (T, N), dtype, fortran, self.codec_id)
        if target is not None:
            max_bins, max_bytes = HARD_MAX_BINS, target.nbytes
        elif max_output_bytes is not None:
            max_bins, max_bytes = HARD_MAX_BINS, int(max_output_bytes)
        else:
            max_bins, max_bytes = MAX_DECODE_BINS, MAX_OUTPUT_BYTES
        if T * N > max_bins or T * N * dtype.itemsize > max_bytes:
            raise CorruptStreamError(
                f"{self.codec_id}: declared raster {T} x {N} of {dtype} exceeds the decode cap of "
                f"{max_bins} bins / {max_bytes} bytes (pass max_output_bytes to raise it)"
            )
        if T * N == 0:
            reader.finish()
            raster = np.zeros((T, N), dtype=bool)
        else:
            raster = self._decode(reader, T, N)
        if target is not None:
            np.copyto(target, raster, casting="unsafe")   # 0/1 values: exact in every dtype
            return out
        order = "F" if fortran else "C"
        if dtype == np.bool_:
            return raster if not fortran else np.asfortranarray(raster)
        if dtype.itemsize == 1:
            return raster.view(dtype) if not fortran else np.asfortranarray(raster.view(np.uint8)).view(dtype)
        return raster.astype(dtype, order=order)

    # -- standalone streams -------------------------------------------------------------------------
    def compress(self, spikes) -> tuple[bytes, SpikeResult]:
        """A standalone container stream of ``spikes`` and the figures of the compression."""
        raster = as_raster(spikes)
        rows = max(1, BLOCK_BINS // max(raster.shape[1], 1))
        data = container.pack(self, raster, block_rows=rows)
        return data, SpikeResult.measure(self.name, raster, len(data))

    def decompress(self, data, T: int | None = None, N: int | None = None, *,
                   max_output_bytes: int | None = None) -> np.ndarray:
        """Decode a stream made by :meth:`compress`; a given ``T`` or ``N`` must match the stream's.

        ``max_output_bytes`` as for :func:`neurocodec.decompress` (a very sparse raster compresses
        beyond the default 4096:1 cap; say how large it may be)."""
        header = container.read_header(data, what=self.codec_id)
        if header.codec_id != self.codec_id:
            raise InvalidConfigError(f"the stream was written by {header.codec_id}, not {self.codec_id}")
        if len(header.shape) != 2 or header.dtype != np.bool_:
            raise CorruptStreamError(
                f"{self.codec_id}: stream holds {header.dtype}{header.shape}, not a 2-D bool raster"
            )
        for label, given, stored in (("T", T, header.shape[0]), ("N", N, header.shape[1])):
            if given is not None and int(given) != stored:
                raise CorruptStreamError(f"{self.codec_id}: caller expects {label} = {given}, stream has {stored}")
        return container.unpack_header(data, header, max_output_bytes=max_output_bytes, what=self.codec_id)

    @abstractmethod
    def _encode(self, raster: np.ndarray) -> bytes:
        """The payload after the shared header, for a non-empty raster."""

    @abstractmethod
    def _decode(self, reader: PayloadReader, T: int, N: int) -> np.ndarray:
        """The (T, N) bool raster; must consume the payload exactly."""


def should_invert(raster: np.ndarray) -> bool:
    """True when more than half the bins spike: coding the complement is then cheaper."""
    return 2 * int(np.count_nonzero(raster)) > raster.size
