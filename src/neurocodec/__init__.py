"""neurocodec: compression of neural recordings.

Lossless raw waveforms (:mod:`neurocodec.waveform`), spike rasters (:mod:`neurocodec.spikes`) and
multi-unit activity for wireless implants (:mod:`neurocodec.mua`), behind one container format.
"""

from . import _jit  # noqa: F401  (first: it decides where numba caches the kernels defined below)
from .api import (
    LossyDecodeWarning,
    codecs,
    compress,
    decode_bytes,
    decode_file,
    decompress,
    encode_bytes,
    encode_file,
    inspect,
)
from .errors import (
    CorruptStreamError,
    InvalidConfigError,
    NeurocodecError,
    TruncatedStreamError,
    UnsupportedVersionError,
    WavFormatError,
)

__version__ = "0.1.0"

__all__ = [
    "LossyDecodeWarning",
    "compress",
    "decompress",
    "encode_file",
    "decode_file",
    "encode_bytes",
    "decode_bytes",
    "inspect",
    "codecs",
    "NeurocodecError",
    "TruncatedStreamError",
    "CorruptStreamError",
    "UnsupportedVersionError",
    "InvalidConfigError",
    "WavFormatError",
]
