"""Hostile input and lost data (issue 13): memory layouts, size bombs, typed errors, no heap bytes
in payloads, files that are never destroyed.

Every decode of a hostile input here runs under a cap: in process, :func:`bounded` checks the
allocation peak (tracemalloc sees NumPy's buffers) and the CPU time; the mutation campaign runs
``benchmarks/fuzz.py`` in a child process under RLIMIT_CPU, so a crash or hang fails the test
instead of killing the run.
"""

from __future__ import annotations

import csv
import json
import os
import time
import tracemalloc
import zlib
from pathlib import Path

import numcodecs
import numpy as np
import pytest
from numcodecs.tests.common import check_encode_decode_array
from helpers import load_benchmark

import neurocodec
from neurocodec import api, container, evaluate, spikes
from neurocodec.cli import main
from neurocodec.entropy.varint import uvarint_bytes
from neurocodec.errors import CorruptStreamError, InvalidConfigError, NeurocodecError, WavFormatError
from neurocodec.io import wav
from neurocodec.synthetic import recording

ROOT = Path(__file__).resolve().parents[1]
MEMORY_CAP = 512 << 20
CPU_CAP_S = 2.0
SPIKES = [f"spikes_{n}" for n in spikes.list_codecs()]
MUA = [("mua", {"S": 4}), ("mua", {"S": 4, "coder": "arithmetic"})]


def bounded(fn, *args, **kwargs):
    """``fn(*args)`` must return or raise a NeurocodecError, within the memory and CPU caps.

    Returns the result or the error."""
    tracemalloc.start()
    t0 = time.thread_time()
    try:
        result = fn(*args, **kwargs)
    except NeurocodecError as exc:
        result = exc
    finally:
        spent = time.thread_time() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MEMORY_CAP, f"allocated {peak} bytes"
    assert spent < CPU_CAP_S, f"{spent:.2f} s of CPU"
    return result


def _codec(name, config=None):
    return numcodecs.get_codec({"id": "neurocodec." + name, **(config or {})})


def _warm(codec, sample):
    """Load ``codec``'s compiled kernels (and lazy imports) before a decode is measured."""
    codec.decode(codec.encode(sample))
    return codec


# ---------------------------------------------------------------------------- memory layouts


def _raster(dtype=bool, T=37, N=5, seed=0):
    return (np.random.default_rng(seed).random((T, N)) < 0.2).astype(dtype)


def _layouts(arr):
    base = np.concatenate([arr, arr], axis=0)
    return {"C": np.ascontiguousarray(arr), "F": np.asfortranarray(arr), "strided": base[::2, ::-1]}


def _spike_cases():
    for name in SPIKES:
        for dtype in (bool, np.uint8, np.int16, np.float32):
            for layout in ("C", "F", "strided"):
                yield name, dtype, layout


@pytest.mark.parametrize(("name", "dtype", "layout"), list(_spike_cases()))
def test_spike_layouts_round_trip_numcodecs_convention(name, dtype, layout):
    arr = _layouts(_raster(dtype))[layout]
    codec = _codec(name)
    check_encode_decode_array(arr, codec)   # decoded dtype and memory order are the input's
    decoded = codec.decode(codec.encode(arr))
    assert decoded.dtype == arr.dtype and decoded.flags.f_contiguous == (layout == "F")
    np.testing.assert_array_equal(decoded, arr)
    out = bytearray(arr.nbytes)             # numcodecs' flat out= buffer, in the payload's order
    codec.decode(codec.encode(arr), out=out)
    np.testing.assert_array_equal(np.frombuffer(out, arr.dtype).reshape(arr.shape, order="F" if layout == "F" else "C"),
                                  arr)
    np.testing.assert_array_equal(neurocodec.decompress(neurocodec.compress(arr, name)), arr)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize(("name", "config"), MUA, ids=["huffman", "arithmetic"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.uint16])
