"""Lossless waveform codec: exact round trips on every shape and value range, safe on bad payloads."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
from helpers import (
    assert_bitflips_safe,
    assert_roundtrip,
    assert_truncation_raises,
    int16_fixtures,
    shared_data,
    zarr_v2_array,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from neurocodec.errors import (
    CorruptStreamError,
    InvalidConfigError,
    NeurocodecError,
    TruncatedStreamError,
    UnsupportedVersionError,
)
from neurocodec.waveform import WaveformCodec
from neurocodec.waveform.levels import LADDER_VALUES

PRESETS = ["max", "fast"]


def ladder_signal(n: int, channels: int | None = None, seed: int = 0) -> np.ndarray:
    """A random walk over the 10-bit ADC ladder, shaped like the implant's recordings."""
    rng = np.random.default_rng(seed)
    shape = (n,) if channels is None else (n, channels)
    codes = np.clip(512 + np.cumsum(rng.integers(-6, 7, shape), axis=0), 0, 1023)
    return LADDER_VALUES[codes].astype(np.int16)


@pytest.fixture(params=PRESETS)
def codec(request):
    return WaveformCodec(request.param)


@pytest.mark.parametrize("name", sorted(int16_fixtures()))
def test_fixtures_roundtrip(codec, name):
    assert_roundtrip(codec, int16_fixtures()[name])


@pytest.mark.parametrize(
    "array",
    [
        np.array([], np.int32),
        np.array([np.iinfo(np.int32).min, np.iinfo(np.int32).max, 0], np.int32),
        np.random.default_rng(5).integers(-(2**31), 2**31, (3000, 2), dtype=np.int64).astype(np.int32),
        np.zeros((0, 5), np.int16),
        np.zeros((10, 0), np.int16),
        np.full((100, 3), 17, np.int32),
        ladder_signal(100_000, seed=7),
        ladder_signal(3000, channels=64, seed=8),
        LADDER_VALUES[np.random.default_rng(9).integers(0, 1024, 5000)].astype(np.int16),
        (np.arange(5000) % 3 * 1000 - 1000).astype(np.int16),  # few levels far apart: table mapping
    ],
    ids=["empty32", "int32-extremes", "int32-noise", "no-samples", "no-channels", "constant32",
         "ladder-100k", "ladder-64ch", "ladder-noise", "three-levels"],
)
def test_edge_cases_roundtrip(codec, array):
    assert_roundtrip(codec, array)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dtype=st.sampled_from([np.int16, np.int32]),
    shape=st.one_of(
        st.tuples(st.integers(0, 3000)),
        st.tuples(st.integers(0, 300), st.integers(1, 64)),
    ),
    data=st.data(),
)
def test_property_roundtrip(dtype, shape, data):
    info = np.iinfo(dtype)
    lo = data.draw(st.integers(int(info.min), int(info.max)), label="lo")
    hi = data.draw(st.integers(lo, int(info.max)), label="hi")
    kind = data.draw(st.sampled_from(["uniform", "walk", "hypothesis"]), label="kind")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    if kind == "uniform":
        array = rng.integers(lo, hi, shape, endpoint=True, dtype=np.int64).astype(dtype)
    elif kind == "walk":
        steps = rng.integers(-40, 41, shape)
        array = np.clip(lo + np.abs(np.cumsum(steps, axis=0)), lo, hi).astype(dtype)
    else:
        small = tuple(min(s, 40) for s in shape)
        array = data.draw(hnp.arrays(dtype, small, elements=st.integers(lo, hi)), label="array")
    preset = data.draw(st.sampled_from(PRESETS), label="preset")
    codec = WaveformCodec(preset)
    decoded = codec.decode(codec.encode(array))
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("long", [False, True])
def test_hypothesis_sized_lengths(long):
    # lengths up to 100k in a handful of draws (hypothesis keeps its examples small)
    rng = np.random.default_rng(int(long))
    for n in ([99_999, 100_000] if long else [1, 2, 3, 15, 16, 17, 63, 64, 65]):
        assert_roundtrip(WaveformCodec(), ladder_signal(n, seed=n))
        x = rng.integers(-32768, 32768, n, dtype=np.int64).astype(np.int16)
        assert_roundtrip(WaveformCodec("fast"), x)


def test_dev_recordings_roundtrip():
    from scipy.io import wavfile

    files = sorted(shared_data("neuralink-dev").glob("*.wav"))[::40]
    if not files:
        pytest.skip("no WAV files in the neuralink-dev folder")
    for path in files:
        _, samples = wavfile.read(path)
        for preset in PRESETS:
            payload = assert_roundtrip(WaveformCodec(preset), samples)
            # the level mapping alone halves the size; the models must do much better
            assert len(payload) < samples.nbytes / 3


