"""Frozen bytes: the payload of each codec on one fixed raster.

The arithmetic-coded formats depend on the exact integer arithmetic of
:mod:`neurocodec.entropy.arith` and :mod:`neurocodec.entropy.models` (adapt_counted, the mixer,
the stretch/squash tables).  A change there that alters these bytes makes old streams decode to
garbage: bump ``PAYLOAD_VERSION`` in ``neurocodec/spikes/base.py`` (old streams then raise
UnsupportedVersionError) and update the digests here, deliberately.
"""

import hashlib

import numpy as np
import pytest

from neurocodec import spikes
from neurocodec.spikes import synthetic

GOLDEN = [
    ("adaptive", {}, 635, "1b73d735db60d986"),
    ("aer", {}, 686, "db89a3cb54658914"),
    ("delta", {}, 1085, "188eee6ec821ff23"),
    ("isi", {}, 705, "843a294fced92fda"),
    ("predictive", {}, 709, "0d968962e6dd8fec"),
    ("predictive", {"predictor": "lfsr"}, 1056, "5fcb4c1eb8b631b7"),
    ("streaming", {}, 2046, "e125670fea55460e"),
]


@pytest.mark.parametrize(("name", "config", "size", "digest"), GOLDEN, ids=[f"{g[0]}{g[1] or ''}" for g in GOLDEN])
def test_payload_bytes_are_frozen(name, config, size, digest):
    raster = (synthetic.bursty(3000, 8, seed=11) | synthetic.correlated(3000, 8, seed=12)
              | synthetic.bernoulli(3000, 8, 0.02, seed=13))
    codec = spikes.get_codec(name, **config)
    payload = codec.encode(raster)
    np.testing.assert_array_equal(codec.decode(payload), raster)
    assert (len(payload), hashlib.sha256(payload).hexdigest()[:16]) == (size, digest)
