"""The error hierarchy.

Every error neurocodec raises on bad input is a :class:`NeurocodecError`, itself a ``ValueError`` so
callers that already guard against bad values keep working.  The kinds are few on purpose: a caller
decides what to do by kind (re-fetch a truncated file, reject a corrupt one, upgrade for a newer
version, fix the call for a bad config), and the message says what was expected and what was found.
"""

from __future__ import annotations


class NeurocodecError(ValueError):
    """Base class of every error neurocodec raises on bad input."""


class TruncatedStreamError(NeurocodecError):
    """The stream ended before a field, block or section it declares."""


class CorruptStreamError(NeurocodecError):
    """The stream is complete but inconsistent: bad magic, failed CRC, impossible field values."""


class UnsupportedVersionError(NeurocodecError):
    """The stream was written by a format version (or codec) this build cannot read."""


class InvalidConfigError(NeurocodecError):
    """A codec was asked for with parameters it does not accept, or given data it cannot encode."""


class WavFormatError(NeurocodecError):
    """A file is not a WAV file this library can round-trip, or is damaged."""


__all__ = [
    "NeurocodecError",
    "TruncatedStreamError",
    "CorruptStreamError",
    "UnsupportedVersionError",
    "InvalidConfigError",
    "WavFormatError",
]
