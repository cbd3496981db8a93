"""Many files across a 2-worker dask LocalCluster: exact, and no worker compiles a kernel.

Needs the ``dask`` extra; skips without it.
"""

from __future__ import annotations

import numpy as np
import pytest

import neurocodec
from neurocodec.io import wav
from neurocodec.synthetic import recording

distributed = pytest.importorskip("dask.distributed", reason="needs the dask extra (pip install -e \".[dask]\")")


def test_compress_files_on_a_local_cluster(tmp_path):
    from neurocodec.distributed import compress_files

    files = []
    for i in range(6):
        path = tmp_path / f"rec{i}.wav"
        path.write_bytes(wav.write_bytes(recording(4000 + 100 * i, channels=1 + i % 3, seed=40 + i), 19531))
        files.append(path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        results = compress_files(client, files, tmp_path / "out", preset="fast")
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    for path, result in zip(files, results):
        out = tmp_path / "out" / (path.name + ".nc")
        assert result["output"] == str(out) and result["output_bytes"] == out.stat().st_size
        np.testing.assert_array_equal(neurocodec.decompress(out.read_bytes()), wav.parse(path.read_bytes()).samples)
        assert neurocodec.decode_bytes(out.read_bytes()) == path.read_bytes()
        # the kernels came from the cache written before the workers started: none compiled there
        assert result["cache_misses"] == 0 and result["cache_hits"] > 0, result
