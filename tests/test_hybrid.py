"""The hybrid lossy codec: shapes, stated bounds, rate control, events, framings and hostile input."""

import json

import numcodecs
import numpy as np
import pytest
from helpers import (
    assert_bitflips_safe,
    assert_truncation_raises,
    int16_fixtures,
    shared_data,
    zarr_v2_array,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

import neurocodec
from neurocodec import container, fidelity
from neurocodec.errors import CorruptStreamError, InvalidConfigError, NeurocodecError, UnsupportedVersionError
from neurocodec.hybrid import HybridCodec, describe, events
from neurocodec.hybrid import _kernels as K
from neurocodec.hybrid import detect
from neurocodec.hybrid.codec import (
    FRAMING_RESERVE,
    LADDER,
    FORMAT_VERSION,
    MAX_WINDOW,
    RATE_CONTROL_SHAPING,
    RATE_CONTROL_STEERING,
    REFINE_BACKGROUNDS,
    REFINE_NEARS,
    REFINE_WINDOW_MS,
    REFINE_WINDOWS,
    describe_payload,
    refine_taper_near,
)
from neurocodec.synthetic import recording
from neurocodec.waveform.levels import LADDER_INDEX, LADDER_VALUES, choose_mapping

RATE = 19531


def _core_error(x, y, troughs, before, after):
    """Largest error in levels over the full-weight part of every snippet window."""
    two_x = x if x.ndim == 2 else x[:, None]
    two_y = y if y.ndim == 2 else y[:, None]
    mapping, lx = choose_mapping(two_x)
    ly = mapping.to_levels(two_y)
    worst = 0
    for c, tr in enumerate(troughs):
        for s in tr:
            lo, hi = max(0, s - before), min(two_x.shape[0], s + after)
            if hi > lo:
                worst = max(worst, int(np.abs(lx[lo:hi, c] - ly[lo:hi, c]).max()))
    return worst


def _troughs(payload):
    _, (troughs, _) = HybridCodec()._decode(payload)
    return troughs


@pytest.mark.parametrize("name,x", list(int16_fixtures().items()))
def test_every_fixture_decodes_to_its_shape_and_dtype(name, x):
    for codec in (HybridCodec(), HybridCodec(snippet_near=2), HybridCodec(events_only=True)):
        payload = codec.encode(x)
        y = codec.decode(payload)
        assert y.shape == x.shape and y.dtype == x.dtype, name
        if x.size and (x == x.flat[0]).all():
            np.testing.assert_array_equal(y, x)  # one level: nothing to lose


@pytest.mark.parametrize("near", [0, 1, 3, 7])
def test_snippets_keep_their_bound(near):
    x = recording(30000, channels=3, seed=5)
    codec = HybridCodec(snippet_near=near)
    payload = codec.encode(x)
    troughs = _troughs(payload)
    assert sum(len(t) for t in troughs) > 10, "the fixture must hold spikes"
    assert _core_error(x, codec.decode(payload), troughs, codec.snippet_before, codec.snippet_after) <= near


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 6), st.integers(1, 64), st.integers(0, 4), st.integers(0, 2**31 - 1),
       st.sampled_from([(False, False), (True, False), (True, True)]))
def test_bound_holds_for_any_setting(near, factor, bnear, seed, shaping):
    rng = np.random.default_rng(seed)
    x = (rng.normal(0, 40, 3000).cumsum() % 2000 + rng.normal(0, 30, 3000)).astype(np.int16)
    x[rng.integers(0, 3000, 12)] -= 900
    shaped, steered = shaping
    codec = HybridCodec(snippet_near=near, background_factor=factor, background_near=bnear, noise_shaping=shaped,
                        steer_troughs=steered)
    payload = codec.encode(x)
    y = codec.decode(payload)
    assert y.shape == x.shape
    stated = describe_payload(payload)["snippet_max_abs_error"]
    assert stated == (K.shaped_bound(near) if shaped else near)
    assert _core_error(x, y, _troughs(payload), codec.snippet_before, codec.snippet_after) <= stated
    assert payload[0] == (2 if shaped and near else 1)  # unshaped payloads keep version 1's bytes


