"""LPC + context-mixing codec for multi-channel integer waveforms (Neuralink-style 10-bit ADC data in int16),
lossless or near-lossless (every sample within ``near`` levels).

Payload layout (bare, self-describing; integers are LEB128 varints unless a width is given)::

    u8      format version (1 or 2; the encoder writes 1 whenever the payload needs no version-2 flag)
    u8      flags: bit 0 int32 samples (else int16), bit 1 two-dimensional (T, C) array;
            version 2 adds bit 2 Fortran memory order (the decoded buffer is column-major),
            bit 3 near-lossless, bit 4 stored raw, bit 5 zero padding after the coded levels
    varint  T                       number of samples per channel
    varint  C                       channels (present only when two-dimensional)
    [bit 3] varint near             the bound: every decoded level within +-near of the original's
    [bit 4] T x C samples, little-endian, row after row, and nothing else
    mapping u8 kind, then kind-specific fields (levels.py): values <-> level indices
    u8      parameter set id (PARAM_SETS)
    per channel:
      u8      order (bits 0-5) | cross-channel (bit 7): the channel codes its difference to the previous one
      varint  zigzag mean level
      [order > 0] u8 shift, then `order` zigzag LPC coefficients (shift fractional bits)
    [fast parameter sets] varint n, then n bytes of raw bits: per non-zero residual its sign (unless
            forced) and its offset inside its last group, MSB first (see _kernels.py)
    ...     arithmetic-coded levels, all channels in turn (see _kernels.py)
    [bit 5] zero bytes up to the end

An array whose every sample is equal stops after the mapping's header fields (and its padding): one
level needs no bits.  A payload holds at most ``SAMPLES_PER_BYTE`` samples per byte (beyond a floor),
so a decoder bounds its memory and work by the bytes it was given; the encoder pads the rare payload
that codes denser than that.
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
from .levels import choose_mapping, level_buffer, read_mapping, read_varints, unzigzag

#: Newest payload version this build writes; it reads every version up to this one.
FORMAT_VERSION = 2
FLAG_INT32, FLAG_2D = 1, 2
FLAG_FORTRAN, FLAG_NEAR, FLAG_RAW, FLAG_PADDED = 4, 8, 16, 32  # version 2
_FLAGS = {1: FLAG_INT32 | FLAG_2D, 2: FLAG_INT32 | FLAG_2D | FLAG_FORTRAN | FLAG_NEAR | FLAG_RAW | FLAG_PADDED}
MAX_NEAR = 1 << 15
#: Density cap: no payload may declare more samples than this many per byte of payload (beyond
#: ``DENSITY_FLOOR``).  Real recordings code at 1-8 samples a byte; a fully predictable series can
#: code denser, and the encoder then pads with zero bytes.
SAMPLES_PER_BYTE = 4096
DENSITY_FLOOR = 1 << 20
MAX_ORDER = 32
MAX_CHANNELS = 1 << 16
MAX_SAMPLES = 1 << 28  # per payload; guards allocation against a forged header
MAX_ROWS = 1 << 40  # T of a (T, 0) payload, which allocates nothing but a shape
MAX_SHIFT = 20
MAX_COEF = K.LPC_MAX_COEF

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
#: Near-lossless payloads start from the uninformed state: the learned priors describe lossless
#: residuals (per-code biases, mixer calibration) and cost near-lossless payloads 2-15 % against it
#: (benchmarks/bench_near.py).
NEAR_PRIORS = tuple(K.initial_model(bool(params[K.P_MIXED])) for params in PARAM_SETS)


def prior_for(set_id: int, near: int) -> np.ndarray:
    """The model state a payload of parameter set ``set_id`` and bound ``near`` starts from (do not modify)."""
    return NEAR_PRIORS[set_id] if near else PRIORS[set_id]


def lpc(series: np.ndarray, order: int, near: int = 0) -> tuple[int, int, np.ndarray]:
    """Integer LPC for ``series`` (int64): ``(mean, shift, coefficients)``; order may come out lower.

    ``near``: the coefficients will run on reconstructions within +-near of the series (see
    ``_kernels.fit_lpc``).
    """
    out = np.zeros(max(order, 0), dtype=np.int64)
    mu, shift, n, _ = K.fit_lpc(np.ascontiguousarray(series, dtype=np.int64), order, near, out)
    return int(mu), int(shift), out[:n]


def _check_shape(n_t: int, n_ch: int, two_d: bool) -> None:
    """The limits both sides enforce, so the encoder never writes what its decoder refuses."""
    if n_ch > MAX_CHANNELS or n_t * n_ch > MAX_SAMPLES or n_t > MAX_ROWS or (not two_d and n_ch != 1):
        raise InvalidConfigError(f"array of shape ({n_t}, {n_ch}) exceeds the codec's limits "
                                 f"({MAX_SAMPLES} samples, {MAX_CHANNELS} channels, {MAX_ROWS} rows)")


def _min_payload_bytes(n_samples: int) -> int:
    return 0 if n_samples <= DENSITY_FLOOR else -(-n_samples // SAMPLES_PER_BYTE)


@register_codec
class WaveformCodec(Codec):
    """LPC + context-mixing codec for integer waveforms of shape (T,) or (T, C), lossless by default.

    ``preset``: ``"max"`` (best ratio) or ``"fast"``.  ``cross_channel``: let the encoder code a
    channel as its difference to the previous channel when that predicts better (lossless only).
    ``near``: the error bound in levels of the detected level map (ADC codes on the implant's
    ladder, sample units otherwise); every decoded sample lies within ``near`` levels of the
    original.  ``near=0`` (the default) is lossless and writes the same bytes as before ``near``
    existed; ``near > 0`` marks the payload lossy.

    Examples
    --------
    >>> import numpy as np
    >>> from neurocodec.waveform import WaveformCodec
    >>> from neurocodec.waveform.levels import LADDER_VALUES
    >>> x = LADDER_VALUES[(np.arange(4000) * 7 % 200 + 400)].astype(np.int16)
    >>> y = WaveformCodec(near=2).decode(WaveformCodec(near=2).encode(x))
    >>> codes = np.searchsorted(LADDER_VALUES, [x, y])
    >>> int(np.abs(codes[0] - codes[1]).max()) <= 2
    True
    """

    codec_id = "neurocodec.waveform"

    def __init__(self, preset: str = "max", cross_channel: bool = True, near: int = 0):
        if preset not in PRESETS:
            raise InvalidConfigError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
        if not isinstance(cross_channel, (bool, np.bool_)):
            raise InvalidConfigError(f"cross_channel must be true or false, got {cross_channel!r}")
        if isinstance(near, (bool, np.bool_)) or not isinstance(near, (int, np.integer)) or not 0 <= near <= MAX_NEAR:
            raise InvalidConfigError(f"near must be an integer in [0, {MAX_NEAR}], got {near!r}")
        self.preset = preset
        self.cross_channel = bool(cross_channel)
        self.near = int(near)

    def get_config(self):
        return {"id": self.codec_id, "preset": self.preset, "cross_channel": self.cross_channel,
                "near": self.near}

    @property
    def lossy(self) -> dict | None:
        """None when decoding gives the input back exactly, else what the decoder guarantees."""
        if not self.near:
            return None
        return {"max_abs_error": self.near,
                "unit": "levels of the level map (ADC codes on the implant's ladder, else sample units)"}

    # -- encoding --------------------------------------------------------------------------

    def encode(self, buf) -> bytes:
        return self.encode_with_model(buf)[0]

    def encode_with_model(self, buf, prior: np.ndarray | None = None,
                          fit: bool = False) -> tuple[bytes, np.ndarray | None]:
        """Encode starting from model state ``prior`` (default: the preset's); also returns the final state.

        For studies that learn priors (benchmarks/crossval_waveform.py): a payload only decodes
        with the prior its parameter set implies, and ``fit`` (the mixer learns too) makes a payload
        no decoder reads.  The state is None when nothing needed coding (empty, constant or raw).
        """
        arr = np.asarray(buf)
        if arr.dtype == object:
            raise TypeError("waveform codec cannot encode object arrays")
        if arr.dtype.kind == "i" and not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype not in _DTYPES:
            raise InvalidConfigError(f"waveform codec takes int16 or int32 samples, got {arr.dtype}")
        if arr.ndim not in (1, 2):
            raise InvalidConfigError(f"waveform codec takes shape (T,) or (T, C), got {arr.shape}")
        two_d = arr.ndim == 2
        data = arr if two_d else arr[:, None]
        n_t, n_ch = data.shape
        _check_shape(n_t, n_ch, two_d)
        # numcodecs hands a codec a chunk's memory: a column-major chunk must decode column-major
        fortran = two_d and arr.flags.f_contiguous and not arr.flags.c_contiguous
        flags = _DTYPES[arr.dtype] | (FLAG_2D if two_d else 0) | (FLAG_FORTRAN if fortran else 0)
        near = self.near if data.size else 0
        payload, model = self._encode_levels(data, flags, near, prior, fit)
        raw_size = len(_head(flags | FLAG_RAW, n_t, n_ch, 0)) + data.size * data.dtype.itemsize
        if len(payload) > raw_size:
            # incompressible: the samples as they are, a few bytes over their own size
            payload = _head(flags | FLAG_RAW, n_t, n_ch, 0) + data.astype(data.dtype.newbyteorder("<")).tobytes()
            model = None
        return payload, model

    def _encode_levels(self, data: np.ndarray, flags: int, near: int, prior, fit) -> tuple[bytes, np.ndarray | None]:
        n_t, n_ch = data.shape
        mapping, levels = choose_mapping(data, channel_major=True, out=level_buffer((n_ch, n_t)))
        near = near if mapping.size > 1 else 0
        head = _head(flags | (FLAG_NEAR if near else 0), n_t, n_ch, near)
        head += mapping.header()
        if n_t == 0 or n_ch == 0 or mapping.size == 1:
            return _pad(head, n_t * n_ch), None

        set_id, order = PRESETS[self.preset]
        head.append(set_id)
        top = mapping.size - 1
        lo, hi, coefs, orders, shifts, means = _channel_tables(n_ch, top)
        # cross-channel differences of reconstructed levels would add two channels' errors
        K.analyse_channels(levels, order, near, self.cross_channel and not near, top, lo, coefs, orders, shifts,
                           means)
        K.subtract_previous(levels, lo)  # in place: levels is this call's own array
        tables = np.empty(n_ch * K.TABLE_BYTES + 10 * int(orders.sum()), dtype=np.uint8)
        head += tables[:K.write_channel_tables(lo, coefs, orders, shifts, means, tables, 0)].tobytes()
        params = np.array(PARAM_SETS[set_id], dtype=np.int64)
        mixed = bool(params[K.P_MIXED])
        kernel = K.coder(mixed, False, fit, bounded=near > 0)
        if prior is None:
            prior = prior_for(set_id, near)
        # sized for the implant's data (~5 coded and ~3 raw bits a sample); anything that does not fit
        # is coded again into buffers of the size the first pass reported
        capacity = n_t * n_ch * 2 + 1024
        raw_capacity = 0 if mixed else n_t * n_ch + 64
        while True:
            coded = np.empty(capacity, dtype=np.uint8)
            raw = np.zeros(raw_capacity, dtype=np.uint8)
            model = prior.copy()
            # near-lossless coding writes reconstructed levels back: code a copy
            work = levels.copy() if near else levels
            end, raw_bits, _ = kernel(work, lo, hi, coefs, orders, shifts, means, near, model, params, coded, 0,
                                      coded.size, raw, K.new_state(n_ch, MAX_ORDER))
            if end <= coded.size and raw_bits <= 8 * raw.size:
                break
            capacity = max(capacity, end)
            raw_capacity = max(raw_capacity, (raw_bits + 7) // 8)
        if not mixed:
            raw_bytes = (raw_bits + 7) // 8
            head += varint.encode([raw_bytes])
            head += raw[:raw_bytes].tobytes()
        return _pad(head + coded[:end].tobytes(), n_t * n_ch), model

    # -- decoding --------------------------------------------------------------------------

    def decode(self, buf, out=None):
        # a private writable copy: the kernel that decodes is also the encoder, which writes
        data = ensure_contiguous_ndarray(buf).view(np.uint8).copy()
        size = data.size
        if size < 2:
            raise TruncatedStreamError("waveform payload shorter than its 2-byte header")
        version = int(data[0])
        if version not in _FLAGS:
            raise UnsupportedVersionError(f"waveform payload version {version}, this build reads 1 to {FORMAT_VERSION}")
        flags = int(data[1])
        if flags & ~_FLAGS[version]:
            raise CorruptStreamError(f"unknown waveform flags {flags:#x} for payload version {version}")
        dtype = np.dtype(np.int32 if flags & FLAG_INT32 else np.int16)
        two_d = bool(flags & FLAG_2D)
        dims, pos = read_varints(data, 2, 2 if two_d else 1)
        n_t = int(dims[0])
        n_ch = int(dims[1]) if two_d else 1
        try:
            _check_shape(n_t, n_ch, two_d)
        except InvalidConfigError:
            raise CorruptStreamError(f"declared shape ({n_t}, {n_ch}) exceeds the codec's limits") from None
        shape = (n_t, n_ch) if two_d else (n_t,)
        order = "F" if flags & FLAG_FORTRAN else "C"
        near = 0
        if flags & FLAG_NEAR:
            (near,), pos = read_varints(data, pos, 1)
            near = int(near)
            if not 1 <= near <= MAX_NEAR:
                raise CorruptStreamError(f"near-lossless bound {near} outside [1, {MAX_NEAR}]")
        if flags & FLAG_RAW:
            if flags & (FLAG_NEAR | FLAG_PADDED):
                raise CorruptStreamError("a raw waveform payload cannot be near-lossless or padded")
            if size - pos != n_t * n_ch * dtype.itemsize:
                raise TruncatedStreamError(f"raw waveform payload holds {size - pos} sample bytes, "
                                           f"shape ({n_t}, {n_ch}) needs {n_t * n_ch * dtype.itemsize}")
            samples = data[pos:].view(dtype.newbyteorder("<")).astype(dtype).reshape(shape)
            return ndarray_copy(np.asarray(samples, order=order), out)
        # checked before allocating anything of the declared size
        if n_t * n_ch > max(DENSITY_FLOOR, SAMPLES_PER_BYTE * size):
            raise TruncatedStreamError(f"a {size}-byte waveform payload cannot hold the {n_t * n_ch} samples "
                                       f"it declares (at most {SAMPLES_PER_BYTE} a byte)")
        info = np.iinfo(dtype)
        mapping, pos = read_mapping(data, pos, info.min, info.max)
        if n_t == 0 or n_ch == 0 or mapping.size == 1:
            _check_tail(data, pos, flags)
            if near:
                raise CorruptStreamError("an empty or constant waveform cannot be near-lossless")
            first = mapping.to_samples(np.zeros(1, dtype=np.int64), dtype)[0]
            return ndarray_copy(np.full(shape, first, dtype=dtype, order=order), out)

        set_id, pos = _read_u8(data, pos)
        if set_id >= len(PARAM_SETS):
            raise CorruptStreamError(f"unknown parameter set {set_id}")
        params = np.array(PARAM_SETS[set_id], dtype=np.int64)
        top = mapping.size - 1
        lo, hi, coefs, orders, shifts, means = _channel_tables(n_ch, top)
        pos = _read_channel_tables(data, pos, near, top, lo, hi, coefs, orders, shifts, means)
        mixed = bool(params[K.P_MIXED])
        raw = np.zeros(1, dtype=np.uint8)  # the coder's raw-bit reader reads its zero last byte past the end
        if not mixed:
            (raw_bytes,), pos = read_varints(data, pos, 1)
            if raw_bytes > size - pos:
                raise TruncatedStreamError(f"raw bit stream of {raw_bytes} bytes overruns the payload")
            raw = np.zeros(int(raw_bytes) + 1, dtype=np.uint8)
            raw[:-1] = data[pos : pos + int(raw_bytes)]
            pos += int(raw_bytes)
        series = level_buffer((n_ch, n_t))
        kernel = K.coder(mixed, True, bounded=near > 0)
        end, raw_bits, status = kernel(series, lo, hi, coefs, orders, shifts, means, near, prior_for(set_id, near).copy(),
                                       params, data, pos, size, raw, K.new_state(n_ch, MAX_ORDER))
        if end > size or status == K.STATUS_TRUNCATED:
            raise TruncatedStreamError(f"waveform payload truncated: decoder needed more than its {size} bytes")
        if status != K.STATUS_OK:
            raise CorruptStreamError("coded levels decode to values outside the level range")
        raw_size = raw.size - 1
        if raw_bits > 8 * raw_size or raw_bits <= 8 * raw_size - 8:
            raise CorruptStreamError(f"decoder used {raw_bits} raw bits of a {raw_size}-byte raw stream")
        _check_tail(data, end, flags)
        bad = K.add_previous(series, lo, top)
        if bad >= 0:
            raise CorruptStreamError(f"channel {bad}: reconstructed level outside the level range")
        # the chunk's memory order: zarr reads a decoded chunk as raw memory
        samples = mapping.samples_from_channels(series, dtype, order)
        return ndarray_copy(samples if two_d else samples[:, 0], out)


def _head(flags: int, n_t: int, n_ch: int, near: int) -> bytearray:
    version = 2 if flags & ~(FLAG_INT32 | FLAG_2D) else 1
    head = bytearray([version, flags])
    head += varint.encode([n_t, n_ch] if flags & FLAG_2D else [n_t])
    if flags & FLAG_NEAR:
        head += varint.encode([near])
    return head


def _pad(payload: bytearray | bytes, n_samples: int) -> bytes:
    """Zero-pad a payload that codes denser than the decoders' cap (marking it version 2)."""
    need = _min_payload_bytes(n_samples)
    if len(payload) >= need:
        return bytes(payload)
    payload = bytearray(payload)
    payload[0] = 2
    payload[1] |= FLAG_PADDED
    return bytes(payload) + bytes(need - len(payload))


def _check_tail(data: np.ndarray, pos: int, flags: int) -> None:
    if pos == data.size:
        return
    if flags & FLAG_PADDED and not data[pos:].any():
        return
    raise CorruptStreamError(f"{data.size - pos} unexpected bytes after the coded waveform")


def _channel_tables(n_ch: int, top: int):
    """Per-channel level range, LPC coefficients, orders, shifts and means, as the kernel takes them."""
    return (np.zeros(n_ch, dtype=np.int64), np.full(n_ch, top, dtype=np.int64),
            np.zeros((n_ch, MAX_ORDER), dtype=np.int64), np.zeros(n_ch, dtype=np.int64),
            np.zeros(n_ch, dtype=np.int64), np.zeros(n_ch, dtype=np.int64))


def _read_channel_tables(data, pos: int, near: int, top: int, lo, hi, coefs, orders, shifts, means) -> int:
    """Fill the per-channel tables from the payload's predictor fields; returns the position after them."""
    pos, status, c, value = K.read_channel_tables(data, pos, data.size, near, top, MAX_ORDER, MAX_SHIFT, MAX_COEF,
                                                  lo, hi, coefs, orders, shifts, means)
    if status == K.TABLES_OK:
        return int(pos)
    if status == K.TABLES_TRUNCATED:
        raise TruncatedStreamError("waveform payload ends inside its header")
    if status == K.TABLES_BAD_VARINT:
        raise TruncatedStreamError("payload ends inside a header varint (or the varint is malformed)")
    if status == K.TABLES_BAD_TAG:
        raise CorruptStreamError(f"channel {c}: bad predictor tag {int(value):#x}")
    if status == K.TABLES_BAD_MEAN:
        raise CorruptStreamError(f"channel {c}: mean level {unzigzag(int(value))} outside the level range")
    if status == K.TABLES_BAD_SHIFT:
        raise CorruptStreamError(f"channel {c}: LPC shift {int(value)} out of range")
    raise CorruptStreamError(f"channel {c}: LPC coefficient out of range")


def _read_u8(buf: np.ndarray, pos: int) -> tuple[int, int]:
    if pos >= buf.size:
        raise TruncatedStreamError("waveform payload ends inside its header")
    return int(buf[pos]), pos + 1