@pytest.mark.parametrize(
    "array",
    [
        ladder_signal(3000, seed=23).astype(">i2"),
        np.asfortranarray(ladder_signal(2000, channels=5, seed=24)),
        ladder_signal(9000, seed=25).astype(np.int32)[::3],
    ],
    ids=["big-endian", "fortran-order", "strided"],
)
def test_memory_layouts(array):
    # numcodecs' convention: a codec sees a chunk's memory, so the decoded buffer keeps the input's
    # memory order (a column-major chunk comes back column-major; anything else row-major)
    from numcodecs.tests.common import check_encode_decode_array

    for preset in ("max", "fast"):
        codec = WaveformCodec(preset)
        decoded = codec.decode(codec.encode(array))
        fortran = array.flags.f_contiguous and not array.flags.c_contiguous
        assert decoded.dtype == array.dtype.newbyteorder("=")
        assert decoded.flags.f_contiguous if fortran else decoded.flags.c_contiguous
        np.testing.assert_array_equal(decoded, array)
        if array.dtype.isnative:  # byte order is the dtype's business: decoding gives native samples
            check_encode_decode_array(np.ascontiguousarray(array) if not fortran else array, codec)
        out = np.empty_like(array, order="F" if fortran else "C", dtype=decoded.dtype)
        codec.decode(codec.encode(array), out=out)
        np.testing.assert_array_equal(out, array)


def test_cross_channel_mode_roundtrip():
    base = ladder_signal(4000, seed=11).astype(np.int64)
    noise = np.random.default_rng(12).integers(-1, 2, (4000, 4))
    array = np.clip(base[:, None] + 64 * noise, -32768, 32767).astype(np.int16)
    with_cross = WaveformCodec(cross_channel=True)
    without = WaveformCodec(cross_channel=False)
    assert len(assert_roundtrip(with_cross, array)) < len(assert_roundtrip(without, array))


def test_decode_ignores_constructor_preset():
    x = ladder_signal(5000, seed=13)
    for preset in PRESETS:
        payload = WaveformCodec(preset).encode(x)
        for other in PRESETS:
            np.testing.assert_array_equal(WaveformCodec(other).decode(payload), x)


def test_decode_into_out():
    x = ladder_signal(500, channels=3, seed=14)
    out = np.empty_like(x)
    WaveformCodec().decode(WaveformCodec().encode(x), out=out)
    np.testing.assert_array_equal(out, x)


def test_registry_and_config():
    codec = numcodecs.get_codec({"id": "neurocodec.waveform", "preset": "fast"})
    assert isinstance(codec, WaveformCodec) and codec.preset == "fast"
    assert WaveformCodec().get_config()["preset"] == "max"
    with pytest.raises(InvalidConfigError):
        WaveformCodec("best")


@pytest.mark.parametrize(
    "array",
    [np.zeros(10, np.float32), np.zeros(10, np.int64), np.zeros(10, np.uint16), np.zeros((2, 2, 2), np.int16)],
    ids=["float32", "int64", "uint16", "3d"],
)
def test_rejects_unsupported_input(array):
    with pytest.raises(InvalidConfigError):
        WaveformCodec().encode(array)


def test_zarr_chunked_over_time_and_channels():
    x = ladder_signal(5000, channels=6, seed=15)
    array = zarr_v2_array(None, shape=x.shape, chunks=(1200, 4), dtype=x.dtype, compressor=WaveformCodec())
    array[:] = x
    np.testing.assert_array_equal(array[:], x)
    np.testing.assert_array_equal(array[1000:2500, 3:6], x[1000:2500, 3:6])


@pytest.mark.parametrize("preset", PRESETS)
def test_truncation_raises(preset):
    codec = WaveformCodec(preset)
    for x in (ladder_signal(3000, seed=16), ladder_signal(400, channels=3, seed=17),
              np.arange(-300, 300, 3).astype(np.int32)):
        assert_truncation_raises(codec.encode(x), codec.decode)


@pytest.mark.parametrize("preset", PRESETS)
def test_bitflips_never_crash(preset):
    codec = WaveformCodec(preset)
    x = ladder_signal(3000, channels=2, seed=18)
    raised = assert_bitflips_safe(codec.encode(x), codec.decode, n_flips=300)
    assert raised > 0  # most flips desynchronise the coder and end in a detected inconsistency


