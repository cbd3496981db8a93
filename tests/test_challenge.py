"""The challenge workflow end to end: standalone executables as separate processes, eval on the dev recordings."""

import importlib.util
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from helpers import int16_fixtures, shared_data
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocodec import api, challenge
from neurocodec.cli import main
from neurocodec.io import wav
from neurocodec.synthetic import recording

RATE = 19531


@pytest.fixture(scope="module")
def exe_dir(tmp_path_factory):
    """One build of the executables (preset max) for the whole module: compiling the kernels takes a while."""
    directory = tmp_path_factory.mktemp("challenge") / "bin"
    challenge.write_executables(directory, "max")
    return directory


@pytest.fixture(scope="module")
def runtime(exe_dir):
    """The standalone runtime loaded from the built directory, as the executables load it."""
    rt = exe_dir / challenge.RUNTIME_DIR
    modules = {}
    for name in (challenge.RUNTIME_MODULE, challenge.TABLES_MODULE):
        spec = importlib.util.spec_from_file_location(f"_test_{name}", rt / f"{name}.py")
        modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules[name])
    standalone = modules[challenge.RUNTIME_MODULE]
    return standalone, standalone.Codec(str(rt), modules[challenge.TABLES_MODULE].TABLES)


def _sample_wavs(tmp_path, count=3) -> list[Path]:
    try:
        return sorted(shared_data("neuralink-dev").glob("*.wav"))[:count]
    except pytest.skip.Exception:
        paths = []
        for i in range(count):
            path = tmp_path / f"syn{i}.wav"
            path.write_bytes(wav.write_bytes(recording(RATE, seed=i), RATE))
            paths.append(path)
        return paths


