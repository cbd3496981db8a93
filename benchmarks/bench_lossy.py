"""Lossy ladder benchmark: rate-distortion on the dev recordings and per-unit accuracy on ground truth.

    python benchmarks/bench_lossy.py --data ../shared/data/neuralink-dev [--limit N] [--out DIR]
    python benchmarks/bench_lossy.py --ladder --data ../shared/data/neuralink-dev
    python benchmarks/bench_lossy.py --per-file 24 60 --data ../shared/data/neuralink-dev
    .venv-si/bin/python benchmarks/bench_lossy.py --ground-truth [--seeds 3] [--out DIR]

The first runs the modes of ``neurocodec rd`` (near-lossless k = 0..8, hybrid rate targets and fixed
settings, events-only, WavPack hybrid, sc-neurocore's ratio) and checks the issue's bars on the
pooled figures.  ``--ladder`` measures the settings rate control chooses from and prints the rule's
ladder (neurocodec.hybrid.codec.LADDER), what it gives at 24x and 60x, and the per-file best of all
settings; ``--per-file`` gives each recording's own ratio at rate targets.  The last needs SpikeInterface (the ``spikeinterface`` extra; it pins zarr < 3 on
Python 3.11, so use a separate venv): it makes ground-truth recordings with
``generate_ground_truth_recording``, quantises them to int16, and compares each unit's detection
accuracy TP / (TP + FP + FN) (``spikeinterface.comparison``; one tested unit per channel, threshold
from the original) between the original and each reconstruction.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

import neurocodec
from neurocodec import hybrid
from neurocodec.fidelity import ground_truth_accuracy, rd
from neurocodec.hybrid import detect

GT_MODES = {
    "hybrid target 24x": dict(target_ratio=24),
    "hybrid target 60x": dict(target_ratio=60),
    "hybrid k=0 bg 32/1": dict(snippet_near=0, background_factor=32, background_near=1),
    "hybrid k=1 bg 64/2": dict(snippet_near=1, background_factor=64, background_near=2),
    "hybrid k=2 bg 128/4": dict(snippet_near=2, background_factor=128, background_near=4),
    **{f"hybrid {b}/{a}/{t} k={k}/{tk} bg {f}/{n}": dict(snippet_before=b, snippet_after=a, taper=t, snippet_near=k,
                                                        taper_near=tk, background_factor=f, background_near=n)
       for b, a, t, k, tk, f, n in rd.HYBRID_RUNGS},
    "events-only": dict(events_only=True),
}


def bars(rows) -> list[str]:
    by = {r["mode"]: r for r in rows if "ratio" in r}
    out = []
    for r in by.values():
        if r["family"] in ("hybrid", "hybrid-fixed") and r.get("f1") is not None:
            hit24 = r["ratio"] >= 24 and r["f1"] >= 0.99 and (r["spike_snr_db"] or 0) >= 25
            hit60 = r["ratio"] >= 60 and r["f1"] >= 0.97 and (r["spike_snr_db"] or 0) >= 18
            out.append(f"{r['mode']:<32} ratio {r['ratio']:7.2f} F1 {r['f1']:.4f} spike SNR {r['spike_snr_db']:.2f} dB"
                       f"  24x bar {'MET' if hit24 else 'not met'}, 60x bar {'MET' if hit60 else 'not met'}")
    ev = by.get("events-only")
    if ev:
        out.append(f"events-only                      ratio {ev['ratio']:7.2f} (bar >= 400, aim 1000); "
                   "decoded event times are the detector's, lossless (F1 1.0 against it)")
    return out


def run_rd(args) -> None:
    files = rd.wav_files(args.data)
    if args.limit:
        files = files[::max(1, len(files) // args.limit)][:args.limit]
    t0 = time.process_time()
    rows = rd.run(files, rd.default_modes(), progress=True)
    print(f"{len(files)} files of {args.data}, {time.process_time() - t0:.0f} s CPU")
    print(rd.format_table(rows))
    print("\n".join(bars(rows)))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "bench_lossy.json").write_text(json.dumps({"files": len(files), "data_sha256": rd.data_hash(files),
                                                         "rows": rows}, indent=1, default=str))
        rd.plot(rows, out / "bench_lossy.png")


def ladder_grid() -> list[tuple[int, ...]]:
    """The settings ``--ladder`` measures, as (before, after, taper, snippet_near, taper_near, factor, bg near)."""
    grid = []

    def add(windows, nears, tapers, backgrounds):
        for w, k, tn, (f, b) in itertools.product(windows, nears, tapers, backgrounds):
            if (*w, k, tn, f, b) not in grid:
                grid.append((*w, k, tn, f, b))

    add([(30, 45, 20), (30, 45, 40), (24, 36, 32)], [0], [2, 4], [(8, 0), (16, 1), (32, 1), (64, 2), (128, 4)])
    add([(30, 45, 40), (24, 36, 32), (24, 36, 16)], [1], [4, 8], [(32, 1), (64, 2), (128, 4)])
    add([(24, 36, 32), (24, 36, 16), (20, 30, 16)], [2], [4, 8], [(64, 2), (128, 4)])
    add([(24, 36, 16), (20, 30, 16), (16, 24, 12)], [3, 4], [8], [(128, 4), (256, 8)])
    add([(16, 24, 12), (12, 18, 8)], [6, 8], [12], [(256, 8), (512, 16)])
    add([(30, 45, 64), (36, 54, 40), (30, 45, 40)], [0], [2, 4, 8], [(16, 1), (32, 1), (64, 2), (128, 4)])
    add([(30, 45, 64)], [1], [4, 8], [(128, 4)])
    add([(30, 45, 64), (36, 54, 40)], [0], [2], [(8, 0)])
    add([(36, 54, 40)], [0], [2], [(4, 0), (12, 0), (12, 1), (24, 1)])
    add([(36, 54, 64)], [0], [2], [(8, 0), (16, 1)])
    add([(24, 36, 32), (30, 45, 40)], [3], [8], [(128, 4)])
    add([(24, 36, 40), (20, 30, 32)], [3], [8], [(256, 8)])
    add([(20, 30, 32)], [4], [8], [(256, 8)])
    add([(24, 36, 32)], [4], [12], [(256, 8)])
    add([(24, 36, 32)], [2], [8], [(256, 8)])
    add([(30, 45, 40)], [2], [8], [(128, 4)])
    return grid


def run_ladder(args) -> None:
    """Measure :func:`ladder_grid` on every 5th recording and print the ladder rule's rungs (HybridCodec.LADDER)."""
    from neurocodec.fidelity import compare
    from neurocodec.hybrid.codec import FRAMING_RESERVE, LADDER, HybridCodec
    from neurocodec.io import wav

    files = rd.wav_files(args.data)[2::5]
    if args.limit:  # a quick look; the ladder is made from all of them
        files = files[:args.limit]
    grid = ladder_grid()
    # per file and setting: raw bytes, stream bytes, tp, fp + fn, spike energy, spike error energy
    per_file = []
    t0 = time.process_time()
    for n, f in enumerate(files):
        x = wav.read(f).samples
        rows = {}
        for g in grid:
            before, after, taper, near, taper_near, factor, bnear = g
            codec = HybridCodec(snippet_before=before, snippet_after=after, taper=taper, snippet_near=near,
                                taper_near=taper_near, background_factor=factor, background_near=bnear)
            payload = codec.encode(x)
            r = compare(x, codec.decode(payload), 19531)
            # + 59: the container header of a one-block rate-controlled stream, the framing rate control serves
            rows[g] = np.array([x.nbytes, len(payload) + 59, r["tp"], r["fp"] + r["fn"], r["spike_energy"],
                                r["spike_error_energy"]])
        per_file.append(rows)
        print(f"{n + 1}/{len(files)} {f.name} {time.process_time() - t0:.0f} s CPU", file=sys.stderr)

    def pooled(choice):
        t = np.sum(choice, axis=0)
        return t[0] / t[1], 2 * t[2] / (2 * t[2] + t[3]), 10 * np.log10(t[4] / t[5])

    fixed = {g: pooled([rows[g] for rows in per_file]) for g in grid}

    def front(candidates):
        out, best = [], 0.0
        for g in sorted(candidates, key=lambda g: (-fixed[g][2], -fixed[g][0])):
            if fixed[g][0] > best:
                out.append(g)
                best = fixed[g][0]
        return out

    def rate_control(ladder, target):
        """Pooled figures of each file at the rung HybridCodec's bisection picks, and the files that miss."""
        choice, missed = [], 0
        for rows in per_file:
            budget = rows[ladder[0]][0] / target - FRAMING_RESERVE + 59  # stream bytes allowed, as the codec's
            fits = [rows[g][1] <= budget for g in ladder]
            lo, hi = 0, len(ladder) - 1
            if fits[hi]:
                while lo < hi:
                    mid = (lo + hi) // 2
                    lo, hi = (lo, mid) if fits[mid] else (mid + 1, hi)
            missed += not fits[hi]
            choice.append(rows[ladder[hi]])
        return (*pooled(choice), missed)

    ladder = front([g for g in grid if fixed[g][1] >= 0.98])
    last = fixed[ladder[-1]][0]
    unfloored = ladder + front([g for g in grid if fixed[g][0] > last])
    ladder += front([g for g in grid if fixed[g][0] > last and fixed[g][1] >= 0.97 and fixed[g][2] >= 17])
    print(f"{len(files)} files (every 5th of {args.data}), {len(grid)} settings; the ladder, most faithful first:")
    for g in ladder:
        print(f"  {g}  ratio {fixed[g][0]:7.2f}  F1 {fixed[g][1]:.4f}  spike SNR {fixed[g][2]:6.2f} dB")
    print("matches neurocodec.hybrid.codec.LADDER" if tuple(ladder) == tuple(LADDER) else
          "DIFFERS from neurocodec.hybrid.codec.LADDER")
    for target in (24, 60):
        for name, lad in (("the ladder", ladder), ("without its floor", unfloored)):
            ratio, f1, snr, missed = rate_control(lad, target)
            print(f"target {target}, {name}: ratio {ratio:.2f} F1 {f1:.4f} spike SNR {snr:.2f} dB, "
                  f"{missed} files miss the target")
        # the oracle: per file, the setting of least spike error among all that meet the budget
        choice = []
        for rows in per_file:
            fit = [g for g in grid if rows[g][1] <= rows[g][0] / target - FRAMING_RESERVE + 59]
            choice.append(rows[min(fit, key=lambda g: rows[g][5])] if fit else
                          rows[min(grid, key=lambda g: rows[g][1])])
        ratio, f1, snr = pooled(choice)
        print(f"target {target}, best of all {len(grid)} settings per file: ratio {ratio:.2f} F1 {f1:.4f} "
              f"spike SNR {snr:.2f} dB")
    energy = np.array([rows[ladder[0]][4] for rows in per_file])
    print("busiest files at 24x (share of the spike energy; best spike SNR of any setting that meets the budget):")
    for i in np.argsort(-energy)[:3]:
        rows = per_file[i]
        fit = [g for g in grid if rows[g][1] <= rows[g][0] / 24 - FRAMING_RESERVE + 59]
        best = max((10 * np.log10(rows[g][4] / rows[g][5]) for g in fit if rows[g][5] > 0), default=None)
        print(f"  {files[i].name}: {energy[i] / energy.sum():.3f} of the energy, {int(rows[ladder[0]][2])} spikes, "
              + (f"{best:.2f} dB" if best is not None else "no spikes or no setting reaches 24x"))

