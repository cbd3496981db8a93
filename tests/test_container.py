import json
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_bitflips_safe, assert_truncation_raises, flipped

from neurocodec import container
from neurocodec.errors import (
    CorruptStreamError,
    InvalidConfigError,
    NeurocodecError,
    TruncatedStreamError,
    UnsupportedVersionError,
)
from neurocodec.registry import make_codec

GOLDEN = Path(__file__).parent / "fixtures" / "container" / "v1"


def raw(cols=1):
    return make_codec("test_raw", cols=cols)


@pytest.mark.parametrize("rows", [1, 2, 7, 10, 11, None])
def test_blocks_roundtrip_and_partial_decode(rows):
    x = np.arange(30, dtype=np.int16).reshape(10, 3) * 11
    data = container.pack(raw(3), x, block_rows=rows)
    np.testing.assert_array_equal(container.unpack(data), x)
    for start, stop in [(0, 10), (3, 8), (9, 10), (5, 5), (-3, None), (None, 2)]:
        np.testing.assert_array_equal(container.unpack(data, start=start, stop=stop), x[start:stop])


def test_partial_decode_touches_only_its_blocks():
    x = np.arange(100, dtype=np.int16)
    data = bytearray(container.pack(raw(), x, block_rows=10))
    header = container.read_header(bytes(data))
    data[header.blocks[0].offset] ^= 1  # damage block 0 only
    np.testing.assert_array_equal(container.unpack(bytes(data), start=50, stop=70), x[50:70])
    with pytest.raises(CorruptStreamError, match="block 0 CRC"):
        container.unpack(bytes(data))


def test_empty_array_has_no_blocks():
    x = np.zeros((0, 4), np.int16)
    data = container.pack(raw(4), x)
    assert container.read_header(data).blocks == ()
    out = container.unpack(data)
    assert out.shape == (0, 4) and out.dtype == np.int16


def test_default_config_is_not_stored_and_other_config_is():
    x = np.arange(6, dtype=np.int16)
    assert container.read_header(container.pack(raw(), x)).config == {}
    y = x.reshape(3, 2)
    assert container.read_header(container.pack(raw(2), y)).config == {"cols": 2}


def test_every_prefix_is_truncated():
    data = container.pack(raw(), np.arange(40, dtype=np.int16), block_rows=16, extra=b"side")
    assert_truncation_raises(data, container.unpack, kinds=(TruncatedStreamError, CorruptStreamError))
    for n in range(len(data)):
        with pytest.raises(NeurocodecError):
            container.unpack(data[:n])


def test_every_bit_flip_is_detected():
    data = container.pack(raw(), np.arange(12, dtype=np.int16), block_rows=5, extra=b"x")
    assert_bitflips_safe(data, container.unpack, n_flips=len(data) * 8, must_raise=True)


def test_trailing_bytes_are_corrupt():
    data = container.pack(raw(), np.arange(4, dtype=np.int16))
    with pytest.raises(CorruptStreamError, match="trailing"):
        container.unpack(data + b"\0")


def test_magic_and_version_messages():
    data = container.pack(raw(), np.arange(4, dtype=np.int16))
    with pytest.raises(CorruptStreamError, match="not a neurocodec stream"):
        container.unpack(b"RIFF" + data[4:])
    future = data[:4] + bytes([container.VERSION + 1]) + data[5:]
    with pytest.raises(UnsupportedVersionError, match="format version 2; this build reads version 1"):
        container.unpack(future)


def _rebuild(header_body: bytes) -> bytes:
    import zlib

    from neurocodec.entropy.varint import uvarint_bytes

    front = container.MAGIC + bytes([container.VERSION]) + uvarint_bytes(len(header_body)) + header_body
    return front + zlib.crc32(front).to_bytes(4, "little")


def test_unknown_codec_is_unsupported():
    body = bytes([5]) + b"nosuc" + b"\x00" + bytes([3]) + b"<i2" + b"\x01\x00" + b"\x00\x00" + b"\x00"
    with pytest.raises(UnsupportedVersionError, match="unknown codec 'nosuc'"):
        container.unpack(_rebuild(body))


def test_pickle_codec_cannot_be_named():
    body = bytes([6]) + b"pickle" + b"\x00" + bytes([3]) + b"|O8"[:3] + b"\x01\x01" + b"\x01\x01\x00\x00\x00\x00\x00" + b"\x00"
    with pytest.raises(NeurocodecError):
        container.unpack(_rebuild(body) + b"\0")


def test_declared_size_is_capped_before_allocating():
    # 2**40 rows of int16 declared in one block of 0 bytes: refused before any allocation
    from neurocodec.entropy.varint import uvarint_bytes

    body = (bytes([8]) + b"test_raw" + b"\x00" + bytes([3]) + b"<i2" + b"\x01" + uvarint_bytes(1 << 40)
            + uvarint_bytes(1 << 40) + b"\x01" + b"\x00" + (0).to_bytes(4, "little") + b"\x00")
    with pytest.raises(CorruptStreamError, match="above the"):
        container.unpack(_rebuild(body))


def test_block_count_must_match_shape():
    from neurocodec.entropy.varint import uvarint_bytes

    body = (bytes([8]) + b"test_raw" + b"\x00" + bytes([3]) + b"<i2" + b"\x01" + uvarint_bytes(10)
            + uvarint_bytes(4) + b"\x02" + b"\x00" + bytes(4) + b"\x00" + bytes(4) + b"\x00")
    with pytest.raises(CorruptStreamError, match="cannot hold 10 rows"):
        container.unpack(_rebuild(body))


def test_bad_config_in_stream_is_corrupt():
    x = np.arange(4, dtype=np.int16)
    data = container.pack(raw(), x)
    header = container.read_header(data)
    body = (bytes([8]) + b"test_raw" + bytes([len(b'{"zap":1}')]) + b'{"zap":1}' + bytes([3]) + b"<i2" + b"\x01\x04"
            + b"\x04\x01" + bytes([8]) + header.blocks[0].crc32.to_bytes(4, "little") + b"\x00")
    with pytest.raises(CorruptStreamError, match="config is not accepted"):
        container.unpack(_rebuild(body) + data[-8:])


def test_unregistered_codec_cannot_pack():
    import numcodecs

    with pytest.raises(InvalidConfigError):
        container.pack(numcodecs.Zlib(), np.arange(3, dtype=np.int16))


def test_inspect_accounts_for_every_byte():
    x = np.arange(50, dtype=np.int16)
    data = container.pack(raw(), x, block_rows=20, extra=b"abc")
    info = container.inspect(data)
    b = info["bytes"]
    assert b["total"] == len(data) == b["header"] + b["extra"] + b["payload"]
    assert b["payload"] == 100 and b["extra"] == 3 and len(info["blocks"]) == 3
    json.dumps(info)


def test_golden_v1_file_decodes_and_is_reproduced():
    """Pins container format v1: this file was written once and must never be regenerated."""
    golden = (GOLDEN / "raw_int16_5x2.ncdc").read_bytes()
    expected = np.array([[0, 1], [-2, 300], [32767, -32768], [7, 8], [9, -10]], dtype=np.int16)
    np.testing.assert_array_equal(container.unpack(golden), expected)
    assert container.read_header(golden).extra == b"golden"
    assert container.pack(raw(2), expected, block_rows=2, extra=b"golden") == golden


def test_flipped_helper_flips_one_bit():
    assert flipped(b"\x00\x00", 9) == b"\x00\x40"
