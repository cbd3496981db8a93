"""Real-time stream: one packet per frame of ``frame_samples`` x ``channels`` int16 samples.

Layout (little-endian; FORMAT.md section 4 is normative)::

    stream header (HEADER_SIZE bytes, sent once and with every (re)connection)
      4  magic b"NCST"         1  version (1)          1  flags: bit 0 near-lossless
      2  channels              4  sample rate (Hz)     2  frame samples
      1  parameter set id      1  LPC order (max)      2  near
      2  sync interval (packets, steady state)         2  refit interval (packets)
      1  level map: 0 ladder, 2 offset                 2  offset map low (i16)  2  offset map high (i16)
      4  largest packet (bytes)                        4  CRC-32 of the 31 bytes before
    packet
      1  kind: 0 coded, 1 coded sync, 2 raw        4  sequence number      4  payload length n
      n  payload                                   4  CRC-32 of the 9 + n bytes before, seeded
                                                      with the header's CRC
    coded payload
      [sync]  4 table id (the sequence number of the sync packet that introduced the predictor
              table in force), 1 table follows (0 or 1); [table] C orders (u8), C mean levels
              (u16), C shifts (u8), then every channel's coefficients (i16), channel after channel
      4       coded length m, then m bytes of the waveform coder (all channels in turn), then the
              fast coder's raw bits to the end of the payload
    raw payload: the frame's samples as int16, row (time) after row

The predictor and coder are the file codec's (:func:`neurocodec.waveform._kernels.coder`): model
and per-channel state carry over from packet to packet; a sync packet resets both (the model to
the parameter set's prior, each history to its channel's mean), so a decoder that missed packets
resumes there.  The predictor table (LPC coefficients and means, fitted on past samples only) changes
less often than syncs come: a new table rides on the first ``TABLE_COPIES`` syncs after a refit and
later syncs name it by id, which keeps syncs cheap (a model reset costs ~1.3 % of one packet).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from ..errors import (
    CorruptStreamError,
    InvalidConfigError,
    NeurocodecError,
    TruncatedStreamError,
    UnsupportedVersionError,
)
from ..waveform import _kernels as WK
from ..waveform import lossless
from ..waveform.levels import LADDER_INDEX, LADDER_VALUES
from . import _kernels as K

MAGIC = b"NCST"
VERSION = 1
FLAG_NEAR = 1
_HEADER = struct.Struct("<4sBBHIHBBHHHBhhI")
HEADER_SIZE = _HEADER.size + 4
_PACKET = struct.Struct("<BII")
PACKET_HEAD = _PACKET.size
PACKET_OVERHEAD = PACKET_HEAD + 4
CODED, SYNC, RAW = 0, 1, 2
MAP_LADDER, MAP_OFFSET = 0, 2

MAX_CHANNELS = 65535
#: Samples in one frame, bounding what a header can make a decoder allocate (16 MiB of levels).
MAX_FRAME = 1 << 21
MAX_ORDER = 32
MAX_NEAR = 32767
#: LPC order per preset: fast gains 0.3 % from a second coefficient (measured on the dev set);
#: max loses 0.1 % at order 8 against 16 but halves the coefficients every sync packet carries.
ORDERS = {"fast": 2, "max": 8}
#: Samples per channel the LPC fit weighs fully (3.4 s at 19531 Hz): on the dev set a window this long
#: fits better than one sync interval's worth (sync_ms=100: ratio 3.386 against 3.304).
FIT_WINDOW = 1 << 16
#: Sync packets that carry a new predictor table: a decoder that lost the first still resumes at the second.
TABLE_COPIES = 2
#: Delivered sequence numbers remembered to tell a duplicate from a late packet.
_RECENT = 4096


class PacketLossError(NeurocodecError):
    """A sound packet the decoder cannot decode: packets before it were lost and no sync has come since."""

    def __init__(self, message: str, received: "Received"):
        super().__init__(message)
        self.received = received


class PacketOrderError(NeurocodecError):
    """A duplicated or late (reordered) packet: its sequence number is behind the decoder's."""

    def __init__(self, message: str, received: "Received"):
        super().__init__(message)
        self.received = received