@pytest.mark.parametrize("near", [1, 3])
def test_steering_keeps_the_troughs_depth(near):
    """Steered shaped snippets decode with the same format and bounds as unsteered ones, and the troughs near the
    threshold (where a detection is in doubt) come back closer to their band-passed depth."""
    x = recording(60000, channels=2, seed=11, spike_prob=0.01)
    plain = HybridCodec(snippet_near=near, noise_shaping=True, background_factor=64, background_near=4)
    steered = numcodecs.get_codec(dict(plain.get_config(), steer_troughs=True))
    a, b = plain.encode(x), steered.encode(x)
    assert a != b and a[0] == b[0] == 2
    assert describe_payload(a) == describe_payload(b)
    mapping, lx = choose_mapping(x)
    filtered = detect.bandpass(lx.astype(float), RATE)
    sigma = detect.noise_sigma(filtered)
    errors = []
    for payload in (a, b):
        troughs = _troughs(payload)
        y = HybridCodec().decode(payload)
        assert _core_error(x, y, troughs, plain.snippet_before, plain.snippet_after) <= K.shaped_bound(near)
        err = detect.bandpass((mapping.to_levels(y) - lx).astype(float), RATE)
        in_doubt = [tr[filtered[tr, c] > -5.0 * sigma[c]] for c, tr in enumerate(troughs)]
        errors.append(np.concatenate([err[tr, c] / sigma[c] for c, tr in enumerate(in_doubt)]))
    assert errors[0].size > 50, "the fixture must hold spikes near the threshold"
    assert np.abs(errors[1]).mean() < 0.8 * np.abs(errors[0]).mean()
    with pytest.raises(InvalidConfigError, match="noise_shaping"):
        HybridCodec(snippet_near=near, steer_troughs=True)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_steer_kernel_moves_within_the_bound_and_only_helps(near, seed):
    """The kernel's contract: only shaped samples move, by whole steps, within the bound, the reconstruction
    stays background + value * step, and each (isolated) trough's band-passed error ends no larger than it began."""
    rng = np.random.default_rng(seed)
    half, reach = 64, 4
    troughs = (np.arange(12) * (2 * half + 2 * reach + 8) + half + reach + rng.integers(0, 8, 12)).astype(np.int64)
    n, step, bound, top = int(troughs[-1]) + half + reach + 1, 2 * near + 1, K.shaped_bound(near), 1023
    levels = rng.integers(100, 900, n).astype(np.int64)
    background = np.clip(levels + rng.integers(-30, 31, n), 0, top).astype(np.int64)
    values = K.quantise_shaped(levels - background, np.arange(n), near)
    qindex = np.where(rng.random(n) < 0.8, np.arange(n), -1).astype(np.int64)
    recon = np.where(qindex >= 0, background + values * step, background).astype(np.int64)
    response = detect.spike_band_response(RATE, half)

    def trough_errors(r):
        return np.array([abs(sum(response[s - u + half] * (r[u] - levels[u]) for u in range(s - half, s + half + 1)))
                         for s in troughs])

    v, r = values.copy(), recon.copy()
    K.steer_troughs(levels, r, background, qindex, v, troughs, np.zeros(troughs.size), response, step, bound, top,
                    reach)
    moved = r != recon
    assert not moved[qindex < 0].any()
    assert (np.abs(r - levels)[moved] <= bound).all()
    shaped = qindex >= 0
    assert (r[shaped] == background[shaped] + v[shaped] * step).all()
    assert np.abs(v - values).max() <= K.MAX_STEERS
    before, after = trough_errors(recon), trough_errors(r)
    assert (after <= before + 1e-9).all()
    assert moved.any() == (after < before - 1e-9).any()


def test_troughs_are_the_detectors_and_lossless():
    x = recording(40000, channels=2, seed=6)
    data = neurocodec.compress(x, codec="hybrid", snippet_near=3)
    ev = events(data)
    from neurocodec.hybrid import detect

    mapping, levels = choose_mapping(x)
    found = detect.detect(levels, RATE, 4.5)
    expected = sorted((int(s), c) for c, tr in enumerate(found) for s in tr)
    assert list(zip(ev.sample.tolist(), ev.channel.tolist())) == expected
    assert len(ev) == len(expected) > 0
    assert (ev.amplitude < 0).mean() > 0.9  # troughs lie below the background


def test_events_only_is_small_and_gives_events():
    x = recording(60000, channels=4, seed=7)
    data = neurocodec.compress(x, codec="hybrid", events_only=True)
    assert x.nbytes / len(data) > 100
    ev = events(data)
    assert len(ev) > 0 and (ev.amplitude < 0).all()  # troughs are negative
    y = neurocodec.decompress(data)
    assert y.shape == x.shape
    # the drawn spikes are found again where the events are
    f = fidelity.compare(x, y, RATE)
    assert f["recall"] > 0.8, f


