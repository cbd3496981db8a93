import json
import zipfile

import pytest

from neurocodec.cli import main
from neurocodec.io import wav
from neurocodec.synthetic import recording


@pytest.fixture
def wav_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(3):
        (folder / f"rec{i}.wav").write_bytes(wav.write_bytes(recording(2000 + 7 * i, seed=i), 19531))
    (folder / "readme.txt").write_text("not a recording")
    return folder


def test_encode_decode_inspect(tmp_path, wav_folder, capsys):
    src = wav_folder / "rec1.wav"
    packed, restored = tmp_path / "x.nc", tmp_path / "x.wav"
    assert main(["encode", str(src), str(packed), "--codec", "test_raw"]) == 0
    assert main(["decode", str(packed), str(restored)]) == 0
    assert restored.read_bytes() == src.read_bytes()
    capsys.readouterr()
    assert main(["inspect", str(packed)]) == 0
    text = capsys.readouterr().out
    assert "neurocodec.test_raw" in text and "block    0" in text
    assert main(["inspect", "--json", str(packed)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["bytes"]["total"] == packed.stat().st_size


def test_stdin_stdout(tmp_path, wav_folder, capsysbinary, monkeypatch):
    import io
    import sys

    src = (wav_folder / "rec0.wav").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(src)))
    assert main(["encode", "-", "-", "--codec", "test_raw"]) == 0
    packed = capsysbinary.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(packed)))
    assert main(["decode", "-", "-"]) == 0
    assert capsysbinary.readouterr().out == src


def test_errors_are_one_line_and_verbose_raises(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\0\0\0\0WAVEjunk")
    assert main(["encode", str(bad), str(tmp_path / "o.nc")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("neurocodec: error: ") and "bad.wav" in err
    assert main(["decode", str(tmp_path / "missing.nc"), str(tmp_path / "o.wav")]) == 1
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(Exception):
        main(["-v", "encode", str(bad), str(tmp_path / "o.nc")])
    assert main(["encode", str(bad), str(tmp_path / "o.nc"), "--set", "novalue"]) == 1
    assert "KEY=VALUE" in capsys.readouterr().err


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_eval_folder_json_and_csv(tmp_path, wav_folder, capsys):
    csv_path = tmp_path / "r.csv"
    rc = main(["eval", str(wav_folder), "--json", "--csv", str(csv_path), "--no-progress", "--codec", "test_raw"])
    assert rc == 0
    summary = _last_json(capsys.readouterr().out)
    sizes = [p.stat().st_size for p in sorted(wav_folder.glob("*.wav"))]
    assert summary["files"] == 3 and summary["lossless"] is True
    assert summary["original_bytes"] == sum(sizes)
    assert summary["ratio"] == pytest.approx(summary["original_bytes"] / summary["compressed_bytes"])
    assert summary["ratio_with_codec_size"] < summary["ratio"]
    assert summary["samples"] == 2000 + 2007 + 2014
    for key in ("encode_s", "decode_s"):
        assert summary[key] > 0
    rows = csv_path.read_text().splitlines()
    assert rows[0] == "file,original_bytes,compressed_bytes,encode_s,decode_s,identical,samples,error"
    assert len(rows) == 4 and all(",True," in r for r in rows[1:])


def test_eval_zip_with_jobs(tmp_path, wav_folder, capsys):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in wav_folder.glob("*.wav"):
            z.write(p, f"data/{p.name}")
    rc = main(["eval", str(archive), "--jobs", "2", "--json", "--csv", str(tmp_path / "z.csv"),
               "--no-progress", "--codec", "test_raw"])
    assert rc == 0
    assert _last_json(capsys.readouterr().out)["files"] == 3


def test_eval_reports_unreadable_files_as_errors_with_nonzero_exit(tmp_path, wav_folder, capsys):
    (wav_folder / "broken.wav").write_bytes(b"RIFF\x10\0\0\0WAVEfmt ")
    rc = main(["eval", str(wav_folder), "--json", "--csv", str(tmp_path / "r.csv"), "--no-progress",
               "--codec", "test_raw"])
    assert rc == 1
    captured = capsys.readouterr()
    summary = _last_json(captured.out)
    # a file that cannot be parsed is an error of the input, not a lossless failure of the codec
    assert summary["lossless"] is True and summary["failed"] == [] and summary["errors"] == ["broken.wav"]
    assert "broken.wav" in captured.err and "could not be read" in captured.out


def test_eval_empty_folder_is_an_error(tmp_path, capsys):
    assert main(["eval", str(tmp_path), "--no-progress"]) == 1
    assert "no .wav files" in capsys.readouterr().err


def test_codecs_lists_registered(capsys):
    assert main(["codecs"]) == 0
    assert "test_raw" in capsys.readouterr().out.split()
