"""Executables for the Neuralink compression challenge's ``eval.sh``: ``./encode IN OUT``, ``./decode IN OUT``.

``eval.sh`` starts each executable once per file, so start-up is nearly all of their cost.  They
import neither numba nor NumPy: :func:`write_executables` compiles the waveform kernels ahead of
time into a native library (:mod:`neurocodec.aot`) and writes, beside the two launchers, a
directory holding that library, the pure-standard-library runtime (:mod:`neurocodec.standalone`)
and the codec's constants.  Nothing refers back to this Python environment: the launchers run the
system's ``python3`` in isolated mode, another user can run them (files are world-readable, the
launchers world-executable), and they need no writable directory but the output's.

Layout of ``DIR``::

    encode, decode                 launchers (0755)
    neurocodec-runtime/            ncstandalone.py, nctables.py (+ their bytecode), the kernel library
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

from .errors import NeurocodecError

RUNTIME_DIR = "neurocodec-runtime"
RUNTIME_MODULE = "ncstandalone"
TABLES_MODULE = "nctables"
PRESETS = ("max", "fast")

_LAUNCHER = """#!{interpreter}
# neurocodec challenge {role}r, preset {preset} (written by `neurocodec challenge-exe`): {role}s IN into OUT.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "{runtime}"))
from {module} import main
sys.exit(main("{role}", "{preset}", sys.argv[1:], sys.path[0]))
"""


def _interpreter() -> str:
    """The shebang target: the system's Python 3 (outside any virtualenv, runnable by every user)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.isfile(candidate) and os.stat(candidate).st_mode & 0o001:
            return f"{candidate} -IS"
    return "/usr/bin/env -S python3 -IS"


def _launcher(role: str, preset: str, interpreter: str | None = None) -> str:
    return _LAUNCHER.format(interpreter=interpreter or _interpreter(), role=role, preset=preset,
                            runtime=RUNTIME_DIR, module=RUNTIME_MODULE)


def launcher_bytes() -> int:
    """Size of the two launchers as :func:`write_executables` writes them."""
    return sum(len(_launcher(role, "max").encode()) for role in ("encode", "decode"))


def tables() -> dict:
    """The constants the standalone runtime needs, read from the library itself (never typed twice)."""
    from . import aot, container, registry
    from .waveform import _kernels as K
    from .waveform import lossless as L
    from .waveform.levels import LADDER_VALUES

    configs = {}
    for preset in PRESETS:
        config = registry.non_default_config(L.WaveformCodec(preset=preset))
        configs[preset] = json.dumps(config, sort_keys=True, separators=(",", ":")) if config else ""
    return {
        "library": aot.LIBRARY_NAME,
        "magic": container.MAGIC.decode("ascii"),
        "container_version": container.VERSION,
        "block_rows": container._block_rows_for((1,), None),
        "configs": configs,
        "presets": {name: list(value) for name, value in L.PRESETS.items()},
        "param_sets": [list(p) for p in L.PARAM_SETS],
        "priors": [zlib.compress(p.astype("<i8").tobytes(), 9) for p in L.PRIORS],
        "ladder": [int(v) for v in LADDER_VALUES],
        "p_mixed": K.P_MIXED,
        "max_order": L.MAX_ORDER,
        "state_extra": K.STATE_EXTRA,
        "state_avg": K.STATE_AVG,
        "avg_start": K.AVG_START,
        "max_coef": L.MAX_COEF,
        "max_shift": L.MAX_SHIFT,
        "max_samples": L.MAX_SAMPLES,
        "density_floor": L.DENSITY_FLOOR,
        "samples_per_byte": L.SAMPLES_PER_BYTE,
        "flag_raw": L.FLAG_RAW,
        "flag_padded": L.FLAG_PADDED,
        "status_ok": K.STATUS_OK,
        "status_truncated": K.STATUS_TRUNCATED,
    }


