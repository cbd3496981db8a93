"""The kernels give identical bytes with NUMBA_DISABLE_JIT=1 (pure Python): integer-only arithmetic."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from neurocodec import spikes
from neurocodec.spikes import synthetic

SCRIPT = """
import sys, numpy as np
from neurocodec import spikes
from neurocodec.spikes import synthetic
raster = synthetic.bursty(120, 6, p_burst=0.6, seed=8) | synthetic.correlated(120, 6, seed=9)
for name, config in [("adaptive", {}), ("isi", {}), ("aer", {}), ("delta", {"group_size": 4}),
                     ("predictive", {"predictor": "ema"}), ("predictive", {"predictor": "lfsr"}),
                     ("streaming", {})]:
    codec = spikes.get_codec(name, **config)
    payload = codec.encode(raster)
    assert (codec.decode(payload) == raster).all()
    sys.stdout.write(payload.hex() + "\\n")
# the adaptive coder's other paths: one-bin blocks (dense), long blocks (sparse), complement
for raster in (synthetic.bernoulli(60, 9, 0.3, seed=1), synthetic.bernoulli(3000, 3, 0.002, seed=2),
               synthetic.bernoulli(80, 5, 0.8, seed=3), synthetic.bursty(4000, 4, network=False, seed=3),
               synthetic.correlated(2000, 12, seed=4), synthetic.bursty(2000, 12, seed=5)):
    payload = spikes.get_codec("adaptive").encode(raster)
    assert (spikes.get_codec("adaptive").decode(payload) == raster).all()
    sys.stdout.write(payload.hex() + "\\n")
"""


def test_pure_python_matches_jit():
    src = str(Path(spikes.__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    outputs = []
    for disable in ("0", "1"):
        env["NUMBA_DISABLE_JIT"] = disable
        run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert len(outputs[0].split()) == 13
    raster = synthetic.bursty(120, 6, p_burst=0.6, seed=8)
    assert np.array_equal(spikes.get_codec("adaptive").decode(spikes.get_codec("adaptive").encode(raster)), raster)
