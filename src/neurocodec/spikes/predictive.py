"""``predictive``: code only where a shared predictor of the next bin is wrong.

Encoder and decoder run the same per-channel predictor over the raster in time-major order
(bin t, channels 0..N-1), each prediction made before the bin is seen and the predictor then
updated with the true bin.  The residual raster ``truth XOR prediction`` (the surprises) is coded
like ``isi`` codes a raster.  Two predictors, integer arithmetic only:

``ema`` -- rate tracking + threshold.  Per channel ``R`` in Q0.16 (65536 = always spikes), start 0.
    predict = R >= threshold;  then  R += ((truth << 16) - R) >> shift  (arithmetic shift).
    Defaults shift = 2, threshold = 32768: after three spikes in a row the channel is predicted to
    keep firing until its rate decays below one half (bursts, tonic firing).

``lfsr`` -- the stochastic predictor of a neuromorphic front end, written so that an RTL model can
    match it bit for bit.  State: one 16-bit Fibonacci LFSR shared by all channels (time-multiplexed,
    as one LFSR serves the channels of a core in hardware), seeded with ``seed`` (non-zero), and per
    channel a 16-bit rate register ``R`` read as Q8.8 spikes per 256 bins, start ``init_rate``.
    For each bin t, for each channel c in order 0..N-1:

    1. step the LFSR (polynomial x^16 + x^14 + x^13 + x^11 + 1, maximal, period 65535)::

           fb   = (s ^ (s >> 2) ^ (s >> 3) ^ (s >> 5)) & 1      # taps 16, 14, 13, 11
           s    = (s >> 1) | (fb << 15)

    2. compare: ``predict = 1 if s < R else 0`` (unsigned 16-bit comparator; fires with
       probability (R - 1) / 65535, i.e. about R / 256 spikes per 256 bins);
    3. update with the true bin, shift-and-add only, no multiplier, R stays in [0, 0xFFFF]::

           spike:     R = R + ((0xFFFF - R) >> shift)
           no spike:  R = R - (R >> shift)

    Defaults: seed 0xACE1, shift 3, init_rate 0.

Payload after the shared header: the integer section of the residual raster's intervals; the
predictor's parameters travel in the codec config (container header / zarr metadata).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..errors import InvalidConfigError
from ..registry import register_codec
from .base import SpikeCodec, encode_uints, refuse_unknown
from .isi import decode_intervals_section, raster_to_ints

PREDICTORS = ("ema", "lfsr")


@nb.njit(cache=True)
def ema_transform(src, shift, threshold, decoding):
    """Residual of a truth raster (``decoding`` 0) or truth of a residual raster (``decoding`` 1)."""
    T, N = src.shape
    dst = np.empty_like(src)
    rate = np.zeros(N, dtype=np.int64)
    for t in range(T):
        for c in range(N):
            pred = 1 if rate[c] >= threshold else 0
            bit = np.int64(src[t, c] != 0)
            truth = bit ^ (pred & decoding)
            dst[t, c] = bit ^ pred
            rate[c] += ((truth << 16) - rate[c]) >> shift
    return dst


@nb.njit(inline="always", cache=True)
def lfsr_step(s):
    """One step of the 16-bit Fibonacci LFSR x^16 + x^14 + x^13 + x^11 + 1."""
    fb = (s ^ (s >> 2) ^ (s >> 3) ^ (s >> 5)) & 1
    return (s >> 1) | (fb << 15)


@nb.njit(cache=True)
def lfsr_transform(src, shift, seed, init_rate, decoding):
    """As :func:`ema_transform`, with the LFSR comparator predictor (module docstring, steps 1-3)."""
    T, N = src.shape
    dst = np.empty_like(src)
    rate = np.full(N, init_rate, dtype=np.int64)
    s = seed
    for t in range(T):
        for c in range(N):
            s = lfsr_step(s)
            pred = 1 if s < rate[c] else 0
            bit = np.int64(src[t, c] != 0)
            truth = bit ^ (pred & decoding)
            dst[t, c] = bit ^ pred
            if truth:
                rate[c] += (0xFFFF - rate[c]) >> shift
            else:
                rate[c] -= rate[c] >> shift
    return dst


@register_codec
class PredictiveCodec(SpikeCodec):
    """Shared next-bin predictor (``ema`` or ``lfsr``); only the surprises are coded."""

    codec_id = "neurocodec.spikes_predictive"

    def __init__(self, predictor: str = "ema", shift: int | None = None, threshold: int = 32768,
                 seed: int = 0xACE1, init_rate: int = 0, **unknown):
        refuse_unknown(self.codec_id, unknown)
        if predictor not in PREDICTORS:
            raise InvalidConfigError(f"predictor must be one of {PREDICTORS}, got {predictor!r}")
        shift = (2 if predictor == "ema" else 3) if shift is None else shift
        checks = (("shift", shift, 1, 15), ("threshold", threshold, 1, 65536),
                  ("seed", seed, 1, 0xFFFF), ("init_rate", init_rate, 0, 0xFFFF))
        for label, value, lo, hi in checks:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
                raise InvalidConfigError(f"{label} must be an integer in [{lo}, {hi}], got {value!r}")
        self.predictor = predictor
        self.shift = int(shift)
        self.threshold = int(threshold)
        self.seed = int(seed)
        self.init_rate = int(init_rate)

    def transform(self, raster: np.ndarray, decoding: bool) -> np.ndarray:
        """Residual of ``raster`` (or, ``decoding``, the truth behind a residual), as bool."""
        src = raster.view(np.uint8)
        if self.predictor == "ema":
            dst = ema_transform(src, self.shift, self.threshold, int(decoding))
        else:
            dst = lfsr_transform(src, self.shift, self.seed, self.init_rate, int(decoding))
        return dst.view(bool)

    def _encode(self, raster):
        return encode_uints(raster_to_ints(self.transform(raster, False)))

    def _decode(self, reader, T, N):
        residual = decode_intervals_section(reader, T, N)[1]
        return self.transform(residual, True)
