"""A radio link in software: multi-channel stream from recordings -> encoder -> lossy channel -> decoder.

:func:`simulate` codes a (T, C) recording frame by frame, passes each packet through a
:class:`LossyChannel` (random and burst drops, bit flips, truncation, duplicates, reordering; all
seeded), decodes what arrives and checks every delivered sample against the original (exactly, or
within ``near`` levels), that every missing sample was reported, and that the decoder is back in
step at the first sync packet after every loss.  Per-packet times are CPU time of the calling
thread (``time.thread_time_ns``), so other processes on the machine inflate them only through
shared caches and cores; the report states the load average beside them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ..errors import InvalidConfigError, NeurocodecError
from ..io import wav
from ..waveform.levels import LADDER_INDEX
from .codec import RAW, SYNC, StreamDecoder, StreamEncoder


class TiledRecording:
    """Channels built from single-electrode recordings: channel ``c`` is recording ``c % n`` shifted
    in time by ``(c // n) * shift`` samples (circularly), so 195 files make 1024 distinct channels."""

    def __init__(self, recordings: list[np.ndarray], channels: int, shift: int = 997):
        if not recordings:
            raise InvalidConfigError("no recordings to build a stream from")
        length = min(r.size for r in recordings)
        if length == 0:
            raise InvalidConfigError("a recording holds no samples")
        self.length = length
        self.channels = channels
        self._data = np.stack([np.asarray(r[:length], dtype=np.int16) for r in recordings])
        c = np.arange(channels)
        self._rec = c % len(recordings)
        self._shift = (c // len(recordings)) * shift % length

    def frame(self, start: int, n: int) -> np.ndarray:
        """Samples ``start .. start + n - 1`` of every channel, shape (n, channels)."""
        t = (start + np.arange(n)[:, None] + self._shift[None, :]) % self.length
        return self._data[self._rec[None, :], t]


def load_folder(path) -> tuple[list[np.ndarray], int]:
    """The mono int16 WAVs of a folder (sorted by name) and their common sample rate."""
    folder = Path(path)
    if not folder.is_dir():
        raise InvalidConfigError(f"{folder} is not a folder of WAV files")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".wav")
    if not files:
        raise InvalidConfigError(f"no .wav files in {folder}")
    recordings, rates = [], set()
    for f in files:
        parsed = wav.parse(f.read_bytes(), str(f))
        if parsed.samples.ndim != 1 or parsed.samples.dtype != np.int16:
            raise InvalidConfigError(f"{f}: expected a mono 16-bit WAV (one electrode per file)")
        recordings.append(parsed.samples)
        rates.add(parsed.rate)
    if len(rates) != 1:
        raise InvalidConfigError(f"the WAVs in {folder} have different sample rates: {sorted(rates)}")
    return recordings, rates.pop()


class LossyChannel:
    """Seeded packet damage: independent drops (``loss``), bursts of ``burst`` consecutive drops
    starting once every ``burst_every`` packets on average, and per packet a bit flip or truncation
    (``corrupt``), a second copy (``duplicate``) or a swap with the next packet (``reorder``)."""

    def __init__(self, loss: float = 0.0, burst: int = 0, burst_every: int = 1000, corrupt: float = 0.0,
                 duplicate: float = 0.0, reorder: float = 0.0, seed: int = 0):
        for name, p in (("loss", loss), ("corrupt", corrupt), ("duplicate", duplicate), ("reorder", reorder)):
            if not 0.0 <= p <= 1.0:
                raise InvalidConfigError(f"{name} must be a probability in [0, 1], got {p}")
        if burst < 0 or burst_every < 1:
            raise InvalidConfigError("burst must be >= 0 packets and burst_every >= 1 packet")
        self.loss, self.burst, self.burst_every = loss, burst, burst_every
        self.corrupt, self.duplicate, self.reorder = corrupt, duplicate, reorder
        self._rng = np.random.default_rng(seed)
        self._burst_left = 0
        self._held: bytes | None = None
        self.dropped = self.damaged = self.duplicated = self.reordered = 0

    def send(self, packet: bytes) -> list[bytes]:
        """The packets the receiver gets now (none, this one, or a held one too)."""
        rng = self._rng
        if self.burst and self._burst_left == 0 and rng.random() < 1.0 / self.burst_every:
            self._burst_left = self.burst
        if self._burst_left:
            self._burst_left -= 1
            self.dropped += 1
            return self._release([])
        if rng.random() < self.loss:
            self.dropped += 1
            return self._release([])
        if rng.random() < self.corrupt:
            self.damaged += 1
            if rng.random() < 0.5:
                packet = packet[:int(rng.integers(0, len(packet)))]
            else:
                bit = int(rng.integers(0, 8 * len(packet)))
                damaged = bytearray(packet)
                damaged[bit >> 3] ^= 1 << (bit & 7)
                packet = bytes(damaged)
        out = [packet]
        if rng.random() < self.duplicate:
            self.duplicated += 1
            out.append(packet)
        if self._held is None and rng.random() < self.reorder:
            self.reordered += 1
            self._held = packet
            return out[1:]
        return self._release(out)

    def _release(self, out: list[bytes]) -> list[bytes]:
        if self._held is not None and out:
            out.append(self._held)
            self._held = None
        return out

    def flush(self) -> list[bytes]:
        held, self._held = self._held, None
        return [] if held is None else [held]


def _percentiles(us: np.ndarray) -> dict:
    if us.size == 0:
        return {"p50": 0.0, "p99": 0.0, "p99.9": 0.0, "max": 0.0}
    return {"p50": float(np.percentile(us, 50)), "p99": float(np.percentile(us, 99)),
            "p99.9": float(np.percentile(us, 99.9)), "max": float(us.max())}


def _codes(samples: np.ndarray, ladder: bool) -> np.ndarray:
    return LADDER_INDEX[samples.astype(np.int64) + 32768] if ladder else samples.astype(np.int64)


def simulate(source: TiledRecording, sample_rate: int, *, frame_ms: float = 1.0, sync_ms: float = 100.0,
             preset: str = "fast", near: int = 0, seconds: float | None = None, channel: LossyChannel | None = None,
             warmup: int = 5, progress=None) -> dict:
    """Stream ``source`` through encoder, ``channel`` and decoder; the report :func:`format_report` prints.

    ``warmup`` packets are left out of the timing statistics (the first calls compile or load the
    kernels).
    """
    frame = max(1, round(frame_ms * sample_rate / 1000))
    channels = source.channels
    ladder = bool(np.all(LADDER_INDEX[source.frame(0, min(source.length, 4096)).astype(np.int64) + 32768] >= 0))
    levels = "ladder" if ladder else (-32768, 32767)
    enc = StreamEncoder(channels, sample_rate, frame, preset=preset, near=near, sync_ms=sync_ms, levels=levels)
    header = enc.header()
    dec = StreamDecoder(header)
    channel = channel or LossyChannel()
    total = source.length if seconds is None else min(source.length, int(round(seconds * sample_rate)))
    n_packets = total // frame
    if n_packets == 0:
        raise InvalidConfigError(f"{total} samples make no frame of {frame} samples")
    enc_ns = np.zeros(n_packets, dtype=np.int64)
    sizes = np.zeros(n_packets, dtype=np.int64)
    kinds = np.zeros(n_packets, dtype=np.int8)
    dec_ns: list[int] = []
    delivered = np.zeros(n_packets, dtype=np.int64)  # times each packet's samples were handed out
    resync_missed = wrong = 0
    worst = 0
    load_before = os.getloadavg()

    def receive(packet: bytes) -> None:
        nonlocal wrong, worst, resync_missed
        t0 = time.thread_time_ns()
        got = dec.receive(packet)
        dec_ns.append(time.thread_time_ns() - t0)
        if got.status == "decoded":
            s = got.seq
            delivered[s] += 1
            original = source.frame(s * frame, frame)
            if near:
                err = int(np.abs(_codes(got.samples, ladder) - _codes(original, ladder)).max())
                worst = max(worst, err)
                wrong += int(err > near)
            else:
                wrong += int(np.count_nonzero(got.samples != original))
        elif got.status == "lost" and got.seq is not None and kinds[got.seq] in (SYNC, RAW) \
                and packet == sent.get(got.seq):
            # an intact sync packet the decoder failed to resume at
            resync_missed += 1

    sent: dict[int, bytes] = {}
    for s in range(n_packets):
        samples = np.ascontiguousarray(source.frame(s * frame, frame))
        t0 = time.thread_time_ns()
        packet = enc.encode(samples)
        enc_ns[s] = time.thread_time_ns() - t0
        sizes[s] = len(packet)
        kinds[s] = packet[0]
        sent[s] = packet
        for arrived in channel.send(packet):
            receive(arrived)
        sent.pop(s - 64, None)  # a reordered packet is held back a few packets at most
        if progress is not None and s % 100 == 0:
            progress(s, n_packets)
    for arrived in channel.flush():
        receive(arrived)
    dec.finish(n_packets)
    load_after = os.getloadavg()

    lost = np.zeros(n_packets, dtype=np.int64)
    for first, end in dec.lost_ranges:
        lost[first // frame:end // frame] += 1
    unreported = int(np.count_nonzero((delivered == 0) & (lost == 0)))
    twice = int(np.count_nonzero(delivered + lost > 1))
    duration = n_packets * frame / sample_rate
    stream_bytes = len(header) + int(sizes.sum())
    dec_us = np.array(dec_ns[warmup:], dtype=np.float64) / 1e3
    enc_us = enc_ns[warmup:].astype(np.float64) / 1e3
    frame_s = frame / sample_rate
    enc_p = _percentiles(enc_us)
    dec_p = _percentiles(dec_us)
    return {
        "channels": channels, "sample_rate": sample_rate, "frame_samples": frame, "frame_ms": 1000 * frame_s,
        "preset": preset, "near": near, "sync_ms": sync_ms, "sync_interval_packets": enc.sync_packets,
        "seconds": duration, "packets": n_packets, "header_bytes": len(header), "stream_bytes": stream_bytes,
        "largest_packet": int(sizes.max()), "max_packet_bound": enc.config.max_packet,
        "sync_packets_sent": int(np.count_nonzero(kinds == SYNC)),
        "raw_packets_sent": int(np.count_nonzero(kinds == RAW)),
        "ratio": 2 * n_packets * frame * channels / stream_bytes,
        "mbit_s": 8 * stream_bytes / duration / 1e6,
        "bits_per_s_per_channel": 8 * stream_bytes / duration / channels,
        "encode_us": enc_p, "decode_us": dec_p,
        "realtime_channels": {preset: _realtime(channels, frame_s, enc_p["p99"], dec_p["p99"])},
        "load_average": [round(x, 2) for x in (*load_before, *load_after)],
        "channel": {"dropped": channel.dropped, "damaged": channel.damaged, "duplicated": channel.duplicated,
                    "reordered": channel.reordered},
        "decoder": dict(dec.counts),
        "packets_delivered": int(np.count_nonzero(delivered)),
        "packets_lost": int(np.count_nonzero(lost)),
        "samples_lost": int(np.count_nonzero(lost)) * frame * channels,
        "wrong_samples": wrong, "max_error": worst if near else 0,
        "unreported_packets": unreported, "packets_counted_twice": twice, "resync_missed": resync_missed,
        "bits_per_packet": (8 * sizes).tolist(),
        "encode_us_all": enc_us.tolist(), "decode_us_all": dec_us.tolist(),
    }


def _realtime(channels: int, frame_s: float, enc_p99_us: float, dec_p99_us: float) -> int:
    """Channels one core codes in real time at the measured p99, taking cost as linear in channels."""
    slowest = max(enc_p99_us, dec_p99_us) * 1e-6
    return int(channels * frame_s / slowest) if slowest > 0 else 0


def timing_only(source: TiledRecording, sample_rate: int, preset: str, *, frame_ms: float = 1.0,
                sync_ms: float = 100.0, near: int = 0, packets: int = 200, warmup: int = 5) -> int:
    """Real-time channel count of ``preset`` from a short lossless-channel run (for the other preset)."""
    seconds = (packets + warmup) * max(1, round(frame_ms * sample_rate / 1000)) / sample_rate
    report = simulate(source, sample_rate, frame_ms=frame_ms, sync_ms=sync_ms, preset=preset, near=near,
                      seconds=seconds, warmup=warmup)
    if report["wrong_samples"] or report["packets_lost"]:
        raise NeurocodecError("timing run delivered wrong or lost samples on a perfect channel")
    return report["realtime_channels"][preset]


def format_report(r: dict) -> str:
    e, d = r["encode_us"], r["decode_us"]
    lines = [
        f"stream: {r['channels']} channels x {r['sample_rate']} Hz, {r['frame_samples']}-sample frames "
        f"({r['frame_ms']:.3f} ms), preset {r['preset']}, near {r['near']}, sync every {r['sync_ms']:g} ms "
        f"({r['sync_interval_packets']} packets), {r['seconds']:.2f} s, {r['packets']} packets",
        f"rate:   {r['mbit_s']:.2f} Mbit/s total, {r['bits_per_s_per_channel']:.0f} bit/s/channel, ratio "
        f"{r['ratio']:.4f} (16-bit samples / {r['stream_bytes']} bytes incl. the {r['header_bytes']}-byte header)",
        f"        {r['sync_packets_sent']} sync and {r['raw_packets_sent']} raw packets; largest "
        f"{r['largest_packet']} bytes (bound {r['max_packet_bound']})",
        f"encode: per packet p50 {e['p50']:.0f} us, p99 {e['p99']:.0f} us, p99.9 {e['p99.9']:.0f} us, "
        f"max {e['max']:.0f} us (thread CPU time)",
        f"decode: per packet p50 {d['p50']:.0f} us, p99 {d['p99']:.0f} us, p99.9 {d['p99.9']:.0f} us, "
        f"max {d['max']:.0f} us",
        "real time on one core (p99): " + ", ".join(f"{k} {v} channels" for k, v in r["realtime_channels"].items())
        + f"  (load average before/after {r['load_average']})",
        f"link:   dropped {r['channel']['dropped']}, damaged {r['channel']['damaged']}, duplicated "
        f"{r['channel']['duplicated']}, reordered {r['channel']['reordered']}; decoder {r['decoder']}",
        f"loss:   {r['packets_lost']} packets ({r['samples_lost']} samples) reported lost, "
        f"{r['packets_delivered']} delivered",
        f"check:  {r['wrong_samples']} wrong samples delivered"
        + (f" (max error {r['max_error']} <= {r['near']})" if r["near"] else "")
        + f", {r['unreported_packets']} unreported losses, {r['packets_counted_twice']} counted twice, "
        f"{r['resync_missed']} missed resyncs",
    ]
    return "\n".join(lines)


def ok(r: dict) -> bool:
    """Every delivered sample right, every loss reported once, every sync after a loss taken."""
    return not (r["wrong_samples"] or r["unreported_packets"] or r["packets_counted_twice"] or r["resync_missed"])


def plot(r: dict, path) -> None:
    """Latency distributions and bit rate over time, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidConfigError("--plot needs matplotlib (pip install matplotlib)") from None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    budget = r["frame_ms"] * 1000
    for key, label in (("encode_us_all", "encode"), ("decode_us_all", "decode")):
        us = np.asarray(r[key])
        if us.size:
            ax1.hist(us, bins=80, histtype="step", label=f"{label} (p99 {np.percentile(us, 99):.0f} us)")
    ax1.axvline(budget, color="k", linestyle="--", label=f"frame ({budget:.0f} us)")
    ax1.set_xlabel("CPU time per packet (us)")
    ax1.set_ylabel("packets")
    ax1.set_yscale("log")
    ax1.legend()
    bits = np.asarray(r["bits_per_packet"], dtype=np.float64)
    per = max(1, int(round(0.01 / (r["frame_ms"] / 1000))))  # 10 ms windows
    n = bits.size // per
    if n:
        rate = bits[: n * per].reshape(n, per).sum(axis=1) / (per * r["frame_ms"] / 1000) / 1e6
        ax2.plot(np.arange(n) * per * r["frame_ms"] / 1000, rate)
    ax2.set_xlabel("time (s)")
    ax2.set_ylabel("Mbit/s (10 ms windows)")
    ax2.set_title(f"{r['channels']} channels, {r['preset']}, sync {r['sync_ms']:g} ms")
    fig.tight_layout()
    from io import BytesIO

    from ..io.atomic import write_atomic

    out = BytesIO()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    write_atomic(path, out.getvalue())
