"""The fidelity metrics (see the package docstring)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidConfigError, NeurocodecError
from ..hybrid import detect as D
from ..waveform.levels import LADDER_INDEX, LADDER_VALUES
from . import _kernels as K

#: int16 units per ADC code on the implant's 10-bit ladder
LADDER_STEP = 65535 / 1023
LFP_CUTOFF = 300.0


def _as_2d(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.dtype.kind not in "iuf":
        raise InvalidConfigError(f"{name} must be a numeric (T,) or (T, C) array, got {arr.dtype}{arr.shape}")
    return arr


def _on_ladder(x: np.ndarray) -> bool:
    if x.dtype.kind not in "iu" or x.size == 0:
        return False
    lo, hi = int(x.min()), int(x.max())
    if lo < LADDER_VALUES[0] or hi > LADDER_VALUES[-1]:
        return False
    return bool((LADDER_INDEX[x.astype(np.int64) + 32768] >= 0).all())


def _snr(signal: np.ndarray, error: np.ndarray) -> float:
    s = float(np.sum(np.square(signal)))
    e = float(np.sum(np.square(error)))
    if e == 0:
        return math.inf
    if s == 0:
        return -math.inf
    return 10 * math.log10(s / e)


def detection_agreement(original_times, reconstructed_times, tolerance: int) -> dict:
    """Precision, recall and F1 of per-channel spike times (lists of increasing int arrays) against the original's."""
    tp = fp = fn = 0
    matches = []
    for a, b in zip(original_times, reconstructed_times):
        m = K.match_times(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), int(tolerance))
        hit = int(np.count_nonzero(m >= 0))
        tp += hit
        fn += len(a) - hit
        fp += len(b) - hit
        matches.append(np.asarray(a, dtype=np.int64)[m >= 0])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1,
            "matched": matches}


def compare(original, reconstruction, sample_rate: float = 19531, *, uv_per_code: float | None = None,
            threshold: float = 4.5, tolerance_ms: float = 0.4, window_ms: tuple[float, float] = (1.0, 1.5)) -> dict:
    """Fidelity of ``reconstruction`` against ``original`` (same shape); see the package docstring.

    >>> import numpy as np
    >>> from neurocodec.synthetic import recording
    >>> x = recording(20000, seed=1)
    >>> compare(x, x)["f1"]
    1.0
    """
    x = _as_2d(original, "original")
    y = _as_2d(reconstruction, "reconstruction")
    if x.shape != y.shape:
        raise InvalidConfigError(f"original {x.shape} and reconstruction {y.shape} differ in shape")
    if not sample_rate > 0:
        raise InvalidConfigError(f"sample_rate must be positive, got {sample_rate}")
    if _on_ladder(x) and _on_ladder(y):
        xc = LADDER_INDEX[x.astype(np.int64) + 32768].astype(np.float64)
        yc = LADDER_INDEX[y.astype(np.int64) + 32768].astype(np.float64)
        unit = "ladder codes"
    elif _on_ladder(x):
        xc, yc = x / LADDER_STEP, y / LADDER_STEP
        unit = "int16 / (65535 / 1023)"
    else:
        xc, yc = x.astype(np.float64), y.astype(np.float64)
        unit = "sample units"
    err = yc - xc
    out = {"shape": list(np.asarray(original).shape), "sample_rate": sample_rate, "code_unit": unit}
    out["max_abs_error_codes"] = float(np.max(np.abs(err))) if err.size else 0.0
    out["rmse_codes"] = float(np.sqrt(np.mean(np.square(err)))) if err.size else 0.0
    if uv_per_code is not None:
        out["rmse_uv"] = out["rmse_codes"] * float(uv_per_code)
        out["max_abs_error_uv"] = out["max_abs_error_codes"] * float(uv_per_code)
    out["snr_db"] = _snr(xc - xc.mean(axis=0) if xc.size else xc, err)
    bx, by = D.bandpass(xc, sample_rate), D.bandpass(yc, sample_rate)
    out["snr_spike_band_db"] = _snr(bx, by - bx)
    out["spike_band_energy"] = float(np.sum(np.square(bx)))
    out["spike_band_error_energy"] = float(np.sum(np.square(by - bx)))
    lx = D.lowpass(xc, sample_rate, LFP_CUTOFF)
    ly = D.lowpass(yc, sample_rate, LFP_CUTOFF)
    out["snr_lfp_band_db"] = _snr(lx - lx.mean(axis=0) if lx.size else lx, ly - lx)

    sigma = D.noise_sigma(bx)
    tx = D.detect(xc, sample_rate, threshold, sigma=sigma, filtered=bx)
    ty = D.detect(yc, sample_rate, threshold, sigma=sigma, filtered=by)
    tol = max(0, int(round(tolerance_ms * 1e-3 * sample_rate)))
    agreement = detection_agreement(tx, ty, tol)
    matched = agreement.pop("matched")
    out.update(agreement)
    out["spikes_original"] = int(sum(len(t) for t in tx))

    before = int(round(window_ms[0] * 1e-3 * sample_rate))
    after = int(round(window_ms[1] * 1e-3 * sample_rate))
    sig_e = err_e = 0.0
    corrs = []
    for c, times in enumerate(matched):
        for s in times:
            lo, hi = s - before, s + after
            if lo < 0 or hi > x.shape[0]:
                continue
            a, b = bx[lo:hi, c], by[lo:hi, c]
            sig_e += float(np.dot(a, a))
            err_e += float(np.dot(a - b, a - b))
            sa, sb = a.std(), b.std()
            corrs.append(float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb)) if sa > 0 and sb > 0 else 0.0)
    out["spike_snr_db"] = (math.inf if err_e == 0 else 10 * math.log10(sig_e / err_e)) if sig_e else None
    out["spike_correlation"] = float(np.mean(corrs)) if corrs else None
    out["spike_energy"] = sig_e
    out["spike_error_energy"] = err_e
    out["spikes_matched_windows"] = len(corrs)
    return out


