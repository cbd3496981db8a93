"""neurocodec.mua on generated data: SCLVs, Huffman kernels, codec round trips and damage, analysis."""

from __future__ import annotations

import json
from fractions import Fraction

import numcodecs
import numpy as np
import pytest
from helpers import assert_bitflips_safe, assert_roundtrip, assert_truncation_raises
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocodec.entropy import huffman, varint
from neurocodec.errors import (
    CorruptStreamError,
    InvalidConfigError,
    NeurocodecError,
    TruncatedStreamError,
    UnsupportedVersionError,
)
from neurocodec.mua import (
    BitTrueModel,
    MUACodec,
    bin_raster,
    bin_spike_times,
    bin_waveforms,
    channel_capacity,
    configurations,
    decode_behaviour,
    estimation_sort,
    evaluate,
    load_encoders,
    pack_words,
    power_uw_per_channel,
    rebin,
    render_verilog,
    save_encoders,
    sclvs,
    train_encoders,
)
from neurocodec.mua.codec import calibrate, huffman_stream, saturate
from neurocodec.mua.sclv import missing_paper_sclvs, rank_table


def poisson_counts(bins=400, channels=12, seed=0, S=None):
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.05, 4.0, size=channels)
    x = rng.poisson(rates, size=(bins, channels))
    return x if S is None else np.minimum(x, S - 1)


# ------------------------------------------------------------------------------------------ SCLVs

PAPER_COUNTS = {2: 1, 3: 1, 4: 2, 5: 3, 6: 5, 7: 9, 8: 15, 9: 23, 10: 35}
COMPLETE_COUNTS = {2: 1, 3: 1, 4: 2, 5: 3, 6: 5, 7: 9, 8: 16, 9: 28, 10: 50}


@pytest.mark.parametrize("S", range(2, 11))
def test_sclv_counts_and_kraft(S):
    paper, full = sclvs(S), sclvs(S, complete=True)
    assert len(paper) == PAPER_COUNTS[S] and len(full) == COMPLETE_COUNTS[S]
    for v in np.concatenate([paper, full]):
        assert huffman.kraft_sum(v) == Fraction(1)
        assert np.all(np.diff(v) >= 0) and v.shape == (S,)
    as_set = {tuple(v) for v in full.tolist()}
    assert {tuple(v) for v in paper.tolist()} <= as_set and len(as_set) == len(full)
    # the paper's lists are complete up to S = 7 and miss some vectors beyond
    assert len(missing_paper_sclvs(S)) == COMPLETE_COUNTS[S] - PAPER_COUNTS[S]


def test_sclv_bad_S():
    for bad in (1, 17, 2.5, True, "3"):
        with pytest.raises(InvalidConfigError):
            sclvs(bad)
    with pytest.raises(InvalidConfigError):
        sclvs(12)  # beyond the paper's table
    assert len(sclvs(12, complete=True)) == 159  # OEIS A002572


def test_estimation_sort_matches_paper_examples():
    # peak first, then the left neighbour, the right one, alternately; the rest serially
    assert estimation_sort([1, 5, 3, 2, 0]).tolist() == [1, 0, 2, 3, 4]
    assert estimation_sort([0, 1, 2, 9, 3]).tolist() == [3, 2, 4, 1, 0]
    assert estimation_sort([9, 1, 0]).tolist() == [0, 1, 2]
    assert estimation_sort([0, 1, 9]).tolist() == [2, 1, 0]
    assert estimation_sort([2, 7, 7, 1]).tolist() == [1, 0, 2, 3]  # first maximum wins
    for S in range(2, 12):
        table = rank_table(S)
        for p in range(S):
            assert sorted(table[p].tolist()) == list(range(S)) and table[p, p] == 0


# ------------------------------------------------------------------------------------------ Huffman


@given(st.lists(st.integers(1, 12), min_size=1, max_size=20).filter(lambda ls: huffman.kraft_sum(ls) <= 1),
       st.data())
@settings(max_examples=60, deadline=None)
def test_canonical_huffman_roundtrip(lengths, data):
    n = len(lengths)
    syms = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=200)), dtype=np.int64)
    payload, nbits = huffman.encode(syms, lengths)
    assert nbits == sum(lengths[s] for s in syms)
    codes = huffman.canonical_codes(lengths)
    # prefix-free: no code is a prefix of another
    words = [format(int(c), f"0{lengths[i]}b") for i, c in enumerate(codes)]
    assert not any(a != b and b.startswith(a) for a in words for b in words)
    assert np.array_equal(huffman.decode(payload, syms.size, lengths), syms)
    if nbits % 8 == 0 and syms.size:  # no padding: one symbol more must run off the end
        with pytest.raises((TruncatedStreamError, CorruptStreamError)):
            huffman.decode(payload, syms.size + 1, lengths)