def _odd_wavs() -> dict[str, bytes]:
    """Mono WAV files the standalone path must code exactly as the library does."""
    out = {name: wav.write_bytes(x, RATE) for name, x in int16_fixtures().items() if x.ndim == 1}
    x = recording(3001, seed=5)
    plain = wav.write_bytes(x, RATE)
    # an extra chunk before the data, an odd-length data chunk with its pad byte, a chunk after it
    extra = b"LIST" + struct.pack("<I", 5) + b"hello\x00"
    out["extra_chunk"] = plain[:36] + extra + plain[36:]
    out["trailing"] = plain[:40] + struct.pack("<I", 2 * 3001 + 1) + plain[44:] + b"\x07\x00" + b"junk" * 3
    out["8bit"] = wav.write_bytes(np.clip(x // 256, -128, 127).astype(np.int16), RATE, bits=8)
    out["long_constant"] = wav.write_bytes(np.full(1_200_000, 321, np.int16), RATE)  # zero-padded payload
    return out


@pytest.mark.parametrize("preset", ["max", "fast"])
def test_standalone_writes_the_library_bytes(runtime, preset, tmp_path):
    standalone, codec = runtime
    cases = _odd_wavs()
    cases.update({p.name: p.read_bytes() for p in _sample_wavs(tmp_path)})
    for name, data in cases.items():
        packed = codec.encode_wav(data, preset, name)
        assert packed == api.encode_bytes(data, preset=preset), name
        assert codec.decode_wav(packed, name) == data, name
        assert api.decode_bytes(packed) == data, name


@settings(max_examples=30, deadline=None)
@given(samples=st.lists(st.integers(-32768, 32767), max_size=600) | st.lists(st.integers(-40, 40), max_size=600),
       preset=st.sampled_from(["max", "fast"]), ladder=st.booleans())
def test_standalone_matches_the_library_on_any_mono_wav(runtime, samples, preset, ladder):
    from neurocodec.waveform.levels import LADDER_VALUES

    _, codec = runtime
    x = np.array(samples, dtype=np.int64)
    x = (LADDER_VALUES[np.clip(x + 512, 0, 1023)] if ladder else x).astype(np.int16)
    data = wav.write_bytes(x, RATE)
    packed = codec.encode_wav(data, preset)
    assert packed == api.encode_bytes(data, preset=preset)
    assert codec.decode_wav(packed) == data


def test_executables_roundtrip_files_as_separate_processes(exe_dir, tmp_path):
    for src in _sample_wavs(tmp_path):
        packed, restored = tmp_path / (src.stem + ".nc"), tmp_path / (src.stem + ".out.wav")
        subprocess.run([str(exe_dir / "encode"), str(src), str(packed)], check=True, capture_output=True)
        subprocess.run([str(exe_dir / "decode"), str(packed), str(restored)], check=True, capture_output=True)
        assert restored.read_bytes() == src.read_bytes()
        assert packed.read_bytes() == api.encode_bytes(src.read_bytes())


def test_executables_import_neither_numpy_nor_numba(exe_dir, tmp_path):
    src = _sample_wavs(tmp_path, 1)[0]
    launcher = (exe_dir / "encode").read_text()
    interpreter = launcher.splitlines()[0][2:].split()
    probe = launcher.replace("sys.exit(main(", "rc = (main(") + (
        "\nassert rc == 0, rc\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'numba', 'scipy')))\n")
    script = exe_dir / "probe.py"
    script.write_text(probe)
    try:
        run = subprocess.run(interpreter + [str(script), str(src), str(tmp_path / "x.nc")], capture_output=True,
                             text=True, check=True)
    finally:
        script.unlink()
    assert run.stdout.strip() == "[]"


def _public_copy(exe_dir) -> Path:
    # a directory another user can reach (pytest's own temporary directories are private)
    root = Path(tempfile.mkdtemp(prefix="neurocodec-exe-"))
    root.chmod(0o755)
    shutil.copytree(exe_dir, root / "bin")
    work = root / "work"
    work.mkdir()
    work.chmod(0o777)
    return root


def test_executables_are_standalone_read_only_and_public(exe_dir, tmp_path):
    """Moved away from where they were built, read-only, no HOME, no virtualenv on PATH: still identical."""
    for role in ("encode", "decode"):
        mode = stat.S_IMODE((exe_dir / role).stat().st_mode)
        assert mode == 0o755, oct(mode)
        assert sys.prefix not in (exe_dir / role).read_text()
    for path in (exe_dir / challenge.RUNTIME_DIR).rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o444 == 0o444, path
    root = _public_copy(exe_dir)
    try:
        bin_dir, work = root / "bin", root / "work"
        for path in [bin_dir, *bin_dir.rglob("*")]:
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)
        src = _sample_wavs(tmp_path, 1)[0]
        env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
        before = sorted(bin_dir.rglob("*"))
        subprocess.run([str(bin_dir / "encode"), str(src), str(work / "x.nc")], check=True, env=env,
                       capture_output=True)
        subprocess.run([str(bin_dir / "decode"), str(work / "x.nc"), str(work / "x.wav")], check=True, env=env,
                       capture_output=True)
        assert (work / "x.wav").read_bytes() == src.read_bytes()
        assert sorted(bin_dir.rglob("*")) == before  # nothing written beside the executables
    finally:
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755)
        shutil.rmtree(root)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to switch users")
def test_executables_run_as_another_user(exe_dir, tmp_path):
    root = _public_copy(exe_dir)
    try:
        src = root / "work" / "in.wav"
        shutil.copyfile(_sample_wavs(tmp_path, 1)[0], src)
        src.chmod(0o644)
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "env", "-i", "PATH=/usr/bin:/bin"]
        work = root / "work"
        for role, a, b in (("encode", src, work / "x.nc"), ("decode", work / "x.nc", work / "x.wav")):
            run = subprocess.run(as_nobody + [str(root / "bin" / role), str(a), str(b)], capture_output=True, text=True)
            assert run.returncode == 0, run.stderr
        assert (work / "x.wav").read_bytes() == src.read_bytes()
    finally:
        shutil.rmtree(root)


