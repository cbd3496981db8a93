"""Runtime of the challenge executables: 16-bit PCM WAV files to neurocodec streams and back, in milliseconds.

``neurocodec challenge-exe`` copies this file, beside the native kernel library that
:mod:`neurocodec.aot` builds and a module ``nctables.py`` of the codec's constants (parameter sets,
priors, the ADC ladder, the container's defaults, all written from the library itself), into the
executables' directory.  It imports only the standard library and drives the kernels through
``ctypes``: a process starts in ~20 ms where importing NumPy alone takes ~150 ms and numba ~500 ms.

It writes the bytes ``neurocodec.api.encode_bytes(wav, preset=...)`` writes for the WAV files the
challenge uses (8/16-bit PCM, one channel: ``int16`` waveform payloads, lossless), and reads those
streams back; anything else gets a clear error pointing at ``neurocodec encode``/``decode``.  The
framing here mirrors ``io/wav.py``, ``container.py`` and ``waveform/lossless.py`` (FORMAT.md is
normative); tests/test_challenge.py checks byte for byte that the two paths agree.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
import zlib
from array import array

# (json, base64 and tempfile are left out on purpose: with what they import, they would double the
# start-up time)


class StandaloneError(Exception):
    """Bad input, or input the standalone executables do not handle; the message is for the user."""


# -- small encodings ------------------------------------------------------------------------

def _uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _zigzag(v: int) -> int:
    return (v << 1) if v >= 0 else ((-v << 1) - 1)


def _unzigzag(u: int) -> int:
    return (u >> 1) if not u & 1 else -((u + 1) >> 1)


class _Cursor:
    """Bounds-checked reads from ``data[pos:end]``."""

    def __init__(self, data, pos: int, end: int, what: str):
        self.data, self.pos, self.end, self.what = data, pos, end, what

    def take(self, n: int, field: str) -> bytes:
        if n > self.end - self.pos:
            raise StandaloneError(f"{self.what}: truncated inside {field}")
        out = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return out

    def u8(self, field: str) -> int:
        return self.take(1, field)[0]

    def u32(self, field: str) -> int:
        return int.from_bytes(self.take(4, field), "little")

    def uvarint(self, field: str) -> int:
        value = shift = 0
        while True:
            byte = self.u8(field)
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 63:
                raise StandaloneError(f"{self.what}: {field} is a varint longer than 64 bits")


def _address(buf) -> int:
    """Address of a writable buffer (bytearray or array) for the kernels."""
    if isinstance(buf, array):
        return buf.buffer_info()[0]
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf)) if len(buf) else 0


# -- WAV --------------------------------------------------------------------------------------

def _canonical_head(rate: int, bits: int, channels: int, frames: int) -> bytes:
    align = channels * bits // 8
    size = frames * align
    try:
        return (b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt "
                + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * align, align, bits)
                + b"data" + struct.pack("<I", size))
    except struct.error:
        raise StandaloneError(f"a WAV header cannot hold {frames} frames at {rate} Hz") from None


def parse_wav(data: bytes, name: str):
    """``(samples as array('h'), rate, bits, head, tail)`` of a mono 8/16-bit PCM WAV file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise StandaloneError(f"{name}: not a WAV file (expected 'RIFF....WAVE')")
    fmt = None
    pos = 12
    while True:
        if pos + 8 > len(data):
            raise StandaloneError(f"{name}: no 'data' chunk found before the end of the file (truncated?)")
        chunk, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if chunk == b"fmt ":
            if size < 16 or pos + 8 + size > len(data):
                raise StandaloneError(f"{name}: 'fmt ' chunk of {size} bytes is too short or cut off")
            fmt = data[pos + 8:pos + 8 + size]
        elif chunk == b"data":
            break
        pos += 8 + size + (size & 1)
    if fmt is None:
        raise StandaloneError(f"{name}: 'data' chunk comes before any 'fmt ' chunk")
    audio_format, channels, rate = struct.unpack_from("<HHI", fmt, 0)
    block_align, bits = struct.unpack_from("<HH", fmt, 12)
    if audio_format != 1 or channels != 1 or bits not in (8, 16) or block_align != bits // 8:
        raise StandaloneError(f"{name}: the challenge executables take mono 8/16-bit PCM; use `neurocodec encode` "
                              f"for {bits}-bit, {channels}-channel, format {audio_format} files")
    size = struct.unpack_from("<I", data, pos + 4)[0]
    start = pos + 8
    if start + size > len(data):
        raise StandaloneError(f"{name}: 'data' chunk declares {size} bytes but only {len(data) - start} follow")
    frames = size // block_align
    if bits == 16:
        samples = array("h", data[start:start + 2 * frames])
        if sys.byteorder != "little":
            samples.byteswap()
    else:
        samples = array("h", [b - 128 for b in data[start:start + frames]])
    return samples, rate, bits, data[:start], data[start + frames * block_align:]


