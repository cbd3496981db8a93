"""Near-lossless through the public API, the container, zarr and the CLI: bounded, and never silent."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from helpers import zarr_v2_array

import neurocodec
from neurocodec.cli import main
from neurocodec.io import wav
from neurocodec.synthetic import SAMPLE_RATE, recording
from neurocodec.waveform.levels import LADDER_INDEX


def codes(x: np.ndarray) -> np.ndarray:
    return LADDER_INDEX[x.astype(np.int64) + 32768]


@pytest.mark.parametrize("near", [1, 3])
@pytest.mark.parametrize("preset", ["max", "fast"])
def test_compress_near_is_bounded_and_says_so(near, preset):
    x = recording(20000, channels=3, seed=5)
    data = neurocodec.compress(x, preset=preset, near=near, block_rows=7000)
    y = neurocodec.decompress(data)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert 0 < np.abs(codes(x) - codes(y)).max() <= near
    info = neurocodec.inspect(data)
    assert info["config"]["near"] == near
    assert info["lossy"]["max_abs_error"] == near
    assert len(data) < len(neurocodec.compress(x, preset=preset))


def test_lossless_streams_say_lossless():
    assert neurocodec.inspect(neurocodec.compress(recording(3000, seed=6)))["lossy"] is None


def test_decoding_a_lossy_file_warns(tmp_path):
    x = recording(8000, seed=7)
    src = tmp_path / "a.wav"
    src.write_bytes(wav.write_bytes(x, SAMPLE_RATE))
    neurocodec.encode_file(src, tmp_path / "a.nc", near=2)
    with pytest.warns(neurocodec.LossyDecodeWarning, match="within \\+-2"):
        neurocodec.decode_file(tmp_path / "a.nc", tmp_path / "b.wav")
    back = wav.parse((tmp_path / "b.wav").read_bytes(), "b.wav").samples
    assert np.abs(codes(back) - codes(x)).max() <= 2
    neurocodec.encode_file(src, tmp_path / "c.nc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        neurocodec.decode_file(tmp_path / "c.nc", tmp_path / "d.wav")


def test_cli_inspect_and_decode_say_lossy(tmp_path, capsys):
    src = tmp_path / "a.wav"
    src.write_bytes(wav.write_bytes(recording(6000, seed=8), SAMPLE_RATE))
    assert main(["encode", str(src), str(tmp_path / "a.nc"), "--set", "near=1"]) == 0
    assert main(["inspect", str(tmp_path / "a.nc")]) == 0
    assert "LOSSY: every sample within +-1" in capsys.readouterr().out
    assert main(["inspect", str(tmp_path / "a.nc"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["lossy"]["max_abs_error"] == 1
    assert main(["decode", str(tmp_path / "a.nc"), str(tmp_path / "b.wav")]) == 0
    assert "not the original" in capsys.readouterr().err


def test_zarr_metadata_carries_the_bound(tmp_path):
    from neurocodec.waveform import WaveformCodec

    x = recording(6000, channels=4, seed=9)
    path = str(tmp_path / "a.zarr")
    z = zarr_v2_array(path, shape=x.shape, chunks=(2000, 2), dtype=x.dtype, compressor=WaveformCodec(near=2))
    z[:] = x
    meta = json.loads((tmp_path / "a.zarr" / ".zarray").read_text())
    assert meta["compressor"]["id"] == "neurocodec.waveform" and meta["compressor"]["near"] == 2
    y = pytest.importorskip("zarr").open_array(path, mode="r")[:]
    assert np.abs(codes(y) - codes(x)).max() <= 2
