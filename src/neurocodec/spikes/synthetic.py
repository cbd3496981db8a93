"""Synthetic spike rasters for tests and benchmarks (no outside data needed).

All return (T, N) bool arrays from a seeded generator, so every run sees the same rasters.
"""

from __future__ import annotations

import numpy as np


def bernoulli(T: int, N: int, p: float, seed: int = 0) -> np.ndarray:
    """iid bins: each spikes with probability ``p`` (the raster the entropy bound is exact for)."""
    return np.random.default_rng(seed).random((T, N)) < p


def poisson_units(T: int, N: int, rate_hz: tuple = (1.0, 10.0), bin_ms: float = 1.0, seed: int = 0) -> np.ndarray:
    """Independent Poisson units, each with its own rate drawn uniformly from ``rate_hz``."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(*rate_hz, size=N) * bin_ms / 1000.0
    return rng.random((T, N)) < p


def bursty(T: int, N: int, p_quiet: float = 0.002, p_burst: float = 0.5, enter: float = 0.002,
           leave: float = 0.1, network: bool = True, seed: int = 0) -> np.ndarray:
    """Quiet and burst states (a two-state Markov chain per bin).

    ``network`` (default): one state for the whole array, as in network bursts of cultured
    networks or cortical up-states, each channel firing in a burst with its own probability
    (uniform in [p_burst / 2, p_burst]).  ``network=False``: every channel bursts on its own, a
    renewal-like process that interval codes (``isi``) already model almost exactly.
    """
    rng = np.random.default_rng(seed)
    cols = 1 if network else N
    switch = rng.random((T, cols))
    state = np.zeros((T, cols), dtype=bool)
    cur = np.zeros(cols, dtype=bool)
    for t in range(T):
        cur = np.where(cur, switch[t] >= leave, switch[t] < enter)
        state[t] = cur
    in_burst = rng.uniform(p_burst / 2, p_burst, size=N) if network else np.full(N, p_burst)
    return rng.random((T, N)) < np.where(state, in_burst, p_quiet)


def correlated(T: int, N: int, units_per_channel: float = 0.5, rate: tuple = (0.002, 0.01),
               half_width: tuple = (1, 4), p_detect: float = 0.95, p_noise: float = 0.001,
               group: int | None = None, seed: int = 0) -> np.ndarray:
    """A probe whose contacts see the same units: each unit fires at its own rate (per bin) and is
    detected on a span of adjacent channels around its centre, less often further out (detection
    ``p_detect * (1 - d / (w + 1))`` at distance ``d`` from the centre, half-width ``w``), plus
    independent noise spikes.

    ``group`` instead gives the textbook layout: disjoint groups of ``group`` channels sharing one
    unit, every contact detecting it with ``p_detect`` (with ``group=8`` a group is one byte of
    ``np.packbits``, which byte-oriented compressors such as bz2 exploit unusually well).
    """
    rng = np.random.default_rng(seed)
    out = rng.random((T, N)) < p_noise
    if group is not None:
        events = rng.random((T, -(-N // group))) < np.mean(rate)
        shared = np.repeat(events, group, axis=1)[:, :N]
        return out | (shared & (rng.random((T, N)) < p_detect))
    for _ in range(max(1, int(round(units_per_channel * N)))):
        fires = np.flatnonzero(rng.random(T) < rng.uniform(*rate))
        centre = int(rng.integers(0, N))
        w = int(rng.integers(half_width[0], half_width[1] + 1))
        for ch in range(max(0, centre - w), min(N, centre + w + 1)):
            seen = fires[rng.random(len(fires)) < p_detect * (1 - abs(ch - centre) / (w + 1))]
            out[seen, ch] = True
    return out


def regular(T: int, N: int, period: int = 10, seed: int = 0) -> np.ndarray:
    """Tonic units: channel c fires every ``period`` bins from a random phase."""
    phase = np.random.default_rng(seed).integers(0, period, size=N)
    return (np.arange(T)[:, None] - phase[None, :]) % period == 0