class _MissingTable(NeurocodecError):
    """A sound sync packet naming a predictor table this decoder never received."""


@dataclass
class Received:
    """What one packet brought: samples, or why not, and the sample ranges newly known to be lost.

    ``status``: ``"decoded"`` (``samples`` is the (frame_samples, channels) frame starting at sample
    ``start``), ``"lost"`` (a sound packet that cannot be decoded until the next sync; its own range
    is in ``lost``), ``"duplicate"``, ``"late"`` (behind the decoder, already reported lost),
    ``"corrupt"`` or ``"truncated"`` (failed its checks; its range is reported when the next sound
    packet shows the gap).  ``lost`` lists half-open ranges ``[first, end)`` of stream sample
    indices (all channels).
    """

    status: str
    seq: int | None = None
    start: int | None = None
    samples: np.ndarray | None = None
    lost: list = field(default_factory=list)
    message: str = ""


class StreamConfig:
    """The stream's configuration, as its header states it."""

    __slots__ = ("channels", "sample_rate", "frame_samples", "set_id", "order", "near", "sync_packets",
                 "refit_packets", "map_kind", "map_lo", "map_hi", "max_packet", "crc")

    def __init__(self, channels, sample_rate, frame_samples, set_id, order, near, sync_packets, refit_packets,
                 map_kind, map_lo, map_hi):
        self.channels = channels
        self.sample_rate = sample_rate
        self.frame_samples = frame_samples
        self.set_id = set_id
        self.order = order
        self.near = near
        self.sync_packets = sync_packets
        self.refit_packets = refit_packets
        self.map_kind = map_kind
        self.map_lo = map_lo
        self.map_hi = map_hi
        # a coded packet goes out only when, leaving aside a predictor table it carries, it is smaller
        # than the raw one: a full table plus just under a raw frame's bytes is the worst case
        self.max_packet = PACKET_OVERHEAD + 2 * channels * frame_samples + channels * (4 + 2 * order)
        self.crc = 0

    @property
    def levels(self) -> int:
        return LADDER_VALUES.size if self.map_kind == MAP_LADDER else self.map_hi - self.map_lo + 1

    @property
    def preset(self) -> str:
        return next(name for name, (sid, _) in lossless.PRESETS.items() if sid == self.set_id)

    def describe(self) -> dict:
        """The configuration as JSON-able fields (what ``neurocodec stream inspect`` prints)."""
        return {"version": VERSION, "channels": self.channels, "sample_rate": self.sample_rate,
                "frame_samples": self.frame_samples, "preset": self.preset, "lpc_order": self.order,
                "lossless": self.near == 0, "near": self.near, "sync_interval_packets": self.sync_packets,
                "refit_interval_packets": self.refit_packets,
                "level_map": "ladder" if self.map_kind == MAP_LADDER else f"offset [{self.map_lo}, {self.map_hi}]",
                "largest_packet": self.max_packet}

    def pack(self) -> bytes:
        body = _HEADER.pack(MAGIC, VERSION, FLAG_NEAR if self.near else 0, self.channels, self.sample_rate,
                            self.frame_samples, self.set_id, self.order, self.near, self.sync_packets,
                            self.refit_packets, self.map_kind, self.map_lo, self.map_hi, self.max_packet)
        self.crc = zlib.crc32(body)
        return body + struct.pack("<I", self.crc)

    @classmethod
    def parse(cls, header: bytes) -> "StreamConfig":
        header = bytes(header)
        if len(header) < HEADER_SIZE:
            raise TruncatedStreamError(f"stream header holds {len(header)} bytes, needs {HEADER_SIZE}")
        if header[:4] != MAGIC:
            raise CorruptStreamError(f"not a neurocodec stream header: magic {header[:4]!r}, expected {MAGIC!r}")
        (magic, version, flags, channels, rate, frame, set_id, order, near, sync_packets, refit_packets, map_kind,
         lo, hi, max_packet) = _HEADER.unpack_from(header)
        (crc,) = struct.unpack_from("<I", header, _HEADER.size)
        if zlib.crc32(header[:_HEADER.size]) != crc:
            raise CorruptStreamError("stream header CRC mismatch")
        if version != VERSION:
            raise UnsupportedVersionError(f"stream version {version}, this build reads {VERSION}")
        if len(header) != HEADER_SIZE:
            raise CorruptStreamError(f"{len(header) - HEADER_SIZE} unexpected bytes after the stream header")
        if flags & ~FLAG_NEAR or bool(flags & FLAG_NEAR) != bool(near):
            raise CorruptStreamError(f"stream flags {flags:#x} disagree with near = {near}")
        try:
            config = _validated(channels, rate, frame, set_id, order, near, sync_packets, refit_packets, map_kind,
                                lo, hi)
        except InvalidConfigError as exc:
            raise CorruptStreamError(f"stream header: {exc}") from None
        if max_packet != config.max_packet:
            raise CorruptStreamError(f"stream header states packets up to {max_packet} bytes, "
                                     f"its configuration implies {config.max_packet}")
        config.crc = crc
        return config


