"""Synthetic implant-like recordings for the demo and the tests: no outside data needed.

Band-limited noise (an AR(2) resonance near 1 kHz, as in extracellular recordings), a slow local
field potential, sparse biphasic spikes, all quantized onto the 10-bit ADC ladder the Neuralink challenge's recordings
use (1024 codes spread over int16 in steps of 64 or 65; :data:`neurocodec.waveform.levels.LADDER_VALUES`).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from .waveform.levels import LADDER_VALUES

SAMPLE_RATE = 19531


_SPIKE = np.array([-20.0, -60.0, -90.0, -40.0, 10.0, 25.0, 15.0, 5.0])


def recording(n: int, channels: int | None = None, seed: int = 0, spike_prob: float = 0.002) -> np.ndarray:
    """A synthetic recording of ``n`` samples: shape (n,) when ``channels`` is None, else (n, channels); int16."""
    rng = np.random.default_rng(seed)
    cols = 1 if channels is None else channels
    noise = rng.normal(0.0, 6.0, size=(n, cols))
    x = lfilter([1.0], [1.0, -1.6, 0.7], noise, axis=0)
    x += 40 * np.sin(np.arange(n)[:, None] * 2 * np.pi / 3000.0 + rng.uniform(0, 6, cols))
    spikes = (rng.random((n, cols)) < spike_prob).astype(float)
    x += lfilter(_SPIKE, [1.0], spikes, axis=0)
    idx = np.clip(np.round(x).astype(np.int64) + LADDER_VALUES.size // 2, 0, LADDER_VALUES.size - 1)
    out = LADDER_VALUES[idx].astype(np.int16)
    return out[:, 0] if channels is None else out
