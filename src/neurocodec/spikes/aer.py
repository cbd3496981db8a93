"""``aer``: address-event representation, the event list a neuromorphic link carries.

Events in time order, each ``(dt, address)``: ``dt`` bins since the previous event's bin, and the
channel as an increment over the previous event's channel in the same bin (minus one) or, in a new
bin, the channel itself.  When more than half the bins spike, the complement's events are sent
instead (the stream says so).  Payload after the shared header: ``u8 flags`` (bit 0: complemented)
and one integer section of the interleaved pairs (each field with its own coder contexts).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..errors import CorruptStreamError
from ..registry import register_codec
from .base import SpikeCodec, decode_uints, encode_uints, should_invert


def raster_to_events(raster: np.ndarray) -> np.ndarray:
    """Interleaved ``(dt, address increment)`` pairs of the spikes of ``raster`` (int64)."""
    T, N = raster.shape
    flat = np.flatnonzero(raster)
    t, c = np.divmod(flat, N)
    dt = np.diff(t, prepend=0)
    prev_c = np.concatenate([[-1], c[:-1]])
    prev_c[dt > 0] = -1
    pairs = np.empty(2 * len(flat), dtype=np.int64)
    pairs[0::2] = dt
    pairs[1::2] = c - prev_c - 1
    return pairs


@nb.njit(cache=True)
def scatter_events(pairs, out):
    """Inverse of :func:`raster_to_events` into a zeroed bool ``out``; False if an event falls outside."""
    T, N = out.shape
    t = 0
    c = -1
    for i in range(0, pairs.shape[0], 2):
        dt = pairs[i]
        if dt > T - 1 - t:        # compared before adding, so a crafted dt cannot overflow
            return False
        if dt > 0:
            t += dt
            c = -1
        step = pairs[i + 1]
        if step > N - 2 - c:
            return False
        c += step + 1
        out[t, c] = True
    return True


@register_codec
class AerCodec(SpikeCodec):
    """Address-event list, complemented when more than half the bins spike."""

    codec_id = "neurocodec.spikes_aer"

    def _encode(self, raster):
        invert = should_invert(raster)
        return bytes([int(invert)]) + encode_uints(raster_to_events(~raster if invert else raster), n_kinds=2)

    def _decode(self, reader, T, N):
        flags = reader.u8("flags")
        if flags > 1:
            raise CorruptStreamError(f"{reader.what}: unknown flags {flags}")
        # the encoder complements a raster denser than 1/2, so at most half the bins are events
        pairs = decode_uints(reader, 2 * (T * N // 2), n_kinds=2)
        out = np.zeros((T, N), dtype=bool)
        if len(pairs) % 2 or not scatter_events(pairs, out):
            raise CorruptStreamError(f"{reader.what}: event list is malformed or falls outside {T} x {N}")
        if flags:
            np.logical_not(out, out=out)
        return out
