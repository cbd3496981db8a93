"""Blocks coded on several threads: the same bytes and arrays as on one, errors as on one."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurocodec
from neurocodec import container, parallel
from neurocodec.cli import build_parser, main
from neurocodec.errors import CorruptStreamError, InvalidConfigError
from neurocodec.evaluate import default_jobs
from neurocodec.synthetic import recording


def test_map_ordered_keeps_order_and_uses_several_threads():
    seen = set()
    barrier = threading.Barrier(2, timeout=10)

    def work(i):
        seen.add(threading.get_ident())
        if i < 2:
            barrier.wait()  # only passes if two items run at the same time
        return i * i

    assert parallel.map_ordered(work, range(7), threads=2) == [i * i for i in range(7)]
    assert len(seen) == 2


def test_map_ordered_raises_the_first_failure_in_order():
    def work(i):
        if i in (3, 5):
            raise ValueError(f"item {i}")
        return i

    for threads in (1, 2, 4):
        with pytest.raises(ValueError, match="item 3"):
            parallel.map_ordered(work, range(8), threads=threads)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_threads_must_be_a_positive_integer(bad):
    with pytest.raises(InvalidConfigError, match="threads must be a positive integer"):
        parallel.resolve_threads(bad)
    with pytest.raises(InvalidConfigError, match="threads must be a positive integer"):
        neurocodec.compress(np.zeros(10, np.int16), threads=bad)


def test_none_means_every_core():
    assert parallel.resolve_threads(None) == parallel.available_cores() >= 1


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 3000), channels=st.integers(1, 5), block_rows=st.integers(1, 900),
       preset=st.sampled_from(["max", "fast"]), seed=st.integers(0, 2**16))
def test_bytes_and_arrays_do_not_depend_on_the_thread_count(rows, channels, block_rows, preset, seed):
    x = recording(rows, channels=channels, seed=seed) if channels > 1 else recording(rows, seed=seed)
    one = neurocodec.compress(x, preset=preset, block_rows=block_rows, threads=1)
    for threads in (2, 3, None):
        assert neurocodec.compress(x, preset=preset, block_rows=block_rows, threads=threads) == one
        np.testing.assert_array_equal(neurocodec.decompress(one, threads=threads), x)
    lo, hi = rows // 3, rows - rows // 4
    np.testing.assert_array_equal(neurocodec.decompress(one, start=lo, stop=hi, threads=2), x[lo:hi])


def test_spike_codec_blocks_in_parallel():
    rng = np.random.default_rng(5)
    raster = rng.random((4000, 16)) < 0.02
    one = neurocodec.compress(raster, "spikes_adaptive", block_rows=300, threads=1)
    assert neurocodec.compress(raster, "spikes_adaptive", block_rows=300, threads=2) == one
    np.testing.assert_array_equal(neurocodec.decompress(one, threads=2), raster)


def test_a_damaged_block_gives_the_same_error_on_any_thread_count():
    x = recording(6000, channels=3, seed=9)
    data = bytearray(neurocodec.compress(x, block_rows=500, threads=1))
    header = container.read_header(bytes(data))
    for index in (4, 9):  # damage two blocks: the first in order is the one reported
        block = header.blocks[index]
        data[block.offset + block.size // 2] ^= 0x10
    for threads in (1, 2, 4):
        with pytest.raises(CorruptStreamError, match="block 4 CRC mismatch"):
            neurocodec.decompress(bytes(data), threads=threads)


def test_cli_threads_option(tmp_path):
    x = recording(5000, channels=4, seed=2)
    src = tmp_path / "x.npy"
    np.save(src, x)
    outs = []
    for threads in ("1", "2"):
        packed, restored = tmp_path / f"x{threads}.nc", tmp_path / f"y{threads}.npy"
        assert main(["encode", str(src), str(packed), "--threads", threads]) == 0
        assert main(["decode", str(packed), str(restored), "--threads", threads]) == 0
        np.testing.assert_array_equal(np.load(restored), x)
        outs.append(packed.read_bytes())
    assert outs[0] == outs[1]


def test_eval_jobs_default_to_the_core_count():
    assert build_parser().parse_args(["eval", "somewhere"]).jobs is None
    assert default_jobs() == parallel.available_cores()


def test_the_numcodecs_codec_codes_chunks_from_several_threads():
    """zarr codes chunks on its own threads: one codec object, the same bytes as coded alone."""
    from neurocodec.waveform import WaveformCodec

    codec = WaveformCodec(preset="fast")
    chunks = [recording(3000, channels=4, seed=s) for s in range(6)]
    alone = [codec.encode(c) for c in chunks]
    assert parallel.map_ordered(codec.encode, chunks, threads=3) == alone
    decoded = parallel.map_ordered(codec.decode, alone, threads=3)
    for got, want in zip(decoded, chunks):
        np.testing.assert_array_equal(got, want)


def test_cli_shows_progress_over_the_blocks_of_a_long_recording(tmp_path, capsys):
    from neurocodec.cli import main
    from neurocodec.io import wav
    from neurocodec.synthetic import recording

    src = tmp_path / "long.wav"
    src.write_bytes(wav.write_bytes(recording(3 * (1 << 22) // 2, seed=3), 19531))  # 2 blocks
    assert main(["encode", str(src), str(tmp_path / "long.nc"), "--preset", "fast"]) == 0
    assert "encode" in capsys.readouterr().err
    assert main(["encode", str(src), str(tmp_path / "quiet.nc"), "--preset", "fast", "--no-progress"]) == 0
    assert "block" not in capsys.readouterr().err
    assert (tmp_path / "long.nc").read_bytes() == (tmp_path / "quiet.nc").read_bytes()
