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
from helpers import SpecArithDecoder, assert_golden_damage_raises, spec_adapt_counted

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
    assert MANIFEST["payload_version"] == 1 and 1 in mua_codec.FORMAT_VERSIONS


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
    assert_golden_damage_raises(data, codec.decode, unsupported=max(mua_codec.FORMAT_VERSIONS) + 1)


def test_mua_worked_example_in_the_docs():
    # FORMAT.md, "Worked example": the bytes and the field split
    data = (ROOT / "huffman_s3_6x2.bin").read_bytes()
    text = "01 00 03 3c 69 32 06 02 03 02 01 01 01 02 02 00 00 00 01 16 27 30"
    assert data.hex(" ") == text
    doc = (pathlib.Path(__file__).parents[1] / "FORMAT.md").read_text()
    assert text in doc


# --- FORMAT.md as plain Python: an independent reading of the spec ----------------------

def _uvarint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _spec_header(data):
    assert data[0] == 1
    coder, n = data[1], data[2]
    dtype = data[3:3 + n].decode("ascii")
    pos = 3 + n
    bins, pos = _uvarint(data, pos)
    channels, pos = _uvarint(data, pos)
    S, pos = _uvarint(data, pos)
    return coder, dtype, bins, channels, S, pos


def _rank(peak, S):
    order = [peak]
    for d in range(1, S):
        order += [s for s in (peak - d, peak + d) if 0 <= s < S]
    return {v: r for r, v in enumerate(order)}


def _spec_decode_huffman(data, pos, bins, channels, S):
    H, pos = _uvarint(data, pos)
    sort, n_enc = data[pos], data[pos + 1]
    pos += 2
    lengths = [list(data[pos + e * S:pos + (e + 1) * S]) for e in range(n_enc)]
    pos += n_enc * S
    enc, peak = list(data[pos:pos + channels]), list(data[pos + channels:pos + 2 * channels])
    pos += 2 * channels
    assert sort or not any(peak)
    codebooks = []
    for L in lengths:
        code, book = 0, {}
        for i, n in enumerate(L):
            if i:
                code = (code + 1) << (n - L[i - 1])
            book[format(code, f"0{n}b")] = i
        codebooks.append(book)
    bits = "".join(format(b, "08b") for b in data[pos:])
    at, rb, out = 0, max(1, (S - 1).bit_length()), []
    for t in range(bins):
        row = []
        for c in range(channels):
            if t < min(H, bins):
                row.append(int(bits[at:at + rb], 2))
                at += rb
            else:
                word = ""
                while word not in codebooks[enc[c]]:
                    word += bits[at]
                    at += 1
                unrank = {r: v for v, r in _rank(peak[c], S).items()}
                row.append(unrank[codebooks[enc[c]][word]])
        out.append(row)
    assert (at + 7) // 8 == len(bits) // 8 and set(bits[at:]) <= {"0"}
    return out


def _spec_decode_arith(data, pos, bins, channels, S):
    coder = SpecArithDecoder(data, pos)
    state = {}
    prev = [0] * channels
    out = []
    for _t in range(bins):
        row = []
        for c in range(channels):
            v = 0
            for k in range(S - 1):
                key = (c, prev[c], k)
                s = state.get(key, 32768 << 8)
                bit = coder.bit(s >> 8)
                state[key] = spec_adapt_counted(s, bit, 60)
                if not bit:
                    break
                v += 1
            row.append(v)
            prev[c] = v
        out.append(row)
    assert coder.pos == len(data)
    return out


@pytest.mark.parametrize("entry", PAYLOADS, ids=[e["name"] for e in PAYLOADS])
def test_payload_as_the_spec_reads_it(entry):
    data, counts = _load(entry)
    coder, dtype, bins, channels, S, pos = _spec_header(data)
    assert (dtype, [bins, channels]) == (entry["dtype"], entry["shape"])
    decode = _spec_decode_arith if coder else _spec_decode_huffman
    got = decode(data, pos, bins, channels, S)
    np.testing.assert_array_equal(np.array(got, dtype=np.int64).reshape(bins, channels), counts.astype(np.int64))