def split_stream(data: bytes) -> tuple[StreamConfig, bytes, list[bytes]]:
    """A recorded stream (header, then packets back to back) cut into its header and packets.

    Only the framing is checked here (the packets' own checks are the decoder's).
    """
    data = bytes(data)
    config = StreamConfig.parse(data[:HEADER_SIZE])
    packets, pos = [], HEADER_SIZE
    while pos < len(data):
        if len(data) - pos < PACKET_HEAD:
            raise TruncatedStreamError(f"stream ends inside a packet's framing at byte {pos}")
        (n,) = struct.unpack_from("<I", data, pos + 5)
        if n > config.max_packet - PACKET_OVERHEAD:
            raise CorruptStreamError(f"packet at byte {pos} declares {n} payload bytes, the stream allows "
                                     f"{config.max_packet - PACKET_OVERHEAD}")
        if len(data) - pos < PACKET_OVERHEAD + n:
            raise TruncatedStreamError(f"stream ends inside the packet at byte {pos}")
        packets.append(data[pos:pos + PACKET_OVERHEAD + n])
        pos += PACKET_OVERHEAD + n
    return config, data[:HEADER_SIZE], packets


def _validated(channels, rate, frame, set_id, order, near, sync_packets, refit_packets, map_kind, lo,
               hi) -> StreamConfig:
    if not 1 <= channels <= MAX_CHANNELS:
        raise InvalidConfigError(f"channels must be in [1, {MAX_CHANNELS}], got {channels}")
    if not 1 <= rate < 1 << 32:
        raise InvalidConfigError(f"sample rate must be a positive integer below 2**32 Hz, got {rate}")
    if not 1 <= frame <= 65535 or frame * channels > MAX_FRAME:
        raise InvalidConfigError(f"frame of {frame} samples x {channels} channels: frame samples must be in "
                                 f"[1, 65535] and a frame at most {MAX_FRAME} samples")
    if set_id >= len(lossless.PARAM_SETS):
        raise InvalidConfigError(f"unknown parameter set {set_id}")
    if not 0 <= order <= MAX_ORDER:
        raise InvalidConfigError(f"LPC order must be in [0, {MAX_ORDER}], got {order}")
    if not 0 <= near <= MAX_NEAR:
        raise InvalidConfigError(f"near must be in [0, {MAX_NEAR}], got {near}")
    if not 1 <= sync_packets <= 65535:
        raise InvalidConfigError(f"sync interval must be 1 to 65535 packets, got {sync_packets}")
    if not 1 <= refit_packets <= 65535:
        raise InvalidConfigError(f"refit interval must be 1 to 65535 packets, got {refit_packets}")
    if map_kind == MAP_LADDER:
        if lo or hi:
            raise InvalidConfigError("the ladder level map takes no bounds")
    elif map_kind == MAP_OFFSET:
        if not -32768 <= lo < hi <= 32767:
            raise InvalidConfigError(f"offset level map needs -32768 <= low < high <= 32767, got [{lo}, {hi}]")
    else:
        raise InvalidConfigError(f"unknown level map kind {map_kind}")
    return StreamConfig(channels, rate, frame, set_id, order, near, sync_packets, refit_packets, map_kind, lo, hi)


