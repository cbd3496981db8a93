"""Encoders and decoders must agree on every machine: the compiled kernels and the same code run as
plain Python (``NUMBA_DISABLE_JIT=1``) must produce the same bytes.  This also runs every kernel
once as Python, which is how coverage sees them."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import hashlib, sys
import numpy as np
sys.path.insert(0, {tests!r})
from neurocodec import registry
from neurocodec.synthetic import recording

def inputs(name):
    rng = np.random.default_rng(5)
    if name == "waveform":
        return [recording(700, seed=1), recording(300, channels=2, seed=2),
                rng.integers(-32768, 32768, 200).astype(np.int16)]
    if name.startswith("spikes_"):
        return [rng.random((120, 5)) < 0.1, np.zeros((30, 2), bool)]
    if name == "mua":
        return [rng.poisson(0.6, size=(150, 4)).astype(np.int64)]
    return []

for name in registry.codec_names():
    if name.startswith("test_"):
        continue
    codec = registry.make_codec(name)
    for i, x in enumerate(inputs(name)):
        payload = bytes(codec.encode(x))
        back = np.asarray(codec.decode(payload))
        print(name, i, hashlib.sha256(payload).hexdigest()[:16], hashlib.sha256(back.tobytes()).hexdigest()[:16])
"""


def _run(disable_jit: bool) -> list[str]:
    env = dict(os.environ, NUMBA_DISABLE_JIT="1" if disable_jit else "0")
    tests = str(Path(__file__).resolve().parent)
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=tests)], env=env, capture_output=True,
                         text=True, check=True, timeout=900)
    return out.stdout.splitlines()


def test_compiled_and_interpreted_kernels_write_the_same_bytes():
    jit, python = _run(False), _run(True)
    assert jit, "no codec produced output"
    assert jit == python
