"""The public API: arrays to bytes and back, files to files."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from . import container, registry
from .errors import InvalidConfigError, NeurocodecError
from .io import rawbin, wav
from .io.atomic import refuse_overwriting_input, write_atomic

DEFAULT_CODEC = "waveform"
_NPY_MAGIC = b"\x93NUMPY"


def compress(array, codec: str = DEFAULT_CODEC, *, block_rows: int | None = None, threads: int | None = None,
             **config) -> bytes:
    """Compress ``array`` into a standalone neurocodec stream.

    Parameters
    ----------
    array : array_like
        Samples, time along axis 0: int16 of shape (T,) or (T, channels) for waveform codecs.
    codec : str
        Registered codec name (see :func:`neurocodec.codecs`); ``"waveform"`` by default.
    block_rows : int, optional
        Rows per independently decodable block (default: about 4 M elements per block).
    threads : int, optional
        Threads that code blocks in parallel (default: every core); the bytes do not depend on it.
    **config
        Codec parameters, e.g. ``preset="fast"``.

    Examples
    --------
    >>> import numpy as np, neurocodec
    >>> x = (np.arange(1000) % 50 * 64).astype(np.int16)
    >>> data = neurocodec.compress(x)
    >>> bool((neurocodec.decompress(data) == x).all())
    True
    """
    return container.pack(registry.make_codec(codec, **config), np.asarray(array), block_rows=block_rows,
                          threads=threads)


def decompress(data, *, start: int | None = None, stop: int | None = None,
               max_output_bytes: int | None = None, max_bytes: int | None = None,
               threads: int | None = None) -> np.ndarray:
    """Decode a stream made by :func:`compress`; ``start``/``stop`` select rows (only their blocks are decoded).

    ``max_output_bytes`` caps the decoded size; by default a stream may decode to 64 MiB or to 4096
    times its own length, whichever is more (at most 16 GiB), so a small forged stream cannot ask
    for gigabytes.  ``max_bytes`` is its former name.  Blocks are decoded on ``threads`` threads
    (default: every core).
    """
    return container.unpack(data, start=start, stop=stop, max_output_bytes=max_output_bytes, max_bytes=max_bytes,
                            threads=threads)


def inspect(data) -> dict:
    """Header fields and a byte accounting of a stream."""
    return container.inspect(data)


def encode_bytes(data: bytes, codec: str = DEFAULT_CODEC, *, name: str = "<input>", threads: int | None = None,
                 progress: bool = False, **config) -> bytes:
    """Compress the bytes of a WAV or ``.npy`` file; :func:`decode_bytes` gives the same bytes back for a WAV.

    ``progress``: a progress bar over the blocks on stderr (for long recordings)."""
    codec_obj = registry.make_codec(codec, **config)
    if data[:6] == _NPY_MAGIC:
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError as exc:
            raise InvalidConfigError(f"{name}: unreadable .npy file: {exc}") from None
        return container.pack(codec_obj, array, threads=threads, progress=f"encode {name}" if progress else None)
    parsed = wav.parse(data, name)
    return container.pack(codec_obj, parsed.samples, extra=wav.sidecar(parsed), threads=threads,
                          progress=f"encode {name}" if progress else None)


def decode_bytes(data: bytes, *, name: str = "<input>", threads: int | None = None, progress: bool = False) -> bytes:
    """Inverse of :func:`encode_bytes`: the original WAV bytes, or an ``.npy`` file for array input.

    A lossy stream (``near > 0``, the hybrid codec) gives a file of the same format whose samples
    are the reconstruction, and says so with a :class:`LossyDecodeWarning`.
    """
    header = container.read_header(data, what=name)
    samples = container.unpack_header(data, header, what=name, threads=threads,
                                      progress=f"decode {name}" if progress else None)
    bound = container.lossy_bound(header)
    if bound is not None:
        warnings.warn(LossyDecodeWarning(f"{name} is lossy ({_describe(bound)}): the decoded file is not the original"),
                      stacklevel=2)
    raw = rawbin.parse_sidecar(header.extra, name)
    if raw is not None:  # a raw binary (SpikeGLX .bin): samples then the partial last frame
        return np.ascontiguousarray(samples, dtype=header.dtype).tobytes() + raw[1]
    if header.extra:
        return wav.from_sidecar(header.extra, samples, name)
    out = io.BytesIO()
    np.save(out, samples, allow_pickle=False)
    return out.getvalue()


class LossyDecodeWarning(UserWarning):
    """A lossy stream was decoded to a file: its samples are a reconstruction, not the original."""


def _describe(bound: dict) -> str:
    if "max_abs_error" in bound:
        return f"every sample within +-{bound['max_abs_error']} {bound.get('unit', 'levels')}"
    return bound.get("description", "lossy")


def _read(path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise NeurocodecError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def encode_file(src, dst, codec: str = DEFAULT_CODEC, *, force: bool = False, **config) -> int:
    """Compress the WAV (or ``.npy``) file ``src`` into ``dst`` atomically; returns the bytes written.

    ``dst`` naming ``src`` itself (same path, hard link or symlink) is refused unless ``force``.
    """
    refuse_overwriting_input(src, dst, force)
    out = encode_bytes(_read(src, "input"), codec, name=str(src), **config)
    write_atomic(dst, out)
    return len(out)


def decode_file(src, dst, *, force: bool = False) -> int:
    """Decompress ``src`` into ``dst`` atomically (byte-identical to the original WAV); returns bytes written.

    ``dst`` naming ``src`` itself is refused unless ``force``.
    """
    refuse_overwriting_input(src, dst, force)
    out = decode_bytes(_read(src, "input"), name=str(src))
    write_atomic(dst, out)
    return len(out)


def codecs() -> list[str]:
    """Names of the registered codecs."""
    return registry.codec_names()