def test_huffman_rejects_bad_lengths():
    for bad in ([1, 1, 1], [0, 1], [], [40, 1]):
        with pytest.raises(InvalidConfigError):
            huffman.canonical_codes(bad)
    # lengths [1, 2] leave "11" unused: an incomplete code rejects it
    with pytest.raises(CorruptStreamError):
        huffman.decode(bytes([0xC0]), 1, [1, 2])
    with pytest.raises(TruncatedStreamError):
        huffman.decode(b"", 1, [1, 1])


# ------------------------------------------------------------------------------------------ codec


def test_codec_registered_and_configurable():
    codec = numcodecs.get_codec({"id": "neurocodec.mua", "S": 5, "encoders": [[1, 2, 3, 4, 4], [2, 2, 2, 3, 3]]})
    assert isinstance(codec, MUACodec) and codec.get_config()["encoders"][1] == [2, 2, 2, 3, 3]
    assert json.loads(json.dumps(MUACodec().get_config()))["S"] == 3
    for bad in (dict(S=1), dict(encoders=[[1, 1, 2]]), dict(encoders=[[2, 1, 2]]), dict(hist_samples=0),
                dict(coder="zstd"), dict(bin_ms=0), dict(S=4, encoders=[[1, 2, 2]])):
        with pytest.raises(InvalidConfigError):
            MUACodec(**bad)


@pytest.mark.parametrize("kw", [dict(), dict(sort=False), dict(S=2), dict(S=9, hist_samples=16),
                                dict(S=5, encoders=sclvs(5).tolist()), dict(coder="arithmetic"),
                                dict(S=16, coder="arithmetic")])
def test_codec_roundtrip_helpers(kw):
    codec = MUACodec(**kw)
    counts = poisson_counts(S=codec.S).astype(np.int32)
    assert_roundtrip(codec, counts)


def test_codec_saturates_and_keeps_dtype():
    x = poisson_counts(bins=200, channels=5).astype(np.uint16) * 3
    codec = MUACodec(S=4)
    out = codec.decode(codec.encode(x))
    assert out.dtype == np.uint16 and np.array_equal(out, np.minimum(x, 3))
    with pytest.raises(InvalidConfigError):
        codec.encode(x.astype(np.float32))
    with pytest.raises(InvalidConfigError):
        codec.encode(-np.ones((3, 2), np.int8))
    with pytest.raises(InvalidConfigError):
        codec.encode(np.zeros(5, np.int8))


@given(bins=st.integers(0, 90), channels=st.integers(1, 9), S=st.integers(2, 16), hist=st.integers(1, 40),
       sort=st.booleans(), coder=st.sampled_from(["huffman", "arithmetic"]), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["u1", "<i2", "<i8", "<u4"]))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_codec_roundtrip_hypothesis(bins, channels, S, hist, sort, coder, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.uniform(0, S, channels), size=(bins, channels)).astype(dtype)
    encoders = sclvs(S, complete=True)[:3].tolist()
    codec = MUACodec(S=S, encoders=encoders, hist_samples=hist, sort=sort, coder=coder)
    out = codec.decode(codec.encode(x))
    assert out.dtype == x.dtype and out.shape == x.shape
    assert np.array_equal(out, np.minimum(x, S - 1))


@pytest.mark.parametrize("shape", [(0, 4), (1, 1), (1, 5), (7, 1), (0, 0), (3, 0)])
@pytest.mark.parametrize("coder", ["huffman", "arithmetic"])
def test_codec_edge_shapes(shape, coder):
    codec = MUACodec(coder=coder)
    x = np.ones(shape, dtype=np.int64)
    out = codec.decode(codec.encode(x))
    assert out.shape == shape and np.array_equal(out, x)


def test_arithmetic_long_silence():
    # an adaptive coder packs a silent recording into a few bytes; the size checks must allow it
    codec = MUACodec(coder="arithmetic")
    x = np.zeros((300_000, 2), np.uint8)
    payload = codec.encode(x)
    assert len(payload) < 64 and np.array_equal(codec.decode(payload), x)
    wide = np.zeros((1, 5000), np.uint8)  # each channel's first count costs a full bit
    assert np.array_equal(codec.decode(codec.encode(wide)), wide)


@pytest.mark.parametrize("coder", ["huffman", "arithmetic"])
def test_codec_truncation_and_bitflips(coder):
    codec = MUACodec(S=5, encoders=sclvs(5).tolist(), hist_samples=8, coder=coder)
    payload = codec.encode(poisson_counts(bins=120, channels=6, S=5))
    assert_truncation_raises(payload, codec.decode)
    assert_bitflips_safe(payload, codec.decode, n_flips=300)
    with pytest.raises(CorruptStreamError):
        codec.decode(payload + b"\x00")


