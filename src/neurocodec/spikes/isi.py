"""``isi``: per-channel inter-spike intervals.

Payload after the shared header: the integer section (:func:`.base.encode_uints`) holding the N
per-channel spike counts, then, channel after channel, the first spike's bin and each later gap
minus one.  The section picks LEB128 varints or the adaptive arithmetic code, whichever is smaller,
per stream.  Cheap to produce on an implant (one counter per channel) and near the bound for
sparse, uncorrelated units.  ``delta`` and ``predictive`` code their residual rasters this way too.
"""

from __future__ import annotations

import numpy as np

from ..errors import CorruptStreamError
from ..registry import register_codec
from . import _kernels
from .base import PayloadReader, SpikeCodec, decode_uints, encode_uints


def raster_to_ints(raster: np.ndarray) -> np.ndarray:
    """N channel counts, then each channel's first spike bin and gaps minus one (int64)."""
    counts, values = _kernels.channel_intervals(raster.view(np.uint8))
    return np.concatenate([counts, values])


def ints_to_raster(values: np.ndarray, T: int, N: int, what: str) -> np.ndarray:
    """Inverse of :func:`raster_to_ints`; inconsistent counts or out-of-range spikes raise."""
    if len(values) < N:
        raise CorruptStreamError(f"{what}: {len(values)} integers cannot hold {N} channel counts")
    counts = values[:N]
    if (counts > T).any() or int(counts.sum()) != len(values) - N:
        raise CorruptStreamError(f"{what}: channel spike counts do not match the intervals present")
    out = np.zeros((T, N), dtype=bool)
    if not _kernels.scatter_intervals(counts, values[N:], out):
        raise CorruptStreamError(f"{what}: an interval places a spike past T = {T}")
    return out


def decode_intervals_section(reader: PayloadReader, T: int, N: int, n_prefix: int = 0):
    """Read an integer section of ``n_prefix`` side values then a raster's intervals; returns both."""
    values = decode_uints(reader, n_prefix + N + T * N)
    if len(values) < n_prefix:
        raise CorruptStreamError(f"{reader.what}: {len(values)} integers, {n_prefix} side values expected")
    return values[:n_prefix], ints_to_raster(values[n_prefix:], T, N, reader.what)


@register_codec
class IsiCodec(SpikeCodec):
    """Inter-spike intervals per channel, varint or arithmetic coded (smaller wins)."""

    codec_id = "neurocodec.spikes_isi"

    def _encode(self, raster):
        return encode_uints(raster_to_ints(raster))

    def _decode(self, reader, T, N):
        return decode_intervals_section(reader, T, N)[1]
