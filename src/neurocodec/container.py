"""Standalone framing of a codec payload: magic, version, codec, shape, CRCs and a block index.

Inside zarr a codec's payload is bare (its configuration lives in zarr metadata); a standalone file
adds what a reader needs to trust and decode it alone.  Layout (little-endian; ``uvarint`` is
LEB128; FORMAT.md is normative)::

    "NCDC"  u8 version  uvarint header_len
    header (header_len bytes):
        u8 name_len, name            codec name; its numcodecs id is "neurocodec." + name
        uvarint config_len, config   JSON of the parameters that differ from the codec's defaults
        u8 dtype_len, dtype          NumPy dtype string, e.g. "<i2", "|b1"
        u8 ndim, ndim x uvarint      shape; axis 0 is time, the axis blocks split
        uvarint block_rows           rows per block (the last block may be shorter)
        uvarint n_blocks             = ceil(shape[0] / block_rows), 0 for an empty array
        n_blocks x (uvarint size, u32 crc32)   the block index
        uvarint extra_len, extra     opaque side data (a WAV header, say)
    u32 crc32 of everything before it
    n_blocks payloads, back to back

A reader checks magic, version, header CRC, every declared size against the bytes present and
against a cap on the decoded size before allocating, and each block's CRC before decoding it.  The
decoded size is capped by ``max_output_bytes``; by default at :func:`default_output_cap` of the
stream's length (so a small forged stream cannot ask for gigabytes).  A block must decode to exactly
the declared dtype and shape: nothing is cast.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
from numcodecs.compat import ensure_contiguous_ndarray

from . import parallel, registry
from .entropy.varint import uvarint_bytes
from .errors import CorruptStreamError, InvalidConfigError, NeurocodecError, TruncatedStreamError, UnsupportedVersionError

MAGIC = b"NCDC"
VERSION = 1
#: Default rows per block: about 4 M elements (8 MB of int16), large enough that adaptive models
#: learn, small enough that a long recording decodes in parts.
DEFAULT_BLOCK_ELEMENTS = 1 << 22
#: Decoded size above which :func:`unpack` refuses whatever the stream's length (unless the caller
#: passes a larger ``max_output_bytes``).
DEFAULT_MAX_BYTES = 16 << 30
#: A stream may decode to at least this many bytes by default, whatever its length...
DEFAULT_FLOOR_BYTES = 64 << 20
#: ...and to at most this many times its own length beyond that (a 10 kB stream: 64 MiB, a 1 MB
#: one: 4 GiB).  Real recordings compress far less; an empty or constant array more, and then the
#: caller states what it expects with ``max_output_bytes``.
DEFAULT_RATIO_CAP = 1 << 12
_MAX_HEADER = 1 << 24
_MAX_NDIM = 8
_MAX_DIM = 1 << 62
#: Deepest JSON nesting a codec config may have (every codec's config is flat or one list deep).
_MAX_JSON_DEPTH = 8
#: The dtype strings a stream may declare: a byte order, then bool, signed, unsigned or float, then
#: the item size.  Parsed by this pattern before NumPy sees it (NumPy evaluates some strings, such
#: as ",i2", as Python code), and limited to what a codec can produce.
_DTYPE_PATTERN = re.compile(r"[<>|=]?(b1|[iu][1248]|f[248])")


def parse_dtype(text, what: str) -> np.dtype:
    """A stored dtype string as a NumPy dtype, or :class:`CorruptStreamError` (never NumPy's own errors)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise CorruptStreamError(f"{what}: dtype field {text!r} is not ASCII") from None
    if not isinstance(text, str) or _DTYPE_PATTERN.fullmatch(text) is None:
        raise CorruptStreamError(
            f"{what}: dtype {text!r} is not one neurocodec stores (bool, int, uint or float, 1-8 bytes)"
        )
    return np.dtype(text)


def payload_bytes(buf, what: str) -> bytes:
    """The bytes of a payload given as any buffer (bytes, bytearray, NumPy array, array.array)."""
    if isinstance(buf, bytes):
        return buf
    try:
        return ensure_contiguous_ndarray(buf).view(np.uint8).tobytes()
    except (TypeError, ValueError) as exc:
        raise InvalidConfigError(f"{what}: cannot read a payload from {type(buf).__name__}: {exc}") from None


def decode_target(out, shape: tuple, dtype: np.dtype, fortran: bool, what: str):
    """The array a codec's decode writes into: ``out`` itself when it has the decoded shape, else a view
    of its bytes in the payload's dtype and memory order (numcodecs passes flat buffers too); None
    without ``out``.  Checked before decoding, so a wrong ``out`` costs no work."""
    if out is None:
        return None
    if isinstance(out, np.ndarray) and out.shape == shape:
        if out.dtype.kind not in "biuf":
            raise InvalidConfigError(f"{what}: out has dtype {out.dtype}, the payload holds {dtype}")
        return out
    try:
        flat = ensure_contiguous_ndarray(out)
    except (TypeError, ValueError) as exc:
        raise InvalidConfigError(f"{what}: out cannot be written: {exc}") from None
    if flat.nbytes != shape[0] * shape[1] * dtype.itemsize:
        raise InvalidConfigError(f"{what}: out holds {flat.nbytes} bytes, the payload's {dtype} array {shape} "
                                 f"needs {shape[0] * shape[1] * dtype.itemsize}")
    return flat.view(np.uint8).view(dtype).reshape(shape, order="F" if fortran else "C")


def default_output_cap(stream_bytes: int) -> int:
    """The decoded size :func:`unpack` allows a stream of ``stream_bytes`` bytes by default."""
    return min(DEFAULT_MAX_BYTES, max(DEFAULT_FLOOR_BYTES, DEFAULT_RATIO_CAP * int(stream_bytes)))


def _parse_config(raw: bytes, what: str) -> dict:
    if not raw:
        return {}
    # json.loads recurses once per nesting level: count brackets first, so no RecursionError
    depth = deepest = 0
    for byte in raw:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    if deepest > _MAX_JSON_DEPTH:
        raise CorruptStreamError(f"{what}: codec config nests {deepest} levels deep, more than {_MAX_JSON_DEPTH}")
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError):
        raise CorruptStreamError(f"{what}: codec config is not valid JSON") from None
    if not isinstance(config, dict):
        raise CorruptStreamError(f"{what}: codec config must be a JSON object, found {type(config).__name__}")
    return config