def _rung_codec(rung, **extra):
    before, after, taper, near, taper_near, factor, bnear = rung
    return HybridCodec(snippet_before=before, snippet_after=after, taper=taper, snippet_near=near,
                       taper_near=taper_near, background_factor=factor, background_near=bnear, **extra)


def _rate_codec(rung):
    """The fixed-parameter codec that encodes a setting as rate control does (shaped and steered wherever it
    quantises)."""
    shaped = RATE_CONTROL_SHAPING and rung[3] > 0
    return _rung_codec(rung, noise_shaping=shaped, steer_troughs=shaped and RATE_CONTROL_STEERING)


def _spike_error(codec, x, payload):
    """Spike-band error energy of the payload's reconstruction at its troughs, over the metric's window."""
    two_x = x if x.ndim == 2 else x[:, None]
    mapping, lx = choose_mapping(two_x)
    y = codec.decode(payload)
    err = detect.bandpass(mapping.to_levels(y if y.ndim == 2 else y[:, None]) - lx, codec.sample_rate)
    before, after = (round(ms * 1e-3 * codec.sample_rate) for ms in REFINE_WINDOW_MS)
    return sum(K.window_energy(err, c, tr, before, after) for c, tr in enumerate(_troughs(payload)))


def _bisect(ladder, fits):
    """The rung rate control's bisection lands on: the coarsest when it does not fit, else the first
    fitting rung of a ladder whose payloads shrink (on a ladder that does not, a fitting rung whose
    predecessor does not fit)."""
    lo, hi = 0, len(ladder) - 1
    if not fits(ladder[hi]):
        return hi
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(ladder[mid]) else (mid + 1, hi)
    assert hi == 0 or not fits(ladder[hi - 1])
    return hi


@settings(max_examples=12, deadline=None)
@given(target=st.floats(4, 400), channels=st.integers(1, 3), seed=st.integers(0, 2**16),
       bits=st.booleans(), spikes=st.sampled_from([0.002, 0.015]))
def test_rate_control_takes_the_most_faithful_rung_that_fits(target, channels, seed, bits, spikes):
    """The payload fits the budget; it is the encode of the most faithful ladder rung that fits or,
    when that rung quantises the snippets, of a refinement candidate with less spike-band error."""
    x = recording(12000, channels=channels, seed=seed, spike_prob=spikes)
    config = dict(target_bits_per_sample=16 / target) if bits else dict(target_ratio=target)
    codec = HybridCodec(**config)
    payload = codec.encode(x)
    budget = 2 * x.size / target - FRAMING_RESERVE
    d = describe_payload(payload)
    setting = (*d["snippet_samples"], d["snippet_near"], d["taper_near"], d["background_factor"],
               d["background_near"])
    assert _rate_codec(setting).encode(x) == payload
    ladder = codec.rungs()
    pick = _bisect(ladder, lambda r: len(_rate_codec(r).encode(x)) <= budget)
    if setting != ladder[pick]:
        # a refinement: the ladder's rung quantised the snippets, and this candidate is no worse
        assert ladder[pick][3] > 0 and len(payload) <= budget
        assert tuple(setting[:3]) in [tuple(w) for w in codec._scaled(REFINE_WINDOWS)]
        assert setting[5:] in REFINE_BACKGROUNDS and setting[3] in REFINE_NEARS
        assert setting[4] == refine_taper_near(setting[3])
        assert _spike_error(codec, x, payload) <= _spike_error(codec, x, _rate_codec(ladder[pick]).encode(x))
    elif len(payload) > budget:  # only the coarsest rung may miss a budget
        assert pick == len(ladder) - 1
    # the bound the payload states holds
    y = codec.decode(payload)
    assert d["noise_shaping"] == (RATE_CONTROL_SHAPING and setting[3] > 0)
    assert _core_error(x, y, _troughs(payload), setting[0], setting[1]) <= d["snippet_max_abs_error"]