def _sample_bytes(samples: array, bits: int) -> bytes:
    if bits == 8:
        if samples and (min(samples) < -128 or max(samples) > 127):
            raise StandaloneError("8-bit WAV samples must lie in -128..127 after the unsigned shift")
        return bytes(v + 128 for v in samples)
    if sys.byteorder != "little":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _bits_of_head(head: bytes) -> int:
    pos = 12
    while pos + 8 <= len(head):
        size = struct.unpack_from("<I", head, pos + 4)[0]
        if head[pos:pos + 4] == b"fmt " and pos + 8 + 16 <= len(head):
            return struct.unpack_from("<H", head, pos + 8 + 14)[0]
        pos += 8 + size + (size & 1)
    raise StandaloneError("stored WAV header has no 'fmt ' chunk")


def rebuild_wav(extra: bytes, samples: array) -> bytes:
    """The original WAV bytes from the stream's sidecar (see io/wav.py) and the decoded samples."""
    if not extra:
        raise StandaloneError("the stream carries no WAV header (it was not made from a WAV file)")
    cur = _Cursor(extra, 1, len(extra), "WAV sidecar")
    value = cur.uvarint("sidecar")
    if extra[0] == 0:
        bits = cur.u8("bits")
        if cur.pos != len(extra) or bits not in (8, 16):
            raise StandaloneError("WAV sidecar is malformed or not 8/16-bit")
        return _canonical_head(value, bits, 1, len(samples)) + _sample_bytes(samples, bits)
    if extra[0] == 1:
        head = cur.take(value, "stored WAV header")
        bits = _bits_of_head(head)
        if bits not in (8, 16):
            raise StandaloneError(f"stored WAV header gives {bits} bits per sample; expected 8 or 16")
        return head + _sample_bytes(samples, bits) + extra[cur.pos:]
    raise StandaloneError(f"unknown WAV sidecar kind {extra[0]}")


def wav_sidecar(rate: int, bits: int, frames: int, head: bytes, tail: bytes) -> bytes:
    if not tail and head == _canonical_head(rate, bits, 1, frames):
        return b"\x00" + _uvarint(rate) + bytes([bits])
    return b"\x01" + _uvarint(len(head)) + head + tail


# -- the codec ------------------------------------------------------------------------------