class _Reader:
    """Bounds-checked cursor over the header bytes."""

    def __init__(self, data: memoryview, pos: int, end: int, what: str):
        self.data, self.pos, self.end, self.what = data, pos, end, what

    def take(self, n: int, field_name: str) -> bytes:
        if n > self.end - self.pos:
            raise TruncatedStreamError(
                f"{self.what}: {field_name} needs {n} bytes at offset {self.pos}, only {self.end - self.pos} remain"
            )
        out = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return out

    def u8(self, field_name: str) -> int:
        return self.take(1, field_name)[0]

    def u32(self, field_name: str) -> int:
        return int.from_bytes(self.take(4, field_name), "little")

    def uvarint(self, field_name: str) -> int:
        value = shift = 0
        while True:
            byte = self.u8(field_name)
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 63:
                raise CorruptStreamError(f"{self.what}: {field_name} is a varint longer than 64 bits")


@dataclass(frozen=True)
class Block:
    rows: int
    offset: int
    size: int
    crc32: int


@dataclass(frozen=True)
class Header:
    """Everything a container says before its payloads."""

    codec_name: str
    config: dict
    dtype: np.dtype
    shape: tuple
    block_rows: int
    blocks: tuple = field(repr=False)
    extra: bytes = field(repr=False)
    header_bytes: int
    total_bytes: int

    @property
    def codec_id(self) -> str:
        return registry.PREFIX + self.codec_name


