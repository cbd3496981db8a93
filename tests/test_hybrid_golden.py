"""Golden hybrid payloads (tests/fixtures/hybrid/README.md): version 1 and 2 bytes decode and re-encode unchanged."""

import hashlib
import json
import pathlib

import numpy as np
import pytest
from helpers import assert_golden_damage_raises

from neurocodec.entropy import varint
from neurocodec.hybrid import HybridCodec
from neurocodec.hybrid._kernels import shaped_bound
from neurocodec.hybrid.codec import FORMAT_VERSION, describe_payload

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "hybrid"
CASES = [dict(case, version=v) for v in (1, 2)
         for case in json.loads((FIXTURES / f"v{v}" / "manifest.json").read_text())["cases"]]
IDS = [f"v{c['version']}-{c['name']}" for c in CASES]


def _load(case):
    root = FIXTURES / f"v{case['version']}"
    data = (root / f"{case['name']}.bin").read_bytes()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (case["size"], case["sha256"]), \
        f"{case['name']}.bin was edited; golden files are never rewritten"
    assert data[0] == case["version"]
    x = np.load(root / f"{case['name']}.in.npy", allow_pickle=False)
    y = np.load(root / f"{case['name']}.out.npy", allow_pickle=False)
    return data, x, y


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_golden_decodes_and_reencodes(case):
    data, x, y = _load(case)
    codec = HybridCodec(**case["config"])
    np.testing.assert_array_equal(codec.decode(data), y)
    if "target_ratio" in case["config"]:
        # Which bounds rate control picks is the encoder's choice, not the format: the payload is
        # pinned by re-encoding with the bounds it states.
        codec = HybridCodec(**_stated(data))
    assert codec.encode(x) == data


def _stated(data):
    d = describe_payload(data)
    before, after, taper = d["snippet_samples"]
    return dict(snippet_before=before, snippet_after=after, taper=taper, snippet_near=d["snippet_near"],
                taper_near=d["taper_near"], background_factor=d["background_factor"],
                background_near=d["background_near"], noise_shaping=d["noise_shaping"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_golden_damage_is_typed(case):
    data, _, _ = _load(case)
    assert_golden_damage_raises(data, HybridCodec().decode, unsupported=FORMAT_VERSION + 1)


def test_golden_header_fields_as_specified():
    """FORMAT.md 3.4 read by hand, without the codec: every field up to the background section."""
    case = next(c for c in CASES if c["name"] == "multi_near2")
    data, x, _ = _load(case)
    assert data[0] == 1 and data[1] == 1  # version 1; flags: two-dimensional only
    fields, pos = [], 2
    for _ in range(2):
        value, pos = varint.read_uvarint(data, pos)
        fields.append(value)
    assert tuple(fields) == x.shape
    assert data[pos] == 0  # mapping kind LADDER: the samples lie on the 10-bit ladder, nothing more stored
    pos += 1
    values = []
    for _ in range(4):
        value, pos = varint.read_uvarint(data, pos)
        values.append(value)
    assert values[:3] == [20, 30, 16]  # snippet before, after, taper (the defaults)
    pos += values[3]  # the trough section: a spikes_isi payload
    assert data[pos - values[3]] == 1  # ... which starts with its own version byte
    values = []
    for _ in range(5):
        value, pos = varint.read_uvarint(data, pos)
        values.append(value)
    assert values[:4] == [2, 2, 32, 2]  # snippet_near, taper_near, background factor, background_near
    assert pos + values[4] < len(data)  # background section, then the residuals to the end


def test_golden_v2_shaping_field_as_specified():
    """FORMAT.md 3.4: version 2 inserts the shaping field (1) after taper_near, and the decoded snippets
    keep the shaped bound, not the quantiser's."""
    case = next(c for c in CASES if c["name"] == "multi_shaped3")
    data, x, y = _load(case)
    assert data[0] == 2
    d = describe_payload(data)
    assert (d["snippet_near"], d["taper_near"], d["noise_shaping"]) == (3, 8, True)
    assert d["snippet_max_abs_error"] == shaped_bound(3) == 7
    # the four varints after the trough section: snippet_near, taper_near, shaping, factor
    pos = 2
    for _ in range(2):  # T, C
        _, pos = varint.read_uvarint(data, pos)
    pos += 1  # mapping kind LADDER
    fields = []
    for _ in range(4):
        value, pos = varint.read_uvarint(data, pos)
        fields.append(value)
    pos += fields[3]
    body = []
    for _ in range(5):
        value, pos = varint.read_uvarint(data, pos)
        body.append(value)
    assert body == [3, 8, 1, 32, 2]
    assert 3 < int(np.abs(x.astype(np.int64) - y).max())  # shaped: beyond the quantiser's own bound somewhere