def _int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidConfigError(f"{name} must be an integer, got {value!r}")
    return int(value)


class _Tables:
    """What both ends derive from a configuration: level tables, the kernel's fixed arguments."""

    def __init__(self, config: StreamConfig):
        c, top = config.channels, config.levels - 1
        if config.map_kind == MAP_LADDER:
            self.index = LADDER_INDEX
            self.values = LADDER_VALUES.astype(np.int16)
        else:
            self.index = np.full(1 << 16, -1, dtype=np.int64)
            self.index[config.map_lo + 32768:config.map_hi + 32769] = np.arange(config.levels)
            self.values = np.arange(config.map_lo, config.map_hi + 1, dtype=np.int16)
        self.lo = np.zeros(c, dtype=np.int64)
        self.hi = np.full(c, top, dtype=np.int64)
        # the kernel sizes its history by the coefficient table's width: the stream's order, not 32
        width = max(config.order, 1)
        self.coefs = np.zeros((c, width), dtype=np.int64)
        self.orders = np.zeros(c, dtype=np.int64)
        self.shifts = np.zeros(c, dtype=np.int64)
        self.means = np.zeros(c, dtype=np.int64)
        self.params = np.array(lossless.PARAM_SETS[config.set_id], dtype=np.int64)
        self.mixed = bool(self.params[WK.P_MIXED])
        self.prior = lossless.PRIORS[config.set_id]
        self.model = self.prior.copy()
        self.fresh_state = WK.new_state(c, width)
        self.state = self.fresh_state.copy()
        self.levels = np.zeros((c, config.frame_samples), dtype=np.int64)

    def reset(self) -> None:
        self.model[:] = self.prior
        self.state[:] = self.fresh_state


