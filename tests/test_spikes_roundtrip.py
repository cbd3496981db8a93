"""Every spike codec round-trips exactly: one shared property loop over the whole family."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import assert_roundtrip, zarr_v2_array
from neurocodec import spikes
from neurocodec.spikes import synthetic

CONFIGS = [
    ("adaptive", {}),
    ("aer", {}),
    ("delta", {}),
    ("delta", {"group_size": 3}),
    ("delta", {"group_size": 300}),
    ("isi", {}),
    ("predictive", {"predictor": "ema"}),
    ("predictive", {"predictor": "lfsr"}),
    ("predictive", {"predictor": "ema", "shift": 1, "threshold": 20000}),
    ("streaming", {}),
    ("streaming", {"window": 7}),
]
IDS = [f"{name}{config or ''}" for name, config in CONFIGS]


@st.composite
def rasters(draw):
    T = draw(st.integers(0, 70))
    N = draw(st.integers(0, 12))
    p = draw(st.sampled_from([0.0, 0.01, 0.1, 0.3, 0.5, 0.7, 0.95, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).random((T, N)) < p


def fixtures():
    rng = np.random.default_rng(5)
    return {
        "empty_T": np.zeros((0, 5), bool),
        "empty_N": np.zeros((9, 0), bool),
        "single_0": np.zeros((1, 1), bool),
        "single_1": np.ones((1, 1), bool),
        "zeros": np.zeros((300, 17), bool),
        "ones": np.ones((300, 17), bool),
        "dense": rng.random((500, 9)) < 0.8,
        "wide": rng.random((3, 700)) < 0.05,
        "long": rng.random((5000, 2)) < 0.003,
        "bursty": synthetic.bursty(2000, 16, seed=1),
        "correlated": synthetic.correlated(2000, 24, seed=2),
        "regular": synthetic.regular(1000, 8, period=5),
    }


@pytest.mark.parametrize(("name", "config"), CONFIGS, ids=IDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raster=rasters())
def test_roundtrip_property(name, config, raster):
    assert_roundtrip(spikes.get_codec(name, **config), raster)


@pytest.mark.parametrize(("name", "config"), CONFIGS, ids=IDS)
def test_roundtrip_fixtures(name, config):
    codec = spikes.get_codec(name, **config)
    for raster in fixtures().values():
        assert_roundtrip(codec, raster)
        data, result = codec.compress(raster)
        out = codec.decompress(data, T=raster.shape[0], N=raster.shape[1])
        assert out.dtype == bool and out.shape == raster.shape
        np.testing.assert_array_equal(out, raster)
        assert result.coded_bytes == len(data) and result.n_spikes == int(raster.sum())


@pytest.mark.parametrize("name", spikes.list_codecs())
def test_numeric_01_input_is_accepted(name):
    raster = np.random.default_rng(3).random((200, 6)) < 0.2
    codec = spikes.get_codec(name)
    for dtype in (np.int8, np.uint16, np.int64, np.float32, np.float64):
        np.testing.assert_array_equal(codec.decode(codec.encode(raster.astype(dtype))), raster)


@pytest.mark.parametrize("name", spikes.list_codecs())
def test_decode_into_out(name):
    raster = np.random.default_rng(4).random((50, 5)) < 0.3
    codec = spikes.get_codec(name)
    out = np.zeros((50, 5), dtype=np.uint8)
    assert codec.decode(codec.encode(raster), out=out) is out
    np.testing.assert_array_equal(out, raster)


@pytest.mark.parametrize("name", spikes.list_codecs())
def test_long_raster_beyond_24_bits(name):
    """T = 2**24 + 3 bins on one channel: no 24-bit field anywhere (sizes are 64-bit varints)."""
    T = 2**24 + 3
    raster = np.zeros((T, 1), dtype=bool)
    raster[[0, 5, 2**24 - 1, 2**24, T - 1], 0] = True
    codec = spikes.get_codec(name, **({"window": 1 << 16} if name == "streaming" else {}))
    payload = codec.encode(raster)
    np.testing.assert_array_equal(codec.decode(payload), raster)
    data, result = codec.compress(raster)
    assert result.T == T and result.n_spikes == 5
    np.testing.assert_array_equal(codec.decompress(data, T=T, N=1), raster)


@pytest.mark.parametrize("name", spikes.list_codecs())
def test_zarr_chunks_over_time_and_channels(name):
    raster = synthetic.bursty(5000, 6, seed=1)
    array = zarr_v2_array(None, shape=raster.shape, chunks=(1200, 4), dtype=bool, compressor=spikes.get_codec(name))
    array[:] = raster
    np.testing.assert_array_equal(array[:], raster)
    np.testing.assert_array_equal(array[1000:2500, 3:6], raster[1000:2500, 3:6])
