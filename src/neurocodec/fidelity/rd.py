"""Rate-distortion study: every rung of the lossy ladder and the baselines users know, side by side.

Modes: the waveform codec near-lossless at ``near`` = 0..8, the hybrid codec at target ratios, its
events-only setting, WavPack's hybrid mode at 2.25..6 bits/sample (wavpack-numcodecs, optional),
and the ratio of sc-neurocore's WaveformCodec (it has no decoder, so no fidelity).  Ratios are on
the WAV basis: 16-bit samples / compressed bytes (whole neurocodec container streams).
"""

from __future__ import annotations

import hashlib
import math
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import api
from ..errors import InvalidConfigError, NeurocodecError
from ..io import wav
from .metrics import compare

NEAR_LEVELS = tuple(range(9))
HYBRID_TARGETS = (24, 60, 100)
#: Fixed hybrid settings (snippet_near, background_factor, background_near): no per-block rate control.
HYBRID_FIXED = ((0, 16, 1), (0, 32, 1), (1, 64, 2), (2, 128, 4))
#: Fixed rungs of the rate-control ladder (before, after, taper, snippet_near, taper_near, factor,
#: background_near; neurocodec.hybrid.codec.LADDER): wide windows and tapers, exact snippets.
HYBRID_RUNGS = ((36, 54, 40, 0, 2, 16, 1), (30, 45, 40, 0, 8, 128, 4))
WAVPACK_BPS = (2.25, 3.0, 4.0, 5.0, 6.0)


@dataclass
class Mode:
    """One rung: ``run(x)`` gives ``(compressed bytes, reconstruction or None)``."""

    label: str
    family: str
    run: object
    note: str = ""
    unavailable: str | None = None


@dataclass
class Tally:
    raw: int = 0
    coded: int = 0
    samples: int = 0
    seconds: float = 0.0
    channels: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    spike_e: float = 0.0
    spike_err: float = 0.0
    band_e: float = 0.0
    band_err: float = 0.0
    max_err: float = 0.0
    decoded: bool = True
    errors: list = field(default_factory=list)


def _neurocodec_mode(label, family, codec, note="", **config):
    def run(x):
        data = api.compress(x, codec=codec, **config)
        return len(data), api.decompress(data)
    return Mode(label, family, run, note)


def _near_modes(levels):
    out = []
    for k in levels:
        if k:
            try:
                api.compress(np.zeros(4, np.int16) + np.arange(4, dtype=np.int16), near=k)
            except InvalidConfigError as exc:
                out.append(Mode(f"near-lossless k={k}", "near-lossless", None,
                                unavailable=f"this build's waveform codec has no near= ({exc})"))
                continue
            out.append(_neurocodec_mode(f"near-lossless k={k}", "near-lossless", "waveform", near=k))
        else:
            out.append(_neurocodec_mode("lossless (k=0)", "near-lossless", "waveform"))
    return out


def _wavpack_modes(bps_values):
    try:
        from wavpack_numcodecs import WavPack
    except ImportError as exc:
        reason = (f"wavpack-numcodecs not installed ({exc}); apt-get install libwavpack-dev && "
                  "pip install 'wavpack-numcodecs==0.1.5'")
        return [Mode(f"WavPack hybrid bps={b:g}", "wavpack", None, unavailable=reason) for b in bps_values]
    out = []
    for b in bps_values:
        def run(x, b=b):
            codec = WavPack(level=2, bps=b)
            data = codec.encode(np.ascontiguousarray(x))
            y = np.frombuffer(bytes(codec.decode(data)), dtype=x.dtype).reshape(x.shape)
            return len(data), y
        out.append(Mode(f"WavPack hybrid bps={b:g}", "wavpack", run, "no error bound"))
    return out


def load_sc_neurocore():
    """sc-neurocore's spike_codec module (its missing ``world_model`` stubbed), or None and the reason."""
    try:
        import sc_neurocore  # noqa: F401
    except ImportError as exc:
        return None, f"sc-neurocore not installed ({exc})"
    names = ("sc_neurocore.world_model", "sc_neurocore.world_model.spike_predictor")
    if not all(n in sys.modules for n in names):
        world_model, predictor = types.ModuleType(names[0]), types.ModuleType(names[1])

        def missing(*_args, **_kwargs):
            raise RuntimeError("sc_neurocore.world_model is missing from the sc-neurocore 3.16 wheel")

        predictor.predict_and_xor_world_model = predictor.xor_and_recover_world_model = missing
        world_model.spike_predictor = predictor
        sys.modules.setdefault(names[0], world_model)
        sys.modules.setdefault(names[1], predictor)
    try:
        import sc_neurocore.spike_codec as scn
    except Exception as exc:  # noqa: BLE001  (any import failure of the peer means "unavailable")
        return None, f"sc-neurocore import failed: {exc!r}"
    return scn, ""


