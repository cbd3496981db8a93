"""Fidelity metrics and the fidelity / rd / plan subcommands."""

import json
import math

import numpy as np
import pytest

import neurocodec
from neurocodec import fidelity
from neurocodec.cli import main
from neurocodec.errors import InvalidConfigError, NeurocodecError
from neurocodec.fidelity import _kernels as K
from neurocodec.fidelity import plan
from neurocodec.io import wav
from neurocodec.synthetic import SAMPLE_RATE, recording


def test_identical_is_perfect():
    x = recording(20000, channels=2, seed=1)
    f = fidelity.compare(x, x, SAMPLE_RATE, uv_per_code=0.2)
    assert f["max_abs_error_codes"] == 0 and f["rmse_uv"] == 0
    assert math.isinf(f["snr_db"]) and math.isinf(f["spike_snr_db"])
    assert f["f1"] == 1.0 and f["spikes_original"] > 0 and f["spike_correlation"] == pytest.approx(1.0)
    assert f["code_unit"] == "ladder codes"


def test_errors_are_in_codes_and_uv():
    x = recording(20000, seed=2)
    y = neurocodec.decompress(neurocodec.compress(x, near=2))
    f = fidelity.compare(x, y, SAMPLE_RATE, uv_per_code=0.5)
    assert 0 < f["max_abs_error_codes"] <= 2
    assert f["rmse_uv"] == pytest.approx(0.5 * f["rmse_codes"])
    assert f["snr_spike_band_db"] > 10 and f["f1"] > 0.9


def test_missing_spikes_lower_recall_and_extra_ones_precision():
    x = recording(40000, seed=3)
    flat = np.full_like(x, int(np.median(x)))
    f = fidelity.compare(x, flat, SAMPLE_RATE)
    assert f["recall"] == 0.0 and f["tp"] == 0 and f["fn"] == f["spikes_original"] > 0
    g = fidelity.compare(flat, x, SAMPLE_RATE)  # flat original: sigma 0, nothing detected on either side
    assert g["spikes_original"] == 0


def test_matching_is_one_to_one_within_tolerance():
    a = np.array([10, 20, 30, 100], dtype=np.int64)
    b = np.array([12, 13, 29, 108], dtype=np.int64)
    assert K.match_times(a, b, 3).tolist() == [0, -1, 2, -1]
    r = fidelity.detection_agreement([a], [b], 3)
    assert (r["tp"], r["fp"], r["fn"]) == (2, 2, 2) and r["f1"] == pytest.approx(0.5)


def test_bad_input_is_typed():
    with pytest.raises(InvalidConfigError):
        fidelity.compare(np.zeros(10), np.zeros(11))
    with pytest.raises(InvalidConfigError):
        fidelity.compare(np.zeros(10), np.zeros(10), 0)


def test_ground_truth_accuracy():
    pytest.importorskip("spikeinterface", reason="SpikeInterface is the optional 'spikeinterface' extra")
    from spikeinterface.core import generate_ground_truth_recording

    rec, sorting = generate_ground_truth_recording(durations=[5.0], sampling_frequency=20000.0, num_channels=4,
                                                   num_units=3, seed=0)
    traces = np.round(rec.get_traces() * 4).astype(np.int16)
    base = fidelity.ground_truth_accuracy(traces, sorting, 20000.0)
    assert set(base["accuracy"]) == {str(u) for u in sorting.unit_ids}
    data = neurocodec.compress(traces, codec="hybrid", sample_rate=20000, snippet_near=1)
    recon = fidelity.ground_truth_accuracy(neurocodec.decompress(data), sorting, 20000.0, sigma=base["sigma"],
                                         channels=base["channels"])
    for unit, acc in base["accuracy"].items():
        assert abs(recon["accuracy"][unit] - acc) <= 0.05


def test_ground_truth_without_spikeinterface_says_how_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("spikeinterface"):
            raise ImportError("no spikeinterface")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(NeurocodecError, match="neurocodec\\[spikeinterface\\]"):
        fidelity.ground_truth_accuracy(np.zeros((100, 1), np.int16), None, 20000.0)


@pytest.fixture()
def wav_folder(tmp_path):
    for i in range(2):
        (tmp_path / f"r{i}.wav").write_bytes(wav.write_bytes(recording(SAMPLE_RATE * 2, seed=20 + i), SAMPLE_RATE))
    return tmp_path


def test_cli_fidelity(wav_folder, tmp_path, capsys):
    orig = wav_folder / "r0.wav"
    nc = tmp_path / "r0.nc"
    neurocodec.encode_file(orig, nc, codec="hybrid", snippet_near=1)
    assert main(["fidelity", str(orig), str(nc), "--json", "--uv-per-code", "0.2"]) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert r["f1"] > 0.9 and "rmse_uv" in r
    assert main(["fidelity", str(orig), str(tmp_path / "missing.wav")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_cli_rd_writes_table_json_and_png(wav_folder, tmp_path, capsys):
    out = tmp_path / "rd"
    assert main(["rd", str(wav_folder), "--out", str(out), "--near", "0", "2", "--targets", "24", "--no-progress",
                 "--json"]) == 0
    text = capsys.readouterr().out
    rows = json.loads(text.strip().splitlines()[-1])
    by = {r["mode"]: r for r in rows}
    assert by["lossless (k=0)"]["f1"] == 1.0 and by["lossless (k=0)"]["max_abs_error_codes"] == 0
    assert by["near-lossless k=2"]["max_abs_error_codes"] <= 2
    assert by["hybrid target 24x"]["ratio"] >= 24 and by["events-only"]["ratio"] > by["hybrid target 24x"]["ratio"]
    assert all("ratio" in r or "unavailable" in r for r in rows)
    record = json.loads((out / "rd.json").read_text())
    assert record["files"] == 2 and len(record["data_sha256"]) == 64
    assert (out / "rd.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_plan_bundled_and_measured(wav_folder, capsys):
    assert main(["plan", "--channels", "128", "1024", "--uplink", "1e6", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    lossless = [r for r in rows if r["mode"] == "lossless (k=0)"]
    assert [r["channels"] for r in lossless] == [128, 1024] and not lossless[1]["fits"]
    events = [r for r in rows if r["mode"] == "events-only"][0]
    assert events["max_channels"] > lossless[0]["max_channels"]
    assert main(["plan", "--data", str(wav_folder), "--channels", "256", "--no-progress", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    r = [r for r in rows if r["mode"].startswith("MUA")][0]
    assert r["bits_per_s_per_channel"] > 0
    assert r["radio_mw"] == pytest.approx(r["total_mbit_s"] * 1e6 * 20e-9 * 1e3)


def test_plan_table_arithmetic():
    figures = {"modes": [{"mode": "m", "scales_with": "sample rate", "bits_per_sample": 0.5,
                          "bits_per_s_per_channel": 1.0}]}
    (row,) = plan.table(figures, [100], 20000, 1e6, 10)
    assert row["bits_per_s_per_channel"] == 10000 and row["total_mbit_s"] == 1.0 and row["fits"]
    assert row["max_channels"] == 100 and row["radio_mw"] == pytest.approx(10.0)
    with pytest.raises(InvalidConfigError):
        plan.table(figures, [0], 20000, 1e6)
