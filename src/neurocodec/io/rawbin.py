"""Raw interleaved binaries (SpikeGLX ``.bin`` + ``.meta``, Open Ephys ``continuous.dat``, ...).

Such files are little-endian integer samples, channel after channel within each time step, with
no header: hundreds of GB for a Neuropixels session.  They are coded in time blocks through the
container's blocks, one block in memory at a time, so memory stays bounded whatever the file's size:

- encode: block payloads go to a temporary file beside the output, then the container header (which
  indexes them) and the payloads are written to the output, atomically;
- decode: the header is read through a memory map (only its pages are touched), then block after
  block is read, checked, decoded and appended to the output.

The container's ``extra`` holds the raw-binary sidecar (FORMAT.md, "Raw binary sidecar"): kind
byte ``02``, the ``.meta`` text verbatim (may be empty) and the bytes after the last whole time step
(a file whose size is not a multiple of the frame), so decode gives back the ``.bin`` byte for byte,
and the ``.meta`` beside it.
"""

from __future__ import annotations

import mmap
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from .. import container, registry
from ..entropy.varint import read_uvarint, uvarint_bytes
from ..errors import CorruptStreamError, InvalidConfigError, NeurocodecError
from .atomic import atomic_output

SIDECAR_RAW = 2
#: Elements per block: the container's default (about 8 MB of int16 per block).
BLOCK_ELEMENTS = container.DEFAULT_BLOCK_ELEMENTS
_DTYPES = {"int16": "<i2", "i2": "<i2", "<i2": "<i2", "int32": "<i4", "i4": "<i4", "<i4": "<i4"}
_COPY_BYTES = 1 << 20


def meta_path(bin_path) -> Path:
    """The SpikeGLX ``.meta`` beside a ``.bin`` (``rec.ap.bin`` -> ``rec.ap.meta``)."""
    return Path(bin_path).with_suffix(".meta")


def read_meta(path) -> dict[str, str]:
    """A SpikeGLX ``.meta`` file as ``{key: value}`` strings (``~`` keys keep their tilde)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise NeurocodecError(f"cannot read {path}: {exc.strerror or exc}") from None
    meta = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            meta[key.strip()] = value.strip()
    return meta


def channels_from_meta(meta: dict[str, str], what: str) -> int:
    """Interleaved channels of a SpikeGLX recording (``nSavedChans``)."""
    try:
        channels = int(meta["nSavedChans"])
    except (KeyError, ValueError):
        raise InvalidConfigError(f"{what}: no integer nSavedChans; give the channel count (--channels N)") from None
    if channels < 1:
        raise InvalidConfigError(f"{what}: nSavedChans = {channels}")
    return channels


def _dtype(dtype) -> np.dtype:
    key = dtype if isinstance(dtype, str) else np.dtype(dtype).str
    if key not in _DTYPES:
        raise InvalidConfigError(f"raw binaries hold int16 or int32 samples (little-endian), got {dtype!r}")
    return np.dtype(_DTYPES[key])


def sidecar(meta: bytes, tail: bytes) -> bytes:
    """The container's ``extra`` for a raw binary: kind, ``.meta`` bytes, trailing partial frame."""
    return bytes([SIDECAR_RAW]) + uvarint_bytes(len(meta)) + meta + uvarint_bytes(len(tail)) + tail


def parse_sidecar(extra: bytes, what: str) -> tuple[bytes, bytes] | None:
    """``(meta, tail)`` of a raw-binary sidecar, or None when ``extra`` is not one (a WAV sidecar, say)."""
    if not extra or extra[0] != SIDECAR_RAW:
        return None
    meta_len, pos = read_uvarint(extra, 1)
    if meta_len < 0 or pos + meta_len > len(extra):
        raise CorruptStreamError(f"{what}: raw-binary sidecar is malformed")
    meta = bytes(extra[pos:pos + meta_len])
    tail_len, pos = read_uvarint(extra, pos + meta_len)
    if tail_len < 0 or pos + tail_len != len(extra):
        raise CorruptStreamError(f"{what}: raw-binary sidecar is malformed")
    return meta, bytes(extra[pos:])


def _bar(total: int, desc: str, enabled: bool):
    from .._progress import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=not enabled, leave=False)


