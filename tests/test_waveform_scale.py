"""Wide arrays in the waveform codec: the one-pass analysis, the predictor fields' kernels, reused buffers."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurocodec
from neurocodec.errors import CorruptStreamError, TruncatedStreamError
from neurocodec.waveform import WaveformCodec
from neurocodec.waveform import _kernels as K
from neurocodec.waveform import lossless
from neurocodec.waveform.levels import LADDER_VALUES

# version 1, mono, T = 2000 (LEB128), ladder mapping, parameter set 0
_HEAD = bytes([1, 0, 0xD0, 0x0F, 0, 0])
_HUGE = b"\xff" * 9 + b"\x01"  # 2**64 - 1 as LEB128


def correlated_levels(rng, n_ch: int, n_t: int, top: int) -> np.ndarray:
    """Channels that share a random walk, some close enough that their differences predict better."""
    walk = np.abs(np.cumsum(rng.integers(-9, 10, n_t))) % (top + 1)
    noise = rng.integers(0, 3)
    return np.stack([np.clip(walk + rng.integers(-noise, noise + 1, n_t) * c, 0, top) for c in range(n_ch)]
                    ).astype(np.int64)


def analyse(kernel, levels, order, near, cross, top):
    n_ch = levels.shape[0]
    lo, hi, coefs, orders, shifts, means = lossless._channel_tables(n_ch, top)
    kernel(levels, order, near, cross, top, lo, coefs, orders, shifts, means)
    return lo, coefs, orders, shifts, means


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_ch=st.integers(1, 5), n_t=st.integers(1, 400),
       top=st.sampled_from([1, 2, 7, 1023, 32767]), order=st.integers(1, K.CROSS_ORDER), near=st.integers(0, 2),
       white=st.booleans())
def test_one_pass_analysis_is_the_general_one(seed, n_ch, n_t, top, order, near, white):
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, top + 1, (n_ch, n_t)) if white else correlated_levels(rng, n_ch, n_t, top)
    cross = near == 0
    fast = analyse(K._analyse_short, levels, order, near, cross, top)
    general = analyse(K._analyse_each, levels, order, near, cross, top)
    for a, b in zip(fast, general):
        np.testing.assert_array_equal(a, b)


def test_cross_channel_choice_is_exercised():
    levels = correlated_levels(np.random.default_rng(3), 4, 3000, 1023)
    lo = analyse(K._analyse_short, levels, 1, 0, True, 1023)[0]
    assert (lo[1:] < 0).any()  # the equivalence above covers channels that code their difference


@pytest.mark.parametrize("fields, pad, kind, message", [
    (b"\x01" + _HUGE, True, CorruptStreamError, "mean level -9223372036854775808 outside"),  # no OverflowError
    (b"\x01\x80", False, TruncatedStreamError, "ends inside a header varint"),
    (b"\x01", False, TruncatedStreamError, "ends inside a header varint"),
    (b"\x01\x00", False, TruncatedStreamError, "ends inside its header"),
    (b"\x01\x00\x00", True, CorruptStreamError, "LPC shift 0 out of range"),
    (b"\x01\x00\x0e" + _HUGE, True, CorruptStreamError, "LPC coefficient out of range"),
    (b"\x02\x00\x0e\x81\x80\x08\x00", True, CorruptStreamError, "LPC coefficient out of range"),  # -2**16 - 1
    (b"\x01\x00\x0e\x80", False, TruncatedStreamError, "ends inside a header varint"),
    (b"\x61", True, CorruptStreamError, "bad predictor tag 0x61"),
])
def test_predictor_fields_are_checked(fields, pad, kind, message):
    with pytest.raises(kind, match=message):
        WaveformCodec().decode(_HEAD + fields + bytes(40 if pad else 0))


def test_mean_outside_the_levels_of_a_two_level_map():
    # offset mapping of two levels: a mean of 2 lies outside [0, 1]
    payload = bytes([1, 0, 0xD0, 0x0F, 2, 0, 1, 0, 0x00, 0x04]) + bytes(40)
    with pytest.raises(CorruptStreamError, match="mean level 2 outside"):
        WaveformCodec().decode(payload)


def test_mono_sample_off_the_ladder_at_the_very_end():
    # the mono level map judges the ladder after its walk: the last sample alone must still count
    x = LADDER_VALUES[np.clip(512 + np.cumsum(np.random.default_rng(4).integers(-5, 6, 5000)), 0, 1023)]
    x = x.astype(np.int16)
    x[-1] = x[-2] + 1
    payload = WaveformCodec("fast").encode(x)
    assert payload[4] != 0  # not the ladder mapping
    np.testing.assert_array_equal(WaveformCodec().decode(payload), x)


@pytest.mark.parametrize("preset", ["max", "fast"])
def test_buffers_reused_across_shapes_and_threads(preset):
    rng = np.random.default_rng(5)
    arrays = [LADDER_VALUES[correlated_levels(rng, 64, 700, 1023).T].astype(np.int16),
              LADDER_VALUES[correlated_levels(rng, 1, 3000, 1023)[0]].astype(np.int16),
              LADDER_VALUES[correlated_levels(rng, 3, 900, 1023).T].astype(np.int16)]
    codec = WaveformCodec(preset)
    payloads = [codec.encode(x) for x in arrays]
    for x, payload in zip(arrays, payloads):
        np.testing.assert_array_equal(codec.decode(payload), x)
    # the same bytes from other threads, each with its own buffer, interleaved
    results = {}

    def work(i):
        results[i] = [codec.encode(x) for x in arrays[i % 3:] + arrays[:i % 3]]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, got in results.items():
        assert got == payloads[i % 3:] + payloads[:i % 3]
    wide = arrays[0]
    one = neurocodec.compress(wide, preset=preset, block_rows=200, threads=1)
    assert neurocodec.compress(wide, preset=preset, block_rows=200, threads=2) == one
    np.testing.assert_array_equal(neurocodec.decompress(one, threads=2), wide)
