"""Byte-exact WAV reading and writing.

A WAV file is split into three parts that put back together give the original bytes:
``head`` (everything before the sample data: RIFF header, fmt and any other chunks), the samples
(whole frames), and ``tail`` (bytes after the last whole frame: a partial frame, the pad byte of an
odd-sized data chunk, chunks after data).  Codecs see only the samples; :func:`sidecar` packs head
and tail compactly, down to 5 bytes when the header is the canonical 44-byte one that
:func:`canonical_head` rebuilds from the sample rate, the bit depth and the frame count.

Samples come out as int16 for 8- and 16-bit PCM (8-bit is unsigned in WAV and is shifted to signed,
which is reversible) and as int32 for 24- and 32-bit PCM; shape (frames,) for mono, (frames,
channels) otherwise.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from ..entropy.varint import read_uvarint, uvarint_bytes
from ..errors import WavFormatError

_PCM = 1
_EXTENSIBLE = 0xFFFE
# The GUID tail shared by every KSDATAFORMAT_SUBTYPE_*: the subtype is its first two bytes.
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_SIDECAR_CANONICAL = 0
_SIDECAR_VERBATIM = 1


@dataclass(frozen=True)
class WavData:
    samples: np.ndarray
    rate: int
    bits: int
    channels: int
    head: bytes
    tail: bytes


def _u16(b: bytes, at: int) -> int:
    return struct.unpack_from("<H", b, at)[0]


def _u32(b: bytes, at: int) -> int:
    return struct.unpack_from("<I", b, at)[0]


def parse(data: bytes, name: str = "<bytes>") -> WavData:
    """Split WAV bytes into head, samples and tail; raise :class:`WavFormatError` naming ``name``."""
    data = bytes(data)
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        found = data[:4] + b"...." + data[8:12] if len(data) >= 12 else data[:12]
        raise WavFormatError(f"{name}: not a WAV file (expected 'RIFF....WAVE', found {found!r})")
    fmt = None
    pos = 12
    while True:
        if pos + 8 > len(data):
            raise WavFormatError(f"{name}: no 'data' chunk found before the end of the file (truncated?)")
        chunk_id, size = data[pos:pos + 4], _u32(data, pos + 4)
        body = pos + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + size > len(data):
                raise WavFormatError(f"{name}: 'fmt ' chunk of {size} bytes is too short or cut off")
            fmt = data[body:body + size]
        elif chunk_id == b"data":
            break
        pos = body + size + (size & 1)
    if fmt is None:
        raise WavFormatError(f"{name}: 'data' chunk comes before any 'fmt ' chunk")
    audio_format, channels, rate = _u16(fmt, 0), _u16(fmt, 2), _u32(fmt, 4)
    block_align, bits = _u16(fmt, 12), _u16(fmt, 14)
    if audio_format == _EXTENSIBLE:
        if len(fmt) < 40 or fmt[26:40] != _GUID_TAIL:
            raise WavFormatError(f"{name}: WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID")
        audio_format = _u16(fmt, 24)
    if audio_format != _PCM:
        raise WavFormatError(f"{name}: audio format {audio_format} is not integer PCM (1)")
    if bits not in (8, 16, 24, 32) or channels < 1 or block_align != channels * bits // 8:
        raise WavFormatError(
            f"{name}: unsupported layout: {bits}-bit, {channels} channels, block align {block_align} "
            f"(expected 8/16/24/32-bit PCM with block align = channels x bytes per sample)"
        )
    size = _u32(data, pos + 4)
    start = pos + 8
    if start + size > len(data):
        raise WavFormatError(
            f"{name}: 'data' chunk declares {size} bytes but only {len(data) - start} follow (truncated file)"
        )
    frames = size // block_align
    raw = data[start:start + frames * block_align]
    samples = _decode_samples(raw, bits, channels, frames)
    return WavData(samples, rate, bits, channels, data[:start], data[start + frames * block_align:])


def _decode_samples(raw: bytes, bits: int, channels: int, frames: int) -> np.ndarray:
    if bits == 8:
        flat = np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128
    elif bits == 16:
        flat = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    elif bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        flat = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8
    else:
        flat = np.frombuffer(raw, dtype="<i4").astype(np.int32)
    flat = flat.astype(np.int16 if bits <= 16 else np.int32, copy=False)
    return flat if channels == 1 else flat.reshape(frames, channels)


def encode_samples(samples: np.ndarray, bits: int) -> bytes:
    """The data-chunk bytes of ``samples`` at ``bits`` per sample (inverse of parsing)."""
    flat = np.ascontiguousarray(samples).reshape(-1)
    if bits == 8:
        if flat.size and (flat.min() < -128 or flat.max() > 127):
            raise WavFormatError("8-bit WAV samples must lie in -128..127 after the unsigned shift")
        return (flat.astype(np.int16) + 128).astype(np.uint8).tobytes()
    if bits == 16:
        return flat.astype("<i2").tobytes()
    if bits == 24:
        v = flat.astype("<i4").view(np.uint8).reshape(-1, 4)
        return v[:, :3].tobytes()
    return flat.astype("<i4").tobytes()


def canonical_head(rate: int, bits: int, channels: int, frames: int) -> bytes:
    """The 44-byte header a plain PCM WAV writer produces for this layout."""
    align = channels * bits // 8
    size = frames * align
    # every field is a fixed-width integer; a value that does not fit is no WAV file
    if not (0 <= rate < 1 << 32 and 0 <= rate * align < 1 << 32 and 1 <= channels < 1 << 16
            and 0 <= align < 1 << 16 and 0 <= 36 + size < 1 << 32):
        raise WavFormatError(
            f"no WAV header can hold {channels} channels of {bits}-bit samples at {rate} Hz, {frames} frames"
        )
    return (b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, _PCM, channels, rate, rate * align, align, bits)
            + b"data" + struct.pack("<I", size))


def sidecar(wav: WavData) -> bytes:
    """Compact bytes from which :func:`from_sidecar` rebuilds ``wav.head`` and ``wav.tail``."""
    frames = wav.samples.shape[0]
    if not wav.tail and wav.head == canonical_head(wav.rate, wav.bits, wav.channels, frames):
        return bytes([_SIDECAR_CANONICAL]) + uvarint_bytes(wav.rate) + bytes([wav.bits])
    return bytes([_SIDECAR_VERBATIM]) + uvarint_bytes(len(wav.head)) + wav.head + wav.tail


def from_sidecar(extra: bytes, samples: np.ndarray, name: str = "<stream>") -> bytes:
    """Rebuild the original WAV bytes from a sidecar and the decoded samples."""
    if not extra:
        raise WavFormatError(f"{name}: the stream carries no WAV header (it was not made from a WAV file)")
    kind = extra[0]
    value, pos = read_uvarint(extra, 1)
    if value < 0:
        raise WavFormatError(f"{name}: WAV sidecar is malformed")
    if samples.ndim not in (1, 2):
        raise WavFormatError(f"{name}: a WAV file holds (frames,) or (frames, channels) samples, not {samples.shape}")
    if kind == _SIDECAR_CANONICAL:
        if pos + 1 != len(extra):
            raise WavFormatError(f"{name}: WAV sidecar is malformed")
        bits = _check_bits(extra[pos], name)
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        return canonical_head(value, bits, channels, samples.shape[0]) + encode_samples(samples, bits)
    if kind == _SIDECAR_VERBATIM:
        head, tail = extra[pos:pos + value], extra[pos + value:]
        if len(head) != value:
            raise WavFormatError(f"{name}: WAV sidecar declares a {value}-byte header, {len(head)} present")
        return head + encode_samples(samples, _check_bits(_bits_of_head(head, name), name)) + tail
    raise WavFormatError(f"{name}: unknown WAV sidecar kind {kind}")


def _check_bits(bits: int, name: str) -> int:
    if bits not in (8, 16, 24, 32):
        raise WavFormatError(f"{name}: WAV sidecar gives {bits} bits per sample; expected 8, 16, 24 or 32")
    return bits


def _bits_of_head(head: bytes, name: str) -> int:
    pos = 12
    while pos + 8 <= len(head):
        if head[pos:pos + 4] == b"fmt ":
            if pos + 8 + 16 > len(head):
                raise WavFormatError(f"{name}: stored WAV header has a cut 'fmt ' chunk")
            return _u16(head, pos + 8 + 14)
        pos += 8 + _u32(head, pos + 4) + (_u32(head, pos + 4) & 1)
    raise WavFormatError(f"{name}: stored WAV header has no 'fmt ' chunk")


def read(path) -> WavData:
    """Parse the WAV file at ``path``."""
    with open(path, "rb") as f:
        return parse(f.read(), str(path))


def write_bytes(samples: np.ndarray, rate: int, bits: int = 16) -> bytes:
    """A canonical WAV file holding ``samples`` ((frames,) or (frames, channels))."""
    samples = np.asarray(samples)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    return canonical_head(rate, bits, channels, samples.shape[0]) + encode_samples(samples, bits)
