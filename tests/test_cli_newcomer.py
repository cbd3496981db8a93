"""The CLI as a newcomer meets it: one-line argument errors, -v anywhere, first-run notice, demo labels."""

from __future__ import annotations

import subprocess
import sys

import pytest

from neurocodec import _jit
from neurocodec.cli import main


@pytest.mark.parametrize("argv", [
    ["demo", "--channels", "0"], ["demo", "--channels", "-1"], ["demo", "--seconds", "0"],
    ["demo", "--seconds", "inf"], ["demo", "--channels", "x"], ["eval", "DATA", "--jobs", "0"],
    ["eval", "DATA", "--jobs", "-3"], ["encode", "a.bin", "b.nc", "--channels", "0"], ["nosuch"], [],
])
def test_bad_arguments_are_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err, err


def test_verbose_after_the_subcommand(tmp_path, capsys):
    missing = str(tmp_path / "missing.nc")
    assert main(["decode", missing, str(tmp_path / "x.wav")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    for argv in (["-v", "decode", missing, "x.wav"], ["decode", missing, "x.wav", "-v"],
                 ["decode", "--verbose", missing, "x.wav"]):
        with pytest.raises(Exception, match="cannot read"):
            main(argv)


def test_unknown_codec_lists_every_codec():
    # a fresh interpreter: the message must not depend on which codec modules happen to be imported
    code = "from neurocodec import registry\ntry:\n registry.codec_class('nope')\nexcept Exception as e: print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    for name in ("waveform", "mua", "spikes_adaptive", "spikes_isi", "spikes_streaming"):
        assert name in out, out


def test_demo_labels_cpu_and_wall_time(capsys):
    assert main(["demo", "--seconds", "0.2", "--channels", "2"]) == 0
    out = capsys.readouterr().out
    assert "per core (codec CPU time" in out and "wall clock" in out
    assert out.count("lossless") == 2


def test_first_run_says_it_compiles(monkeypatch, capsys):
    monkeypatch.setattr(_jit, "kernels_cached", lambda *a, **k: False)
    assert main(["demo", "--seconds", "0.1", "--channels", "1"]) == 0
    err = capsys.readouterr().err
    assert "first run: compiling the codec kernels" in err and "compiling kernels" in err


def test_kernels_cached_sees_the_cache():
    _jit.warmup([("waveform", {"preset": "fast"})])
    assert _jit.kernels_cached()


def test_warmup_command(capsys):
    assert main(["warmup", "--codec", "spikes_isi", "--no-progress"]) == 0
    assert "kernels of 1 codec configurations" in capsys.readouterr().out
