"""Spike-raster codecs against the iid bound, general compressors and sc-neurocore's spike_codec.

Run: ``python benchmarks/bench_spikes.py`` (``--quick`` for a 20 000-bin smoke run).  Prints

1. ``adaptive`` (and ``isi``) efficiency on Bernoulli rasters: bound bits / coded bits, the
   coded size being the whole standalone stream (container header included);
2. sizes on structured rasters, every codec side by side: ours, sc-neurocore 3.16's (when it
   imports), zstd -19 / bz2 -9 / lzma (preset 6) on ``np.packbits`` of the raster, and the bound;
3. throughput in M bins/s, one core, best of ``--repeat`` runs (numba kernels are single-threaded;
   the load average is printed because on a shared machine other processes slow every row).

sc-neurocore's 3.16 wheel cannot import its spike_codec package (``sc_neurocore.world_model`` is
missing from the wheel); only here, the missing module is stubbed in ``sys.modules`` so the
codecs that do not use it load.  Its world-model predictor is the only thing the stub disables.
"""

from __future__ import annotations

import argparse
import bz2
import lzma
import os
import sys
import time
from functools import partial

import numpy as np

from neurocodec import spikes
from neurocodec.spikes import synthetic
from neurocodec.spikes.base import entropy_bound_bits

try:
    import zstandard
except ImportError:   # the bench extra is not installed: the zstd column says so
    zstandard = None


def load_sc_neurocore():
    """sc-neurocore's spike_codec module and its label, or None and the reason it is unavailable."""
    from neurocodec.fidelity.rd import load_sc_neurocore as load

    scn, reason = load()
    if scn is None:
        return None, reason
    return scn, "sc-neurocore " + getattr(sys.modules["sc_neurocore"], "__version__", "?")


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def general_compressors(raster: np.ndarray) -> dict:
    packed = np.packbits(raster).tobytes()
    out = {
        "bz2-9": len(bz2.compress(packed, 9)),
        "lzma": len(lzma.compress(packed)),
    }
    if zstandard is not None:
        out["zstd-19"] = len(zstandard.ZstdCompressor(level=19).compress(packed))
    return out


def section_bernoulli(T: int, N: int, densities) -> None:
    print(f"\n== 1. Efficiency on Bernoulli rasters ({T} x {N}), whole container stream ==")
    print(f"{'density':>8} {'spikes':>9} {'bound B':>10} {'adaptive B':>11} {'eff':>8} {'isi B':>9} {'eff':>8}")
    for p in densities:
        raster = synthetic.bernoulli(T, N, p, seed=int(p * 1e4))
        bound = entropy_bound_bits(T, N, int(raster.sum())) / 8
        row = [f"{p:>8.3%}", f"{int(raster.sum()):>9}", f"{bound:>10.1f}"]
        for name in ("adaptive", "isi"):
            data, result = spikes.get_codec(name).compress(raster)
            assert np.array_equal(spikes.get_codec(name).decompress(data), raster)
            row += [f"{len(data):>11}" if name == "adaptive" else f"{len(data):>9}", f"{result.efficiency:>8.4f}"]
        print(" ".join(row))


