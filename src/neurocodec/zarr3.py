"""zarr 3 codecs: every neurocodec codec as the array-to-bytes step of a zarr format 3 array.

zarr 3 splits a chunk's pipeline into array->array filters, one array->bytes serializer and
bytes->bytes compressors.  neurocodec's codecs see the chunk as an array (its shape tells the
waveform codec its channels, the spike codecs their raster), so each is an ``ArrayBytesCodec``:
pass it as ``serializer=``, alone or inside sharding::

    import zarr
    from neurocodec.zarr3 import Waveform

    z = zarr.create_array("rec.zarr", shape=x.shape, chunks=(60000, 32), dtype="int16",
                          serializer=Waveform(preset="fast"), compressors=None)
    z[:] = x
    zarr.open_array("rec.zarr")[:]       # found by name through the zarr.codecs entry point

In metadata a codec is ``{"name": "neurocodec.<name>", "configuration": {...}}``, the
configuration being the numcodecs codec's ``get_config()`` without its id; the chunk bytes are the
codec's bare payload, the same bytes a zarr 2 chunk holds.  The names also resolve with the
``numcodecs.`` prefix that zarr's generic numcodecs wrappers write, so a store written through such
a wrapper opens too.  zarr 2 needs none of this: there the numcodecs codecs are compressors as they
are (``compressor=neurocodec.waveform.WaveformCodec()``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

try:
    from zarr.abc.codec import ArrayBytesCodec
    from zarr.core.common import parse_named_configuration
except ImportError as exc:  # zarr 2, or no zarr
    raise ImportError(
        "neurocodec.zarr3 needs zarr >= 3 (pip install \"neurocodec[zarr]\"); with zarr 2 use the numcodecs "
        "codecs as compressors directly"
    ) from exc

from . import registry
from .errors import InvalidConfigError

_ALIAS_PREFIX = "numcodecs."


@dataclass(frozen=True)
class NeurocodecZarr3Codec(ArrayBytesCodec):
    """Base of the zarr 3 codecs: wraps the numcodecs codec registered as :attr:`codec_name`.

    Subclasses set ``codec_name`` (the numcodecs codec id, ``"neurocodec.<name>"``) and the array
    kinds the codec takes (``dtype_kinds``, ``ndims``), which zarr checks when an array is created.
    """

    codec_name: ClassVar[str] = ""
    dtype_kinds: ClassVar[str] = "iub"
    ndims: ClassVar[tuple[int, ...]] = (1, 2)
    is_fixed_size: ClassVar[bool] = False

    configuration: dict

    def __init__(self, **configuration) -> None:
        configuration.pop("id", None)
        # the numcodecs codec validates the parameters (InvalidConfigError names what is wrong)
        codec = registry.make_codec(self.codec_name, **configuration)
        config = dict(codec.get_config())
        config.pop("id", None)
        object.__setattr__(self, "configuration", config)
        object.__setattr__(self, "_numcodec", codec)

    @property
    def codec(self):
        """The numcodecs codec this wraps."""
        return self._numcodec

    # -- metadata -------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict) -> "NeurocodecZarr3Codec":
        name = data.get("name") if isinstance(data, dict) else None
        expected = _ALIAS_PREFIX + cls.codec_name if name == _ALIAS_PREFIX + cls.codec_name else cls.codec_name
        _, configuration = parse_named_configuration(data, expected, require_configuration=False)
        return cls(**(configuration or {}))

    def to_dict(self) -> dict:
        return {"name": self.codec_name, "configuration": dict(self.configuration)}

    def __hash__(self) -> int:
        return hash((self.codec_name, tuple(sorted((k, repr(v)) for k, v in self.configuration.items()))))

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.configuration == other.configuration

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.configuration.items())
        return f"{type(self).__name__}({args})"

    # -- zarr's checks and the chunk pipeline -------------------------------------------------
    def validate(self, *, shape, dtype, chunk_grid) -> None:
        native = dtype.to_native_dtype()
        if native.kind not in self.dtype_kinds:
            raise TypeError(f"{self.codec_name} stores dtypes of kind {self.dtype_kinds!r}, not {native}")
        if len(shape) not in self.ndims:
            raise ValueError(f"{self.codec_name} stores arrays of {self.ndims} dimensions, not shape {shape}")

    def compute_encoded_size(self, input_byte_length: int, chunk_spec) -> int:
        # zarr asks this only of a shard's index codecs, whose size must be known before the index
        # is read; an entropy coder's size depends on the data, so that configuration is the error
        raise InvalidConfigError(f"{self.codec_name} cannot state its encoded size in advance (it depends on "
                                 "the data), so it cannot code a shard index: keep zarr's bytes and crc32c "
                                 "codecs there")

    def _decode_sync(self, chunk_bytes, chunk_spec):
        decoded = np.asarray(self._numcodec.decode(chunk_bytes.as_numpy_array()))
        native = chunk_spec.dtype.to_native_dtype()
        if decoded.dtype != native:
            decoded = decoded.astype(native, casting="same_kind")
        return chunk_spec.prototype.nd_buffer.from_ndarray_like(decoded.reshape(chunk_spec.shape))

    def _encode_sync(self, chunk_array, chunk_spec):
        data = np.ascontiguousarray(chunk_array.as_numpy_array())
        return chunk_spec.prototype.buffer.from_bytes(bytes(self._numcodec.encode(data)))

    async def _decode_single(self, chunk_bytes, chunk_spec):
        return await asyncio.to_thread(self._decode_sync, chunk_bytes, chunk_spec)

    async def _encode_single(self, chunk_array, chunk_spec):
        return await asyncio.to_thread(self._encode_sync, chunk_array, chunk_spec)


def _codec(class_name: str, name: str, kinds: str, ndims: tuple[int, ...], doc: str) -> type[NeurocodecZarr3Codec]:
    cls = dataclass(frozen=True, init=False, eq=False, repr=False)(type(class_name, (NeurocodecZarr3Codec,), {
        "__doc__": doc, "__module__": __name__, "__qualname__": class_name,
        "codec_name": registry.PREFIX + name, "dtype_kinds": kinds, "ndims": ndims,
    }))
    return cls


Waveform = _codec("Waveform", "waveform", "i", (1, 2),
                  "Lossless waveform codec (int16/int32, shape (T,) or (T, channels)); see WaveformCodec.")
Hybrid = _codec("Hybrid", "hybrid", "i", (1, 2),
                "Hybrid lossy waveform codec (int16/int32, (T,) or (T, channels)); see the hybrid codec's docs.")
MUA = _codec("MUA", "mua", "iu", (2,), "MUA count codec, (bins, channels) integer counts; see MUACodec.")
SpikesAdaptive = _codec("SpikesAdaptive", "spikes_adaptive", "biuf", (2,), "Adaptive spike-raster codec.")
SpikesAer = _codec("SpikesAer", "spikes_aer", "biuf", (2,), "Address-event spike-raster codec.")
SpikesDelta = _codec("SpikesDelta", "spikes_delta", "biuf", (2,), "Delta spike-raster codec.")
SpikesIsi = _codec("SpikesIsi", "spikes_isi", "biuf", (2,), "Inter-spike-interval spike-raster codec.")
SpikesPredictive = _codec("SpikesPredictive", "spikes_predictive", "biuf", (2,), "Predictive spike-raster codec.")
SpikesStreaming = _codec("SpikesStreaming", "spikes_streaming", "biuf", (2,), "Streaming spike-raster codec.")

#: zarr 3 codec class by neurocodec codec name.
CODECS: dict[str, type[NeurocodecZarr3Codec]] = {
    cls.codec_name[len(registry.PREFIX):]: cls
    for cls in (Waveform, Hybrid, MUA, SpikesAdaptive, SpikesAer, SpikesDelta, SpikesIsi, SpikesPredictive, SpikesStreaming)
}


def serializer(name: str, **config) -> NeurocodecZarr3Codec:
    """The zarr 3 codec for neurocodec codec ``name`` (``"waveform"``, ``"spikes_isi"``, ...) with ``config``."""
    key = name[len(registry.PREFIX):] if name.startswith(registry.PREFIX) else name
    if key not in CODECS:
        registry.codec_class(key)  # an unknown name raises with the list of every codec
        # a codec registered after this module was written: a class made here serves this process;
        # a store written with it reopens elsewhere once the codec has its class and entry point
        cls = _codec("".join(part.title() for part in key.split("_")), key, "biuf", (1, 2), f"zarr 3 codec {key}.")
        CODECS[key] = cls
        _register_one(cls)
    return CODECS[key](**config)


def from_numcodecs(codec) -> NeurocodecZarr3Codec:
    """The zarr 3 codec with the configuration of numcodecs codec ``codec`` (e.g. a ``WaveformCodec``)."""
    config = dict(codec.get_config())
    return serializer(config.pop("id"), **config)


def _register() -> None:
    # The entry points do this for an installed package; registering here too covers a source
    # checkout on sys.path and names the numcodecs-prefixed aliases the same classes.
    for cls in CODECS.values():
        _register_one(cls)


def _register_one(cls) -> None:
    from zarr.registry import register_codec

    register_codec(cls.codec_name, cls)
    register_codec(_ALIAS_PREFIX + cls.codec_name, cls)


_register()

__all__ = ["NeurocodecZarr3Codec", "serializer", "from_numcodecs", "CODECS", *[c.__name__ for c in CODECS.values()]]