def test_rate_control_refines_a_busy_block():
    """A block too busy for exact snippets at its target, with LFP between the background's cutoff and the
    spike band, gets a short window on a fine background: less spike-band error than the ladder's rung."""
    x = recording(40000, seed=3, spike_prob=0.02)
    lfp = signal.sosfilt(signal.butter(2, [40, 250], "band", fs=RATE, output="sos"),
                         np.random.default_rng(0).normal(0, 1, x.size))
    levels = LADDER_INDEX[x.astype(np.int64) + 32768] + np.round(30 * lfp / lfp.std()).astype(np.int64)
    x = LADDER_VALUES[np.clip(levels, 0, LADDER_VALUES.size - 1)].astype(np.int16)
    codec = HybridCodec(target_ratio=40)
    payload = codec.encode(x)
    d = describe_payload(payload)
    assert (d["background_factor"], d["background_near"]) in REFINE_BACKGROUNDS
    assert tuple(d["snippet_samples"]) in [tuple(w) for w in codec._scaled(REFINE_WINDOWS)]
    budget = 2 * x.size / 40 - FRAMING_RESERVE
    assert len(payload) <= budget
    ladder = codec.rungs()
    pick = ladder[_bisect(ladder, lambda r: len(_rate_codec(r).encode(x)) <= budget)]
    assert pick[3] > 0
    assert _spike_error(codec, x, payload) < _spike_error(codec, x, _rate_codec(pick).encode(x))


@pytest.mark.parametrize(("last", "fits"), [((20, 30, 8, 16, 16, 4, 0), True), ((36, 54, 40, 1, 2, 4, 0), False)],
                         ids=["coarse-snippets", "faithful"])
def test_a_block_no_rung_brings_to_its_budget(monkeypatch, last, fits):
    """When not even the ladder's last rung fits, a refinement candidate that fits takes its place only if
    it is no less faithful at the troughs: a busy block meets its target without trading spikes away."""
    x = recording(40000, seed=3, spike_prob=0.02)
    codec = HybridCodec(target_ratio=12)
    monkeypatch.setattr(codec, "rungs", lambda: [last])
    budget = 2 * x.size / 12 - FRAMING_RESERVE
    rung_payload = _rate_codec(last).encode(x)
    assert len(rung_payload) > budget  # the premise: the ladder cannot reach the target
    payload = codec.encode(x)
    if fits:
        assert len(payload) <= budget
        assert _spike_error(codec, x, payload) <= _spike_error(codec, x, rung_payload)
    else:
        assert payload == rung_payload


@pytest.mark.parametrize("target", [8, 24, 60])
def test_rate_control_meets_the_target(target):
    x = recording(40000, channels=2, seed=8)
    data = neurocodec.compress(x, codec="hybrid", target_ratio=target)
    assert x.nbytes / len(data) >= target  # the whole container stream, thanks to FRAMING_RESERVE
    bps = HybridCodec(target_bits_per_sample=16 / target).encode(x)
    assert 8 * len(bps) / x.size <= 16 / target