def section_structured(T: int, N: int, scn) -> None:
    rasters = {
        "bursty (network)": synthetic.bursty(T, N, seed=1),
        "correlated (footprints)": synthetic.correlated(T, N, seed=2),
        "poisson 1-10 Hz @1 ms": synthetic.poisson_units(T, N, seed=3),
        "bursty (independent)": synthetic.bursty(T, N, network=False, seed=1),
        "correlated (groups of 8)": synthetic.correlated(T, N, group=8, seed=2),
    }
    print(f"\n== 2. Sizes in bytes on structured rasters ({T} x {N}); * = smallest ==")
    for label, raster in rasters.items():
        n = int(raster.sum())
        sizes = {}
        for name in spikes.list_codecs():
            data, _ = spikes.get_codec(name).compress(raster)
            assert np.array_equal(spikes.get_codec(name).decompress(data), raster)
            sizes[name] = len(data)
        if scn is not None:
            for name in scn.list_codecs():
                codec = scn.get_codec(name)
                try:
                    data, _ = codec.compress(raster)
                    ok = np.array_equal(np.asarray(codec.decompress(data, T, N)).astype(bool), raster)
                except Exception as exc:  # noqa: BLE001  (report the peer's failure, keep benchmarking)
                    print(f"   sc-neurocore {name} failed: {exc!r}")
                    continue
                sizes[f"scn.{name}" + ("" if ok else "(lossy!)")] = len(data)
        sizes.update(general_compressors(raster))
        best = min(sizes.values())
        bound = entropy_bound_bits(T, N, n) / 8
        print(f"-- {label}: density {n / raster.size:.4%}, iid bound {bound:.0f} B")
        for name, size in sorted(sizes.items(), key=lambda kv: kv[1]):
            mark = "*" if size == best else " "
            print(f"   {mark} {name:<22} {size:>9}  {8 * size / n:>7.3f} bits/spike  {bound / size:>6.3f} bound/coded")


def throughput_rows(raster: np.ndarray, repeat: int, scn) -> list:
    """(codec, encode seconds, decode seconds) for one raster: ours, sc-neurocore's isi, the compressors."""
    T, N = raster.shape
    packed = np.packbits(raster).tobytes()
    rows = []
    for name in ("adaptive", "isi"):
        codec = spikes.get_codec(name)
        payload = codec.encode(raster)     # also compiles the kernels before timing
        codec.decode(payload)
        rows.append((name, best_time(partial(codec.encode, raster), repeat),
                     best_time(partial(codec.decode, payload), repeat)))
    if scn is not None:
        codec = scn.get_codec("isi")
        data, _ = codec.compress(raster)
        rows.append(("scn.isi", best_time(partial(codec.compress, raster), repeat),
                     best_time(partial(codec.decompress, data, T, N), repeat)))
    peers = [("bz2-9", partial(bz2.compress, packed, 9), bz2.decompress),
             ("lzma", partial(lzma.compress, packed), lzma.decompress)]
    if zstandard is not None:
        peers.insert(0, ("zstd-19", partial(zstandard.ZstdCompressor(level=19).compress, packed),
                         zstandard.ZstdDecompressor().decompress))
    for name, compress, decompress in peers:
        # one encode run: the slow general compressors would dominate the benchmark's time
        rows.append((name, best_time(compress, 1), best_time(partial(decompress, compress()), repeat)))
    return rows


def section_throughput(T: int, N: int, densities, repeat: int, scn) -> None:
    print(f"\n== 3. Throughput, M bins/s on one core, best of {repeat} ({T} x {N}) ==")
    print(f"   load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'raster':>18} {'codec':>12} {'encode':>9} {'decode':>9}")
    cases = [(f"bernoulli {p:.1%}", synthetic.bernoulli(T, N, p, seed=7)) for p in densities]
    cases += [("bursty (network)", synthetic.bursty(T, N, seed=1)),
              ("poisson", synthetic.poisson_units(T, N, seed=3))]
    mbins = T * N / 1e6
    for label, raster in cases:
        for name, enc, dec in throughput_rows(raster, repeat, scn):
            print(f"{label:>18} {name:>12} {mbins / enc:>9.1f} {mbins / dec:>9.1f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=100_000)
    parser.add_argument("--N", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 000 bins, one repeat (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.T, args.repeat = 20_000, 1
    scn, status = load_sc_neurocore()
    print(f"peer: {status}; zstd: {'zstandard ' + zstandard.__version__ if zstandard else 'not installed'}")
    densities = (0.001, 0.01, 0.05, 0.10, 0.30)
    section_bernoulli(args.T, args.N, densities)
    section_structured(args.T, args.N, scn)
    section_throughput(args.T, args.N, densities, args.repeat, scn)


if __name__ == "__main__":
    main()
