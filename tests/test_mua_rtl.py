"""The MUA encoder's RTL, its bit-true model and the codec under both calibration schedules.

Generated rasters check the model against the codec stream and the calibration windows against
FORMAT.md; iverilog runs short simulations of corner cases (one channel, a power-of-two channel
count that finishes calibrating, several encoders, no sort); verilator runs the long co-simulation on
a stimulus derived from the m1 recording (96 and 512 channels, thousands of bins, both schedules).
The simulators are Debian packages that CI installs (.ci/run); without them these tests skip.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import scipy.io
from helpers import assert_bitflips_safe, assert_truncation_raises, shared_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocodec import cli
from neurocodec.entropy import varint
from neurocodec.errors import CorruptStreamError, InvalidConfigError, UnsupportedVersionError
from neurocodec.mua import MUACodec, bin_raster, save_encoders, sclvs
from neurocodec.mua.codec import calibrate, calibration_windows, huffman_stream, saturate
from neurocodec.mua.rtl import (
    BitTrueModel,
    pack_words,
    read_stimulus,
    render_testbench,
    render_verilog,
    write_packed_stimulus,
)

needs_iverilog = pytest.mark.skipif(shutil.which("iverilog") is None,
                                    reason="iverilog not installed (apt-get install iverilog; CI installs it)")
needs_verilator = pytest.mark.skipif(shutil.which("verilator") is None,
                                     reason="verilator not installed (apt-get install verilator; CI installs it)")

S5_ENCODERS = [[1, 2, 3, 4, 4], [2, 2, 2, 3, 3], [1, 3, 3, 3, 3]]


def random_raster(ms, channels, p=0.2, seed=0):
    rng = np.random.default_rng(seed)
    rate = rng.uniform(0.2, 1.8, size=channels) * p
    return (rng.random((ms, channels)) < rate).astype(np.uint8)


def codec_stream(raster, S, bp, hist, enc, sort, calibration):
    sat = saturate(bin_raster(raster, bp), S)
    e = np.array(enc)
    return huffman_stream(sat, e, calibrate(sat, e, hist, sort, calibration), S)


# ------------------------------------------------------------------ schedule, model and codec

def test_calibration_windows_follow_the_spec():
    # FORMAT.md 3.3.2: sequential window of channel c is bins c*(H-1) .. c*(H-1)+H-1, cut at the end
    for bins, channels, H in [(0, 3, 4), (5, 1, 4), (40, 6, 4), (12, 5, 1), (200, 9, 7)]:
        start, end = calibration_windows(bins, channels, H, "sequential")
        for c in range(channels):
            assert (start[c], end[c]) == (min(c * (H - 1), bins), min(c * (H - 1) + H, bins))
        start, end = calibration_windows(bins, channels, H, "parallel")
        assert set(start.tolist()) <= {0} and set(end.tolist()) <= {min(H, bins)}


def test_sequential_calibration_histograms_are_the_windows():
    rng = np.random.default_rng(3)
    sat = rng.integers(0, 4, size=(60, 5))
    cal = calibrate(sat, sclvs(4), 8, True, "sequential")
    for c in range(5):
        window = sat[7 * c:7 * c + 8, c]
        assert cal.histograms[c].tolist() == np.bincount(window, minlength=4).tolist()
        assert cal.calib_end[c] == 7 * c + 8
    assert cal.calib_bins == 36
    with pytest.raises(InvalidConfigError):
        calibrate(sat, sclvs(4), 8, True, "diagonal")


MODEL_CASES = [
    # (S, BP ms, histogram samples, encoders, sort, channels)
    (3, 5, 4, [[1, 2, 2]], True, 7),
    (5, 4, 6, S5_ENCODERS, True, 7),
    (4, 2, 9, sclvs(4).tolist(), False, 7),
    (3, 1, 300, [[1, 2, 2]], True, 7),      # never calibrates
    (3, 2, 1, [[1, 2, 2]], True, 4),        # one-sample histograms: every channel in the first bin
    (3, 3, 5, [[1, 2, 2]], True, 1),
]


@pytest.mark.parametrize("calibration", ["parallel", "sequential"])
@pytest.mark.parametrize("S, bp, hist, enc, sort, n_ch", MODEL_CASES)
def test_bit_true_model_matches_codec(S, bp, hist, enc, sort, n_ch, calibration):
    raster = random_raster(bp * 60, n_ch, seed=S + bp)
    model = BitTrueModel(enc, S, hist, bp, n_ch, sort, calibration)
    words = model.run_arrays(raster.ravel())
    stream = codec_stream(raster, S, bp, hist, enc, sort, calibration)
    assert pack_words(words) == stream
    codec = MUACodec(S=S, bin_ms=bp, encoders=enc, hist_samples=hist, sort=sort, calibration=calibration)
    counts = bin_raster(raster, bp)
    payload = codec.encode(counts)
    assert payload.endswith(stream[0]) and payload[0] == (3 if calibration == "sequential" else 1)
    assert np.array_equal(codec.decode(payload), saturate(counts, S))


@given(bins=st.integers(0, 60), channels=st.integers(1, 9), S=st.integers(2, 16), hist=st.integers(1, 12),
       sort=st.booleans(), bp=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_sequential_codec_and_model_hypothesis(bins, channels, S, hist, sort, bp, seed):
    rng = np.random.default_rng(seed)
    encoders = sclvs(S, complete=True)[:3].tolist()
    raster = (rng.random((bins * bp, channels)) < rng.uniform(0.05, 0.9)).astype(np.uint8)
    counts = bin_raster(raster, bp)
    codec = MUACodec(S=S, encoders=encoders, hist_samples=hist, sort=sort, calibration="sequential")
    payload = codec.encode(counts)
    assert np.array_equal(codec.decode(payload), saturate(counts, S))
    if raster.size:
        words = BitTrueModel(encoders, S, hist, bp, channels, sort, "sequential").run_arrays(raster.ravel())
        assert payload.endswith(pack_words(words)[0])


def test_sequential_payload_bit_flips_are_typed():
    counts = bin_raster(random_raster(400, 6, seed=4), 5)
    payload = MUACodec(S=5, encoders=S5_ENCODERS, hist_samples=6, calibration="sequential").encode(counts)
    assert_bitflips_safe(payload, MUACodec().decode, n_flips=300)


def test_model_state_carries_across_calls():
    raster = random_raster(200, 5, seed=9)
    whole = BitTrueModel([[1, 2, 2]], 3, 4, 5, 5, calibration="sequential").run(raster.ravel())
    model = BitTrueModel([[1, 2, 2]], 3, 4, 5, 5, calibration="sequential")
    flat = raster.ravel()
    pieces = model.run(flat[:333]) + [w for d in flat[333:400] if (w := model.step(int(d)))] + model.run(flat[400:])
    assert pieces == whole


def test_sequential_payload_is_version_3_with_its_schedule_byte():
    counts = np.array([[0, 1], [1, 2], [0, 1], [1, 1], [2, 0], [0, 2]], dtype=np.int16)
    seq = MUACodec(S=3, hist_samples=2, calibration="sequential").encode(counts)
    par = MUACodec(S=3, hist_samples=2).encode(counts)
    # version 3: version, layout, coder, dtype, bins, channels, S, hist_samples, sort, schedule byte
    assert seq[:2] == bytes([3, 0]) and par[0] == 1
    assert seq[10:13] == bytes([2, 1, 1]) and par[9:11] == bytes([2, 1])
    fortran = MUACodec(S=3, hist_samples=2, calibration="sequential").encode(np.asfortranarray(counts))
    assert fortran[:2] == bytes([3, 1]) and MUACodec().decode(fortran).flags.f_contiguous
    assert MUACodec(S=3, coder="arithmetic", calibration="sequential").encode(counts)[0] == 1
    for payload in (seq, par, fortran):
        assert np.array_equal(MUACodec().decode(payload), np.minimum(counts, 2))
    assert_truncation_raises(seq, MUACodec().decode)
    with pytest.raises(CorruptStreamError, match="calibration schedule 2"):
        MUACodec().decode(seq[:12] + b"\x02" + seq[13:])
    with pytest.raises(UnsupportedVersionError):
        MUACodec().decode(b"\x04" + seq[1:])
    with pytest.raises(InvalidConfigError):
        MUACodec(calibration="serial")
    # a histogram far longer than the array: every count raw, no overflow in the windows
    huge = MUACodec(S=3, hist_samples=2**62, calibration="sequential")
    payload = huge.encode(counts)
    assert np.array_equal(huge.decode(payload), np.minimum(counts, 2))
    field = bytes(varint.encode([2**62]))
    assert payload[10:10 + len(field)] == field
    forged = payload[:10] + bytes([0xFF] * 9 + [0x01]) + payload[10 + len(field):]     # hist_samples = 2**64 - 1
    assert np.array_equal(MUACodec().decode(forged), np.minimum(counts, 2))
    assert MUACodec(calibration="sequential").get_config()["calibration"] == "sequential"


# ------------------------------------------------------------------ short simulations (iverilog)

SIM_CASES = [
    # (S, BP ms, histogram samples, encoders, sort, channels, calibration)
    (3, 3, 4, [[1, 2, 2]], True, 4, "sequential"),    # power-of-two channels: calibration finishes
    (3, 2, 3, [[1, 2, 2]], True, 1, "sequential"),    # one channel: the forwarding path
    (3, 2, 3, [[1, 2, 2]], True, 2, "sequential"),
    (5, 4, 6, S5_ENCODERS, True, 6, "sequential"),
    (4, 2, 5, sclvs(4).tolist(), False, 5, "sequential"),
    (3, 1, 1, [[1, 2, 2]], True, 3, "sequential"),
    (3, 3, 4, [[1, 2, 2]], True, 4, "parallel"),
    (5, 4, 6, S5_ENCODERS, True, 1, "parallel"),
]


def read_words(text: str) -> np.ndarray:
    return np.array(text.split(), dtype=np.int64).reshape(-1, 2)


@needs_iverilog
@pytest.mark.parametrize("S, bp, hist, enc, sort, n_ch, calibration", SIM_CASES)
def test_verilog_simulation_matches_model(tmp_path, S, bp, hist, enc, sort, n_ch, calibration):
    raster = random_raster(bp * 50, n_ch, p=0.35, seed=n_ch * 7 + S)
    n = write_packed_stimulus(tmp_path / "stim.hex", raster)
    (tmp_path / "dut.v").write_text(render_verilog(enc, S, hist, bp, n_ch, sort, calibration=calibration))
    (tmp_path / "tb.v").write_text(render_testbench("mua_sclv_encoder", tmp_path / "stim.hex", n, n_ch, bp,
                                                    packed=True))
    subprocess.run(["iverilog", "-g2005", "-o", str(tmp_path / "sim"), str(tmp_path / "tb.v"),
                    str(tmp_path / "dut.v")], check=True, capture_output=True, timeout=120)
    run = subprocess.run(["vvp", "-n", str(tmp_path / "sim")], check=True, capture_output=True, text=True,
                         timeout=300)
    got = read_words("\n".join(ln for ln in run.stdout.splitlines() if ln[:1].isdigit()))
    codes, lengths = BitTrueModel(enc, S, hist, bp, n_ch, sort, calibration).run_arrays(raster.ravel())
    assert got.shape[0] == codes.size == raster.shape[0] // bp * n_ch
    assert np.array_equal(got[:, 0], codes) and np.array_equal(got[:, 1], lengths)
    assert pack_words((codes, lengths)) == codec_stream(raster, S, bp, hist, enc, sort, calibration)


@needs_iverilog
@pytest.mark.parametrize("hist", [1, 2, 64])
def test_paper_stimulus_sequential_simulation(tmp_path, hist):
    # the paper's FPGA test bench input at its binning period: 96 channels x 160 ms, BP = 50 ms
    stim = shared_data("mua", "paper_fpga_stimulus_96ch_160ms.txt")
    raster = read_stimulus(stim, n_channels=96)
    (tmp_path / "dut.v").write_text(render_verilog([[1, 2, 2]], 3, hist, 50, 96, calibration="sequential"))
    (tmp_path / "tb.v").write_text(render_testbench("mua_sclv_encoder", stim, raster.size, 96, 50))
    subprocess.run(["iverilog", "-g2005", "-o", str(tmp_path / "sim"), str(tmp_path / "tb.v"),
                    str(tmp_path / "dut.v")], check=True, capture_output=True, timeout=120)
    run = subprocess.run(["vvp", "-n", str(tmp_path / "sim")], check=True, capture_output=True, text=True,
                         timeout=300)
    got = read_words("\n".join(ln for ln in run.stdout.splitlines() if ln[:1].isdigit()))
    codes, lengths = BitTrueModel([[1, 2, 2]], 3, hist, 50, 96, calibration="sequential").run_arrays(raster.ravel())
    assert np.array_equal(got, np.stack([codes, lengths], axis=1)) and got.shape[0] == 3 * 96
    assert pack_words((codes, lengths)) == codec_stream(raster, 3, 50, hist, [[1, 2, 2]], True, "sequential")


# ------------------------------------------------------------------ long co-simulation on m1 (verilator)

def m1_detections(bins: int, channels: int, bp: int) -> np.ndarray:
    """A 1 ms detection raster from the m1 counts: bin t of channel c holds min(count, bp) detections
    at its start; channel c is unit c % 171, shifted by 3000 bins per wrap round the units."""
    spikes = scipy.io.loadmat(shared_data("mua", "m1_stevenson_2011.mat"))["spikes"].T  # (15536, 171)
    units = spikes.shape[1]
    t = (np.arange(bins)[:, None] + 3000 * (np.arange(channels) // units)[None, :]) % spikes.shape[0]
    counts = np.minimum(spikes[t, np.arange(channels) % units], bp)
    return (np.arange(bp)[None, :, None] < counts[:, None, :]).reshape(bins * bp, channels).astype(np.uint8)


def multi_testbench(instances) -> str:
    """One testbench clocking several encoders side by side, each from its own packed stimulus
    into its own output file (one verilator build for the whole co-simulation).  An instance with
    ``gaps`` gets no input every fifth clock (``in_valid`` low: pipeline bubbles)."""
    decl, feed, done, clocks = [], [], [], []
    for k, (module, n_ch, bp, stim, n, out, gaps) in enumerate(instances):
        decl.append(f"""    reg [31:0] stim{k} [0:{(n + 31) // 32 - 1}];
    reg v{k} = 0, d{k} = 0;
    wire ov{k}, rdy{k};
    wire [31:0] oc{k};
    wire [7:0] ol{k};
    integer fd{k}, i{k} = 0;
    {module} #(.N_CH({n_ch}), .BP_MS({bp})) u{k} (.clk(clk), .rst(rst), .in_valid(v{k}), .in_detect(d{k}),
        .ready(rdy{k}), .out_valid(ov{k}), .out_code(oc{k}), .out_len(ol{k}));
    always @(posedge clk) if (ov{k}) $fdisplay(fd{k}, "%0d %0d", oc{k}, ol{k});""")
        bubble = "n % 5 == 4" if gaps else "1'b0"
        feed.append(f"""            if ({bubble} || i{k} >= {n}) v{k} = 0;
            else begin v{k} = 1; d{k} = stim{k}[i{k} >> 5][i{k} & 31]; i{k} = i{k} + 1; end""")
        done.append(f'        $readmemh("{stim}", stim{k}); fd{k} = $fopen("{out}", "w");')
        clocks.append(n * 5 // 4 + 5 if gaps else n)
    ready = " && ".join(f"rdy{k}" for k in range(len(instances)))
    closes = " ".join(f"$fclose(fd{k});" for k in range(len(instances)))
    return f"""`timescale 1ns/1ps
module tb;
    reg clk = 0, rst = 1;
    integer n;
    always #5 clk = ~clk;
{chr(10).join(decl)}
    initial begin
{chr(10).join(done)}
        @(negedge clk) rst = 0;
        while (!({ready})) @(negedge clk);
        for (n = 0; n < {max(clocks)}; n = n + 1) begin
{chr(10).join(feed)}
            @(negedge clk);
        end
{chr(10).join(f"        v{k} = 0;" for k in range(len(instances)))}
        repeat (4) @(negedge clk);
        {closes}
        $finish;
    end
endmodule
"""


# (name, S, histogram samples, encoders, calibration, channels, BP ms, bins, input gaps)
COSIM = [
    ("par96", 3, 64, [[1, 2, 2]], "parallel", 96, 5, 6400, False),      # the paper's system ...
    ("seq96", 3, 64, [[1, 2, 2]], "sequential", 96, 5, 6400, False),    # ... every channel calibrates in turn
    ("par512", 3, 64, [[1, 2, 2]], "parallel", 512, 2, 2000, True),
    ("seq512", 3, 64, [[1, 2, 2]], "sequential", 512, 2, 2000, False),  # channels 0..31 calibrated
    ("seq512h4", 3, 4, [[1, 2, 2]], "sequential", 512, 2, 2000, True),  # all 512 calibrated by bin 1537
    ("seq96s5", 5, 16, S5_ENCODERS, "sequential", 96, 5, 6400, False),
]


@needs_verilator
def test_long_m1_cosimulation_rtl_model_codec(tmp_path):
    rasters, instances, sources = {}, [], []
    for name, S, hist, enc, calibration, n_ch, bp, bins, gaps in COSIM:
        key = (n_ch, bp, bins)
        if key not in rasters:
            rasters[key] = m1_detections(bins, n_ch, bp)
            write_packed_stimulus(tmp_path / f"stim_{n_ch}_{bp}.hex", rasters[key])
        src = render_verilog(enc, S, hist, bp, n_ch, calibration=calibration, module_name=f"enc_{name}")
        sources.append(tmp_path / f"{name}.v")
        sources[-1].write_text(src)
        instances.append((f"enc_{name}", n_ch, bp, tmp_path / f"stim_{n_ch}_{bp}.hex", rasters[key].size,
                          tmp_path / f"{name}.out", gaps))
    (tmp_path / "tb.v").write_text(multi_testbench(instances))
    subprocess.run(["verilator", "--binary", "--timing", "-O2", "-Wno-fatal", "-Wno-WIDTH", "--Mdir",
                    str(tmp_path / "obj"), "-o", "vsim", "--top-module", "tb", str(tmp_path / "tb.v"),
                    *map(str, sources)], check=True, capture_output=True, timeout=600)
    subprocess.run([str(tmp_path / "obj" / "vsim")], check=True, capture_output=True, timeout=600)
    for name, S, hist, enc, calibration, n_ch, bp, bins, _ in COSIM:
        raster = rasters[(n_ch, bp, bins)]
        got = read_words((tmp_path / f"{name}.out").read_text())
        codes, lengths = BitTrueModel(enc, S, hist, bp, n_ch, True, calibration).run_arrays(raster.ravel())
        assert got.shape[0] == bins * n_ch, name
        assert np.array_equal(got[:, 0], codes) and np.array_equal(got[:, 1], lengths), name
        counts = bin_raster(raster, bp)
        codec = MUACodec(S=S, bin_ms=bp, encoders=enc, hist_samples=hist, calibration=calibration)
        stream = codec_stream(raster, S, bp, hist, enc, True, calibration)
        assert pack_words((codes, lengths)) == stream and codec.encode(counts).endswith(stream[0]), name
        assert np.array_equal(codec.decode(codec.encode(counts)), saturate(counts, S)), name
    # the short-histogram run reaches the end of the sequential schedule at 512 channels
    cal = calibrate(saturate(bin_raster(rasters[(512, 2, 2000)], 2), 3), np.array([[1, 2, 2]]), 4, True, "sequential")
    assert cal.calib_bins == 511 * 3 + 4 < 2000


# ------------------------------------------------------------------ CLI

def test_cli_rtl_sequential_and_missing_tools(tmp_path, capsys, monkeypatch):
    enc = tmp_path / "enc.json"
    save_encoders(enc, [[1, 2, 2]], 3, 50, 64)
    out = tmp_path / "seq.v"
    assert cli.main(["mua", "rtl", str(enc), "--channels", "512", "--calibration", "sequential",
                     "--out", str(out)]) == 0
    text = out.read_text()
    assert "sequential calibration" in text and "parameter N_CH  = 512" in text and "one 5-bit memory word" in text
    capsys.readouterr()
    assert cli.main(["mua", "rtl", str(enc)]) == 1
    assert "give --out" in capsys.readouterr().err
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert cli.main(["mua", "rtl", str(enc), "--synth"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs yosys, nextpnr-ice40" in err and "apt-get install" in err
