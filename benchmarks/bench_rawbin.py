"""Raw interleaved binaries (SpikeGLX-style .bin): neurocodec against mtscomp in one run, with peak memory.

    python benchmarks/bench_rawbin.py --gb 2 --channels 385 --dir /tmp/rawbench [--preset fast]

Writes a synthetic SpikeGLX-style recording (int16, ``channels`` interleaved, a ``.meta`` beside
it; blocks of :func:`neurocodec.synthetic.recording`, each channel its own seed) of ``--gb`` GB,
then in child processes: ``neurocodec encode``, ``neurocodec decode`` (compared byte for byte with
the input) and, when installed, mtscomp's compress.  Peak memory is each child's maximum resident
set (``ru_maxrss``), CPU time its user + system time.  ``--keep`` leaves the files.  This
process stays small (no NumPy; the recording is written by a child) because a child's
``ru_maxrss`` starts from its parent's resident set at fork.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


SAMPLE_RATE = 30000


def write_recording(path: Path, gigabytes: float, channels: int) -> int:
    """A .bin of about ``gigabytes`` GB from 1-second blocks (a few distinct ones, cycled) and its .meta."""
    from neurocodec.synthetic import recording

    rows_per_block = SAMPLE_RATE
    blocks = [recording(rows_per_block, channels=channels, seed=100 + i) for i in range(4)]
    frame = channels * 2
    n_blocks = max(1, -int(-gigabytes * 1e9 // (rows_per_block * frame)))
    with open(path, "wb") as f:
        for i in range(n_blocks):
            f.write(blocks[i % len(blocks)].tobytes())
    size = path.stat().st_size
    path.with_suffix(".meta").write_text(
        f"nSavedChans={channels}\nimSampRate={SAMPLE_RATE}\nfileSizeBytes={size}\ntypeThis=imec\n")
    return size


def run(cmd: list[str]) -> dict:
    """Run ``cmd``; its wall time, CPU time and peak resident memory (this child only)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def _mtscomp(work: Path, src: Path, channels: int):
    """mtscomp's compress and decompress of ``src`` in child processes, or None when it is not installed."""
    try:
        import mtscomp  # noqa: F401
    except ImportError:
        print("mtscomp: not installed (pip install mtscomp)")
        return None
    cbin, ch, back = work / "rec.cbin", work / "rec.ch", work / "back" / "rec.mts.bin"
    enc = run([sys.executable, "-c", f"import mtscomp; mtscomp.compress({str(src)!r}, {str(cbin)!r}, {str(ch)!r}, "
               f"sample_rate={SAMPLE_RATE}, n_channels={channels}, dtype='int16', n_threads=1)"])
    dec = run([sys.executable, "-c", f"import mtscomp; mtscomp.decompress({str(cbin)!r}, {str(ch)!r}, {str(back)!r})"])
    return ("mtscomp (1 thread)", cbin.stat().st_size + ch.stat().st_size, enc, dec,
            filecmp.cmp(src, back, shallow=False))


def _table(rows, size: int) -> None:
    print("| codec | ratio | encode CPU s | encode wall s | encode peak MB | decode CPU s | decode peak MB | identical |")
    print("|---|---|---|---|---|---|---|---|")
    for name, nbytes, e, d, same in rows:
        print(f"| {name} | {size / nbytes:.4f} | {e['cpu_s']:.1f} | {e['wall_s']:.1f} | {e['peak_mb']:.0f} | "
              f"{d['cpu_s']:.1f} | {d['peak_mb']:.0f} | {same} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--channels", type=int, default=385)
    ap.add_argument("--dir", default="/tmp/neurocodec-rawbench")
    ap.add_argument("--preset", default="fast", choices=["max", "fast"])
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--no-mtscomp", action="store_true", help="neurocodec only (mtscomp takes ~4x its time)")
    ap.add_argument("--reuse", action="store_true", help="keep an existing rec.ap.bin of the right size")
    ap.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    src = work / "rec.ap.bin"
    if args.write_only:
        write_recording(src, args.gb, args.channels)
        return
    if not (args.reuse and src.exists() and src.with_suffix(".meta").exists()):
        subprocess.run([sys.executable, __file__, "--write-only", "--gb", str(args.gb), "--channels",
                        str(args.channels), "--dir", str(work)], check=True)
    size = src.stat().st_size
    print(f"input: {src}, {size:,} bytes, {args.channels} channels int16")
    exe = [sys.executable, "-m", "neurocodec"]
    # kernels compiled before timing, as a user's second run finds them
    subprocess.run([*exe, "demo", "--seconds", "0.2", "--channels", "2"], check=True, capture_output=True)
    out = work / "rec.nc"
    enc = run([*exe, "encode", str(src), str(out), "--preset", args.preset, "--no-progress"])
    back = work / "back" / "rec.ap.bin"
    back.parent.mkdir(exist_ok=True)
    dec = run([*exe, "decode", str(out), str(back), "--no-progress"])
    identical = filecmp.cmp(src, back, shallow=False)
    rows = [("neurocodec " + args.preset, out.stat().st_size, enc, dec, identical)]
    _table(rows, size)
    if not args.no_mtscomp:
        row = _mtscomp(work, src, args.channels)
        if row:
            _table([*rows, row], size)
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