class Codec:
    """The waveform codec over the native kernels in ``directory`` (library + nctables.py)."""

    def __init__(self, directory: str, tables: dict):
        t = self.t = tables
        self.priors = [array("q", zlib.decompress(p)) for p in t["priors"]]
        if sys.byteorder != "little":
            for p in self.priors:
                p.byteswap()
        self.ladder = t["ladder"]
        index = array("q", [-1]) * 65536
        for code, value in enumerate(self.ladder):
            index[value + 32768] = code
        self.ladder_index = index
        lib = ctypes.CDLL(os.path.join(directory, t["library"]))
        lib.nc_runtime_init()
        p, i = ctypes.c_void_p, ctypes.c_int64
        self._fns = {}
        for name, args in (("nc_encode_max", "piipppppipipppiiipipp"), ("nc_decode_max", "piipppppipipppiiipipp"),
                           ("nc_encode_fast", "piipppppipipppiiipipp"), ("nc_decode_fast", "piipppppipipppiiipipp"),
                           ("nc_analyse", "piiiiiipppp" + "p"), ("nc_map_through", "pipiip"),
                           ("nc_take_int16", "pipip"), ("nc_sample_range", "pip")):
            fn = getattr(lib, name)
            # numba's calling convention: status = fn(&result, &exception, args...)
            fn.argtypes = [p, p] + [p if a == "p" else i for a in args]
            fn.restype = ctypes.c_int32
            self._fns[name] = fn

    def _call(self, name: str, *args) -> int:
        result, exc = ctypes.c_int64(0), ctypes.c_void_p(0)
        if self._fns[name](ctypes.byref(result), ctypes.byref(exc), *args) != 0:
            raise StandaloneError(f"kernel {name} failed")
        return result.value

    # -- encoding ----------------------------------------------------------------------------

    def _mapping(self, samples: array):
        """``(mapping header, levels as array('q'), number of levels)`` as levels.choose_mapping picks them."""
        n = len(samples)
        if n == 0:
            return b"\x02\x00\x00", None, 1
        bounds = array("q", [0, 0])
        self._call("nc_sample_range", _address(samples), n, _address(bounds))
        lo, hi = bounds
        if lo == hi:
            return b"\x02" + _uvarint(_zigzag(lo)) + b"\x00", None, 1
        if lo >= self.ladder[0] and hi <= self.ladder[-1]:
            levels = array("q", bytes(8 * n))
            index = self.ladder_index
            if self._call("nc_map_through", _address(samples), n, _address(index), len(index), 32768,
                          _address(levels)):
                return b"\x00", levels, len(self.ladder)
        span = hi - lo + 1
        if span > 2 and 2 * span <= n:
            distinct = sorted(set(samples))
            if 2 * len(distinct) <= span:
                rank = {v: r for r, v in enumerate(distinct)}
                gaps = b"".join(_uvarint(b - a - 1) for a, b in zip(distinct, distinct[1:]))
                header = b"\x01" + _uvarint(len(distinct)) + _uvarint(_zigzag(distinct[0])) + gaps
                return header, array("q", [rank[v] for v in samples]), len(distinct)
        return b"\x02" + _uvarint(_zigzag(lo)) + _uvarint(span - 1), array("q", [v - lo for v in samples]), span

    def encode_payload(self, samples: array, preset: str) -> bytes:
        """lossless.WaveformCodec(preset).encode of a mono int16 block."""
        t = self.t
        n = len(samples)
        if n > t["max_samples"]:
            raise StandaloneError(f"{n} samples exceed the codec's {t['max_samples']} per block")
        head = bytes([1, 0]) + _uvarint(n)
        mapping, levels, size = self._mapping(samples)
        if levels is None:
            payload = head + mapping
        else:
            set_id, order = t["presets"][preset]
            top = size - 1
            tables = lo, hi, coefs, orders, shifts, means = (array("q", [0]), array("q", [top]),
                                                             array("q", [0]) * t["max_order"], array("q", [0]),
                                                             array("q", [0]), array("q", [0]))
            # the library's predictor fit (lossless, one channel: no cross-channel choice)
            self._call("nc_analyse", _address(levels), 1, n, order, 0, 0, top, _address(lo), _address(coefs),
                       _address(orders), _address(shifts), _address(means))
            q = coefs[:orders[0]]
            head += mapping + bytes([set_id, len(q)]) + _uvarint(_zigzag(means[0]))
            if q:
                head += bytes([shifts[0]]) + b"".join(_uvarint(_zigzag(v)) for v in q)
            payload = head + self._code(levels, tables, set_id)
        payload = self._pad(payload, n)
        raw = bytes([2, self.t["flag_raw"]]) + _uvarint(n)
        if len(payload) > len(raw) + 2 * n:
            # incompressible: the samples as they are
            payload = raw + _sample_bytes(samples, 16)
        return payload

    def _code(self, levels: array, tables, set_id: int) -> bytes:
        t = self.t
        params = array("q", t["param_sets"][set_id])
        mixed = bool(params[t["p_mixed"]])
        n = len(levels)
        lo, hi, coefs, orders, shifts, means = tables
        capacity, raw_capacity = 2 * n + 1024, (0 if mixed else n + 64)
        name = "nc_encode_max" if mixed else "nc_encode_fast"
        while True:
            coded, raw = bytearray(capacity), bytearray(max(raw_capacity, 1))
            model = array("q", self.priors[set_id])
            state = self._new_state()
            out = array("q", [0, 0])
            self._call(name, _address(levels), 1, n, _address(lo), _address(hi), _address(coefs), _address(orders),
                       _address(shifts), _address(means), 0, _address(model), len(model), _address(params),
                       _address(coded), capacity, 0, capacity, _address(raw), raw_capacity, _address(state),
                       _address(out))
            end, raw_bits = out
            if end <= capacity and raw_bits <= 8 * raw_capacity:
                break
            capacity = max(capacity, end)
            raw_capacity = max(raw_capacity, (raw_bits + 7) // 8)
        side = b""
        if not mixed:
            raw_bytes = (raw_bits + 7) // 8
            side = _uvarint(raw_bytes) + bytes(raw[:raw_bytes])
        return side + bytes(coded[:end])

    def _new_state(self) -> array:
        state = array("q", [0]) * (self.t["max_order"] + self.t["state_extra"])
        state[self.t["max_order"] + self.t["state_avg"]] = self.t["avg_start"]
        return state

    def _pad(self, payload: bytes, n: int) -> bytes:
        t = self.t
        need = 0 if n <= t["density_floor"] else -(-n // t["samples_per_byte"])
        if len(payload) >= need:
            return payload
        return bytes([2, payload[1] | t["flag_padded"]]) + payload[2:] + bytes(need - len(payload))

    def encode_wav(self, data: bytes, preset: str, name: str = "<input>") -> bytes:
        """The stream ``neurocodec.api.encode_bytes(data, preset=preset)`` writes for a mono 8/16-bit WAV."""
        t = self.t
        samples, rate, bits, head, tail = parse_wav(data, name)
        rows = t["block_rows"]
        payloads = [self.encode_payload(samples[s:s + rows], preset) for s in range(0, len(samples), rows)]
        config = t["configs"][preset].encode()
        extra = wav_sidecar(rate, bits, len(samples), head, tail)
        body = bytearray(bytes([len(b"waveform")]) + b"waveform" + _uvarint(len(config)) + config)
        body += b"\x03<i2" + b"\x01" + _uvarint(len(samples)) + _uvarint(rows) + _uvarint(len(payloads))
        for p in payloads:
            body += _uvarint(len(p)) + (zlib.crc32(p) & 0xFFFFFFFF).to_bytes(4, "little")
        body += _uvarint(len(extra)) + extra
        front = t["magic"].encode() + bytes([t["container_version"]]) + _uvarint(len(body)) + bytes(body)
        return front + (zlib.crc32(front) & 0xFFFFFFFF).to_bytes(4, "little") + b"".join(payloads)

    # -- decoding ----------------------------------------------------------------------------

    def decode_wav(self, data: bytes, name: str = "<input>") -> bytes:
        """The WAV file a stream from :meth:`encode_wav` (or ``neurocodec encode``, for such files) holds."""
        t = self.t
        magic = t["magic"].encode()
        if data[:4] != magic:
            raise StandaloneError(f"{name}: not a neurocodec stream (expected magic {magic!r})")
        cur = _Cursor(data, 4, len(data), name)
        version = cur.u8("format version")
        if version != t["container_version"]:
            raise StandaloneError(f"{name}: container version {version}; this build reads {t['container_version']}")
        header_len = cur.uvarint("header length")
        body_start = cur.pos
        if header_len + 4 > len(data) - body_start:
            raise StandaloneError(f"{name}: truncated inside the header")
        crc = int.from_bytes(data[body_start + header_len:body_start + header_len + 4], "little")
        if zlib.crc32(memoryview(data)[:body_start + header_len]) & 0xFFFFFFFF != crc:
            raise StandaloneError(f"{name}: header CRC mismatch (header damaged)")
        body = _Cursor(data, body_start, body_start + header_len, name)
        codec = body.take(body.u8("codec name length"), "codec name")
        body.take(body.uvarint("config length"), "config")  # payloads describe themselves
        dtype = body.take(body.u8("dtype length"), "dtype")
        ndim = body.u8("ndim")
        if codec != b"waveform" or dtype != b"<i2" or ndim != 1:
            raise StandaloneError(f"{name}: the challenge executables decode mono int16 waveform streams; "
                                  "use `neurocodec decode`")
        n = body.uvarint("shape")
        rows = body.uvarint("block rows")
        n_blocks = body.uvarint("block count")
        if rows == 0 or n_blocks != -(-n // rows):
            raise StandaloneError(f"{name}: {n_blocks} blocks of {rows} rows cannot hold {n} rows")
        index = [(body.uvarint("block size"), body.u32("block CRC")) for _ in range(n_blocks)]
        extra = body.take(body.uvarint("extra length"), "extra")
        if body.pos != body.end:
            raise StandaloneError(f"{name}: unexplained bytes at the end of the header")
        offset = body_start + header_len + 4
        if offset + sum(size for size, _ in index) != len(data):
            raise StandaloneError(f"{name}: the block sizes do not add up to the stream's length")
        samples = array("h")
        view = memoryview(data)
        for b, (size, crc) in enumerate(index):
            payload = view[offset:offset + size]
            offset += size
            if zlib.crc32(payload) & 0xFFFFFFFF != crc:
                raise StandaloneError(f"{name}: block {b} CRC mismatch (payload damaged)")
            block = self.decode_payload(bytearray(payload), min(rows, n - b * rows))
            samples += block
        return rebuild_wav(extra, samples)

    def decode_payload(self, data: bytearray, n_expected: int) -> array:
        """lossless.WaveformCodec().decode of a mono int16 payload (lossless, C order)."""
        t = self.t
        size = len(data)
        cur = _Cursor(data, 0, size, "waveform payload")
        version, flags = cur.u8("version"), cur.u8("flags")
        if version not in (1, 2) or flags & ~(t["flag_raw"] | t["flag_padded"]) or (version == 1 and flags):
            raise StandaloneError(f"waveform payload version {version} with flags {flags:#x}: "
                                  "not a mono int16 lossless payload; use `neurocodec decode`")
        n = cur.uvarint("length")
        if n != n_expected:
            raise StandaloneError(f"block declares {n} samples, the container {n_expected}")
        if flags & t["flag_raw"]:
            if flags & t["flag_padded"] or size - cur.pos != 2 * n:
                raise StandaloneError("raw waveform payload of the wrong size")
            samples = array("h", bytes(data[cur.pos:]))
            if sys.byteorder != "little":
                samples.byteswap()
            return samples
        if n > max(t["density_floor"], t["samples_per_byte"] * size):
            raise StandaloneError(f"a {size}-byte waveform payload cannot hold the {n} samples it declares")
        kind = cur.u8("mapping")
        if kind == 0:
            table = array("q", self.ladder)
        elif kind == 2:
            offset, span = _unzigzag(cur.uvarint("offset")), cur.uvarint("span") + 1
            if offset < -32768 or offset + span - 1 > 32767:
                raise StandaloneError("level offset/span outside the int16 range")
            table = array("q", range(offset, offset + span))
        elif kind == 1:
            count, first = cur.uvarint("table size"), _unzigzag(cur.uvarint("first value"))
            if count < 2 or count - 1 > size - cur.pos or count > 65536:
                raise StandaloneError(f"level table of {count} values does not fit the payload")
            values = [first]
            for _ in range(count - 1):
                values.append(values[-1] + cur.uvarint("table gap") + 1)
            if first < -32768 or values[-1] > 32767:
                raise StandaloneError("level table outside the int16 range")
            table = array("q", values)
        else:
            raise StandaloneError(f"unknown level mapping kind {kind}")
        if n == 0 or len(table) == 1:
            self._check_tail(data, cur.pos, flags)
            return array("h", [table[0]]) * n
        set_id = cur.u8("parameter set")
        if set_id >= len(t["param_sets"]):
            raise StandaloneError(f"unknown parameter set {set_id}")
        params = array("q", t["param_sets"][set_id])
        top = len(table) - 1
        tag = cur.u8("predictor tag")
        order = tag & 0x3F
        if order > t["max_order"] or tag & 0xC0:
            raise StandaloneError(f"bad predictor tag {tag:#x}")
        mu = _unzigzag(cur.uvarint("mean"))
        if not 0 <= mu <= top:
            raise StandaloneError(f"mean level {mu} outside the level range")
        shift = 0
        coefs = array("q", [0]) * t["max_order"]
        if order:
            shift = cur.u8("shift")
            if not 1 <= shift <= t["max_shift"]:
                raise StandaloneError(f"LPC shift {shift} out of range")
            for i in range(order):
                coefs[i] = _unzigzag(cur.uvarint("coefficient"))
                if abs(coefs[i]) > t["max_coef"]:
                    raise StandaloneError("LPC coefficient out of range")
        mixed = bool(params[t["p_mixed"]])
        raw = bytearray(1)
        raw_n = 0
        if not mixed:
            raw_n = cur.uvarint("raw bytes")
            if raw_n > size - cur.pos:
                raise StandaloneError(f"raw bit stream of {raw_n} bytes overruns the payload")
            # the coder's raw-bit reader reads a zero last byte past the end
            raw = bytearray(data[cur.pos:cur.pos + raw_n]) + bytearray(1)
            cur.pos += raw_n
        levels = array("q", bytes(8 * n))
        lo, hi, orders, shifts, means = (array("q", [v]) for v in (0, top, order, shift, mu))
        model = array("q", self.priors[set_id])
        state = self._new_state()
        out = array("q", [0, 0])
        status = self._call("nc_decode_max" if mixed else "nc_decode_fast", _address(levels), 1, n, _address(lo),
                            _address(hi), _address(coefs), _address(orders), _address(shifts), _address(means), 0,
                            _address(model), len(model), _address(params), _address(data), size, cur.pos, size,
                            _address(raw), len(raw), _address(state), _address(out))
        end, raw_bits = out
        if end > size or status == t["status_truncated"]:
            raise StandaloneError(f"waveform payload truncated: decoder needed more than its {size} bytes")
        if status != t["status_ok"]:
            raise StandaloneError("coded levels decode to values outside the level range")
        if raw_bits > 8 * raw_n or raw_bits <= 8 * raw_n - 8:
            raise StandaloneError(f"decoder used {raw_bits} raw bits of a {raw_n}-byte raw stream")
        self._check_tail(data, end, flags)
        samples = array("h", bytes(2 * n))
        self._call("nc_take_int16", _address(levels), n, _address(table), len(table), _address(samples))
        return samples

    def _check_tail(self, data: bytearray, pos: int, flags: int) -> None:
        if pos != len(data) and not (flags & self.t["flag_padded"] and not any(data[pos:])):
            raise StandaloneError(f"{len(data) - pos} unexpected bytes after the coded waveform")


def _write_atomic(path: str, data: bytes) -> None:
    # as neurocodec.io.atomic: a failed run never leaves a half-written output
    directory, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{base}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # less the umask, as open() gives
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def main(role: str, preset: str, argv: list, directory: str) -> int:
    """``encode IN OUT`` / ``decode IN OUT``: exit 0, 1 on bad input (one line on stderr), 2 on usage."""
    if len(argv) != 2:
        print(f"usage: {role} IN OUT", file=sys.stderr)
        return 2
    try:
        with open(argv[0], "rb") as f:
            data = f.read()
        from nctables import TABLES

        codec = Codec(directory, TABLES)
        out = codec.encode_wav(data, preset, argv[0]) if role == "encode" else codec.decode_wav(data, argv[0])
        _write_atomic(argv[1], out)
    except (StandaloneError, OSError) as exc:
        print(f"{role}: {exc}", file=sys.stderr)
        return 1
    return 0