def test_corrupt_header_fields():
    decode = WaveformCodec().decode
    good = WaveformCodec().encode(ladder_signal(2000, seed=19))
    # version, flags, T = 2000 as LEB128, ladder mapping, parameter set, channel 0's predictor tag
    assert good[:6] == bytes([1, 0, 0xD0, 0x0F, 0, 0])
    cases = [
        (0, 99, UnsupportedVersionError),  # version
        (1, 0x80, CorruptStreamError),  # unknown flag
        (4, 9, CorruptStreamError),  # mapping kind
        (5, 200, CorruptStreamError),  # parameter set
        (6, 0x40 | 16, CorruptStreamError),  # predictor tag with a reserved bit
        (6, 0x80 | 16, CorruptStreamError),  # the first channel cannot be cross-channel
    ]
    for index, value, kind in cases:
        bad = bytearray(good)
        bad[index] = value
        with pytest.raises(kind):
            decode(bytes(bad))
    with pytest.raises(NeurocodecError):
        decode(good[:2])
    with pytest.raises(TruncatedStreamError):
        decode(b"\x01")


def test_forged_sizes_are_rejected_before_allocating():
    decode = WaveformCodec().decode
    # T = 2**40 samples, 2-D with 2**20 channels, and a huge T behind a few coded bytes
    with pytest.raises(CorruptStreamError):
        decode(bytes([1, 0]) + bytes([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]) + bytes([0]))
    with pytest.raises(CorruptStreamError):
        decode(bytes([1, 2, 10, 0x80, 0x80, 0x40, 0]))
    payload = bytearray(WaveformCodec().encode(ladder_signal(100, seed=20)))
    payload[2:3] = bytes([0x80, 0x80, 0x80, 0x40])  # T = 2**27 with the same ~100 coded bytes
    with pytest.raises(TruncatedStreamError):
        decode(bytes(payload))
    # a level table longer than the payload could hold
    with pytest.raises(CorruptStreamError):
        decode(bytes([1, 0, 10, 1, 0xFF, 0xFF, 0x03, 0]))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_header_byte_forged(preset):
    # header fields (sizes, mapping, predictor, the fast preset's raw-stream length) are all checked
    codec = WaveformCodec(preset)
    payload = codec.encode(ladder_signal(1500, channels=2, seed=22))
    for index in range(24):
        for value in (0x00, 0x01, 0x40, 0x7F, 0x80, 0xFF):
            bad = bytearray(payload)
            bad[index] = value
            try:
                decoded = codec.decode(bytes(bad))
            except NeurocodecError:
                continue
            assert decoded.dtype in (np.int16, np.int32)


def test_shipped_priors_match_the_model_layout():
    import base64
    import zlib

    from neurocodec.waveform import _kernels, _prior, lossless

    assert len(_prior.PRIORS) == len(lossless.PARAM_SETS)
    for text in _prior.PRIORS:
        raw = np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype="<i4")
        assert raw.size == _kernels.MODEL_SIZE, "re-run benchmarks/crossval_waveform.py --write"


def test_pure_python_matches_jit(tmp_path):
    # the decoder must reproduce the encoder bit for bit on any machine: compare compiled kernels
    # with the same source interpreted by Python (NUMBA_DISABLE_JIT=1) on tiny inputs
    import os
    import subprocess
    import sys

    script = tmp_path / "probe.py"
    script.write_text(
        "import numpy as np\n"
        "from neurocodec.waveform import WaveformCodec\n"
        "from neurocodec.waveform.levels import LADDER_VALUES\n"
        "rng = np.random.default_rng(3)\n"
        "arrays = [LADDER_VALUES[np.clip(512 + np.cumsum(rng.integers(-9, 10, 300)), 0, 1023)].astype(np.int16),\n"
        "          rng.integers(-2**31, 2**31, (40, 2), dtype=np.int64).astype(np.int32),\n"
        "          rng.integers(-50, 50, (60, 3)).astype(np.int16)]\n"
        "for preset in ('max', 'fast'):\n"
        "    codec = WaveformCodec(preset)\n"
        "    for a in arrays:\n"
        "        data = codec.encode(a)\n"
        "        assert np.array_equal(codec.decode(data), a)\n"
        "        print(data.hex())\n"
    )
    env = dict(os.environ)
    runs = []
    for jit_off in ("0", "1"):
        env["NUMBA_DISABLE_JIT"] = jit_off
        result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                                timeout=600, check=False)
        assert result.returncode == 0, result.stderr
        runs.append(result.stdout)
    assert runs[0] == runs[1]


