"""Golden MUA payloads of version 3 (sequential calibration), written once (tests/fixtures/mua/v3/README.md).

Each payload must decode to its stored counts, re-encode to the same bytes with the recorded config,
raise typed errors when damaged, and read the same through a plain-Python reading of FORMAT.md 3.3.2.
"""

import hashlib
import json
import pathlib

import numpy as np
import pytest
from helpers import assert_golden_damage_raises

from neurocodec.mua import MUACodec
from neurocodec.mua import codec as mua_codec

ROOT = pathlib.Path(__file__).parent / "fixtures" / "mua" / "v3"
MANIFEST = json.loads((ROOT / "manifest.json").read_text())
PAYLOADS = MANIFEST["payloads"]
IDS = [e["name"] for e in PAYLOADS]


def _load(entry):
    data = (ROOT / f"{entry['name']}.bin").read_bytes()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"]), \
        f"{entry['name']}.bin was edited; golden files are never rewritten"
    counts = np.load(ROOT / f"{entry['name']}.npy", allow_pickle=False)
    assert counts.dtype.str == entry["dtype"] and list(counts.shape) == entry["shape"]
    return data, counts


def test_fixture_set_covers_version_3():
    assert MANIFEST["payload_version"] == mua_codec.SEQUENTIAL_VERSION == 3
    assert all(e["config"]["calibration"] == "sequential" for e in PAYLOADS)
    assert any(len(e["config"].get("encoders", [[0]])) > 1 for e in PAYLOADS)
    assert any(e["config"].get("sort") is False for e in PAYLOADS)


@pytest.mark.parametrize("entry", PAYLOADS, ids=IDS)
def test_golden_v3_decodes_and_reencodes(entry):
    data, counts = _load(entry)
    assert data[0] == 3
    decoded = MUACodec().decode(data)
    assert decoded.dtype == counts.dtype and decoded.flags.f_contiguous == counts.flags.f_contiguous
    np.testing.assert_array_equal(decoded, counts)
    codec = MUACodec(**entry["config"])
    assert codec.encode(counts) == data
    if "input" in entry:
        assert codec.encode(np.load(ROOT / entry["input"], allow_pickle=False)) == data


@pytest.mark.parametrize("entry", PAYLOADS, ids=IDS)
def test_golden_v3_damage_raises_typed_errors(entry):
    data, _ = _load(entry)
    assert_golden_damage_raises(data, MUACodec().decode, unsupported=max(mua_codec.FORMAT_VERSIONS) + 1)


def test_worked_example_in_the_docs():
    data = (ROOT / "seq_s3_8x3.bin").read_bytes()
    text = "03 00 00 03 3c 69 32 08 03 03 03 01 01 01 01 02 02 00 00 00 00 01 00 19 81 66 c9 b4 3c"
    assert data.hex(" ") == text
    assert text in (pathlib.Path(__file__).parents[1] / "FORMAT.md").read_text()


# --- FORMAT.md 3.3.2 as plain Python, independent of the library -----------------------------

def _uvarint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _spec_decode(data):
    assert data[0] == 3 and data[1] <= 1 and data[2] == 0    # version, layout, coder 0
    n = data[3]
    pos = 4 + n
    bins, pos = _uvarint(data, pos)
    channels, pos = _uvarint(data, pos)
    S, pos = _uvarint(data, pos)
    H, pos = _uvarint(data, pos)
    sort, schedule, n_enc = data[pos], data[pos + 1], data[pos + 2]
    pos += 3
    lengths = [list(data[pos + e * S:pos + (e + 1) * S]) for e in range(n_enc)]
    pos += n_enc * S
    enc, peak = list(data[pos:pos + channels]), list(data[pos + channels:pos + 2 * channels])
    pos += 2 * channels
    assert sort or not any(peak)
    books = []
    for L in lengths:
        code, book = 0, {}
        for i, n in enumerate(L):
            if i:
                code = (code + 1) << (n - L[i - 1])
            book[format(code, f"0{n}b")] = i
        books.append(book)
    # channel c sends raw until its window, bins c*(H-1) .. c*(H-1)+H-1, is complete
    calib_end = [min(c * (H - 1) * schedule + H, bins) for c in range(channels)]
    bits = "".join(format(b, "08b") for b in data[pos:])
    at, rb, out = 0, max(1, (S - 1).bit_length()), []
    for t in range(bins):
        for c in range(channels):
            if t < calib_end[c]:
                out.append(int(bits[at:at + rb], 2))
                at += rb
            else:
                order = [peak[c]]
                for d in range(1, S):
                    order += [s for s in (peak[c] - d, peak[c] + d) if 0 <= s < S]
                word = ""
                while word not in books[enc[c]]:
                    word += bits[at]
                    at += 1
                out.append(order[books[enc[c]][word]])
    assert (at + 7) // 8 == len(bits) // 8 and set(bits[at:]) <= {"0"}
    return np.array(out, dtype=np.int64).reshape(bins, channels)


@pytest.mark.parametrize("entry", PAYLOADS, ids=IDS)
def test_golden_v3_as_the_spec_reads_it(entry):
    data, counts = _load(entry)
    np.testing.assert_array_equal(_spec_decode(data), counts.astype(np.int64))
