"""The challenge workflow end to end: executables as separate processes, eval on the dev recordings."""

import json
import subprocess

import pytest
from helpers import shared_data

from neurocodec import challenge
from neurocodec.cli import main
from neurocodec.io import wav
from neurocodec.synthetic import recording


def test_executables_roundtrip_files_as_separate_processes(tmp_path):
    enc, dec = challenge.write_executables(tmp_path / "bin")
    try:
        folder = shared_data("neuralink-dev")
        samples = sorted(folder.glob("*.wav"))[:3]
    except pytest.skip.Exception:
        samples = []
        for i in range(3):
            path = tmp_path / f"syn{i}.wav"
            path.write_bytes(wav.write_bytes(recording(19531, seed=i), 19531))
            samples.append(path)
    for src in samples:
        packed, restored = tmp_path / (src.stem + ".nc"), tmp_path / (src.stem + ".out.wav")
        subprocess.run([str(enc), str(src), str(packed)], check=True, capture_output=True)
        subprocess.run([str(dec), str(packed), str(restored)], check=True, capture_output=True)
        assert restored.read_bytes() == src.read_bytes()
        assert packed.stat().st_size < src.stat().st_size / 2


def test_executables_fail_cleanly(tmp_path):
    enc, dec = challenge.write_executables(tmp_path)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav")
    run = subprocess.run([str(enc), str(bad), str(tmp_path / "o")], capture_output=True, text=True)
    assert run.returncode == 1 and "not a WAV file" in run.stderr and not (tmp_path / "o").exists()
    run = subprocess.run([str(dec)], capture_output=True, text=True)
    assert run.returncode == 2 and "usage" in run.stderr


def test_challenge_exe_command_times_a_pair(tmp_path, capsys):
    assert main(["challenge-exe", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "one encode + decode process pair" in out and "round trip identical" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decode", "encode"]


def test_eval_dev_recordings_lossless(tmp_path, capsys):
    """The foundation bar: every dev recording round-trips through `neurocodec eval --jobs 2 --json`."""
    folder = shared_data("neuralink-dev")
    rc = main(["eval", str(folder), "--jobs", "2", "--json", "--csv", str(tmp_path / "eval.csv"), "--no-progress"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0
    assert summary["files"] == 195 and summary["lossless"] is True
    assert summary["ratio"] > 3.0
