"""``neurocodec mua ...``: the MUA subcommands, registered into the main parser by ``register_cli``.

- ``mua report DATA``  the paper's analysis on a recording: tables (and with ``--out`` PNG figures)
  of bit rate, power, capacity and BDP across binning periods and S;
- ``mua train DATA``   train encoders and write the encoder JSON;
- ``mua rtl ENCODERS`` render the Verilog module (and optionally a testbench) from an encoder JSON;
  ``--synth`` places and routes it for the iCE40 and reports cells, block RAMs and Fmax.

Handlers return an exit code and raise :class:`~neurocodec.errors.NeurocodecError` subclasses on
bad input; ``--json`` puts one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import InvalidConfigError, NeurocodecError
from ..io.atomic import write_atomic


def _write_text(path: str, text: str) -> None:
    try:
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise NeurocodecError(f"cannot write {path}: {exc.strerror or exc}") from None


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help=".mat (m1 or Golub layout), .npy of counts or detection raster, or a folder of .wav")
    p.add_argument("--source-bin-ms", type=float, help="bin width of count data (default: from the file, else 50)")
    p.add_argument("--raster-ms", type=float, help="treat an .npy as a detection raster sampled every this many ms")
    p.add_argument("--threshold", type=float, default=4.5, help="WAV detection threshold in MAD noise units (4.5)")
    p.add_argument("--hist-samples", type=int, default=64, help="calibration histogram size (default 64 = 2**6)")
    p.add_argument("--splits", type=int, default=30, help="random 50/50 channel splits for training (default 30)")
    p.add_argument("--seed", type=int, default=0)


def cmd_report(args) -> int:
    from .report import load_mua_data, markdown_table, read_paper_results, run_report, write_report

    data = load_mua_data(args.data, args.source_bin_ms, args.raster_ms, args.threshold)
    paper = read_paper_results(args.paper_csv) if args.paper_csv else None
    report = run_report(data, bin_ms=args.bin_ms, S_values=args.S, hist_samples=args.hist_samples,
                        n_encoders=args.encoders, n_splits=args.splits, draws=args.draws, p=args.p,
                        bdp=not args.no_bdp, bdp_folds=args.folds, paper_rows=paper, seed=args.seed,
                        progress=not args.no_progress)
    if args.out:
        files = write_report(report, args.out, paper)
        report["files"] = [str(Path(args.out) / f) for f in files]
    if args.json:
        print(json.dumps(report))
    else:
        print(f"MUA report: {report['source']}  ({report['channels']} channels; bit rates in bits/s/channel, "
              f"capacity at p < {report['p']:g})")
        print(markdown_table(report))
        for f in report.get("files", []):
            print(f"wrote {f}")
    return 0


def cmd_train(args) -> int:
    from .report import load_mua_data, truncated
    from .training import save_encoders, train_encoders

    data = load_mua_data(args.data, args.source_bin_ms, args.raster_ms, args.threshold)
    result = train_encoders(data.binned(args.bin_ms), S=args.S, bin_ms=args.bin_ms, hist_samples=args.hist_samples,
                            n_splits=args.splits, seed=args.seed, complete=args.complete,
                            progress=not args.no_progress)
    if args.encoders not in result.sets:
        raise InvalidConfigError(f"--encoders {args.encoders}: choose from 1..{max(result.sets)}")
    save_encoders(args.out, result.encoders(args.encoders), args.S, args.bin_ms, args.hist_samples)
    summary = {"out": args.out, "encoders": result.encoders(args.encoders), "rounds": result.summary()}
    if args.json:
        print(json.dumps(summary))
    else:
        for row in summary["rounds"]:
            print(f"{row['n_encoders']:3d} encoders  validation {truncated(row['validation_bits_per_second_mean'], 3)} "
                  f"+- {truncated(row['validation_bits_per_second_std'], 3)} bits/s/channel")
        print(f"wrote {args.out}: {summary['encoders']}")
    return 0


def cmd_rtl(args) -> int:
    from .rtl import read_stimulus, render_testbench, render_verilog
    from .training import load_encoders

    doc = load_encoders(args.encoders)
    bin_ms = doc.get("bin_ms", 50)
    if float(bin_ms) != int(bin_ms):
        raise InvalidConfigError(f"RTL needs a whole-millisecond binning period, the encoders say {bin_ms}")
    if args.out is None and not args.synth:
        raise InvalidConfigError("give --out (the Verilog file to write), --synth, or both")
    src = render_verilog(doc["encoders"], doc["S"], int(doc.get("hist_samples", 64)), int(bin_ms), args.channels,
                         sort=not args.no_sort, module_name=args.module, calibration=args.calibration)
    wrote = []
    if args.out:
        _write_text(args.out, src)
        wrote.append(args.out)
    if args.testbench:
        stim = args.stimulus
        if stim is None:
            raise InvalidConfigError("--testbench needs --stimulus (0/1 words, channels interleaved per ms)")
        n = read_stimulus(stim, args.channels).size
        _write_text(args.testbench, render_testbench(args.module, stim, n, args.channels, int(bin_ms)))
        wrote.append(args.testbench)
    if not args.json and wrote:
        print("wrote " + " and ".join(wrote))
    if not args.synth:
        if args.json:
            print(json.dumps({"files": wrote}))
        return 0
    from .rtl_synth import format_table, synthesize

    # one detection bit per clock: every channel once per 1 ms frame
    fig = synthesize(src, args.module, required_mhz=args.channels / 1000.0, device=args.device,
                     package=args.package, workdir=args.synth_dir)
    fig.update(files=wrote, channels=args.channels, calibration=args.calibration, S=doc["S"],
               encoders=doc["encoders"], hist_samples=int(doc.get("hist_samples", 64)))
    if args.json:
        print(json.dumps(fig))
    else:
        print(f"{args.calibration} calibration, {args.channels} channels, S = {doc['S']}, "
              f"{len(doc['encoders'])} encoder(s), {fig['hist_samples']}-sample histogram")
        print(format_table(fig))
        for cmd in fig["commands"]:
            print(f"  $ {cmd}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``mua`` command group to ``subparsers`` (from ``parser.add_subparsers()``).

    Every leaf parser sets ``func`` to a handler taking the parsed namespace and returning an int.
    Returns the ``mua`` parser.
    """
    mua = subparsers.add_parser("mua", help="MUA compression for implants (SCLV static Huffman): report, train, rtl")
    sub = mua.add_subparsers(dest="mua_command", required=True, metavar="MUA_COMMAND")

    p = sub.add_parser("report", help="bit rate, power, capacity and BDP across binning periods and S")
    _data_args(p)
    p.add_argument("--bin-ms", type=float, nargs="+", default=[50.0], help="binning periods in ms (default 50)")
    p.add_argument("--S", type=int, nargs="+", default=[3], help="numbers of symbols (default 3)")
    p.add_argument("--encoders", type=int, default=1, help="encoders kept after training (default 1)")
    p.add_argument("--draws", type=int, default=100_000, help="random channel subsets for capacity (100000)")
    p.add_argument("--p", type=float, default=0.05, help="allowed probability of exceeding the power budget")
    p.add_argument("--folds", type=int, default=10, help="contiguous cross-validation folds for BDP (10)")
    p.add_argument("--no-bdp", action="store_true", help="skip behavioural decoding")
    p.add_argument("--paper-csv", help="the paper's results CSV, for comparison columns and the power figure")
    p.add_argument("--out", help="directory for report.json/.csv/.md and PNG figures")
    p.add_argument("--json", action="store_true", help="last line of output: one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("train", help="train encoders by backward elimination and write the encoder JSON")
    _data_args(p)
    p.add_argument("--bin-ms", type=float, default=50.0)
    p.add_argument("--S", type=int, default=3)
    p.add_argument("--encoders", type=int, default=1, help="how many encoders to keep (default 1)")
    p.add_argument("--complete", action="store_true", help="start from every SCLV, not the paper's list")
    p.add_argument("--out", required=True, help="encoder JSON to write")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("rtl", help="render the Verilog encoder from an encoder JSON")
    p.add_argument("encoders", help="encoder JSON from `neurocodec mua train`")
    p.add_argument("--channels", type=int, default=96)
    p.add_argument("--no-sort", action="store_true", help="leave out the estimation sort")
    p.add_argument("--module", default="mua_sclv_encoder")
    p.add_argument("--calibration", choices=("parallel", "sequential"), default="parallel",
                   help="parallel: every channel at once (wide memory word); sequential: the paper's "
                        "architecture, channels in turn through one shared histogram (default parallel)")
    p.add_argument("--out", help="Verilog file to write")
    p.add_argument("--testbench", help="also write a testbench here (needs --stimulus)")
    p.add_argument("--stimulus", help="0/1 detection words, channels interleaved per ms")
    p.add_argument("--synth", action="store_true",
                   help="synthesize, place and route (yosys, nextpnr-ice40, icetime) and report the figures")
    p.add_argument("--device", default="lp1k", help="iCE40 device for --synth (default lp1k, the paper's)")
    p.add_argument("--package", default="cm81", help="device package for --synth (default cm81)")
    p.add_argument("--synth-dir", help="keep the netlist, bitstream and reports of --synth here")
    p.add_argument("--json", action="store_true", help="last line of output: one JSON object")
    p.set_defaults(func=cmd_rtl)
    return mua


def main(argv: list[str] | None = None) -> int:
    """Run ``mua`` subcommands standalone (``python -m neurocodec.mua.cli report ...``)."""
    parser = argparse.ArgumentParser(prog="neurocodec")
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except NeurocodecError as exc:
        print(f"neurocodec: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
