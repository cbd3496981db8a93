"""Arguments that fit neurocodec into other packages' storage calls.

SpikeInterface's ``recording.save(format="zarr", compressor=...)`` hands ``compressor`` every
dataset it writes, the float64 time vector of a recording that has one included; neurocodec's
waveform codec stores integer samples only, so the times need a compressor of their own, which SI
takes per dataset (``compressor_by_dataset``).  :func:`spikeinterface_zarr_kwargs` gives both::

    import neurocodec.interop
    recording.save(folder="rec.zarr", format="zarr", **neurocodec.interop.spikeinterface_zarr_kwargs())
    spikeinterface.read_zarr("rec.zarr")       # same traces, same times, bit for bit
"""

from __future__ import annotations


def spikeinterface_zarr_kwargs(preset: str = "max", *, times_compressor="zstd", **config) -> dict:
    """``recording.save(format="zarr", **kwargs)`` arguments: the waveform codec for the traces, and
    a lossless general compressor for the time vectors (``"zstd"``: numcodecs Zstd level 3; ``None``
    stores them uncompressed; or any numcodecs codec).

    Traces must be int16 or int32 (the waveform codec's input); ``config`` goes to the codec.
    """
    import numcodecs

    from .waveform import WaveformCodec

    if times_compressor == "zstd":
        times_compressor = numcodecs.Zstd(level=3)
    return {"compressor": WaveformCodec(preset=preset, **config),
            "compressor_by_dataset": {"times": times_compressor}}