def _scn_mode():
    scn, reason = load_sc_neurocore()
    if scn is None:
        return Mode("sc-neurocore WaveformCodec", "sc-neurocore", None, unavailable=reason)

    def run(x):
        data, _ = scn.WaveformCodec().compress(x if x.ndim == 2 else x[:, None])
        return len(data), None
    return Mode("sc-neurocore WaveformCodec", "sc-neurocore", run, "ratio only: it has no decoder")


def default_modes(*, near=NEAR_LEVELS, targets=HYBRID_TARGETS, fixed=HYBRID_FIXED, rungs=HYBRID_RUNGS,
                  wavpack=WAVPACK_BPS, sample_rate=19531, baselines=True) -> list[Mode]:
    """The rungs of the ladder, in order (baselines last)."""
    modes = _near_modes(near)
    for t in targets:
        modes.append(_neurocodec_mode(f"hybrid target {t:g}x", "hybrid", "hybrid", "snippets and background bounded",
                                      target_ratio=t, sample_rate=sample_rate))
    for k, factor, bnear in fixed:
        modes.append(_neurocodec_mode(f"hybrid k={k} bg {factor}/{bnear}", "hybrid-fixed", "hybrid",
                                      "fixed bounds", snippet_near=k, background_factor=factor,
                                      background_near=bnear, sample_rate=sample_rate))
    for before, after, taper, k, tk, factor, bnear in rungs:
        modes.append(_neurocodec_mode(f"hybrid {before}/{after}/{taper} k={k}/{tk} bg {factor}/{bnear}",
                                      "hybrid-fixed", "hybrid", "fixed ladder rung", snippet_before=before,
                                      snippet_after=after, taper=taper, snippet_near=k, taper_near=tk,
                                      background_factor=factor, background_near=bnear, sample_rate=sample_rate))
    modes.append(_neurocodec_mode("events-only", "events", "hybrid", "times, channels, trough amplitudes",
                                  events_only=True, sample_rate=sample_rate))
    if baselines:
        modes += _wavpack_modes(wavpack)
        modes.append(_scn_mode())
    return modes


def wav_files(data) -> list[Path]:
    path = Path(data)
    files = sorted(path.glob("*.wav")) if path.is_dir() else [path]
    if not files:
        raise NeurocodecError(f"no .wav files in {data}")
    return files


