"""numcodecs conventions every neurocodec codec keeps: TypeError for object buffers, ``out=`` of any
shape (or a plain writable buffer) holding the right number of bytes, and the packaging files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurocodec import registry
from neurocodec.synthetic import recording

ROOT = Path(__file__).resolve().parents[1]


def _sample(name: str) -> np.ndarray:
    rng = np.random.default_rng(11)
    if name in ("waveform", "hybrid"):
        return recording(3000, channels=3, seed=12)
    if name == "mua":
        return np.minimum(rng.poisson(0.7, size=(500, 4)), 2).astype(np.int64)
    return rng.random((2000, 4)) < 0.05


NAMES = [n for n in registry.codec_names() if n != "test_raw"]


@pytest.mark.parametrize("name", NAMES)
def test_object_buffers_raise_type_error(name):
    codec = registry.make_codec(name)
    with pytest.raises(TypeError):
        codec.encode(np.array([[1, 2], [3, None]], dtype=object))
    with pytest.raises(TypeError):
        codec.decode(np.array([1, 2, 3], dtype=object))
    payload = codec.encode(_sample(name))
    with pytest.raises(TypeError):
        codec.decode(payload, out=np.empty(_sample(name).size, dtype=object))


@pytest.mark.parametrize("name", NAMES)
def test_out_of_any_shape_with_the_right_size(name):
    codec = registry.make_codec(name)
    x = _sample(name)
    payload = codec.encode(x)
    decoded = codec.decode(payload)  # what out= must receive: the input itself unless the codec is lossy
    assert decoded.shape == x.shape and decoded.dtype == x.dtype
    if getattr(codec, "lossy", None) is None:
        np.testing.assert_array_equal(decoded, x)
    flat = np.empty(x.size, dtype=x.dtype)
    codec.decode(payload, out=flat)
    np.testing.assert_array_equal(flat.reshape(x.shape), decoded)
    raw = bytearray(x.nbytes)
    codec.decode(payload, out=raw)
    np.testing.assert_array_equal(np.frombuffer(raw, dtype=x.dtype).reshape(x.shape), decoded)


def test_python_dash_m_neurocodec():
    out = subprocess.run([sys.executable, "-m", "neurocodec", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("neurocodec ")


def test_wheel_ships_license_and_py_typed(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                          "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    import zipfile

    (wheel,) = tmp_path.glob("neurocodec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "neurocodec/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names), names
    assert "neurocodec/zarr3.py" in names and not any(n.endswith((".nbi", ".nbc")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[zarr.codecs]" in text and "neurocodec.waveform = neurocodec.zarr3:Waveform" in text


def test_every_name_a_benchmark_imports_from_neurocodec_exists():
    # benchmarks run for minutes, so the suite does not run them; a name they import from inside a
    # function would otherwise break only when someone runs them (bench_stream once imported a
    # helper the lossless module had dropped)
    import ast
    import importlib

    missing = []
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("neurocodec"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{path.name}: {node.module}.{alias.name}")
    assert not missing, missing
