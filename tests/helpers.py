"""Shared test helpers: every codec passes the same round-trip, truncation and corruption checks.

Signal fixtures are generated here (the project's tests never need outside data); tests on the
challenge recordings find them with :func:`shared_data` and skip with a reason when absent.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numcodecs
import numpy as np
import pytest

from neurocodec import container
from neurocodec.errors import NeurocodecError, UnsupportedVersionError
from neurocodec.synthetic import recording as neural_like

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_data(*parts: str) -> Path:
    """Path under ``../shared/data``; skips the test with a clear reason when it is not there."""
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data beside the repository), which is absent here")
    return path


def load_benchmark(name: str):
    """The module ``benchmarks/<name>.py`` (benchmarks are scripts, not a package)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"neurocodec_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def int16_fixtures() -> dict[str, np.ndarray]:
    """Edge-case signals every waveform codec must round-trip."""
    rng = np.random.default_rng(1)
    return {
        "empty": np.zeros(0, np.int16),
        "one": np.array([-7], np.int16),
        "two": np.array([32767, -32768], np.int16),
        "odd": neural_like(1001, seed=2),
        "zeros": np.zeros(4096, np.int16),
        "constant": np.full(3000, -1234, np.int16),
        "noise": rng.integers(-32768, 32768, 5000).astype(np.int16),
        "rail": np.where(np.arange(4000) % 2, 32767, -32768).astype(np.int16),
        "ramp": np.arange(-32768, 32768, 7).astype(np.int16),
        "neural": neural_like(20000, seed=3),
        "neural_multi": neural_like(5000, channels=4, seed=4),
        "noise_multi": rng.integers(-300, 300, (2000, 3)).astype(np.int16),
    }


def assert_roundtrip(codec, array: np.ndarray) -> bytes:
    """Encode/decode ``array`` bare, through the JSON config, and framed; returns the bare payload."""
    payload = bytes(codec.encode(array))
    decoded = np.asarray(codec.decode(payload))
    assert decoded.dtype == array.dtype, (decoded.dtype, array.dtype)
    assert decoded.shape == array.shape, (decoded.shape, array.shape)
    np.testing.assert_array_equal(decoded, array)

    config = json.loads(json.dumps(codec.get_config()))
    clone = numcodecs.get_codec(config)
    assert type(clone) is type(codec) and clone.get_config() == codec.get_config()
    np.testing.assert_array_equal(np.asarray(clone.decode(payload)), array)

    if array.ndim >= 1:
        framed = container.pack(codec, array)
        np.testing.assert_array_equal(container.unpack(framed), array)
    return payload


def _prefix_lengths(n: int, limit: int = 600) -> list[int]:
    if n <= limit:
        return list(range(n))
    rng = np.random.default_rng(n)
    middle = rng.choice(np.arange(100, n - 100), size=limit - 200, replace=False)
    return sorted(set(range(100)) | set(middle.tolist()) | set(range(n - 100, n)))


def assert_truncation_raises(data: bytes, decode, kinds=(NeurocodecError,)) -> None:
    """Every proper prefix of ``data`` (all of them for short data, a sample for long) makes ``decode`` raise."""
    for n in _prefix_lengths(len(data)):
        with pytest.raises(kinds):
            decode(data[:n])


def assert_golden_damage_raises(data: bytes, decode, unsupported: int | None = None) -> None:
    """A golden payload's damage is typed: every prefix and a trailing byte raise, a version byte (the
    first byte of every payload) this build does not read (``unsupported``, default the next
    version) raises :class:`UnsupportedVersionError`."""
    for cut in range(len(data)):
        with pytest.raises(NeurocodecError):
            decode(data[:cut])
    with pytest.raises(NeurocodecError):
        decode(data + b"\x00")
    with pytest.raises(UnsupportedVersionError):
        decode(bytes([data[0] + 1 if unsupported is None else unsupported]) + data[1:])


def flipped(data: bytes, bit: int) -> bytes:
    """``data`` with one bit inverted."""
    out = bytearray(data)
    out[bit >> 3] ^= 0x80 >> (bit & 7)
    return bytes(out)


def assert_bitflips_safe(data: bytes, decode, *, n_flips: int = 200, must_raise: bool = False,
                         seed: int = 0) -> int:
    """Flip single bits of ``data``: ``decode`` raises a typed error or returns, never anything else.

    With ``must_raise`` every flip must be detected (streams with CRCs).  Returns how many raised.
    """
    if not data:
        return 0
    rng = np.random.default_rng(seed)
    bits = rng.choice(len(data) * 8, size=min(n_flips, len(data) * 8), replace=False)
    raised = 0
    for bit in bits:
        try:
            decode(flipped(data, int(bit)))
        except NeurocodecError:
            raised += 1
        else:
            assert not must_raise, f"flip of bit {bit} went undetected"
    return raised


# --- Plain-Python readings of FORMAT.md, independent of the library's kernels ------------------
# The golden-file tests decode payloads with these to show the spec alone is enough to reimplement
# a decoder; they must not import the code they check.

class SpecArithDecoder:
    """The binary arithmetic decoder of FORMAT.md 3.1.6: 32-bit interval, 16-bit P(1), no carries."""

    def __init__(self, data: bytes, pos: int):
        self.data, self.pos = data, pos
        self.x1, self.x2, self.x = 0, 0xFFFFFFFF, 0
        for _ in range(4):
            self.x = (self.x << 8) | self._byte()

    def _byte(self) -> int:
        byte = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        return byte

    def bit(self, p: int) -> int:
        """Decode one bit coded with ``P(1) = p / 65536``."""
        r = self.x2 - self.x1
        split = self.x1 + (r >> 16) * p + (((r & 0xFFFF) * p) >> 16)
        if self.x <= split:
            bit, self.x2 = 1, split
        else:
            bit, self.x1 = 0, split + 1
        while ((self.x1 ^ self.x2) & 0xFF000000) == 0:
            self.x1 = (self.x1 << 8) & 0xFFFFFFFF
            self.x2 = ((self.x2 << 8) & 0xFFFFFFFF) | 0xFF
            self.x = ((self.x << 8) & 0xFFFFFFFF) | self._byte()
        return bit


_SPEC_RATE = [131072 // (2 * n + 3) for n in range(256)]


def spec_adapt_counted(state: int, bit: int, limit: int) -> int:
    """The counted estimator as FORMAT.md states it: ``p << 8 | n``, rate 2/(2n + 3), n capped at ``limit``."""
    p, n = state >> 8, state & 0xFF
    p = min(max(p + ((((65536 if bit else 0) - p) * _SPEC_RATE[n]) >> 16), 1), 65535)
    return (p << 8) | min(n + 1, limit)


def zarr_v2_array(store, *, shape, chunks, dtype, compressor):
    """A zarr format-2 array with a numcodecs ``compressor``, on zarr 2 and zarr 3 alike.

    ``store`` is a path, or None for an in-memory store.
    """
    zarr = pytest.importorskip("zarr")
    if int(zarr.__version__.split(".")[0]) >= 3:
        store = zarr.storage.MemoryStore() if store is None else str(store)
        return zarr.create_array(store, shape=shape, chunks=chunks, dtype=dtype, zarr_format=2,
                                 compressors=compressor, overwrite=True)
    store = zarr.MemoryStore() if store is None else str(store)
    return zarr.open_array(store, mode="w", shape=shape, chunks=chunks, dtype=dtype, compressor=compressor)
