"""Lossless coding of integer waveforms (multi-channel neural recordings)."""

from .lossless import WaveformCodec

__all__ = ["WaveformCodec"]
