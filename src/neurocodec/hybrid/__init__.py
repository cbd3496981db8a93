"""Lossy, spike-preserving coding of waveforms: the hybrid codec and its events-only mode.

- :class:`HybridCodec` (``neurocodec.hybrid``): spike troughs found by a 300-6000 Hz MAD detector
  and coded losslessly, a snippet around each within a stated error bound, and a low-passed,
  decimated background within its own bound; the decoder rebuilds the (T, C) waveform.
- ``events_only=True``: trough times, channels and quantised trough amplitudes only, for the
  ~1 Mbit/s implant radio; :func:`events` reads them back.
- :func:`describe`: what a payload keeps and the bounds it states (lossy is never silent).
"""

from .codec import FORMAT_VERSION, HybridCodec
from .events import Events, describe, events

__all__ = ["HybridCodec", "Events", "events", "describe", "FORMAT_VERSION"]
