"""neurocodec.mua against the paper's figures on the shared recordings (skipped when absent)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import scipy.io
from helpers import shared_data

from neurocodec.mua import (
    BitTrueModel,
    MUACodec,
    bin_raster,
    channel_capacity,
    configurations,
    decode_behaviour,
    evaluate,
    pack_words,
    read_stimulus,
    render_testbench,
    render_verilog,
    train_encoders,
)
from neurocodec.mua.codec import calibrate, huffman_stream, saturate


@pytest.fixture(scope="module")
def m1():
    data = scipy.io.loadmat(shared_data("mua", "m1_stevenson_2011.mat"))
    return data["spikes"].T.astype(np.int64), data["handVel"][:2].T


def test_m1_bit_rates_match_paper(m1):
    counts, _ = m1
    conf = configurations(counts, bin_ms=50, S=3, encoders=[[1, 2, 2]], hist_samples=64)
    assert conf["full"] == pytest.approx(25.7, abs=0.3)
    assert conf["no_sort"] == pytest.approx(28.7, abs=0.3)
    assert conf["just_binning"] == 40.0
    r = evaluate(counts, bin_ms=50, S=3, hist_samples=64)
    assert r["bits_per_second_per_channel"] == conf["full"]
    assert r["power_uw_per_channel"] == pytest.approx(1.47, abs=0.01)
    assert r["entropy_bound_bits_per_second_per_channel"] < r["bits_per_second_per_channel"]
    assert r["arithmetic_bits_per_second_per_channel"] < r["bits_per_second_per_channel"]


def test_m1_training_picks_paper_encoder(m1):
    counts, _ = m1
    result = train_encoders(counts, S=3, n_splits=4)
    assert result.encoders(1) == [[1, 2, 2]]
    assert np.mean(result.validation[1]) == pytest.approx(25.7, abs=0.6)
    multi = train_encoders(counts, S=6, n_splits=2)
    assert sorted(multi.sets) == [1, 2, 3, 4, 5]


def test_m1_roundtrip_every_channel(m1):
    counts, _ = m1
    for codec in (MUACodec(), MUACodec(S=8, coder="arithmetic")):
        out = codec.decode(codec.encode(counts))
        assert np.array_equal(out, np.minimum(counts, codec.S - 1))


def test_m1_capacity(m1):
    counts, _ = m1
    r = evaluate(counts)
    power = 0.96 + 0.02 * r["per_channel_bits_per_second"]
    n = channel_capacity(power, p=0.05, draws=2000)
    assert (625 - 162) / power.max() <= n <= (625 - 162) / power.min()


@pytest.mark.parametrize("S, target", [(None, 0.90), (3, 0.88), (2, 0.84)])
def test_m1_behavioural_decoding(m1, S, target):
    counts, vel = m1
    r = decode_behaviour(counts, vel, S=S, folds=5)
    assert r["bdp"] == pytest.approx(target, abs=0.03)


STIMULUS_CASES = [
    # (S, BP ms, histogram samples, encoders, sort): the paper's system, then ones whose
    # calibration completes within the 160 ms stimulus
    (3, 50, 64, [[1, 2, 2]], True),
    (3, 5, 4, [[1, 2, 2]], True),
    (5, 4, 8, [[1, 2, 3, 4, 4], [2, 2, 2, 3, 3], [1, 3, 3, 3, 3]], True),
    (4, 2, 16, [[1, 2, 3, 3], [2, 2, 2, 2]], False),
]


@pytest.mark.parametrize("S, bp, hist, enc, sort", STIMULUS_CASES)
def test_fpga_stimulus_bit_true_model_agrees_with_codec(S, bp, hist, enc, sort):
    raster = read_stimulus(shared_data("mua", "paper_fpga_stimulus_96ch_160ms.txt"), n_channels=96)
    assert raster.shape == (160, 96)
    words = BitTrueModel(enc, S, hist, bp, 96, sort).run(raster.ravel())
    counts = bin_raster(raster, bin_ms=bp)
    sat = saturate(counts, S)
    e = np.array(enc)
    assert len(words) == counts.size
    assert pack_words(words) == huffman_stream(sat, e, calibrate(sat, e, hist, sort), S)
    codec = MUACodec(S=S, bin_ms=bp, encoders=enc, hist_samples=hist, sort=sort)
    assert np.array_equal(codec.decode(codec.encode(counts)), sat)


SIM_CASES = [case + (96,) for case in STIMULUS_CASES[1:]] + [
    # the same words as one and two channels: exercises the memory-forwarding path of the pipeline
    (3, 50, 64, [[1, 2, 2]], True, 1),
    (5, 20, 8, [[1, 2, 3, 4, 4], [2, 2, 2, 3, 3]], True, 2),
]


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog not installed (optional RTL simulation)")
@pytest.mark.parametrize("S, bp, hist, enc, sort, n_ch", SIM_CASES)
def test_fpga_stimulus_verilog_simulation(tmp_path, S, bp, hist, enc, sort, n_ch):
    stim = shared_data("mua", "paper_fpga_stimulus_96ch_160ms.txt")
    raster = read_stimulus(stim, n_channels=n_ch)
    (tmp_path / "dut.v").write_text(render_verilog(enc, S, hist, bp, n_ch, sort))
    (tmp_path / "tb.v").write_text(render_testbench("mua_sclv_encoder", stim, raster.size, n_ch, bp))
    subprocess.run(["iverilog", "-g2005", "-o", str(tmp_path / "sim"), str(tmp_path / "tb.v"),
                    str(tmp_path / "dut.v")], check=True, capture_output=True, timeout=120)
    run = subprocess.run(["vvp", "-n", str(tmp_path / "sim")], check=True, capture_output=True, text=True,
                         timeout=300)
    got = [tuple(int(t) for t in line.split()) for line in run.stdout.splitlines() if line[:1].isdigit()]
    assert got == BitTrueModel(enc, S, hist, bp, n_ch, sort).run(raster.ravel())


@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed (optional synthesis check)")
def test_paper_system_synthesizes_small(tmp_path):
    (tmp_path / "dut.v").write_text(render_verilog([[1, 2, 2]], 3, 64, 50, 96))
    run = subprocess.run(["yosys", "-p", f"read_verilog {tmp_path / 'dut.v'}; synth_ice40 -top mua_sclv_encoder; "
                          "check -assert; stat"], check=True, capture_output=True, text=True, timeout=300)
    stats = run.stdout[run.stdout.rindex("Printing statistics"):]
    cells = int(stats.split("Number of cells:")[1].split()[0])
    assert "SB_RAM40_4K" in stats and cells < 1000  # per-channel state in block RAM, logic shared
    assert "Latch inferred" not in run.stdout
