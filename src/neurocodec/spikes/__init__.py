"""Spike-raster codecs: binary (time bins x channels) rasters, six codecs behind one API.

- ``adaptive``   context-modelled adaptive arithmetic coding (the one at the entropy bound)
- ``isi``        per-channel inter-spike intervals, varint or arithmetic coded
- ``predictive`` shared next-bin predictor (``ema`` or hardware ``lfsr``), surprises coded
- ``delta``      reference channel per group, XOR residuals
- ``streaming``  independent fixed-window frames with CRC-16 and a bounded size
- ``aer``        address-event list, complemented above half density

Every codec: ``compress(spikes) -> (bytes, SpikeResult)``, ``decompress(data, T=None, N=None)``,
and the numcodecs ``encode``/``decode`` (bare payload), registered as ``neurocodec.spikes_<name>``.
See docs/spikes.md for which codec when.
"""

from . import adaptive, aer, delta, isi, predictive, streaming  # noqa: F401  (importing registers them)
from .base import MAX_DECODE_BINS, SpikeCodec, SpikeResult, as_raster, entropy_bound_bits
from .registry import get_codec, list_codecs, recommend_codec
from .streaming import max_frame_bytes, read_frame

__all__ = [
    "get_codec",
    "list_codecs",
    "recommend_codec",
    "SpikeCodec",
    "SpikeResult",
    "as_raster",
    "entropy_bound_bits",
    "max_frame_bytes",
    "read_frame",
    "MAX_DECODE_BINS",
]
