"""Fuzz every decoder with hostile input and count the outcomes.

    python benchmarks/fuzz.py                      # 2000 inputs per target, seed 0
    python benchmarks/fuzz.py --per-target 50000 --seed 7
    python benchmarks/fuzz.py --atheris --seconds 600   # coverage-guided (needs `pip install atheris`)

Targets are the bare decoders (every spike codec, the streaming frame reader, MUA with both coders,
the waveform codec in both presets and near-lossless, the hybrid codec, its events reader, and the
real-time stream's decoder on recorded streams) and the container (``neurocodec.decompress``,
``decode_bytes`` for WAV streams).  Inputs are mutations of valid payloads: truncations, bit flips, byte overwrites,
insertions and deletions, forged size fields (a huge varint spliced in where the header's sizes
sit) and plain random bytes.  Each decode is classified:

- ``ok``            decoded (garbage is allowed where no CRC guards the bytes);
- ``typed:<Kind>``  raised a NeurocodecError subclass (the only acceptable error);
- ``BAD:other:<T>`` raised anything else;
- ``BAD:slow``      took more than 2 s of CPU time;
- ``BAD:big``       allocated more than 512 MiB (peak traced by tracemalloc, which sees NumPy).

Counts per target and outcome go to stdout (``--json``: one JSON object).  The campaign runs in a
child process under ``RLIMIT_CPU``, so a crash or hang shows as the child's death, reported with
the input that was running (``--keep DIR`` saves it).  ``tests/test_hostile.py`` runs a short
campaign of this file in CI.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

CPU_LIMIT_S = 2.0
MEMORY_LIMIT = 512 << 20
MAX_INPUT = 10_000


def _rasters():
    from neurocodec.spikes import synthetic

    rng = np.random.default_rng(5)
    return [
        synthetic.bernoulli(200, 6, 0.05, seed=1),
        synthetic.bernoulli(64, 5, 0.7, seed=2),
        (rng.random((300, 3)) < 0.01),
        np.asfortranarray(synthetic.bernoulli(50, 4, 0.1, seed=3)).astype(np.uint8),
    ]


def _counts():
    rng = np.random.default_rng(6)
    return [rng.poisson(0.8, (120, 3)).astype(np.int64), np.asfortranarray(rng.poisson(1.5, (40, 4)).astype(np.uint8))]


def _waves():
    from neurocodec.synthetic import recording

    return [recording(1500, seed=4), recording(400, channels=3, seed=5)]


TARGETS = ("spikes_isi", "spikes_predictive", "spikes_delta", "spikes_aer", "spikes_streaming",
           "spikes_adaptive", "spikes_frame", "mua_huffman", "mua_arithmetic", "waveform", "waveform_fast",
           "waveform_near", "hybrid", "hybrid_events", "stream", "container", "container_wav")


def _stream_seeds():
    # recorded streams (header, then packets): lossless fast and max, near-lossless, and one frame off the ladder (raw)
    from neurocodec.stream import StreamEncoder

    wave = _waves()[1]
    frames = [np.ascontiguousarray(wave[i:i + 20]) for i in range(0, 120, 20)]
    off = frames[0].copy()
    off[3, 1] += 1
    seeds = []
    for kw, sent in (({"preset": "fast"}, frames), ({"preset": "max", "sync_ms": 3}, frames),
                     ({"preset": "fast", "near": 2}, frames[:3] + [off])):
        enc = StreamEncoder(3, 19531, 20, **kw)
        seeds.append(enc.header() + b"".join(enc.encode(f) for f in sent))
    return seeds


def _decode_stream(data: bytes):
    # strict decoding of every packet of a recorded stream; a loss report is a typed error too
    from neurocodec.stream import StreamDecoder
    from neurocodec.stream.codec import split_stream

    _, header, packets = split_stream(data)
    decoder = StreamDecoder(header)
    return [decoder.decode(p) for p in packets]


def make_target(name: str):
    """``(decode, seed payloads)`` of a target."""
    import numcodecs

    import neurocodec
    from neurocodec import api, spikes
    from neurocodec.io import wav

    if name == "spikes_frame":
        codec = spikes.get_codec("streaming")
        seeds = [codec.compress_frame(r[:20], index=i) for i, r in enumerate(_rasters())]
        return (lambda data: spikes.read_frame(data)), seeds
    if name.startswith("spikes_"):
        codec = numcodecs.get_codec({"id": "neurocodec." + name})
        return codec.decode, [bytes(codec.encode(r)) for r in _rasters()]
    if name.startswith("mua_"):
        codec = numcodecs.get_codec({"id": "neurocodec.mua", "coder": name[4:], "S": 4})
        return codec.decode, [bytes(codec.encode(c)) for c in _counts()]
    if name.startswith("waveform"):
        config = {"waveform": {}, "waveform_fast": {"preset": "fast"}, "waveform_near": {"near": 2}}[name]
        codec = numcodecs.get_codec({"id": "neurocodec.waveform", **config})
        return codec.decode, [bytes(codec.encode(w)) for w in _waves()]
    if name == "hybrid":
        from neurocodec.synthetic import recording

        seeds = [bytes(numcodecs.get_codec({"id": "neurocodec.hybrid", **config}).encode(recording(3000, 2, seed=7)))
                 for config in ({}, {"target_ratio": 24}, {"snippet_near": 1, "noise_shaping": True})]
        return numcodecs.get_codec({"id": "neurocodec.hybrid"}).decode, seeds
    if name == "hybrid_events":
        from neurocodec import hybrid
        from neurocodec.synthetic import recording

        seeds = [neurocodec.compress(recording(3000, 2, seed=8), "hybrid", events_only=True)]
        return hybrid.events, seeds
    if name == "stream":
        return _decode_stream, _stream_seeds()
    if name == "container":
        seeds = [neurocodec.compress(_waves()[1], block_rows=150),
                 neurocodec.compress(_rasters()[0], "spikes_adaptive", block_rows=64),
                 neurocodec.compress(_counts()[0], "mua", coder="arithmetic")]
        return (lambda data: neurocodec.decompress(data)), seeds
    if name == "container_wav":
        seeds = [api.encode_bytes(wav.write_bytes(_waves()[0], 19531)),
                 api.encode_bytes(wav.write_bytes(_waves()[1], 20000) + b"LIST")]
        return (lambda data: api.decode_bytes(data)), seeds
    raise SystemExit(f"unknown target {name!r}; choose from {', '.join(TARGETS)}")


def _huge_varint(rng) -> bytes:
    value = int(rng.choice([2**31, 2**32, 2**33, 2**40, 2**48, 2**62, 2**63, 2**64 - 1, 2**70]))
    value += int(rng.integers(-2, 3))
    out = bytearray()
    value = max(value, 0)
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def mutate(data: bytes, rng) -> bytes:
    """One hostile variant of ``data``."""
    kind = int(rng.integers(8))
    n = len(data)
    if kind == 0 or n == 0:      # random bytes, sometimes behind a valid first byte
        body = rng.integers(0, 256, int(rng.integers(0, 200)), dtype=np.uint8).tobytes()
        return (data[:1] + body) if n and rng.random() < 0.5 else body
    if kind == 1:                # truncation
        return data[:int(rng.integers(0, n))]
    if kind == 2:                # bit flips
        out = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            bit = int(rng.integers(n * 8))
            out[bit >> 3] ^= 0x80 >> (bit & 7)
        return bytes(out)
    if kind == 3:                # byte overwrite with an extreme value
        out = bytearray(data)
        out[int(rng.integers(n))] = int(rng.choice([0, 1, 0x7F, 0x80, 0xFF]))
        return bytes(out)
    if kind == 4:                # a forged size: a huge varint spliced into the header
        at = int(rng.integers(0, min(n, 24)))
        drop = int(rng.integers(0, 3))
        return data[:at] + _huge_varint(rng) + data[at + drop:]
    if kind == 5:                # insertion or deletion
        at = int(rng.integers(0, n))
        if rng.random() < 0.5:
            return data[:at] + rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8).tobytes() + data[at:]
        return data[:at] + data[at + int(rng.integers(1, 8)):]
    if kind == 6:                # valid head, zeros or 0xFF after it (coders that never run dry)
        at = int(rng.integers(0, n))
        fill = b"\x00" if rng.random() < 0.5 else b"\xff"
        return (data[:at] + fill * int(rng.integers(1, MAX_INPUT - at))) if at < MAX_INPUT else data
    # kind 7: two mutations stacked
    return mutate(mutate(data, rng), rng)


def classify(decode, data: bytes) -> str:
    from neurocodec.errors import NeurocodecError

    tracemalloc.reset_peak()
    t0 = time.thread_time()
    try:
        decode(data)
        outcome = "ok"
    except NeurocodecError as exc:
        outcome = f"typed:{type(exc).__name__}"
    except Exception as exc:  # noqa: BLE001  (what the campaign is looking for)
        outcome = f"BAD:other:{type(exc).__name__}"
    spent = time.thread_time() - t0
    if spent > CPU_LIMIT_S:
        outcome = "BAD:slow"
    if tracemalloc.get_traced_memory()[1] > MEMORY_LIMIT:
        outcome = "BAD:big"
    return outcome


def run_worker(targets, per_target: int, seed: int, keep: str | None) -> dict:
    """The campaign in this process; returns ``{target: {outcome: count}}`` and the first bad inputs."""
    tracemalloc.start()
    counts, bad = {}, []
    for name in targets:
        decode, seeds = make_target(name)
        for s in seeds:   # warm up (and load compiled kernels) outside the measured inputs
            decode(s)
        rng = np.random.default_rng([seed, TARGETS.index(name)])
        tally = collections.Counter()
        for i in range(per_target):
            data = mutate(seeds[i % len(seeds)], rng)[:MAX_INPUT]
            if keep:   # the input a crash would die on
                with open(os.path.join(keep, "current.bin"), "wb") as f:
                    f.write(data)
            outcome = classify(decode, data)
            tally[outcome] += 1
            if outcome.startswith("BAD") and len(bad) < 20:
                bad.append({"target": name, "outcome": outcome, "input": data.hex()[:400]})
        counts[name] = dict(tally)
    tracemalloc.stop()
    return {"counts": counts, "bad": bad}


def run_child(targets, per_target: int, seed: int, cpu_limit: int, keep: str | None = None) -> dict:
    """:func:`run_worker` in a child process under RLIMIT_CPU; a crash or hang becomes an outcome."""
    def limits():
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit, cpu_limit))

    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--per-target", str(per_target),
           "--seed", str(seed), "--targets", *targets] + (["--keep", keep] if keep else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limits)
    if proc.returncode != 0:
        return {"counts": {}, "bad": [{"target": ",".join(targets), "outcome": f"BAD:died:{proc.returncode}",
                                       "input": proc.stderr[-2000:]}]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_atheris(targets, seconds: int) -> None:
    try:
        import atheris
    except ImportError:
        raise SystemExit("--atheris needs the atheris package (pip install atheris)") from None
    decoders = [make_target(name)[0] for name in targets]
    tracemalloc.start()
    deadline = time.time() + seconds

    def one(data: bytes):
        if time.time() > deadline:
            raise SystemExit(0)
        for decode in decoders:
            outcome = classify(decode, data[:MAX_INPUT])
            if outcome.startswith("BAD"):
                raise RuntimeError(f"{outcome} on {data.hex()[:200]}")

    atheris.Setup([sys.argv[0]], one)
    atheris.Fuzz()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-target", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--targets", nargs="+", default=list(TARGETS), choices=TARGETS)
    ap.add_argument("--cpu-limit", type=int, default=3600, help="CPU seconds for the whole campaign")
    ap.add_argument("--keep", help="folder to keep the input being decoded (for a crash)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--atheris", action="store_true")
    ap.add_argument("--seconds", type=int, default=600, help="atheris run time")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.atheris:
        run_atheris(args.targets, args.seconds)
        return 0
    if args.worker:
        print(json.dumps(run_worker(args.targets, args.per_target, args.seed, args.keep)))
        return 0
    t0 = time.time()
    result = {"counts": {}, "bad": []}
    for name in args.targets:   # one child per target: a crash loses one target's counts only
        part = run_child([name], args.per_target, args.seed, args.cpu_limit, args.keep)
        result["counts"].update(part["counts"])
        result["bad"] += part["bad"]
    result["wall_s"] = round(time.time() - t0, 1)
    if args.json:
        print(json.dumps(result))
    else:
        for name, tally in result["counts"].items():
            print(f"{name:18s} " + "  ".join(f"{k} {v}" for k, v in sorted(tally.items())))
        for b in result["bad"]:
            print(f"BAD {b['target']}: {b['outcome']}  input {b['input'][:120]}")
        print(f"{sum(sum(t.values()) for t in result['counts'].values())} inputs, {len(result['bad'])} bad, "
              f"{result['wall_s']} s")
    return 1 if result["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
