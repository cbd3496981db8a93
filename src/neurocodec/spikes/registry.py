"""The spike codec family by name, and which one to use.

``recommend_codec`` decision table (first matching row wins)::

    latency_ms < 2                         streaming    only codec whose frames are independent and
                                                        bounded: a frame leaves every window of bins
    neuromorphic, firing_rate <  0.05      aer          sparse events are what the hardware routes
    neuromorphic, firing_rate >= 0.05      predictive   (lfsr) dense activity: the on-chip LFSR
                                                        predictor removes the predictable part
    n_channels < 4                         isi          too few neighbours for spatial contexts;
                                                        intervals are as good and cheapest
    not correlated, firing_rate < 0.01     isi          sparse independent units: intervals reach
                                                        ~98 % of the bound at a fraction of the work
    otherwise                              adaptive     the context-modelled coder: at the bound on
                                                        iid rasters, below it on structured ones

Every argument can change the answer (tests/test_spikes_registry.py shows a pair of calls for each).
"""

from __future__ import annotations

from ..errors import InvalidConfigError
from ..registry import make_codec
from .base import SpikeCodec

CODECS = ("adaptive", "aer", "delta", "isi", "predictive", "streaming")


def list_codecs() -> list[str]:
    """Names of the spike codecs, sorted."""
    return list(CODECS)


def get_codec(name: str, **kwargs) -> SpikeCodec:
    """A spike codec by short name (``"isi"``) with its parameters; unknown names or kwargs raise."""
    if name not in CODECS:
        raise InvalidConfigError(f"unknown spike codec {name!r}; choose from {', '.join(CODECS)}")
    return make_codec("spikes_" + name, **kwargs)


def recommend_codec(n_channels: int, firing_rate: float, latency_ms: float = 10.0,
                    correlated: bool = False, neuromorphic: bool = False) -> str:
    """The codec name the decision table in this module's docstring picks.

    ``firing_rate`` is the fraction of bins holding a spike (spikes per bin, 0..1), not Hz.
    """
    if n_channels < 1 or not 0.0 <= firing_rate <= 1.0 or latency_ms < 0:
        raise InvalidConfigError(
            f"need n_channels >= 1, 0 <= firing_rate <= 1, latency_ms >= 0; got "
            f"{n_channels}, {firing_rate}, {latency_ms}"
        )
    if latency_ms < 2.0:
        return "streaming"
    if neuromorphic:
        return "aer" if firing_rate < 0.05 else "predictive"
    if n_channels < 4:
        return "isi"
    if not correlated and firing_rate < 0.01:
        return "isi"
    return "adaptive"
