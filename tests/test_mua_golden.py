"""Golden MUA payloads: bytes written once by MUA payload version 1 (tests/fixtures/mua/v1/README.md).

Each bare payload must decode to its stored (saturated) counts in the stored dtype, and encoding
those counts (or the unsaturated input, where one is stored) with the recorded config must give the
same bytes again.  A change that breaks this is a format change: bump ``FORMAT_VERSION`` in
``neurocodec/mua/codec.py`` and add a ``v2`` folder; never rewrite ``v1``.
"""

import hashlib
import json
import pathlib

import numpy as np
import pytest

from neurocodec.errors import NeurocodecError, UnsupportedVersionError
from neurocodec.mua import MUACodec
from neurocodec.mua import codec as mua_codec

ROOT = pathlib.Path(__file__).parent / "fixtures" / "mua" / "v1"
MANIFEST = json.loads((ROOT / "manifest.json").read_text())
PAYLOADS = MANIFEST["payloads"]


def _load(entry):
    data = (ROOT / f"{entry['name']}.bin").read_bytes()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"]), \
        f"{entry['name']}.bin was edited; golden files are never rewritten"
    counts = np.load(ROOT / f"{entry['name']}.npy", allow_pickle=False)
    assert counts.dtype.str == entry["dtype"] and list(counts.shape) == entry["shape"]
    return data, counts


def test_fixture_set_covers_the_format():
    coders = {e["config"].get("coder", "huffman") for e in PAYLOADS}
    assert coders == {"huffman", "arithmetic"}
    assert any(len(e["config"].get("encoders", [[0]])) > 1 for e in PAYLOADS)   # per-channel choice
    assert any(e["config"].get("sort") is False for e in PAYLOADS)
    assert any("input" in e for e in PAYLOADS)                                    # saturation
    assert MANIFEST["payload_version"] == mua_codec.FORMAT_VERSION == 1


@pytest.mark.parametrize("entry", PAYLOADS, ids=[e["name"] for e in PAYLOADS])
def test_golden_payload_decodes_and_reencodes(entry):
    data, counts = _load(entry)
    assert data[0] == MANIFEST["payload_version"]
    decoded = MUACodec().decode(data)          # the payload describes itself: any config decodes it
    assert decoded.dtype == counts.dtype
    np.testing.assert_array_equal(decoded, counts)
    codec = MUACodec(**entry["config"])
    assert codec.encode(counts) == data
    if "input" in entry:
        assert codec.encode(np.load(ROOT / entry["input"], allow_pickle=False)) == data


@pytest.mark.parametrize("entry", PAYLOADS, ids=[e["name"] for e in PAYLOADS])
def test_golden_payload_damage_raises_typed_errors(entry):
    data, _ = _load(entry)
    codec = MUACodec()
    for cut in range(len(data)):
        with pytest.raises(NeurocodecError):
            codec.decode(data[:cut])
    with pytest.raises(NeurocodecError):
        codec.decode(data + b"\x00")
    with pytest.raises(UnsupportedVersionError):
        codec.decode(bytes([data[0] + 1]) + data[1:])


def test_mua_worked_example_in_the_docs():
    # docs/format-mua.md, "Worked example": the bytes and the field split
    data = (ROOT / "huffman_s3_6x2.bin").read_bytes()
    text = "01 00 03 3c 69 32 06 02 03 02 01 01 01 02 02 00 00 00 01 16 27 30"
    assert data.hex(" ") == text
    doc = (pathlib.Path(__file__).parents[1] / "docs" / "format-mua.md").read_text()
    assert text in doc