def test_ladder_is_ordered_and_scales_with_the_rate():
    assert len(set(LADDER)) == len(LADDER)
    x = recording(20000, channels=2, seed=5)
    sizes = [len(_rung_codec(r).encode(x)) for r in (LADDER[0], LADDER[len(LADDER) // 2], LADDER[-1])]
    assert sizes[0] > sizes[1] > sizes[2]
    for rung in LADDER:
        assert rung[4] >= rung[3]  # a fixed-parameter codec reproduces every rung (taper_near >= snippet_near)
    assert HybridCodec().rungs() == [tuple(r) for r in LADDER]
    doubled = HybridCodec(sample_rate=2 * RATE).rungs()
    assert [r[:3] for r in doubled] == [(2 * r[0], 2 * r[1], 2 * r[2]) for r in LADDER]
    assert [r[3:] for r in doubled] == [tuple(r[3:]) for r in LADDER]
    assert max(max(r[:3]) for r in HybridCodec(sample_rate=1 << 24).rungs()) == MAX_WINDOW
    assert min(r[1] for r in HybridCodec(sample_rate=1000).rungs()) >= 1
    # a fast rate widens the windows, and the payload still decodes
    x = recording(30000, channels=2, seed=6)
    codec = HybridCodec(sample_rate=8 * RATE, target_ratio=20)
    payload = codec.encode(x)
    assert codec.decode(payload).shape == x.shape
    assert describe_payload(payload)["snippet_samples"] in [list(r[:3]) for r in codec.rungs()]


def test_higher_targets_cost_fidelity_not_correctness():
    x = recording(40000, channels=2, seed=9)
    sizes, snrs = [], []
    for target in (10, 40, 160):
        data = neurocodec.compress(x, codec="hybrid", target_ratio=target)
        f = fidelity.compare(x, neurocodec.decompress(data), RATE)
        sizes.append(len(data))
        snrs.append(f["spike_snr_db"])
    assert sizes[0] > sizes[1] > sizes[2]
    assert snrs[0] >= snrs[2]


def test_api_container_and_config_round_trip():
    x = recording(20000, channels=2, seed=10)
    data = neurocodec.compress(x, codec="hybrid", target_ratio=24)
    y = neurocodec.decompress(data)
    assert y.shape == x.shape and y.dtype == x.dtype
    info = neurocodec.inspect(data)
    assert info["codec_id"] == "neurocodec.hybrid" and info["config"] == {"target_ratio": 24.0}
    codec = HybridCodec(snippet_near=2, events_only=False, threshold=5.0)
    clone = numcodecs.get_codec(json.loads(json.dumps(codec.get_config())))
    assert isinstance(clone, HybridCodec) and clone.get_config() == codec.get_config()
    payload = codec.encode(x)
    np.testing.assert_array_equal(clone.decode(payload), codec.decode(payload))
    out = np.empty_like(x)
    codec.decode(payload, out=out)
    np.testing.assert_array_equal(out, codec.decode(payload))


def test_lossy_is_never_silent():
    x = recording(20000, seed=11)
    for config, mode in ((dict(snippet_near=2), "hybrid"), (dict(events_only=True), "events_only")):
        data = neurocodec.compress(x, codec="hybrid", **config)
        d = describe(data)
        assert d["lossy"] is True and d["blocks"][0]["mode"] == mode
        assert "bounds" in d["blocks"][0]
    for config, word in ((dict(), "+-0 levels"), (dict(target_ratio=30), "ratio 30"), (dict(events_only=True), "events")):
        info = neurocodec.inspect(neurocodec.compress(x, codec="hybrid", **config))
        assert word in info["lossy"]["description"]
    d = describe_payload(HybridCodec(snippet_near=2, background_near=3).encode(x))
    assert (d["snippet_near"], d["background_near"]) == (2, 3) and "+-2 levels" in d["bounds"]


def test_cli_inspect_states_each_blocks_bounds(tmp_path, capsys):
    """A rate-controlled stream's bounds are per block: `inspect` prints each block's, shaped or not."""
    from neurocodec.cli import main

    x = recording(40000, channels=2, seed=3, spike_prob=0.02)
    path = tmp_path / "h.ncdc"
    path.write_bytes(neurocodec.compress(x, codec="hybrid", target_ratio=40, block_rows=20000))
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    stated = [b["bounds"] for b in describe(path.read_bytes())["blocks"]]
    assert len(stated) == 2 and all(f"LOSSY: {b}" in out for b in stated)
    assert main(["inspect", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["block_bounds"] == stated


def test_zarr_format_2_chunks():
    x = recording(6000, channels=4, seed=12)
    codec = HybridCodec(snippet_near=1)
    array = zarr_v2_array(None, shape=x.shape, chunks=(2000, 2), dtype=x.dtype, compressor=codec)
    array[:] = x
    expected = np.concatenate([np.concatenate([codec.decode(codec.encode(x[t:t + 2000, c:c + 2]))
                                               for c in (0, 2)], axis=1) for t in (0, 2000, 4000)])
    np.testing.assert_array_equal(array[:], expected)


def test_bad_config_is_typed():
    for bad in (dict(threshold=0), dict(snippet_near=-1), dict(background_factor=0), dict(target_ratio=-3),
                dict(target_ratio=10, target_bits_per_sample=1), dict(events_only="yes"), dict(preset="best"),
                dict(snippet_after=0), dict(sample_rate=True)):
        with pytest.raises(InvalidConfigError):
            HybridCodec(**bad)
    with pytest.raises(InvalidConfigError):
        neurocodec.compress(np.zeros((10, 2, 2), np.int16), codec="hybrid")
    with pytest.raises(InvalidConfigError):
        HybridCodec().encode(np.zeros(10, np.float32))
    with pytest.raises(InvalidConfigError):
        neurocodec.compress(np.zeros(10, np.int16), codec="hybrid", nonsense=1)


@pytest.mark.parametrize("config", [dict(), dict(events_only=True), dict(target_ratio=40)])
def test_truncation_and_bitflips_are_typed(config):
    x = recording(4000, channels=2, seed=13)
    codec = HybridCodec(**config)
    payload = codec.encode(x)
    assert_truncation_raises(payload, codec.decode)
    assert_bitflips_safe(payload, codec.decode, n_flips=150)
    framed = container.pack(codec, x)
    assert_bitflips_safe(framed, container.unpack, n_flips=100, must_raise=True)
    with pytest.raises(NeurocodecError):
        events(framed[:-3])


def test_version_and_flags_are_checked():
    payload = HybridCodec().encode(recording(3000, seed=14))
    with pytest.raises(UnsupportedVersionError):
        HybridCodec().decode(bytes([FORMAT_VERSION + 1]) + payload[1:])
    with pytest.raises(CorruptStreamError):  # version 2 without its shaping field
        HybridCodec().decode(bytes([2]) + payload[1:])
    with pytest.raises(CorruptStreamError):  # version 2 is never events-only
        HybridCodec().decode(bytes([2]) + HybridCodec(events_only=True).encode(recording(3000, seed=14))[1:])
    with pytest.raises(CorruptStreamError):
        HybridCodec().decode(payload[:1] + bytes([payload[1] | 0x80]) + payload[2:])
    with pytest.raises(NeurocodecError):  # the byte lands in the residual section, whose length it breaks
        HybridCodec().decode(payload + b"\x00")
    with pytest.raises(InvalidConfigError):
        events(neurocodec.compress(recording(3000, seed=14)))


def test_kernels_agree_with_their_definitions():
    q = K.quantise(np.arange(-20, 21, dtype=np.int64), 3)
    assert (np.abs(np.arange(-20, 21) - q * 7) <= 3).all()
    # the shaped quantiser: error = own error + feedback of the last two, restarted at a gap
    r = np.random.default_rng(0).integers(-60, 60, 400)
    times = np.concatenate([np.arange(200), 300 + np.arange(200)])
    for near in (1, 2, 4, 9):
        step = 2 * near + 1
        qs = K.quantise_shaped(r, times, near)
        err = qs * step - r
        assert np.abs(err).max() <= K.shaped_bound(near)
        u1 = u2 = 0
        for i in range(r.size):
            if i == 200:
                u1 = u2 = 0
            fb = (K.SHAPING_TAPS[0] * u1 + K.SHAPING_TAPS[1] * u2 + 128) >> 8
            assert abs(err[i] - fb) <= near
            u1, u2 = err[i] - fb, u1
        assert not np.array_equal(qs, K.quantise(r, near))
    out = np.empty(9, dtype=np.int64)
    K.interpolate(np.array([0, 8, 4], dtype=np.int64), 4, 9, 100, out)
    assert out.tolist() == [0, 2, 4, 6, 8, 7, 6, 5, 4]
    w = np.zeros(30, dtype=np.int64)
    K.window_mask(np.array([10], dtype=np.int64), 30, 2, 3, 2, w)
    assert w[8:13].tolist() == [256] * 5 and 0 < w[7] < w[8] and w[5] == 0 and w[15] == 0 and 0 < w[14] < 256
    y = np.array([0, 0, -5, -9, -7, 0, 0, -6, -8, 0], dtype=np.float64)
    assert K.detect_troughs(y, 4.0, 3, 2).tolist() == [3, 8]
    assert K.detect_troughs(y, 4.0, 3, 6).tolist() == [3]


def test_real_recording_keeps_spikes():
    folder = shared_data("neuralink-dev")
    from neurocodec.io import wav

    x = wav.read(sorted(folder.glob("*.wav"))[2]).samples
    data = neurocodec.compress(x, codec="hybrid", snippet_near=0, background_factor=32, background_near=1)
    f = fidelity.compare(x, neurocodec.decompress(data), RATE)
    assert x.nbytes / len(data) > 20
    assert f["f1"] >= 0.97 and f["spike_snr_db"] >= 20, f


@pytest.mark.parametrize("layout", ["fortran", "strided", "reversed"])
@pytest.mark.parametrize("config", [dict(target_ratio=24), dict(snippet_near=2, noise_shaping=True)])
def test_every_memory_layout_codes_as_its_contiguous_copy(layout, config):
    x = recording(20000, channels=4, seed=2, spike_prob=0.01)
    a = {"fortran": np.asfortranarray(x), "strided": x[::2, ::2], "reversed": x[::-1]}[layout]
    data = neurocodec.compress(a, codec="hybrid", **config)
    assert data == neurocodec.compress(np.ascontiguousarray(a), codec="hybrid", **config)
    assert neurocodec.decompress(data).shape == a.shape
