"""The ``mua`` command group on generated inputs (.npy counts and rasters, .mat, WAV folders)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import scipy.io
from scipy.io import wavfile

from neurocodec.errors import NeurocodecError
from neurocodec.mua import load_encoders
from neurocodec.mua.cli import main, register_cli


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def synthetic_behaviour(n=2400, channels=24, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 0.05
    vel = np.stack([np.sin(0.8 * t), np.cos(0.5 * t), np.zeros(n)])
    counts = rng.poisson(np.exp(0.2 + 0.5 * rng.normal(size=(channels, 2)) @ vel[:2]))
    return counts.astype(np.uint8), vel


def test_register_cli_adds_group():
    parser = argparse.ArgumentParser()
    group = register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["mua", "report", "x.npy", "--bin-ms", "50", "100", "--S", "2", "3"])
    assert args.func.__name__ == "cmd_report" and args.bin_ms == [50.0, 100.0] and args.S == [2, 3]
    assert group.prog.endswith("mua")


def test_report_on_mat_with_behaviour(tmp_path, capsys):
    spikes, vel = synthetic_behaviour()
    path = tmp_path / "rec.mat"
    scipy.io.savemat(path, {"spikes": spikes, "handVel": vel, "time": np.arange(spikes.shape[1]) * 0.05})
    out_dir = tmp_path / "rep"
    code, out, _ = run(["mua", "report", str(path), "--bin-ms", "50", "100", "--S", "2", "3", "--splits", "2",
                        "--draws", "500", "--folds", "4", "--out", str(out_dir), "--json", "--no-progress"], capsys)
    assert code == 0
    report = json.loads(out.strip().splitlines()[-1])
    assert len(report["rows"]) == 4
    for row in report["rows"]:
        assert row["br_full"] <= row["br_just_binning"] + 1e-9 and 0 < row["bdp"] <= 1
        assert row["br_entropy_bound"] <= row["br_full"] + 1e-9
    for name in ("report.json", "report.csv", "report.md", "bitrate_vs_bp.png", "bdp_vs_s_bp.png"):
        assert (out_dir / name).stat().st_size > 0


def test_report_on_npy_counts_and_raster(tmp_path, capsys):
    rng = np.random.default_rng(1)
    counts = rng.poisson(1.0, size=(400, 6))
    np.save(tmp_path / "counts.npy", counts)
    code, out, _ = run(["mua", "report", str(tmp_path / "counts.npy"), "--splits", "1", "--draws", "200",
                        "--no-progress"], capsys)
    assert code == 0 and "| BP ms |" in out
    raster = rng.random((20000, 5)) < 0.02
    np.save(tmp_path / "raster.npy", raster)
    code, out, _ = run(["mua", "report", str(tmp_path / "raster.npy"), "--bin-ms", "20", "--S", "4", "--splits", "1",
                        "--draws", "200", "--json", "--no-progress"], capsys)
    row = json.loads(out.strip().splitlines()[-1])["rows"][0]
    assert code == 0 and row["bins"] == 1000 and row["channels"] == 5


def test_report_on_wav_folder(tmp_path, capsys):
    fs = 19531
    rng = np.random.default_rng(2)
    shape = -np.sin(np.linspace(0, 2 * np.pi, 24)) * np.hanning(24) * 400
    for c in range(3):
        x = rng.normal(0, 30, fs * 4)
        for t in rng.choice(fs * 4 - 30, 80, replace=False):
            x[t:t + 24] += shape
        wavfile.write(tmp_path / f"ch{c}.wav", fs, x.astype(np.int16))
    code, out, _ = run(["mua", "report", str(tmp_path), "--bin-ms", "10", "--hist-samples", "16", "--splits", "1",
                        "--draws", "200", "--json", "--no-progress"], capsys)
    row = json.loads(out.strip().splitlines()[-1])["rows"][0]
    assert code == 0 and row["channels"] == 3 and row["bins"] == 400


def test_train_then_rtl(tmp_path, capsys):
    rng = np.random.default_rng(3)
    np.save(tmp_path / "c.npy", rng.poisson(rng.uniform(0.2, 3, 16), size=(300, 16)))
    enc = tmp_path / "enc.json"
    code, _, _ = run(["mua", "train", str(tmp_path / "c.npy"), "--S", "5", "--encoders", "2", "--splits", "2",
                      "--out", str(enc), "--no-progress"], capsys)
    assert code == 0 and len(load_encoders(enc)["encoders"]) == 2
    stim = tmp_path / "stim.txt"
    stim.write_text(" ".join(rng.choice(["0", "1"], 4 * 100)))
    code, _, _ = run(["mua", "rtl", str(enc), "--channels", "4", "--out", str(tmp_path / "e.v"),
                      "--testbench", str(tmp_path / "tb.v"), "--stimulus", str(stim)], capsys)
    assert code == 0 and "endmodule" in (tmp_path / "e.v").read_text()
    assert "$readmemb" in (tmp_path / "tb.v").read_text()


@pytest.mark.parametrize("argv", [
    ["mua", "report", "/nonexistent/file.npy"],
    ["mua", "report", "{tmp}/bad.txt"],
    ["mua", "report", "{tmp}/f.npy"],
    ["mua", "report", "{tmp}/bad.mat"],
    ["mua", "report", "{tmp}/one.mat", "--source-bin-ms", "50"],
])
def test_bad_inputs_are_one_line_errors(tmp_path, capsys, argv):
    (tmp_path / "bad.txt").write_text("hello")
    (tmp_path / "bad.mat").write_text("not a MATLAB file")
    scipy.io.savemat(tmp_path / "one.mat", {"spikes": np.ones((1, 100))})  # one channel: cannot train
    np.save(tmp_path / "f.npy", np.ones((10, 2), np.float32))
    code, _, err = run([a.format(tmp=tmp_path) for a in argv], capsys)
    assert code == 1 and err.startswith("neurocodec: error:") and len(err.strip().splitlines()) == 1


def test_handlers_raise_typed_errors(tmp_path):
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["mua", "report", str(tmp_path / "missing.mat")])
    with pytest.raises(NeurocodecError):
        args.func(args)


def test_through_main_cli_when_wired(tmp_path, capsys):
    from neurocodec import cli

    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    if "mua" not in commands:
        pytest.skip("neurocodec.cli does not register the mua group yet")
    enc = tmp_path / "enc.json"
    enc.write_text(json.dumps({"format": "neurocodec.mua.encoders/1", "S": 3, "bin_ms": 50, "hist_samples": 64,
                               "encoders": [[1, 2, 2]]}))
    assert cli.main(["mua", "rtl", str(enc), "--out", str(tmp_path / "e.v")]) == 0
    assert cli.main(["mua", "report", str(tmp_path / "missing.npy")]) == 1
    assert capsys.readouterr().err.startswith("neurocodec: error:")


def test_matlab_v73_files_get_a_clear_error(tmp_path):
    from neurocodec.errors import InvalidConfigError
    from neurocodec.mua.report import load_mua_data

    path = tmp_path / "counts.mat"
    path.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Sat Nov 21 2026 HDF5 schema 1.00 ."
                     .ljust(128, b" ") + b"\x89HDF\r\n\x1a\n")
    with pytest.raises(InvalidConfigError, match="v7.3"):
        load_mua_data(str(path), None, None, 4.5)
