import struct

import numpy as np
import pytest
from helpers import shared_data

from neurocodec.errors import WavFormatError
from neurocodec.io import wav


def chunk(cid: bytes, body: bytes) -> bytes:
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_pcm(channels, rate, bits):
    align = channels * bits // 8
    return chunk(b"fmt ", struct.pack("<HHIIHH", 1, channels, rate, rate * align, align, bits))


def fmt_extensible(channels, rate, bits, subformat=1):
    align = channels * bits // 8
    guid = struct.pack("<H", subformat) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    return chunk(b"fmt ", struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * align, align, bits, 22, bits, 3)
                 + guid)


def roundtrip(data: bytes) -> wav.WavData:
    parsed = wav.parse(data, "t.wav")
    assert wav.from_sidecar(wav.sidecar(parsed), parsed.samples) == data
    return parsed


def test_canonical_16bit_mono_has_a_5_byte_sidecar():
    x = np.array([0, -64, 65, 32767, -32768], np.int16)
    data = wav.write_bytes(x, 19531)
    parsed = roundtrip(data)
    np.testing.assert_array_equal(parsed.samples, x)
    assert len(wav.sidecar(parsed)) == 5 and parsed.samples.dtype == np.int16


@pytest.mark.parametrize("bits,dtype", [(8, np.int16), (16, np.int16), (24, np.int32), (32, np.int32)])
@pytest.mark.parametrize("channels", [1, 2, 5])
def test_bit_depths_and_channels(bits, dtype, channels):
    rng = np.random.default_rng(bits * 10 + channels)
    lo, hi = -(1 << (bits - 1)), 1 << (bits - 1)
    x = rng.integers(lo, hi, size=(37, channels)).astype(dtype)
    x[0] = lo
    x[1] = hi - 1
    if channels == 1:
        x = x[:, 0]
    parsed = roundtrip(wav.write_bytes(x, 8000, bits))
    np.testing.assert_array_equal(parsed.samples, x)
    assert parsed.samples.dtype == dtype


def test_extensible_extra_chunks_odd_sizes_and_partial_frame_roundtrip():
    samples = struct.pack("<5h", 1, -2, 3, -4, 5)
    data = riff(fmt_extensible(1, 30000, 16), chunk(b"LIST", b"INFOISFT\x03\x00\x00\x00ab\0\0"),
                chunk(b"data", samples + b"\x07"), chunk(b"cue ", b"xyz"))
    parsed = roundtrip(data)
    np.testing.assert_array_equal(parsed.samples, [1, -2, 3, -4, 5])
    assert parsed.tail.startswith(b"\x07\x00cue ")


def test_8bit_odd_length_has_pad_byte():
    data = riff(fmt_pcm(1, 8000, 8), chunk(b"data", bytes([0, 128, 255])))
    parsed = roundtrip(data)
    np.testing.assert_array_equal(parsed.samples, [-128, 0, 127])


def test_extensible_float_is_refused():
    data = riff(fmt_extensible(1, 8000, 32, subformat=3), chunk(b"data", b"\0" * 8))
    with pytest.raises(WavFormatError, match="not integer PCM"):
        wav.parse(data, "f.wav")


@pytest.mark.parametrize("data,message", [
    (b"", "not a WAV file"),
    (b"OggS" + b"\0" * 40, "not a WAV file"),
    (riff(fmt_pcm(1, 8000, 16)), "no 'data' chunk"),
    (riff(chunk(b"data", b"\0\0")), "before any 'fmt '"),
    (riff(fmt_pcm(1, 8000, 12), chunk(b"data", b"\0\0")), "unsupported layout"),
])
def test_bad_files_name_the_problem(data, message):
    with pytest.raises(WavFormatError, match=message) as info:
        wav.parse(data, "bad.wav")
    assert "bad.wav" in str(info.value)


def test_truncated_data_chunk_is_reported():
    data = wav.write_bytes(np.arange(100, dtype=np.int16), 8000)
    with pytest.raises(WavFormatError, match="declares 200 bytes but only 150 follow"):
        wav.parse(data[:-50], "cut.wav")


def test_sidecar_damage_is_typed():
    x = np.arange(4, dtype=np.int16)
    with pytest.raises(WavFormatError, match="no WAV header"):
        wav.from_sidecar(b"", x)
    with pytest.raises(WavFormatError, match="unknown WAV sidecar kind"):
        wav.from_sidecar(b"\x07\x01", x)
    with pytest.raises(WavFormatError, match="bits per sample"):
        wav.from_sidecar(b"\x00\x10\x0c", x)
    with pytest.raises(WavFormatError, match="declares a 60-byte header"):
        wav.from_sidecar(b"\x01\x3c" + b"RIFF", x)


def test_dev_recordings_split_and_rebuild_exactly():
    folder = shared_data("neuralink-dev")
    files = sorted(folder.glob("*.wav"))[::20]
    for path in files:
        data = path.read_bytes()
        parsed = roundtrip(data)
        assert parsed.rate == 19531 and parsed.bits == 16 and parsed.samples.ndim == 1
        assert len(wav.sidecar(parsed)) == 5
