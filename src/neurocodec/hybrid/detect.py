"""The spike detector the hybrid codec and :mod:`neurocodec.fidelity` share.

Band-pass 300-6000 Hz (3rd-order Butterworth, zero phase), noise sigma from the median absolute
deviation (``median(|y|) / 0.6745``: robust to the spikes themselves), a negative threshold of
``threshold`` sigma, each crossing moved to its trough within ``align_ms``, and a refractory period.
It runs in floating point on the encoder only: the codec stores the trough times it finds
losslessly, so the decoder never re-runs it.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal

from . import _kernels as K

SPIKE_BAND = (300.0, 6000.0)
MAD_SCALE = 0.6745
ALIGN_MS = 0.5  # a crossing moves to the trough within this many ms after it


def _filtfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Zero-phase filtering along axis 0 that also accepts arrays shorter than scipy's default padding."""
    n = x.shape[0]
    if n < 2:
        return np.zeros_like(x, dtype=np.float64)
    return signal.sosfiltfilt(sos, x, axis=0, padlen=min(3 * (2 * len(sos) + 1), n - 1))


def bandpass(x: np.ndarray, sample_rate: float, band: tuple[float, float] = SPIKE_BAND) -> np.ndarray:
    """``x`` (T,) or (T, C) band-passed to ``band`` Hz (the upper edge capped below Nyquist), float64."""
    lo, hi = band
    hi = min(hi, 0.45 * sample_rate)
    sos = signal.butter(3, [lo, hi], btype="band", fs=sample_rate, output="sos")
    return _filtfilt(sos, np.asarray(x, dtype=np.float64))


@functools.lru_cache(maxsize=8)
def spike_band_response(sample_rate: float, half: int) -> np.ndarray:
    """The impulse response of :func:`bandpass` at ``sample_rate``, centred: ``2 * half + 1`` samples (read-only)."""
    impulse = np.zeros(8 * half + 1)
    impulse[4 * half] = 1.0
    out = np.ascontiguousarray(bandpass(impulse, sample_rate)[3 * half:5 * half + 1])
    out.flags.writeable = False
    return out


def lowpass(x: np.ndarray, sample_rate: float, cutoff: float, order: int = 4) -> np.ndarray:
    """``x`` low-passed at ``cutoff`` Hz, zero phase, float64."""
    sos = signal.butter(order, min(cutoff, 0.45 * sample_rate), btype="low", fs=sample_rate, output="sos")
    return _filtfilt(sos, np.asarray(x, dtype=np.float64))


def noise_sigma(y: np.ndarray) -> np.ndarray:
    """Per-channel MAD noise estimate of band-passed ``y`` (T, C)."""
    if y.shape[0] == 0:
        return np.zeros(y.shape[1])
    return np.median(np.abs(y), axis=0) / MAD_SCALE


def detect(x: np.ndarray, sample_rate: float, threshold: float = 4.5, *, align_ms: float = ALIGN_MS,
           refractory_ms: float = 1.0, sigma: np.ndarray | None = None, filtered: np.ndarray | None = None):
    """Spike troughs of ``x`` (T,) or (T, C): a list with one increasing int64 array per channel.

    ``sigma`` (per channel) fixes the noise level instead of estimating it from ``x`` (the fidelity
    check runs the detector on a reconstruction with the original's threshold); ``filtered`` passes
    a band-passed copy already at hand.
    """
    x = np.asarray(x)
    two_d = x if x.ndim == 2 else x[:, None]
    y = bandpass(two_d, sample_rate) if filtered is None else np.asarray(filtered, dtype=np.float64)
    y = y if y.ndim == 2 else y[:, None]
    if sigma is None:
        sigma = noise_sigma(y)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (y.shape[1],))
    align = max(1, int(round(align_ms * 1e-3 * sample_rate)))
    refractory = max(1, int(round(refractory_ms * 1e-3 * sample_rate)))
    out = []
    for c in range(y.shape[1]):
        if not sigma[c] > 0:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        out.append(K.detect_troughs(np.ascontiguousarray(y[:, c]), float(threshold * sigma[c]), align, refractory))
    return out