class StreamEncoder:
    """Codes one frame of ``(frame_samples, channels)`` int16 samples into one packet, as it arrives.

    ``preset``: ``"fast"`` or ``"max"`` (the file codec's parameter sets).  ``near``: every decoded
    sample within ``near`` levels of the original (0: lossless).  ``sync_ms``: the steady interval
    between sync packets, where a decoder that missed packets resumes; the first intervals are
    shorter (1, 2, 4, ... packets) so the predictor fitted on the past is soon a good one.
    ``refit_ms``: how often the LPC table is refitted (at the next sync; sooner at the start).
    ``levels``: ``"ladder"`` (the implant's 10-bit ADC codes) or ``(low, high)``, an offset map for
    other data; a frame with a sample off the map goes raw.  ``order``: LPC order (default per preset).

    Examples
    --------
    >>> import numpy as np
    >>> from neurocodec.stream import StreamEncoder, StreamDecoder
    >>> from neurocodec.waveform.levels import LADDER_VALUES
    >>> enc = StreamEncoder(channels=4, sample_rate=19531, frame_samples=20)
    >>> dec = StreamDecoder(enc.header())
    >>> frame = LADDER_VALUES[500 + np.arange(80).reshape(20, 4) % 7].astype(np.int16)
    >>> bool((dec.decode(enc.encode(frame)) == frame).all())
    True
    """

    def __init__(self, channels: int, sample_rate: int, frame_samples: int = 20, preset: str = "fast",
                 near: int = 0, sync_ms: float = 100.0, levels="ladder", order: int | None = None,
                 refit_ms: float = 1000.0):
        if preset not in lossless.PRESETS:
            raise InvalidConfigError(f"preset must be one of {sorted(lossless.PRESETS)}, got {preset!r}")
        channels, sample_rate = _int(channels, "channels"), _int(sample_rate, "sample_rate")
        frame_samples, near = _int(frame_samples, "frame_samples"), _int(near, "near")
        order = ORDERS[preset] if order is None else _int(order, "order")
        for name, ms in (("sync_ms", sync_ms), ("refit_ms", refit_ms)):
            if isinstance(ms, (bool, np.bool_)) or not isinstance(ms, (int, float, np.number)) or not ms > 0:
                raise InvalidConfigError(f"{name} must be a positive number, got {ms!r}")
        if frame_samples < 1 or sample_rate < 1:
            raise InvalidConfigError("frame_samples and sample_rate must be positive")
        sync_packets = max(1, round(sync_ms * sample_rate / (1000 * frame_samples)))
        refit_packets = max(1, round(refit_ms * sample_rate / (1000 * frame_samples)))
        if isinstance(levels, str) and levels == "ladder":
            kind, lo, hi = MAP_LADDER, 0, 0
        elif isinstance(levels, (tuple, list)) and len(levels) == 2:
            kind, lo, hi = MAP_OFFSET, _int(levels[0], "levels low"), _int(levels[1], "levels high")
        else:
            raise InvalidConfigError(f'levels must be "ladder" or (low, high), got {levels!r}')
        self.config = _validated(channels, sample_rate, frame_samples, lossless.PRESETS[preset][0], order, near,
                                 sync_packets, min(refit_packets, 65535), kind, lo, hi)
        self._header = self.config.pack()
        self._t = _Tables(self.config)
        self._kernel = WK.coder(self._t.mixed, False, bounded=self.config.near > 0)
        c, f = channels, frame_samples
        self._raw_payload = 2 * c * f
        # coded packets never reach the raw size: the buffers stop there and overflow means "send raw"
        self._buf = np.zeros(self.config.max_packet, dtype=np.uint8)
        self._rawbits = np.zeros(self._raw_payload + 8, dtype=np.uint8)
        lags = max(order, 1)
        self._tail = np.zeros((c, lags), dtype=np.int64)
        self._sums = np.zeros((c, 3, lags + 1), dtype=np.int64)
        self._pairs = np.zeros(lags + 1, dtype=np.int64)
        self._seen = 0
        self._seq = 0
        self._next_sync = 0
        self._interval = 1
        self._synced = False  # model and state are what the decoder holds since the last sync
        self._mask = np.arange(lags)[None, :]
        self._table_id: int | None = None
        self._table = b""
        self._refit_at = 0
        self._copies = 0

    @property
    def sync_packets(self) -> int:
        return self.config.sync_packets

    @property
    def max_error(self) -> int:
        """The bound on |decoded - original| in levels: 0 for lossless."""
        return self.config.near

    def header(self) -> bytes:
        """The stream header: configuration, largest packet, CRC (send it before the first packet)."""
        return self._header

    def encode(self, frame) -> bytes:
        """One packet for one ``(frame_samples, channels)`` int16 frame."""
        frame = np.asarray(frame)
        cfg = self.config
        if frame.dtype != np.int16 or frame.shape != (cfg.frame_samples, cfg.channels):
            raise InvalidConfigError(f"a frame is int16 of shape ({cfg.frame_samples}, {cfg.channels}), "
                                     f"got {frame.dtype} {frame.shape}")
        t = self._t
        seq = self._seq
        self._seq += 1
        on_map = K.frame_levels(frame, t.index, t.levels)
        sync = seq >= self._next_sync or not self._synced
        if sync:
            # refits come as often as the stream is old at the start (1, 2, 4, ... packets), then
            # every refit interval
            age = seq - self._refit_at
            if self._table_id is None or age >= min(cfg.refit_packets, max(1, self._refit_at)):
                # past samples only: the current frame joins the sums after the fit
                K.fit(self._sums, self._pairs, cfg.order, cfg.levels - 1, t.coefs, t.orders, t.shifts, t.means)
                self._table_id = seq & 0xFFFFFFFF
                self._table = self._side_info()
                self._refit_at = seq
                self._copies = TABLE_COPIES
            t.reset()
        if on_map:
            K.observe(t.levels, self._tail, self._seen, self._sums, self._pairs)
            self._seen += cfg.frame_samples
            if self._pairs[0] >= FIT_WINDOW:
                # an exponential window: older samples count half once the window is full (which
                # also keeps the integer sums far from overflow)
                self._sums >>= 1
                self._pairs >>= 1
        packet = self._coded(seq, sync) if on_map else None
        if packet is None:
            # the decoder cannot follow a model that saw this frame: the next packet resynchronises
            self._synced = False
            return self._packet(RAW, seq, np.ascontiguousarray(frame, dtype="<i2").view(np.uint8).reshape(-1))
        if sync:
            self._copies -= self._copies > 0
            self._synced = True
            self._next_sync = seq + self._interval
            self._interval = min(2 * self._interval, cfg.sync_packets)
        return packet

    def _coded(self, seq: int, sync: bool) -> bytes | None:
        t, buf = self._t, self._buf
        pos = PACKET_HEAD
        table = 0
        if sync:
            # a table may make the packet larger than a raw frame (that is the stated bound): it
            # must get through to the decoder, and small frames could not carry one otherwise
            table = len(self._table) if self._copies > 0 else 0
            side = struct.pack("<IB", self._table_id, table > 0) + (self._table if table else b"")
            buf[pos:pos + len(side)] = np.frombuffer(side, dtype=np.uint8)
            pos += len(side)
        start = pos + 4
        limit = PACKET_HEAD + self._raw_payload + table
        end, raw_bits, _ = self._kernel(t.levels, t.lo, t.hi, t.coefs, t.orders, t.shifts, t.means, self.config.near,
                                        t.model, t.params, buf, start, limit, self._rawbits, t.state)
        raw_bytes = (raw_bits + 7) >> 3
        used = min(raw_bytes, self._rawbits.size)
        if end + raw_bytes >= limit:
            self._rawbits[:used] = 0
            return None
        struct.pack_into("<I", buf, pos, end - start)
        buf[end:end + raw_bytes] = self._rawbits[:raw_bytes]
        self._rawbits[:used] = 0
        return self._finish(SYNC if sync else CODED, seq, end + raw_bytes - PACKET_HEAD)

    def _side_info(self) -> bytes:
        t = self._t
        coefs = t.coefs[self._mask < t.orders[:, None]]
        return b"".join((t.orders.astype(np.uint8).tobytes(), t.means.astype("<u2").tobytes(),
                         t.shifts.astype(np.uint8).tobytes(), coefs.astype("<i2").tobytes()))

    def _packet(self, kind: int, seq: int, payload: np.ndarray) -> bytes:
        self._buf[PACKET_HEAD:PACKET_HEAD + payload.size] = payload
        return self._finish(kind, seq, payload.size)

    def _finish(self, kind: int, seq: int, n: int) -> bytes:
        buf = self._buf
        _PACKET.pack_into(buf, 0, kind, seq & 0xFFFFFFFF, n)
        crc = zlib.crc32(buf[:PACKET_HEAD + n], self.config.crc)
        out = bytearray(buf[:PACKET_HEAD + n + 4])
        struct.pack_into("<I", out, PACKET_HEAD + n, crc)
        return bytes(out)


