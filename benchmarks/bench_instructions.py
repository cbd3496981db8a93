"""Instructions, branches and mispredictions per sample of the waveform coder kernel, under cachegrind.

Timings on a shared machine move by +-25 % from run to run; cachegrind's counts do not.  This builds
the challenge executables (the coder compiled ahead of time, so the process runs the very kernel
without numba's start-up), runs ``./encode`` and ``./decode`` on one recording under
``valgrind --tool=cachegrind --branch-sim=yes`` and prints, for the coder's function only, what it
executed per sample.  Needs valgrind (``apt-get install valgrind``) and a C++ compiler.

    PYTHONPATH=src python benchmarks/bench_instructions.py [WAV] [--preset fast max]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_WAV = Path(__file__).resolve().parents[1] / "../shared/data/neuralink-dev/01671c57-4584-40cd-998d-c49b211e386c.wav"
# cg_annotate's columns for --cache-sim=no --branch-sim=yes: Ir Bc Bcm Bi Bim
_FIELDS = ("Ir", "Bc", "Bcm", "Bi", "Bim")


def coder_counts(report: str) -> dict:
    """The event counts of the coder's function (``code_levels``) in a cg_annotate report."""
    for line in report.splitlines():
        if "code_levels" in line:
            numbers = re.sub(r"\([^)]*\)", "", line.split("???:")[0]).replace(",", "").split()
            return dict(zip(_FIELDS, map(int, numbers)))
    raise SystemExit("the coder's function is not in the cachegrind report")


def measure(wav: Path, preset: str, work: Path) -> dict:
    from neurocodec.challenge import write_executables
    from neurocodec.io import wav as wavio

    exe = work / preset
    write_executables(exe, preset)
    samples = wavio.parse(wav.read_bytes(), str(wav)).samples.size
    out = {}
    for role, args in (("encode", [wav, exe / "x.nc"]), ("decode", [exe / "x.nc", exe / "x.wav"])):
        profile = exe / f"cachegrind.{role}"
        subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--branch-sim=yes",
                        f"--cachegrind-out-file={profile}", str(exe / role), *map(str, args)],
                       check=True, capture_output=True)
        report = subprocess.run(["cg_annotate", str(profile)], check=True, capture_output=True, text=True).stdout
        out[role] = {k: v / samples for k, v in coder_counts(report).items()}
    if (exe / "x.wav").read_bytes() != wav.read_bytes():
        raise SystemExit(f"{preset}: the executables did not round-trip {wav}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wav", nargs="?", type=Path, default=DEFAULT_WAV)
    parser.add_argument("--preset", nargs="+", default=["fast", "max"], choices=["fast", "max"])
    args = parser.parse_args(argv)
    if not shutil.which("valgrind") or not shutil.which("cg_annotate"):
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    print(f"{args.wav.name}: per sample, in the coder's function")
    print(f"{'preset':<7}{'role':<8}{'instructions':>13}{'branches':>10}{'mispredicted':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.preset:
            for role, c in measure(args.wav.resolve(), preset, Path(tmp)).items():
                print(f"{preset:<7}{role:<8}{c['Ir']:>13.1f}{c['Bc'] + c['Bi']:>10.1f}{c['Bcm'] + c['Bim']:>14.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
