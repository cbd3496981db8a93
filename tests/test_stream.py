"""The real-time stream: round trips, losses, damage, duplicates and reordering, raw fallback, configuration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import assert_bitflips_safe, assert_truncation_raises
from neurocodec.errors import (
    CorruptStreamError,
    InvalidConfigError,
    NeurocodecError,
    TruncatedStreamError,
    UnsupportedVersionError,
)
from neurocodec.stream import PacketLossError, PacketOrderError, StreamDecoder, StreamEncoder
from neurocodec.stream.codec import HEADER_SIZE, PACKET_OVERHEAD, RAW, SYNC, StreamConfig
from neurocodec.synthetic import recording
from neurocodec.waveform.levels import LADDER_INDEX

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frames(data: np.ndarray, frame: int) -> list[np.ndarray]:
    return [np.ascontiguousarray(data[i:i + frame]) for i in range(0, data.shape[0] - frame + 1, frame)]


def stream(data, frame=20, **kw):
    enc = StreamEncoder(data.shape[1], 19531, frame, **kw)
    fs = frames(data, frame)
    return enc, fs, [enc.encode(f) for f in fs]


def codes(x):
    return LADDER_INDEX[x.astype(np.int64) + 32768]


@given(channels=st.sampled_from([1, 2, 3, 5, 16]), frame=st.integers(1, 40), n=st.integers(1, 12),
       preset=st.sampled_from(["fast", "max"]), near=st.sampled_from([0, 0, 1, 3]),
       sync_ms=st.sampled_from([0.5, 3, 100]),
       seed=st.integers(0, 99))
@SETTINGS
def test_round_trip_and_bound(channels, frame, n, preset, near, sync_ms, seed):
    data = recording(frame * n, channels=channels, seed=seed)
    enc, fs, packets = stream(data, frame, preset=preset, near=near, sync_ms=sync_ms)
    dec = StreamDecoder(enc.header())
    assert packets[0][0] in (SYNC, RAW)
    for f, p in zip(fs, packets):
        assert len(p) <= enc.config.max_packet
        out = dec.decode(p)
        assert out.dtype == np.int16 and out.shape == f.shape
        if near:
            assert np.abs(codes(out) - codes(f)).max() <= near
        else:
            np.testing.assert_array_equal(out, f)
    assert dec.counts["decoded"] == len(packets) and not dec.lost_ranges


@given(channels=st.integers(1, 1024), frame=st.integers(1, 3), preset=st.sampled_from(["fast", "max"]),
       seed=st.integers(0, 9))
@settings(max_examples=15, deadline=None)
def test_any_channel_count(channels, frame, preset, seed):
    data = recording(frame * 4, channels=channels, seed=seed)
    enc, fs, packets = stream(data, frame, preset=preset, sync_ms=0.2)
    dec = StreamDecoder(enc.header())
    for f, p in zip(fs, packets):
        np.testing.assert_array_equal(dec.decode(p), f)


@pytest.mark.parametrize("channels", [1, 1024])
def test_channel_count_extremes(channels):
    data = recording(3 * 4, channels=channels, seed=channels)
    enc, fs, packets = stream(data, 4, sync_ms=0.4)
    dec = StreamDecoder(enc.header())
    for f, p in zip(fs, packets):
        np.testing.assert_array_equal(dec.decode(p), f)


@given(drops=st.lists(st.booleans(), min_size=30, max_size=30), preset=st.sampled_from(["fast", "max"]),
       near=st.sampled_from([0, 2]))
@SETTINGS
def test_losses_are_reported_and_resync_at_the_next_sync(drops, preset, near):
    data = recording(5 * 30, channels=3, seed=7)
    enc, fs, packets = stream(data, 5, preset=preset, near=near, sync_ms=1.3)  # a sync every 5 packets
    dec = StreamDecoder(enc.header())
    delivered, lost = set(), set()
    for s, (f, p) in enumerate(zip(fs, packets)):
        if drops[s]:
            continue
        got = dec.receive(p)
        if got.status == "decoded":
            assert got.seq == s and got.start == 5 * s
            if near:
                assert np.abs(codes(got.samples) - codes(f)).max() <= near
            else:
                np.testing.assert_array_equal(got.samples, f)
            delivered.add(s)
        else:
            assert got.status == "lost" and got.samples is None
        for first, end in got.lost:
            lost.update(range(first // 5, end // 5))
        # back in step at every sync packet, whatever came before, unless both copies of the table it
        # names were lost; one that carries a table always decodes
        if p[0] == SYNC:
            assert got.status == "decoded" or (not p[13] and "table" in got.message)
    for first, end in dec.finish(len(packets)):
        lost.update(range(first // 5, end // 5))
    assert delivered | lost == set(range(len(packets))) and not delivered & lost
    assert {s for s, d in enumerate(drops) if d} <= lost


def test_a_packet_after_a_gap_raises_loss_until_the_sync():
    data = recording(20 * 10, channels=2, seed=1)
    enc, fs, packets = stream(data, 20, sync_ms=1000)
    assert [p[0] for p in packets[:8]] == [SYNC, SYNC, 0, SYNC, 0, 0, 0, SYNC]  # warm-up: 1, 2, 4 packets
    dec = StreamDecoder(enc.header())
    dec.decode(packets[0])
    with pytest.raises(PacketLossError) as info:
        dec.decode(packets[2])
    assert info.value.received.lost == [(20, 40), (40, 60)]
    np.testing.assert_array_equal(dec.decode(packets[3]), fs[3])


def test_duplicates_and_reordering_are_reported_never_decoded():
    data = recording(10 * 8, channels=4, seed=3)
    enc, fs, packets = stream(data, 10, sync_ms=1000)
    dec = StreamDecoder(enc.header())
    np.testing.assert_array_equal(dec.decode(packets[0]), fs[0])
    with pytest.raises(PacketOrderError):
        dec.decode(packets[0])
    got = dec.receive(packets[3])  # a sync overtakes packets 1 and 2: they are reported lost
    assert got.status == "decoded" and got.lost == [(10, 30)]
    got = dec.receive(packets[1])
    assert got.status == "late" and got.samples is None
    assert dec.counts["duplicate"] == 1 and dec.counts["late"] == 1


def test_every_prefix_and_bit_flip_of_a_packet_raises():
    data = recording(20 * 4, channels=3, seed=5)
    enc, fs, packets = stream(data, 20)
    header = enc.header()
    for p in packets[:2]:
        assert_truncation_raises(p, lambda d: StreamDecoder(header).decode(d), kinds=(TruncatedStreamError,))
        assert_bitflips_safe(p, lambda d: StreamDecoder(header).decode(d), must_raise=True)
    dec = StreamDecoder(header)
    dec.decode(packets[0])
    # damage does not disturb the decoder: the next sound packet still decodes
    for cut in (0, 5, len(packets[1]) - 1):
        assert dec.receive(packets[1][:cut]).status == "truncated"
    assert dec.receive(packets[1] + b"\0").status == "corrupt"
    np.testing.assert_array_equal(dec.decode(packets[1]), fs[1])


def test_packets_from_another_stream_fail_their_crc():
    data = recording(20 * 2, channels=3, seed=5)
    a, _, pa = stream(data, 20)
    b, _, _ = stream(data, 20, preset="max")
    with pytest.raises(CorruptStreamError, match="CRC"):
        StreamDecoder(b.header()).decode(pa[0])


def test_header_damage_is_typed():
    header = StreamEncoder(8, 19531, 20).header()
    assert len(header) == HEADER_SIZE
    assert_truncation_raises(header, StreamDecoder, kinds=(TruncatedStreamError,))
    assert_bitflips_safe(header, StreamDecoder, must_raise=True)
    with pytest.raises(CorruptStreamError):
        StreamDecoder(header + b"\0")
    cfg = StreamConfig.parse(header)
    cfg_bytes = bytearray(header)
    cfg_bytes[4] = 2  # a newer version, CRC fixed up
    import struct
    import zlib
    struct.pack_into("<I", cfg_bytes, HEADER_SIZE - 4, zlib.crc32(bytes(cfg_bytes[:HEADER_SIZE - 4])))
    with pytest.raises(UnsupportedVersionError):
        StreamDecoder(bytes(cfg_bytes))
    assert cfg.channels == 8 and cfg.preset == "fast"


def test_incompressible_and_off_map_frames_go_raw_within_the_bound():
    rng = np.random.default_rng(0)
    noise = rng.integers(-32768, 32768, (20 * 6, 5)).astype(np.int16)
    enc, fs, packets = stream(noise, 20, levels=(-32768, 32767))
    dec = StreamDecoder(enc.header())
    assert all(p[0] == RAW and len(p) == PACKET_OVERHEAD + noise[:20].nbytes <= enc.config.max_packet for p in packets)
    for f, p in zip(fs, packets):
        np.testing.assert_array_equal(dec.decode(p), f)

    data = recording(20 * 6, channels=3, seed=2)
    data[45, 1] += 1  # off the ladder: frame 2 goes raw, frame 3 resynchronises
    enc, fs, packets = stream(data, 20)
    assert [p[0] for p in packets[2:4]] == [RAW, SYNC]
    dec = StreamDecoder(enc.header())
    for f, p in zip(fs, packets):
        np.testing.assert_array_equal(dec.decode(p), f)


def test_offset_map_codes_data_off_the_ladder():
    x = (recording(20 * 5, channels=4, seed=8) // 64).astype(np.int16)
    enc, fs, packets = stream(x, 20, levels=(int(x.min()), int(x.max())))
    dec = StreamDecoder(enc.header())
    assert packets[1][0] != RAW and len(packets[1]) < 20 * 4 * 2
    for f, p in zip(fs, packets):
        np.testing.assert_array_equal(dec.decode(p), f)


def test_a_lost_table_waits_for_its_second_copy():
    import struct

    data = recording(20 * 60, channels=4, seed=4)
    enc, fs, packets = stream(data, 20, sync_ms=3.1, refit_ms=40)  # syncs every 3 packets, refits every 39
    syncs = {s: struct.unpack_from("<IB", p, 9) for s, p in enumerate(packets) if p[0] == SYNC}
    order = sorted(syncs)
    # a refit whose table rides on two syncs, followed by a sync naming it without carrying it
    s1 = next(s for s in order if syncs[s] == (s, 1) and s > 20)
    s2, s3 = [x for x in order if x > s1][:2]
    assert syncs[s2] == (s1, 1) and syncs[s3] == (s1, 0)

    def run(drop):
        dec = StreamDecoder(enc.header())
        for s in range(s1):
            dec.decode(packets[s])
        return [dec.receive(packets[s]) for s in range(s1, s3 + 1) if s not in drop]

    got = run(set(range(s1, s2)))
    assert got[0].status == "decoded" and got[0].seq == s2
    got = run(set(range(s1, s2 + 1)))
    assert got[-1].seq == s3 and got[-1].status == "lost" and "table" in got[-1].message


@pytest.mark.parametrize("kwargs", [
    {"channels": 0}, {"channels": 70000}, {"frame_samples": 0}, {"preset": "best"}, {"near": -1},
    {"sync_ms": 0}, {"sync_ms": True}, {"levels": "table"}, {"levels": (5, 5)}, {"order": 33},
    {"channels": 2.5}, {"refit_ms": -1}, {"frame_samples": 4096, "channels": 1024},
])
def test_bad_configurations_raise(kwargs):
    args = {"channels": 4, "sample_rate": 19531, **kwargs}
    with pytest.raises(InvalidConfigError):
        StreamEncoder(**args)


def test_bad_frames_raise():
    enc = StreamEncoder(4, 19531, 20)
    for bad in (np.zeros((20, 3), np.int16), np.zeros((20, 4), np.int32), np.zeros(80, np.int16)):
        with pytest.raises(InvalidConfigError):
            enc.encode(bad)


def test_forged_sound_packets_are_reported_not_decoded():
    """A packet with a valid CRC but impossible contents (a buggy or hostile sender) is lost, not garbage."""
    import struct
    import zlib

    data = recording(20 * 3, channels=3, seed=9)
    enc, fs, packets = stream(data, 20)
    crc = StreamConfig.parse(enc.header()).crc
    rng = np.random.default_rng(1)
    for trial in range(60):
        body = bytearray(packets[trial % 3][:-4])
        for _ in range(3):
            body[int(rng.integers(9, len(body)))] = int(rng.integers(0, 256))
        forged = bytes(body) + struct.pack("<I", zlib.crc32(bytes(body), crc))
        dec = StreamDecoder(enc.header())
        got = dec.receive(forged)
        assert got.status in ("decoded", "lost", "corrupt")
        if got.status == "decoded":
            assert got.samples.shape == fs[0].shape
    with pytest.raises(NeurocodecError):
        StreamDecoder(enc.header()).decode(b"")


@given(channels=st.integers(1, 4), lags=st.integers(1, 5), sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
       seed=st.integers(0, 99))
@SETTINGS
def test_observed_sums_are_the_lagged_sums_of_everything_seen(channels, lags, sizes, seed):
    """The encoder's running sums (every path: first frames, short frames, one or two lags, more) are exact."""
    from neurocodec.stream import _kernels as K

    rng = np.random.default_rng(seed)
    series = rng.integers(0, 1024, (channels, sum(sizes)))
    tail = np.zeros((channels, lags), dtype=np.int64)
    sums = np.zeros((channels, 3, lags + 1), dtype=np.int64)
    pairs = np.zeros(lags + 1, dtype=np.int64)
    seen = 0
    for n in sizes:
        K.observe(np.ascontiguousarray(series[:, seen:seen + n]), tail, seen, sums, pairs)
        seen += n
    for i in range(lags + 1):
        x, y = series[:, i:], series[:, :max(seen - i, 0)]
        assert pairs[i] == x.shape[1]
        np.testing.assert_array_equal(sums[:, 0, i], (x * y).sum(axis=1))
        np.testing.assert_array_equal(sums[:, 1, i], x.sum(axis=1))
        np.testing.assert_array_equal(sums[:, 2, i], y.sum(axis=1))