def ground_truth_accuracy(traces, gt_sorting, sample_rate: float, *, sigma=None, channels=None,
                          threshold: float = 4.5, tolerance_ms: float = 0.4) -> dict:
    """Per ground-truth unit detection accuracy TP / (TP + FP + FN) of the detector run on ``traces``.

    ``gt_sorting`` is a SpikeInterface sorting (e.g. from ``generate_ground_truth_recording``).  Each
    unit is scored on its best channel (the most negative mean band-passed trace at its spikes): the
    tested unit holds that channel's detections except those within ``tolerance_ms`` of another
    unit's spikes (they belong to that unit, not to this one's false positives), and
    ``spikeinterface.comparison.compare_sorter_to_ground_truth`` scores it.  Pass the original's
    ``sigma`` and ``channels`` (returned by the call on the original) to score a reconstruction with
    the original's threshold and channels.  Returns ``{"accuracy": {unit: value}, "sigma", "channels"}``.
    """
    try:
        import spikeinterface.comparison as sc
        from spikeinterface.core import NumpySorting
    except ImportError:
        raise NeurocodecError(
            "ground-truth scoring needs SpikeInterface: pip install 'neurocodec[spikeinterface]'") from None
    x = _as_2d(traces, "traces").astype(np.float64)
    bx = D.bandpass(x, sample_rate)
    if sigma is None:
        sigma = D.noise_sigma(bx)
    times = D.detect(x, sample_rate, threshold, sigma=sigma, filtered=bx)
    units = list(gt_sorting.unit_ids)
    trains = {u: np.asarray(gt_sorting.get_unit_spike_train(u), dtype=np.int64) for u in units}
    if channels is None:
        channels = {}
        for u in units:
            t = trains[u][trains[u] < x.shape[0]]
            channels[u] = int(np.argmin(bx[t].mean(axis=0))) if t.size else 0
    tol = int(round(tolerance_ms * 1e-3 * sample_rate))
    samples, labels = [], []
    for i, u in enumerate(units):
        det = times[channels[u]]
        others = np.sort(np.concatenate([trains[v] for v in units if v != u] or [np.zeros(0, np.int64)]))
        own = K.match_times(det, trains[u], tol) >= 0
        foreign = K.match_times(det, others, tol) >= 0
        keep = det[own | ~foreign]
        samples.append(keep)
        labels.append(np.full(keep.size, i, dtype=np.int64))
    samples, labels = np.concatenate(samples), np.concatenate(labels)
    order = np.argsort(samples, kind="stable")
    tested = NumpySorting.from_samples_and_labels([samples[order]], [labels[order]], sample_rate,
                                                  unit_ids=np.arange(len(units)))
    comp = sc.compare_sorter_to_ground_truth(gt_sorting, tested, delta_time=tolerance_ms, exhaustive_gt=True,
                                             match_score=0.0)
    perf = comp.get_performance()
    return {"accuracy": {str(k): float(v) for k, v in perf["accuracy"].items()}, "sigma": np.asarray(sigma),
            "channels": channels}
