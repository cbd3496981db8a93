"""Synthetic implant-like recordings for the demo and the tests: no outside data needed.

Band-limited noise (an AR(2) resonance near 1 kHz, as in extracellular recordings), a slow local
field potential, sparse biphasic spikes, all quantized onto an odd-symmetric 10-bit ladder with
unequal steps of 64 and 65, which is how the Neuralink challenge's ADC codes appear in int16.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

SAMPLE_RATE = 19531


def adc_ladder(n_codes: int = 1023, step_num: int = 16403, step_den: int = 256) -> np.ndarray:
    """``n_codes`` int16 levels, odd-symmetric, steps of ``step_num / step_den`` rounded (64 or 65)."""
    half = n_codes // 2
    k = np.arange(-half, half + 1, dtype=np.int64)
    return (np.sign(k) * ((np.abs(k) * step_num + step_den // 2) // step_den)).astype(np.int16)


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
    ladder = adc_ladder()
    idx = np.clip(np.round(x).astype(np.int64) + ladder.size // 2, 0, ladder.size - 1)
    out = ladder[idx]
    return out[:, 0] if channels is None else out
