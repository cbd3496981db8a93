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

``--phases N`` instead encodes the same N frames (``fast``) twice and compares the runs packet by
packet: on a machine whose speed changes under the process (a shared host), the share of packets in
the slow phase differs between the runs and their per-packet times hardly correlate; it also splits
one packet's cost into the coder kernel, the encoder's running LPC statistics, the level mapping
and the rest (framing, CRC, Python).
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


def cross_channel(source: TiledRecording, rate: int) -> None:
    """How many channels the file codec would code as a difference to the previous one (its own
    rule, :func:`neurocodec.waveform._kernels.analyse_channels`, per preset), on the first second:
    the stream predicts each channel alone, so this is what it leaves out."""
    from neurocodec.waveform import _kernels as K
    from neurocodec.waveform.levels import choose_mapping
    from neurocodec.waveform.lossless import PRESETS, _channel_tables

    x = np.ascontiguousarray(source.frame(0, min(source.length, rate)))
    mapping, levels = choose_mapping(x, channel_major=True)
    top = mapping.size - 1
    counts = []
    for preset, (_, order) in sorted(PRESETS.items()):
        lo, _, coefs, orders, shifts, means = _channel_tables(levels.shape[0], top)
        K.analyse_channels(levels, order, 0, True, top, lo, coefs, orders, shifts, means)
        counts.append(f"{int(np.count_nonzero(lo < 0))} with {preset}")
    print(f"cross-channel differences: of {levels.shape[0]} channels the file codec would code "
          f"{' and '.join(counts)} as a difference to the previous one", flush=True)


def packet_phases(source: TiledRecording, rate: int, frames: int, frame_ms: float) -> None:
    """Two encodes of the same frames, packet by packet, and one packet's cost by part (see the docstring)."""
    from neurocodec.stream import StreamEncoder
    from neurocodec.stream import _kernels as SK

    n = max(1, round(frame_ms * rate / 1000))
    data = [np.ascontiguousarray(source.frame(i * n, n)) for i in range(frames)]
    warm = min(50, frames // 4)
    runs = []
    for _ in range(2):
        enc = StreamEncoder(source.channels, rate, n, preset="fast")
        us = np.empty(frames)
        for i, frame in enumerate(data):
            t0 = time.thread_time_ns()
            enc.encode(frame)
            us[i] = (time.thread_time_ns() - t0) / 1e3
        runs.append(us[warm:])
    fast = min(np.percentile(r, 10) for r in runs)
    for k, r in enumerate(runs):
        print(f"run {k + 1}: encode p10/p50/p90/p99 {'/'.join(f'{v:.0f}' for v in np.percentile(r, [10, 50, 90, 99]))} us;"
              f" {np.mean(r > 1.3 * fast):.0%} of packets above 1.3 x the faster run's p10", flush=True)
    print(f"correlation of the two runs' per-packet times: {np.corrcoef(runs[0], runs[1])[0, 1]:.2f}", flush=True)
    # one packet's parts, timed one after the other on each frame (so in the same phase)
    t = enc._t
    tail, sums, pairs = enc._tail.copy(), enc._sums.copy(), enc._pairs.copy()
    model, state = t.model.copy(), t.state.copy()
    parts = np.empty((frames - warm, 4))
    for i, frame in enumerate(data[warm:]):
        t0 = time.thread_time_ns()
        enc.encode(frame)
        t1 = time.thread_time_ns()
        SK.frame_levels(frame, t.index, t.levels)
        t2 = time.thread_time_ns()
        SK.observe(t.levels, tail, 1 << 20, sums, pairs)
        t3 = time.thread_time_ns()
        enc._kernel(t.levels, t.lo, t.hi, t.coefs, t.orders, t.shifts, t.means, 0, model, t.params, enc._buf, 16,
                    enc._buf.size, enc._rawbits, state)
        t4 = time.thread_time_ns()
        parts[i] = np.array([t1 - t0, t4 - t3, t3 - t2, t2 - t1]) / 1e3
    quick = parts[parts[:, 0] <= 1.3 * np.percentile(parts[:, 0], 10)]
    for name, rows in (("all packets", parts), ("fast-phase packets", quick)):
        total, kernel, observe, levels = np.median(rows, axis=0)
        print(f"{name} ({len(rows)}), medians: {total:.0f} us a packet; coder kernel {kernel:.0f}, running LPC "
              f"statistics {observe:.0f}, level mapping {levels:.0f}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DIR))
    ap.add_argument("--channels", type=int, default=1024)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--presets", default="fast,max")
    ap.add_argument("--sync-ms", default="1000,100")
    ap.add_argument("--frame-ms", type=float, default=1.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--phases", type=int, metavar="N", help="two encodes of the same N frames, compared")
    args = ap.parse_args(argv)
    recordings, rate = load_folder(args.data)
    length = min(r.size for r in recordings)
    if args.seconds:
        length = min(length, int(round(args.seconds * rate)))
    recordings = [r[:length] for r in recordings]
    source = TiledRecording(recordings, args.channels)
    if args.phases:
        packet_phases(source, rate, args.phases, args.frame_ms)
        return 0
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
