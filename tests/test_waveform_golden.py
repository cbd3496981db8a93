"""Golden waveform payloads: the bytes written once by each payload version must keep decoding, and
the current encoder must keep writing its version's bytes exactly (FORMAT.md).

A failure here means the payload format changed.  Do not regenerate the golden files: bump
``lossless.FORMAT_VERSION``, add ``tests/fixtures/waveform/v<N>/`` for it, and keep the old folders
so that old payloads are still checked to decode (see the fixtures' README.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import SpecArithDecoder

from neurocodec.entropy.models import SQUASH_TABLE, STRETCH_TABLE
from neurocodec.waveform._kernels import initial_model
from neurocodec.waveform import WaveformCodec
from neurocodec.waveform.levels import LADDER_VALUES
from neurocodec.waveform import lossless
from neurocodec.waveform.lossless import FORMAT_VERSION, PARAM_SETS, PRIORS

ROOT = Path(__file__).resolve().parent
GOLDEN = ROOT / "fixtures" / "waveform"
SPEC = ROOT.parent / "FORMAT.md"


def _cases() -> list[tuple[int, str, dict]]:
    out = []
    for folder in sorted(GOLDEN.glob("v*")):
        version = int(folder.name[1:])
        for name, case in json.loads((folder / "cases.json").read_text()).items():
            out.append((version, name, case))
    return out


CASES = _cases()
IDS = [f"v{v}-{name}" for v, name, _ in CASES]


def _load(version: int, name: str) -> tuple[bytes, np.ndarray]:
    folder = GOLDEN / f"v{version}"
    return (folder / f"{name}.bin").read_bytes(), np.load(folder / f"{name}.npy", allow_pickle=False)


def test_current_version_has_golden_files():
    # a new payload version must come with its own golden folder, or nothing pins its encoder
    assert (GOLDEN / f"v{FORMAT_VERSION}" / "cases.json").is_file()


@pytest.mark.parametrize(("version", "name", "case"), CASES, ids=IDS)
def test_golden_files_unchanged(version, name, case):
    payload, expected = _load(version, name)
    assert len(payload) == case["payload_bytes"]
    assert hashlib.sha256(payload).hexdigest() == case["payload_sha256"]
    assert expected.dtype.str == case["dtype"] and list(expected.shape) == case["shape"]


@pytest.mark.parametrize(("version", "name", "case"), CASES, ids=IDS)
def test_golden_payload_decodes(version, name, case):
    payload, expected = _load(version, name)
    assert payload[0] == version
    # the preset of the decoding codec must not matter: the payload carries its parameter set
    for preset in ("max", "fast"):
        decoded = WaveformCodec(preset).decode(payload)
        assert decoded.dtype == expected.dtype and decoded.shape == expected.shape
        np.testing.assert_array_equal(decoded, expected)


@pytest.mark.parametrize(("version", "name", "case"), CASES, ids=IDS)
def test_encoder_reproduces_golden_bytes(version, name, case):
    # the encoder writes the oldest version that can say what a payload needs, so every folder's
    # payloads are still the current encoder's bytes; the one exception is a version-1 payload
    # larger than its samples, which the encoder now stores raw (version 2)
    payload, expected = _load(version, name)
    source = _input(version, name, expected)
    codec = WaveformCodec(case["preset"], cross_channel=case["cross_channel"], near=case.get("near", 0))
    written = codec.encode(np.asfortranarray(source) if case.get("order") == "F" else source)
    if version == 1 and written[0] == 2 and written[1] & lossless.FLAG_RAW:
        assert len(written) < len(payload) and len(written) <= expected.nbytes + 16
        np.testing.assert_array_equal(codec.decode(written), expected)
        return
    assert written == payload


def _input(version: int, name: str, decoded: np.ndarray) -> np.ndarray:
    # near-lossless cases decode to their reconstruction; the input they were coded from is kept beside
    path = GOLDEN / f"v{version}" / f"{name}.input.npy"
    return np.load(path, allow_pickle=False) if path.exists() else decoded


@pytest.mark.parametrize(("version", "name", "case"), [c for c in CASES if c[0] == 2],
                         ids=[i for i, c in zip(IDS, CASES) if c[0] == 2])
def test_v2_payloads_keep_their_promises(version, name, case):
    payload, expected = _load(version, name)
    decoded = WaveformCodec().decode(payload)
    source = _input(version, name, expected)
    flags = payload[1]
    if case["near"]:
        # the bound, in levels of the implant's ladder (every near case is on it)
        assert flags & lossless.FLAG_NEAR
        codes = np.searchsorted(LADDER_VALUES, np.stack([source, decoded]))
        assert 0 < np.abs(codes[0] - codes[1]).max() <= case["near"]
    else:
        np.testing.assert_array_equal(decoded, source)
    assert bool(flags & lossless.FLAG_FORTRAN) == (case["order"] == "F")
    assert decoded.flags.f_contiguous if case["order"] == "F" else decoded.flags.c_contiguous
    if flags & lossless.FLAG_PADDED:
        assert source.size > lossless.DENSITY_FLOOR and len(payload) * lossless.SAMPLES_PER_BYTE >= source.size
    if flags & lossless.FLAG_RAW:
        assert len(payload) == source.nbytes + 4


# -- a second decoder, written from FORMAT.md alone ----------------------------------
# It shares only the data the spec names (squash/stretch tables, ladder values, priors, parameter
# sets) with the codec, so its agreement with the golden files checks the spec as well as the code.

MAG_AT, BIAS_AT, SIGN_AT, ESCAPE_AT, MIX_AT, APM_AT = 0, 504, 3576, 3624, 3687, 3729


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _unzigzag(u: int) -> int:
    return u >> 1 if not u & 1 else -((u + 1) >> 1)


def parse_header(data: bytes) -> dict:
    """Header fields (3.1.1-3.1.3, 3.1.10), the raw bit stream and where the coded stream starts."""
    flags = data[1]
    h = {"version": data[0], "int32": bool(flags & 1), "two_d": bool(flags & 2), "C": 1,
         "fortran": bool(flags & 4), "near": 0, "stored_raw": bool(flags & 16), "padded": bool(flags & 32)}
    h["T"], pos = _uvarint(data, 2)
    if h["two_d"]:
        h["C"], pos = _uvarint(data, pos)
    if flags & 8:
        h["near"], pos = _uvarint(data, pos)
    if h["stored_raw"]:
        h["coded_at"], h["channels"] = pos, []
        return h
    kind = data[pos]
    pos += 1
    h["mapping"] = {0: "ladder", 1: "table", 2: "offset"}[kind]
    if kind == 0:
        h["L"], h["values"] = 1024, [int(v) for v in LADDER_VALUES]
    elif kind == 2:
        offset, pos = _uvarint(data, pos)
        span_minus_1, pos = _uvarint(data, pos)
        h["L"], h["offset"] = span_minus_1 + 1, _unzigzag(offset)
    else:
        h["L"], pos = _uvarint(data, pos)
        first, pos = _uvarint(data, pos)
        h["values"] = [_unzigzag(first)]
        for _ in range(h["L"] - 1):
            gap, pos = _uvarint(data, pos)
            h["values"].append(h["values"][-1] + gap + 1)
    h["channels"] = []
    if h["T"] == 0 or h["C"] == 0 or h["L"] == 1:
        h["coded_at"] = pos
        return h
    h["param_set"] = data[pos]
    pos += 1
    for _ in range(h["C"]):
        tag = data[pos]
        pos += 1
        ch = {"order": tag & 0x3F, "reserved": bool(tag & 0x40), "cross": bool(tag & 0x80), "shift": 0,
              "coefs": []}
        mean, pos = _uvarint(data, pos)
        ch["mean"] = _unzigzag(mean)
        if ch["order"]:
            ch["shift"] = data[pos]
            pos += 1
            for _ in range(ch["order"]):
                coef, pos = _uvarint(data, pos)
                ch["coefs"].append(_unzigzag(coef))
        h["channels"].append(ch)
    h["raw"] = b""
    if h["param_set"] == 1:
        raw_len, pos = _uvarint(data, pos)
        h["raw"] = data[pos : pos + raw_len]
        pos += raw_len
    h["coded_at"] = pos
    return h


def _squash(d: int) -> int:
    return int(SQUASH_TABLE[min(max(d, -2047), 2047) + 2047])


def _adapt(p: int, bit: int, shift: int) -> int:
    p = p + ((65536 - p) >> shift) if bit else p - (p >> shift)
    return min(max(p, 1), 65535)


def _bucket(v: int) -> int:
    if v == 0:
        return 0
    k = v.bit_length()
    return min(max(2 * k + ((v >> (k - 2)) & 1 if k >= 2 else 0) - 6, 0), 23)


def spec_decode(data: bytes) -> np.ndarray:
    """Decode a payload by 3.1.6 and 3.1.10 (valid payloads only: the checks of 3.1.7 are asserts)."""
    h = parse_header(data)
    dtype = np.int32 if h["int32"] else np.int16
    shape = (h["T"], h["C"]) if h["two_d"] else (h["T"],)
    if h["stored_raw"]:
        return np.frombuffer(data[h["coded_at"]:], dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)
    k_near = h["near"]
    q_step = 2 * k_near + 1
    # the coded stream ends where the zero padding starts (3.1.10)
    end = len(data.rstrip(b"\0")) if h["padded"] else len(data)

    def sample(level: int) -> int:
        return h["offset"] + level if h["mapping"] == "offset" else h["values"][level]

    if not h["channels"]:
        assert h["coded_at"] == len(data) or (h["padded"] and not any(data[h["coded_at"]:]))
        return np.full(shape, sample(0), dtype)
    set_id = h["param_set"]
    mag_rate, apm_shift, smooth, mixed, bias_rate, group = PARAM_SETS[set_id]
    model = [int(v) for v in (initial_model(bool(mixed)) if k_near else PRIORS[set_id])]
    coder = SpecArithDecoder(data, h["coded_at"])
    raw, raw_pos = h["raw"], 0

    def raw_bits(n: int) -> int:
        nonlocal raw_pos
        value = 0
        for _ in range(n):
            byte = raw[raw_pos >> 3] if raw_pos >> 3 < len(raw) else 0
            value = (value << 1) | ((byte >> (7 - (raw_pos & 7))) & 1)
            raw_pos += 1
        return value

    def decide(slot: int, b: int, level: int, direction: int) -> int:
        mi, li = MAG_AT + 21 * b + slot, BIAS_AT + 3 * (level & 1023) + direction
        if not mixed:
            p = _squash((model[mi] + model[li]) >> 8)
            bit = coder.bit(p)
            err = (bit << 16) - p
            model[li] += (err * bias_rate) >> 8
            model[mi] += (err * mag_rate) >> 8
            return bit
        pm = model[mi]
        stretched = int(STRETCH_TABLE[pm >> 4])
        dot = ((stretched * model[MIX_AT + 2 * slot] + 256 * model[MIX_AT + 2 * slot + 1]) >> 16) + (model[li] >> 8)
        pmix = _squash(dot)
        pos = (min(max(dot, -2047), 2047) + 2048) * 23
        w, knot = pos & 4095, APM_AT + (pos >> 12) + 24 * slot
        pa = min(max((model[knot] * (4096 - w) + model[knot + 1] * w) >> 12, 1), 65535)
        bit = coder.bit((pmix + pa) >> 1)
        model[li] += (((bit << 16) - pmix) * bias_rate) >> 8
        target = 65535 if bit else 0
        model[knot] += ((target - model[knot]) * (4096 - w)) >> (apm_shift + 12)
        model[knot + 1] += ((target - model[knot + 1]) * w) >> (apm_shift + 12)
        model[mi] = _adapt(pm, bit, mag_rate)
        return bit

    top_level = h["L"] - 1
    series = []
    for ch in h["channels"]:
        lo, hi = (-top_level if ch["cross"] else 0), top_level
        mu, s, coefs = ch["mean"], ch["shift"], ch["coefs"]
        hist, y, avg, prev = [], [], 64, 0
        for t in range(h["T"]):
            acc = ((1 << s) >> 1) + sum(a * hist[t - 1 - k] for k, a in enumerate(coefs) if t - 1 - k >= 0)
            pred = min(max(mu + (acc >> s), lo), hi)
            up, down = (hi - pred + k_near) // q_step, (pred - lo + k_near) // q_step
            b = _bucket(min(avg, 4095))
            r = 0
            if up + down > 0 and not decide(0, b, pred, 0):
                forced = up == 0 or down == 0
                g = 0 if group == 0 else min(max((b - group) >> 1, 0), 15)
                neg, offset = int(up == 0), 0
                if mixed and not forced:
                    frac = (acc >> (s - 2)) & 3 if s >= 2 else 2
                    si = SIGN_AT + 4 * (3 * min(b >> 2, 3) + prev) + frac
                    p = _squash(model[si] >> 8)
                    neg = coder.bit(p)
                    model[si] += (((neg << 16) - p) * 4) >> 8
                elif not mixed:
                    value = raw_bits(g + (0 if forced else 1))
                    offset = value & ((1 << g) - 1)
                    neg = value >> g if not forced else neg
                sign, direction = (-1, 2) if neg else (1, 1)
                m_max = down if neg else up
                a, upper = 1, m_max
                for j in range(1, 21):
                    top = a + (1 << g) - 1
                    if top >= m_max:
                        break
                    if decide(j, b, pred + sign * (top * q_step + k_near), direction):
                        upper = top
                        break
                    a = top + 1
                else:  # escape: Exp-Golomb of m - a + 1
                    k = 0
                    while True:
                        bit = coder.bit(model[ESCAPE_AT + k])
                        model[ESCAPE_AT + k] = _adapt(model[ESCAPE_AT + k], bit, 4)
                        if bit:
                            break
                        k += 1
                        assert k < 62
                    e = 1
                    for _ in range(k):
                        e = (e << 1) | coder.bit(32768)
                    a = upper = a + e - 1
                assert a + offset <= upper
                r = sign * (a + offset)
                prev = 1 + neg
            else:
                prev = 0
            x = min(max(pred + r * q_step, lo), hi)
            assert k_near or x == pred + r
            y.append(x)
            hist.append(x - mu)
            avg += ((abs(r) << 4) - avg) >> smooth
        series.append(y)
    assert coder.pos == len(data) or (h["padded"] and coder.pos >= end), "the coded stream ends at the payload's end"
    assert 8 * len(raw) - 8 < raw_pos <= 8 * len(raw) or raw_pos == len(raw) == 0
    for c in range(1, len(series)):
        if h["channels"][c]["cross"]:
            series[c] = [u + v for u, v in zip(series[c], series[c - 1])]
    levels = np.array(series, dtype=np.int64).T
    out = np.array([[sample(int(v)) for v in row] for row in levels], dtype=np.int64).reshape(levels.shape)
    out = out.astype(dtype)
    return out if h["two_d"] else out[:, 0]


@pytest.mark.parametrize(("version", "name", "case"), CASES, ids=IDS)
def test_spec_decoder_agrees(version, name, case):
    payload, expected = _load(version, name)
    if expected.size > 100_000:
        pytest.skip("pure-Python decoding of a million samples takes minutes")
    decoded = spec_decode(payload)
    assert decoded.dtype == expected.dtype and decoded.shape == expected.shape
    np.testing.assert_array_equal(decoded, expected)


@pytest.mark.parametrize(("version", "name", "case"), [c for c in CASES if c[0] == 1],
                         ids=[i for i, c in zip(IDS, CASES) if c[0] == 1])
def test_v1_headers_follow_the_spec(version, name, case):
    payload, expected = _load(version, name)
    h = parse_header(payload)
    assert h["int32"] == (expected.dtype == np.int32)
    assert h["two_d"] == (expected.ndim == 2)
    assert (h["T"], h["C"]) == (expected.shape[0], expected.shape[1] if expected.ndim == 2 else 1)
    if not h["channels"]:
        # empty or constant: the payload is the header, nothing after the mapping
        assert expected.size == 0 or np.all(expected == expected.flat[0])
        assert h["coded_at"] == len(payload)
        return
    assert h["param_set"] == {"max": 0, "fast": 1}[case["preset"]]
    assert len(h["channels"]) == h["C"]
    assert not any(c["reserved"] for c in h["channels"]) and not h["channels"][0]["cross"]
    # the arithmetic-coded stream is at least its 4 flush bytes
    assert len(payload) - h["coded_at"] >= 4
    if "cross" in name:
        # these cases exist to pin the cross-channel mode: it must actually have been chosen
        assert all(c["cross"] for c in h["channels"][1:])
    # every mapping kind is pinned by some case
    expected_mapping = {"noise_int16_full_max": "offset", "table_int32_max": "table",
                        "wide_int32_2ch_fast": "offset"}
    assert h["mapping"] == expected_mapping.get(name, "ladder")


def test_worked_example_in_the_spec_is_the_golden_payload():
    # the spec's hex dump must be the real bytes, so the document cannot drift from the format
    text = SPEC.read_text()
    section = text[text.index("## 3.1.8"):]
    dump = re.search(r"```\n(0000 .*?)```", section, re.DOTALL).group(1)
    hex_bytes = "".join(line[6:] for line in dump.splitlines()).split()
    payload, _ = _load(1, "tiny_ladder_max")
    assert bytes.fromhex("".join(hex_bytes)) == payload
