"""Decoded spike events of a hybrid stream, and a plain statement of what a hybrid payload keeps."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from .. import container
from ..errors import CorruptStreamError, InvalidConfigError
from . import codec as hc


@dataclass(frozen=True)
class Events:
    """Spike events, ordered by (sample, channel): ``sample`` index of the trough, ``channel``, and
    ``amplitude`` in levels (ADC codes on the 10-bit ladder): the band-passed trough, quantised, for
    events-only streams; the decoded trough minus the decoded background there for hybrid ones."""

    sample: np.ndarray
    channel: np.ndarray
    amplitude: np.ndarray

    def __len__(self) -> int:
        return int(self.sample.size)


def _payloads(data):
    """``(first row, bare payload)`` of every block of a container holding a hybrid stream."""
    header = container.read_header(data, what="hybrid stream")
    if header.codec_name != "hybrid":
        raise InvalidConfigError(f"not a hybrid stream: its codec is {header.codec_id}")
    view = memoryview(data).cast("B")
    row = 0
    for block in header.blocks:
        payload = view[block.offset:block.offset + block.size]
        if zlib.crc32(payload) & 0xFFFFFFFF != block.crc32:
            raise CorruptStreamError(f"hybrid stream: block at offset {block.offset} CRC mismatch (payload damaged)")
        yield row, bytes(payload)
        row += block.rows


def events(data) -> Events:
    """The decoded events of a hybrid stream (made by ``neurocodec.compress(x, codec="hybrid", ...)``).

    >>> import neurocodec
    >>> from neurocodec.synthetic import recording
    >>> ev = neurocodec.hybrid.events(neurocodec.compress(recording(20000, seed=1), codec="hybrid", events_only=True))
    >>> len(ev) == len(ev.channel)
    True
    """
    codec = hc.HybridCodec()
    samples, channels, amps = [], [], []
    for first, payload in _payloads(data):
        _, (troughs, amplitudes) = codec._decode(payload)
        for c, tr in enumerate(troughs):
            samples.append(tr + first)
            channels.append(np.full(tr.size, c, dtype=np.int64))
            amps.append(np.asarray(amplitudes[c], dtype=np.int64) if amplitudes is not None
                        else np.zeros(0, dtype=np.int64))
    if not samples:
        empty = np.zeros(0, dtype=np.int64)
        return Events(empty, empty.copy(), empty.copy())
    s, c, a = np.concatenate(samples), np.concatenate(channels), np.concatenate(amps)
    order = np.lexsort((c, s))
    return Events(s[order], c[order], a[order])


def describe(data) -> dict:
    """What each block of a hybrid stream keeps and the error bounds it states.

    ``snippet_near``: every sample inside a snippet window is within that many levels of the
    original; ``background_near``: every background point within that many levels (+1/2) of the
    low-passed original; samples outside the windows carry the background only (no bound on
    their spike-band content).  Events-only blocks keep no waveform at all.
    """
    blocks = []
    for first, payload in _payloads(data):
        blocks.append(hc.describe_payload(payload) | {"first_row": first})
    return {"lossy": True, "codec": "neurocodec.hybrid", "blocks": blocks}