def run_per_file(args) -> None:
    """Each recording's own ratio at each rate target: which blocks reach their target."""
    from neurocodec.io import wav

    files = rd.wav_files(args.data)
    for target in args.per_file:
        ratios = []
        for f in files:
            x = wav.read(f).samples
            ratios.append(x.nbytes / len(neurocodec.compress(x, codec="hybrid", target_ratio=target)))
        r = np.array(ratios)
        print(f"target {target:g}: {len(files)} files, {int(np.sum(r < target))} below the target "
              f"(lowest {r.min():.2f}), median {np.median(r):.2f}, highest {r.max():.2f}")


def _rung(data) -> str:
    """The bounds and windows a one-block hybrid stream states (what rate control chose)."""
    d = hybrid.describe(data)["blocks"][0]
    if "snippet_near" not in d:
        return d["mode"]
    return ("win {}/{}/{} k={} taper k={} bg {}/{}".format(*d["snippet_samples"], d["snippet_near"], d["taper_near"],
                                                          d["background_factor"], d["background_near"]))


def run_ground_truth(args) -> None:
    from spikeinterface.core import generate_ground_truth_recording

    rate = 20000.0
    worst = {m: 0.0 for m in GT_MODES}
    ratios = {m: [] for m in GT_MODES}
    report = []
    for seed in range(args.seeds):
        rec, sorting = generate_ground_truth_recording(durations=[args.seconds], sampling_frequency=rate,
                                                       num_channels=args.channels, num_units=args.units, seed=seed)
        traces = rec.get_traces().astype(np.float64)
        # int16 with the noise at ~5 codes, as on the implant (MAD sigma 4-9 codes on the dev set)
        scale = 5.0 / np.median(detect.noise_sigma(detect.bandpass(traces, rate)))
        x = np.clip(np.round(traces * scale), -32768, 32767).astype(np.int16)
        base = ground_truth_accuracy(x, sorting, rate)
        print(f"seed {seed}: {args.units} units, {args.channels} channels, {args.seconds:g} s; "
              f"original accuracy {np.round(list(base['accuracy'].values()), 4).tolist()}")
        entry = {"seed": seed, "original": base["accuracy"], "modes": {}}
        for name, config in GT_MODES.items():
            data = neurocodec.compress(x, codec="hybrid", sample_rate=int(rate), **config)
            y = neurocodec.decompress(data)
            acc = ground_truth_accuracy(y, sorting, rate, sigma=base["sigma"], channels=base["channels"])
            diffs = [abs(acc["accuracy"][u] - a) for u, a in base["accuracy"].items()]
            worst[name] = max(worst[name], max(diffs))
            ratios[name].append(x.nbytes / len(data))
            entry["modes"][name] = {"ratio": x.nbytes / len(data), "rung": _rung(data), "accuracy": acc["accuracy"]}
            print(f"  {name:<32} ratio {x.nbytes / len(data):8.2f}  max |accuracy - original's| {max(diffs):.4f}"
                  f"  ({_rung(data)})")
        report.append(entry)
    print("worst per-unit accuracy change over all seeds (bar: <= 0.02):")
    for name, w in worst.items():
        print(f"  {name:<32} ratios {' / '.join(f'{r:.2f}' for r in ratios[name])}  {w:.4f}  "
              f"{'MET' if w <= 0.02 else 'not met'}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "bench_lossy_ground_truth.json").write_text(json.dumps(
            {"seeds": args.seeds, "seconds": args.seconds, "channels": args.channels, "units": args.units,
             "worst": worst, "runs": report}, indent=1))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="folder of .wav recordings (rate-distortion study)")
    p.add_argument("--limit", type=int, help="about this many files, evenly spaced")
    p.add_argument("--out", help="directory for bench_lossy.json and .png (bench_lossy_ground_truth.json)")
    p.add_argument("--ground-truth", action="store_true", help="SpikeInterface ground-truth check")
    p.add_argument("--per-file", type=float, nargs="+", metavar="TARGET",
                   help="with --data: each file's ratio at these target ratios")
    p.add_argument("--ladder", action="store_true", help="with --data: measure the rate-control ladder (~15 min)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--units", type=int, default=6)
    args = p.parse_args(argv)
    if not args.data and not args.ground_truth:
        p.error("give --data DIR and/or --ground-truth")
    if (args.ladder or args.per_file) and not args.data:
        p.error("--ladder and --per-file need --data DIR")
    if args.per_file:
        run_per_file(args)
    elif args.ladder:
        run_ladder(args)
    elif args.data:
        run_rd(args)
    if args.ground_truth:
        try:
            import spikeinterface  # noqa: F401
        except ImportError:
            print("ground truth: unavailable (pip install 'neurocodec[spikeinterface]' in its own venv)")
            return 1
        run_ground_truth(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
