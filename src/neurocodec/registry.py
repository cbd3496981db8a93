"""The codecs neurocodec can frame and unframe, by name.

Every codec is a numcodecs ``Codec`` whose ``codec_id`` is ``"neurocodec." + name``.  Registering
one here also registers it with numcodecs, so ``numcodecs.get_codec({"id": "neurocodec.waveform"})``
and zarr find it even without the package entry points.  The standalone container accepts only
codecs registered here, so a crafted file cannot make the decoder run an arbitrary numcodecs codec
(``pickle``, say).
"""

from __future__ import annotations

import functools
import importlib
import inspect

import numcodecs
from numcodecs.abc import Codec

from .errors import InvalidConfigError, UnsupportedVersionError

PREFIX = "neurocodec."

_CODECS: dict[str, type[Codec]] = {}

# Modules whose import registers codecs, by the name prefix of the codecs they hold; imported
# lazily, and only the one a name needs, so the challenge executables start fast.
_CODEC_MODULES = {
    "waveform": "neurocodec.waveform",
    "spikes_": "neurocodec.spikes",
    "mua": "neurocodec.mua",
    "hybrid": "neurocodec.hybrid",
}


def _is_object_array(buf) -> bool:
    return getattr(getattr(buf, "dtype", None), "hasobject", False)


def _reject_object_buffers(cls: type[Codec]) -> None:
    # numcodecs codecs raise TypeError for object arrays (ensure_contiguous_ndarray does); ours do too,
    # before a codec's own checks could read an object array's pointers as bytes
    encode, decode = cls.encode, cls.decode
    if getattr(encode, "_rejects_objects", False):
        return

    @functools.wraps(encode)
    def checked_encode(self, buf):
        if _is_object_array(buf):
            raise TypeError(f"{self.codec_id} cannot encode object arrays")
        return encode(self, buf)

    @functools.wraps(decode)
    def checked_decode(self, buf, out=None, **kwargs):
        if _is_object_array(buf) or _is_object_array(out):
            raise TypeError("object arrays are not supported")
        return decode(self, buf, out, **kwargs)

    checked_encode._rejects_objects = True
    cls.encode, cls.decode = checked_encode, checked_decode


def register_codec(cls: type[Codec]) -> type[Codec]:
    """Class decorator: register ``cls`` under its ``codec_id`` (which must start with ``neurocodec.``)."""
    codec_id = getattr(cls, "codec_id", None)
    if not isinstance(codec_id, str) or not codec_id.startswith(PREFIX) or codec_id == PREFIX:
        raise TypeError(f"codec_id must be 'neurocodec.<name>', got {codec_id!r}")
    _reject_object_buffers(cls)
    _CODECS[codec_id[len(PREFIX):]] = cls
    numcodecs.register_codec(cls)
    return cls


def _load_all() -> None:
    for module in _CODEC_MODULES.values():
        importlib.import_module(module)


def _load_for(name: str) -> None:
    for prefix, module in _CODEC_MODULES.items():
        if name.startswith(prefix):
            importlib.import_module(module)
            return


def codec_names() -> list[str]:
    """Names of every registered codec, sorted."""
    _load_all()
    return sorted(_CODECS)


def codec_class(name: str) -> type[Codec]:
    """The codec class registered as ``name`` (with or without the ``neurocodec.`` prefix)."""
    if name.startswith(PREFIX):
        name = name[len(PREFIX):]
    if name not in _CODECS:
        _load_for(name)
    try:
        return _CODECS[name]
    except KeyError:
        _load_all()  # so the message lists every codec, not only those imported so far
        raise UnsupportedVersionError(
            f"unknown codec {name!r}; this build knows {', '.join(sorted(_CODECS))}"
        ) from None


def make_codec(name: str, **config) -> Codec:
    """Instantiate codec ``name`` with ``config``; unknown parameters raise :class:`InvalidConfigError`."""
    cls = codec_class(name)
    params = inspect.signature(cls.__init__).parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in config if k not in params or k == "self"]
    if unknown and not takes_kwargs:
        accepted = [k for k in params if k != "self"]
        raise InvalidConfigError(
            f"codec {name!r} does not take {', '.join(map(repr, unknown))}; it takes {accepted}"
        )
    try:
        return cls(**config)
    except InvalidConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise InvalidConfigError(f"codec {name!r}: {exc}") from None


def non_default_config(codec: Codec) -> dict:
    """The parameters of ``codec`` that differ from a default-constructed one (what a file must record)."""
    config = dict(codec.get_config())
    config.pop("id", None)
    defaults = dict(type(codec)().get_config())
    defaults.pop("id", None)
    return {k: v for k, v in config.items() if defaults.get(k, object()) != v}
