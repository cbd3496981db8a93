"""Golden payloads of the ``adaptive`` spike codec, format version 1 (FORMAT.md).

``tests/fixtures/spikes/v1/adaptive_*.bin`` are bare payloads (``SpikeCodec.encode``) and the
``.npy`` next to each the bool raster it decodes to.  They were written once, on 2026-11-21, by
the code of that day (exclusive create, never overwritten):

- ``adaptive_sparse_512x6``: ``bursty(512, 6, p_quiet=0.01, seed=21) | correlated(512, 6, seed=22)``;
  K = 4, and every sparse path occurs (guided with and without the per-channel model, copies from
  c-1 and c-2, bin mode, flags, binary searches);
- ``adaptive_dense_inverted_64x5``: ``bernoulli(64, 5, 0.75, seed=23)``; complemented, K = 1.

Never regenerate them: if a test here fails, the code changed the format.  Either fix the code, or
(on purpose) bump ``PAYLOAD_VERSION`` in ``neurocodec/spikes/base.py`` and write a new ``v2/`` set.
"""

from pathlib import Path

import numpy as np
import pytest

from neurocodec import spikes

ROOT = Path(__file__).resolve().parent / "fixtures" / "spikes" / "v1"
# name: (T, N, flags byte, log2 K)
CASES = {
    "adaptive_sparse_512x6": (512, 6, 0, 2),
    "adaptive_dense_inverted_64x5": (64, 5, 1, 0),
}


def _load(name):
    payload = (ROOT / f"{name}.bin").read_bytes()
    raster = np.load(ROOT / f"{name}.npy", allow_pickle=False)
    return payload, raster


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_payload_decodes_to_its_raster(name):
    payload, raster = _load(name)
    T, N, flags, log2k = CASES[name]
    assert raster.dtype == np.bool_ and raster.shape == (T, N)
    # common header: version 1, uvarint T, uvarint N; then adaptive's two header bytes
    header = bytes([1]) + _uvarint(T) + _uvarint(N)
    assert payload.startswith(header)
    assert payload[len(header):len(header) + 2] == bytes([flags, log2k])
    np.testing.assert_array_equal(spikes.get_codec("adaptive").decode(payload), raster)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_raster_reencodes_to_the_same_bytes(name):
    payload, raster = _load(name)
    assert spikes.get_codec("adaptive").encode(raster) == payload


def _uvarint(v):
    out = bytearray()
    while True:
        byte = v & 0x7F
        v >>= 7
        if v:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
