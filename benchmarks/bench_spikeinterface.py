"""SpikeInterface zarr recordings: the waveform codec against SpikeInterface's default compressor
and WavPack, in one run.

    python benchmarks/bench_spikeinterface.py [--files 64] [--data ../shared/data/neuralink-dev]

The first ``--files`` challenge recordings (sorted by name), each cut to the shortest of them,
become the channels of one recording; each compressor saves it with
``recording.save(format="zarr", compressor=...)`` and the recording read back with
``spikeinterface.read_zarr`` is compared sample for sample.  Ratio = raw int16 bytes / bytes of the
``traces_seg0`` dataset on disk; times are CPU seconds of the save (SpikeInterface's ``n_jobs=1``).
Needs the ``spikeinterface`` extra; WavPack is the ``wavpack`` extra (listed unavailable without it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import spikeinterface.core as si

from neurocodec.io import wav
from neurocodec.waveform import WaveformCodec


def _traces(folder: Path, n: int) -> np.ndarray:
    files = sorted(folder.glob("*.wav"))[:n]
    signals = [wav.parse(f.read_bytes(), f.name).samples for f in files]
    length = min(s.shape[0] for s in signals)
    return np.stack([s[:length] for s in signals], axis=1)


def _compressors() -> list[tuple[str, object]]:
    out = [("neurocodec waveform max", WaveformCodec()), ("neurocodec waveform fast", WaveformCodec("fast")),
           ("SpikeInterface default (Blosc zstd 5, bit shuffle)", si.get_default_zarr_compressor())]
    try:
        from wavpack_numcodecs import WavPack
    except ImportError:
        out.append(("WavPack", None))
    else:
        out.append(("WavPack (level 2)", WavPack(level=2)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "neuralink-dev"))
    args = ap.parse_args()
    traces = _traces(Path(args.data), args.files)
    rec = si.NumpyRecording([traces], sampling_frequency=19531.0)
    print(f"{traces.shape[1]} channels x {traces.shape[0]} samples int16 ({traces.nbytes:,} bytes) from {args.data}")
    print("| compressor | ratio | save CPU s | exact |")
    print("|---|---|---|---|")
    WaveformCodec().decode(WaveformCodec().encode(traces[:1000]))  # kernels loaded before timing
    WaveformCodec("fast").decode(WaveformCodec("fast").encode(traces[:1000]))
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, compressor) in enumerate(_compressors()):
            if compressor is None:
                print(f"| {name} | unavailable (pip install \"neurocodec[wavpack]\") | | |")
                continue
            folder = Path(tmp) / f"r{i}.zarr"
            t0 = time.process_time()
            rec.save(folder=folder, format="zarr", compressor=compressor, n_jobs=1, progress_bar=False)
            cpu = time.process_time() - t0
            stored = sum(f.stat().st_size for f in (folder / "traces_seg0").rglob("*") if f.is_file()
                         and not f.name.startswith("."))
            exact = bool(np.array_equal(si.read_zarr(folder).get_traces(), traces))
            print(f"| {name} | {traces.nbytes / stored:.4f} | {cpu:.2f} | {exact} |", flush=True)


if __name__ == "__main__":
    main()
