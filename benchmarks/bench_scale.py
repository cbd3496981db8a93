"""Throughput at scale: channel count, length, threads, and the challenge executables' process cost.

Arrays of shape (T, C) are cut from the Neuralink dev recordings (default: the folder beside the
repository): all recordings laid end to end, channel ``c`` a window starting ``c * 7919`` samples
further on, so every channel is real data and no two channels are the same.  Without the folder
the synthetic recordings of ``neurocodec.synthetic`` stand in.  For each array, one run measures:

- neurocodec ``max`` and ``fast`` through ``compress``/``decompress``: ratio; per-core speed (M
  samples/s of process CPU time with ``threads=1``); speed on every core (M samples/s of wall
  time with ``threads=None``) and its gain over one thread (wall time with ``threads=1`` / with
  ``threads=None``); per-core speed relative to the mono array of the same run (timed again just
  before and just after the array's, and averaged: on a shared machine the load moves between
  measurements), and relative to ``--own-mono`` of the array's own channels coded one at a time
  as mono recordings of the same length, timed in between (the same samples, so what
  the wide layout costs apart from how hard the data is);
- baselines, one thread each, per core: FLAC -8 (``flac-numcodecs``, in groups of at most 8
  channels, FLAC's own limit), pcodec (``pcodec``, one channel at a time) and WavPack
  (``wavpack-numcodecs``, when installed);
- the challenge executables (``neurocodec challenge-exe``, both presets): CPU and wall time of
  one encode + decode process pair on a dev recording, best of ``--pair-runs``.

Every round trip is checked; a measurement repeats until it has used ``--min-cpu`` seconds of CPU,
and ``--rounds R`` repeats the timings R times, alternating the array with its references and one
thread with all, and reports medians.

    PYTHONPATH=src python benchmarks/bench_scale.py [DIR] [--channels 1 32 384 1024] [--seconds 1 5]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import neurocodec
from neurocodec import challenge, parallel
from neurocodec.io import wav

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "neuralink-dev"
RATE = 19531
CHANNEL_STRIDE = 7919


def load_pool(folder: Path) -> tuple[np.ndarray, list[Path]]:
    paths = sorted(folder.glob("*.wav")) if folder.is_dir() else []
    if not paths:
        from neurocodec.synthetic import recording

        return recording(RATE * 200, seed=11), []
    return np.concatenate([wav.read(p).samples for p in paths]), paths


def make_array(pool: np.ndarray, n_t: int, n_ch: int) -> np.ndarray:
    starts = (np.arange(n_ch, dtype=np.int64) * CHANNEL_STRIDE) % max(1, pool.size - n_t)
    out = np.empty((n_t, n_ch), dtype=np.int16)
    for c, s in enumerate(starts):
        out[:, c] = pool[s:s + n_t]
    return out[:, 0].copy() if n_ch == 1 else out


def timed(fn, min_cpu: float):
    """``(result, CPU seconds per call, wall seconds per call)``, repeating until ``min_cpu`` of CPU."""
    runs = cpu = wall = 0.0
    while True:
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        runs += 1
        if cpu >= min_cpu:
            return out, cpu / runs, wall / runs


class Flac8:
    """FLAC -8 over groups of at most 8 channels (FLAC's limit), one stream each."""

    def __init__(self):
        from flac_numcodecs import Flac

        self.codec = Flac(level=8, sample_rate=RATE)

    def encode(self, x):
        x = x[:, None] if x.ndim == 1 else x
        return [(bytes(self.codec.encode(np.ascontiguousarray(x[:, c:c + 8]))), min(8, x.shape[1] - c))
                for c in range(0, x.shape[1], 8)]

    def decode(self, parts, shape):
        cols = [np.asarray(self.codec.decode(data)).reshape(shape[0], width) for data, width in parts]
        return np.concatenate(cols, axis=1).reshape(shape)

    @staticmethod
    def size(parts):
        return sum(len(d) for d, _ in parts)


class Pcodec:
    """pcodec's standalone format, one channel at a time (a channel is a numeric sequence)."""

    def __init__(self):
        from pcodec import ChunkConfig, standalone

        self.standalone, self.config = standalone, ChunkConfig()

    def encode(self, x):
        x = x[:, None] if x.ndim == 1 else x
        return [self.standalone.simple_compress(np.ascontiguousarray(x[:, c]), self.config) for c in range(x.shape[1])]

    def decode(self, parts, shape):
        return np.stack([self.standalone.simple_decompress(p) for p in parts], axis=1).reshape(shape)

    @staticmethod
    def size(parts):
        return sum(len(p) for p in parts)


class WavPack:
    def __init__(self):
        from wavpack_numcodecs import WavPack as W

        self.codec = W(level=4, num_encoding_threads=1, num_decoding_threads=1)

    def encode(self, x):
        return bytes(self.codec.encode(x))

    def decode(self, data, shape):
        # wavpack-numcodecs 0.1.5 (the version that builds on Debian 12) returns the raw sample bytes
        return np.frombuffer(bytes(self.codec.decode(data)), dtype=np.int16).reshape(shape)

    @staticmethod
    def size(data):
        return len(data)


def baselines():
    out = []
    for name, cls in (("FLAC -8", Flac8), ("pcodec", Pcodec), ("WavPack", WavPack)):
        try:
            out.append((name, cls(), ""))
        except ImportError as exc:
            out.append((name, None, str(exc)))
    return out


def bench_neurocodec(x, preset, min_cpu, mono=None, own=0, rounds=1):
    """Ratio and speeds of ``x``; with ``mono`` (the run's mono array), also its per-core speed timed just
    before and just after the array's (on a shared machine the load moves between measurements), and
    with ``own`` that of ``own`` of the array's channels coded as mono arrays, timed in between.
    ``rounds`` repeats every timing and comparison (the all-core timing and its gain over one thread
    too); each figure is the median of its rounds (a comparison is taken within each round, then the
    median of those)."""
    n = x.size
    cols = own_channels(x, own) if own else []
    data = neurocodec.compress(x, preset=preset, threads=1)
    if not np.array_equal(x, neurocodec.decompress(data, threads=1)):
        raise RuntimeError(f"{preset}: round trip failed")

    # what each timed array decodes from, coded once
    payloads = {id(x): data}
    if mono is not None:
        payloads[id(mono)] = neurocodec.compress(mono, preset=preset, threads=1)

    def per_core(way, arr):
        if way == "enc":
            _, cpu, wall = timed(lambda: neurocodec.compress(arr, preset=preset, threads=1), min_cpu)
        else:
            _, cpu, wall = timed(lambda: neurocodec.decompress(payloads[id(arr)], threads=1), min_cpu)
        return arr.size / cpu / 1e6, wall

    rows = collections.defaultdict(list)
    for _ in range(rounds):
        for way in ("enc", "dec"):
            before = per_core(way, mono)[0] if mono is not None else None
            speed, wall1 = per_core(way, x)
            rows[f"{way}_core"].append(speed)
            if way == "enc":
                coded, _, wall = timed(lambda: neurocodec.compress(x, preset=preset, threads=None), min_cpu)
                if coded != data:
                    raise RuntimeError(f"{preset}: bytes depend on the thread count")
            else:
                _, _, wall = timed(lambda: neurocodec.decompress(data, threads=None), min_cpu)
            rows[f"{way}_all"].append(n / wall / 1e6)
            rows[f"{way}_gain"].append(wall1 / wall)
            if cols:
                own_mono = own_speed(cols, preset, min_cpu, way)
                rows[f"own_mono_{way}_core"].append(own_mono)
                rows[f"{way}_vs_own_mono"].append(speed / own_mono)
            if mono is not None:
                reference = (before + per_core(way, mono)[0]) / 2
                rows[f"mono_{way}_core"].append(reference)
                rows[f"{way}_vs_mono"].append(speed / reference)
    out = {key: float(np.median(values)) for key, values in rows.items()}
    out.update(ratio=x.nbytes / len(data), rounds=rounds)
    return out


def own_channels(x, count):
    """``count`` evenly spaced channels of ``x``, each as a contiguous mono array."""
    picks = np.unique(np.linspace(0, x.shape[1] - 1, min(count, x.shape[1])).astype(int))
    return [np.ascontiguousarray(x[:, c]) for c in picks]


def own_speed(cols, preset, min_cpu, way):
    """Per-core speed (``way``: "enc" or "dec") of the channels ``cols`` coded one at a time as mono arrays."""
    n = sum(c.size for c in cols)
    if way == "enc":
        _, cpu, _ = timed(lambda: [neurocodec.compress(c, preset=preset, threads=1) for c in cols], min_cpu)
        return n / cpu / 1e6
    data = [neurocodec.compress(c, preset=preset, threads=1) for c in cols]
    ys, cpu, _ = timed(lambda: [neurocodec.decompress(d, threads=1) for d in data], min_cpu)
    if not all(np.array_equal(c, y) for c, y in zip(cols, ys)):
        raise RuntimeError(f"{preset}: round trip of a channel failed")
    return n / cpu / 1e6


def bench_baseline(codec, x, min_cpu):
    parts, enc_cpu, _ = timed(lambda: codec.encode(x), min_cpu)
    y, dec_cpu, _ = timed(lambda: codec.decode(parts, x.shape), min_cpu)
    if not np.array_equal(np.asarray(y).astype(x.dtype), x):
        raise RuntimeError("round trip failed")
    return {"ratio": x.nbytes / codec.size(parts), "enc_core": x.size / enc_cpu / 1e6,
            "dec_core": x.size / dec_cpu / 1e6}


def bench_executables(sample: Path, runs: int) -> list[dict]:
    rows = []
    for preset in ("max", "fast"):
        with tempfile.TemporaryDirectory() as tmp:
            challenge.write_executables(tmp, preset)
            timing = challenge.time_pair(tmp, sample, runs=runs)
            timing["preset"] = preset
            timing["shipped_bytes"] = challenge.shipped_bytes(tmp)
            rows.append(timing)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--channels", type=int, nargs="+", default=[1, 32, 384, 1024])
    ap.add_argument("--seconds", type=float, nargs="+", default=[1.0, 5.0], help="array lengths at 19,531 Hz")
    ap.add_argument("--presets", nargs="+", default=["max", "fast"], choices=["max", "fast"])
    ap.add_argument("--min-cpu", type=float, default=0.3, help="CPU seconds each measurement runs for at least")
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--no-exe", action="store_true", help="skip building and timing the challenge executables")
    ap.add_argument("--pair-runs", type=int, default=5)
    ap.add_argument("--own-mono", type=int, default=8, metavar="N",
                    help="channels of each wide array also coded alone as mono arrays (0: skip)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat every timing and comparison; medians are reported")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = ap.parse_args(argv)

    pool, paths = load_pool(args.folder)
    source = f"{len(paths)} dev recordings in {args.folder}" if paths else "synthetic recordings (no dev folder)"
    print(f"arrays cut from {source}; {parallel.available_cores()} cores; "
          f"per core = M samples/s of CPU time, all cores = M samples/s of wall time")
    results = []
    others = [] if args.no_baselines else baselines()
    for name, codec, why in others:
        if codec is None:
            print(f"{name}: unavailable ({why.splitlines()[0] if why else 'not installed'})")
    neurocodec.decompress(neurocodec.compress(make_array(pool, 2000, 2), preset="max"))  # compile outside timing
    neurocodec.decompress(neurocodec.compress(make_array(pool, 2000, 2), preset="fast"))
    header = (f"{'codec':14} {'C':>5} {'T s':>5} {'ratio':>6} {'enc/core':>9} {'dec/core':>9} {'enc all':>8} "
              f"{'dec all':>8} {'enc x':>6} {'dec x':>6} {'enc/mono':>8} {'dec/mono':>8} {'enc/own':>7} {'dec/own':>7}")
    print(header)
    mono = {}
    for seconds in args.seconds:
        n_t = int(round(seconds * RATE))
        for n_ch in args.channels:
            x = make_array(pool, n_t, n_ch)
            for preset in args.presets:
                wide = n_ch > 1
                r = bench_neurocodec(x, preset, args.min_cpu, mono.get(seconds) if wide else None,
                                     args.own_mono if wide else 0, max(1, args.rounds))
                if n_ch == 1:
                    mono[seconds] = x
                    r.update(enc_vs_mono=1.0, dec_vs_mono=1.0)
                r.update(codec=f"neurocodec {preset}", channels=n_ch, seconds=seconds)
                results.append(r)
                print(f"{r['codec']:14} {n_ch:5d} {seconds:5g} {r['ratio']:6.3f} {r['enc_core']:9.2f} "
                      f"{r['dec_core']:9.2f} {r['enc_all']:8.2f} {r['dec_all']:8.2f} {r['enc_gain']:6.2f} "
                      f"{r['dec_gain']:6.2f} {r.get('enc_vs_mono', float('nan')):8.2f} "
                      f"{r.get('dec_vs_mono', float('nan')):8.2f} {r.get('enc_vs_own_mono', float('nan')):7.2f} "
                      f"{r.get('dec_vs_own_mono', float('nan')):7.2f}", flush=True)
            for name, codec, _ in others:
                if codec is None:
                    continue
                try:
                    r = bench_baseline(codec, x, args.min_cpu)
                except Exception as exc:  # a broken baseline is reported, the run goes on
                    print(f"{name:14} {n_ch:5d} {seconds:5g} failed ({type(exc).__name__}: {exc})")
                    continue
                r.update(codec=name, channels=n_ch, seconds=seconds)
                results.append(r)
                print(f"{name:14} {n_ch:5d} {seconds:5g} {r['ratio']:6.3f} {r['enc_core']:9.2f} "
                      f"{r['dec_core']:9.2f}", flush=True)

    pairs = []
    if not args.no_exe:
        sample = paths[0] if paths else None
        if sample is None:
            tmp = Path(tempfile.mkdtemp())
            sample = tmp / "synthetic.wav"
            sample.write_bytes(wav.write_bytes(pool[: RATE * 5], RATE))
        print(f"\nchallenge executables: one encode + decode process pair on {sample.name}, "
              f"best of {args.pair_runs}")
        print(f"{'preset':7} {'pair CPU s':>10} {'pair wall s':>11} {'enc CPU s':>9} {'dec CPU s':>9} "
              f"{'ratio':>6} {'shipped B':>10}")
        for p in bench_executables(sample, args.pair_runs):
            if not p["identical"]:
                print(f"{p['preset']:7} FAILED: {p['stderr']}")
                continue
            pairs.append(p)
            print(f"{p['preset']:7} {p['pair_cpu_s']:10.3f} {p['pair_wall_s']:11.3f} {p['encode_cpu_s']:9.3f} "
                  f"{p['decode_cpu_s']:9.3f} {p['original_bytes'] / p['compressed_bytes']:6.3f} "
                  f"{p['shipped_bytes']:10d}")
    if args.json:
        args.json.write_text(json.dumps({"arrays": results, "executables": pairs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