def test_codec_rejects_forged_headers():
    codec = MUACodec()
    payload = bytearray(codec.encode(poisson_counts(bins=50, channels=3, S=3)))
    with pytest.raises(UnsupportedVersionError):
        codec.decode(bytes([9]) + bytes(payload[1:]))
    with pytest.raises(CorruptStreamError):
        codec.decode(bytes(payload[:1]) + bytes([7]) + bytes(payload[2:]))
    # a header claiming a huge shape must fail before allocating
    dlen = payload[2]
    forged = bytes(payload[:3 + dlen]) + bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0x3F, 3])
    with pytest.raises(NeurocodecError):
        codec.decode(forged + bytes(payload[3 + dlen + 3:]))
    # an empty array of enormous length decodes at once, without allocating or looping
    head = bytes([1, 0, 3]) + b"<i8" + varint.encode([1 << 47, 0, 3, 64]) + bytes([1, 1, 1, 2, 2])
    assert codec.decode(head).shape == (1 << 47, 0)
    assert MUACodec(coder="arithmetic").decode(bytes([1, 1, 3]) + b"<i8" + varint.encode([0, 1 << 47, 3])
                                               + bytes(4)).shape == (0, 1 << 47)
    with pytest.raises(CorruptStreamError):
        codec.decode(bytes([1, 0, 3]) + b"<i8" + varint.encode([1 << 48, 0, 3, 64]) + bytes([1, 1, 1, 2, 2]))
    arith = MUACodec(coder="arithmetic")
    body = arith.encode(np.zeros((4, 2), np.int64))
    with pytest.raises(NeurocodecError):
        arith.decode(body[:3 + body[2]] + bytes([0xFF, 0xFF, 0xFF, 0x7F, 0x40, 3]) + body[-4:])


def test_stream_matches_code_lengths():
    # evaluate() counts bits from code lengths; they must equal the coded stream
    x = poisson_counts(bins=300, channels=10, S=4)
    enc = sclvs(4)
    cal = calibrate(x, enc, 32, True)
    _, nbits = huffman_stream(x, enc, cal, 4)
    lengths = enc[cal.encoder[:, None], cal.ranks(4)]
    expected = 2 * 32 * 10 + np.take_along_axis(lengths, x[32:].T, axis=1).sum()
    assert nbits == expected


# ------------------------------------------------------------------------------------------ binning


def test_binning_paths_agree():
    rng = np.random.default_rng(3)
    raster = rng.random((1000, 4)) < 0.05  # 1 ms detections
    counts = bin_raster(raster, bin_ms=50)
    assert counts.shape == (20, 4) and counts.sum() == raster.sum()
    times = [np.flatnonzero(raster[:, c]) / 1000.0 + 0.0005 for c in range(4)]
    assert np.array_equal(bin_spike_times(times, 50, duration_s=1.0), counts)
    assert np.array_equal(rebin(counts, 2), bin_raster(raster, bin_ms=100))
    with pytest.raises(InvalidConfigError):
        bin_raster(raster, bin_ms=2.5)
    with pytest.raises(InvalidConfigError):
        bin_raster(raster.astype(float), 50)


def test_bin_waveforms_finds_spikes():
    fs = 20000
    rng = np.random.default_rng(4)
    x = rng.normal(0, 10, size=(fs, 2))
    spike_at = np.arange(1000, fs - 100, 2000)  # 10 biphasic 1.2 ms spikes on channel 0 only
    shape = -np.sin(np.linspace(0, 2 * np.pi, 24)) * np.hanning(24) * 150
    for t in spike_at:
        x[t:t + 24, 0] += shape
    counts = bin_waveforms(x, fs, bin_ms=100)
    assert counts.shape == (10, 2)
    assert abs(int(counts[:, 0].sum()) - len(spike_at)) <= 2 and counts[:, 1].sum() <= 3


# ------------------------------------------------------------------------------------------ analysis


def test_evaluate_fields_and_bounds():
    x = poisson_counts(bins=600, channels=20, seed=5)
    r = evaluate(x, bin_ms=50, S=3)
    for key in ("bits_per_second_per_channel", "power_uw_per_channel", "compression_ratio_vs_binning",
                "entropy_bound_bits_per_second_per_channel", "arithmetic_bits_per_second_per_channel"):
        assert np.isfinite(r[key])
    assert r["just_binning_bits_per_second_per_channel"] == 40.0
    assert 20.0 <= r["bits_per_second_per_channel"] <= 40.0  # at least 1 bit per bin with S = 3
    assert r["entropy_bound_bits_per_second_per_channel"] <= r["bits_per_second_per_channel"]
    assert r["power_uw_per_channel"] == pytest.approx(0.96 + 0.02 * r["bits_per_second_per_channel"])
    conf = configurations(x, S=3)
    assert conf["full"] == r["bits_per_second_per_channel"] and conf["just_binning"] == 40.0
    with pytest.raises(InvalidConfigError):
        evaluate(x[:10], hist_samples=64)  # nothing left after calibration


