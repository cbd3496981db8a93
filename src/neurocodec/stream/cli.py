"""``neurocodec stream ...``: the real-time stream's subcommands, registered by ``register_cli``.

- ``stream simulate DATA``: a folder of single-electrode WAVs tiled to ``--channels`` channels,
  streamed through encoder -> lossy link -> decoder; rate, per-packet CPU time, real-time channel
  counts, losses, and the check of every delivered sample.  Exit code 1 if any check fails.
- ``stream inspect FILE``: header fields (lossless or the near-lossless bound) and packet
  accounting of a recorded stream (header, then packets back to back).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import InvalidConfigError


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1], got {text}")
    return value


def cmd_simulate(args) -> int:
    from .simulate import LossyChannel, TiledRecording, format_report, load_folder, ok, plot, simulate, timing_only

    if args.channels < 1:
        raise InvalidConfigError(f"--channels must be positive, got {args.channels}")
    recordings, rate = load_folder(args.data)
    source = TiledRecording(recordings, args.channels, shift=args.shift)
    link = LossyChannel(loss=args.loss, burst=args.burst, burst_every=args.burst_every, corrupt=args.corrupt,
                        duplicate=args.duplicate, reorder=args.reorder, seed=args.seed)
    progress = None if args.json or not sys.stderr.isatty() else \
        (lambda i, n: print(f"\r{i}/{n} packets", end="", file=sys.stderr, flush=True))
    report = simulate(source, rate, frame_ms=args.frame_ms, sync_ms=args.sync_ms, preset=args.preset, near=args.near,
                      seconds=args.seconds, channel=link, progress=progress)
    if progress:
        print(file=sys.stderr)
    if args.timing_packets:
        for other in ("fast", "max"):
            if other != args.preset:
                report["realtime_channels"][other] = timing_only(source, rate, other, frame_ms=args.frame_ms,
                                                                 sync_ms=args.sync_ms, near=args.near,
                                                                 packets=args.timing_packets)
    if args.plot:
        plot(report, args.plot)
    series = ("bits_per_packet", "encode_us_all", "decode_us_all")
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k not in series}))
    else:
        print(format_report(report))
        if args.plot:
            print(f"wrote {args.plot}")
    return 0 if ok(report) else 1


def cmd_inspect(args) -> int:
    from pathlib import Path

    from .codec import StreamDecoder, split_stream

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise InvalidConfigError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    config, header, packets = split_stream(data)
    dec = StreamDecoder(header)
    for p in packets:
        dec.receive(p)
    kinds = [p[0] for p in packets]
    info = config.describe()
    info.update(packets=len(packets), sync_packets=kinds.count(1), raw_packets=kinds.count(2), bytes=len(data),
                decoder=dict(dec.counts), ratio=2 * config.channels * config.frame_samples * len(packets) / len(data))
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key:24s} {value}")
        if config.near:
            print(f"NEAR-LOSSLESS: every sample within +-{config.near} levels of the original")
    return 0


def register_cli(sub) -> None:
    p = sub.add_parser("stream", help="real-time streaming codec: simulate a lossy radio link")
    stream_sub = p.add_subparsers(dest="stream_command", required=True, metavar="STREAM_COMMAND")
    s = stream_sub.add_parser("simulate", help="stream a folder of WAVs through encoder, lossy link and decoder")
    s.add_argument("data", help="folder of mono 16-bit WAVs, one electrode per file")
    s.add_argument("--channels", type=int, default=1024, help="channels (files tiled with time shifts; 1024)")
    s.add_argument("--shift", type=int, default=997, help="time shift in samples between copies of a file (997)")
    s.add_argument("--frame-ms", type=float, default=1.0, help="frame length in ms (1)")
    s.add_argument("--sync-ms", type=float, default=100.0, help="steady interval between sync packets in ms (100)")
    s.add_argument("--preset", choices=("fast", "max"), default="fast")
    s.add_argument("--near", type=int, default=0, help="error bound in ADC levels (0: lossless)")
    s.add_argument("--seconds", type=float, help="stream length (default: the shortest recording)")
    s.add_argument("--loss", type=_probability, default=0.01, help="independent packet loss probability (0.01)")
    s.add_argument("--burst", type=int, default=0, help="length of loss bursts in packets (0: none)")
    s.add_argument("--burst-every", type=int, default=1000, help="mean packets between bursts (1000)")
    s.add_argument("--corrupt", type=_probability, default=0.0, help="probability a packet is bit-flipped or cut")
    s.add_argument("--duplicate", type=_probability, default=0.0, help="probability a packet arrives twice")
    s.add_argument("--reorder", type=_probability, default=0.0, help="probability a packet swaps with the next")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--timing-packets", type=int, default=200,
                   help="packets of a timing run for the other preset's real-time channel count (0: skip)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--plot", help="PNG of the latency distribution and the bit rate over time")
    s.set_defaults(func=cmd_simulate)
    i = stream_sub.add_parser("inspect", help="configuration and packet accounting of a recorded stream file")
    i.add_argument("file", help="stream header then packets back to back (as tests/fixtures/stream/v1/*.stream)")
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.set_defaults(func=cmd_inspect)
