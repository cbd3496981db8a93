"""The real-time stream beside the file codec, on the same recordings, in one run.

The recordings (default: the Neuralink dev set beside the repository, 195 mono WAVs) are cut to the
shortest one's length (or ``--seconds``) and tiled to ``--channels`` channels with time shifts
(stream.simulate.TiledRecording).  File codec: ``WaveformCodec(preset).encode`` of each cut
recording, ratio = 2 x samples / payload bytes, each recording weighted by how many channels it
feeds (the payload-only ratio; the container adds a few dozen bytes a file, which would only lower
it).  Stream: 2 x samples / all bytes of header and packets, over a perfect link, for each preset and
sync interval; per-packet encode and decode CPU time (thread time, one core), the real-time channel
count at p99, and the machine's load average beside them (the machine may be shared).

    python benchmarks/bench_stream.py [DIR] [--channels 1024] [--seconds S] [--presets fast,max]
                                      [--sync-ms 1000,100] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from neurocodec.stream.simulate import TiledRecording, load_folder, simulate
from neurocodec.waveform import WaveformCodec

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "neuralink-dev"


def cross_channel(source: TiledRecording, rate: int, order: int = 8) -> None:
    """Would the file codec's cross-channel rule (difference to the previous channel when its LPC
    residual energy is 20 % lower) pay on these channels?  Measured on the first second."""
    from neurocodec.waveform.levels import LADDER_INDEX
    from neurocodec.waveform.lossless import _residual_energy, lpc

    x = source.frame(0, min(source.length, rate)).astype(np.int64)
    levels = LADDER_INDEX[x + 32768].T.copy() if np.all(LADDER_INDEX[x + 32768] >= 0) else x.T.copy()
    ratios = []
    for c in range(1, levels.shape[0]):
        diff = levels[c] - levels[c - 1]
        own = _residual_energy(levels[c], lpc(levels[c], order))
        ratios.append(_residual_energy(diff, lpc(diff, order)) / max(own, 1.0))
    ratios = np.array(ratios)
    print(f"cross-channel differences: {int(np.count_nonzero(ratios < 0.8))} of {ratios.size} adjacent pairs predict "
          f">= 20 % better as a difference (median residual energy {np.median(ratios):.2f} x the channel's own)",
          flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DIR))
    ap.add_argument("--channels", type=int, default=1024)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--presets", default="fast,max")
    ap.add_argument("--sync-ms", default="1000,100")
    ap.add_argument("--frame-ms", type=float, default=1.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    recordings, rate = load_folder(args.data)
    length = min(r.size for r in recordings)
    if args.seconds:
        length = min(length, int(round(args.seconds * rate)))
    recordings = [r[:length] for r in recordings]
    source = TiledRecording(recordings, args.channels)
    weights = np.bincount(np.arange(args.channels) % len(recordings), minlength=len(recordings))
    rows = []
    cross_channel(source, rate)
    print(f"{len(recordings)} recordings x {length} samples ({length / rate:.2f} s at {rate} Hz), "
          f"tiled to {args.channels} channels; load average {os.getloadavg()}", flush=True)
    for preset in args.presets.split(","):
        t0 = time.process_time()
        sizes = np.array([len(WaveformCodec(preset).encode(r)) for r in recordings])
        file_ratio = 2 * length * weights.sum() / float((sizes * weights).sum())
        print(f"file codec {preset}: ratio {file_ratio:.4f} (payload only; {time.process_time() - t0:.1f} s CPU)",
              flush=True)
        for sync in (float(s) for s in args.sync_ms.split(",")):
            r = simulate(source, rate, frame_ms=args.frame_ms, sync_ms=sync, preset=preset)
            if r["wrong_samples"] or r["packets_lost"]:
                print("stream delivered wrong or lost samples on a perfect link", file=sys.stderr)
                return 1
            row = {"preset": preset, "sync_ms": sync, "file_ratio": file_ratio, "stream_ratio": r["ratio"],
                   "stream_over_file": r["ratio"] / file_ratio, "mbit_s": r["mbit_s"],
                   "bits_per_s_per_channel": r["bits_per_s_per_channel"], "encode_us": r["encode_us"],
                   "decode_us": r["decode_us"], "realtime_channels": r["realtime_channels"][preset],
                   "load_average": r["load_average"], "sync_packets": r["sync_packets_sent"],
                   "raw_packets": r["raw_packets_sent"], "largest_packet": r["largest_packet"],
                   "max_packet_bound": r["max_packet_bound"]}
            rows.append(row)
            e, d = r["encode_us"], r["decode_us"]
            print(f"  stream {preset} sync {sync:g} ms: ratio {r['ratio']:.4f} = {row['stream_over_file']:.4f} x file; "
                  f"{r['mbit_s']:.1f} Mbit/s; encode p50/p99/p99.9/max {e['p50']:.0f}/{e['p99']:.0f}/"
                  f"{e['p99.9']:.0f}/{e['max']:.0f} us, decode {d['p50']:.0f}/{d['p99']:.0f}/{d['p99.9']:.0f}/"
                  f"{d['max']:.0f} us; real time {row['realtime_channels']} channels/core; load {r['load_average']}",
                  flush=True)
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
