import io

import numpy as np
import pytest

import neurocodec
from neurocodec.errors import InvalidConfigError, NeurocodecError, UnsupportedVersionError, WavFormatError
from neurocodec.io import wav
from neurocodec.synthetic import recording


def test_encode_bytes_roundtrips_wav_exactly():
    data = wav.write_bytes(recording(3000, seed=1), 19531)
    packed = neurocodec.encode_bytes(data, "test_raw")
    assert neurocodec.decode_bytes(packed) == data


def test_npy_input_roundtrips_as_npy():
    x = recording(500, channels=2, seed=2)
    buf = io.BytesIO()
    np.save(buf, x)
    packed = neurocodec.encode_bytes(buf.getvalue(), "test_raw", cols=2)
    np.testing.assert_array_equal(np.load(io.BytesIO(neurocodec.decode_bytes(packed))), x)


def test_unknown_codec_and_parameters_raise():
    with pytest.raises(UnsupportedVersionError, match="unknown codec 'nope'"):
        neurocodec.compress(np.zeros(3, np.int16), "nope")
    with pytest.raises(InvalidConfigError, match="does not take 'speed'"):
        neurocodec.compress(np.zeros(3, np.int16), "test_raw", speed=3)


def test_file_api_is_atomic(tmp_path):
    src = tmp_path / "a.wav"
    src.write_bytes(wav.write_bytes(recording(1000, seed=3), 19531))
    packed, restored = tmp_path / "a.nc", tmp_path / "b.wav"
    neurocodec.encode_file(src, packed, "test_raw")
    neurocodec.decode_file(packed, restored)
    assert restored.read_bytes() == src.read_bytes()
    # a failing decode leaves an existing output untouched and no temporary files behind
    bad = tmp_path / "bad.nc"
    bad.write_bytes(packed.read_bytes()[:-3])
    with pytest.raises(NeurocodecError):
        neurocodec.decode_file(bad, restored)
    assert restored.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nc", "a.wav", "b.wav", "bad.nc"]


def test_not_a_wav_names_the_file(tmp_path):
    src = tmp_path / "notes.txt"
    src.write_text("hello")
    with pytest.raises(WavFormatError, match="notes.txt: not a WAV file"):
        neurocodec.encode_file(src, tmp_path / "out.nc", "test_raw")
    assert not (tmp_path / "out.nc").exists()


def test_missing_input_is_a_typed_error(tmp_path):
    with pytest.raises(NeurocodecError, match="cannot read input"):
        neurocodec.encode_file(tmp_path / "missing.wav", tmp_path / "out.nc")


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float32, bool])
def test_spike_codecs_give_back_the_dtype_they_were_given(dtype):
    x = (np.random.default_rng(0).random((500, 6)) < 0.2).astype(dtype)
    for name in [n for n in neurocodec.codecs() if n.startswith("spikes_")]:
        y = neurocodec.decompress(neurocodec.compress(x, name))
        assert y.dtype == x.dtype and np.array_equal(x, y), name
