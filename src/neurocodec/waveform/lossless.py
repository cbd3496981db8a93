"""Lossless codec for multi-channel integer waveforms (Neuralink-style 10-bit ADC data in int16).

Payload layout (bare, self-describing; integers are LEB128 varints unless a width is given)::

    u8      format version (1)
    u8      flags: bit 0 int32 samples (else int16), bit 1 two-dimensional (T, C) array
    varint  T                       number of samples per channel
    varint  C                       channels (present only when two-dimensional)
    mapping u8 kind, then kind-specific fields (levels.py): values <-> level indices
    u8      parameter set id (PARAM_SETS)
    per channel:
      u8      order (bits 0-5) | cross-channel (bit 7): the channel codes its difference to the previous one
      varint  zigzag mean level
      [order > 0] u8 shift, then `order` zigzag LPC coefficients (shift fractional bits)
    [fast parameter sets] varint n, then n bytes of raw bits: per non-zero residual its sign (unless
            forced) and its offset inside its last group, MSB first (see _kernels.py)
    ...     arithmetic-coded levels, all channels in turn (see _kernels.py), up to the end

An array whose every sample is equal stops after the mapping's header fields: one level needs no bits.
"""

from __future__ import annotations

import base64
import zlib

import numpy as np
from numcodecs.abc import Codec
from numcodecs.compat import ensure_contiguous_ndarray, ndarray_copy

from ..entropy import varint
from ..errors import (
    CorruptStreamError,
    InvalidConfigError,
    TruncatedStreamError,
    UnsupportedVersionError,
)
from ..registry import register_codec
from . import _kernels as K
from . import _prior
from .levels import choose_mapping, read_mapping, read_varints, unzigzag, zigzag

FORMAT_VERSION = 1
FLAG_INT32, FLAG_2D = 1, 2
MAX_ORDER = 32
MAX_CHANNELS = 1 << 16
MAX_SAMPLES = 1 << 28  # per payload; guards allocation against a forged header
MAX_ROWS = 1 << 62  # T of a (T, 0) payload; as the container's cap on a dimension
MAX_SHIFT = 20
MAX_COEF = 1 << 16

#: Model parameter sets by id (see _kernels.P_*): magnitude-model rate (adapt shift when mixed,
#: gradient step when not), APM rate, residual smoothing, mixed models or the fast ones, level-bias
#: rate, grouping (0: unary magnitudes; else the magnitude bucket where groups of two levels start,
#: doubling every octave).
PARAM_SETS = (
    (5, 9, 2, 1, 4, 0),  # 0: max
    (16, 6, 5, 0, 4, 2),  # 1: fast
)
PRESETS = {"max": (0, 16), "fast": (1, 1)}  # preset -> (parameter set id, LPC order)

_DTYPES = {np.dtype(np.int16): 0, np.dtype(np.int32): FLAG_INT32}


def _load_prior(text: str, params) -> np.ndarray:
    # Payloads decode only with the prior they were coded with: a prior that does not fit the
    # model layout is a build defect, never something to paper over with the uninformed state.
    if not text:
        return K.initial_model(bool(params[K.P_MIXED]))
    prior = np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype="<i4")
    if prior.size != K.MODEL_SIZE:
        raise RuntimeError(f"waveform prior holds {prior.size} values, the model layout needs {K.MODEL_SIZE}: "
                           "regenerate _prior.py (benchmarks/crossval_waveform.py --write) with a new format version")
    return prior.astype(np.int64)


#: Model state every payload starts from, per parameter set (learned; see _prior.py).
PRIORS = tuple(_load_prior(text, params) for text, params in zip(_prior.PRIORS, PARAM_SETS))


