"""Stream encoder and decoder agree bit for bit compiled and as plain Python (``NUMBA_DISABLE_JIT=1``)."""

import os
import subprocess
import sys

SCRIPT = r"""
import hashlib
import numpy as np
from neurocodec.stream import StreamDecoder, StreamEncoder
from neurocodec.synthetic import recording

cases = (("fast", 0, "ladder"), ("max", 0, "ladder"), ("fast", 2, "ladder"), ("max", 0, (-900, 900)))
for preset, near, levels in cases:
    x = recording(8 * 14, channels=3, seed=11)
    if levels != "ladder":
        x = (x // 40).astype(np.int16)
    enc = StreamEncoder(3, 19531, 8, preset=preset, near=near, sync_ms=2.5, levels=levels)
    dec = StreamDecoder(enc.header())
    h = hashlib.sha256(enc.header())
    for i in range(14):
        p = enc.encode(np.ascontiguousarray(x[8 * i:8 * i + 8]))
        h.update(p)
        if i != 5:  # one loss, so the resync path runs too
            got = dec.receive(p)
            h.update(got.status.encode())
            if got.samples is not None:
                h.update(got.samples.tobytes())
    print(preset, near, h.hexdigest()[:20])
"""


def _run(disable_jit: bool) -> list[str]:
    env = dict(os.environ, NUMBA_DISABLE_JIT="1" if disable_jit else "0")
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True,
                         timeout=900)
    return out.stdout.splitlines()


def test_compiled_and_interpreted_stream_agree():
    jit, python = _run(False), _run(True)
    assert len(jit) == 4
    assert jit == python
