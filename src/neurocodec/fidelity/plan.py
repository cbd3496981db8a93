"""Link budgets for an implant's radio: which mode fits how many channels at what power.

Per mode the bits per second per channel come from measurements: on the data given, or from the
bundled figures (``data/plan_figures.json``: measured on the Neuralink dev recordings, the file
names the command and the data's SHA-256).  Waveform modes scale with the sample rate (bits per
sample x rate); events-only and MUA scale with the spike rate, not the sample rate, so their
bits/s carry over unchanged.
"""

from __future__ import annotations

import json
import math
from importlib import resources

import numpy as np

from ..errors import InvalidConfigError
from . import rd

FIGURES = "plan_figures.json"
PLAN_NEAR = (1, 2, 4)
MUA_S, MUA_BIN_MS = 3, 50


def bundled_figures() -> dict:
    """The figures shipped with the package (see the module docstring)."""
    return json.loads(resources.files("neurocodec.fidelity").joinpath("data", FIGURES).read_text())


def _mua_row(files) -> dict:
    from ..io import wav
    from ..mua import MUACodec, bin_waveforms

    parsed = [wav.read(f) for f in files]
    n = min(p.samples.shape[0] for p in parsed)
    rate = parsed[0].rate
    x = np.stack([p.samples[:n] for p in parsed], axis=1)
    counts = bin_waveforms(x, rate, MUA_BIN_MS)
    payload = MUACodec(S=MUA_S, bin_ms=MUA_BIN_MS).encode(counts.astype(np.int64))
    seconds = counts.shape[0] * MUA_BIN_MS / 1000.0
    return {"mode": f"MUA S={MUA_S} {MUA_BIN_MS} ms", "family": "mua", "scales_with": "spike rate",
            "bits_per_s_per_channel": 8 * len(payload) / seconds / x.shape[1],
            "note": f"{x.shape[1]} recordings stacked as channels, {seconds:g} s, SCLV Huffman"}


def measure(files, *, near=PLAN_NEAR, targets=rd.HYBRID_TARGETS, progress: bool = False) -> dict:
    """Figures for :func:`table`, measured on ``files`` (sizes only, no fidelity)."""
    modes = rd.default_modes(near=(0,) + tuple(near), targets=targets, baselines=False)
    rows = rd.run(files, modes, progress=progress, fidelity=False)
    out = []
    for r in rows:
        if "unavailable" in r:
            out.append({"mode": r["mode"], "family": r["family"], "unavailable": r["unavailable"]})
            continue
        scales = "spike rate" if r["family"] == "events" else "sample rate"
        out.append({"mode": r["mode"], "family": r["family"], "scales_with": scales,
                    "bits_per_sample": r["bits_per_sample"], "bits_per_s_per_channel": r["bits_per_s_per_channel"],
                    "note": r["note"]})
    out.append(_mua_row(files))
    from ..io import wav

    return {"sample_rate": wav.read(files[0]).rate, "files": len(files), "modes": out}


def table(figures: dict, channels, sample_rate: float, uplink: float, nj_per_bit: float = 20.0) -> list[dict]:
    """One row per (mode, channel count): bits/s/channel, total Mbit/s, fits, radio mW, most channels that fit."""
    if not sample_rate > 0 or not uplink > 0 or not nj_per_bit >= 0:
        raise InvalidConfigError("sample rate and uplink must be positive, nJ/bit non-negative")
    channels = [int(c) for c in channels]
    if not channels or min(channels) < 1:
        raise InvalidConfigError(f"channel counts must be >= 1, got {channels}")
    rows = []
    for m in figures["modes"]:
        if "unavailable" in m:
            rows.append({"mode": m["mode"], "unavailable": m["unavailable"]})
            continue
        if m["scales_with"] == "sample rate":
            per_ch = m["bits_per_sample"] * sample_rate
        else:
            per_ch = m["bits_per_s_per_channel"]
        for n in channels:
            total = per_ch * n
            rows.append({"mode": m["mode"], "channels": n, "bits_per_s_per_channel": per_ch,
                         "total_mbit_s": total / 1e6, "fits": total <= uplink,
                         "radio_mw": total * nj_per_bit * 1e-9 * 1e3,
                         "max_channels": int(math.floor(uplink / per_ch)) if per_ch > 0 else None})
    return rows


def format_table(rows, uplink: float, nj_per_bit: float) -> str:
    lines = [f"uplink {uplink / 1e6:g} Mbit/s, radio {nj_per_bit:g} nJ/bit",
             f"{'mode':<32} {'channels':>8} {'bit/s/ch':>10} {'Mbit/s':>9} {'fits':>5} {'radio mW':>9} {'max ch':>8}",
             "-" * 88]
    for r in rows:
        if "unavailable" in r:
            lines.append(f"{r['mode']:<32} unavailable: {r['unavailable']}")
            continue
        lines.append(f"{r['mode']:<32} {r['channels']:>8} {r['bits_per_s_per_channel']:>10.1f} "
                     f"{r['total_mbit_s']:>9.3f} {'yes' if r['fits'] else 'no':>5} {r['radio_mw']:>9.3f} "
                     f"{r['max_channels'] if r['max_channels'] is not None else '-':>8}")
    return "\n".join(lines)

