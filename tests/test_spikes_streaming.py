"""Streaming frames: independent, bounded in size, CRC-checked."""

import numpy as np
import pytest

from helpers import assert_bitflips_safe, assert_truncation_raises
from neurocodec import spikes
from neurocodec.errors import InvalidConfigError
from neurocodec.spikes import max_frame_bytes, read_frame


@pytest.mark.parametrize("p", [0.0, 0.01, 0.2, 0.5, 0.9, 1.0])
@pytest.mark.parametrize(("W", "N"), [(20, 64), (1, 1), (7, 3), (20, 1000)])
def test_frames_roundtrip_within_the_bound(p, W, N):
    codec = spikes.get_codec("streaming")
    rng = np.random.default_rng(int(p * 100) + W + N)
    for index in (0, 1, 127, 128, 2**40):
        window = rng.random((W, N)) < p
        frame = codec.compress_frame(window, index=index)
        assert len(frame) <= max_frame_bytes(W, N, index)
        got_index, got = read_frame(frame)
        assert got_index == index
        np.testing.assert_array_equal(got, window)
        np.testing.assert_array_equal(codec.decompress_frame(frame), window)


def test_bound_for_the_documented_case():
    assert max_frame_bytes(20, 64) == 166


def test_every_single_bit_flip_of_a_frame_is_caught():
    codec = spikes.get_codec("streaming")
    for p in (0.01, 0.5):
        window = np.random.default_rng(1).random((20, 64)) < p
        frame = codec.compress_frame(window, index=3)
        assert assert_bitflips_safe(frame, codec.decompress_frame, n_flips=8 * len(frame), must_raise=True)
        assert_truncation_raises(frame, codec.decompress_frame)


def test_frames_are_independent():
    codec = spikes.get_codec("streaming", window=20)
    raster = np.random.default_rng(2).random((200, 16)) < 0.1
    frames = [codec.compress_frame(raster[i:i + 20], index=i // 20) for i in range(0, 200, 20)]
    for k in (7, 3, 0, 9):   # any frame alone, in any order
        np.testing.assert_array_equal(codec.decompress_frame(frames[k]), raster[20 * k:20 * k + 20])


def test_oversized_frame_or_bad_index_is_refused():
    codec = spikes.get_codec("streaming")
    with pytest.raises(InvalidConfigError):
        codec.compress_frame(np.zeros((1 << 13, 1 << 12), bool))
    for index in (-1, 1 << 64, 2.0):
        with pytest.raises(InvalidConfigError):
            codec.compress_frame(np.zeros((20, 4), bool), index=index)
