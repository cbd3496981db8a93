"""Raw interleaved binaries (SpikeGLX .bin + .meta): streamed in blocks, decoded byte for byte."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import neurocodec
from neurocodec.cli import main
from neurocodec.errors import CorruptStreamError, InvalidConfigError, NeurocodecError
from neurocodec.io import rawbin
from neurocodec.synthetic import recording

META = "nSavedChans=6\nimSampRate=30000\ntypeThis=imec\n~imroTbl=(0,384)(0 0 0 500 250 1)\n"


@pytest.fixture
def spikeglx(tmp_path):
    x = recording(9000, channels=6, seed=31)
    src = tmp_path / "rec_g0_t0.imec0.ap.bin"
    src.write_bytes(x.tobytes() + b"\x07\x00\x09")  # and a partial last frame, which must survive too
    src.with_suffix(".meta").write_text(META)
    return src, x


def test_round_trip_is_byte_identical_with_meta(tmp_path, spikeglx):
    src, x = spikeglx
    packed, back = tmp_path / "rec.nc", tmp_path / "out" / "rec.ap.bin"
    back.parent.mkdir()
    size = rawbin.encode_raw(src, packed, block_rows=2000, preset="fast")
    assert size == packed.stat().st_size
    info = neurocodec.inspect(packed.read_bytes())
    assert info["shape"] == [9000, 6] and len(info["blocks"]) == 5
    np.testing.assert_array_equal(neurocodec.decompress(packed.read_bytes()), x)  # an ordinary container
    assert rawbin.decode_raw(packed, back) == src.stat().st_size
    assert back.read_bytes() == src.read_bytes()
    assert back.with_suffix(".meta").read_text() == META


def test_channels_and_dtype_without_meta(tmp_path):
    x = (recording(3000, channels=3, seed=32).astype(np.int32) * 3)
    src = tmp_path / "raw.dat"
    src.write_bytes(x.astype("<i4").tobytes())
    with pytest.raises(InvalidConfigError, match="--channels"):
        rawbin.encode_raw(src, tmp_path / "x.nc")
    rawbin.encode_raw(src, tmp_path / "x.nc", channels=3, dtype="int32", preset="fast")
    rawbin.decode_raw(tmp_path / "x.nc", tmp_path / "y.dat")
    assert (tmp_path / "y.dat").read_bytes() == src.read_bytes()
    assert not (tmp_path / "y.meta").exists()


@pytest.mark.parametrize("bad", [{"channels": 0}, {"channels": 2.5}, {"dtype": "float32"}, {"dtype": ">i2"}])
def test_bad_arguments(tmp_path, spikeglx, bad):
    with pytest.raises(InvalidConfigError):
        rawbin.encode_raw(spikeglx[0], tmp_path / "x.nc", **bad)


def test_empty_and_sub_frame_files(tmp_path):
    for data in (b"", b"\x01\x02\x03"):
        src = tmp_path / "tiny.bin"
        src.write_bytes(data)
        rawbin.encode_raw(src, tmp_path / "tiny.nc", channels=4)
        rawbin.decode_raw(tmp_path / "tiny.nc", tmp_path / "tiny-back.bin")
        assert (tmp_path / "tiny-back.bin").read_bytes() == data


def test_damaged_block_is_a_typed_error_and_leaves_no_output(tmp_path, spikeglx):
    packed = tmp_path / "rec.nc"
    rawbin.encode_raw(spikeglx[0], packed, block_rows=2000, preset="fast")
    data = bytearray(packed.read_bytes())
    data[-10] ^= 0x40
    packed.write_bytes(bytes(data))
    with pytest.raises(CorruptStreamError, match="CRC"):
        rawbin.decode_raw(packed, tmp_path / "back.bin")
    assert not (tmp_path / "back.bin").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_wav_container_is_not_taken_for_a_raw_binary(tmp_path):
    from neurocodec.io import wav

    (tmp_path / "a.wav").write_bytes(wav.write_bytes(recording(1000, seed=1), 19531))
    neurocodec.encode_file(tmp_path / "a.wav", tmp_path / "a.nc", preset="fast")
    assert rawbin.read_raw_header(tmp_path / "a.nc") is None
    with pytest.raises(InvalidConfigError, match="not made from a raw binary"):
        rawbin.decode_raw(tmp_path / "a.nc", tmp_path / "a.bin")


def test_memory_is_one_block_not_the_file(tmp_path):
    # 16 MB of samples in 64 kB blocks: what is allocated at once must stay near one block's worth
    x = np.tile(recording(20000, channels=8, seed=33), (50, 1))
    src = tmp_path / "big.bin"
    src.write_bytes(x.tobytes())
    del x
    tracemalloc.start()
    try:
        rawbin.encode_raw(src, tmp_path / "big.nc", channels=8, block_rows=4096, preset="fast")
        _, enc_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        rawbin.decode_raw(tmp_path / "big.nc", tmp_path / "back.bin")
        _, dec_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
    assert src.stat().st_size == 16_000_000
    assert enc_peak < 4_000_000 and dec_peak < 4_000_000, (enc_peak, dec_peak)


def test_cli_encode_decode_spikeglx(tmp_path, spikeglx, capsys):
    src, _ = spikeglx
    packed, back = tmp_path / "rec.nc", tmp_path / "back" / "rec.ap.bin"
    back.parent.mkdir()
    assert main(["encode", str(src), str(packed), "--preset", "fast"]) == 0
    assert "encode" in capsys.readouterr().err  # progress on stderr
    assert main(["decode", str(packed), str(back), "--no-progress"]) == 0
    assert back.read_bytes() == src.read_bytes() and back.with_suffix(".meta").read_text() == META
    assert main(["encode", str(src), "-", "--channels", "6"]) == 1
    assert "give paths" in capsys.readouterr().err


def test_cli_raw_without_meta_needs_channels(tmp_path, capsys):
    (tmp_path / "x.bin").write_bytes(b"\0" * 64)
    assert main(["encode", str(tmp_path / "x.bin"), str(tmp_path / "x.nc")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--channels" in err
    with pytest.raises(SystemExit):
        main(["encode", str(tmp_path / "x.bin"), str(tmp_path / "x.nc"), "--channels", "0"])
    assert isinstance(InvalidConfigError("x"), NeurocodecError)


def test_decode_bytes_gives_the_raw_binary_back(tmp_path, spikeglx):
    src, _ = spikeglx
    rawbin.encode_raw(src, tmp_path / "rec.nc", preset="fast")
    assert neurocodec.decode_bytes((tmp_path / "rec.nc").read_bytes()) == src.read_bytes()
    assert main(["decode", str(tmp_path / "rec.nc"), str(tmp_path / "back.bin")]) == 0
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
