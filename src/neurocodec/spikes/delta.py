"""``delta``: spatial XOR residuals inside channel groups.

Channels are cut into groups of ``group_size`` consecutive channels (any size; the last group may be
shorter).  In each group the channel with the most spikes is the reference and stays as it is; every
other channel is replaced by its XOR with the reference.  On a probe where neighbouring contacts
see the same units the residuals are far sparser than the channels.  Payload after the shared
header: one integer section holding each group's reference offset, then the residual raster's
intervals as ``isi`` codes them.
"""

from __future__ import annotations

import numpy as np

from ..errors import CorruptStreamError, InvalidConfigError
from ..registry import register_codec
from .base import SpikeCodec, encode_uints
from .isi import decode_intervals_section, raster_to_ints


def xor_groups(raster: np.ndarray, refs: np.ndarray, group_size: int) -> np.ndarray:
    """XOR every non-reference channel of each group with its reference (an involution)."""
    out = raster.copy()
    for g, ref in enumerate(refs):
        lo = g * group_size
        hi = min(lo + group_size, raster.shape[1])
        col = raster[:, lo + int(ref)]
        out[:, lo:hi] ^= col[:, None]
        out[:, lo + int(ref)] = col
    return out


@register_codec
class DeltaCodec(SpikeCodec):
    """Reference channel per group + XOR residuals of the others."""

    codec_id = "neurocodec.spikes_delta"

    def __init__(self, group_size: int = 8):
        if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)) or group_size < 1:
            raise InvalidConfigError(f"group_size must be an integer >= 1, got {group_size!r}")
        self.group_size = int(group_size)

    def _encode(self, raster):
        counts = raster.sum(axis=0)
        starts = np.arange(0, raster.shape[1], self.group_size)
        refs = np.array([np.argmax(counts[s:s + self.group_size]) for s in starts], dtype=np.int64)
        residual = xor_groups(raster, refs, self.group_size)
        return encode_uints(np.concatenate([refs, raster_to_ints(residual)]))

    def _decode(self, reader, T, N):
        n_groups = -(-N // self.group_size)
        refs, residual = decode_intervals_section(reader, T, N, n_prefix=n_groups)
        sizes = np.minimum(self.group_size, N - np.arange(n_groups) * self.group_size)
        if (refs >= sizes).any():
            raise CorruptStreamError(f"{reader.what}: a reference channel lies outside its group")
        return xor_groups(residual, refs, self.group_size)
