"""The bit accumulator the fast waveform models use for raw bits, against the bit-at-a-time writer."""

import numba as nb
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocodec.entropy.bitio import get_bits, pack_bits, pack_flush, put_bits, unpack_bits


@nb.njit(cache=True)
def _pack_all(values, widths, buf):
    pos = acc = count = 0
    for i in range(values.shape[0]):
        pos, acc, count = pack_bits(buf, pos, acc, count, values[i], widths[i])
    return pack_flush(buf, pos, acc, count)


@nb.njit(cache=True)
def _put_all(values, widths, buf):
    pos = 0
    for i in range(values.shape[0]):
        pos = put_bits(buf, pos, values[i], widths[i])
    return pos


@nb.njit(cache=True)
def _unpack_all(widths, buf, out):
    pos = acc = count = 0
    for i in range(widths.shape[0]):
        out[i], pos, acc, count = unpack_bits(buf, pos, acc, count, widths[i])
    return 8 * pos - count


fields = st.lists(st.tuples(st.integers(0, 32), st.integers(0, (1 << 40) - 1)), max_size=200)


@settings(max_examples=200, deadline=None)
@given(fields)
def test_pack_bits_writes_what_put_bits_writes(items):
    widths = np.array([w for w, _ in items], dtype=np.int64)
    values = np.array([v for _, v in items], dtype=np.int64)
    total = int(widths.sum())
    packed = np.full((total + 7) // 8 + 1, 0xAA, dtype=np.uint8)  # stale bytes: every shipped byte is written
    reference = np.zeros_like(packed)
    assert _pack_all(values, widths, packed) == total == _put_all(values, widths, reference)
    n = (total + 7) // 8
    assert packed[:n].tobytes() == reference[:n].tobytes()
    # the reader gets back each value's low bits, from the bytes with a zero byte after them
    stream = np.zeros(n + 1, dtype=np.uint8)
    stream[:n] = packed[:n]
    out = np.zeros(len(items), dtype=np.int64)
    assert _unpack_all(widths, stream, out) == total
    assert (out == values & ((1 << widths) - 1)).all()
    pos = 0
    for i, w in enumerate(widths):
        v, pos = get_bits(stream, pos, int(w))
        assert v == out[i]


def test_reads_past_the_end_read_zeros_and_writes_stay_inside():
    stream = np.array([0xFF, 0], dtype=np.uint8)
    out = np.zeros(6, dtype=np.int64)
    assert _unpack_all(np.full(6, 8, dtype=np.int64), stream, out) == 48
    assert out.tolist() == [0xFF, 0, 0, 0, 0, 0]
    # an encoder whose buffer is too small keeps counting and writes nothing outside it
    guard = np.zeros(8, dtype=np.uint8)
    small = guard[2:4]
    bits = _pack_all(np.full(10, 0xFFFF, dtype=np.int64), np.full(10, 16, dtype=np.int64), small)
    assert bits == 160
    assert guard[:2].tolist() == [0, 0] and guard[4:].tolist() == [0, 0, 0, 0]
