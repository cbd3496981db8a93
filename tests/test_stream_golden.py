"""Golden v1 packet streams (tests/fixtures/stream/v1, written once by write_golden.py there): this build
decodes them to the recorded samples, its encoder writes them byte for byte, and their damage is typed."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_bitflips_safe
from neurocodec.errors import NeurocodecError, TruncatedStreamError
from neurocodec.stream import StreamDecoder, StreamEncoder
from neurocodec.stream.codec import HEADER_SIZE, PACKET_OVERHEAD

HERE = Path(__file__).resolve().parent / "fixtures" / "stream" / "v1"
CASES = json.loads((HERE / "cases.json").read_text())


def split(data: bytes) -> tuple[bytes, list[bytes]]:
    header, pos, packets = data[:HEADER_SIZE], HEADER_SIZE, []
    while pos < len(data):
        (n,) = struct.unpack_from("<I", data, pos + 5)
        packets.append(data[pos:pos + PACKET_OVERHEAD + n])
        pos += PACKET_OVERHEAD + n
    return header, packets


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_stream_decodes(name):
    header, packets = split((HERE / f"{name}.stream").read_bytes())
    assert [p[0] for p in packets] == CASES[name]["kinds"]
    dec = StreamDecoder(header)
    out = np.concatenate([dec.decode(p) for p in packets])
    np.testing.assert_array_equal(out, np.load(HERE / f"{name}.npy"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_encoder_writes_the_golden_bytes(name):
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in CASES[name]["encoder"].items()}
    enc = StreamEncoder(**kwargs)
    x = np.load(HERE / f"{name}.input.npy")
    f = kwargs["frame_samples"]
    data = enc.header() + b"".join(enc.encode(np.ascontiguousarray(x[i * f:(i + 1) * f]))
                                   for i in range(x.shape[0] // f))
    assert data == (HERE / f"{name}.stream").read_bytes()


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_damage_is_typed(name):
    header, packets = split((HERE / f"{name}.stream").read_bytes())
    for cut in range(HEADER_SIZE):
        with pytest.raises(TruncatedStreamError):
            StreamDecoder(header[:cut])
    for p in packets[:3]:
        for cut in range(len(p)):
            with pytest.raises(TruncatedStreamError):
                StreamDecoder(header).decode(p[:cut])
        assert_bitflips_safe(p, lambda d: StreamDecoder(header).decode(d), n_flips=64, must_raise=True)
    with pytest.raises(NeurocodecError):
        StreamDecoder(header).decode(packets[0] + b"\0")
