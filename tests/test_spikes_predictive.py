"""Predictors: they fire on structured rasters, and the LFSR is the documented polynomial."""

import numpy as np
import pytest

from neurocodec import spikes
from neurocodec.spikes import synthetic
from neurocodec.spikes.predictive import lfsr_step


def test_lfsr_is_the_maximal_x16_x14_x13_x11_polynomial():
    s = 0xACE1
    s = lfsr_step(s)
    assert s == 0x5670   # first step from the textbook seed: feedback 1^0^0^1 = 0 shifted in
    seen = 1
    while s != 0xACE1:
        s = lfsr_step(s)
        seen += 1
        assert s != 0
    assert seen == 65535


def test_lfsr_transform_matches_a_plain_python_model():
    """The kernel against a line-by-line transcription of the documented steps (the RTL's spec)."""
    raster = synthetic.bursty(300, 5, seed=2)
    codec = spikes.get_codec("predictive", predictor="lfsr")
    s, rate, shift = 0xACE1, [0] * 5, 3
    expected = np.zeros_like(raster)
    for t in range(300):
        for c in range(5):
            fb = (s ^ (s >> 2) ^ (s >> 3) ^ (s >> 5)) & 1
            s = (s >> 1) | (fb << 15)
            expected[t, c] = bool(raster[t, c]) != (s < rate[c])
            rate[c] = rate[c] + ((0xFFFF - rate[c]) >> shift) if raster[t, c] else rate[c] - (rate[c] >> shift)
    np.testing.assert_array_equal(codec.transform(raster, False), expected)


def up_down(T, N, period=100):
    """Regular up/down states: every channel fires in alternate runs of ``period // 2`` bins."""
    phase = np.arange(N) * 13
    return ((np.arange(T)[:, None] + phase[None, :]) // (period // 2)) % 2 == 0


@pytest.mark.parametrize("predictor", ["ema", "lfsr"])
@pytest.mark.parametrize("raster", [
    synthetic.bursty(20000, 8, p_burst=0.9, network=False, seed=4),
    up_down(20000, 8),
], ids=["bursty", "regular"])
def test_default_predictors_fire(predictor, raster):
    codec = spikes.get_codec("predictive", predictor=predictor)
    predicted = codec.transform(raster, False) ^ raster
    assert predicted.sum() > 0.05 * raster.sum(), "the predictor never fires"
    precision = (predicted & raster).sum() / predicted.sum()
    assert precision > raster.mean() + 0.25, "predictions should beat chance by far"
    if predictor == "ema":
        assert precision > 0.5


def test_ema_prediction_pays_on_bursts():
    raster = synthetic.bursty(50000, 16, p_burst=0.9, network=False, seed=5)
    assert spikes.get_codec("predictive").transform(raster, False).sum() < 0.7 * raster.sum()
    raster = up_down(20000, 8)
    residual = spikes.get_codec("predictive").transform(raster, False)
    assert residual.sum() < 0.15 * raster.sum()   # a few surprises at each state change


def test_lfsr_worked_example_in_the_docs():
    """docs/spikes.md walks five bins of one channel (seed 0xACE1, R = 0x2000, shift 3)."""
    codec = spikes.get_codec("predictive", predictor="lfsr", init_rate=0x2000)
    raster = np.array([[1], [0], [1], [1], [0]], dtype=bool)
    residual = codec.transform(raster, False)
    np.testing.assert_array_equal(residual[:, 0], [1, 0, 1, 0, 1])
    np.testing.assert_array_equal(codec.transform(residual, True), raster)