class StreamDecoder:
    """Turns packets back into frames as they land, and reports exactly which samples are missing.

    :meth:`receive` never raises on a damaged packet: it returns a :class:`Received`.  :meth:`decode`
    is the strict form: the frame, or a typed error (``TruncatedStreamError``,
    ``CorruptStreamError``, :class:`PacketLossError`, :class:`PacketOrderError`).  A decoder
    outputs no sample it cannot vouch for: after a gap it reports every packet lost until a sync
    (or raw) packet.
    """

    def __init__(self, header: bytes):
        self.config = StreamConfig.parse(header)
        self._t = _Tables(self.config)
        self._kernel = WK.coder(self._t.mixed, True, bounded=self.config.near > 0)
        self._buf = np.zeros(self.config.max_packet, dtype=np.uint8)
        self._expected = 0
        self._in_step = False
        self._table_id: int | None = None
        self._started = False
        self._recent = np.full(_RECENT, -1, dtype=np.int64)
        self.counts = {"decoded": 0, "lost": 0, "duplicate": 0, "late": 0, "corrupt": 0, "truncated": 0,
                       "packets_missing": 0}
        #: Every sample range reported lost so far, adjacent ranges merged (one entry per loss episode).
        self.lost_ranges: list[tuple[int, int]] = []

    def decode(self, packet) -> np.ndarray:
        """The packet's frame, or the typed error saying why there is none."""
        got = self.receive(packet)
        if got.status == "decoded":
            return got.samples
        if got.status == "truncated":
            raise TruncatedStreamError(got.message)
        if got.status == "corrupt":
            raise CorruptStreamError(got.message)
        if got.status == "lost":
            raise PacketLossError(got.message, got)
        raise PacketOrderError(got.message, got)

    def finish(self, packets: int) -> list[tuple[int, int]]:
        """At the end of a stream of ``packets`` packets: the sample ranges of the ones that never came."""
        lost = []
        if packets > self._expected:
            self._gap(lost, self._expected, packets)
            self._expected = packets
        self._record(lost)
        return lost

    def receive(self, packet) -> Received:
        got = self._receive(bytes(packet) if not isinstance(packet, bytes) else packet)
        self.counts[got.status] += 1
        self._record(got.lost)
        return got

    def _record(self, lost: list) -> None:
        for first, end in lost:
            if self.lost_ranges and self.lost_ranges[-1][1] == first:
                self.lost_ranges[-1] = (self.lost_ranges[-1][0], end)
            else:
                self.lost_ranges.append((first, end))

    def _gap(self, lost: list, first: int, end: int) -> None:
        f = self.config.frame_samples
        lost.append((first * f, end * f))
        self.counts["packets_missing"] += end - first

    def _receive(self, packet: bytes) -> Received:
        cfg = self.config
        n = len(packet)
        if n < PACKET_OVERHEAD:
            return Received("truncated", message=f"packet of {n} bytes, shorter than the {PACKET_OVERHEAD} "
                                                 "bytes of its framing")
        kind, seq, length = _PACKET.unpack_from(packet)
        if length > cfg.max_packet - PACKET_OVERHEAD:
            return Received("corrupt", message=f"packet declares a {length}-byte payload, the stream's packets "
                                               f"hold at most {cfg.max_packet - PACKET_OVERHEAD}")
        if n < PACKET_OVERHEAD + length:
            return Received("truncated", message=f"packet of {n} bytes, its payload needs {PACKET_OVERHEAD + length}")
        if n > PACKET_OVERHEAD + length:
            return Received("corrupt", message=f"{n - PACKET_OVERHEAD - length} unexpected bytes after the packet")
        (crc,) = struct.unpack_from("<I", packet, PACKET_HEAD + length)
        if zlib.crc32(memoryview(packet)[:PACKET_HEAD + length], cfg.crc) != crc:
            return Received("corrupt", message="packet CRC mismatch (damaged, or from another stream)")
        if kind > RAW:
            return Received("corrupt", message=f"unknown packet kind {kind}")
        f = cfg.frame_samples
        # 32-bit sequence numbers, read as the nearest to the one expected (a decoder that joins a
        # running stream takes the first as it comes)
        s = self._expected + ((seq - self._expected + (1 << 31)) & 0xFFFFFFFF) - (1 << 31) if self._started else seq
        self._started = True
        if s < self._expected:
            if self._recent[s % _RECENT] == s:
                return Received("duplicate", s, s * f, message=f"packet {s} arrived again")
            return Received("late", s, s * f, message=f"packet {s} arrived after {self._expected - 1} "
                                                      "(already reported lost)")
        lost: list = []
        if s > self._expected:
            self._gap(lost, self._expected, s)
            self._in_step = False
        self._expected = s + 1
        if kind == RAW:
            if length != 2 * cfg.channels * f:
                return self._undecodable(lost, s, f"raw packet of {length} bytes, a frame needs {2 * cfg.channels * f}")
            samples = np.frombuffer(packet, dtype="<i2", count=cfg.channels * f, offset=PACKET_HEAD)
            # the next packet resynchronises (the encoder's model never saw this frame)
            self._in_step = False
            return self._delivered(lost, s, samples.astype(np.int16).reshape(f, cfg.channels))
        if kind == CODED and not self._in_step:
            return self._undecodable(lost, s, f"packet {s} depends on lost packets: waiting for a sync packet")
        try:
            samples = self._decode_coded(packet, length, kind == SYNC)
        except NeurocodecError as exc:
            self._in_step = False
            return self._undecodable(lost, s, f"packet {s}: {exc}")
        self._in_step = True
        return self._delivered(lost, s, samples)

    def _delivered(self, lost: list, s: int, samples: np.ndarray) -> Received:
        self._recent[s % _RECENT] = s
        return Received("decoded", s, s * self.config.frame_samples, samples, lost)

    def _undecodable(self, lost: list, s: int, message: str) -> Received:
        self._gap(lost, s, s + 1)
        return Received("lost", s, s * self.config.frame_samples, None, lost, message)

    def _read_table(self, pos: int, end: int) -> int:
        cfg, t, buf, c = self.config, self._t, self._buf, self.config.channels
        if pos + 4 * c > end:
            raise CorruptStreamError(f"sync packet too short for {c} channel descriptors")
        orders = buf[pos:pos + c].astype(np.int64)
        means = buf[pos + c:pos + 3 * c].view("<u2").astype(np.int64)
        shifts = buf[pos + 3 * c:pos + 4 * c].astype(np.int64)
        pos += 4 * c
        n_coefs = int(orders.sum())
        if orders.max() > cfg.order or np.any(means >= cfg.levels) or np.any(shifts > K.MAX_SHIFT) \
                or np.any((orders == 0) & (shifts != 0)):
            raise CorruptStreamError("sync packet: channel descriptor out of range")
        if pos + 2 * n_coefs > end:
            raise CorruptStreamError("sync packet: coefficients overrun the payload")
        coefs = buf[pos:pos + 2 * n_coefs].view("<i2").astype(np.int64)
        t.coefs[:] = 0
        t.coefs[np.arange(t.coefs.shape[1])[None, :] < orders[:, None]] = coefs
        t.orders[:], t.means[:], t.shifts[:] = orders, means, shifts
        return pos + 2 * n_coefs

    def _decode_coded(self, packet: bytes, length: int, sync: bool) -> np.ndarray:
        cfg, t, buf = self.config, self._t, self._buf
        c, end = cfg.channels, PACKET_HEAD + length
        buf[:end] = np.frombuffer(packet, dtype=np.uint8, count=end)
        pos = PACKET_HEAD
        if sync:
            if length < 5:
                raise CorruptStreamError(f"sync payload of {length} bytes cannot hold its table id")
            table_id, has_table = struct.unpack_from("<IB", buf, pos)
            pos += 5
            if has_table > 1:
                raise CorruptStreamError(f"sync packet: table flag {has_table}, expected 0 or 1")
            if has_table:
                self._table_id = None  # until the new table has passed its checks
                pos = self._read_table(pos, end)
                self._table_id = table_id
            elif table_id != self._table_id:
                raise _MissingTable(f"predictor table {table_id} was lost: waiting for a sync packet that carries one")
            t.reset()
        if pos + 4 > end:
            raise CorruptStreamError("coded payload shorter than its length field")
        (m,) = struct.unpack_from("<I", buf, pos)
        start = pos + 4
        if m > end - start:
            raise CorruptStreamError(f"coded length {m} overruns the payload")
        n_raw = end - start - m
        if t.mixed and n_raw:
            raise CorruptStreamError("raw bits in a packet of a parameter set without them")
        raw = np.zeros(n_raw + 1, dtype=np.uint8)  # the coder's raw-bit reader reads its zero last byte past the end
        raw[:n_raw] = buf[start + m:end]
        stop, raw_bits, status = self._kernel(t.levels, t.lo, t.hi, t.coefs, t.orders, t.shifts, t.means, cfg.near,
                                              t.model, t.params, buf, start, start + m, raw, t.state)
        if status != WK.STATUS_OK or stop != start + m:
            raise CorruptStreamError("coded levels do not decode to the packet's length")
        if raw_bits > 8 * n_raw or raw_bits <= 8 * n_raw - 8:
            raise CorruptStreamError(f"decoder used {raw_bits} raw bits of {n_raw} bytes")
        out = np.empty((cfg.frame_samples, c), dtype=np.int16)
        K.frame_samples(t.levels, t.values, out)
        return out
