"""zarr stores with neurocodec codecs: format 3 (neurocodec.zarr3, sharded and not) and format 2,
each written here and reopened by name in a fresh process (what a user elsewhere does).

Runs on zarr 3 and on zarr 2 (CI's second environment); the format-3 tests skip on zarr 2.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from helpers import zarr_v2_array

from neurocodec import registry
from neurocodec.synthetic import recording

zarr = pytest.importorskip("zarr")
ZARR3 = int(zarr.__version__.split(".")[0]) >= 3
needs_zarr3 = pytest.mark.skipif(not ZARR3, reason=f"zarr {zarr.__version__}: format-3 codecs need zarr 3")

REOPEN = """
import sys, numpy as np, zarr
a = zarr.open_array(sys.argv[1], mode="r")
np.testing.assert_array_equal(a[:], np.load(sys.argv[2]))
np.testing.assert_array_equal(a[1000:2500, 3:6], np.load(sys.argv[2])[1000:2500, 3:6])
print(type(a.metadata).__name__ if hasattr(a, "metadata") else "v2")
"""


def _reopen_elsewhere(path, x, tmp_path) -> None:
    """Open ``path`` in a new interpreter that has not imported neurocodec (zarr must find it by name)."""
    np.save(tmp_path / "expected.npy", x)
    out = subprocess.run([sys.executable, "-c", REOPEN, str(path), str(tmp_path / "expected.npy")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]


def _samples() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "waveform": recording(6000, channels=6, seed=8),
        "mua": np.minimum(rng.poisson(0.8, size=(3000, 6)), 2).astype(np.int32),  # S = 3: exact below 3
        **{name: rng.random((3000, 6)) < 0.05 for name in registry.codec_names() if name.startswith("spikes_")},
    }


@needs_zarr3
def test_format3_lossy_codec_stores_what_the_codec_decodes():
    from neurocodec import zarr3

    x = recording(6000, channels=4, seed=13)
    codec = registry.make_codec("hybrid")
    assert codec.lossy is not None
    z = zarr.create_array(zarr.storage.MemoryStore(), shape=x.shape, dtype=x.dtype, chunks=x.shape,
                          serializer=zarr3.serializer("hybrid"), compressors=None)
    z[:] = x
    np.testing.assert_array_equal(zarr.open_array(z.store, mode="r")[:], codec.decode(codec.encode(x)))


@pytest.mark.parametrize("sharded", [False, True], ids=["chunks", "shards"])
@needs_zarr3
def test_format3_waveform_store_reopens_by_name(tmp_path, sharded):
    from neurocodec.waveform import WaveformCodec
    from neurocodec.zarr3 import Waveform

    x = recording(6000, channels=6, seed=7)
    path = tmp_path / "rec.zarr"
    layout = {"shards": (4000, 6), "chunks": (2000, 3)} if sharded else {"chunks": (1500, 4)}
    z = zarr.create_array(str(path), shape=x.shape, dtype=x.dtype, serializer=Waveform(preset="fast"),
                          compressors=None, **layout)
    z[:] = x
    meta = json.loads((path / "zarr.json").read_text())
    codecs = meta["codecs"][0]["configuration"]["codecs"] if sharded else meta["codecs"]
    assert codecs[0]["name"] == "neurocodec.waveform"
    assert codecs[0]["configuration"] == {k: v for k, v in WaveformCodec("fast").get_config().items() if k != "id"}
    _reopen_elsewhere(path, x, tmp_path)


@needs_zarr3
@pytest.mark.parametrize("name", sorted(_samples()))
def test_format3_every_codec_round_trips(name):
    from neurocodec import zarr3

    x = _samples()[name]
    for layout in ({"chunks": (1000, 4)}, {"shards": (2000, 6), "chunks": (1000, 3)}):
        z = zarr.create_array(zarr.storage.MemoryStore(), shape=x.shape, dtype=x.dtype,
                              serializer=zarr3.serializer(name), compressors=None, **layout)
        z[:] = x
        reopened = zarr.open_array(z.store, mode="r")
        np.testing.assert_array_equal(reopened[:], x)
        np.testing.assert_array_equal(reopened[500:1700, 1:5], x[500:1700, 1:5])


@needs_zarr3
def test_format3_name_with_numcodecs_prefix_opens(tmp_path):
    from neurocodec.zarr3 import Waveform

    x = recording(3000, channels=6, seed=9)
    path = tmp_path / "alias.zarr"
    zarr.create_array(str(path), shape=x.shape, dtype=x.dtype, chunks=(1000, 6), serializer=Waveform(),
                      compressors=None)[:] = x
    meta = json.loads((path / "zarr.json").read_text())
    meta["codecs"][0]["name"] = "numcodecs.neurocodec.waveform"
    (path / "zarr.json").write_text(json.dumps(meta))
    np.testing.assert_array_equal(zarr.open_array(str(path), mode="r")[:], x)


@needs_zarr3
def test_format3_codec_config_and_checks():
    from neurocodec import zarr3
    from neurocodec.errors import InvalidConfigError, UnsupportedVersionError
    from neurocodec.waveform import WaveformCodec

    codec = zarr3.Waveform(preset="fast")
    assert zarr3.Waveform.from_dict(codec.to_dict()) == codec
    assert zarr3.from_numcodecs(WaveformCodec("fast", cross_channel=False)).configuration == \
        {k: v for k, v in WaveformCodec("fast", cross_channel=False).get_config().items() if k != "id"}
    with pytest.raises(InvalidConfigError, match="preset"):
        zarr3.Waveform(preset="slowest")
    with pytest.raises(UnsupportedVersionError, match="spikes_isi"):   # lists every codec
        zarr3.serializer("nope")
    with pytest.raises(TypeError, match="neurocodec.waveform"):
        zarr.create_array(zarr.storage.MemoryStore(), shape=(100, 2), dtype="float32", chunks=(50, 2),
                          serializer=codec, compressors=None)
    # a data-dependent output size: not fixed-size, and no size in advance for zarr to plan a shard
    # index with (the one place zarr asks)
    assert codec.is_fixed_size is False
    with pytest.raises(InvalidConfigError, match="depends on the data"):
        codec.compute_encoded_size(1000, None)
    names = set(registry.codec_names()) - {"test_raw"}
    assert names <= set(zarr3.CODECS)
    from importlib.metadata import entry_points

    declared = {e.name: e.value for e in entry_points(group="zarr.codecs")}
    for name in names:   # so a store reopens by name in any process
        assert declared.get(f"neurocodec.{name}") == f"neurocodec.zarr3:{zarr3.CODECS[name].__name__}", name


@needs_zarr3
def test_format3_codec_without_its_own_class_serves_this_process():
    from neurocodec import zarr3

    x = np.arange(-300, 300, dtype=np.int16).reshape(-1, 2)
    z = zarr.create_array(zarr.storage.MemoryStore(), shape=x.shape, dtype=x.dtype, chunks=(70, 2),
                          serializer=zarr3.serializer("test_raw", cols=2), compressors=None)
    z[:] = x
    np.testing.assert_array_equal(zarr.open_array(z.store, mode="r")[:], x)


def test_format2_waveform_store_reopens_by_name(tmp_path):
    from neurocodec.waveform import WaveformCodec

    x = recording(6000, channels=6, seed=10)
    path = tmp_path / "rec2.zarr"
    z = zarr_v2_array(path, shape=x.shape, chunks=(1500, 4), dtype=x.dtype, compressor=WaveformCodec("fast"))
    z[:] = x
    meta = json.loads((path / ".zarray").read_text())
    assert meta["compressor"] == WaveformCodec("fast").get_config()
    _reopen_elsewhere(path, x, tmp_path)
