"""SpikeInterface recordings saved to zarr with the waveform codec read back exactly, times included.

Needs the ``spikeinterface`` extra (CI runs it in its own environment); skips without it.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurocodec.interop import spikeinterface_zarr_kwargs
from neurocodec.synthetic import SAMPLE_RATE, recording
from neurocodec.waveform import WaveformCodec

si = pytest.importorskip("spikeinterface.core", reason="needs the spikeinterface extra (pip install -e \".[spikeinterface]\")")


def _recording(segments: int = 1, with_times: bool = False):
    traces = [recording(6000 + 1000 * i, channels=8, seed=20 + i) for i in range(segments)]
    rec = si.NumpyRecording(traces, sampling_frequency=float(SAMPLE_RATE))
    if with_times:
        rng = np.random.default_rng(5)
        for i, t in enumerate(traces):
            # irregular clock: what a time vector is for (a regular one would be t_start + n / fs)
            times = 12.5 + np.cumsum(rng.uniform(0.9, 1.1, t.shape[0])) / SAMPLE_RATE
            rec.set_times(times, segment_index=i)
    return rec, traces


def _assert_same(saved, rec, traces):
    assert saved.get_dtype() == rec.get_dtype()
    assert saved.get_num_segments() == rec.get_num_segments()
    np.testing.assert_array_equal(saved.get_channel_ids(), rec.get_channel_ids())
    for i, t in enumerate(traces):
        np.testing.assert_array_equal(saved.get_traces(segment_index=i), t)
        np.testing.assert_array_equal(saved.get_traces(segment_index=i, start_frame=100, end_frame=2100,
                                                       channel_ids=rec.get_channel_ids()[2:5]), t[100:2100, 2:5])
        assert saved.has_time_vector(i) == rec.has_time_vector(i)
        np.testing.assert_array_equal(saved.get_times(segment_index=i), rec.get_times(segment_index=i))


def test_save_with_the_codec_as_compressor(tmp_path):
    rec, traces = _recording(segments=2)
    rec.save(folder=tmp_path / "rec.zarr", format="zarr", compressor=WaveformCodec(preset="fast"))
    _assert_same(si.read_zarr(tmp_path / "rec.zarr"), rec, traces)


@pytest.mark.parametrize("times_compressor", ["zstd", None])
def test_save_with_time_vectors(tmp_path, times_compressor):
    rec, traces = _recording(segments=2, with_times=True)
    rec.save(folder=tmp_path / "rec.zarr", format="zarr",
             **spikeinterface_zarr_kwargs("fast", times_compressor=times_compressor))
    saved = si.read_zarr(tmp_path / "rec.zarr")
    _assert_same(saved, rec, traces)
    assert saved.get_times(segment_index=0).dtype == np.float64


def test_loaded_recording_names_the_codec(tmp_path):
    rec, _ = _recording()
    rec.save(folder=tmp_path / "rec.zarr", format="zarr", compressor=WaveformCodec())
    import zarr

    traces = zarr.open(str(tmp_path / "rec.zarr"), mode="r")["traces_seg0"]
    compressor = traces.compressor if hasattr(traces, "compressor") else traces.compressors[0]
    assert compressor.codec_id == "neurocodec.waveform"