def test_mua_layouts_round_trip_numcodecs_convention(name, config, layout, dtype):
    arr = _layouts(np.random.default_rng(1).poisson(1.0, (90, 4)).clip(0, 3).astype(dtype))[layout]
    codec = _codec(name, config)
    check_encode_decode_array(arr, codec)
    decoded = codec.decode(codec.encode(arr))
    assert decoded.dtype == arr.dtype and decoded.flags.f_contiguous == (layout == "F")
    np.testing.assert_array_equal(neurocodec.decompress(neurocodec.compress(arr, name, **config)), arr)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_waveform_layouts_round_trip_numcodecs_convention(layout):
    arr = _layouts(recording(300, channels=3, seed=2))[layout]
    codec = _codec("waveform")
    check_encode_decode_array(arr, codec)
    np.testing.assert_array_equal(neurocodec.decompress(neurocodec.compress(arr)), arr)


def _zarr_cases():
    for name in SPIKES:
        yield name, {}, _raster(np.uint8, T=64, N=6)
    for name, config in MUA:
        yield name, config, np.random.default_rng(3).poisson(1.0, (64, 6)).clip(0, 3).astype(np.uint8)
    yield "waveform", {}, recording(64, channels=6, seed=3)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(("name", "config", "arr"), list(_zarr_cases()), ids=lambda v: v if isinstance(v, str) else "")
def test_zarr_format_2_round_trips_either_order(name, config, arr, order):
    zarr = pytest.importorskip("zarr")
    if hasattr(zarr, "create_array"):   # zarr 3, writing format 2
        z = zarr.create_array(store={}, shape=arr.shape, chunks=(24, 4), dtype=arr.dtype, zarr_format=2,
                              compressors=_codec(name, config), order=order)
    else:
        z = zarr.create(shape=arr.shape, chunks=(24, 4), dtype=arr.dtype, compressor=_codec(name, config),
                        order=order)
    z[:] = arr
    np.testing.assert_array_equal(z[:], arr)


# ---------------------------------------------------------------------------- size bombs


def test_issue_reproducers_are_bounded_typed_errors():
    adaptive = _warm(_codec("spikes_adaptive"), _raster())
    assert isinstance(bounded(adaptive.decode, bytes.fromhex("010180808080080008")), CorruptStreamError)
    mua = _warm(_codec("mua", {"coder": "arithmetic"}), np.ones((5, 2), np.uint8))
    for tail in (bytes(1000), bytes(100_000)):
        assert isinstance(bounded(mua.decode, bytes.fromhex("0101037c7531f8f59eb187010102") + tail),
                          NeurocodecError)
    for name in SPIKES:
        for T, N in ((2**33, 1), (2**31, 2), (2**27, 16), (2**62, 2**62)):
            forged = bytes([1]) + uvarint_bytes(T) + uvarint_bytes(N) + bytes(6)
            assert isinstance(bounded(_warm(_codec(name), _raster()).decode, forged), NeurocodecError), (name, T, N)


@pytest.mark.parametrize("name", SPIKES)
def test_forged_spike_sizes_with_long_payloads_stop_early(name):
    # a plausible raster size and a long tail of zeros or 0xFF: the decoder must not run for T * N
    codec = _warm(_codec(name), _raster())
    for T, N in ((2**25, 1), (2**12, 2**13)):
        for fill in (b"\x00", b"\xff"):
            for head in (bytes([0, 0]), bytes([0, 8]), bytes([1, 0]), bytes([0]), bytes([1])):
                forged = bytes([1]) + uvarint_bytes(T) + uvarint_bytes(N) + head + fill * 9000
                bounded(codec.decode, forged)


def test_default_caps_are_shared_by_encoder_and_decoder():
    wide = np.zeros((spikes.MAX_DECODE_BINS + 1, 1), bool)
    for name in SPIKES:
        with pytest.raises(InvalidConfigError):
            _codec(name).encode(wide)
    for shape in ((2**50, 0), (0, 2**50)):   # zero-width arrays the decoders refuse: refused up front
        zero = np.lib.stride_tricks.as_strided(np.zeros(1, bool), shape=shape, strides=(0, 0))
        for name in SPIKES:
            with pytest.raises(InvalidConfigError):
                _codec(name).encode(zero)
        with pytest.raises(InvalidConfigError):
            _codec("mua").encode(zero.view(np.uint8))
    from neurocodec.mua import codec as mua_codec

    with pytest.raises(InvalidConfigError):
        _codec("mua").encode(np.zeros((mua_codec.MAX_COUNTS + 1, 1), np.uint8))