def test_executables_fail_cleanly(exe_dir, tmp_path):
    enc, dec = exe_dir / "encode", exe_dir / "decode"
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav")
    run = subprocess.run([str(enc), str(bad), str(tmp_path / "o")], capture_output=True, text=True)
    assert run.returncode == 1 and "not a WAV file" in run.stderr and not (tmp_path / "o").exists()
    stereo = tmp_path / "stereo.wav"
    stereo.write_bytes(wav.write_bytes(recording(1000, channels=2, seed=1), RATE))
    run = subprocess.run([str(enc), str(stereo), str(tmp_path / "o")], capture_output=True, text=True)
    assert run.returncode == 1 and "neurocodec encode" in run.stderr and not (tmp_path / "o").exists()
    packed = bytearray(api.encode_bytes(wav.write_bytes(recording(5000, seed=2), RATE)))
    packed[-10] ^= 0x01
    damaged = tmp_path / "damaged.nc"
    damaged.write_bytes(bytes(packed))
    run = subprocess.run([str(dec), str(damaged), str(tmp_path / "o")], capture_output=True, text=True)
    assert run.returncode == 1 and "CRC mismatch" in run.stderr and not (tmp_path / "o").exists()
    for cut in (3, 20, len(packed) - 1):
        damaged.write_bytes(bytes(packed[:cut]))
        run = subprocess.run([str(dec), str(damaged), str(tmp_path / "o")], capture_output=True, text=True)
        assert run.returncode == 1 and run.stderr.startswith("decode: "), run.stderr
    run = subprocess.run([str(dec)], capture_output=True, text=True)
    assert run.returncode == 2 and "usage" in run.stderr


def test_challenge_exe_command_builds_a_preset_and_times_a_pair(tmp_path, capsys):
    assert main(["challenge-exe", str(tmp_path), "--preset", "fast"]) == 0
    out = capsys.readouterr().out
    assert "s CPU" in out and "s wall" in out and "round trip identical" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decode", "encode", challenge.RUNTIME_DIR]
    assert "preset fast" in (tmp_path / "encode").read_text()
    src = tmp_path.parent / "in.wav"
    src.write_bytes(wav.write_bytes(recording(8000, seed=3), RATE))
    subprocess.run([str(tmp_path / "encode"), str(src), str(tmp_path.parent / "x.nc")], check=True)
    assert (tmp_path.parent / "x.nc").read_bytes() == api.encode_bytes(src.read_bytes(), preset="fast")


def test_challenge_exe_rejects_an_unknown_preset(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["challenge-exe", str(tmp_path), "--preset", "best"])


def test_eval_dev_recordings_lossless(tmp_path, capsys):
    """The foundation bar: every dev recording round-trips through `neurocodec eval --jobs 2 --json`."""
    folder = shared_data("neuralink-dev")
    rc = main(["eval", str(folder), "--jobs", "2", "--json", "--csv", str(tmp_path / "eval.csv"), "--no-progress"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0
    assert summary["files"] == 195 and summary["lossless"] is True
    assert summary["ratio"] > 3.0


def test_standalone_decoder_rejects_every_damaged_stream_with_its_error(runtime):
    standalone, codec = runtime
    data = api.encode_bytes(wav.write_bytes(recording(4000, seed=8), RATE), preset="fast")
    rng = np.random.default_rng(0)
    for cut in sorted(set(rng.integers(0, len(data), 60).tolist()) | {0, 1, 4, 5, len(data) - 1}):
        with pytest.raises(standalone.StandaloneError):
            codec.decode_wav(data[:cut])
    for bit in rng.integers(0, 8 * len(data), 60):
        damaged = bytearray(data)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(standalone.StandaloneError):
            codec.decode_wav(bytes(damaged))


@settings(max_examples=60, deadline=None)
@given(junk=st.binary(max_size=80), keep=st.integers(0, 60))
def test_standalone_encoder_takes_what_the_library_takes_or_says_why(runtime, junk, keep):
    """Arbitrary bytes after a WAV prefix: a StandaloneError, or the library's bytes."""
    standalone, codec = runtime
    data = wav.write_bytes(recording(100, seed=1), RATE)[:keep] + junk
    try:
        packed = codec.encode_wav(data, "max")
    except standalone.StandaloneError:
        return
    assert packed == api.encode_bytes(data)