def data_hash(files) -> str:
    """SHA-256 over the files' names and bytes, in sorted order (names the data a figure was measured on)."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda p: p.name):
        h.update(f.name.encode() + b"\0")
        h.update(Path(f).read_bytes())
    return h.hexdigest()


def run(files, modes, *, progress: bool = False, stack: int = 1, fidelity: bool = True) -> list[dict]:
    """Every mode on every file (or on groups of ``stack`` files stacked as channels); one row per mode.

    ``fidelity=False`` measures sizes only (the planning table needs no more).
    """
    arrays = _load(files, stack)
    tallies = {m.label: Tally() for m in modes}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(arrays) * len(modes), file=sys.stderr, unit="run", leave=False)
    for x, rate in arrays:
        for m in modes:
            t = tallies[m.label]
            if bar is not None:
                bar.update(1)
            if m.run is None:
                continue
            try:
                size, y = m.run(x)
            except Exception as exc:  # noqa: BLE001  (a baseline failing on one file is reported, not fatal)
                t.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            t.raw += x.size * 2
            t.coded += size
            t.samples += x.size
            t.channels = x.shape[1] if x.ndim == 2 else 1
            t.seconds += x.shape[0] / rate
            if y is None:
                t.decoded = False
                continue
            if not fidelity:
                continue
            r = compare(x, y, rate)
            t.tp, t.fp, t.fn = t.tp + r["tp"], t.fp + r["fp"], t.fn + r["fn"]
            t.spike_e += r["spike_energy"]
            t.spike_err += r["spike_error_energy"]
            t.band_e += r["spike_band_energy"]
            t.band_err += r["spike_band_error_energy"]
            t.max_err = max(t.max_err, r["max_abs_error_codes"])
    if bar is not None:
        bar.close()
    return [_row(m, tallies[m.label]) for m in modes]


def _load(files, stack: int):
    out = []
    parsed = [wav.read(f) for f in files]
    if stack <= 1:
        return [(p.samples if p.samples.ndim == 1 else p.samples, p.rate) for p in parsed]
    for i in range(0, len(parsed) - stack + 1, stack):
        group = parsed[i:i + stack]
        n = min(p.samples.shape[0] for p in group)
        out.append((np.stack([p.samples[:n] for p in group], axis=1), group[0].rate))
    return out


def _db(signal: float, error: float):
    if signal == 0:
        return None
    return math.inf if error == 0 else 10 * math.log10(signal / error)


def _row(m: Mode, t: Tally) -> dict:
    row = {"mode": m.label, "family": m.family, "note": m.note}
    if m.run is None or t.coded == 0:
        row["unavailable"] = m.unavailable or ("; ".join(t.errors[:1]) or "no data")
        return row
    f1 = 2 * t.tp / (2 * t.tp + t.fp + t.fn) if t.tp + t.fp + t.fn else 1.0
    row.update({
        "ratio": t.raw / t.coded,
        "bits_per_sample": 8 * t.coded / t.samples,
        "bits_per_s_per_channel": 8 * t.coded / t.seconds / max(t.channels, 1),
        "decodes": t.decoded,
    })
    if t.decoded and t.tp + t.fp + t.fn + t.spike_e + t.band_e > 0:
        row.update({"f1": f1, "precision": t.tp / (t.tp + t.fp) if t.tp + t.fp else 1.0,
                    "recall": t.tp / (t.tp + t.fn) if t.tp + t.fn else 1.0,
                    "spike_snr_db": _db(t.spike_e, t.spike_err), "snr_spike_band_db": _db(t.band_e, t.band_err),
                    "max_abs_error_codes": t.max_err})
    if t.errors:
        row["errors"] = len(t.errors)
    return row


def format_table(rows) -> str:
    def f(v, fmt):
        return "-" if v is None else (fmt.format(v) if not (isinstance(v, float) and math.isinf(v)) else "inf")
    lines = [f"{'mode':<32} {'ratio':>8} {'bits/smp':>8} {'F1':>7} {'spkSNR':>7} {'bandSNR':>7} {'maxerr':>6}  note",
             "-" * 100]
    for r in rows:
        if "unavailable" in r:
            lines.append(f"{r['mode']:<32} unavailable: {r['unavailable']}")
            continue
        lines.append(f"{r['mode']:<32} {f(r['ratio'], '{:8.2f}')} {f(r['bits_per_sample'], '{:8.3f}')} "
                     f"{f(r.get('f1'), '{:7.4f}')} {f(r.get('spike_snr_db'), '{:7.2f}')} "
                     f"{f(r.get('snr_spike_band_db'), '{:7.2f}')} {f(r.get('max_abs_error_codes'), '{:6.0f}')}  {r['note']}")
    return "\n".join(lines)


def plot(rows, path) -> None:
    """Ratio (log) against spike F1 and against spike SNR at matched spikes, one marker per family."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    markers = {"near-lossless": "o", "hybrid": "s", "hybrid-fixed": "D", "events": "*", "wavpack": "^", "sc-neurocore": "x"}
    for family, marker in markers.items():
        pts = [r for r in rows if r["family"] == family and "ratio" in r]
        if not pts:
            continue
        ratios = [r["ratio"] for r in pts]
        if family == "sc-neurocore":
            for ax in axes:
                for v in ratios:
                    ax.axvline(v, ls=":", color="grey", label="sc-neurocore ratio (no decoder)")
            continue
        axes[0].plot(ratios, [r["f1"] for r in pts], marker=marker, label=family)
        snr = [min(r["spike_snr_db"], 80) if r.get("spike_snr_db") is not None else np.nan for r in pts]
        axes[1].plot(ratios, snr, marker=marker, label=family)
    for ax, ylabel in zip(axes, ("spike detection F1 (+-0.4 ms)", "spike-band SNR at matched spikes (dB, capped 80)")):
        ax.set_xscale("log")
        ax.set_xlabel("ratio (16-bit WAV samples / compressed bytes)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    axes[0].legend(uniq.values(), uniq.keys(), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
