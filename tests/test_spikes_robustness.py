"""Bad input and damaged streams: typed errors, never a hang or a huge allocation."""

import numpy as np
import pytest

from helpers import assert_bitflips_safe, assert_truncation_raises
from neurocodec import spikes
from neurocodec.entropy.varint import uvarint_bytes
from neurocodec.errors import CorruptStreamError, InvalidConfigError, NeurocodecError
from neurocodec.spikes import synthetic

NAMES = spikes.list_codecs()


def sample():
    return synthetic.bursty(400, 12, seed=9)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [
    np.array([[0, 2], [1, 0]]),
    np.array([[0.0, 0.5]]),
    np.array([[np.nan, 1.0]]),
    np.array([[-1, 0]]),
    np.array(["a", "b"]).reshape(1, 2),
    np.zeros(5, dtype=bool),
    np.zeros((2, 2, 2), dtype=bool),
])
def test_non_binary_or_non_2d_input_raises(name, bad):
    codec = spikes.get_codec(name)
    with pytest.raises(InvalidConfigError):
        codec.encode(bad)
    with pytest.raises(InvalidConfigError):
        codec.compress(bad)


@pytest.mark.parametrize("name", NAMES)
def test_truncated_container_raises(name):
    data, _ = spikes.get_codec(name).compress(sample())
    assert_truncation_raises(data, spikes.get_codec(name).decompress)


@pytest.mark.parametrize("name", NAMES)
def test_truncated_payload_raises(name):
    codec = spikes.get_codec(name)
    assert_truncation_raises(codec.encode(sample()), codec.decode)


@pytest.mark.parametrize("name", NAMES)
def test_bitflips_in_container_always_detected(name):
    codec = spikes.get_codec(name)
    data, _ = codec.compress(sample())
    assert_bitflips_safe(data, codec.decompress, must_raise=True)


@pytest.mark.parametrize("name", NAMES)
def test_bitflips_in_bare_payload_are_safe(name):
    codec = spikes.get_codec(name)
    assert_bitflips_safe(codec.encode(sample()), codec.decode, n_flips=300)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_T_or_N_raises(name):
    codec = spikes.get_codec(name)
    raster = sample()
    data, _ = codec.compress(raster)
    with pytest.raises(CorruptStreamError):
        codec.decompress(data, T=raster.shape[0] + 1)
    with pytest.raises(CorruptStreamError):
        codec.decompress(data, N=raster.shape[1] - 1)
    with pytest.raises(InvalidConfigError):
        codec.decode(codec.encode(raster), out=np.zeros((3, 3), bool))


def test_stream_of_another_codec_is_refused():
    data, _ = spikes.get_codec("isi").compress(sample())
    with pytest.raises(InvalidConfigError):
        spikes.get_codec("aer").decompress(data)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("T", "N"), [(2**40, 1), (2**20, 2**20), (2**33 + 1, 1)])
def test_crafted_huge_shape_raises_before_allocating(name, T, N):
    codec = spikes.get_codec(name)
    good = codec.encode(np.zeros((4, 1), bool))
    crafted = bytes([good[0]]) + uvarint_bytes(T) + uvarint_bytes(N) + good[3:]
    with pytest.raises(NeurocodecError):
        codec.decode(crafted)


@pytest.mark.parametrize("name", NAMES)
def test_crafted_counts_do_not_hang(name):
    """Random bytes after a plausible header decode to an error or a raster, quickly."""
    codec = spikes.get_codec(name)
    rng = np.random.default_rng(0)
    head = bytes([1]) + uvarint_bytes(2**20) + uvarint_bytes(64)
    for _ in range(20):
        body = rng.integers(0, 256, int(rng.integers(0, 40)), dtype=np.uint8).tobytes()
        try:
            out = codec.decode(head + body)
        except NeurocodecError:
            continue
        assert out.shape == (2**20, 64)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_payload_version_raises(name):
    codec = spikes.get_codec(name)
    payload = bytearray(codec.encode(sample()))
    payload[0] = 99
    with pytest.raises(NeurocodecError):
        codec.decode(bytes(payload))
