"""Golden spike payloads: bytes written once by payload version 1 (tests/fixtures/spikes/v1/README.md).

Each bare payload must decode to its stored raster, and encoding that raster must give the same
bytes again: the format of FORMAT.md is pinned by files, not by the code of the day.
A change that breaks this is a format change: bump ``PAYLOAD_VERSION`` and add a ``v2`` folder;
never rewrite ``v1``.
"""

import hashlib
import json
import pathlib

import numpy as np
import pytest
from helpers import SpecArithDecoder, assert_golden_damage_raises, spec_adapt_counted

from neurocodec import spikes
from neurocodec.entropy import varint
from neurocodec.spikes import base

ROOT = pathlib.Path(__file__).parent / "fixtures" / "spikes" / "v1"
MANIFEST = json.loads((ROOT / "manifest.json").read_text())
PAYLOADS = MANIFEST["payloads"]
FRAMES = MANIFEST["frames"]


def _load(entry, suffix):
    data = (ROOT / f"{entry['name']}{suffix}").read_bytes()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"]), \
        f"{entry['name']}{suffix} was edited; golden files are never rewritten"
    raster = np.load(ROOT / f"{entry['name']}.npy", allow_pickle=False)
    assert raster.dtype == np.bool_ and list(raster.shape) == entry["shape"]
    return data, raster


def _integer_mode(data):
    """The mode byte of an ``isi`` payload: the byte after ``u8 version, uvarint T, uvarint N``."""
    _, pos = varint.read_uvarint(data, 1)
    _, pos = varint.read_uvarint(data, pos)
    return data[pos]


def test_fixture_set_covers_the_format():
    names = {e["name"] for e in PAYLOADS}
    codecs = {e["codec"] for e in PAYLOADS}
    assert codecs == {"isi", "predictive", "delta", "aer", "streaming"}
    # both integer-section modes, both aer flags, both predictors are pinned
    modes = {_integer_mode((ROOT / f"{n}.bin").read_bytes()) for n in names if n.startswith("isi_") and "empty" not in n}
    assert modes == {0, 1}
    assert {"aer_normal_8x4", "aer_inverted_6x3"} <= names
    assert {e["config"].get("predictor", "ema") for e in PAYLOADS if e["codec"] == "predictive"} == {"ema", "lfsr"}
    assert MANIFEST["payload_version"] == 1 and 1 in base.PAYLOAD_VERSIONS


@pytest.mark.parametrize("entry", PAYLOADS, ids=[e["name"] for e in PAYLOADS])
def test_golden_payload_decodes_and_reencodes(entry):
    data, raster = _load(entry, ".bin")
    codec = spikes.get_codec(entry["codec"], **entry["config"])
    assert data[0] == MANIFEST["payload_version"]
    np.testing.assert_array_equal(codec.decode(data), raster)
    assert codec.encode(raster) == data


@pytest.mark.parametrize("entry", PAYLOADS, ids=[e["name"] for e in PAYLOADS])
def test_golden_payload_damage_raises_typed_errors(entry):
    data, _ = _load(entry, ".bin")
    codec = spikes.get_codec(entry["codec"], **entry["config"])
    assert_golden_damage_raises(data, codec.decode, unsupported=max(base.PAYLOAD_VERSIONS) + 1)


@pytest.mark.parametrize("entry", FRAMES, ids=[e["name"] for e in FRAMES])
def test_golden_streaming_frame(entry):
    frame, window = _load(entry, ".frame")
    index, decoded = spikes.read_frame(frame)
    assert index == entry["index"]
    np.testing.assert_array_equal(decoded, window)
    codec = spikes.get_codec("streaming")
    assert codec.compress_frame(window, index=entry["index"]) == frame
    assert len(frame) <= spikes.max_frame_bytes(*window.shape, entry["index"])


def test_isi_worked_example_in_the_docs():
    # FORMAT.md, section 3.2.1: the bytes and the field split of the worked example
    data = (ROOT / "isi_leb128_300x2.bin").read_bytes()
    assert data.hex(" ") == "01 ac 02 02 00 05 02 01 05 c2 01 00"
    doc = (pathlib.Path(__file__).parents[1] / "FORMAT.md").read_text()
    assert "01 ac 02 02 00 05 02 01 05 c2 01 00" in doc


# --- FORMAT.md 3.2.0.1 as plain Python: an independent reading of the spec -----------

def _spec_decode_arith(data, pos, count, n_kinds):
    """Mode-1 integer section per the spec; returns (values, end position)."""
    coder = SpecArithDecoder(data, pos)
    decide = coder.bit
    ctx, prev, out = {}, [0] * n_kinds, []
    for i in range(count):
        kind = i % n_kinds
        b = 0
        while True:
            key = ("unary", kind, prev[kind], b)
            state = ctx.get(key, 32768 << 8)
            bit = decide(min(max(state >> 8, 64), 65472))
            ctx[key] = spec_adapt_counted(state, bit, 254)
            if not bit:
                break
            b += 1
        u = 1
        for j in range(b - 1, -1, -1):
            key = ("mant", kind, b, j)
            state = ctx.get(key, 32768 << 8)
            bit = decide(min(max(state >> 8, 64), 65472))
            ctx[key] = spec_adapt_counted(state, bit, 254)
            u = (u << 1) | bit
        out.append(u - 1)
        prev[kind] = min(b, 11)
    return out, coder.pos


ARITH = [e for e in PAYLOADS if e["codec"] != "streaming" and e["shape"][0] * e["shape"][1]]


@pytest.mark.parametrize("entry", ARITH, ids=[e["name"] for e in ARITH])
def test_integer_section_as_the_spec_reads_it(entry):
    data, _ = _load(entry, ".bin")
    _, pos = varint.read_uvarint(data, 1)
    _, pos = varint.read_uvarint(data, pos)
    n_kinds = 1
    if entry["codec"] == "aer":
        pos, n_kinds = pos + 1, 2
    start, mode = pos, data[pos]
    count, pos = varint.read_uvarint(data, pos + 1)
    if mode == 0:
        values = []
        while pos < len(data):
            v, pos = varint.read_uvarint(data, pos)
            values.append(v)
        end = pos
    else:
        values, end = _spec_decode_arith(data, pos, count, n_kinds)
    assert len(values) == count and end == len(data)
    reader = base.PayloadReader(data, "spec")
    reader.pos = start
    assert list(base.decode_uints(reader, 1 << 40, n_kinds)) == values