def test_training_elimination():
    x = poisson_counts(bins=500, channels=30, seed=6)
    result = train_encoders(x, S=6, n_splits=3, seed=1)
    assert sorted(result.sets) == list(range(1, 6)) and set(result.validation) == set(result.sets)
    assert all(len(v) == 3 for v in result.validation.values())
    for split in range(3):  # the objective can only get worse as encoders are removed
        rates = [result.training[n][split] for n in sorted(result.sets)]
        assert all(a >= b - 1e-12 for a, b in zip(rates, rates[1:]))
    for n in result.sets:  # nested sets, best single encoder kept first
        assert result.encoders(n)[0] == result.encoders(1)[0]


def test_encoder_json_roundtrip(tmp_path):
    path = tmp_path / "enc.json"
    save_encoders(path, [[1, 2, 2]], S=3, bin_ms=50, hist_samples=64)
    doc = load_encoders(path)
    assert doc["encoders"] == [[1, 2, 2]] and doc["S"] == 3
    path.write_text('{"format": "neurocodec.mua.encoders/1", "S": 3, "encoders": [[1, 1, 2]]}')
    with pytest.raises(InvalidConfigError):
        load_encoders(path)


def test_power_and_capacity():
    assert power_uw_per_channel(25.0) == pytest.approx(1.46)
    powers = np.full(50, 1.5)
    # constant power: (625 - 162) / 1.5 = 308.67 channels
    assert channel_capacity(powers, draws=200) == 308
    rng = np.random.default_rng(0)
    spread = rng.uniform(1.0, 2.0, 100)
    strict = channel_capacity(spread, p=0.01, draws=2000)
    loose = channel_capacity(spread, p=0.5, draws=2000)
    assert strict <= loose and 231 <= strict <= 463
    assert channel_capacity(bits_per_second=np.full(50, 27.0), draws=200) == 308  # 0.96 + 27 * 0.02 = 1.5
    with pytest.raises(InvalidConfigError):
        channel_capacity([], draws=10)
    with pytest.raises(InvalidConfigError):
        channel_capacity()


def test_decode_behaviour_on_synthetic_tuning():
    rng = np.random.default_rng(7)
    n = 3000
    t = np.arange(n) * 0.05
    vel = np.stack([np.sin(t * 0.7), np.cos(t * 0.45)], axis=1)
    gains = rng.normal(size=(2, 40))
    counts = rng.poisson(np.exp(0.3 + 0.6 * vel @ gains))
    r = decode_behaviour(counts, vel, bins_before=2, bins_after=0, folds=5)
    assert r["bdp"] > 0.8 and len(r["r_per_output"]) == 2
    assert decode_behaviour(counts, vel, S=2, bins_before=2, bins_after=0, folds=5)["bdp"] < r["bdp"]
    with pytest.raises(InvalidConfigError):
        decode_behaviour(counts, vel[:-1])


# ------------------------------------------------------------------------------------------ RTL


def test_bit_true_model_matches_codec_stream():
    rng = np.random.default_rng(8)
    raster = (rng.random((200, 7)) < 0.15).astype(np.int64)
    for S, bp, hist, enc, sort in [(3, 5, 4, [[1, 2, 2]], True), (5, 4, 6, sclvs(5).tolist(), True),
                                   (4, 2, 9, sclvs(4).tolist(), False), (3, 1, 300, [[1, 2, 2]], True)]:
        words = BitTrueModel(enc, S, hist, bp, 7, sort).run(raster.ravel())
        sat = saturate(bin_raster(raster, bp), S)
        e = np.array(enc)
        assert pack_words(words) == huffman_stream(sat, e, calibrate(sat, e, hist, sort), S)


def test_render_verilog_is_generated_from_tables():
    src = render_verilog(sclvs(5).tolist(), 5, hist_samples=16, bin_ms=20, n_channels=32)
    assert "module mua_sclv_encoder" in src and "parameter N_CH  = 32" in src
    assert "// Generated by neurocodec.mua.rtl.render_verilog" in src
    assert src.count("len_of = ") == 3 * 5 + 1 and "endmodule" in src
    with pytest.raises(InvalidConfigError):
        render_verilog([[1, 2, 2]], 3, module_name="bad name")
