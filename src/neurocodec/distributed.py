"""Many files across a dask cluster, with the kernels compiled once, not once per worker.

numba compiles a kernel in the process that first calls it, about a minute per codec preset, and
caches it on disk.  Workers that find the cache load it in a fraction of a second, so
:func:`compress_files` first runs :func:`neurocodec._jit.warmup` where the cache is written (this
process, on the machine of a ``LocalCluster``; see the README for a cluster whose workers run on
other machines: a shared ``NUMBA_CACHE_DIR`` or a warmed worker image), then hands the files out.

    from dask.distributed import Client, LocalCluster
    from neurocodec.distributed import compress_files

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        results = compress_files(client, ["a.wav", "b.wav"], "out/", preset="fast")
"""

from __future__ import annotations

from pathlib import Path

from . import _jit, api


def _encode_one(src: str, dst: str, codec: str, config: dict) -> dict:
    size = api.encode_file(src, dst, codec, **config)
    return {"file": src, "output": dst, "input_bytes": Path(src).stat().st_size, "output_bytes": size,
            **_jit.dispatcher_stats()}


def compress_files(client, files, out_dir, codec: str = api.DEFAULT_CODEC, *, warm: bool = True,
                   **config) -> list[dict]:
    """Compress every file of ``files`` (WAV or ``.npy``) into ``out_dir`` on the workers of ``client``.

    Returns one dict per file: input and output sizes and the worker's kernel cache hits and misses
    (compilations) so far.  ``warm=False`` skips compiling here (a cluster with a warmed cache).
    """
    if warm:
        _jit.warmup([(codec, {k: v for k, v in config.items() if k == "preset"})] if codec == "waveform"
                    else [codec])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = [str(f) for f in files]
    targets = [str(out_dir / (Path(f).name + ".nc")) for f in sources]
    futures = client.map(_encode_one, sources, targets, codec=codec, config=dict(config), pure=False)
    return client.gather(futures)