def lpc(series: np.ndarray, order: int) -> tuple[int, int, np.ndarray]:
    """Integer LPC for ``series`` (int64): ``(mean, shift, coefficients)``; order may come out lower."""
    mu = int(np.round(series.mean())) if series.size else 0
    order = min(order, series.size // 4)
    if order <= 0:
        return mu, 0, np.zeros(0, dtype=np.int64)
    r = K.autocorrelation(series, mu, order)
    if r[0] <= 0:
        return mu, 0, np.zeros(0, dtype=np.int64)
    r[0] *= 1.0 + 1e-6  # white-noise floor keeps the recursion stable on degenerate input
    a = np.zeros(order)
    err = r[0]
    for i in range(order):
        k = (r[i + 1] - np.dot(a[:i], r[i:0:-1])) / err
        a_prev = a[:i].copy()
        a[i] = k
        a[:i] = a_prev - k * a_prev[::-1]
        err *= 1.0 - k * k
        if err <= 0:
            break
    peak = float(np.max(np.abs(a)))
    if not np.isfinite(peak) or peak >= MAX_COEF >> 4:
        return mu, 0, np.zeros(0, dtype=np.int64)
    shift = 14
    while shift > 2 and peak * (1 << shift) >= MAX_COEF - 1:
        shift -= 1
    return mu, shift, np.round(a * (1 << shift)).astype(np.int64)


@register_codec
class WaveformCodec(Codec):
    """Lossless LPC + context-mixing codec for integer waveforms of shape (T,) or (T, C).

    ``preset``: ``"max"`` (best ratio) or ``"fast"``.  ``cross_channel``: let the encoder code a
    channel as its difference to the previous channel when that predicts better.
    """

    codec_id = "neurocodec.waveform"

    def __init__(self, preset: str = "max", cross_channel: bool = True):
        if preset not in PRESETS:
            raise InvalidConfigError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
        self.preset = preset
        self.cross_channel = bool(cross_channel)

    def get_config(self):
        return {"id": self.codec_id, "preset": self.preset, "cross_channel": self.cross_channel}

    # -- encoding --------------------------------------------------------------------------

    def encode(self, buf) -> bytes:
        return self.encode_with_model(buf)[0]

    def encode_with_model(self, buf, prior: np.ndarray | None = None,
                          fit: bool = False) -> tuple[bytes, np.ndarray | None]:
        """Encode starting from model state ``prior`` (default: the preset's); also returns the final state.

        For studies that learn priors (benchmarks/crossval_waveform.py): a payload only decodes
        with the prior its parameter set implies, and ``fit`` (the mixer learns too) makes a payload
        no decoder reads.  The state is None when nothing needed coding (empty or constant arrays).
        """
        arr = np.asarray(buf)
        if arr.dtype.kind == "i" and not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype not in _DTYPES:
            raise InvalidConfigError(f"waveform codec takes int16 or int32 samples, got {arr.dtype}")
        if arr.ndim not in (1, 2):
            raise InvalidConfigError(f"waveform codec takes shape (T,) or (T, C), got {arr.shape}")
        if arr.size > MAX_SAMPLES or (arr.ndim == 2 and arr.shape[1] > MAX_CHANNELS):
            raise InvalidConfigError(f"array of shape {arr.shape} exceeds the codec's limits")
        two_d = arr.ndim == 2
        data = arr if two_d else arr[:, None]
        n_t, n_ch = data.shape
        head = bytearray([FORMAT_VERSION, _DTYPES[arr.dtype] | (FLAG_2D if two_d else 0)])
        head += varint.encode([n_t, n_ch] if two_d else [n_t])
        mapping, levels = choose_mapping(data)
        head += mapping.header()
        if n_t == 0 or n_ch == 0 or mapping.size == 1:
            return bytes(head), None

        set_id, order = PRESETS[self.preset]
        head.append(set_id)
        levels = np.ascontiguousarray(levels.T)
        series = levels  # copied on the first channel that switches to cross-channel coding
        top = mapping.size - 1
        lo, hi, coefs, orders, shifts, means = _channel_tables(n_ch, top)
        for c in range(n_ch):
            predictor = lpc(levels[c], order)
            if self.cross_channel and c > 0:
                diff = levels[c] - levels[c - 1]
                predictor_diff = lpc(diff, order)
                if _residual_energy(diff, predictor_diff) < 0.8 * _residual_energy(levels[c], predictor):
                    if series is levels:
                        series = levels.copy()
                    series[c] = diff
                    lo[c], hi[c] = -top, top
                    predictor = predictor_diff
            means[c], shifts[c], q = predictor
            orders[c] = q.size
            coefs[c, : q.size] = q
            cross = 0x80 if lo[c] < 0 else 0
            head.append(q.size | cross)
            head += varint.encode([zigzag(int(means[c]))])
            if q.size:
                head.append(int(shifts[c]))
                head += varint.encode([zigzag(int(v)) for v in q])
        params = np.array(PARAM_SETS[set_id], dtype=np.int64)
        mixed = bool(params[K.P_MIXED])
        kernel = K.coder(mixed, False, fit)
        if prior is None:
            prior = PRIORS[set_id]
        # sized for the implant's data (~5 coded and ~3 raw bits a sample); anything that does not fit
        # is coded again into buffers of the size the first pass reported
        capacity = n_t * n_ch * 2 + 1024
        raw_capacity = 0 if mixed else n_t * n_ch + 64
        while True:
            coded = np.empty(capacity, dtype=np.uint8)
            raw = np.zeros(raw_capacity, dtype=np.uint8)
            model = prior.copy()
            end, raw_bits, _ = kernel(series, lo, hi, coefs, orders, shifts, means, model, params, coded, 0,
                                      coded.size, raw)
            if end <= coded.size and raw_bits <= 8 * raw.size:
                break
            capacity = max(capacity, end)
            raw_capacity = max(raw_capacity, (raw_bits + 7) // 8)
        if not mixed:
            raw_bytes = (raw_bits + 7) // 8
            head += varint.encode([raw_bytes])
            head += raw[:raw_bytes].tobytes()
        return bytes(head) + coded[:end].tobytes(), model

    # -- decoding --------------------------------------------------------------------------

    def decode(self, buf, out=None):
        # a private writable copy: the kernel that decodes is also the encoder, which writes
        data = ensure_contiguous_ndarray(buf).view(np.uint8).copy()
        size = data.size
        if size < 2:
            raise TruncatedStreamError("waveform payload shorter than its 2-byte header")
        if data[0] != FORMAT_VERSION:
            raise UnsupportedVersionError(f"waveform payload version {data[0]}, this build reads {FORMAT_VERSION}")
        flags = int(data[1])
        if flags & ~(FLAG_INT32 | FLAG_2D):
            raise CorruptStreamError(f"unknown waveform flags {flags:#x}")
        dtype = np.dtype(np.int32 if flags & FLAG_INT32 else np.int16)
        two_d = bool(flags & FLAG_2D)
        dims, pos = read_varints(data, 2, 2 if two_d else 1)
        n_t = int(dims[0])
        n_ch = int(dims[1]) if two_d else 1
        # T is capped even with no channels (nothing to allocate): NumPy raises a plain ValueError on a
        # dimension that large, and no int16 array NumPy can make reaches 2**62 rows
        if n_ch > MAX_CHANNELS or n_t * n_ch > MAX_SAMPLES or n_t >= MAX_ROWS:
            raise CorruptStreamError(f"declared shape ({n_t}, {n_ch}) exceeds the codec's limits")
        info = np.iinfo(dtype)
        mapping, pos = read_mapping(data, pos, info.min, info.max)
        shape = (n_t, n_ch) if two_d else (n_t,)
        if n_t == 0 or n_ch == 0 or mapping.size == 1:
            if pos != size:
                raise CorruptStreamError("bytes after the end of an empty or constant waveform")
            first = mapping.to_samples(np.zeros(1, dtype=np.int64), dtype)[0]
            return ndarray_copy(np.full(shape, first, dtype=dtype), out)

        set_id, pos = _read_u8(data, pos)
        if set_id >= len(PARAM_SETS):
            raise CorruptStreamError(f"unknown parameter set {set_id}")
        params = np.array(PARAM_SETS[set_id], dtype=np.int64)
        top = mapping.size - 1
        lo, hi, coefs, orders, shifts, means = _channel_tables(n_ch, top)
        for c in range(n_ch):
            tag, pos = _read_u8(data, pos)
            order = tag & 0x3F
            if order > MAX_ORDER or tag & 0x40 or (tag & 0x80 and c == 0):
                raise CorruptStreamError(f"channel {c}: bad predictor tag {tag:#x}")
            if tag & 0x80:
                lo[c] = -top
            (mean,), pos = read_varints(data, pos, 1)
            means[c] = unzigzag(int(mean))
            if not lo[c] <= means[c] <= hi[c]:
                raise CorruptStreamError(f"channel {c}: mean level {means[c]} outside the level range")
            if order:
                shifts[c], pos = _read_u8(data, pos)
                if not 1 <= shifts[c] <= MAX_SHIFT:
                    raise CorruptStreamError(f"channel {c}: LPC shift {shifts[c]} out of range")
                q, pos = read_varints(data, pos, order)
                coefs[c, :order] = [unzigzag(int(v)) for v in q]
                if np.any(np.abs(coefs[c]) > MAX_COEF):
                    raise CorruptStreamError(f"channel {c}: LPC coefficient out of range")
            orders[c] = order
        # with probabilities capped at 65535/65536 a byte carries at most ~360000 binary decisions
        if n_t * n_ch > (size - pos + 1) * 360000:
            raise TruncatedStreamError(f"{size - pos} coded bytes cannot hold {n_t * n_ch} samples")
        mixed = bool(params[K.P_MIXED])
        raw = np.zeros(0, dtype=np.uint8)
        if not mixed:
            (raw_bytes,), pos = read_varints(data, pos, 1)
            if raw_bytes > size - pos:
                raise TruncatedStreamError(f"raw bit stream of {raw_bytes} bytes overruns the payload")
            raw = data[pos : pos + int(raw_bytes)]
            pos += int(raw_bytes)
        series = np.empty((n_ch, n_t), dtype=np.int64)
        kernel = K.coder(mixed, True)
        end, raw_bits, status = kernel(series, lo, hi, coefs, orders, shifts, means, PRIORS[set_id].copy(),
                                       params, data, pos, size, raw)
        if end > size:
            raise TruncatedStreamError(f"waveform payload truncated: decoder needed {end} of {size} bytes")
        if status != K.STATUS_OK:
            raise CorruptStreamError("coded levels decode to values outside the level range")
        if raw_bits > 8 * raw.size or raw_bits <= 8 * raw.size - 8:
            raise CorruptStreamError(f"decoder used {raw_bits} raw bits of a {raw.size}-byte raw stream")
        if end < size:
            raise CorruptStreamError(f"{size - end} unexpected bytes after the coded waveform")
        for c in range(1, n_ch):
            if lo[c] < 0:
                series[c] += series[c - 1]
                if series[c].min() < 0 or series[c].max() > top:
                    raise CorruptStreamError(f"channel {c}: reconstructed level outside the level range")
        # C order: zarr reads a decoded chunk as raw memory
        samples = np.ascontiguousarray(mapping.to_samples(series.T, dtype))
        return ndarray_copy(samples if two_d else samples[:, 0], out)


def _channel_tables(n_ch: int, top: int):
    """Per-channel level range, LPC coefficients, orders, shifts and means, as the kernel takes them."""
    return (np.zeros(n_ch, dtype=np.int64), np.full(n_ch, top, dtype=np.int64),
            np.zeros((n_ch, MAX_ORDER), dtype=np.int64), np.zeros(n_ch, dtype=np.int64),
            np.zeros(n_ch, dtype=np.int64), np.zeros(n_ch, dtype=np.int64))


def _residual_energy(series: np.ndarray, fit) -> float:
    # imported here: scipy.signal takes ~0.5 s to import, which every challenge executable would
    # pay although only multi-channel encoding gets here
    from scipy.signal import lfilter

    mu, shift, q = fit
    z = (series - mu).astype(np.float64)
    # e[t] = z[t] - sum_i a_i z[t-1-i]: one FIR pass in C instead of a pass per coefficient
    e = lfilter(np.concatenate(([1.0], -q / (1 << shift))), [1.0], z) if q.size else z
    return float(np.dot(e, e))


def _read_u8(buf: np.ndarray, pos: int) -> tuple[int, int]:
    if pos >= buf.size:
        raise TruncatedStreamError("waveform payload ends inside its header")
    return int(buf[pos]), pos + 1