def _block_rows_for(shape: tuple, block_rows: int | None) -> int:
    if block_rows is None:
        per_row = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
        return max(1, DEFAULT_BLOCK_ELEMENTS // max(per_row, 1))
    if int(block_rows) < 1:
        raise InvalidConfigError(f"block_rows must be >= 1, got {block_rows}")
    return int(block_rows)


def _registered_name(codec) -> str:
    """The container name of ``codec``; only codecs registered here may be framed (and so unframed)."""
    name = codec.codec_id[len(registry.PREFIX):] if codec.codec_id.startswith(registry.PREFIX) else None
    if name is None or registry.codec_class(name) is not type(codec):
        raise InvalidConfigError(f"codec {codec.codec_id!r} is not a registered neurocodec codec")
    return name


def pack(codec, array: np.ndarray, *, block_rows: int | None = None, extra: bytes = b"",
         threads: int | None = None, progress: str | None = None) -> bytes:
    """Frame ``codec.encode`` of ``array`` (split along axis 0 into blocks) as a standalone stream.

    Blocks are coded on ``threads`` threads (``None``: every core); the bytes do not depend on it.
    ``progress``: a label for a progress bar over the blocks on stderr."""
    _registered_name(codec)  # refused before any block is coded
    array = np.asarray(array)
    if array.ndim < 1 or array.ndim > _MAX_NDIM:
        raise InvalidConfigError(f"expected an array with 1 to {_MAX_NDIM} dimensions, got shape {array.shape}")
    # refuse up front what a reader would refuse: the dtype, the dimensions
    try:
        parse_dtype(array.dtype.str, "array")
    except CorruptStreamError:
        raise InvalidConfigError(f"cannot store an array of dtype {array.dtype} "
                                 "(bool, int, uint or float of 1-8 bytes)") from None
    if any(d > _MAX_DIM for d in array.shape):
        raise InvalidConfigError(f"shape {array.shape} has a dimension above 2**62")
    rows = _block_rows_for(array.shape, block_rows)
    payloads = parallel.map_ordered(lambda start: bytes(codec.encode(array[start:start + rows])),
                                    range(0, array.shape[0], rows), threads, progress)

    blocks = [(len(payload), zlib.crc32(payload)) for payload in payloads]
    return frame_header(codec, array.dtype, array.shape, rows, blocks, extra) + b"".join(payloads)


def read_header(data, *, what: str = "stream") -> Header:
    """Parse and verify a container header (not the payloads)."""
    view = memoryview(data).cast("B")
    reader = _Reader(view, 0, len(view), what)
    magic = reader.take(min(4, len(view)), "magic")
    if magic != MAGIC[:len(magic)]:
        raise CorruptStreamError(f"{what}: not a neurocodec stream (expected magic {MAGIC!r}, found {magic!r})")
    if len(magic) < 4:
        raise TruncatedStreamError(f"{what}: stream ends inside the magic ({len(view)} bytes)")
    version = reader.u8("format version")
    if version != VERSION:
        raise UnsupportedVersionError(
            f"{what}: format version {version}; this build reads version {VERSION}"
        )
    header_len = reader.uvarint("header length")
    if header_len > _MAX_HEADER:
        raise CorruptStreamError(f"{what}: header length {header_len} exceeds the {_MAX_HEADER}-byte cap")
    body_start = reader.pos
    if header_len + 4 > len(view) - body_start:
        raise TruncatedStreamError(
            f"{what}: header of {header_len} bytes + CRC declared, {len(view) - body_start} bytes present"
        )
    crc_stored = int.from_bytes(view[body_start + header_len:body_start + header_len + 4], "little")
    if zlib.crc32(view[:body_start + header_len]) & 0xFFFFFFFF != crc_stored:
        raise CorruptStreamError(f"{what}: header CRC mismatch (header damaged)")

    body = _Reader(view, body_start, body_start + header_len, what)
    name = body.take(body.u8("codec name length"), "codec name").decode("ascii", "replace")
    config = _parse_config(body.take(body.uvarint("config length"), "config"), what)
    dtype = parse_dtype(body.take(body.u8("dtype length"), "dtype"), what)
    ndim = body.u8("ndim")
    if not 1 <= ndim <= _MAX_NDIM:
        raise CorruptStreamError(f"{what}: ndim {ndim} outside 1..{_MAX_NDIM}")
    shape = tuple(body.uvarint("shape") for _ in range(ndim))
    if any(d > _MAX_DIM for d in shape):
        raise CorruptStreamError(f"{what}: shape {shape} has a dimension above 2**62")
    block_rows = body.uvarint("block rows")
    n_blocks = body.uvarint("block count")
    if n_blocks > (body.end - body.pos) // 5:   # each index entry takes >= 5 header bytes
        raise TruncatedStreamError(f"{what}: {n_blocks} blocks declared, the header cannot index them")
    expected_blocks = 0 if shape[0] == 0 else (-(-shape[0] // block_rows) if block_rows else -1)
    if n_blocks != expected_blocks:
        raise CorruptStreamError(
            f"{what}: {n_blocks} blocks of {block_rows} rows cannot hold {shape[0]} rows"
        )
    offset = body_start + header_len + 4
    blocks = []
    for index in range(n_blocks):
        size = body.uvarint("block size")
        crc = body.u32("block CRC")
        rows = min(block_rows, shape[0] - index * block_rows)
        blocks.append(Block(rows, offset, size, crc))
        offset += size
    extra = body.take(body.uvarint("extra length"), "extra")
    if body.pos != body.end:
        raise CorruptStreamError(f"{what}: {body.end - body.pos} unexplained bytes at the end of the header")
    if offset > len(view):
        raise TruncatedStreamError(f"{what}: payloads need {offset} bytes in all, the stream has {len(view)}")
    if offset < len(view):
        raise CorruptStreamError(f"{what}: {len(view) - offset} trailing bytes after the last block")
    return Header(name, config, dtype, shape, block_rows, tuple(blocks), extra, body_start + header_len + 4, offset)


def _codec_for(header: Header, what: str):
    try:
        return registry.make_codec(header.codec_name, **header.config)
    except InvalidConfigError as exc:
        raise CorruptStreamError(f"{what}: stored codec config is not accepted: {exc}") from None
    except NeurocodecError:   # an unknown codec is a newer build's stream
        raise
    except (TypeError, ValueError, OverflowError, KeyError, IndexError) as exc:
        # a codec's __init__ that does not validate some forged value: still the stream's fault
        raise CorruptStreamError(f"{what}: stored codec config is not accepted: {exc}") from None


def _output_cap(max_output_bytes, data) -> int:
    if max_output_bytes is None:
        return default_output_cap(len(memoryview(data).cast("B")))
    if isinstance(max_output_bytes, bool) or not isinstance(max_output_bytes, (int, np.integer)) \
            or max_output_bytes < 0:
        raise InvalidConfigError(f"max_output_bytes must be a non-negative integer, got {max_output_bytes!r}")
    return int(max_output_bytes)


def unpack(data, *, start: int | None = None, stop: int | None = None, max_output_bytes: int | None = None,
           what: str = "stream", max_bytes: int | None = None, threads: int | None = None) -> np.ndarray:
    """Decode a container, or only rows ``start:stop`` of it (only the blocks that hold them are decoded).

    ``max_output_bytes`` caps the decoded size (default :func:`default_output_cap` of the stream's
    length); ``max_bytes`` is its former name.  Blocks are decoded on ``threads`` threads (``None``:
    every core).
    """
    header = read_header(data, what=what)
    return unpack_header(data, header, start=start, stop=stop, max_output_bytes=max_output_bytes, what=what,
                         max_bytes=max_bytes, threads=threads)


def unpack_header(data, header: Header, *, start: int | None = None, stop: int | None = None,
                  max_output_bytes: int | None = None, what: str = "stream",
                  max_bytes: int | None = None, threads: int | None = None,
                  progress: str | None = None) -> np.ndarray:
    """:func:`unpack` for a header already read with :func:`read_header` (``progress``: as in :func:`pack`)."""
    cap = _output_cap(max_output_bytes if max_output_bytes is not None else max_bytes, data)
    first, last, _ = slice(start, stop).indices(header.shape[0])
    last = max(first, last)
    per_row = int(np.prod(header.shape[1:], dtype=object)) if len(header.shape) > 1 else 1
    wanted = (last - first) * per_row * header.dtype.itemsize
    if wanted > cap:
        raise CorruptStreamError(
            f"{what}: decoding rows {first}:{last} of shape {header.shape} needs {wanted} bytes, "
            f"above the {cap}-byte cap (pass a larger max_output_bytes to allow it)"
        )
    codec = _codec_for(header, what)
    out = np.empty((last - first,) + header.shape[1:], dtype=header.dtype)
    if last == first:
        return out
    view = memoryview(data).cast("B")
    wanted_blocks = []
    row = 0
    for index, block in enumerate(header.blocks):
        block_first, block_last = row, row + block.rows
        row = block_last
        if block_first < last and block_last > first:
            wanted_blocks.append((index, block, block_first, block_last))

    def decode_block(item) -> None:
        index, block, block_first, block_last = item
        payload = view[block.offset:block.offset + block.size]
        if zlib.crc32(payload) & 0xFFFFFFFF != block.crc32:
            raise CorruptStreamError(f"{what}: block {index} CRC mismatch (payload damaged)")
        decoded = np.asarray(codec.decode(bytes(payload)))
        if decoded.dtype == np.bool_ and header.dtype.kind in "iuf" and _legacy_bool_payload(header, payload):
            # spike payloads of version 1 carry no dtype and decode to bool; the container's dtype
            # is the one the raster was given in (0/1 values, so the cast is exact)
            decoded = decoded.astype(header.dtype)
        if decoded.shape != (block.rows,) + header.shape[1:] or decoded.dtype != header.dtype:
            raise CorruptStreamError(
                f"{what}: block {index} decoded to {decoded.dtype}{decoded.shape}, "
                f"header says {header.dtype}{(block.rows,) + header.shape[1:]}"
            )
        lo, hi = max(first, block_first), min(last, block_last)
        out[lo - first:hi - first] = decoded[lo - block_first:hi - block_first]

    parallel.map_ordered(decode_block, wanted_blocks, threads, progress)
    return out


def _legacy_bool_payload(header: Header, payload) -> bool:
    return header.codec_name.startswith("spikes_") and len(payload) > 0 and payload[0] == 1


def inspect(data, *, what: str = "stream") -> dict:
    """Header fields and where every byte of the stream goes."""
    header = read_header(data, what=what)
    block_bytes = sum(b.size for b in header.blocks)
    elements = int(np.prod(header.shape, dtype=object))
    raw = elements * header.dtype.itemsize
    return {
        "format_version": VERSION,
        "codec_id": header.codec_id,
        "config": header.config,
        "dtype": header.dtype.str,
        "shape": list(header.shape),
        "block_rows": header.block_rows,
        "blocks": [{"rows": b.rows, "offset": b.offset, "bytes": b.size, "crc32": f"{b.crc32:08x}"}
                   for b in header.blocks],
        "bytes": {
            "total": header.total_bytes,
            "header": header.header_bytes - len(header.extra),
            "extra": len(header.extra),
            "payload": block_bytes,
        },
        "raw_bytes": raw,
        "ratio": raw / header.total_bytes if header.total_bytes else float("nan"),
        "lossy": lossy_bound(header),
    }


def frame_header(codec, dtype, shape: tuple, block_rows: int, blocks, extra: bytes = b"") -> bytes:
    """The bytes before the payloads of a stream whose blocks were coded elsewhere (streaming writers).

    ``blocks`` is a list of ``(payload size, payload crc32)``, one per block of ``block_rows`` rows;
    the layout is :func:`pack`'s, so :func:`read_header` and :func:`unpack` read the result.
    """
    name = _registered_name(codec)
    expected = 0 if shape[0] == 0 else -(-shape[0] // block_rows)
    if len(blocks) != expected:
        raise InvalidConfigError(f"{len(blocks)} blocks of {block_rows} rows cannot hold {shape[0]} rows")
    config = json.dumps(registry.non_default_config(codec), sort_keys=True, separators=(",", ":")).encode()
    if config == b"{}":
        config = b""
    dtype = np.dtype(dtype).str.encode()
    head = bytearray()
    head += bytes([len(name)]) + name.encode()
    head += uvarint_bytes(len(config)) + config
    head += bytes([len(dtype)]) + dtype
    head += bytes([len(shape)]) + b"".join(uvarint_bytes(d) for d in shape)
    head += uvarint_bytes(block_rows) + uvarint_bytes(len(blocks))
    for size, crc in blocks:
        head += uvarint_bytes(size) + (crc & 0xFFFFFFFF).to_bytes(4, "little")
    head += uvarint_bytes(len(extra)) + bytes(extra)
    if len(head) > _MAX_HEADER:
        raise InvalidConfigError(f"the header would take {len(head)} bytes, above the {_MAX_HEADER}-byte cap "
                                 "(fewer, larger blocks or less side data)")
    front = MAGIC + bytes([VERSION]) + uvarint_bytes(len(head)) + bytes(head)
    return front + (zlib.crc32(front) & 0xFFFFFFFF).to_bytes(4, "little")


def lossy_bound(header: Header) -> dict | None:
    """None when the stream decodes to its input exactly, else what its codec guarantees (its ``lossy``)."""
    codec = registry.make_codec(header.codec_name, **header.config)
    return getattr(codec, "lossy", None)
