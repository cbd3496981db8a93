"""MUA benchmark: bit rates of every configuration beside the entropy bound, and codec throughput.

    python benchmarks/bench_mua.py [--data m1_stevenson_2011.mat] [--paper-csv paper_results.csv]
                                   [--bin-ms 50] [--S 3 5] [--hist-samples 64] [--splits 10]

Without ``--data`` it uses ``../shared/data/mua/m1_stevenson_2011.mat`` when present, else
synthetic Poisson counts.  Bit rates are bits/s/channel measured after calibration on half the
recording (the paper's protocol); throughput is counts (bins x channels) per second on one core.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from neurocodec.mua import MUACodec, configurations, evaluate, train_encoders
from neurocodec.mua.report import load_mua_data, read_paper_results, truncated

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mua"


def _counts(args) -> tuple[np.ndarray, str]:
    path = args.data or (SHARED / "m1_stevenson_2011.mat")
    if Path(path).exists():
        return load_mua_data(path).binned(args.bin_ms), str(path)
    rng = np.random.default_rng(0)
    return rng.poisson(rng.uniform(0.05, 3.0, 128), size=(20000, 128)), "synthetic Poisson, 128 channels"


def _throughput(codec: MUACodec, counts: np.ndarray, repeats: int = 3) -> tuple[float, float, int]:
    payload = codec.encode(counts)  # compiles the kernels
    codec.decode(payload)
    t0 = time.perf_counter()
    for _ in range(repeats):
        payload = codec.encode(counts)
    t1 = time.perf_counter()
    for _ in range(repeats):
        codec.decode(payload)
    t2 = time.perf_counter()
    n = counts.size * repeats
    return n / (t1 - t0), n / (t2 - t1), len(payload)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data")
    ap.add_argument("--paper-csv", default=str(SHARED / "paper_results.csv"))
    ap.add_argument("--bin-ms", type=float, default=50.0)
    ap.add_argument("--S", type=int, nargs="+", default=[3, 5])
    ap.add_argument("--hist-samples", type=int, default=64)
    ap.add_argument("--splits", type=int, default=10)
    args = ap.parse_args()

    counts, source = _counts(args)
    paper = read_paper_results(args.paper_csv) if Path(args.paper_csv).exists() else None
    print(f"data: {source}  ({counts.shape[0]} bins x {counts.shape[1]} channels, BP {args.bin_ms:g} ms, "
          f"histogram {args.hist_samples})")
    header = (f"{'S':>3} {'full':>8} {'no_sort':>8} {'one_enc':>8} {'binning':>8} {'arith*':>8} {'entropy':>8} "
              f"{'P uW/ch':>8} {'enc MS/s':>9} {'dec MS/s':>9} {'arith enc':>9} {'arith dec':>9}")
    print(header)
    for S in args.S:
        trained = train_encoders(counts, S=S, bin_ms=args.bin_ms, hist_samples=args.hist_samples,
                                 n_splits=args.splits)
        enc = trained.encoders(min(3, max(trained.sets)))
        conf = configurations(counts, args.bin_ms, S, enc, args.hist_samples)
        ev = evaluate(counts, args.bin_ms, S, enc, args.hist_samples)
        h_enc, h_dec, _ = _throughput(MUACodec(S, args.bin_ms, enc, args.hist_samples), counts)
        a_enc, a_dec, _ = _throughput(MUACodec(S, args.bin_ms, enc, args.hist_samples, coder="arithmetic"), counts)
        rates = [conf["full"], conf["no_sort"], conf["one_encoder"], conf["just_binning"],
                 ev["arithmetic_bits_per_second_per_channel"], ev["entropy_bound_bits_per_second_per_channel"]]
        # figures are cut, not rounded, so none is overstated
        print(f"{S:>3} " + " ".join(f"{truncated(r, 2):>8}" for r in rates)
              + f" {truncated(ev['power_uw_per_channel'], 3):>8} "
              + " ".join(f"{truncated(x / 1e6, 2):>9}" for x in (h_enc, h_dec, a_enc, a_dec)))
        print(f"    encoders ({len(enc)}): {enc}")
        if paper:
            ref = [r for r in paper if r["BP_ms"] == args.bin_ms and r["S"] == S
                   and 2 ** r["hist_log2_samples"] == args.hist_samples]
            for r in sorted(ref, key=lambda r: r["n_encoders"]):
                print(f"    paper (Flint+Sabes), {int(r['n_encoders'])} encoder(s): full {truncated(r['BR_full'], 2)}, "
                      f"no sort {truncated(r['BR_no_sort'], 2)}, binning {truncated(r['BR_just_binning'], 2)}, "
                      f"BDP {truncated(r['BDP_train_mean_FlintSabes'], 3)}, resources {r['res_full_system']:.0f} cells")
    print("* arith = neurocodec's adaptive arithmetic coder (not the paper's; no hardware model).")


if __name__ == "__main__":
    main()
