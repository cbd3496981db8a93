"""The ``fidelity``, ``rd`` and ``plan`` subcommands: thin shells over :mod:`neurocodec.fidelity`."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from .errors import NeurocodecError


def _load_array(path: str):
    """Samples of a WAV, ``.npy`` or neurocodec file (decoded), and its sample rate if known."""
    import numpy as np

    from . import api
    from .io import wav

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise NeurocodecError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data[:4] == b"NCDC":
        return api.decompress(data), None
    if data[:6] == b"\x93NUMPY":
        import io

        try:
            return np.load(io.BytesIO(data), allow_pickle=False), None
        except ValueError as exc:
            raise NeurocodecError(f"{path}: unreadable .npy file: {exc}") from None
    parsed = wav.parse(data, path)
    return parsed.samples, parsed.rate


def _jsonable(obj):
    if isinstance(obj, float) and math.isinf(obj):
        return "inf" if obj > 0 else "-inf"
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def cmd_fidelity(args) -> int:
    from . import fidelity

    x, rate = _load_array(args.original)
    y, rate_y = _load_array(args.reconstruction)
    rate = args.sample_rate or rate or rate_y or 19531
    r = fidelity.compare(x, y, rate, uv_per_code=args.uv_per_code)
    if args.json:
        print(json.dumps(_jsonable(r)))
        return 0
    for key, value in r.items():
        if key in ("spike_energy", "spike_error_energy", "spike_band_energy", "spike_band_error_energy"):
            continue
        print(f"{key:<24} {value:.4f}" if isinstance(value, float) else f"{key:<24} {value}")
    return 0


def cmd_rd(args) -> int:
    from .fidelity import rd

    files = rd.wav_files(args.data)
    if args.limit:
        files = files[::max(1, len(files) // args.limit)][:args.limit]
    modes = rd.default_modes(near=tuple(args.near), targets=tuple(args.targets), baselines=not args.no_baselines)
    rows = rd.run(files, modes, progress=not args.no_progress, stack=args.stack)
    print(f"{len(files)} files from {args.data}" + (f", {args.stack} stacked as channels" if args.stack > 1 else ""))
    print(rd.format_table(rows))
    if args.out:
        from .io.atomic import write_atomic

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        command = "neurocodec rd " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["rd"] else "neurocodec rd"
        record = {"command": command, "data": str(args.data), "files": len(files),
                  "data_sha256": rd.data_hash(files), "rows": rows}
        write_atomic(out / "rd.json", json.dumps(_jsonable(record), indent=1).encode())
        rd.plot(rows, out / "rd.png")
        print(f"wrote {out / 'rd.json'} and {out / 'rd.png'}")
    if args.json:
        print(json.dumps(_jsonable(rows)))
    return 0


def cmd_plan(args) -> int:
    from .fidelity import plan, rd

    if args.data:
        files = rd.wav_files(args.data)
        if args.limit:
            files = files[::max(1, len(files) // args.limit)][:args.limit]
        figures = plan.measure(files, progress=not args.no_progress)
        figures["command"] = "neurocodec plan --data " + str(args.data) + (f" --limit {args.limit}" if args.limit else "")
        figures["data_sha256"] = rd.data_hash(files)
        source = f"measured on {len(files)} files of {args.data}"
        if args.write_figures:
            from .io.atomic import write_atomic

            write_atomic(args.write_figures, json.dumps(figures, indent=1).encode())
    else:
        figures = plan.bundled_figures()
        source = f"bundled figures: {figures['command']} (data sha256 {figures['data_sha256'][:12]}...)"
    rows = plan.table(figures, args.channels, args.sample_rate, args.uplink, args.nj_per_bit)
    print(source)
    print(plan.format_table(rows, args.uplink, args.nj_per_bit))
    if args.json:
        print(json.dumps(rows))
    return 0


def register_cli(sub) -> None:
    """Add the ``fidelity``, ``rd`` and ``plan`` subcommands to the top-level parser's subparsers."""
    p = sub.add_parser("fidelity", help="fidelity of a reconstruction: errors, SNRs, spike detection agreement")
    p.add_argument("original", help="original WAV, .npy or neurocodec file")
    p.add_argument("reconstruction", help="reconstruction (WAV, .npy or a neurocodec file, decoded)")
    p.add_argument("--uv-per-code", type=float, help="microvolts per ADC code (adds errors in uV)")
    p.add_argument("--sample-rate", type=float, help="Hz (default: the WAV's, else 19531)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_fidelity)

    p = sub.add_parser("rd", help="rate-distortion table and plot of every lossy mode and the baselines")
    p.add_argument("data", help="folder of .wav files (or one file)")
    p.add_argument("--out", help="directory for rd.json and rd.png")
    p.add_argument("--limit", type=int, help="use about this many files, evenly spaced")
    p.add_argument("--stack", type=int, default=1, help="stack this many files as channels (default 1)")
    p.add_argument("--near", type=int, nargs="*", default=list(range(9)), help="near-lossless k values (default 0..8)")
    p.add_argument("--targets", type=float, nargs="*", default=[24, 60, 100], help="hybrid target ratios")
    p.add_argument("--no-baselines", action="store_true", help="skip WavPack and sc-neurocore")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="last line: the rows as JSON")
    p.set_defaults(func=cmd_rd)

    p = sub.add_parser("plan", help="radio link budget per mode: bits/s, fit, power, most channels")
    p.add_argument("--channels", type=int, nargs="+", default=[1024], help="channel counts (default 1024)")
    p.add_argument("--sample-rate", type=float, default=19531.0, help="Hz (default 19531)")
    p.add_argument("--uplink", type=float, default=1e6, help="radio bits/s (default 1e6)")
    p.add_argument("--nj-per-bit", type=float, default=20.0, help="radio energy per bit (default 20 nJ)")
    p.add_argument("--data", help="measure on this folder of .wav files instead of the bundled figures")
    p.add_argument("--limit", type=int, help="with --data: about this many files, evenly spaced")
    p.add_argument("--write-figures", help="with --data: save the measured figures as JSON here")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="last line: the rows as JSON")
    p.set_defaults(func=cmd_plan)
