"""Executables for the Neuralink compression challenge's ``eval.sh``: ``./encode IN OUT``, ``./decode IN OUT``.

``eval.sh`` starts each executable once per file, so start-up time counts: the launchers import only
the API, numba kernels load from their on-disk cache (``cache=True``) after the first run, and the
codec's defaults are the challenge settings.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_LAUNCHER = """#!{python}
# neurocodec challenge {role}er: {role}s IN into OUT (written by `neurocodec challenge-exe`).
import sys
from neurocodec.challenge import {role}_main
sys.exit({role}_main(sys.argv[1:]))
"""


def _run(role: str, argv: list[str]) -> int:
    from . import api
    from .errors import NeurocodecError

    if len(argv) != 2:
        print(f"usage: {role} IN OUT", file=sys.stderr)
        return 2
    try:
        if role == "encode":
            api.encode_file(argv[0], argv[1])
        else:
            api.decode_file(argv[0], argv[1])
    except (NeurocodecError, OSError) as exc:
        print(f"{role}: {exc}", file=sys.stderr)
        return 1
    return 0


def encode_main(argv: list[str]) -> int:
    """Entry point of the ``encode`` executable."""
    return _run("encode", argv)


def decode_main(argv: list[str]) -> int:
    """Entry point of the ``decode`` executable."""
    return _run("decode", argv)


def _launcher(role: str) -> str:
    return _LAUNCHER.format(python=sys.executable, role=role)


def launcher_bytes() -> int:
    """Size of the two launchers as :func:`write_executables` writes them."""
    return sum(len(_launcher(role).encode()) for role in ("encode", "decode"))


def write_executables(directory) -> tuple[Path, Path]:
    """Write ``directory/encode`` and ``directory/decode`` (executable) for this Python environment."""
    from .io.atomic import write_atomic

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for role in ("encode", "decode"):
        path = directory / role
        write_atomic(path, _launcher(role).encode())
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        paths.append(path)
    return paths[0], paths[1]


def time_pair(directory, wav_path) -> dict:
    """Run ``encode`` then ``decode`` on ``wav_path`` as separate processes; wall times and identity."""
    directory = Path(directory)
    with tempfile.TemporaryDirectory() as tmp:
        packed, restored = os.path.join(tmp, "x.nc"), os.path.join(tmp, "x.wav")
        t0 = time.perf_counter()
        enc = subprocess.run([str(directory / "encode"), str(wav_path), packed], capture_output=True, text=True)
        t1 = time.perf_counter()
        dec = subprocess.run([str(directory / "decode"), packed, restored], capture_output=True, text=True)
        t2 = time.perf_counter()
        ok = enc.returncode == 0 and dec.returncode == 0
        identical = ok and Path(restored).read_bytes() == Path(wav_path).read_bytes()
        return {
            "encode_wall_s": t1 - t0,
            "decode_wall_s": t2 - t1,
            "pair_wall_s": t2 - t0,
            "identical": identical,
            "compressed_bytes": os.path.getsize(packed) if enc.returncode == 0 else 0,
            "stderr": (enc.stderr + dec.stderr).strip(),
        }
