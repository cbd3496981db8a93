"""From recordings to MUA: threshold crossings and their counts per binning period (BP).

Three entry points, all returning int64 counts of shape (bins, channels):

- :func:`bin_spike_times` per-channel spike times (seconds);
- :func:`bin_raster` a (samples, channels) boolean/integer detection raster, e.g. 1 ms detections;
- :func:`bin_waveforms` raw voltages: band-pass, threshold at ``-k * MAD noise``, then count.

:func:`rebin` merges consecutive bins (a 50 ms recording becomes 100 ms, 150 ms, ...), and
:func:`load_wav_folder` reads a folder of one-channel WAV files (the Neuralink recordings) as a
(samples, channels) array.  Partial bins at the end of a recording are dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InvalidConfigError, WavFormatError
from . import _kernels


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0:
        raise InvalidConfigError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _window(bin_ms: float, sample_ms: float) -> int:
    width = bin_ms / sample_ms
    if abs(width - round(width)) > 1e-9 or round(width) < 1:
        raise InvalidConfigError(f"bin_ms ({bin_ms}) must be a whole multiple of the sample period ({sample_ms} ms)")
    return int(round(width))


def bin_spike_times(spike_times, bin_ms: float = 50, duration_s: float | None = None) -> np.ndarray:
    """Counts per bin of per-channel spike times in seconds (a sequence of 1-d arrays).

    ``duration_s`` sets the recording length (default: up to the last spike); spikes at or after
    it and before 0 are dropped.
    """
    bin_ms = _positive(bin_ms, "bin_ms")
    chans = [np.asarray(t, dtype=np.float64).ravel() for t in spike_times]
    if duration_s is None:
        last = max((float(t.max()) for t in chans if t.size), default=0.0)
        n_bins = int(np.floor(last * 1000.0 / bin_ms)) + 1 if any(t.size for t in chans) else 0
    else:
        n_bins = int(np.floor(_positive(duration_s, "duration_s") * 1000.0 / bin_ms))
    times = np.concatenate(chans) if chans else np.zeros(0)
    channel = np.concatenate([np.full(t.size, i, dtype=np.int64) for i, t in enumerate(chans)]) if chans \
        else np.zeros(0, dtype=np.int64)
    index = np.floor(times * 1000.0 / bin_ms)
    index = np.where(np.isfinite(index), index, -1).astype(np.int64)
    return _kernels.bin_events(index, channel, n_bins, len(chans))


def bin_raster(raster, bin_ms: float = 50, sample_ms: float = 1.0) -> np.ndarray:
    """Counts per bin of a (samples, channels) detection raster sampled every ``sample_ms``."""
    arr = np.asarray(raster)
    if arr.ndim != 2:
        raise InvalidConfigError(f"raster must be 2-d (samples, channels), got shape {arr.shape}")
    if arr.size and not (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)):
        raise InvalidConfigError(f"raster must be boolean or integer, got dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise InvalidConfigError("raster must be non-negative")
    width = _window(_positive(bin_ms, "bin_ms"), _positive(sample_ms, "sample_ms"))
    return _kernels.sum_windows(np.ascontiguousarray(arr, dtype=np.int64), width)


def rebin(counts, factor: int) -> np.ndarray:
    """Merge each ``factor`` consecutive bins of (bins, channels) counts."""
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise InvalidConfigError(f"rebin factor must be a positive integer, got {factor!r}")
    return bin_raster(counts, bin_ms=int(factor), sample_ms=1)


def detect_crossings(x, fs: float, k: float = 4.5, band=(300.0, 3000.0), refractory_ms: float = 1.0):
    """Negative threshold crossings of each column of ``x`` (samples, channels).

    The signal is band-passed (4th-order Butterworth, causal as on an implant), the noise estimated
    as median(|x|) / 0.6745 (MAD; robust to the spikes themselves) and a crossing is a fall below
    ``-k * noise``, at least ``refractory_ms`` after the previous one.  Returns a list of sample
    index arrays, one per channel.
    """
    from scipy import signal  # ~1 s to import: only when filtering, not with the codec

    fs = _positive(fs, "fs")
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InvalidConfigError(f"waveforms must be 1-d or 2-d (samples, channels), got shape {arr.shape}")
    lo, hi = float(band[0]), min(float(band[1]), 0.45 * fs)
    if not 0 < lo < hi:
        raise InvalidConfigError(f"band {band} is not a valid pass band at fs = {fs} Hz")
    sos = signal.butter(4, [lo, hi], btype="bandpass", fs=fs, output="sos")
    filtered = signal.sosfilt(sos, arr, axis=0)
    refractory = int(round(_positive(refractory_ms, "refractory_ms") * fs / 1000.0))
    out = []
    for c in range(filtered.shape[1]):
        col = np.ascontiguousarray(filtered[:, c])
        noise = np.median(np.abs(col)) / 0.6745
        if noise == 0:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        out.append(_kernels.threshold_crossings(col, -k * noise, refractory))
    return out


def bin_waveforms(x, fs: float, bin_ms: float = 50, k: float = 4.5, band=(300.0, 3000.0),
                  refractory_ms: float = 1.0) -> np.ndarray:
    """MUA counts of raw waveforms (samples, channels): :func:`detect_crossings` then binning."""
    arr = np.asarray(x)
    n_samples = arr.shape[0]
    crossings = detect_crossings(arr, fs, k, band, refractory_ms)
    if n_samples == 0:
        raise InvalidConfigError("waveforms hold no samples")
    times = [idx / float(fs) for idx in crossings]
    return bin_spike_times(times, bin_ms, n_samples / float(fs))


def load_wav_folder(folder) -> tuple[np.ndarray, int]:
    """Every ``*.wav`` in ``folder`` (sorted by name) as one channel: (samples, channels), rate.

    All files must share a sample rate; longer ones are cut to the shortest.
    """
    from scipy.io import wavfile

    files = sorted(Path(folder).glob("*.wav"))
    if not files:
        raise WavFormatError(f"no .wav files in {folder}")
    columns, rate = [], None
    for f in files:
        try:
            fs, data = wavfile.read(f)
        except (ValueError, OSError) as exc:
            raise WavFormatError(f"{f}: {exc}") from None
        if data.ndim != 1:
            raise WavFormatError(f"{f}: expected one channel per file, found {data.shape[1]}")
        if rate is not None and fs != rate:
            raise WavFormatError(f"{f}: sample rate {fs} Hz differs from {rate} Hz of the other files")
        rate = fs
        columns.append(data)
    n = min(c.size for c in columns)
    return np.stack([c[:n] for c in columns], axis=1), int(rate)


__all__ = [
    "bin_raster",
    "bin_spike_times",
    "bin_waveforms",
    "detect_crossings",
    "load_wav_folder",
    "rebin",
]
