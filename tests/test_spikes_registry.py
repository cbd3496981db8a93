"""The family registry: names, kwargs, numcodecs ids, and recommend_codec's decision table."""

import json

import numcodecs
import numpy as np
import pytest

from neurocodec import registry, spikes
from neurocodec.errors import InvalidConfigError


def test_list_and_get():
    assert spikes.list_codecs() == ["adaptive", "aer", "delta", "isi", "predictive", "streaming"]
    for name in spikes.list_codecs():
        codec = spikes.get_codec(name)
        assert codec.codec_id == f"neurocodec.spikes_{name}"
        assert registry.codec_class(f"spikes_{name}") is type(codec)
        config = json.loads(json.dumps(codec.get_config()))
        assert type(numcodecs.get_codec(config)) is type(codec)
        assert type(codec)().get_config() == codec.get_config()


@pytest.mark.parametrize(("name", "kwargs"), [
    ("nope", {}),
    ("isi", {"level": 3}),
    ("delta", {"group_size": 0}),
    ("delta", {"group_size": 2.5}),
    ("predictive", {"predictor": "oracle"}),
    ("predictive", {"predictor": "lfsr", "seed": 0}),
    ("predictive", {"shift": 40}),
    ("streaming", {"window": 0}),
    ("adaptive", {"contexts": 4}),
])
def test_unknown_names_and_bad_kwargs_raise(name, kwargs):
    with pytest.raises(InvalidConfigError):
        spikes.get_codec(name, **kwargs)


BASE = dict(n_channels=64, firing_rate=0.02, latency_ms=10.0, correlated=False, neuromorphic=False)


@pytest.mark.parametrize(("argument", "a", "b"), [
    ("n_channels", 64, 2),
    ("firing_rate", 0.02, 0.005),
    ("latency_ms", 10.0, 1.0),
    ("correlated", True, False),
    ("neuromorphic", False, True),
])
def test_recommend_depends_on_every_argument(argument, a, b):
    base = dict(BASE, firing_rate=0.005) if argument == "correlated" else dict(BASE)
    first = spikes.recommend_codec(**dict(base, **{argument: a}))
    second = spikes.recommend_codec(**dict(base, **{argument: b}))
    assert first != second, (argument, first, second)


def test_recommend_firing_rate_matters_for_neuromorphic_too():
    assert spikes.recommend_codec(64, 0.01, neuromorphic=True) == "aer"
    assert spikes.recommend_codec(64, 0.2, neuromorphic=True) == "predictive"


def test_recommend_returns_known_codecs_and_checks_arguments():
    for n in (1, 8, 256):
        for rate in (0.0, 0.001, 0.05, 0.5, 1.0):
            for latency in (0.5, 5.0, 100.0):
                for corr in (False, True):
                    for neuro in (False, True):
                        assert spikes.recommend_codec(n, rate, latency, corr, neuro) in spikes.list_codecs()
    for bad in (dict(n_channels=0, firing_rate=0.1), dict(n_channels=4, firing_rate=1.5),
                dict(n_channels=4, firing_rate=0.1, latency_ms=-1)):
        with pytest.raises(InvalidConfigError):
            spikes.recommend_codec(**bad)


def test_result_fields():
    raster = np.random.default_rng(0).random((1000, 8)) < 0.1
    data, result = spikes.get_codec("adaptive").compress(raster)
    assert result.coded_bytes == len(data)
    assert result.compression_ratio == pytest.approx(8000 / (8 * len(data)))
    assert result.ratio_vs_bytes == pytest.approx(8000 / len(data))
    assert result.bits_per_spike == pytest.approx(8 * len(data) / raster.sum())
    p = raster.mean()
    assert result.entropy_bound_bits == pytest.approx(8000 * -(p * np.log2(p) + (1 - p) * np.log2(1 - p)))
    assert result.efficiency == pytest.approx(result.entropy_bound_bits / (8 * len(data)))
