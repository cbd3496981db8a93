"""The challenge's measurement: encode every file, decode it, check the bytes, add up sizes and times.

Files come from a folder of ``.wav`` files or from the challenge's ``data.zip``.  Work is spread
over processes; each worker compiles (or loads from cache) the codec kernels before timing starts,
so ``encode_s``/``decode_s`` are codec time on one core, excluding start-up and file I/O.  They are
the CPU time of the thread that runs the codec (the kernels run in that thread), so a worker that
the operating system pauses, for another worker or another tenant of the machine, is not charged
for the pause.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import api, container
from .errors import NeurocodecError
from .io import wav


@dataclass
class FileResult:
    file: str
    original_bytes: int
    compressed_bytes: int
    encode_s: float
    decode_s: float
    identical: bool
    samples: int
    error: str = ""


def list_inputs(data) -> list[tuple[str, object]]:
    """``(name, source)`` of every WAV in a folder or zip; ``source`` is a path or ``(zip, member)``."""
    data = Path(data)
    if data.is_dir():
        files = sorted(p for p in data.iterdir() if p.suffix.lower() == ".wav" and p.is_file())
        return [(p.name, str(p)) for p in files]
    if data.is_file() and zipfile.is_zipfile(data):
        with zipfile.ZipFile(data) as z:
            names = sorted(n for n in z.namelist() if n.lower().endswith(".wav") and not n.endswith("/"))
        return [(Path(n).name, (str(data), n)) for n in names]
    raise NeurocodecError(f"{data}: expected a folder of .wav files or a .zip of them")


def _load(source) -> bytes:
    if isinstance(source, tuple):
        with zipfile.ZipFile(source[0]) as z:
            return z.read(source[1])
    return Path(source).read_bytes()


def _warm_up(codec: str, config: dict) -> None:
    # Compile or load cached kernels outside the timed region, once per process.
    probe = (np.arange(4096, dtype=np.int64) % 37 * 64 - 1024).astype(np.int16)
    api.decompress(api.compress(probe, codec, **config))


def evaluate_one(name: str, source, codec: str, config: dict) -> FileResult:
    """Round-trip one WAV file and time the codec."""
    try:
        original = _load(source)
        parsed = wav.parse(original, name)
        codec_obj = api.registry.make_codec(codec, **config)
        t0 = time.thread_time()
        # one thread: the times are the CPU time of this thread, and the workers already fill the cores
        packed = container.pack(codec_obj, parsed.samples, extra=wav.sidecar(parsed), threads=1)
        t1 = time.thread_time()
        header = container.read_header(packed, what=name)
        samples = container.unpack_header(packed, header, what=name, threads=1)
        t2 = time.thread_time()
        restored = wav.from_sidecar(header.extra, samples, name)
        return FileResult(name, len(original), len(packed), t1 - t0, t2 - t1, restored == original,
                          int(parsed.samples.size))
    except NeurocodecError as exc:
        return FileResult(name, 0, 0, 0.0, 0.0, False, 0, str(exc))
    except OSError as exc:
        return FileResult(name, 0, 0, 0.0, 0.0, False, 0, f"cannot read: {exc.strerror or exc}")


def _worker_init(codec: str, config: dict) -> None:
    _warm_up(codec, config)


def _evaluate_star(args):
    return evaluate_one(*args)


def evaluate(data, codec: str = api.DEFAULT_CODEC, config: dict | None = None, jobs: int | None = 1,
             progress: bool = False, on_result=None) -> list[FileResult]:
    """Round-trip every WAV in ``data`` (folder or zip) with ``jobs`` processes (``None``: one per core).

    ``on_result(result)`` is called for each file as its result arrives (a :class:`CsvLog` writes
    the row at once, so an interrupted run keeps what it measured).
    """
    jobs = default_jobs() if jobs is None else jobs
    config = dict(config or {})
    api.registry.make_codec(codec, **config)  # a bad codec or config fails here, once, with its message
    inputs = list_inputs(data)
    if not inputs:
        raise NeurocodecError(f"{data}: no .wav files found")
    tasks = [(name, source, codec, config) for name, source in inputs]
    bar = None
    if progress:
        from ._progress import tqdm

        bar = tqdm(total=len(tasks), unit="file", desc="eval", leave=False)
    results: list[FileResult] = []
    if jobs <= 1:
        _warm_up(codec, config)
        for task in tasks:
            results.append(evaluate_one(*task))
            if on_result:
                on_result(results[-1])
            if bar:
                bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(codec, config)) as pool:
            for result in pool.map(_evaluate_star, tasks, chunksize=4):
                results.append(result)
                if on_result:
                    on_result(result)
                if bar:
                    bar.update()
    if bar:
        bar.close()
    return results


def summarize(results: list[FileResult], codec_bytes: int = 0) -> dict:
    """Totals as the challenge reports them, plus per-core throughput."""
    original = sum(r.original_bytes for r in results)
    compressed = sum(r.compressed_bytes for r in results)
    samples = sum(r.samples for r in results)
    enc = sum(r.encode_s for r in results)
    dec = sum(r.decode_s for r in results)
    return {
        "files": len(results),
        "original_bytes": original,
        "compressed_bytes": compressed,
        "ratio": original / compressed if compressed else 0.0,
        "ratio_with_codec_size": original / (compressed + codec_bytes) if compressed else 0.0,
        "codec_bytes": codec_bytes,
        # files that could not be read or parsed are errors, not lossless failures of the codec
        "lossless": any(not r.error for r in results) and all(r.identical for r in results if not r.error),
        "failed": [r.file for r in results if not r.identical and not r.error],
        "errors": [r.file for r in results if r.error],
        "samples": samples,
        "encode_s": enc,
        "decode_s": dec,
        "encode_msamples_per_s": samples / enc / 1e6 if enc else 0.0,
        "decode_msamples_per_s": samples / dec / 1e6 if dec else 0.0,
    }


def codec_size_bytes(codec: str = api.DEFAULT_CODEC) -> int:
    """Bytes of what a challenge entry ships: the launchers and the source the codec runs on.

    The challenge lists ratios that also count the encoder and decoder.  Ours are two small
    launchers that import this package; counted are its top-level modules, ``io/``, ``entropy/``
    and the package of ``codec`` (not the other codec families, which they never load).
    """
    from .challenge import launcher_bytes

    root = Path(__file__).resolve().parent
    module = api.registry.codec_class(codec).__module__.split(".")
    folders = [root / "io", root / "entropy"] + ([root / module[1]] if len(module) > 2 else [])
    files = list(root.glob("*.py")) + [f for d in folders for f in d.rglob("*") if f.suffix in (".py", ".json")]
    return launcher_bytes() + sum(f.stat().st_size for f in files if "__pycache__" not in f.parts)


_CSV_FIELDS = ["file", "original_bytes", "compressed_bytes", "encode_s", "decode_s", "identical", "samples", "error"]


def _csv_row(r: FileResult) -> dict:
    row = asdict(r)
    row["encode_s"] = f"{r.encode_s:.6f}"
    row["decode_s"] = f"{r.decode_s:.6f}"
    return row


def write_csv(results: list[FileResult], path) -> None:
    """Per-file results as CSV, written atomically."""
    from .io.atomic import write_atomic

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        writer.writerow(_csv_row(r))
    write_atomic(path, buf.getvalue().encode())


class CsvLog:
    """Per-file results as CSV, one row written (and flushed) as each file finishes.

    Opened before the run starts, so an unwritable path fails at once, and an interrupted run
    leaves every row measured so far.  Use as a context manager; :meth:`write` is the
    ``on_result`` of :func:`evaluate`.
    """

    def __init__(self, path):
        self.path = path
        try:
            self._file = open(path, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise NeurocodecError(f"cannot write the CSV {path}: {exc.strerror or exc}") from None
        self._writer = csv.DictWriter(self._file, fieldnames=_CSV_FIELDS, lineterminator="\n")
        self._writer.writeheader()
        self._file.flush()

    def write(self, result: FileResult) -> None:
        self._writer.writerow(_csv_row(result))
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def default_jobs() -> int:
    """Worker processes of ``eval`` by default: one per available core."""
    from .parallel import available_cores

    return available_cores()
