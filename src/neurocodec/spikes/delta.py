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
from .base import MAX_DIM_V2, SpikeCodec, encode_uints, refuse_unknown
from .isi import decode_intervals_section, raster_to_ints


def xor_groups(raster: np.ndarray, refs: np.ndarray, group_size: int) -> np.ndarray:
    """XOR every non-reference channel of each group with its reference (an involution)."""
    N = raster.shape[1]
    group = np.arange(N) // group_size
    ref_cols = np.arange(len(refs)) * group_size + refs
    out = raster ^ raster[:, ref_cols[group]]
    out[:, ref_cols] = raster[:, ref_cols]
    return out


def _group_refs(raster: np.ndarray, group_size: int) -> np.ndarray:
    """Per group, the offset of its channel with the most spikes (the first of equals)."""
    N = raster.shape[1]
    n_groups = -(-N // group_size)
    counts = np.full(n_groups * group_size, -1, dtype=np.int64)
    counts[:N] = raster.sum(axis=0)
    return np.argmax(counts.reshape(n_groups, group_size), axis=1).astype(np.int64)


@register_codec
class DeltaCodec(SpikeCodec):
    """Reference channel per group + XOR residuals of the others."""

    codec_id = "neurocodec.spikes_delta"

    def __init__(self, group_size: int = 8, **unknown):
        refuse_unknown(self.codec_id, unknown)
        if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)) \
                or not 1 <= group_size <= MAX_DIM_V2:
            raise InvalidConfigError(f"group_size must be an integer in [1, 2**48], got {group_size!r}")
        self.group_size = int(group_size)

    def _encode(self, raster):
        # a group wider than the raster is one group of all its channels
        refs = _group_refs(raster, min(self.group_size, raster.shape[1]))
        residual = xor_groups(raster, refs, self.group_size)
        return encode_uints(np.concatenate([refs, raster_to_ints(residual)]))

    def _decode(self, reader, T, N):
        n_groups = -(-N // self.group_size)
        refs, residual = decode_intervals_section(reader, T, N, n_prefix=n_groups)
        sizes = np.minimum(self.group_size, N - np.arange(n_groups) * self.group_size)
        if (refs >= sizes).any():
            raise CorruptStreamError(f"{reader.what}: a reference channel lies outside its group")
        return xor_groups(residual, refs, self.group_size)
