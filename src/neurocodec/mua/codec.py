"""``MUACodec``: the implant's MUA compressor as a numcodecs codec, plus the calibration it runs.

On the implant (Savolainen et al.) each channel first fills a histogram with its first
``hist_samples`` binned counts, sent uncompressed meanwhile (ceil(log2 S) bits each).  Then the
estimation sort ranks the values from the histogram's peak, the channel is assigned the encoder
(SCLV) with the smallest dot product with the estimated sorted histogram, and every later count is
mapped through the sort and sent as its static Huffman codeword.  :func:`calibrate` is that
procedure; the codec and the bit-rate analysis both call it, so they cannot disagree.  Counts
above S-1 are saturated (as the implant's binner does); the saturated counts round-trip exactly.

With ``calibration="sequential"`` (the paper's hardware: one shared histogram) the channels
calibrate in turn instead of at once: channel c histograms its counts of bins c*(H-1) ..
c*(H-1)+H-1 (H = ``hist_samples``) and sends raw until then.

Bare payload (little header, then the stream; the container adds magic and CRCs)::

    u8 version (1, 2 or 3) | versions 2 and 3: u8 layout (bit 0: Fortran order)
    | u8 coder (0 static Huffman, 1 adaptive arithmetic)
    | u8 n, n bytes input dtype (NumPy string, e.g. "<i8") | LEB128 bins, channels, S
    coder 0: LEB128 hist_samples | u8 sort | version 3 only: u8 schedule (1 sequential calibration)
             | u8 n_encoders | n_encoders * S u8 lengths
             | channels * u8 encoder index | channels * u8 peak | bit stream, zero-padded to a byte
    coder 1: arithmetic-coded stream

Values go out time-major with channels interleaved, as the implant multiplexes them.  Decoded
counts come back in the input's integer (or bool) dtype and memory order: a Fortran-order array is
written as version 2, whose layout byte says so, and the sequential calibration schedule as
version 3 (version 2 plus the schedule byte); anything else as version 1, unchanged.  Decoders
check the declared shape against :data:`MAX_COUNTS` / :data:`MAX_OUTPUT_BYTES` (or the caller's
``max_output_bytes`` / ``out``) and against what the stream's length can hold before allocating;
encoders refuse what the decoder would.  The arithmetic coder is neurocodec's own
addition, not the paper's: it shows what the hardware-cheap static code gives up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numcodecs.abc import Codec

from .. import container
from ..entropy import varint
from ..entropy.arith import P_MAX, PROB_ONE
from ..entropy.huffman import DecodeTable, canonical_codes
from ..entropy.models import initial_counted
from ..errors import CorruptStreamError, InvalidConfigError, TruncatedStreamError, UnsupportedVersionError
from ..registry import register_codec
from . import _kernels
from .sclv import MAX_S, check_encoders, check_S, default_encoders, rank_table

FORMAT_VERSION = 3
FORMAT_VERSIONS = (1, 2, 3)
#: First version whose static Huffman section holds the calibration schedule byte.
SEQUENTIAL_VERSION = 3
_LAYOUT_FORTRAN = 1
#: Largest array a bare payload holds by default, on encode and decode: 64 Mi counts and 256 MiB
#: decoded (about a second of decoding at worst).
MAX_COUNTS = 1 << 26
MAX_OUTPUT_BYTES = 1 << 28
#: What a decode allows when the caller asks for more (``max_output_bytes`` or an ``out`` buffer).
HARD_MAX_COUNTS = 1 << 33
#: Largest calibration length (far beyond any recording; the header stores it as a varint).
MAX_HIST_SAMPLES = 1 << 62
CODERS = ("huffman", "arithmetic")
CALIBRATIONS = ("parallel", "sequential")
# Every count costs at least one binary decision, and the coder never codes a decision at a
# probability above P_MAX / 65536, so a decision costs at least -log2(P_MAX / 65536) bits.  That
# bounds the counts a stream of a given size can hold (checked before allocating the output).
_ARITH_SYMBOLS_PER_BYTE = math.ceil(8 / -math.log2(P_MAX / PROB_ONE))
# Far beyond any recording, and small enough that NumPy can shape an empty array with it
# (it refuses dimensions whose byte size overflows even when another dimension is 0)
_MAX_DIM = 1 << 48


def raw_bits(S: int) -> int:
    """Bits per bin of plain binning: ceil(log2 S)."""
    return max(1, int(S - 1).bit_length())


def as_counts(counts) -> np.ndarray:
    """``counts`` as a (bins, channels) int64 array, or :class:`InvalidConfigError`."""
    arr = np.asarray(counts)
    if arr.ndim != 2:
        raise InvalidConfigError(f"counts must be a 2-d (bins, channels) array, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise InvalidConfigError(f"counts must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise InvalidConfigError("counts must be non-negative")
    return arr


def saturate(counts, S: int) -> np.ndarray:
    """Counts clipped at S-1 (the implant's saturating binner)."""
    return np.minimum(as_counts(counts), check_S(S) - 1)


@dataclass(frozen=True)
class Calibration:
    """What each channel's calibration decided: its encoder and its estimation-sort peak."""

    encoder: np.ndarray  # (channels,) index into the encoder list
    peak: np.ndarray  # (channels,) symbol ranked 0 (0 everywhere when sorting is off)
    histograms: np.ndarray  # (channels, S) calibration histograms
    calib_bins: int  # bins before every channel has calibrated (min(hist_samples, bins) in parallel)
    calib_end: np.ndarray  # (channels,) first bin each channel codes (earlier bins go out raw)

    def ranks(self, S: int) -> np.ndarray:
        """``ranks[c, v]`` = rank of value ``v`` on channel ``c``."""
        return rank_table(S)[self.peak]


def calibration_windows(bins: int, channels: int, hist_samples: int, calibration: str = "parallel"):
    """First bin and end (exclusive, at most ``bins``) of each channel's calibration window."""
    # a window longer than the array ends with it; clipping keeps c * (H - 1) within int64
    hist_samples = min(hist_samples, bins + 1)
    step = hist_samples - 1 if calibration == "sequential" else 0
    start = np.arange(channels, dtype=np.int64) * step
    return np.minimum(start, bins), np.minimum(start + hist_samples, bins)


def calibrate(sat_counts: np.ndarray, encoders: np.ndarray, hist_samples: int, sort: bool,
              calibration: str = "parallel") -> Calibration:
    """Run the implant's calibration on saturated counts (see module docstring).

    A channel whose window the counts end inside keeps the choice of its partial histogram (no
    count of it is coded, so only a re-encoding depends on it).
    """
    if calibration not in CALIBRATIONS:
        raise InvalidConfigError(f"calibration must be one of {CALIBRATIONS}, got {calibration!r}")
    S = encoders.shape[1]
    n_ch = sat_counts.shape[1]
    start, end = calibration_windows(sat_counts.shape[0], n_ch, hist_samples, calibration)
    hist = _kernels.window_histograms(sat_counts, start, end, S)
    peak = np.argmax(hist, axis=1) if sort else np.zeros(n_ch, dtype=np.int64)
    ranks = rank_table(S)[peak]
    # sorted[c, r] = hist[c, value ranked r]: scatter each value's count to its rank
    sorted_hist = np.zeros_like(hist)
    np.put_along_axis(sorted_hist, ranks, hist, axis=1)
    encoder = np.argmin(sorted_hist @ encoders.T, axis=1)
    calib = int(end.max()) if n_ch else min(hist_samples, sat_counts.shape[0])
    return Calibration(encoder.astype(np.int64), peak.astype(np.int64), hist, calib, end)


def _check_hist_samples(hist_samples) -> int:
    if isinstance(hist_samples, bool) or not isinstance(hist_samples, (int, np.integer)) \
            or not 1 <= hist_samples <= MAX_HIST_SAMPLES:
        raise InvalidConfigError(f"hist_samples must be an integer in [1, 2**62], got {hist_samples!r}")
    return int(hist_samples)


def _check_shape(bins: int, channels: int, itemsize: int, max_counts: int, max_bytes: int, error) -> None:
    if bins >= _MAX_DIM or channels >= _MAX_DIM:
        raise error(f"MUA array shape ({bins}, {channels}) has a side of 2**48 or more")
    if bins * channels > max_counts or bins * channels * itemsize > max_bytes:
        raise error(f"MUA array ({bins}, {channels}) of {itemsize}-byte counts exceeds the cap of {max_counts} "
                    f"counts / {max_bytes} bytes of a bare payload (code it in smaller chunks)")


@register_codec
class MUACodec(Codec):
    """Compress binned MUA counts (bins, channels) the way the paper's implant does.

    Parameters
    ----------
    S : number of symbols; counts saturate at S-1 (lossy above it, exact below).
    bin_ms : binning period; recorded in the config for analysis, not needed to decode.
    encoders : list of SCLVs (each S ascending codeword lengths, Kraft sum 1), e.g. from
        :func:`neurocodec.mua.train_encoders`; default the single [1, 2, ..., S-1, S-1].
    hist_samples : calibration histogram size (2**d on the implant).
    sort : apply the estimation sort (False = the paper's "no sort" configuration).
    coder : "huffman" (the paper's static code) or "arithmetic" (ours: adaptive, no calibration).
    calibration : "parallel" (every channel on its first ``hist_samples`` bins) or "sequential"
        (the paper's hardware: channels in turn through one shared histogram; payload version 3).
    """

    codec_id = "neurocodec.mua"

    def __init__(self, S=3, bin_ms=50, encoders=None, hist_samples=64, sort=True, coder="huffman",
                 calibration="parallel", **unknown):
        if unknown:   # from zarr metadata, say: a config error, not a TypeError
            raise InvalidConfigError(f"{self.codec_id} does not take {', '.join(map(repr, sorted(unknown)))}")
        self.S = check_S(S)
        if isinstance(bin_ms, bool) or not isinstance(bin_ms, (int, float, np.integer, np.floating)) \
                or not 0 < bin_ms < math.inf:
            raise InvalidConfigError(f"bin_ms must be a positive number, got {bin_ms!r}")
        self.bin_ms = bin_ms
        enc = default_encoders(self.S) if encoders is None else check_encoders(encoders, self.S)
        self._encoders = enc
        self.encoders = enc.tolist()
        self.hist_samples = _check_hist_samples(hist_samples)
        if not isinstance(sort, (bool, np.bool_)):
            raise InvalidConfigError(f"sort must be true or false, got {sort!r}")
        self.sort = bool(sort)
        if coder not in CODERS:
            raise InvalidConfigError(f"coder must be one of {CODERS}, got {coder!r}")
        self.coder = coder
        if calibration not in CALIBRATIONS:
            raise InvalidConfigError(f"calibration must be one of {CALIBRATIONS}, got {calibration!r}")
        self.calibration = calibration

    def get_config(self):
        return {
            "id": self.codec_id,
            "S": self.S,
            "bin_ms": self.bin_ms,
            "encoders": self.encoders,
            "hist_samples": self.hist_samples,
            "sort": self.sort,
            "coder": self.coder,
            "calibration": self.calibration,
        }

    def __repr__(self):
        return (f"MUACodec(S={self.S}, bin_ms={self.bin_ms}, encoders={self.encoders}, "
                f"hist_samples={self.hist_samples}, sort={self.sort}, coder={self.coder!r}, "
                f"calibration={self.calibration!r})")

    # ------------------------------------------------------------------ encoding

    def encode(self, buf) -> bytes:
        """Bare payload of saturated ``buf`` (bins, channels)."""
        arr = np.asarray(buf)
        if arr.ndim == 2:   # before the int64 copy below: refuse a huge array without allocating
            _check_shape(*arr.shape, arr.dtype.itemsize, MAX_COUNTS, MAX_OUTPUT_BYTES, InvalidConfigError)
        sat = saturate(arr, self.S)
        dtype = arr.dtype.str.encode("ascii")
        fortran = arr.flags.f_contiguous and not arr.flags.c_contiguous
        sequential = self.coder == "huffman" and self.calibration == "sequential"
        if sequential:
            version = bytes([SEQUENTIAL_VERSION, _LAYOUT_FORTRAN if fortran else 0])
        else:
            version = bytes([2, _LAYOUT_FORTRAN]) if fortran else bytes([1])
        head = bytearray(version + bytes([CODERS.index(self.coder), len(dtype)])) + dtype
        head += varint.encode([sat.shape[0], sat.shape[1], self.S])
        if self.coder == "arithmetic":
            return bytes(head) + arith_stream(sat, self.S)
        cal = calibrate(sat, self._encoders, self.hist_samples, self.sort, self.calibration)
        head += varint.encode([self.hist_samples])
        head += bytes([int(self.sort)] + ([1] if sequential else []) + [len(self._encoders)])
        head += self._encoders.astype(np.uint8).tobytes()
        head += cal.encoder.astype(np.uint8).tobytes() + cal.peak.astype(np.uint8).tobytes()
        stream, _ = huffman_stream(sat, self._encoders, cal, self.S)
        return bytes(head) + stream

    # ------------------------------------------------------------------ decoding

    def decode(self, buf, out=None, *, max_output_bytes: int | None = None):
        """Saturated counts (bins, channels) in the encoded array's dtype and memory order.

        ``max_output_bytes`` (or an ``out`` buffer, whose size is then the cap) allows arrays above
        the default caps, up to :data:`HARD_MAX_COUNTS` counts.
        """
        data = np.frombuffer(container.payload_bytes(buf, "MUA payload"), dtype=np.uint8)
        reader = _Reader(data)
        version = reader.byte("format version")
        if version not in FORMAT_VERSIONS:
            raise UnsupportedVersionError(f"MUA payload version {version}; this build reads {FORMAT_VERSIONS}")
        fortran = False
        if version >= 2:
            layout = reader.byte("layout")
            if layout > _LAYOUT_FORTRAN:
                raise CorruptStreamError(f"MUA payload has unknown layout flags {layout}")
            fortran = bool(layout & _LAYOUT_FORTRAN)
        coder = reader.byte("coder")
        if coder >= len(CODERS):
            raise CorruptStreamError(f"MUA payload names coder {coder}; known: 0..{len(CODERS) - 1}")
        dtype = _read_dtype(reader)
        bins, channels, S = reader.varints(3, "shape")
        if not 2 <= S <= MAX_S:
            raise CorruptStreamError(f"MUA payload declares S = {S}; valid range 2..{MAX_S}")
        target = container.decode_target(out, (bins, channels), dtype, fortran, "MUA payload") \
            if bins < _MAX_DIM and channels < _MAX_DIM else None
        if target is not None:
            caps = HARD_MAX_COUNTS, target.nbytes
        elif max_output_bytes is not None:
            caps = HARD_MAX_COUNTS, int(max_output_bytes)
        else:
            caps = MAX_COUNTS, MAX_OUTPUT_BYTES
        _check_shape(bins, channels, dtype.itemsize, *caps, CorruptStreamError)
        if coder == 1:
            counts = _decode_arith(data, reader.pos, bins, channels, S)
        else:
            counts = _decode_huffman(data, reader, bins, channels, S, version)
        if target is not None:
            np.copyto(target, counts, casting="unsafe")   # values < S <= 16 fit every integer dtype
            return out
        return counts.astype(dtype, order="F" if fortran else "C", copy=False)


class _Reader:
    """Sequential header reader that raises the typed errors."""

    def __init__(self, data: np.ndarray):
        self.data = data
        self.pos = 0

    def byte(self, what: str) -> int:
        return int(self.bytes(1, what)[0])

    def bytes(self, n: int, what: str) -> np.ndarray:
        if self.pos + n > self.data.size:
            raise TruncatedStreamError(f"MUA payload ends inside its {what} ({self.data.size} bytes)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def varints(self, n: int, what: str) -> list[int]:
        vals = np.empty(n, dtype=np.uint64)
        end = varint.decode_array(self.data, self.pos, self.data.size, vals)
        if end < 0:
            raise TruncatedStreamError(f"MUA payload ends inside its {what}")
        self.pos = end
        return [int(v) for v in vals]


def _read_dtype(reader: _Reader) -> np.dtype:
    text = reader.bytes(reader.byte("dtype length"), "dtype").tobytes()
    dtype = container.parse_dtype(text, "MUA payload")
    if dtype.kind not in "biu" or dtype.itemsize > 8:
        raise CorruptStreamError(f"MUA payload dtype {dtype} is not an integer or bool dtype")
    return dtype


def huffman_tables(encoders: np.ndarray, cal: Calibration, S: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``codes[c, v]`` and ``lengths[c, v]``: sort map composed with the encoder."""
    ranks = cal.ranks(S)
    enc_codes = np.stack([canonical_codes(e) for e in encoders])
    rows = cal.encoder[:, None]
    return enc_codes[rows, ranks], encoders[rows, ranks]


def huffman_stream(sat: np.ndarray, encoders: np.ndarray, cal: Calibration, S: int) -> tuple[bytes, int]:
    """The multiplexed static-Huffman bit stream of saturated counts, and its length in bits."""
    codes, lengths = huffman_tables(encoders, cal, S)
    rb = raw_bits(S)
    # a first pass into an empty buffer only counts the bits
    nbits = _kernels.huffman_encode(sat, cal.calib_end, rb, codes, lengths, np.zeros(0, dtype=np.uint8))
    buf = np.zeros((nbits + 7) // 8, dtype=np.uint8)
    _kernels.huffman_encode(sat, cal.calib_end, rb, codes, lengths, buf)
    return buf.tobytes(), nbits


def arith_stream(sat: np.ndarray, S: int) -> bytes:
    """The adaptive arithmetic-coded stream of saturated counts (no header)."""
    decisions = sat.size * (S - 1)
    buf = np.zeros(decisions // 4 + 64, dtype=np.uint8)
    while True:
        state = np.full(sat.shape[1] * S * (S - 1), initial_counted(), dtype=np.int64)
        end = _kernels.arith_encode(sat, S, state, buf)
        if end <= buf.size:
            return buf[:end].tobytes()
        buf = np.zeros(end, dtype=np.uint8)


def _decode_arith(data: np.ndarray, pos: int, bins: int, channels: int, S: int) -> np.ndarray:
    stream = data.size - pos
    if stream < 4:
        raise TruncatedStreamError(f"MUA arithmetic stream has {stream} bytes; at least 4 expected")
    # The 4 flush bytes carry up to 32 bits of the last decisions too.  Besides the total, each
    # channel's first decision is coded in a fresh context at probability 1/2 and costs a whole
    # bit, which bounds the channels (and so the per-channel model state) separately.
    if bins * channels > (stream + 4) * _ARITH_SYMBOLS_PER_BYTE or (bins and channels > 8 * (stream + 4)):
        raise CorruptStreamError(
            f"MUA payload declares {bins} x {channels} counts, more than a {stream}-byte stream can hold"
        )
    out = np.zeros((bins, channels), dtype=np.uint8)
    if out.size == 0:  # an empty array codes to the 4 flush bytes alone
        if stream != 4:
            raise CorruptStreamError(f"MUA arithmetic stream of an empty array has {stream} bytes, not 4")
        return out
    state = np.full(channels * S * (S - 1), initial_counted(), dtype=np.int64)
    end = _kernels.arith_decode(data, pos, data.size, S, state, out)
    if end > data.size:
        raise TruncatedStreamError("MUA arithmetic stream ended before its last count")
    if end < data.size:
        raise CorruptStreamError(f"MUA arithmetic stream has {data.size - end} unused trailing bytes")
    return out


def _decode_huffman(data: np.ndarray, reader: _Reader, bins: int, channels: int, S: int,
                    version: int) -> np.ndarray:
    (hist_samples,) = reader.varints(1, "histogram size")
    sort = reader.byte("sort flag")
    schedule = reader.byte("calibration schedule") if version >= SEQUENTIAL_VERSION else 0
    if schedule >= len(CALIBRATIONS):
        raise CorruptStreamError(
            f"MUA payload names calibration schedule {schedule}; known: 0..{len(CALIBRATIONS) - 1}")
    n_enc = reader.byte("encoder count")
    if sort > 1 or n_enc == 0 or hist_samples == 0:
        raise CorruptStreamError(f"MUA payload header invalid (sort={sort}, encoders={n_enc}, "
                                 f"hist_samples={hist_samples})")
    if channels > data.size:
        raise TruncatedStreamError(f"MUA payload declares {channels} channels but holds {data.size} bytes")
    lengths = reader.bytes(n_enc * S, "encoder table").astype(np.int64).reshape(n_enc, S)
    try:
        encoders = check_encoders(lengths, S)
    except InvalidConfigError as exc:
        raise CorruptStreamError(f"MUA payload encoder table: {exc}") from None
    enc_of = reader.bytes(channels, "encoder choices").astype(np.int64)
    peak = reader.bytes(channels, "sort peaks").astype(np.int64)
    if channels and (enc_of.max() >= n_enc or peak.max() >= S or (not sort and peak.any())):
        raise CorruptStreamError("MUA payload assigns a channel an encoder or sort peak that does not exist")
    stream = data[reader.pos:]
    # every count takes at least one bit, so the declared shape is bounded by the stream size
    if bins * channels > 8 * stream.size:
        raise TruncatedStreamError(
            f"MUA payload declares {bins} x {channels} counts, more than its {stream.size}-byte stream holds"
        )
    _, calib_end = calibration_windows(bins, channels, hist_samples, CALIBRATIONS[schedule])
    unrank = np.empty((channels, S), dtype=np.int64)
    np.put_along_axis(unrank, rank_table(S)[peak], np.arange(S)[None, :].repeat(channels, 0), axis=1)
    tables = [DecodeTable(e) for e in encoders]
    max_length = max(t.max_length for t in tables)

    def stack(field):
        rows = np.zeros((n_enc, max(max_length + 1, S)), dtype=np.int64)
        for i, t in enumerate(tables):
            vals = getattr(t, field)
            rows[i, :vals.size] = vals
        return rows

    out = np.zeros((bins, channels), dtype=np.uint8)
    if out.size == 0:
        if stream.size:
            raise CorruptStreamError(f"MUA stream of an empty array has {stream.size} bytes")
        return out
    end = _kernels.huffman_decode(stream, 0, calib_end, raw_bits(S), S, enc_of, unrank, stack("first_code"),
                                  stack("count"), stack("offset"), stack("symbols"), max_length, out)
    if end == -2:
        raise CorruptStreamError(f"MUA stream holds a calibration count >= S = {S}")
    if end < 0:
        raise CorruptStreamError("MUA stream holds a bit pattern that is no codeword")
    if end > 8 * stream.size:
        raise TruncatedStreamError("MUA stream ended before its last count")
    if (end + 7) // 8 != stream.size:
        raise CorruptStreamError(f"MUA stream has {stream.size - (end + 7) // 8} unused trailing bytes")
    return out


__all__ = ["CALIBRATIONS", "MUACodec", "Calibration", "calibrate", "calibration_windows", "raw_bits", "saturate",
           "huffman_stream", "arith_stream"]
