"""MUA hardware figures: place and route of both calibration schedules, and what each schedule costs in bits.

    python benchmarks/bench_mua_rtl.py [--channels 96 512] [--data m1_stevenson_2011.mat] [--json]

For the paper's system (S = 3, one encoder [1, 2, 2], 64-sample histogram, BP = 50 ms) it renders
the parallel and the sequential encoder at each channel count, places and routes them for the
iCE40 LP1K (:func:`neurocodec.mua.rtl_synth.synthesize`: yosys synth_ice40, nextpnr-ice40 --lp1k
--package cm81, icetime) and prints cells, block RAMs and Fmax against the required clock (one
detection per channel per millisecond).  On m1 (``../shared/data/mua`` by default) it also prints
the static Huffman bit rate of each schedule over the bins after both have calibrated every
channel, and how long the sequential calibration takes.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from neurocodec.mua import render_verilog
from neurocodec.mua.codec import calibrate, saturate
from neurocodec.mua.report import load_mua_data
from neurocodec.mua.rtl_synth import missing_tools, synthesize

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mua"
ENC = [[1, 2, 2]]


def trunc(x: float, digits: int = 2) -> str:
    return f"{math.floor(x * 10 ** digits) / 10 ** digits:.{digits}f}"


def schedule_rates(counts: np.ndarray, bin_ms: float = 50.0) -> dict:
    sat = saturate(counts, 3)
    enc = np.array(ENC)
    cals = {s: calibrate(sat, enc, 64, True, s) for s in ("parallel", "sequential")}
    start = max(c.calib_bins for c in cals.values())
    out = {"channels": sat.shape[1], "bins": sat.shape[0], "measured_from_bin": start,
           "sequential_calibration_s": cals["sequential"].calib_bins * bin_ms / 1000.0}
    for s, cal in cals.items():
        lengths = enc[cal.encoder[:, None], cal.ranks(3)]
        bits = np.take_along_axis(lengths, sat[start:].T, axis=1).sum()
        out[f"{s}_bits_per_second_per_channel"] = float(bits / (sat.shape[0] - start) / sat.shape[1]
                                                        * 1000.0 / bin_ms)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--channels", type=int, nargs="+", default=[96, 512])
    ap.add_argument("--data", help="m1 .mat (default ../shared/data/mua/m1_stevenson_2011.mat)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    result = {"synthesis": [], "rates": None}
    if missing_tools():
        print(f"skipping synthesis: {', '.join(missing_tools())} not installed")
    else:
        print("| calibration | channels | logic cells | LUT4 | FF | carry | block RAMs | Fmax nextpnr | "
              "Fmax icetime | required | fits |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for n in args.channels:
            for schedule in ("parallel", "sequential"):
                fig = synthesize(render_verilog(ENC, 3, 64, 50, n, calibration=schedule), "mua_sclv_encoder",
                                 required_mhz=n / 1000.0)
                fig.update(calibration=schedule, channels=n)
                result["synthesis"].append(fig)
                ice = "-" if fig["icetime_mhz"] is None else trunc(fig["icetime_mhz"])
                print(f"| {schedule} | {n} | {fig['logic_cells']} | {fig['lut4']} | {fig['ff']} | {fig['carry']} | "
                      f"{fig['block_rams']} | {trunc(fig['fmax_mhz'])} MHz | {ice} MHz | "
                      f"{trunc(fig['required_mhz'], 3)} MHz | {'yes' if fig['fits'] else 'no'} |")
    path = Path(args.data) if args.data else SHARED / "m1_stevenson_2011.mat"
    if path.exists():
        rates = schedule_rates(load_mua_data(path).binned(50))
        result["rates"] = rates
        print(f"\nm1 ({rates['channels']} channels, {rates['bins']} bins of 50 ms), S = 3, [1, 2, 2], "
              f"64-sample histogram, bins {rates['measured_from_bin']}.. (after both schedules calibrated):")
        for s in ("parallel", "sequential"):
            print(f"  {s:10s} {trunc(rates[f'{s}_bits_per_second_per_channel'])} bits/s/channel")
        print(f"  sequential calibration of every channel takes {trunc(rates['sequential_calibration_s'], 1)} s")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