def encode_raw(src, dst, *, channels: int | None = None, dtype="int16", codec: str = "waveform",
               block_rows: int | None = None, progress: bool = False, **config) -> int:
    """Compress the raw interleaved binary ``src`` into the container file ``dst``; returns its size.

    ``channels``: interleaved channels; default ``nSavedChans`` from the SpikeGLX ``.meta`` beside
    ``src`` (whose text is stored, and written back by :func:`decode_raw`).  Memory is one block
    (``block_rows`` time steps, default about 4 M samples) whatever the file's size.
    """
    src, dst = Path(src), Path(dst)
    sample = _dtype(dtype)
    meta_file = meta_path(src)
    meta = b""
    if meta_file.is_file() and meta_file != src:
        meta = meta_file.read_bytes()
        if channels is None:
            channels = channels_from_meta(read_meta(meta_file), str(meta_file))
    if channels is None:
        raise InvalidConfigError(f"{src}: give the channel count (--channels N); there is no {meta_file.name} beside it")
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
        raise InvalidConfigError(f"channels must be a positive integer, got {channels!r}")
    codec_obj = registry.make_codec(codec, **config)
    try:
        size = src.stat().st_size
        fin = open(src, "rb")
    except OSError as exc:
        raise NeurocodecError(f"cannot read {src}: {exc.strerror or exc}") from None
    frame = channels * sample.itemsize
    n_rows = size // frame
    rows = block_rows or max(1, BLOCK_ELEMENTS // channels)
    if rows < 1:
        raise InvalidConfigError(f"block_rows must be >= 1, got {block_rows}")
    buf = bytearray(rows * frame)
    blocks = []
    with fin, tempfile.TemporaryFile(dir=dst.parent, prefix=f".{dst.name}.payloads.") as payloads, \
            _bar(size, f"encode {src.name}", progress) as bar:
        for start in range(0, n_rows, rows):
            want = min(rows, n_rows - start) * frame
            got = fin.readinto(memoryview(buf)[:want])
            if got != want:
                raise NeurocodecError(f"{src}: file shrank while being read ({start * frame + got} of {size} bytes)")
            block = np.frombuffer(buf, dtype=sample, count=want // sample.itemsize).reshape(-1, channels)
            payload = bytes(codec_obj.encode(block))
            payloads.write(payload)
            blocks.append((len(payload), zlib.crc32(payload)))
            bar.update(want)
        tail = fin.read()
        if len(tail) != size - n_rows * frame:
            raise NeurocodecError(f"{src}: file changed size while being read")
        bar.update(len(tail))
        header = container.frame_header(codec_obj, sample, (n_rows, channels), rows, blocks, sidecar(meta, tail))
        payloads.seek(0)
        with atomic_output(dst) as out:
            out.write(header)
            while chunk := payloads.read(_COPY_BYTES):
                out.write(chunk)
    return len(header) + sum(s for s, _ in blocks)


def read_raw_header(src) -> container.Header | None:
    """The container header of ``src`` when it holds a raw binary, else None (only header pages are read)."""
    try:
        f = open(src, "rb")
    except OSError as exc:
        raise NeurocodecError(f"cannot read {src}: {exc.strerror or exc}") from None
    with f:
        if os.fstat(f.fileno()).st_size == 0:
            return None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
            header = container.read_header(view, what=str(src))
    return header if parse_sidecar(header.extra, str(src)) is not None else None


def decode_raw(src, dst, *, progress: bool = False, write_meta: bool = True) -> int:
    """Decompress a container made by :func:`encode_raw` into the raw binary ``dst`` (byte-identical).

    The stored ``.meta`` goes beside ``dst`` (``write_meta``).  Returns the bytes written to ``dst``.
    """
    src, dst = Path(src), Path(dst)
    what = str(src)
    header = read_raw_header(src)
    if header is None:
        raise InvalidConfigError(f"{src} was not made from a raw binary (use neurocodec.decode_file)")
    meta, tail = parse_sidecar(header.extra, what)
    sample = header.dtype
    if len(header.shape) != 2 or sample.str not in ("<i2", "<i4"):
        raise CorruptStreamError(f"{what}: a raw-binary stream holds 2-D int16/int32, not {sample}{header.shape}")
    codec = registry.make_codec(header.codec_name, **header.config)
    total = sum(b.rows for b in header.blocks) * header.shape[1] * sample.itemsize + len(tail)
    written = 0
    with open(src, "rb") as fin, atomic_output(dst) as out, _bar(total, f"decode {src.name}", progress) as bar:
        for index, block in enumerate(header.blocks):
            fin.seek(block.offset)
            payload = fin.read(block.size)
            if zlib.crc32(payload) & 0xFFFFFFFF != block.crc32:
                raise CorruptStreamError(f"{what}: block {index} CRC mismatch (payload damaged)")
            decoded = np.asarray(codec.decode(payload))
            if decoded.shape != (block.rows, header.shape[1]) or decoded.dtype.kind != "i":
                raise CorruptStreamError(f"{what}: block {index} decoded to {decoded.dtype}{decoded.shape}, "
                                         f"header says {sample}{(block.rows, header.shape[1])}")
            data = np.ascontiguousarray(decoded, dtype=sample).tobytes()
            out.write(data)
            written += len(data)
            bar.update(len(data))
        out.write(tail)
        written += len(tail)
        bar.update(len(tail))
    if meta and write_meta:
        with atomic_output(meta_path(dst)) as out:
            out.write(meta)
    return written