def test_raising_the_cap_decodes_a_large_raster():
    raster = np.zeros((spikes.MAX_DECODE_BINS // 2, 2), bool)
    raster[::1000, 1] = True
    payload = _codec("spikes_isi").encode(raster)
    forged = bytes([1]) + uvarint_bytes(2 * raster.shape[0]) + payload[len(bytes([1]) + uvarint_bytes(raster.shape[0])):]
    with pytest.raises(CorruptStreamError, match="max_output_bytes"):
        _codec("spikes_isi").decode(forged)
    big = _codec("spikes_isi").decode(forged, max_output_bytes=1 << 27)
    assert big.shape == (2 * raster.shape[0], 2) and big.sum() == raster.sum()


# ---------------------------------------------------------------------------- the container


def _forge(name: bytes, config: bytes, dtype: bytes, shape, block_rows, blocks, extra=b""):
    head = bytes([len(name)]) + name + uvarint_bytes(len(config)) + config + bytes([len(dtype)]) + dtype
    head += bytes([len(shape)]) + b"".join(uvarint_bytes(d) for d in shape)
    head += uvarint_bytes(block_rows) + uvarint_bytes(len(blocks))
    for payload in blocks:
        head += uvarint_bytes(len(payload)) + zlib.crc32(payload).to_bytes(4, "little")
    head += uvarint_bytes(len(extra)) + extra
    front = container.MAGIC + bytes([container.VERSION]) + uvarint_bytes(len(head)) + head
    return front + zlib.crc32(front).to_bytes(4, "little") + b"".join(blocks)


def test_forged_container_fields_raise_typed_errors():
    block = bytes(_codec("spikes_isi").encode(np.zeros((4, 2), bool)))
    deep = b"[" * 5000 + b"]" * 5000
    cases = [
        _forge(b"spikes_isi", b'{"a":' + deep + b"}", b"|b1", (4, 2), 4, [block]),
        _forge(b"spikes_isi", deep, b"|b1", (4, 2), 4, [block]),
        _forge(b"spikes_isi", b"", b",i2", (4, 2), 4, [block]),
        _forge(b"spikes_isi", b"", b"(2,)i", (4, 2), 4, [block]),
        _forge(b"spikes_delta", b'{"group_size":' + str(2**63).encode() + b"}", b"|b1", (4, 2), 4, [block]),
        _forge(b"spikes_delta", b'{"group_size":"8"}', b"|b1", (4, 2), 4, [block]),
        _forge(b"mua", b'{"hist_samples":' + str(2**64).encode() + b"}", b"<i8", (4, 2), 4, [block]),
        _forge(b"spikes_isi", b"", b"|b1", (2**40, 2**20), 1, []),
    ]
    for dtype in (b"V8", b"<m8", b"<f8", b"<c16", b"<U8", b"|S8", b"<i2"):   # never cast bool to another dtype
        v2 = bytes(_codec("spikes_isi").encode(np.zeros((4, 2), np.float32)))
        cases.append(_forge(b"spikes_isi", b"", dtype, (4, 2), 4, [v2]))
    for name, sample in (("spikes_isi", _raster()), ("spikes_delta", _raster()), ("mua", np.ones((3, 2), np.uint8))):
        _warm(_codec(name), sample)
    for data in cases:
        assert isinstance(bounded(container.unpack, data), NeurocodecError)


def test_container_output_cap():
    arr = np.zeros((1 << 20, 8), np.int16)
    data = neurocodec.compress(arr, "spikes_isi")
    assert len(data) * container.DEFAULT_RATIO_CAP < arr.nbytes     # compresses beyond the default ratio
    if arr.nbytes > container.DEFAULT_FLOOR_BYTES:
        with pytest.raises(CorruptStreamError, match="max_output_bytes"):
            neurocodec.decompress(data)
    np.testing.assert_array_equal(neurocodec.decompress(data, max_output_bytes=arr.nbytes), arr)
    with pytest.raises(CorruptStreamError):
        neurocodec.decompress(data, max_output_bytes=arr.nbytes - 1)


def test_wav_sidecar_forgeries_are_wav_errors():
    samples = recording(50, seed=1)
    good = api.encode_bytes(wav.write_bytes(samples, 20000))
    header = container.read_header(good)
    payload = good[header.blocks[0].offset:]
    codec = registry_name = header.codec_name
    assert registry_name == codec
    fmt_cut = b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"
    for extra in (bytes([0]) + uvarint_bytes(2**32) + bytes([16]), bytes([0]) + uvarint_bytes(2**40) + bytes([16]),
                  bytes([1]) + uvarint_bytes(len(fmt_cut)) + fmt_cut, bytes([0]) + uvarint_bytes(20000) + bytes([12])):
        forged = _forge(codec.encode(), b"", header.dtype.str.encode(), header.shape, header.block_rows,
                        [payload], extra)
        with pytest.raises(WavFormatError):
            api.decode_bytes(forged)


# ---------------------------------------------------------------------------- no heap bytes


def _random_bits(shape, seed):
    rng = np.random.default_rng(seed)
    raw = np.zeros(shape, np.uint8)
    hit = rng.random(shape) < 0.04
    raw[hit] = rng.integers(1, 256, int(hit.sum()))
    return raw


@pytest.mark.parametrize("name", SPIKES)
def test_noncanonical_bools_encode_like_their_truth(name):
    for shape, seed in (((300, 6), 1), ((40, 2), 2), ((1000, 3), 3)):
        raw = _random_bits(shape, seed)
        truth = raw != 0
        expected = bytes(_codec(name).encode(truth))
        for _ in range(3):   # heap bytes would differ from run to run and from the canonical input
            assert bytes(_codec(name).encode(raw.copy().view(bool))) == expected
        np.testing.assert_array_equal(_codec(name).decode(expected), truth)


def test_issue_isi_heap_leak_example():
    r = np.zeros((40, 2), np.uint8)
    r[3, 0] = 2
    payload = spikes.get_codec("isi").encode(r.view(bool))
    np.testing.assert_array_equal(spikes.get_codec("isi").decode(payload), r != 0)


def test_encoders_are_deterministic_on_random_bit_patterns():
    rng = np.random.default_rng(9)
    for name, config in MUA:
        counts = rng.integers(0, 2**31, (200, 3)).astype(np.int64)   # saturated, every bit pattern
        assert len({bytes(_codec(name, config).encode(counts.copy())) for _ in range(3)}) == 1
    wave = rng.integers(-32768, 32768, (500, 2)).astype(np.int16)
    assert len({bytes(_codec("waveform").encode(wave.copy())) for _ in range(3)}) == 1
    for name in SPIKES:
        bits = rng.integers(0, 256, (128, 4), dtype=np.uint8).view(bool)
        assert len({bytes(_codec(name).encode(bits.copy())) for _ in range(3)}) == 1


# ---------------------------------------------------------------------------- files


@pytest.fixture
def a_wav(tmp_path):
    path = tmp_path / "in.wav"
    path.write_bytes(wav.write_bytes(recording(500, seed=1), 20000))
    return path


def test_encode_refuses_to_replace_its_input(tmp_path, a_wav, capsys):
    original = a_wav.read_bytes()
    assert main(["encode", str(a_wav), str(a_wav)]) == 1
    assert "is the input file" in capsys.readouterr().err
    link = tmp_path / "link.wav"
    os.link(a_wav, link)
    assert main(["encode", str(a_wav), str(link)]) == 1
    assert main(["decode", str(a_wav), str(a_wav)]) == 1
    with pytest.raises(NeurocodecError):
        api.encode_file(a_wav, link)
    with pytest.raises(NeurocodecError):
        api.decode_file(a_wav, a_wav)
    assert a_wav.read_bytes() == original
    assert main(["encode", str(a_wav), str(a_wav), "--force"]) == 0
    assert container.read_header(a_wav.read_bytes()).shape == (500,)


def test_written_files_honour_the_umask(tmp_path, a_wav):
    old = os.umask(0o022)
    try:
        api.encode_file(a_wav, tmp_path / "a.nc")
        assert (tmp_path / "a.nc").stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        api.decode_file(tmp_path / "a.nc", tmp_path / "b.wav")
        assert (tmp_path / "b.wav").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_errors_name_the_users_path(tmp_path, a_wav, capsys):
    target = tmp_path / "missing" / "o.nc"
    assert main(["encode", str(a_wav), str(target)]) == 1
    err = capsys.readouterr().err
    assert str(target) in err and ".tmp" not in err


def test_eval_csv_is_streamed_and_survives_an_interrupt(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(3):
        (folder / f"r{i}.wav").write_bytes(wav.write_bytes(recording(300 + i, seed=i), 20000))
    calls = []
    real = evaluate.evaluate_one

    def interrupted(*args):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(args[0])
        return real(*args)

    monkeypatch.setattr(evaluate, "evaluate_one", interrupted)
    out = tmp_path / "rows.csv"
    # one job: the interrupt is patched into this process (eval's default is one worker process per core)
    assert main(["eval", str(folder), "--csv", str(out), "--no-progress", "--codec", "test_raw", "--jobs", "1"]) == 130
    rows = list(csv.DictReader(out.open()))
    assert [r["file"] for r in rows] == calls == ["r0.wav", "r1.wav"]
    assert all(r["identical"] == "True" for r in rows)


def test_eval_unwritable_csv_fails_before_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(evaluate, "evaluate", lambda *a, **k: pytest.fail("ran before checking the CSV path"))
    assert main(["eval", str(tmp_path), "--csv", str(tmp_path / "no" / "x.csv"), "--no-progress"]) == 1
    assert "x.csv" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the campaign


def test_mutation_campaign_gives_only_typed_errors():
    fuzz = load_benchmark("fuzz")
    result = fuzz.run_child(list(fuzz.TARGETS), per_target=150, seed=13, cpu_limit=600)
    assert result["bad"] == [], json.dumps(result["bad"])[:3000]
    assert set(result["counts"]) == set(fuzz.TARGETS)
    for tally in result["counts"].values():
        assert sum(tally.values()) == 150 and all(k == "ok" or k.startswith("typed:") for k in tally)


# ---------------------------------------------------------------------------- golden payloads of version 2


def _golden_v2():
    import hashlib

    for family in ("spikes", "mua"):
        folder = ROOT / "tests" / "fixtures" / family / "v2"
        manifest = json.loads((folder / "manifest.json").read_text())
        for entry in manifest["payloads"]:
            data = (folder / f"{entry['name']}.bin").read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"]), \
                f"{entry['name']} was edited; golden files are never rewritten"
            codec = _codec("spikes_" + entry["codec"]) if family == "spikes" else _codec("mua", entry["config"])
            yield entry["name"], codec, data, np.load(folder / f"{entry['name']}.npy", allow_pickle=False)


@pytest.mark.parametrize(("name", "codec", "data", "expected"), list(_golden_v2()), ids=lambda v: v if isinstance(v, str) else "")
def test_golden_v2_payloads(name, codec, data, expected):
    from helpers import assert_golden_damage_raises

    decoded = codec.decode(data)
    assert decoded.dtype == expected.dtype and decoded.flags.f_contiguous == expected.flags.f_contiguous
    np.testing.assert_array_equal(decoded, expected)
    assert bytes(codec.encode(expected)) == data
    assert_golden_damage_raises(data, codec.decode, unsupported=4)   # MUA reads up to version 3


def test_codec_configs_from_metadata_are_validated():
    bad = [("spikes_isi", {"x": 1}), ("spikes_delta", {"group_size": 2**63}), ("spikes_delta", {"group_size": "8"}),
           ("spikes_delta", {"group_size": 8, "extra": 0}), ("spikes_streaming", {"window": 1.5}),
           ("spikes_predictive", {"shift": 2**70}), ("mua", {"hist_samples": 2**64}), ("mua", {"sort": "no"}),
           ("mua", {"bin_ms": float("inf")}), ("mua", {"encoders": [[1, 2, 2**70]]}), ("mua", {"S": 3.0}),
           ("mua", {"unknown": 1})]
    for name, config in bad:
        with pytest.raises(InvalidConfigError):
            _codec(name, config)