def write_executables(directory, preset: str = "max", *, cpu: str = "host") -> tuple[Path, Path]:
    """Build ``directory/encode`` and ``directory/decode`` for ``preset`` (see the module docstring)."""
    from . import aot, standalone
    from .io.atomic import write_atomic

    if preset not in PRESETS:
        raise NeurocodecError(f"preset must be one of {list(PRESETS)}, got {preset!r}")
    directory = Path(directory)
    runtime = directory / RUNTIME_DIR
    shutil.rmtree(runtime, ignore_errors=True)  # nothing stale from an earlier build
    runtime.mkdir(parents=True)
    aot.build(runtime, cpu=cpu)
    module = runtime / f"{RUNTIME_MODULE}.py"
    write_atomic(module, Path(standalone.__file__).read_bytes())
    constants = runtime / f"{TABLES_MODULE}.py"
    write_atomic(constants, (f'"""Constants of the waveform codec for {RUNTIME_MODULE} (written by `neurocodec '
                             f'challenge-exe` from the library)."""\n\nTABLES = {tables()!r}\n').encode())
    interpreter = _interpreter()
    # bytecode for the interpreter the launchers run, so a read-only install never compiles it again
    # (checked by hash, not time stamp: a copied directory keeps using it)
    compile_it = ("import py_compile, sys\nfor path in sys.argv[1:]: py_compile.compile(path, doraise=True, "
                  "invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)")
    run = subprocess.run(interpreter.split()[:-1] + ["-I", "-c", compile_it, str(module), str(constants)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise NeurocodecError(f"{interpreter} cannot compile the runtime: {run.stderr.strip()}")
    paths = []
    for role in ("encode", "decode"):
        path = directory / role
        write_atomic(path, _launcher(role, preset, interpreter).encode())
        paths.append(path)
    _make_public(directory)
    return paths[0], paths[1]


def _make_public(directory: Path) -> None:
    # world-readable files and directories, executable launchers and library, whatever the umask
    for root, dirs, files in os.walk(directory):
        os.chmod(root, 0o755)
        for name in files:
            path = Path(root) / name
            executable = path.parent == directory and name in ("encode", "decode") or name.endswith(".so")
            path.chmod(0o755 if executable else 0o644)


def time_pair(directory, wav_path, *, runs: int = 1) -> dict:
    """Run ``encode`` then ``decode`` on ``wav_path`` as separate processes ``runs`` times.

    Reports the best run's CPU time (user + system, of the two child processes) and wall time, and
    whether the round trip gave the input's bytes back in every run.
    """
    directory = Path(directory)
    original = Path(wav_path).read_bytes()
    best = None
    with tempfile.TemporaryDirectory() as tmp:
        packed, restored = os.path.join(tmp, "x.nc"), os.path.join(tmp, "x.wav")
        for _ in range(runs):
            times = []
            errors = ""
            for argv in ((directory / "encode", wav_path, packed), (directory / "decode", packed, restored)):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                run = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
                wall = time.perf_counter() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                times.append((cpu, wall, run.returncode))
                errors += run.stderr
            ok = all(rc == 0 for _, _, rc in times)
            result = {
                "encode_cpu_s": times[0][0], "decode_cpu_s": times[1][0],
                "pair_cpu_s": times[0][0] + times[1][0],
                "encode_wall_s": times[0][1], "decode_wall_s": times[1][1],
                "pair_wall_s": times[0][1] + times[1][1],
                "identical": ok and Path(restored).read_bytes() == original,
                "compressed_bytes": os.path.getsize(packed) if times[0][2] == 0 else 0,
                "original_bytes": len(original),
                "stderr": errors.strip(),
            }
            if not result["identical"]:
                return result
            if best is None or result["pair_cpu_s"] < best["pair_cpu_s"]:
                best = result
    return best


def shipped_bytes(directory) -> int:
    """Bytes of everything in a directory :func:`write_executables` wrote (what a challenge entry ships)."""
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
