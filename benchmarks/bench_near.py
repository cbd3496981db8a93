"""Near-lossless waveform coding: ratio, error bound and speed against k, both presets, in one run.

    python benchmarks/bench_near.py [DIR] [--k 0 1 2 4 8] [--files N]

Ratio = WAV bytes / compressed file bytes (container and WAV sidecar included, as ``neurocodec eval``
counts); the maximal error is measured in ADC codes (levels of the implant's 10-bit ladder) over
every sample; speeds are samples / codec CPU seconds on one core.  Beside each k, the reference the
bar was calibrated on: an order-4 integer DPCM quantiser (step 2k+1, prediction from reconstructed
codes) whose residual an adaptive order-0 arithmetic model would code, given as its empirical
order-0 entropy (a bound such a coder approaches from above).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from numba import njit

from neurocodec import api
from neurocodec.io import wav
from neurocodec.waveform.levels import LADDER_INDEX
from neurocodec.waveform.lossless import lpc

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "neuralink-dev"


def dpcm_order0_bits(codes: np.ndarray, k: int) -> float:
    """Order-0 entropy (bits) of an order-4 DPCM quantiser's indices on ADC codes, step 2k+1.

    The predictor is the file's own order-4 integer LPC (``lossless.lpc``), run on reconstructed
    codes; no contexts, no adaptation: what "crude DPCM + order-0 coder" can reach at best.
    """
    mu, shift, coefs = lpc(codes, 4)
    return float(_dpcm_entropy(codes, k, mu, shift, np.ascontiguousarray(coefs, dtype=np.int64)))


@njit(cache=True)
def _dpcm_entropy(c, k, mu, shift, coefs):
    step = 2 * k + 1
    order = coefs.shape[0]
    hist = np.zeros(c.size + order, np.int64)
    counts = np.zeros(2 * 1024 + 1, np.int64)
    half = (1 << shift) >> 1
    for t in range(c.size):
        acc = half
        for i in range(order):
            acc += coefs[i] * hist[t + order - 1 - i]
        p = min(max(mu + (acc >> shift), 0), 1023)
        e = c[t] - p
        v = (e + k) // step if e >= 0 else -((k - e) // step)
        counts[v + 1024] += 1
        hist[t + order] = min(max(p + v * step, 0), 1023) - mu
    bits = 0.0
    for n in counts:
        if n:
            bits -= n * np.log2(n / c.size)
    return bits


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--k", type=int, nargs="+", default=[0, 1, 2, 3, 4, 6, 8])
    ap.add_argument("--files", type=int, default=0, help="every n-th file only (0: all)")
    ap.add_argument("--presets", nargs="+", default=["max", "fast"])
    args = ap.parse_args(argv)
    paths = sorted(args.folder.glob("*.wav"))
    if args.files:
        paths = paths[:: max(1, len(paths) // args.files)]
    if not paths:
        print(f"no .wav files in {args.folder}")
        return 1
    blobs = [p.read_bytes() for p in paths]
    arrays = [wav.parse(b, str(p)).samples for b, p in zip(blobs, paths)]
    codes = [LADDER_INDEX[a.astype(np.int64) + 32768] for a in arrays]
    if any(c.min() < 0 for c in codes):
        print("every recording must lie on the implant's 10-bit ladder (the bound is measured in its codes)")
        return 1
    n = sum(a.size for a in arrays)
    total = sum(len(b) for b in blobs)
    print(f"{len(paths)} recordings, {n} samples, {total} WAV bytes")
    print(f"{'preset':<6} {'k':>2} {'ratio':>8} {'max err':>7} {'enc M/s':>8} {'dec M/s':>8}   DPCM-4 order-0 bound")
    api.decompress(api.compress(arrays[0][:4000], near=1))  # compile before timing
    for k in args.k:
        ref_bits = sum(dpcm_order0_bits(c, k) for c in codes)
        ref = total / (ref_bits / 8)
        for preset in args.presets:
            size = 0
            worst = 0
            t_enc = t_dec = 0.0
            for blob, arr, code in zip(blobs, arrays, codes):
                t0 = time.process_time()
                data = api.encode_bytes(blob, preset=preset, near=k)
                t1 = time.process_time()
                back = api.decompress(data)
                t2 = time.process_time()
                t_enc += t1 - t0
                t_dec += t2 - t1
                size += len(data)
                worst = max(worst, int(np.abs(LADDER_INDEX[back.astype(np.int64) + 32768] - code).max()))
            print(f"{preset:<6} {k:>2} {total / size:>8.4f} {worst:>7} {n / t_enc / 1e6:>8.2f} {n / t_dec / 1e6:>8.2f}"
                  f"   {ref:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
