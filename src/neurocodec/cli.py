"""The ``neurocodec`` command: a thin shell over the public API.

Errors are one line on stderr with a non-zero exit (``-v`` shows the traceback); long work shows a
progress bar on stderr; ``--json`` puts one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import __version__
from .errors import NeurocodecError


def _parse_options(pairs: list[str]) -> dict:
    """``KEY=VALUE`` pairs into a config dict; values are JSON when they parse as JSON, else strings."""
    config = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise NeurocodecError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            config[key] = json.loads(value)
        except ValueError:
            config[key] = value
    return config


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _codec_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--codec", default="waveform", help="codec name (default: waveform; see `neurocodec codecs`)")
    p.add_argument("--preset", help="shortcut for --set preset=NAME (waveform: max or fast)")
    p.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="codec parameter (repeatable)")


def _threads_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=None, help="threads coding blocks (default: one per core)")


def _config(args) -> dict:
    config = _parse_options(args.options)
    if args.preset:
        config["preset"] = args.preset
    return config


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise NeurocodecError(f"cannot read {path}: {exc.strerror or exc}") from None


def _write_output(path: str, data: bytes) -> None:
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from .io.atomic import write_atomic

    write_atomic(path, data)


def _raw_paths(args) -> None:
    if "-" in (args.input, args.output):
        raise NeurocodecError("raw binaries stream from file to file: give paths, not - (stdin/stdout)")


def _refuse_same_file(args) -> None:
    from .io.atomic import refuse_overwriting_input

    if "-" not in (args.input, args.output):
        refuse_overwriting_input(args.input, args.output, args.force)


def cmd_encode(args) -> int:
    from . import api

    _refuse_same_file(args)
    config = _config(args)
    if args.codec == "waveform":
        _ensure_kernels([("waveform", {"preset": config.get("preset", "max")})])
    if args.channels is not None or args.input.lower().endswith((".bin", ".dat")):
        from .io import rawbin

        _raw_paths(args)
        rawbin.encode_raw(args.input, args.output, channels=args.channels, dtype=args.dtype, codec=args.codec,
                          progress=not args.no_progress, **config)
        return 0
    data = api.encode_bytes(_read_input(args.input), args.codec, name=args.input, threads=args.threads,
                            progress=not args.no_progress, **config)
    _write_output(args.output, data)
    return 0


def cmd_decode(args) -> int:
    from . import api

    _refuse_same_file(args)
    if args.input != "-":
        from .io import rawbin

        if rawbin.read_raw_header(args.input) is not None:
            _raw_paths(args)
            rawbin.decode_raw(args.input, args.output, progress=not args.no_progress)
            return 0
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", api.LossyDecodeWarning)
        out = api.decode_bytes(_read_input(args.input), name=args.input, threads=args.threads,
                               progress=not args.no_progress)
    _write_output(args.output, out)
    for w in caught:
        print(f"neurocodec: note: {w.message}", file=sys.stderr)
    return 0


def cmd_inspect(args) -> int:
    from . import container

    data = _read_input(args.file)
    info = container.inspect(data, what=args.file)
    stated = None
    if info["codec_id"] == "neurocodec.hybrid":
        from . import hybrid

        # each hybrid block states its own bounds (rate control picks them per block)
        stated = [blk.get("bounds") for blk in hybrid.describe(data)["blocks"]]
    if args.json:
        print(json.dumps(info if stated is None else dict(info, block_bounds=stated)))
        return 0
    b = info["bytes"]
    print(f"format version  {info['format_version']}")
    print(f"codec           {info['codec_id']}  {json.dumps(info['config']) if info['config'] else '(defaults)'}")
    print(f"array           {info['dtype']} {tuple(info['shape'])}, {info['raw_bytes']} bytes raw")
    print(f"blocks          {len(info['blocks'])} of up to {info['block_rows']} rows")
    if info["lossy"] is None:
        print("fidelity        lossless")
    else:
        from .api import _describe

        print(f"fidelity        LOSSY: {_describe(info['lossy'])}")
    print(f"bytes           {b['total']} total = {b['header']} framing + {b['extra']} side data "
          f"+ {b['payload']} payload  (ratio {info['ratio']:.4f} vs raw)")
    for i, blk in enumerate(info["blocks"]):
        print(f"  block {i:4d}  rows {blk['rows']:>10}  offset {blk['offset']:>10}  bytes {blk['bytes']:>10}  "
              f"crc32 {blk['crc32']}")
        if stated and stated[i]:
            print(f"              LOSSY: {stated[i]}")
    return 0


def _print_summary(summary: dict) -> None:
    state = "yes" if summary["lossless"] else f"NO ({len(summary['failed'])} files failed)"
    errors = summary.get("errors", [])
    unread = f"  ({len(errors)} could not be read, not counted: errors above)" if errors else ""
    print(f"files           {summary['files'] - len(errors)}  lossless: {state}{unread}")
    print(f"bytes           {summary['original_bytes']} -> {summary['compressed_bytes']}")
    print(f"ratio           {summary['ratio']:.4f}  ({summary['ratio_with_codec_size']:.4f} counting the "
          f"codec's own {summary['codec_bytes']} bytes)")
    print(f"speed per core  encode {summary['encode_msamples_per_s']:.2f} M samples/s, "
          f"decode {summary['decode_msamples_per_s']:.2f} M samples/s")


def cmd_eval(args) -> int:
    from . import evaluate

    config = _config(args)
    if args.codec == "waveform":
        _ensure_kernels([("waveform", {"preset": config.get("preset", "max")})], enabled=not args.no_progress)
    with evaluate.CsvLog(args.csv) as log:
        results = evaluate.evaluate(args.data, args.codec, config, jobs=args.jobs, progress=not args.no_progress,
                                    on_result=log.write)
    summary = evaluate.summarize(results, evaluate.codec_size_bytes(args.codec))
    summary["codec"] = args.codec
    summary["config"] = config
    summary["csv"] = str(args.csv)
    for r in results:
        if r.error:
            print(f"{r.file}: {r.error}", file=sys.stderr)
    _print_summary(summary)
    if args.json:
        print(json.dumps(summary))
    return 0 if summary["lossless"] and not summary["errors"] else 1


def cmd_challenge_exe(args) -> int:
    import tempfile

    from . import challenge
    from .io import wav
    from .synthetic import SAMPLE_RATE, recording

    enc, dec = challenge.write_executables(args.dir, args.preset, cpu="" if args.portable else "host")
    print(f"wrote {enc} and {dec} (preset {args.preset}; {challenge.shipped_bytes(args.dir)} bytes in all)")
    with tempfile.TemporaryDirectory() as tmp:
        sample = args.check
        if sample is None:
            sample = Path(tmp) / "check.wav"
            sample.write_bytes(wav.write_bytes(recording(SAMPLE_RATE * 5, seed=7), SAMPLE_RATE))
        timing = challenge.time_pair(args.dir, sample, runs=3)
    if not timing["identical"]:
        raise NeurocodecError(f"the executables did not round-trip {sample}: {timing['stderr']}")
    print(f"one encode + decode process pair on {sample}: {timing['pair_cpu_s']:.3f} s CPU, "
          f"{timing['pair_wall_s']:.3f} s wall (encode {timing['encode_cpu_s']:.3f} s CPU, decode "
          f"{timing['decode_cpu_s']:.3f} s CPU; best of 3), ratio "
          f"{timing['original_bytes'] / timing['compressed_bytes']:.3f}, round trip identical")
    return 0


def _ensure_kernels(steps, enabled: bool = True) -> None:
    """On a first run (no cached kernels), say so and compile them with a progress bar."""
    from . import _jit

    if not enabled or _jit.kernels_cached():
        return
    where = "in memory (nothing writable for a cache)" if _jit.MODE == "memory" else "once; later runs load them"
    print(f"neurocodec: first run: compiling the codec kernels {where} (about a minute per preset)",
          file=sys.stderr, flush=True)
    _jit.warmup(steps, progress=True)


def cmd_demo(args) -> int:
    if args.data:
        from . import evaluate

        _ensure_kernels(None)
        results = evaluate.evaluate(args.data, jobs=evaluate.default_jobs(), progress=True)
        _print_summary(evaluate.summarize(results, evaluate.codec_size_bytes()))
        return 0
    import numpy as np

    from . import api
    from .synthetic import SAMPLE_RATE, recording

    _ensure_kernels(None)
    x = recording(int(SAMPLE_RATE * args.seconds), channels=args.channels, seed=1)
    print(f"synthetic recording: {args.channels} channels x {args.seconds:g} s at {SAMPLE_RATE} Hz, "
          f"10-bit ladder in int16 ({x.nbytes} bytes)")
    print("speeds in M samples/s: per core (codec CPU time, as the README quotes) / wall clock")
    for preset in ("max", "fast"):
        api.decompress(api.compress(x[:1000], preset=preset))  # load kernels before timing
        c0, t0 = time.process_time(), time.perf_counter()
        data = api.compress(x, preset=preset)
        c1, t1 = time.process_time(), time.perf_counter()
        y = api.decompress(data)
        c2, t2 = time.process_time(), time.perf_counter()
        ok = "lossless" if np.array_equal(x, y) else "MISMATCH"

        def speeds(cpu, wall):
            return f"{x.size / max(cpu, 1e-9) / 1e6:5.1f} / {x.size / max(wall, 1e-9) / 1e6:5.1f}"

        print(f"  waveform {preset:<5} ratio {x.nbytes / len(data):6.3f}  encode {speeds(c1 - c0, t1 - t0)}  "
              f"decode {speeds(c2 - c1, t2 - t1)}  {ok}")
    print("real data: neurocodec demo DIR (a folder of challenge .wav files)")
    return 0


def cmd_warmup(args) -> int:
    from . import _jit

    steps = _jit.warmup("all" if args.all else (args.codec or None), progress=not args.no_progress)
    where = {"numba": "numba's cache (beside the package, NUMBA_CACHE_DIR or the user cache)",
             "dir": f"the cache in {_jit.CACHE_DIR}", "memory": "memory only (nothing writable for a cache)"}
    print(f"kernels of {len(steps)} codec configurations compiled or loaded; they live in {where[_jit.MODE]}")
    return 0


def cmd_codecs(args) -> int:
    from . import registry

    for name in registry.codec_names():
        print(name)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to read the usage, no usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def _verbose_everywhere(parser: argparse.ArgumentParser) -> None:
    """Accept -v after any subcommand too (``neurocodec encode a b -v``), not only before it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if not any("-v" in a.option_strings for a in sub._actions):
                    sub.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                     help="show tracebacks on errors")
                _verbose_everywhere(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="neurocodec", description="Compression of neural recordings.")
    parser.add_argument("--version", action="version", version=f"neurocodec {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("encode", help="compress a WAV, .npy or raw interleaved binary (SpikeGLX .bin) file")
    p.add_argument("input", help="input file, - for stdin")
    p.add_argument("output", help="output file, - for stdout")
    p.add_argument("--force", action="store_true", help="allow the output to replace the input file")
    _codec_args(p)
    _threads_arg(p)
    p.add_argument("--channels", type=_positive_int, help="raw binary input: interleaved channels "
                   "(default: nSavedChans from the .meta beside a SpikeGLX .bin)")
    p.add_argument("--dtype", default="int16", choices=["int16", "int32"], help="raw binary sample type (default int16)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("decode", help="decompress to the original WAV, .npy or raw binary (and its .meta)")
    p.add_argument("input", help="compressed file, - for stdin")
    p.add_argument("output", help="output file, - for stdout")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true", help="allow the output to replace the input file")
    _threads_arg(p)
    p.set_defaults(func=cmd_decode)

    p = sub.add_parser("inspect", help="header fields and byte accounting of a compressed file")
    p.add_argument("file", help="compressed file, - for stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("eval", help="round-trip every WAV in a folder or data.zip and report the ratio")
    p.add_argument("data", help="folder of .wav files or the challenge's data.zip")
    p.add_argument("--jobs", type=_positive_int, default=None, help="processes (default: one per core)")
    p.add_argument("--csv", default="neurocodec-eval.csv", help="per-file CSV (default neurocodec-eval.csv)")
    p.add_argument("--json", action="store_true", help="last line of output: one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _codec_args(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("challenge-exe", help="write ./encode and ./decode for the challenge's eval.sh")
    p.add_argument("dir", help="directory to write the executables into")
    p.add_argument("--preset", choices=["max", "fast"], default="max", help="waveform preset (default max)")
    p.add_argument("--check", help="WAV file to time one encode + decode pair on (default: synthetic)")
    p.add_argument("--portable", action="store_true",
                   help="native code for any CPU of this architecture (default: tuned for this machine's)")
    p.set_defaults(func=cmd_challenge_exe)

    p = sub.add_parser("demo", help="compress a synthetic recording (or a folder of WAVs) and print ratio and speed")
    p.add_argument("data", nargs="?", help="optional folder of challenge .wav files")
    p.add_argument("--channels", type=_positive_int, default=32, help="synthetic channels (default 32)")
    p.add_argument("--seconds", type=_positive_float, default=5.0, help="synthetic duration (default 5)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("warmup", help="compile the codec kernels into numba's cache now (first runs, cluster images)")
    p.add_argument("--codec", action="append", help="codec to compile (repeatable; default: the waveform presets)")
    p.add_argument("--all", action="store_true", help="every codec")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_warmup)

    p = sub.add_parser("codecs", help="list the registered codecs")
    p.set_defaults(func=cmd_codecs)

    from .mua.cli import register_cli as register_mua

    register_mua(sub)
    from .lossy_cli import register_cli as register_lossy

    register_lossy(sub)
    from .stream.cli import register_cli as register_stream

    register_stream(sub)
    _verbose_everywhere(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except NeurocodecError as exc:
        if args.verbose:
            raise
        print(f"neurocodec: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if args.verbose:
            raise
        print(f"neurocodec: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
