"""Benchmark the lossless waveform codec against general-purpose and audio codecs.

One run over a folder of mono 16-bit WAV recordings (default: the Neuralink dev set beside the
repository) prints, per codec: ratio (sum of WAV file bytes / sum of compressed bytes), encode and
decode speed in M samples/s on one core (the thread's CPU time in the codec: no WAV I/O, no time
lost to other processes on a shared machine; best of ``--repeat`` passes).
Baselines run twice: on the raw samples and after the lossless level mapping (samples -> ADC level
indices, neurocodec.waveform.levels), whose header bytes are counted.  A baseline whose package is
missing is listed as unavailable.

    python benchmarks/bench_waveform.py [DIR] [--files N] [--repeat R]
"""

from __future__ import annotations

import argparse
import bz2
import lzma
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from neurocodec.waveform import WaveformCodec
from neurocodec.waveform.levels import choose_mapping, read_mapping

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "neuralink-dev"


class BytesCodec:
    """A bytes-in/bytes-out compressor applied to the little-endian int16 samples."""

    def __init__(self, compress, decompress):
        self.compress, self.decompress = compress, decompress

    def encode(self, x):
        return self.compress(np.ascontiguousarray(x, dtype="<i2").tobytes())

    def decode(self, data):
        return np.frombuffer(self.decompress(data), dtype="<i2")


def as_samples(decoded, dtype) -> np.ndarray:
    """A codec's decode output as a flat array: some numcodecs codecs return a bare buffer."""
    if isinstance(decoded, (bytes, bytearray, memoryview)):
        return np.frombuffer(decoded, dtype=dtype)
    return np.asarray(decoded).reshape(-1)


class LevelMapped:
    """Lossless level mapping, then ``inner`` on the level indices (as int16)."""

    def __init__(self, inner):
        self.inner = inner

    def encode(self, x):
        mapping, levels = choose_mapping(x)
        return mapping.header() + bytes(self.inner.encode(levels.astype(np.int16)))

    def decode(self, data):
        buf = np.frombuffer(data, dtype=np.uint8)
        mapping, pos = read_mapping(buf, 0, -32768, 32767)
        levels = as_samples(self.inner.decode(data[pos:]), np.int16).astype(np.int64)
        return mapping.to_samples(levels, np.int16)


def baselines() -> list[tuple[str, object | None, str]]:
    """(name, codec or None, reason it is unavailable)."""
    out: list[tuple[str, object | None, str]] = []
    try:
        import zstandard

        out.append(("zstd -19", BytesCodec(zstandard.ZstdCompressor(level=19).compress,
                                           zstandard.ZstdDecompressor().decompress), ""))
    except ImportError as exc:
        out.append(("zstd -19", None, str(exc)))
    out.append(("bz2 -9", BytesCodec(lambda b: bz2.compress(b, 9), bz2.decompress), ""))
    out.append(("xz -9e", BytesCodec(lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME),
                                     lzma.decompress), ""))
    try:
        from flac_numcodecs import Flac

        out.append(("FLAC -8", Flac(level=8, sample_rate=19531), ""))
    except ImportError as exc:
        out.append(("FLAC -8", None, str(exc)))
    try:
        from wavpack_numcodecs import WavPack

        # one thread each way: speeds here are per core (the decoder defaults to 8 threads)
        out.append(("WavPack", WavPack(level=4, num_encoding_threads=1, num_decoding_threads=1), ""))
    except ImportError as exc:
        out.append(("WavPack", None, str(exc)))
    return out


def measure(codec, recordings, repeat):
    """(compressed bytes, encode seconds, decode seconds), checking every round trip."""
    best_enc = best_dec = float("inf")
    size = 0
    for _ in range(repeat):
        enc = dec = 0.0
        size = 0
        for x in recordings:
            t0 = time.thread_time()
            data = codec.encode(x)
            t1 = time.thread_time()
            y = codec.decode(data)
            t2 = time.thread_time()
            if not np.array_equal(as_samples(y, x.dtype).reshape(x.shape), x):
                raise RuntimeError(f"{codec!r} did not round-trip")
            enc += t1 - t0
            dec += t2 - t1
            size += len(data)
        best_enc, best_dec = min(best_enc, enc), min(best_dec, dec)
    return size, best_enc, best_dec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--files", type=int, default=0, help="use N files spread over the folder (default all)")
    ap.add_argument("--repeat", type=int, default=2, help="passes per codec; the fastest counts")
    args = ap.parse_args(argv)
    paths = sorted(args.folder.glob("*.wav"))
    if args.files:
        paths = paths[:: max(1, len(paths) // args.files)][: args.files]
    if not paths:
        print(f"no WAV files in {args.folder}", file=sys.stderr)
        return 1
    recordings = [wavfile.read(p)[1] for p in paths]
    wav_bytes = sum(os.path.getsize(p) for p in paths)
    samples = sum(x.size for x in recordings)
    print(f"{len(paths)} recordings, {samples} samples, {wav_bytes} WAV bytes; speeds per core, best of {args.repeat}")

    rows: list[tuple[str, object | None, str]] = [
        (f"neurocodec.waveform {preset}", WaveformCodec(preset), "") for preset in ("max", "fast")
    ]
    for name, codec, why in baselines():
        rows.append((name, codec, why))
        rows.append((name + " + levels", LevelMapped(codec) if codec is not None else None, why))

    print(f"{'codec':34} {'ratio':>7} {'enc MS/s':>9} {'dec MS/s':>9}")
    for name, codec, why in rows:
        if codec is None:
            print(f"{name:34} unavailable ({why.splitlines()[0] if why else 'not installed'})")
            continue
        try:
            codec.decode(codec.encode(recordings[0][:2000]))  # compile / warm up outside the timing
            size, enc, dec = measure(codec, recordings, args.repeat)
        except Exception as exc:  # a broken baseline is reported, the run goes on
            print(f"{name:34} failed ({type(exc).__name__}: {exc})")
            continue
        print(f"{name:34} {wav_bytes / size:7.4f} {samples / enc / 1e6:9.2f} {samples / dec / 1e6:9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