def test_trailing_bytes_rejected():
    codec = WaveformCodec()
    payload = codec.encode(ladder_signal(1000, seed=21))
    with pytest.raises(CorruptStreamError):
        codec.decode(payload + b"\x00")


# -- near-lossless -------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(0, 3000), channels=st.integers(1, 4), near=st.integers(1, 8),
       preset=st.sampled_from(["max", "fast"]), seed=st.integers(0, 2**16), on_ladder=st.booleans())
def test_near_lossless_bound_holds(n, channels, near, preset, seed, on_ladder):
    if on_ladder:
        x = ladder_signal(n, channels=channels, seed=seed)
        to_levels = lambda a: np.searchsorted(LADDER_VALUES, a)  # noqa: E731
    else:
        rng = np.random.default_rng(seed)
        x = np.cumsum(rng.integers(-40, 41, (n, channels)), axis=0).astype(np.int16)
        to_levels = lambda a: a.astype(np.int64)  # noqa: E731  (OFFSET mapping: levels are sample units)
    codec = WaveformCodec(preset, near=near)
    y = codec.decode(codec.encode(x))
    assert y.shape == x.shape and y.dtype == x.dtype
    if x.size:
        assert np.abs(to_levels(x) - to_levels(y)).max() <= near


def test_near_zero_is_the_lossless_codec_byte_for_byte():
    x = ladder_signal(5000, channels=3, seed=41)
    for preset in ("max", "fast"):
        assert WaveformCodec(preset, near=0).encode(x) == WaveformCodec(preset).encode(x)


def test_near_lossless_codes_smaller_as_the_bound_grows():
    x = ladder_signal(20000, seed=42)
    sizes = [len(WaveformCodec(near=k).encode(x)) for k in (0, 1, 2, 4)]
    assert sizes == sorted(sizes, reverse=True) and sizes[1] < 0.8 * sizes[0]


@pytest.mark.parametrize("near", [-1, 1 << 16, 1.5, True, "2"])
def test_near_must_be_a_small_integer(near):
    with pytest.raises(InvalidConfigError, match="near"):
        WaveformCodec(near=near)


def test_near_lossless_payload_damage_raises():
    payload = WaveformCodec(near=2).encode(ladder_signal(3000, seed=43))
    assert_truncation_raises(payload, WaveformCodec().decode)


# -- bounded work and memory ------------------------------------------------------------


def test_size_bomb_is_refused_before_allocating():
    # 58 bytes declaring 2**24 samples used to allocate 413 MiB and run 5.8 s before failing
    bomb = bytes.fromhex("010080808008000000800800") + bytes(46)
    with pytest.raises(TruncatedStreamError):
        WaveformCodec().decode(bomb)
    constant = bytes([1, 0]) + bytes.fromhex("8080808001") + bytes([2]) + bytes([0, 0])  # 2**28 equal samples
    with pytest.raises(TruncatedStreamError):
        WaveformCodec().decode(constant)


def test_decoder_stops_when_the_payload_runs_out():
    # a payload cut in half must fail at once, not after decoding every sample it claims
    payload = WaveformCodec("fast").encode(ladder_signal(400_000, seed=44))
    with pytest.raises((TruncatedStreamError, CorruptStreamError)):
        WaveformCodec().decode(payload[: len(payload) // 2])


def test_dense_series_are_padded_to_the_decoders_cap():
    x = np.zeros(3_000_000, np.int16)
    x[1_000_000] = 100
    payload = WaveformCodec("fast").encode(x)
    assert payload[0] == 2 and len(payload) * 4096 >= x.size
    np.testing.assert_array_equal(WaveformCodec().decode(payload), x)
    damaged = payload[:-1] + b"\x01"
    with pytest.raises(CorruptStreamError, match="unexpected bytes"):
        WaveformCodec().decode(damaged)


def test_incompressible_data_is_stored_raw():
    x = np.random.default_rng(45).integers(-32768, 32768, (3000, 2)).astype(np.int16)
    payload = WaveformCodec().encode(x)
    assert len(payload) <= x.nbytes + 8
    np.testing.assert_array_equal(WaveformCodec().decode(payload), x)
    assert_truncation_raises(payload, WaveformCodec().decode)


def test_encoder_refuses_what_the_decoder_refuses():
    wide = np.lib.stride_tricks.as_strided(np.zeros(1, np.int16), shape=(1 << 41, 0), strides=(0, 2))
    with pytest.raises(InvalidConfigError, match="limits"):
        WaveformCodec().encode(wide)


def test_object_arrays_raise_type_error():
    with pytest.raises(TypeError):
        WaveformCodec().encode(np.array([1, 2, 3], dtype=object))
